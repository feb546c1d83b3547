"""The family-doctor follow-up list: the viewer's patients in the order a doctor works (red, overdue, due soon) as a
sortable grid on a big screen and a card list on a phone, each card with a call button and the national visit form;
search by name, health card or phone; export what is shown. Every list, search and export is audited."""

from __future__ import annotations

import logging
from datetime import datetime

import dash
import dash_ag_grid as dag
import psycopg
from dash import Input, Output, State, callback, dcc, html, no_update

from cdm.i18n import t
from dashboard import audit
from dashboard.access import Principal, current_principal
from dashboard.followups import export as followup_export
from dashboard.followups import layout as ui
from dashboard.followups.repo import COLOURS, DEFAULT_LIMIT, FollowupRow, followup_rows
from dashboard.grids import PICK_ONE_ROW, work_grid
from dashboard.language import page_title, request_language
from dashboard.people.repo import search, searchable
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/followups", name="followups", title=page_title("followups.title"))


def layout(**_query: str) -> html.Div:
    """The grid with its filters and exports, and the visit form; the grid fills as soon as the page loads."""
    settings = current().settings
    lang = request_language(settings)
    try:
        principal = current_principal()
    except PermissionError:
        return html.Div(className="screen", children=[html.H1(t("screen.not_signed_in", lang))])
    colours = [{"label": t(f"colour.{c}", lang), "value": c} for c in COLOURS]
    grid = _grid(principal, lang)
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(className="screen-header", children=[html.H1(t("followups.title", lang))]),
            _search_panel(lang),
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
                    html.P(t("work.order_note", lang), className="order-note"),
                    html.Div(grid, className="wide-only"),
                    html.Ul(id=ui.CARDS, className="card-list narrow-only"),
                ],
            ),
            dcc.Download(id=ui.DOWNLOAD),
        ],
    )


def _grid(principal: Principal, lang: str) -> dag.AgGrid:
    """The follow-up grid (wide screens; phones get the card list), filled by a callback once the page loads."""
    return work_grid(
        ui.GRID,
        ui.column_defs(identity=principal.sees_identity, lang=lang),
        lang,
        row_id="params.data.patient_id",
        options={
            **PICK_ONE_ROW,
            "animateRows": False,
            "pagination": True,
            "paginationPageSize": ui.PAGE_SIZE,
            "paginationPageSizeSelector": False,
        },
        style={"height": "560px", "width": "100%"},
    )


def _search_panel(lang: str) -> html.Section:
    """Search by name, health card or the last four digits of the phone, within the signed-in person's scope."""
    return html.Section(
        className="panel search-panel",
        children=[
            html.Div(
                className="search-row",
                children=[
                    dcc.Input(
                        id=ui.SEARCH,
                        type="search",
                        placeholder=t("work.search.placeholder", lang),
                        debounce=True,
                    ),
                    html.Button(t("work.search.button", lang), id=ui.SEARCH_BUTTON, n_clicks=0),
                ],
            ),
            html.Div(id=ui.SEARCH_RESULTS),
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
            row, lang=request_language(settings), tz=settings.tz, identity=principal.sees_identity
        )
        shown["patient"] = f"[{row.card}](/patient/{row.patient_id})"
        if row.name:
            shown["name"] = f"[{row.name}](/patient/{row.patient_id})"
        out.append(shown)
    return out


@callback(
    Output(ui.GRID, "rowData"),
    Output(ui.COUNT, "children"),
    Output(ui.CARDS, "children"),
    Input(ui.COLOUR_FILTER, "value"),
    Input(ui.OVERDUE_FILTER, "value"),
)
def refresh(colours: list[str] | None, overdue: list[str] | None) -> tuple[object, object, object]:
    """The list for the chosen filters, audited as a list view of every patient it names."""
    runtime = current()
    lang = request_language()
    principal = current_principal()
    try:
        rows = _rows(principal, colours, overdue)
        with runtime.pool.connection() as conn:
            audit.record_list_view(
                conn, principal=principal, patient_ids=[r.patient_id for r in rows], screen=ui.SCREEN
            )
    except psycopg.Error as exc:
        log.warning("follow-up list not read: %s", type(exc).__name__)
        return no_update, t("screen.db_error", lang), no_update
    count = t("followups.count", lang, n=len(rows), overdue=sum(1 for r in rows if r.days_overdue > 0))
    if len(rows) >= DEFAULT_LIMIT:
        count += " · " + t("followups.truncated", lang, limit=DEFAULT_LIMIT)
    today = datetime.now(runtime.settings.tz).date()
    cards = [ui.card(r, today=today, lang=lang) for r in rows[: ui.PAGE_SIZE]]
    return _display(rows, principal), count, cards


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
        followup_export.display_row(r, lang=request_language(), tz=settings.tz, identity=principal.sees_identity)
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
    content = writer(shown, lang=request_language(settings), identity=principal.sees_identity)
    return dcc.send_bytes(content, f"followups-{stamp}.{fmt}")


@callback(
    Output(ui.SEARCH_RESULTS, "children"),
    Input(ui.SEARCH_BUTTON, "n_clicks"),
    Input(ui.SEARCH, "n_submit"),
    State(ui.SEARCH, "value"),
    prevent_initial_call=True,
)
def find(_clicks: int, _submit: int, text: str | None) -> object:
    """People in the viewer's scope by name, health card or the phone's last four digits; audited (not the text typed,
    which may be a name: how many were found, and a list view of each)."""
    runtime = current()
    lang = request_language()
    principal = current_principal()
    text = (text or "").strip()
    if not searchable(text):
        return html.Div(t("work.search.too_short", lang), className="field-error")
    with runtime.pool.connection() as conn:
        found = search(conn, principal=principal, text=text)
        audit.record(conn, principal=principal, action="search", screen=ui.SCREEN, detail={"found": len(found)})
        audit.record_list_view(conn, principal=principal, patient_ids=[f.patient_id for f in found], screen=ui.SCREEN)
    if not found:
        return html.Div(t("work.search.none", lang), className="count-line")
    items = [
        html.Li(
            className="found",
            children=[
                html.Span(t(f"colour.{f.colour}", lang), className=f"badge badge-{f.colour}") if f.colour else None,
                dcc.Link(f.name or f.card, href=f"/patient/{f.patient_id}", className="card-name"),
                html.Span(f"{f.card} · {f.township} {f.village or ''}"),
                html.A(f.phone, href=f"tel:{f.phone}", className="tel") if f.phone else None,
                dcc.Link(t("work.record_visit", lang), href=f"/visit/{f.patient_id}", className="button primary"),
            ],
        )
        for f in found
    ]
    return [
        html.Div(t("work.search.count", lang, n=len(found)), className="count-line"),
        html.Ul(items, className="found-list"),
    ]
