"""The township's open alerts as a work list (pure: data in, components out), each row with its actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from dash import dcc, html

from alerts.workflow.logic import ACTIONS
from cdm.i18n import t
from dashboard.alerts.logic import due_text_key
from dashboard.overview.tables import badge, format_ack, format_age, format_reasons, format_time, village_of

ACK, ACT, CLOSE, ACTION, OUTCOME, MESSAGE = "wl-ack", "wl-act", "wl-close", "wl-action", "wl-outcome", "wl-msg"
# Cells a refresh updates in place (pattern-matching outputs), so the row and what is typed in it stay.
STATUS, ACKED, DUE = "wl-status", "wl-acked", "wl-due"
# Assigning to a named doctor: the person picked, the button, its answer, and the cell naming the assignee.
PICK, ASSIGN, ASSIGN_MSG, ASSIGNEE = "wl-pick", "wl-assign", "wl-assign-msg", "wl-assignee"
People = list[tuple[int, str, str]]  # (account id, username, name) of those an alert can be assigned to
Policy = dict[tuple[str, str], timedelta]


def row_id(kind: str, alert_id: object) -> dict[str, object]:
    """The pattern-matching id of one control of one alert's row (an alert's id; in a callback, dash's ALL for the
    control in every row or MATCH for the one in the row that fired)."""
    return {"type": kind, "alert": alert_id}


def signature(alerts: pd.DataFrame) -> list[int]:
    """What decides whether the list must be redrawn: which alerts it holds. A change of status or of the time
    left updates the row's cells in place (row_cells), never the row, so an outcome being typed stays."""
    return [int(r["alert_id"]) for _, r in alerts.iterrows()]


def due_text(alert: pd.Series, *, policy: Policy, now: datetime, lang: str) -> str:
    """The time left before the alert escalates (or that it has), in the reader's language."""
    severity = str(alert["severity"])
    key, values = due_text_key(
        status=str(alert["status"]),
        opened_at=alert["opened_at"],
        escalated_at=None if pd.isna(alert["escalated_at"]) else alert["escalated_at"],
        overdue_at=None if pd.isna(alert["overdue_at"]) else alert["overdue_at"],
        ack_after=policy.get((severity, "ack")),
        action_after=policy.get((severity, "action")),
        now=now,
    )
    return t(key, lang, **values)


def row_cells(
    alert: pd.Series, *, policy: Policy, now: datetime, lang: str, tz: ZoneInfo
) -> tuple[str, str, str, bool]:
    """(status, acknowledged by, escalation countdown, acknowledge button disabled) of one row."""
    status = str(alert["status"])
    due = due_text(alert, policy=policy, now=now, lang=lang)
    return t(f"alert.status.{status}", lang), format_ack(alert, lang=lang, tz=tz), due, status != "open"


def assignee_text(alert: pd.Series, *, lang: str) -> str:
    """The name of the doctor the alert is assigned to, or that nobody is yet."""
    name = alert.get("assignee")
    return t("alerts.assignee.none", lang) if name is None or pd.isna(name) else str(name)


def person_label(username: str, name: str) -> str:
    """A person as the assign list names them: the name, and the account when it says something more."""
    return name if name == username else f"{name}（{username}）"


def _assign(alert_id: int, people: People, *, lang: str, picked: int | None = None) -> list[object]:
    if not people:  # a family-doctor team does not assign
        return []
    return [
        dcc.Dropdown(
            id=row_id(PICK, alert_id),
            options=[{"label": person_label(u, n), "value": i} for i, u, n in people],
            value=picked if picked in {i for i, _, _ in people} else None,  # picked before the list was redrawn
            placeholder=t("alerts.assign_hint", lang),
            searchable=False,
            className="wl-pick",
        ),
        html.Button(t("alerts.button.assign", lang), id=row_id(ASSIGN, alert_id), className="btn btn-assign"),
        html.Span(id=row_id(ASSIGN_MSG, alert_id), className="wl-assign-msg"),
    ]


def _actions(
    alert: pd.Series,
    *,
    lang: str,
    typed: dict[int, str] | None = None,
    people: People | None = None,
    chosen: dict[int, str] | None = None,
    picked: dict[int, int] | None = None,
) -> html.Div:
    alert_id = int(alert["alert_id"])
    action = (chosen or {}).get(alert_id)
    return html.Div(
        className="wl-actions",
        children=[
            html.Button(
                t("alerts.button.acknowledge", lang),
                id=row_id(ACK, alert_id),
                className="btn btn-ack",
                disabled=alert["status"] != "open",
            ),
            dcc.Dropdown(
                id=row_id(ACTION, alert_id),
                options=[{"label": t(f"alerts.action.{a}", lang), "value": a} for a in ACTIONS],
                value=action if action in ACTIONS else ACTIONS[0],
                clearable=False,
                searchable=False,
                className="wl-action",
            ),
            html.Button(t("alerts.button.act", lang), id=row_id(ACT, alert_id), className="btn btn-act"),
            dcc.Input(
                id=row_id(OUTCOME, alert_id),
                placeholder=t("alerts.outcome_hint", lang),
                className="wl-outcome",
                value=(typed or {}).get(alert_id),  # what was typed before the list was redrawn
                debounce=False,
                maxLength=200,
            ),
            dcc.ConfirmDialogProvider(
                html.Button(t("alerts.button.close", lang), className="btn btn-close"),
                id=row_id(CLOSE, alert_id),
                message=t("alerts.confirm_close", lang),
            ),
            html.Span(id=row_id(MESSAGE, alert_id), className="wl-msg"),
            *_assign(alert_id, people or [], lang=lang, picked=(picked or {}).get(alert_id)),
        ],
    )


WORK_LIST_COLUMNS = (
    "dashboard.col.time",
    "alerts.col.age",
    "dashboard.col.village",
    "dashboard.col.patient",
    "dashboard.col.severity",
    "dashboard.col.reasons",
    "dashboard.col.status",
    "alerts.col.ack",
    "alerts.col.due",
    "alerts.col.assignee",
    "alerts.col.actions",
)


def work_list(
    alerts: pd.DataFrame,
    *,
    lang: str,
    tz: ZoneInfo,
    now: datetime,
    policy: Policy | None = None,
    typed: dict[int, str] | None = None,
    people: People | None = None,
    chosen: dict[int, str] | None = None,
    picked: dict[int, int] | None = None,
) -> html.Table | html.Div:
    """时间 已等待 村 患者 级别 原因 状态 确认 升级 负责医生 处置: the longest-waiting alert first; `people`, those
    the alerts can be assigned to (none: no assigning); `typed`, `chosen`, `picked`: each row's outcome, action and
    doctor as the person left them before a redraw."""
    if alerts.empty:
        return html.Div(t("dashboard.alerts.empty", lang), className="empty-note")
    rows = []
    for _, alert in alerts.iterrows():
        status, alert_id = str(alert["status"]), int(alert["alert_id"])
        status_text, acked, due, _ = row_cells(alert, policy=policy or {}, now=now, lang=lang, tz=tz)
        patient = dcc.Link(alert["patient"], href=f"/patient/{int(alert['patient_id'])}", className="patient-link")
        rows.append(
            html.Tr(
                [
                    html.Td(format_time(alert["opened_at"], tz), className="time"),
                    html.Td(format_age(alert["opened_at"], now, lang=lang), className="age"),
                    html.Td(village_of(alert, lang=lang), className="place"),
                    html.Td(patient, className="patient"),
                    html.Td(badge(str(alert["severity"]), lang=lang), className="sev"),
                    html.Td(
                        format_reasons(alert["reasons"], alert.get("reason_facts"), lang=lang, tz=tz),
                        className="reasons",
                    ),
                    html.Td(status_text, id=row_id(STATUS, alert_id), className=f"status status-{status}"),
                    html.Td(acked, id=row_id(ACKED, alert_id), className="ack"),
                    html.Td(due, id=row_id(DUE, alert_id), className="due"),
                    html.Td(
                        assignee_text(alert, lang=lang),
                        id=row_id(ASSIGNEE, alert_id),
                        className="assignee",
                        **{"data-label": t("alerts.assignee.label", lang)},  # said on a phone's card
                    ),
                    html.Td(
                        _actions(alert, lang=lang, typed=typed, people=people, chosen=chosen, picked=picked),
                        className="acts",
                    ),
                ],
                id=f"alert-row-{int(alert['alert_id'])}",
                className=f"alert-row alert-{status}",
            )
        )
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in WORK_LIST_COLUMNS]))
    return html.Table([header, html.Tbody(rows)], className="grid alerts worklist")


def closed_list(closed: pd.DataFrame, *, lang: str, tz: ZoneInfo) -> html.Table | html.Div:
    """The alerts closed lately: 关闭时间 村 患者 关闭人 处置结果, the newest first."""
    if closed.empty:
        return html.Div(t("alerts.recently_closed.empty", lang), className="empty-note")
    keys = ("alerts.col.closed_at", "dashboard.col.village", "dashboard.col.patient", "alerts.col.closed_by")
    keys += ("alerts.col.outcome",)
    rows = [
        html.Tr(
            [
                html.Td(format_time(c["closed_at"], tz), className="time"),
                html.Td(village_of(c, lang=lang), className="place"),
                html.Td(dcc.Link(c["patient"], href=f"/patient/{int(c['patient_id'])}", className="patient-link")),
                html.Td(str(c["closed_by"] or ""), className="who"),
                html.Td(str(c["outcome"] or ""), className="outcome"),
            ],
            id=f"closed-row-{int(c['alert_id'])}",
        )
        for _, c in closed.iterrows()
    ]
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys]))
    return html.Table([header, html.Tbody(rows)], className="grid alerts closed-list")
