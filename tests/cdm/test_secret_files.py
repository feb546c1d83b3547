"""Secrets are never in the code: unset, each is made once in the data directory (0600, atomically, the same for
every process), production refuses short ones and makes none on its own, development serves loopback only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cdm import secret_files
from cdm.settings import Settings, SettingsError, load_settings

NAMES = ("dashboard_secret_key", "webhook_secret", "id_card_key")


def _settings(data_dir: Path, **values: object) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_unset_secrets_are_generated_once_in_the_data_directory(tmp_path: Path) -> None:
    first, second = _settings(tmp_path), _settings(tmp_path)
    for name in NAMES:
        value = getattr(first, name).get_secret_value()
        assert len(value) >= 43 and value == getattr(second, name).get_secret_value()
        path = secret_files.secret_file(tmp_path, name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text().strip() == value
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert len({getattr(first, n).get_secret_value() for n in NAMES}) == 3  # three different secrets
    other = _settings(tmp_path / "elsewhere")
    assert other.dashboard_secret_key.get_secret_value() != first.dashboard_secret_key.get_secret_value()


def test_processes_starting_together_all_read_the_same_secret(tmp_path: Path) -> None:
    code = (
        "import sys; from cdm.settings import Settings;"
        f" print(Settings(data_dir={str(tmp_path)!r}, _env_file=None).id_card_key.get_secret_value())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True) for _ in range(6)
    ]
    values = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(values) == 1 and values != {""}
    left = sorted(p.name for p in (tmp_path / "secrets").iterdir())
    assert left == ["id_card.key", "session.key", "webhook.key"]  # no temporary file left behind


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    _settings(tmp_path)
    os.chmod(secret_files.secret_file(tmp_path, "webhook_secret"), 0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        _settings(tmp_path)


def test_production_makes_no_secret_and_refuses_short_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CDM_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CDM_ENV", "production")
    monkeypatch.setenv("CDM_DATA_DIR", str(tmp_path))
    with pytest.raises(SettingsError, match="cdm secrets init"):
        load_settings(_env_file=None)
    assert not (tmp_path / "secrets").exists()
    long = "x" * 32
    monkeypatch.setenv("CDM_WEBHOOK_SECRET", long)
    monkeypatch.setenv("CDM_ID_CARD_KEY", long)
    monkeypatch.setenv("CDM_DASHBOARD_SECRET_KEY", "s")  # one character, as the review found accepted
    with pytest.raises(SettingsError, match="CDM_DASHBOARD_SECRET_KEY 短于 32 字节"):
        load_settings(_env_file=None)
    monkeypatch.setenv("CDM_DASHBOARD_SECRET_KEY", long)
    assert load_settings(_env_file=None).env == "production"
    # `cdm secrets init` makes the files once; production then reads them.
    monkeypatch.delenv("CDM_ID_CARD_KEY")
    made = load_settings(_env_file=None, generate_secrets=True)
    assert load_settings(_env_file=None).id_card_key == made.id_card_key


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("192.168.1.20", False),
     ("example.org", False)],
)  # fmt: skip
def test_development_serves_on_loopback_only(tmp_path: Path, host: str, ok: bool) -> None:
    if ok:
        assert _settings(tmp_path, dashboard_host=host).dashboard_host == host
    else:
        with pytest.raises(ValueError, match="开发模式只在本机提供服务"):
            _settings(tmp_path, dashboard_host=host)
    long = "y" * 40
    secrets = {"webhook_secret": long, "id_card_key": long, "dashboard_secret_key": long}
    production = _settings(tmp_path, env="production", dashboard_host=host, **secrets)
    assert production.dashboard_host == host
