"""The family-doctor follow-up list: a sortable, filterable grid of the viewer's patients, most urgent first; record a
visit from it; export what is shown to CSV or Excel. Every list shown and every export is audited."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dash
import dash_ag_grid as dag
import psycopg
from dash import Input, Output, State, callback, dcc, html, no_update

from cdm.i18n import t
from dashboard import audit
from dashboard.access import Principal, current_principal
from dashboard.followups import export as followup_export
from dashboard.followups import form as followup_form
from dashboard.followups import layout as ui
from dashboard.followups.repo import COLOURS, DEFAULT_LIMIT, FollowupRow, followup_rows
from dashboard.grid_locale import locale_text
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(
    __name__, path="/followups", name="followups", title=lambda **_: t("followups.title", current().settings.language)
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
        id=ui.GRID,
        columnDefs=ui.column_defs(identity=principal.sees_identity, lang=lang),
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        getRowId="params.data.patient_id",
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "animateRows": False,
            "suppressColumnVirtualisation": True,  # every column in the page, for search and for the tests
            "pagination": True,
            "paginationPageSize": ui.PAGE_SIZE,
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
                            dcc.Checklist(id=ui.COLOUR_FILTER, options=colours, value=list(COLOURS), inline=True),
                            dcc.Checklist(
                                id=ui.OVERDUE_FILTER,
                                options=[{"label": t("followups.filter.overdue", lang), "value": ui.OVERDUE}],
                                value=[],
                                inline=True,
                            ),
                            html.Button(t("followups.export.csv", lang), id=ui.EXPORT_CSV, n_clicks=0),
                            html.Button(t("followups.export.xlsx", lang), id=ui.EXPORT_XLSX, n_clicks=0),
                        ],
                    ),
                    html.Div(id=ui.COUNT, className="count-line"),
                    grid,
                ],
            ),
            ui.visit_form(lang, datetime.now(settings.tz).date().isoformat()),
            dcc.Store(id=ui.SELECTED_ID),
            dcc.Store(id=ui.SAVED, data=0),
            dcc.Download(id=ui.DOWNLOAD),
        ],
    )


def _rows(principal: Principal, colours: list[str] | None, overdue: list[str] | None) -> list[FollowupRow]:
    runtime = current()
    with runtime.pool.connection() as conn:
        return followup_rows(
            conn,
            principal=principal,
            colours=None if set(colours or ()) >= set(COLOURS) else tuple(colours or ()),
            overdue_only=ui.OVERDUE in (overdue or []),
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
    Output(ui.GRID, "rowData"),
    Output(ui.COUNT, "children"),
    Input(ui.COLOUR_FILTER, "value"),
    Input(ui.OVERDUE_FILTER, "value"),
    Input(ui.SAVED, "data"),
)
def refresh(colours: list[str] | None, overdue: list[str] | None, _saved: int) -> tuple[object, object]:
    """The list for the chosen filters, audited as a list view of every patient it names."""
    runtime = current()
    lang = runtime.settings.language
    principal = current_principal()
    try:
        rows = _rows(principal, colours, overdue)
        with runtime.pool.connection() as conn:
            audit.record_list_view(
                conn, principal=principal, patient_ids=[r.patient_id for r in rows], screen=ui.SCREEN
            )
    except psycopg.Error as exc:
        log.warning("follow-up list not read: %s", type(exc).__name__)
        return no_update, t("screen.db_error", lang)
    count = t("followups.count", lang, n=len(rows), overdue=sum(1 for r in rows if r.days_overdue > 0))
    if len(rows) >= DEFAULT_LIMIT:
        count += " · " + t("followups.truncated", lang, limit=DEFAULT_LIMIT)
    return _display(rows, principal), count


@callback(
    Output(ui.DOWNLOAD, "data"),
    Input(ui.EXPORT_CSV, "n_clicks"),
    Input(ui.EXPORT_XLSX, "n_clicks"),
    State(ui.COLOUR_FILTER, "value"),
    State(ui.OVERDUE_FILTER, "value"),
    prevent_initial_call=True,
)
def export(_csv: int, _xlsx: int, colours: list[str] | None, overdue: list[str] | None) -> object:
    """The scoped list with the chosen filters as a file; the export and the patients it names are audited."""
    runtime = current()
    settings = runtime.settings
    principal = current_principal()
    fmt = "xlsx" if dash.ctx.triggered_id == ui.EXPORT_XLSX else "csv"
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
            screen=ui.SCREEN,
            detail={"format": fmt, "rows": len(rows), "colours": colours or [], "overdue_only": bool(overdue)},
        )
        audit.record_list_view(
            conn, principal=principal, patient_ids=[r.patient_id for r in rows], screen=f"{ui.SCREEN}.export"
        )
    stamp = datetime.now(settings.tz).strftime("%Y%m%d-%H%M")
    writer = followup_export.to_xlsx if fmt == "xlsx" else followup_export.to_csv
    content = writer(shown, lang=settings.language, identity=principal.sees_identity)
    return dcc.send_bytes(content, f"followups-{stamp}.{fmt}")


@callback(
    Output(ui.SELECTED, "children"),
    Output(ui.SELECTED_ID, "data"),
    Input(ui.GRID, "selectedRows"),
)
def select(selected: list[dict[str, object]] | None) -> tuple[object, object]:
    """The patient picked in the grid becomes the form's patient."""
    lang = current().settings.language
    if not selected:
        return t("followups.form.pick", lang), None
    row = selected[0]
    card = str(row["patient"]).split("]")[0].lstrip("[")
    return f"{card} · {row['colour']} · {row['township']} {row['village']}", row["patient_id"]


def _save(visit: followup_form.Visit, *, patient_id: int, now: datetime) -> dict[str, object] | str:
    """Record the visit; what it did, or why it was not saved (in the viewer's language)."""
    runtime = current()
    lang = runtime.settings.language
    try:
        with runtime.pool.connection() as conn:
            return followup_form.save(
                conn,
                principal=current_principal(),
                patient_id=patient_id,
                visit=visit,
                settings=runtime.settings,
                now=now,
            )
    except PermissionError as exc:
        return str(exc)
    except (psycopg.Error, ValueError) as exc:
        log.warning("follow-up not saved: %s", type(exc).__name__)
        reason = str(exc) if isinstance(exc, ValueError) else t("screen.db_error", lang)
        return t("followups.error.not_saved", lang, reason=reason)


@callback(
    [Output(ui.error_id(f), "children") for f in ui.FIELDS],
    Output(ui.MESSAGE, "children"),
    Output(ui.MESSAGE, "className"),
    Output(ui.SAVED, "data"),
    Output(ui.SELECTED, "children", allow_duplicate=True),
    Output(ui.SELECTED_ID, "data", allow_duplicate=True),
    Input(ui.SUBMIT, "n_clicks"),
    State(ui.SELECTED_ID, "data"),
    State(ui.DONE_ON, "value"),
    State(ui.CLASS, "value"),
    State(ui.NEXT_STEP, "value"),
    State(ui.NEXT_DUE, "value"),
    State(ui.SAVED, "data"),
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
    field_errors = tuple(errors.get(f, "") for f in ui.FIELDS)
    if visit is None or patient_id is None:
        return (*field_errors, "", "form-message", no_update, no_update, no_update)
    result = _save(visit, patient_id=int(patient_id), now=now)
    if isinstance(result, str):
        return (*field_errors, result, "form-message error", no_update, no_update, no_update)
    message = t(
        "followups.form.saved",
        lang,
        patient=result["patient"],
        next_due=result["next_due"],
        closed=len(result["closed_alerts"]),
    )
    # The saved patient leaves the form, so a second click cannot record the same visit twice.
    return (*field_errors, message, "form-message ok", (saved or 0) + 1, t("followups.form.pick", lang), None)
