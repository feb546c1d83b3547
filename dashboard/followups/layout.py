"""The follow-up list's components (pure): their ids, the grid's columns and the visit form."""

from __future__ import annotations

from dash import dcc, html
from dash.development.base_component import Component

from cdm.i18n import t
from dashboard.followups import export as followup_export

SCREEN = "followups"
# Component ids
GRID = "followups-grid"
COLOUR_FILTER = "followups-colours"
OVERDUE_FILTER = "followups-overdue"
COUNT = "followups-count"
EXPORT_CSV = "followups-export-csv"
EXPORT_XLSX = "followups-export-xlsx"
DOWNLOAD = "followups-download"
SELECTED = "followups-selected"
SELECTED_ID = "followups-selected-id"
DONE_ON = "followups-done-on"
CLASS = "followups-class"
NEXT_STEP = "followups-next-step"
NEXT_DUE = "followups-next-due"
SUBMIT = "followups-submit"
MESSAGE = "followups-message"
SAVED = "followups-saved"
PAGE_SIZE = 50
FIELDS = ("patient", "done_on", "class", "next_step", "next_due")
OVERDUE = "overdue"
CLASSES = ("controlled", "uncontrolled", "adverse_reaction", "complication")
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
        "patient": 176,
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
        if field == "patient":
            col["cellRenderer"] = "markdown"
            col["linkTarget"] = "_self"
        if field == "reasons":
            col.update(wrapText=True, autoHeight=True, flex=1, minWidth=240)
        defs.append(col)
    return defs


def field_box(label: str, control: Component, field: str) -> html.Div:
    """A labelled form control with the place its error appears."""
    return html.Div(
        className="form-field",
        children=[html.Label(label), control, html.Div(id=error_id(field), className="field-error", role="alert")],
    )


def visit_form(lang: str, today: str) -> html.Section:
    """The form recording a visit of the patient picked in the grid; `today` prefills the visit date."""
    classes = [{"label": t(f"followup.class.{c}", lang), "value": c} for c in CLASSES]
    return html.Section(
        className="panel",
        children=[
            html.H2(t("followups.form.title", lang)),
            html.Div(
                className="visit-form",
                children=[
                    field_box(
                        t("followups.form.patient", lang),
                        html.Div(t("followups.form.pick", lang), id=SELECTED, className="selected-patient"),
                        "patient",
                    ),
                    field_box(
                        t("followups.form.done_on", lang), dcc.Input(id=DONE_ON, value=today, type="text"), "done_on"
                    ),
                    field_box(
                        t("followups.form.class", lang),
                        dcc.Dropdown(id=CLASS, options=classes, value=None, clearable=True, searchable=False),
                        "class",
                    ),
                    field_box(t("followups.form.next_step", lang), dcc.Input(id=NEXT_STEP, type="text"), "next_step"),
                    field_box(t("followups.form.next_due", lang), dcc.Input(id=NEXT_DUE, type="text"), "next_due"),
                    html.Button(t("followups.form.submit", lang), id=SUBMIT, n_clicks=0, className="primary"),
                ],
            ),
            html.Div(id=MESSAGE, className="form-message", role="status"),
        ],
    )
