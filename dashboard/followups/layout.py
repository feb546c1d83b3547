"""The follow-up list's components (pure): their ids, the grid's columns and the phone's card list."""

from __future__ import annotations

from datetime import date

from dash import dcc, html
from dash.development.base_component import Component

from assess.reasons import joined
from cdm.i18n import t
from dashboard.followups import export as followup_export
from dashboard.followups.repo import FollowupRow

SCREEN = "followups"
# Component ids
GRID = "followups-grid"
COLOUR_FILTER = "followups-colours"
OVERDUE_FILTER = "followups-overdue"
COUNT = "followups-count"
EXPORT_CSV = "followups-export-csv"
EXPORT_XLSX = "followups-export-xlsx"
DOWNLOAD = "followups-download"
CARDS = "followups-cards"
SEARCH = "followups-search"
SEARCH_BUTTON = "followups-search-button"
SEARCH_RESULTS = "followups-search-results"
PAGE_SIZE = 50
OVERDUE = "overdue"
COLOUR_STYLE = {
    "red": {"backgroundColor": "#c62828", "color": "#ffffff", "fontWeight": "700"},
    "yellow": {"backgroundColor": "#f9a825", "color": "#111111", "fontWeight": "700"},
    "green": {"backgroundColor": "#2e7d32", "color": "#ffffff", "fontWeight": "700"},
}


def error_id(field: str) -> str:
    """The id of the element showing `field`'s error."""
    return f"followups-error-{field}"


def column_defs(*, identity: bool, lang: str) -> list[dict[str, object]]:
    """The grid's columns for a viewer who does or does not see identity."""
    widths = {
        "colour": 92,
        "name": 110,
        "patient": 150,
        "sex": 88,
        "age": 88,
        "township": 104,
        "village": 90,
        "team": 116,
        "last_bp": 124,
        "last_bp_at": 150,
        "last_glucose": 120,
        "last_glucose_at": 150,
        "due": 136,
        "days_overdue": 124,
        "phone": 130,
        "address": 200,
        "id_card": 190,
    }
    defs: list[dict[str, object]] = []
    for field, key in followup_export.columns(identity=identity):
        col: dict[str, object] = {"field": field, "headerName": t(key, lang)}
        if field in widths:
            col["width"] = widths[field]
        if field in {"age", "days_overdue"}:
            col["filter"] = "agNumberColumnFilter"
        else:
            col["cellDataType"] = "text"  # dates and times as written, not re-parsed by the grid's date filter
        if field == "colour":
            col["cellStyle"] = {
                "styleConditions": [
                    {"condition": f"params.data.colour_code == '{code}'", "style": style}
                    for code, style in COLOUR_STYLE.items()
                ]
            }
        if field in ("patient", "name"):
            col["cellRenderer"] = "markdown"
            col["linkTarget"] = "_self"
        if field == "reasons":
            col.update(wrapText=True, autoHeight=True, flex=1, minWidth=240)
        defs.append(col)
    return defs


def _due(row: FollowupRow, today: date, lang: str) -> str:
    if row.days_overdue > 0:
        return t("work.overdue_days", lang, n=row.days_overdue)
    days = (row.due - today).days
    return t("work.due_today", lang) if days <= 0 else t("work.due_in", lang, n=days)


def card(row: FollowupRow, *, today: date, lang: str) -> html.Li:
    """One patient as a phone shows them: colour, name, why, last BP and glucose, days overdue, call and record."""
    figures = []
    if row.last_bp:
        figures.append(t("work.last_bp", lang, bp=row.last_bp))
    if row.last_glucose is not None:
        figures.append(t("work.last_glucose", lang, g=f"{row.last_glucose:.1f}"))
    actions: list[Component] = []
    if row.phone:
        actions.append(html.A(t("work.call", lang), href=f"tel:{row.phone}", className="button call"))
    actions.append(dcc.Link(t("work.record_visit", lang), href=f"/visit/{row.patient_id}", className="button primary"))
    return html.Li(
        className=f"work-card card-{row.colour}",
        children=[
            html.Div(
                className="card-top",
                children=[
                    html.Span(t(f"colour.{row.colour}", lang), className=f"badge badge-{row.colour}"),
                    dcc.Link(row.name or row.card, href=f"/patient/{row.patient_id}", className="card-name"),
                    html.Span(_due(row, today, lang), className="card-due overdue" if row.days_overdue else "card-due"),
                ],
            ),
            html.Div(joined(row.reasons, row.reason_facts, lang=lang), className="card-reasons"),
            html.Div(" · ".join([*figures, row.village or row.township]), className="card-figures"),
            html.Div(className="card-actions", children=actions),
        ],
    )
