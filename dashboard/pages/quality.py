"""The data-quality screen: which meters send what gets refused and why (raw content shown masked), which meters are
offline or keep a wrong clock, and readings kept without a patient, with an action to match one to a patient."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dash
import dash_ag_grid as dag
import psycopg
from dash import Input, Output, State, callback, dcc, html, no_update

from cdm.i18n import t
from cdm.privacy import mask_card
from dashboard.access import current_principal
from dashboard.grids import PICK_ONE_ROW, work_grid
from dashboard.language import page_title, request_language
from dashboard.quality import repo as quality_repo
from dashboard.quality import tables as quality_tables
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/quality", name="quality", title=page_title("quality.title"))

# Component ids
BY_METER = "quality-by-meter"
LATEST = "quality-latest"
OFFLINE = "quality-offline"
SKEWED = "quality-skewed"
UNATTRIBUTED = "quality-unattributed"
SELECTED = "quality-selected"
CARD = "quality-card"
SUBMIT = "quality-attribute"
MESSAGE = "quality-message"
DONE = "quality-done"
STATUS = "quality-status"
SILENT_COUNTS = "quality-offline-counts"
# (grid id, columns, fixed height): the two that may hold hundreds of rows scroll inside a box of their own.
GRIDS = (
    (BY_METER, ("device", "kind", "clinic", "reason", "count", "latest"), "320px"),
    (OFFLINE, ("device", "kind", "clinic", "status", "last_seen", "battery", "signal"), "360px"),
    (SKEWED, ("device", "kind", "clinic", "skew", "future_refused", "latest"), None),
)


def _panel(title: str, body: Any, *, note: Any = None) -> html.Section:
    heading = [html.H2(title), *([note] if note is not None else [])]
    return html.Section(className="panel", children=[*heading, html.Div(body, className="panel-body")])


def _grid(grid_id: str, columns: tuple[str, ...], height: str | None, lang: str) -> dag.AgGrid:
    return work_grid(
        grid_id,
        [{"field": c, "headerName": t(f"quality.col.{c}", lang), "minWidth": 90, "flex": 1} for c in columns],
        lang,
        options={} if height else {"domLayout": "autoHeight"},
        style={"width": "100%", **({"height": height} if height else {})},
    )


def _unattributed_grid(lang: str) -> dag.AgGrid:
    cols = [
        ("measured", 150),
        ("device", 130),
        ("clinic", 110),
        ("reference", 190),
        ("value", 140),
    ]
    return work_grid(
        UNATTRIBUTED,
        [{"field": c, "headerName": t(f"quality.col.{c}", lang), "width": w} for c, w in cols],
        lang,
        row_id="params.data.key",
        options={**PICK_ONE_ROW, "domLayout": "autoHeight"},  # a handful of rows on a good day: no empty box below
        style={"width": "100%"},
    )


def _attribute_form(lang: str) -> html.Div:
    return html.Div(
        className="visit-form",
        children=[
            html.Div(
                className="form-field",
                children=[
                    html.Label(t("quality.attribute.title", lang)),
                    html.Div(t("quality.attribute.pick", lang), id=SELECTED, className="selected-patient"),
                ],
            ),
            html.Div(
                className="form-field",
                children=[html.Label(t("quality.attribute.card", lang)), dcc.Input(id=CARD, type="text")],
            ),
            html.Button(t("quality.attribute.submit", lang), id=SUBMIT, n_clicks=0, className="primary"),
        ],
    )


def layout(**_query: str) -> html.Div:
    """The screen's frame; its tables fill as soon as the page loads and again after each match."""
    lang = request_language()
    try:
        current_principal()
    except PermissionError:
        return html.Div(className="screen", children=[html.H1(t("screen.not_signed_in", lang))])
    grids = {grid_id: _grid(grid_id, cols, height, lang) for grid_id, cols, height in GRIDS}
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(className="screen-header", children=[html.H1(t("quality.title", lang))]),
            html.Div(id=STATUS, className="stale-banner", role="alert"),
            html.Div(
                className="two-col",
                children=[
                    _panel(t("quality.quarantine.title", lang), grids[BY_METER]),
                    _panel(t("quality.examples.title", lang), html.Div(id=LATEST)),
                ],
            ),
            html.Div(
                className="two-col",
                children=[
                    _panel(
                        t("quality.offline.title", lang),
                        grids[OFFLINE],
                        note=html.Div(id=SILENT_COUNTS, className="panel-note"),
                    ),
                    _panel(t("quality.skew.title", lang, seconds=int(quality_repo.SKEW_WARN_S)), grids[SKEWED]),
                ],
            ),
            _panel(
                t("quality.unattributed.title", lang),
                [
                    _unattributed_grid(lang),
                    _attribute_form(lang),
                    html.Div(id=MESSAGE, className="form-message", role="status"),
                ],
            ),
            dcc.Store(id=DONE, data=0),
        ],
    )


@callback(
    Output(BY_METER, "rowData"),
    Output(LATEST, "children"),
    Output(OFFLINE, "rowData"),
    Output(SILENT_COUNTS, "children"),
    Output(SKEWED, "rowData"),
    Output(UNATTRIBUTED, "rowData"),
    Output(STATUS, "children"),
    Input(DONE, "data"),
)
def refresh(_done: int) -> tuple[Any, ...]:
    """The report for the viewer's scope; a team account, which has no meters, is told it may not see it."""
    runtime = current()
    lang = request_language()
    try:
        principal = current_principal()
        with runtime.pool.connection() as conn:
            report = quality_repo.quality_report(conn, principal=principal, now=datetime.now(UTC))
    except PermissionError:
        return (no_update,) * 6 + (t("quality.forbidden", lang),)
    except psycopg.Error as exc:
        log.warning("data-quality screen not read: %s", type(exc).__name__)
        return (no_update,) * 6 + (t("screen.db_error", lang),)
    return (*quality_tables.tables(report, runtime.settings), "")


@callback(Output(SELECTED, "children"), Input(UNATTRIBUTED, "selectedRows"))
def select(selected: list[dict[str, Any]] | None) -> str:
    """The reading picked in the grid, as the form shows it."""
    if not selected:
        return t("quality.attribute.pick", request_language())
    row = selected[0]
    return f"{row['measured']} · {row['device']} · {row['value']}"


@callback(
    Output(MESSAGE, "children"),
    Output(MESSAGE, "className"),
    Output(DONE, "data"),
    Input(SUBMIT, "n_clicks"),
    State(UNATTRIBUTED, "selectedRows"),
    State(CARD, "value"),
    State(DONE, "data"),
    prevent_initial_call=True,
)
def match(_n: int, selected: list[dict[str, Any]] | None, card: str | None, done: int) -> tuple[Any, ...]:
    """Match the picked reading to the patient with that health card, reassess them, and refresh the tables."""
    runtime = current()
    settings = runtime.settings
    lang = request_language(settings)
    if not selected:
        return t("quality.attribute.pick", lang), "form-message error", no_update
    device_id, seq, measured = str(selected[0]["key"]).split("|")
    try:
        with runtime.pool.connection() as conn:
            _pid, colour = quality_repo.attribute(
                conn,
                principal=current_principal(),
                device_id=int(device_id),
                seq=int(seq),
                measured_at=datetime.fromisoformat(measured),
                card=card or "",
                settings=settings,
                now=datetime.now(UTC),
            )
    except quality_repo.AttributionError as exc:
        return exc.text(lang), "form-message error", no_update
    except psycopg.Error as exc:
        log.warning("reading not matched: %s", type(exc).__name__)
        return t("screen.db_error", lang), "form-message error", no_update
    shown = t(f"colour.{colour}", lang) if colour else t("patient.not_assessed", lang)
    message = t("quality.attribute.done", lang, patient=mask_card((card or "").strip()), colour=shown)
    return message, "form-message ok", (done or 0) + 1
