"""The administration screen's side of an import: files uploaded into a private folder of their own, a dry run
whose result the screen shows as tables, then the import confirmed on the same files; credentials handed over
once (the file is removed as it is read)."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from cdm.i18n import t
from cdm.settings import Settings
from registry.importing.columns import KINDS, kind_of
from registry.importing.files import EXTENSIONS
from registry.importing.service import Actor, Outcome, import_directory

UPLOADS = "uploads"
PRIVATE = 0o700
MAX_FILE_BYTES = 200 * 1024 * 1024  # a county's patients file is about 40 MB as GB18030
SHOWN_LINES = 500  # the screen shows the first problems; the report file has them all


class UploadError(ValueError):
    """An upload the screen refuses; `key` is the catalogue key of the reason."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class Batch:
    """One upload: its token (the folder's name) and the folder."""

    token: str
    folder: Path


def uploads_root(settings: Settings) -> Path:
    """Where uploads are kept: a folder only the server's user can read."""
    root = settings.data_dir / UPLOADS
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, PRIVATE)
    return root


def save(settings: Settings, files: list[tuple[str, str]]) -> Batch:
    """Store uploaded files (name, Dash's data URL) in a new private folder; only the template's files are taken."""
    if not files:
        raise UploadError("registry.screen.no_files")
    token = secrets.token_hex(16)
    folder = uploads_root(settings) / token
    folder.mkdir(mode=PRIVATE)
    for name, content in files:
        base = Path(name).name  # never a path from the browser
        if Path(base).suffix.lower() not in EXTENSIONS or kind_of(Path(base).stem) is None:
            raise UploadError("registry.screen.bad_file", name=base[:60], kinds="、".join(KINDS))
        try:
            data = base64.b64decode(content.split(",", 1)[1], validate=True)
        except (IndexError, binascii.Error):
            raise UploadError("registry.screen.bad_file", name=base[:60], kinds="、".join(KINDS)) from None
        if len(data) > MAX_FILE_BYTES:
            raise UploadError("registry.screen.too_big", name=base[:60])
        (folder / base).write_bytes(data)
    return Batch(token, folder)


def batch(settings: Settings, token: str) -> Batch:
    """The upload a token names; UploadError when there is none (a forged or expired token)."""
    if not token or not token.isalnum():
        raise UploadError("registry.screen.expired")
    folder = uploads_root(settings) / token
    if not folder.is_dir():
        raise UploadError("registry.screen.expired")
    return Batch(token, folder)


def run(conn: psycopg.Connection, *, settings: Settings, upload: Batch, actor: Actor, dry_run: bool) -> Outcome:
    """A dry run or the import of an upload; its report beside the files."""
    now = datetime.now(UTC)
    report = upload.folder / f"{'dry-run' if dry_run else 'import'}-{now:%Y%m%d-%H%M%S}.csv"
    return import_directory(
        conn, directory=upload.folder, settings=settings, actor=actor, dry_run=dry_run, report=report, now=now
    )


def summary_rows(outcome: Outcome, *, lang: str) -> list[dict[str, Any]]:
    """One row per file: rows, added, updated, unchanged, refused (the screen's summary table)."""
    return [
        {"file": t(f"registry.template.kind.{kind}", lang), **vars(tally)} for kind, tally in outcome.tallies.items()
    ]


def problem_rows(outcome: Outcome) -> list[dict[str, Any]]:
    """The report's first lines, as the screen's problems table."""
    return [{"file": x.file, "row": x.row, "column": x.column, "reason": x.reason} for x in outcome.lines[:SHOWN_LINES]]


def take_credentials(upload: Batch) -> tuple[str, bytes] | None:
    """The credentials file of the upload's import, read once and removed; None when there is none (any more)."""
    found = sorted(upload.folder.glob("*-初始密码.csv"))
    if not found:
        return None
    path = found[-1]
    data = path.read_bytes()
    path.unlink()
    return path.name, data


def report_file(upload: Batch) -> tuple[str, bytes] | None:
    """The latest report of the upload."""
    found = [
        p
        for p in upload.folder.glob("*.csv")
        if p.name.startswith(("dry-run-", "import-")) and not p.name.endswith("-初始密码.csv")
    ]
    if not found:
        return None
    latest = max(found, key=lambda p: p.stat().st_mtime_ns)
    return latest.name, latest.read_bytes()
