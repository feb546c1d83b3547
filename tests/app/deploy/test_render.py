"""`cdm deploy render`: the files it writes, checked without any server (the real programs: test_tools.py)."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.deploy.envfile import env_file
from app.deploy.logic import Deployment, PatroniCluster, PatroniNode, multi_host_url, render, yaml_scalar
from app.deploy.sizing import Machine, connections, parameters
from cdm.settings import Settings


@pytest.fixture(autouse=True)
def _no_cdm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("CDM_")]:
        monkeypatch.delenv(name)


def tricky_settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="production",
        database_url="postgresql://cdm:p%40ss@10.0.0.11:5432,10.0.0.12:5432/cdm?target_session_attrs=read-write",
        county_code="anji",
        county_name="安吉县 慢病中心",
        webhook_secret=SecretStr('a "quoted" secret with \\ backslash, $dollar and # hash'),
        id_card_key=SecretStr("k" * 40),
        dashboard_secret_key=SecretStr("a session secret with spaces, long enough to sign cookies"),
        reminder_quiet_start=time(20, 30),
        smtp_starttls=True,
        metrics_dir=Path("/run/cdm/metrics"),
        ingest_batch_size=800,
        log_format="json",
    )


def test_the_environment_file_names_every_setting_and_reads_back_as_the_same_settings(tmp_path: Path):
    settings = tricky_settings()
    text = env_file(settings)
    for name, field in Settings.model_fields.items():
        assert f"CDM_{name.upper()}" in text, name
        assert (field.description or "").split()[0] in text, f"{name} has its meaning above it"
    path = tmp_path / "cdm.env"
    path.write_text(text, encoding="utf-8")
    again = Settings(_env_file=path)  # type: ignore[call-arg]
    assert again == settings


def test_every_setting_has_a_meaning_to_write():
    assert [n for n, f in Settings.model_fields.items() if not (f.description or "").strip()] == []


def test_the_database_is_sized_from_the_machine():
    small, big = Machine(memory_gb=8, cores=4), Machine(memory_gb=64, cores=16, ingest_instances=8)
    p_small = parameters(small, archive_command="x %p")
    p_big = parameters(big, archive_command=None)
    assert (p_small["shared_buffers"], p_small["effective_cache_size"]) == ("2GB", "6GB")
    assert (p_big["shared_buffers"], p_big["max_parallel_workers"]) == ("16GB", "16")
    assert p_small["archive_command"] == "'x %p'" and "archive_mode" not in p_big
    assert p_small["synchronous_commit"] == "on"
    assert connections(Machine(ingest_instances=64, dashboard_processes=8, workers=4)) == 180


def test_the_services_reach_whichever_database_server_accepts_writes():
    url = multi_host_url([("10.0.0.11", 5432), ("10.0.0.12", 5433)], database="cdm", user="cdm")
    assert url == (
        "postgresql://cdm@10.0.0.11:5432,10.0.0.12:5433/cdm?target_session_attrs=read-write&connect_timeout=5"
    )
    import psycopg

    assert psycopg.conninfo.conninfo_to_dict(url)["target_session_attrs"] == "read-write"


def test_yaml_values_that_yaml_would_misread_are_quoted():
    assert [yaml_scalar(v) for v in ("on", "off", "4GB", "100", "0.9", "'%m [%p] '", "a b")] == [
        '"on"',
        '"off"',
        "4GB",
        '"100"',
        '"0.9"',
        '"%m [%p] "',
        '"a b"',
    ]


def test_n_ingest_instances_share_the_stream_each_with_its_own_session():
    files = {f.path: f for f in render(Settings(_env_file=None), Deployment(ingest_instances=3))}  # type: ignore[call-arg]
    unit = files["etc/systemd/system/cdm-ingest@.service"].text
    assert "Environment=CDM_INGEST_CLIENT_ID=cdm-ingest-%i" in unit and "ExecStart=/opt/cdm/venv/bin/cdm ingest" in unit
    target = files["etc/systemd/system/cdm.target"].text
    assert re.findall(r"cdm-ingest@(\d)\.service", target) == ["1", "2", "3"]
    env = files["etc/cdm/cdm.env"].text
    assert "\nCDM_INGEST_SHARE_GROUP=cdm-ingest\n" in env
    assert "\nCDM_INGEST_CLIENT_ID" not in env, "an EnvironmentFile would override each instance's client id"
    assert files["etc/cdm/cdm.env"].mode == 0o640


def test_the_broker_window_and_queue_follow_the_batch():
    settings = Settings(_env_file=None, ingest_batch_size=900)  # type: ignore[call-arg]
    conf = next(f.text for f in render(settings, Deployment()) if f.path == "etc/mosquitto/mosquitto.conf")
    assert "\nmax_inflight_messages 1800\n" in conf and "\nmax_queued_messages 1000000\n" in conf
    assert "\nlistener 8883\n" in conf and "\npersistence true\n" in conf


def test_patroni_nodes_get_their_own_files_and_the_services_a_multi_host_url():
    cluster = PatroniCluster(
        nodes=(PatroniNode("pg1", "10.0.0.11"), PatroniNode("pg2", "10.0.0.12")), etcd_hosts=("10.0.0.21:2379",)
    )
    files = {f.path: f for f in render(Settings(_env_file=None), Deployment(patroni=cluster))}  # type: ignore[call-arg]
    assert files["etc/patroni/pg1.yml"].mode == 0o600
    assert "name: pg2" in files["etc/patroni/pg2.yml"].text
    assert "synchronous_mode: true" in files["etc/patroni/pg1.yml"].text
    assert f"CDM_DATABASE_URL={cluster.service_url}" in files["etc/cdm/cdm.env"].text


def test_cdm_deploy_render_writes_the_tree_with_its_modes(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "CDM_COUNTY_CODE": "anji", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "deploy", "render", "--out", str(tmp_path / "out"), "--ingest-instances=2"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "CDM_ENV" in done.stderr, "it says what still needs setting before production"
    written = {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert {"etc/cdm/cdm.env", "etc/mosquitto/mosquitto.conf", "etc/nginx/sites-available/cdm.conf"} <= written
    assert stat.S_IMODE((tmp_path / "out/etc/cdm/cdm.env").stat().st_mode) == 0o640
