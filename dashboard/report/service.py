"""The monthly report as an Excel workbook: a county sheet, one sheet per township, a definitions sheet; audited."""

from __future__ import annotations

import io
from datetime import datetime

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from cdm.i18n import t
from cdm.settings import Settings
from dashboard import audit
from dashboard.access import Principal
from dashboard.language import request_language
from dashboard.report import logic, repo
from dashboard.report.logic import Area, Period

RATE_FORMAT = "0.0%"


def monthly_workbook(
    conn: psycopg.Connection, *, principal: Principal, month: str, settings: Settings, now: datetime, screen: str
) -> tuple[bytes, Period]:
    """The report of `month` for what `principal` may see, as .xlsx bytes; the export is audited."""
    period = logic.period(month, tz=settings.tz, now=now)
    areas = repo.areas(conn, principal=principal, period=period)
    lang = request_language(settings)
    county = logic.county_total(areas, settings.county_name)
    book = Workbook()
    first = book.active
    assert first is not None
    reserved = [t("report.sheet.county", lang), t("report.sheet.definitions", lang)]
    _fill(first, reserved[0], county, period=period, settings=settings)
    names = [a.name for a in areas.values()]
    for area, title in zip(areas.values(), logic.sheet_titles(names, reserved=reserved), strict=True):
        _fill(book.create_sheet(), title, area, period=period, settings=settings)
    definitions = book.create_sheet(reserved[1])
    for row in logic.definition_rows(lang=lang):
        definitions.append(row)
    definitions.column_dimensions["A"].width, definitions.column_dimensions["B"].width = 22, 110
    out = io.BytesIO()
    book.save(out)
    audit.record(
        conn,
        principal=principal if principal.user_id else None,
        username=principal.username,
        action="export",
        screen=screen,
        detail={"report": "monthly", "month": period.month, "townships": len(areas)},
    )
    return out.getvalue(), period


def _fill(sheet: Worksheet, title: str, area: Area, *, period: Period, settings: Settings) -> None:
    lang = request_language(settings)
    sheet.title = title
    sheet.append([t("report.title", lang, area=area.name, month=period.month)])
    as_of = period.as_of.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    sheet.append([t("report.as_of", lang, at=as_of)])
    sheet.append([])
    for row in logic.sheet_rows(area, lang=lang):
        sheet.append(row)
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for (cell,) in sheet.iter_rows(min_row=5, min_col=4, max_col=4):
        if isinstance(cell.value, float):
            cell.number_format = RATE_FORMAT
    for column, width in zip("ABCD", (22, 10, 10, 12), strict=True):
        sheet.column_dimensions[column].width = width
