"""The deployment's secrets (session signing, webhook signature, ID-card key): from the settings, or from files in
the data directory that the first process to need one creates. No secret is written in the code.

Every process resolves its secrets here (through `Settings`, which calls `resolve`), so ingest, the worker, the
dashboard, the command line and the demo's children all read the same files. A missing file is created atomically
(written under a temporary name, then hard-linked to its final name, which fails if another process got there
first; the loser reads the winner's), mode 0600 in a 0700 folder. Production creates none at start-up: a
deployment spread over several machines must share one ID-card key, so it is provisioned once (`cdm secrets init`
on one machine, the files copied to the others, or the CDM_ variables set everywhere), and a process that finds
neither refuses to start. Losing `id_card.key` unlinks every stored ID-card hash from its patient: back it up
with the database (README, "Security").
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from cdm.i18n import Refusal

SECRETS_DIR = "secrets"
# The setting each file stands in for, and the file's name under <data dir>/secrets/.
FILES = {
    "dashboard_secret_key": "session.key",
    "webhook_secret": "webhook.key",
    "id_card_key": "id_card.key",
}
GENERATED_BYTES = 32  # 256 bits, written URL-safe base64 (43 characters)
MIN_PRODUCTION_BYTES = 32  # shorter is guessable offline from one signed cookie or one signed webhook


class SecretError(Refusal):
    """A secret that cannot be used, with what to do about it (a catalogue refusal: cdm/messages/settings.toml)."""


def secrets_dir(data_dir: Path) -> Path:
    """Where generated secrets are kept."""
    return Path(data_dir) / SECRETS_DIR


def secret_file(data_dir: Path, name: str) -> Path:
    """The file that stands in for setting `name` when it is not set."""
    return secrets_dir(data_dir) / FILES[name]


def read_secret(path: Path) -> str:
    """The secret in `path`; refused when others may read the file or it is empty."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretError("settings.secret_readable", path=path, mode=f"{mode:o}")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise SecretError("settings.secret_empty", path=path)
    return value


def load_or_create(path: Path, *, create: bool) -> str:
    """The secret kept in `path`, made first (random, mode 0600) when it does not exist and `create` is true."""
    try:
        return read_secret(path)
    except FileNotFoundError:
        if not create:
            raise
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(GENERATED_BYTES) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # atomic and exclusive: of processes starting together, one wins
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return read_secret(path)


def resolve(name: str, configured: str, *, data_dir: Path, production: bool, generate: bool) -> str:
    """The value of secret setting `name`: as configured, else from its file (made when `generate`).

    Production refuses a secret shorter than MIN_PRODUCTION_BYTES, wherever it came from.
    """
    env_name = f"CDM_{name.upper()}"
    if configured:
        value = configured
    else:
        path = secret_file(data_dir, name)
        try:
            value = load_or_create(path, create=generate)
        except FileNotFoundError:
            raise SecretError("settings.secret_missing", variable=env_name, path=path) from None
    if production and len(value.encode()) < MIN_PRODUCTION_BYTES:
        raise SecretError("settings.secret_short", variable=env_name, bytes=MIN_PRODUCTION_BYTES)
    return value


RETIRED_ID_CARD_KEYS = "id_card.retired"  # <data dir>/secrets/id_card.retired/<key id>.key: keys re-keyed away from


def retired_id_card_keys(data_dir: Path) -> list[str]:
    """The retired ID-card keys on file (still needed to match hashes wrapped under a later key)."""
    folder = secrets_dir(data_dir) / RETIRED_ID_CARD_KEYS
    return [read_secret(path) for path in sorted(folder.glob("*.key"))] if folder.is_dir() else []


def rotate_id_card_key(data_dir: Path, *, key_id: str) -> tuple[Path, Path]:
    """Retire the ID-card key file's key (copied under its id, `key_id`) and put a new random key in its place.

    The retired copy is written before the file is replaced, so a crash in between leaves both keys on file.
    Returns (retired copy, key file).
    """
    current = secret_file(data_dir, "id_card_key")
    old = read_secret(current)
    folder = secrets_dir(data_dir) / RETIRED_ID_CARD_KEYS
    folder.mkdir(mode=0o700, exist_ok=True)
    retired = folder / f"{key_id}.key"
    if not retired.exists():
        _write_new(retired, old)
    tmp = current.with_name(f".{current.name}.{secrets.token_hex(4)}.tmp")
    _write_new(tmp, secrets.token_urlsafe(GENERATED_BYTES))
    os.replace(tmp, current)
    return retired, current


def _write_new(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value + "\n")
        out.flush()
        os.fsync(out.fileno())
