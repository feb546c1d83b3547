"""The follow-up list as a person reads it (pure): the columns in the catalogue's words, the grid's rows, and the
CSV and Excel files an export hands out. Nothing here shows more than the viewer's role may see."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from assess.reasons import joined
from cdm.i18n import t
from dashboard.followups.repo import FollowupRow

TIME_FORMAT = "%Y-%m-%d %H:%M"
# (field, catalogue key); the identity columns are only offered to roles that see identity
COLUMNS: tuple[tuple[str, str], ...] = (
    ("colour", "followups.col.colour"),
    ("name", "work.col.name"),
    ("patient", "followups.col.patient"),
    ("sex", "followups.col.sex"),
    ("age", "followups.col.age"),
    ("township", "followups.col.township"),
    ("village", "followups.col.village"),
    ("team", "followups.col.team"),
    ("reasons", "followups.col.reasons"),
    ("last_bp", "followups.col.last_bp"),
    ("last_bp_at", "followups.col.last_bp_at"),
    ("last_glucose", "followups.col.last_glucose"),
    ("last_glucose_at", "followups.col.last_glucose_at"),
    ("due", "followups.col.due"),
    ("days_overdue", "followups.col.days_overdue"),
)
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("phone", "followups.col.phone"),
    ("address", "work.col.address"),
    ("id_card", "followups.col.id_card"),
)


def columns(*, identity: bool) -> tuple[tuple[str, str], ...]:
    """The (field, catalogue key) pairs of the list for a viewer who does or does not see identity."""
    return COLUMNS + (IDENTITY_COLUMNS if identity else ())


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime(TIME_FORMAT) if at else ""


def display_row(row: FollowupRow, *, lang: str, tz: ZoneInfo, identity: bool) -> dict[str, object]:
    """One patient as the grid and the exports show it."""
    glucose = ""
    if row.last_glucose is not None:
        context = t(f"followups.glucose.{row.last_glucose_context}", lang) if row.last_glucose_context else ""
        glucose = f"{row.last_glucose:.1f} {context}".strip()
    out: dict[str, object] = {
        "patient_id": row.patient_id,
        "colour_code": row.colour,
        "colour": t(f"colour.{row.colour}", lang),
        "name": row.name or "",
        "patient": row.card,
        "sex": t(f"screen.sex.{row.sex}", lang),
        "age": row.age,
        "township": row.township,
        "village": row.village or t("dashboard.no_village", lang),
        "team": row.team or "",
        "reasons": joined(row.reasons, row.reason_facts, lang=lang),
        "last_bp": row.last_bp or "",
        "last_bp_at": _when(row.last_bp_at, tz),
        "last_glucose": glucose,
        "last_glucose_at": _when(row.last_glucose_at, tz),
        "due": row.due.isoformat(),
        "days_overdue": row.days_overdue,
    }
    if identity:
        out["phone"] = row.phone or ""
        out["address"] = row.address or ""
        out["id_card"] = row.id_card or ""
    return out


def to_csv(rows: Sequence[dict[str, object]], *, lang: str, identity: bool) -> bytes:
    """The rows as CSV with a byte-order mark, so that Excel on a Chinese Windows opens it as UTF-8."""
    cols = columns(identity=identity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([t(key, lang) for _, key in cols])
    for row in rows:
        writer.writerow([row.get(field, "") for field, _ in cols])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[dict[str, object]], *, lang: str, identity: bool) -> bytes:
    """The rows as an Excel workbook with one sheet and a bold, frozen header."""
    cols = columns(identity=identity)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t("followups.title", lang)[:31]  # Excel's limit on a sheet name
    sheet.append([t(key, lang) for _, key in cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([row.get(field, "") for field, _ in cols])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
