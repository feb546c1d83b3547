"""The files an import leaves beside the county's files: the report (every refusal, one line per problem, as a CSV
that Excel opens) and, when meters or accounts were created, their credentials, written once with mode 0600."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cdm.i18n import t

SECRET_MODE = 0o600


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the report: the file, the spreadsheet row (None for the file as a whole), the column, the reason."""

    file: str
    row: int | None
    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential made by the import: shown in the 0600 file only, never printed, stored hashed."""

    kind: str  # 'meter' or 'account'
    name: str
    password: str
    totp_uri: str | None = None


def default_report_path(directory: Path, now: datetime) -> Path:
    """Next to the files' directory: <dir>-导入报告-YYYYmmdd-HHMMSS.csv."""
    directory = directory.resolve()
    return directory.parent / f"{directory.name}-导入报告-{now:%Y%m%d-%H%M%S}.csv"


def secrets_path(report: Path) -> Path:
    """Where the credentials of a run go: beside its report."""
    return report.with_name(report.stem + "-初始密码.csv")


def write_report(path: Path, lines: Iterable[Line], *, lang: str) -> None:
    """The report as UTF-8 with BOM (Excel opens it as Chinese text) with the columns 文件, 行号, 列, 原因."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([t(f"registry.report.{c}", lang) for c in ("file", "row", "column", "reason")])
        for line in lines:
            out.writerow([line.file, "" if line.row is None else line.row, line.column, line.reason])


def write_secrets(path: Path, secrets: Iterable[Secret], *, lang: str) -> None:
    """Credentials into a new file readable by its owner only; refuses to overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
    os.fchmod(fd, SECRET_MODE)  # whatever the umask
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([t(f"registry.secret.{c}", lang) for c in ("kind", "name", "password", "note")])
        for s in secrets:
            if s.kind == "meter":
                note = t("registry.secret.meter_note", lang)
            elif s.totp_uri:
                note = t("registry.secret.totp_note", lang, uri=s.totp_uri)
            else:
                note = t("registry.secret.account_note", lang)
            out.writerow([t(f"registry.secret.{s.kind}", lang), s.name, s.password, note])
