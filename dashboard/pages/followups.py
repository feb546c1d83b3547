"""The family-doctor follow-up list: a sortable, filterable grid of the viewer's patients, most urgent first; record a
visit from it; export what is shown to CSV or Excel. Every list shown and every export is audited."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dash
import dash_ag_grid as dag
import psycopg
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.development.base_component import Component

from cdm.i18n import t
from dashboard import audit, followup_export, followup_form
from dashboard.access import Principal, current_principal
from dashboard.followups_repo import COLOURS, DEFAULT_LIMIT, FollowupRow, followup_rows
from dashboard.grid_locale import locale_text
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(
    __name__, path="/followups", name="followups", title=lambda **_: t("followups.title", current().settings.language)
)

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


def _column_defs(*, identity: bool, lang: str) -> list[dict[str, object]]:
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


def _field(label: str, control: Component, field: str) -> html.Div:
    return html.Div(
        className="form-field",
        children=[html.Label(label), control, html.Div(id=error_id(field), className="field-error", role="alert")],
    )


def _form(lang: str, today: str) -> html.Section:
    classes = [{"label": t(f"followup.class.{c}", lang), "value": c} for c in CLASSES]
    return html.Section(
        className="panel",
        children=[
            html.H2(t("followups.form.title", lang)),
            html.Div(
                className="visit-form",
                children=[
                    _field(
                        t("followups.form.patient", lang),
                        html.Div(t("followups.form.pick", lang), id=SELECTED, className="selected-patient"),
                        "patient",
                    ),
                    _field(
                        t("followups.form.done_on", lang), dcc.Input(id=DONE_ON, value=today, type="text"), "done_on"
                    ),
                    _field(
                        t("followups.form.class", lang),
                        dcc.Dropdown(id=CLASS, options=classes, value=None, clearable=True, searchable=False),
                        "class",
                    ),
                    _field(t("followups.form.next_step", lang), dcc.Input(id=NEXT_STEP, type="text"), "next_step"),
                    _field(t("followups.form.next_due", lang), dcc.Input(id=NEXT_DUE, type="text"), "next_due"),
                    html.Button(t("followups.form.submit", lang), id=SUBMIT, n_clicks=0, className="primary"),
                ],
            ),
            html.Div(id=MESSAGE, className="form-message", role="status"),
        ],
    )


def layout(**_query: str) -> html.Div:
    """The grid with its filters and exports, and the visit form; the grid fills as soon as the page loads."""
    settings = current().settings
    lang = settings.language
    try:
        principal = current_principal()
    except PermissionError:
        return html.Div(className="screen", children=[html.H1(t("screen.not_signed_in", lang))])
    colours = [{"label": t(f"colour.{c}", lang), "value": c} for c in COLOURS]
    grid = dag.AgGrid(
        id=GRID,
        columnDefs=_column_defs(identity=principal.sees_identity, lang=lang),
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        getRowId="params.data.patient_id",
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "animateRows": False,
            "suppressColumnVirtualisation": True,  # every column in the page, for search and for the tests
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": False,
            "localeText": locale_text(lang),
        },
        style={"height": "560px", "width": "100%"},
        className="ag-theme-alpine followups-grid",
    )
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(className="screen-header", children=[html.H1(t("followups.title", lang))]),
            html.Section(
                className="panel",
                children=[
                    html.Div(
                        className="toolbar",
                        children=[
                            html.Span(t("followups.filter.colours", lang), className="toolbar-label"),
                            dcc.Checklist(id=COLOUR_FILTER, options=colours, value=list(COLOURS), inline=True),
                            dcc.Checklist(
                                id=OVERDUE_FILTER,
                                options=[{"label": t("followups.filter.overdue", lang), "value": OVERDUE}],
                                value=[],
                                inline=True,
                            ),
                            html.Button(t("followups.export.csv", lang), id=EXPORT_CSV, n_clicks=0),
                            html.Button(t("followups.export.xlsx", lang), id=EXPORT_XLSX, n_clicks=0),
                        ],
                    ),
                    html.Div(id=COUNT, className="count-line"),
                    grid,
                ],
            ),
            _form(lang, datetime.now(settings.tz).date().isoformat()),
            dcc.Store(id=SELECTED_ID),
            dcc.Store(id=SAVED, data=0),
            dcc.Download(id=DOWNLOAD),
        ],
    )


def _rows(principal: Principal, colours: list[str] | None, overdue: list[str] | None) -> list[FollowupRow]:
    runtime = current()
    with runtime.pool.connection() as conn:
        return followup_rows(
            conn,
            principal=principal,
            colours=None if set(colours or ()) >= set(COLOURS) else tuple(colours or ()),
            overdue_only=OVERDUE in (overdue or []),
            tz=runtime.settings.timezone,
        )


def _display(rows: list[FollowupRow], principal: Principal) -> list[dict[str, object]]:
    settings = current().settings
    out = []
    for row in rows:
        shown = followup_export.display_row(
            row, lang=settings.language, tz=settings.tz, identity=principal.sees_identity
        )
        shown["patient"] = f"[{row.card}](/patient/{row.patient_id})"
        out.append(shown)
    return out


@callback(
    Output(GRID, "rowData"),
    Output(COUNT, "children"),
    Input(COLOUR_FILTER, "value"),
    Input(OVERDUE_FILTER, "value"),
    Input(SAVED, "data"),
)
def refresh(colours: list[str] | None, overdue: list[str] | None, _saved: int) -> tuple[object, object]:
    """The list for the chosen filters, audited as a list view of every patient it names."""
    runtime = current()
    lang = runtime.settings.language
    principal = current_principal()
    try:
        rows = _rows(principal, colours, overdue)
        with runtime.pool.connection() as conn:
            audit.record_list_view(conn, principal=principal, patient_ids=[r.patient_id for r in rows], screen=SCREEN)
    except psycopg.Error as exc:
        log.warning("follow-up list not read: %s", type(exc).__name__)
        return no_update, t("screen.db_error", lang)
    count = t("followups.count", lang, n=len(rows), overdue=sum(1 for r in rows if r.days_overdue > 0))
    if len(rows) >= DEFAULT_LIMIT:
        count += " · " + t("followups.truncated", lang, limit=DEFAULT_LIMIT)
    return _display(rows, principal), count


@callback(
    Output(DOWNLOAD, "data"),
    Input(EXPORT_CSV, "n_clicks"),
    Input(EXPORT_XLSX, "n_clicks"),
    State(COLOUR_FILTER, "value"),
    State(OVERDUE_FILTER, "value"),
    prevent_initial_call=True,
)
def export(_csv: int, _xlsx: int, colours: list[str] | None, overdue: list[str] | None) -> object:
    """The scoped list with the chosen filters as a file; the export and the patients it names are audited."""
    runtime = current()
    settings = runtime.settings
    principal = current_principal()
    fmt = "xlsx" if dash.ctx.triggered_id == EXPORT_XLSX else "csv"
    rows = _rows(principal, colours, overdue)
    shown = [
        followup_export.display_row(r, lang=settings.language, tz=settings.tz, identity=principal.sees_identity)
        for r in rows
    ]
    with runtime.pool.connection() as conn:
        audit.record(
            conn,
            principal=principal,
            action="export",
            screen=SCREEN,
            detail={"format": fmt, "rows": len(rows), "colours": colours or [], "overdue_only": bool(overdue)},
        )
        audit.record_list_view(
            conn, principal=principal, patient_ids=[r.patient_id for r in rows], screen=f"{SCREEN}.export"
        )
    stamp = datetime.now(settings.tz).strftime("%Y%m%d-%H%M")
    writer = followup_export.to_xlsx if fmt == "xlsx" else followup_export.to_csv
    content = writer(shown, lang=settings.language, identity=principal.sees_identity)
    return dcc.send_bytes(content, f"followups-{stamp}.{fmt}")


@callback(
    Output(SELECTED, "children"),
    Output(SELECTED_ID, "data"),
    Input(GRID, "selectedRows"),
)
def select(selected: list[dict[str, object]] | None) -> tuple[object, object]:
    """The patient picked in the grid becomes the form's patient."""
    lang = current().settings.language
    if not selected:
        return t("followups.form.pick", lang), None
    row = selected[0]
    card = str(row["patient"]).split("]")[0].lstrip("[")
    return f"{card} · {row['colour']} · {row['township']} {row['village']}", row["patient_id"]


@callback(
    [Output(error_id(f), "children") for f in FIELDS],
    Output(MESSAGE, "children"),
    Output(MESSAGE, "className"),
    Output(SAVED, "data"),
    Output(SELECTED, "children", allow_duplicate=True),
    Output(SELECTED_ID, "data", allow_duplicate=True),
    Input(SUBMIT, "n_clicks"),
    State(SELECTED_ID, "data"),
    State(DONE_ON, "value"),
    State(CLASS, "value"),
    State(NEXT_STEP, "value"),
    State(NEXT_DUE, "value"),
    State(SAVED, "data"),
    prevent_initial_call=True,
)
def submit(
    _n: int,
    patient_id: int | None,
    done_on: str | None,
    follow_up_class: str | None,
    next_step: str | None,
    next_due: str | None,
    saved: int,
) -> tuple[object, ...]:
    """Check the form; name every bad field (the values stay as typed); save a good visit and refresh the list."""
    runtime = current()
    settings = runtime.settings
    lang = settings.language
    now = datetime.now(UTC)
    visit, errors = followup_form.validate(
        patient_id=patient_id,
        done_on=done_on,
        follow_up_class=follow_up_class,
        next_step=next_step,
        next_due=next_due,
        today=now.astimezone(settings.tz).date(),
        lang=lang,
    )
    field_errors = tuple(errors.get(f, "") for f in FIELDS)
    if visit is None or patient_id is None:
        return (*field_errors, "", "form-message", no_update, no_update, no_update)
    principal = current_principal()
    try:
        with runtime.pool.connection() as conn:
            result = followup_form.save(
                conn, principal=principal, patient_id=int(patient_id), visit=visit, settings=settings, now=now
            )
    except PermissionError as exc:
        return (*field_errors, str(exc), "form-message error", no_update, no_update, no_update)
    except (psycopg.Error, ValueError) as exc:
        log.warning("follow-up not saved: %s", type(exc).__name__)
        reason = str(exc) if isinstance(exc, ValueError) else t("screen.db_error", lang)
        failed = t("followups.error.not_saved", lang, reason=reason)
        return (*field_errors, failed, "form-message error", no_update, no_update, no_update)
    message = t(
        "followups.form.saved",
        lang,
        patient=result["patient"],
        next_due=result["next_due"],
        closed=len(result["closed_alerts"]),
    )
    # The saved patient leaves the form, so a second click cannot record the same visit twice.
    return (*field_errors, message, "form-message ok", (saved or 0) + 1, t("followups.form.pick", lang), None)
