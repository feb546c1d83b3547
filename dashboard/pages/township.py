"""The township screen: the county screen's live picture scoped to one township, and its open alerts to
acknowledge, act on and close (alerts.workflow.service's transitions, each audited)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dash
import psycopg
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from alerts.workflow.logic import TransitionError
from cdm.i18n import t
from dashboard.access import Principal, Role, current_principal
from dashboard.alerts import repo as alerts_repo
from dashboard.alerts import service as alert_actions
from dashboard.language import page_title, request_language
from dashboard.overview import layout as screen
from dashboard.overview import repo, worklist
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/township", name="township", title=page_title("nav.township"))

IDS = screen.Ids("township")
WORK_ROWS = 50
CHOOSER = "township-choose"
SIGNATURE = "township-worklist-signature"
CLOSED = "township-closed"
CLOSED_ROWS = 20
# What a redraw carries over from each row (value and id of each): the outcome typed, the action chosen, the person
# picked.
CARRIED = (worklist.OUTCOME, worklist.ACTION, worklist.PICK)
# Each row's cells a refresh updates in place, (control, property), in the order refresh_rows fills them.
ROW_CELLS = (
    (worklist.STATUS, "children"),
    (worklist.STATUS, "className"),
    (worklist.ACKED, "children"),
    (worklist.DUE, "children"),
    (worklist.ACK, "disabled"),
    (worklist.ASSIGNEE, "children"),
)


def _every(kind: str) -> dict[str, object]:
    """The id pattern of one control in every row of the work list."""
    return worklist.row_id(kind, ALL)


def _fired(kind: str) -> dict[str, object]:
    """The id pattern of one control in the row whose control fired."""
    return worklist.row_id(kind, MATCH)


def _chooser(principal: Principal, lang: str) -> object:
    if principal.role not in (Role.COUNTY, Role.ADMIN):
        # One township only: the same component (so the callbacks have one input), not shown.
        only = [{"label": "", "value": principal.township_id}]
        return dcc.Dropdown(id=CHOOSER, options=only, value=principal.township_id, style={"display": "none"})
    options = repo.township_options(current().pool, principal=principal)
    return dcc.Dropdown(
        id=CHOOSER,
        options=[{"label": name, "value": tid} for tid, name in options],
        value=options[0][0] if options else None,
        clearable=False,
        placeholder=t("township.choose", lang),
        className="township-chooser",
    )


def _title(principal: Principal, lang: str) -> str:
    options = dict(repo.township_options(current().pool, principal=principal))
    name = options.get(principal.township_id or -1, "") if principal.role not in (Role.COUNTY, Role.ADMIN) else ""
    return t("township.title", lang, township=name or current().settings.county_name)


def layout(**_query: str) -> html.Div:
    """The frame; the callbacks fill it for the chosen (or the user's own) township."""
    settings = current().settings
    lang, refresh_s = request_language(settings), settings.dashboard_refresh_s
    principal = current_principal()
    chooser = _chooser(principal, lang)
    return html.Div(
        className="screen",
        children=[
            screen.header(_title(principal, lang), IDS, refresh_s=refresh_s, lang=lang, extra=chooser),
            *screen.live_parts(IDS, lang=lang),
            screen.panel(t("township.open_alerts", lang), IDS.worklist),
            screen.panel(t("alerts.recently_closed", lang), CLOSED),
            screen.trend_row(IDS, lang=lang),
            dcc.Store(id=SIGNATURE),
            *screen.intervals(IDS, refresh_s=refresh_s),
        ],
    )


@callback(Output(IDS.title, "children"), Input(CHOOSER, "value"))
def retitle(township_id: int | None) -> str:
    """The title names the township shown: the one a county user picks, as a township user's names its own."""
    runtime = current()
    names = dict(repo.township_options(runtime.pool, principal=current_principal()))
    name = names.get(township_id or -1) or runtime.settings.county_name
    return t("township.title", request_language(runtime.settings), township=name)


def _principal(township_id: int | None) -> Principal:
    return repo.within_township(current_principal(), township_id)


@callback(
    Output(IDS.updated_at, "children"),
    Output(IDS.stale, "children"),
    Output(IDS.kpis, "children"),
    Output(IDS.indicators, "children"),
    Output(IDS.meters, "children"),
    Input(IDS.refresh, "n_intervals"),
    Input(CHOOSER, "value"),
)
def refresh(_n: int, township_id: int | None) -> tuple[object, ...]:
    """Redraw the township's live picture."""
    return screen.draw_live(_principal(township_id), alert_limit=1, with_townships=False)[:5]


@callback(Output(IDS.mix, "figure"), Input(IDS.mix_refresh, "n_intervals"), Input(CHOOSER, "value"))
def refresh_mix(_n: int, township_id: int | None) -> object:
    """Redraw the township's 90-day colour mix."""
    return screen.draw_mix(_principal(township_id))


def _open_alerts(township_id: int | None) -> tuple[object, worklist.Policy]:
    with current().pool.connection() as conn:
        alerts = alerts_repo.open_alerts(conn, principal=_principal(township_id), limit=WORK_ROWS)
        return alerts, alerts_repo.escalation_policy(conn)


def _people(township_id: int | None) -> worklist.People:
    """Those the township's alerts can be assigned to (none for a team, which does not assign)."""
    principal = _principal(township_id)
    if principal.township_id is None:
        return []
    with current().pool.connection() as conn:
        return alerts_repo.assignable_people(conn, principal=principal, township_id=principal.township_id)


@callback(
    Output(IDS.worklist, "children"),
    Output(SIGNATURE, "data"),
    Input(IDS.refresh, "n_intervals"),
    Input(CHOOSER, "value"),
    State(SIGNATURE, "data"),
    *[State(_every(kind), prop) for kind in CARRIED for prop in ("value", "id")],
)
def refresh_worklist(
    _n: int,
    township_id: int | None,
    shown: object,
    typed: list[str | None],
    typed_ids: list[dict[str, int]],
    chosen: list[str | None],
    chosen_ids: list[dict[str, int]],
    picked: list[int | None],
    picked_ids: list[dict[str, int]],
) -> tuple[object, object]:
    """Redraw the open alerts only when other alerts are to be listed (new ones, closed ones), carrying over
    what was typed, the action chosen and the doctor picked in each row; a change of status or time left is
    refresh_rows' (cells only)."""
    runtime = current()
    lang, tz = request_language(), runtime.settings.tz
    try:
        alerts, policy = _open_alerts(township_id)
        people = _people(township_id)
    except psycopg.Error as exc:
        log.warning("township work list not refreshed: %s", type(exc).__name__)
        return no_update, no_update
    sig = [township_id, worklist.signature(alerts), [p[0] for p in people]]  # type: ignore[arg-type]
    if sig == shown and ctx.triggered_id == IDS.refresh:
        return no_update, no_update
    same = sig[0] == (shown or [None])[0]  # another township chosen: nothing carries over

    def carried(values: list[Any], ids: list[dict[str, int]]) -> dict[int, Any]:
        return {int(i["alert"]): v for i, v in zip(ids, values, strict=False) if v} if same else {}

    now = datetime.now(UTC)
    drawn = worklist.work_list(
        alerts,  # type: ignore[arg-type]
        lang=lang,
        tz=tz,
        now=now,
        policy=policy,
        typed=carried(typed, typed_ids),
        people=people,
        chosen=carried(chosen, chosen_ids),
        picked=carried(picked, picked_ids),
    )
    return drawn, sig


@callback(
    *[Output(_every(kind), prop) for kind, prop in ROW_CELLS],
    Input(IDS.refresh, "n_intervals"),
    State(CHOOSER, "value"),
    State(_every(worklist.STATUS), "id"),
    prevent_initial_call=True,
)
def refresh_rows(_n: int, township_id: int | None, row_ids: list[dict[str, int]]) -> tuple[list[object], ...]:
    """Update each listed alert's status, acknowledgement and countdown in place (the inputs are left alone)."""
    runtime = current()
    lang, tz, now = request_language(), runtime.settings.tz, datetime.now(UTC)
    try:
        alerts, policy = _open_alerts(township_id)
    except psycopg.Error as exc:
        log.warning("township alert rows not refreshed: %s", type(exc).__name__)
        alerts, policy = None, {}
    by_id = {} if alerts is None else {int(r["alert_id"]): r for _, r in alerts.iterrows()}  # type: ignore[attr-defined]
    columns: tuple[list[object], ...] = tuple([] for _ in ROW_CELLS)
    for row_id in row_ids:
        alert = by_id.get(int(row_id["alert"]))
        if alert is None:  # closed (it leaves with the next redraw) or not read: leave the row as it is
            for column in columns:
                column.append(no_update)
            continue
        status, acked, due, ack_disabled = worklist.row_cells(alert, policy=policy, now=now, lang=lang, tz=tz)
        assignee = worklist.assignee_text(alert, lang=lang)
        for column, value in zip(
            columns,
            (status, f"status status-{alert['status']}", acked, due, ack_disabled, assignee),
            strict=True,
        ):
            column.append(value)
    return columns


@callback(Output(CLOSED, "children"), Input(IDS.refresh, "n_intervals"), Input(CHOOSER, "value"))
def refresh_closed(_n: int, township_id: int | None) -> object:
    """The alerts closed in the last days, with their outcomes: where a closed alert goes."""
    runtime = current()
    try:
        with runtime.pool.connection() as conn:
            closed = alerts_repo.recently_closed(
                conn, principal=_principal(township_id), now=datetime.now(UTC), limit=CLOSED_ROWS
            )
    except psycopg.Error as exc:
        log.warning("recently closed alerts not refreshed: %s", type(exc).__name__)
        return no_update
    return worklist.closed_list(closed, lang=request_language(), tz=runtime.settings.tz)


def _on_alert(trigger: dict[str, Any]) -> dict[str, Any]:
    """Who does what to which alert, when and from where: the signed-in person, the row's alert, now, this screen."""
    return {
        "principal": current_principal(),
        "alert_id": int(trigger["alert"]),
        "now": datetime.now(UTC),
        "screen": "township",
    }


@callback(
    Output(_fired(worklist.MESSAGE), "children"),
    Input(_fired(worklist.ACK), "n_clicks"),
    Input(_fired(worklist.ACT), "n_clicks"),
    Input(_fired(worklist.CLOSE), "submit_n_clicks"),
    State(_fired(worklist.ACTION), "value"),
    State(_fired(worklist.OUTCOME), "value"),
    prevent_initial_call=True,
)
def act(ack: int | None, act_: int | None, close: int | None, action: str | None, outcome: str | None) -> str:
    """Acknowledge, record an action on, or close (after the confirmation) one alert, as the signed-in person
    (audited); every answer from the catalogue."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not (ack or act_ or close):
        return no_update  # type: ignore[no-any-return]
    move = {worklist.ACK: "acknowledge", worklist.ACT: "act", worklist.CLOSE: "close"}[str(trigger["type"])]
    runtime = current()
    lang = request_language()
    try:
        with runtime.pool.connection() as conn:
            alert_actions.apply(
                conn, move=move, action=action, outcome=(outcome or "").strip() or None, **_on_alert(trigger)
            )
    except alert_actions.Refused as exc:
        return t(exc.key, lang)
    except TransitionError:  # the workflow refused what the screen allowed: the alert changed meanwhile
        return t("alerts.refused.other", lang)
    return t("alerts.done.closed_moved" if move == "close" else f"alerts.done.{move}", lang)


@callback(
    Output(_fired(worklist.ASSIGN_MSG), "children"),
    Output(_fired(worklist.ASSIGNEE), "children", allow_duplicate=True),
    Input(_fired(worklist.ASSIGN), "n_clicks"),
    State(_fired(worklist.PICK), "value"),
    prevent_initial_call=True,
)
def assign(clicks: int | None, person: int | None) -> tuple[str, object]:
    """Assign one alert to the person picked, as the signed-in person (audited); the answer from the catalogue and,
    when done, the assignee's name in the row at once."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not clicks:
        return no_update, no_update  # type: ignore[return-value]
    runtime = current()
    lang = request_language()
    try:
        with runtime.pool.connection() as conn:
            alert_actions.assign(conn, assignee_id=person, lang=runtime.settings.language, **_on_alert(trigger))
            name = alerts_repo.person_name(conn, person or 0)
    except alert_actions.Refused as exc:
        return t(exc.key, lang), no_update
    except TransitionError:  # the alert changed meanwhile (closed by someone else)
        return t("alerts.refused.other", lang), no_update
    return t("alerts.done.assign", lang, name=name), name
