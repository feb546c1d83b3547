"""The township's open alerts as a work list (pure: data in, components out), each row with its actions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from dash import dcc, html

from alerts.workflow.logic import ACTIONS
from cdm.i18n import t
from dashboard.overview.tables import badge, format_ack, format_age, format_reasons, format_time, village_of

ACK, ACT, CLOSE, ACTION, OUTCOME, MESSAGE = "wl-ack", "wl-act", "wl-close", "wl-action", "wl-outcome", "wl-msg"


def row_id(kind: str, alert_id: int) -> dict[str, object]:
    """The pattern-matching id of one control of one alert's row."""
    return {"type": kind, "alert": alert_id}


def signature(alerts: pd.DataFrame) -> list[list[object]]:
    """What decides whether the list must be redrawn (redrawing while someone types an outcome loses it)."""
    return [[int(r["alert_id"]), str(r["status"]), int(r["occurrences"])] for _, r in alerts.iterrows()]


def _actions(alert: pd.Series, *, lang: str) -> html.Div:
    alert_id = int(alert["alert_id"])
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
                value=ACTIONS[0],
                clearable=False,
                searchable=False,
                className="wl-action",
            ),
            html.Button(t("alerts.button.act", lang), id=row_id(ACT, alert_id), className="btn btn-act"),
            dcc.Input(
                id=row_id(OUTCOME, alert_id),
                placeholder=t("alerts.outcome_hint", lang),
                className="wl-outcome",
                debounce=False,
                maxLength=200,
            ),
            html.Button(t("alerts.button.close", lang), id=row_id(CLOSE, alert_id), className="btn btn-close"),
            html.Span(id=row_id(MESSAGE, alert_id), className="wl-msg"),
        ],
    )


def work_list(alerts: pd.DataFrame, *, lang: str, tz: ZoneInfo, now: datetime) -> html.Table | html.Div:
    """时间 已等待 村 患者 级别 原因 状态 确认 处置: the longest-waiting alert first."""
    if alerts.empty:
        return html.Div(t("dashboard.alerts.empty", lang), className="empty-note")
    keys = ("dashboard.col.time", "alerts.col.age", "dashboard.col.village", "dashboard.col.patient")
    keys += ("dashboard.col.severity", "dashboard.col.reasons", "dashboard.col.status", "alerts.col.ack")
    keys += ("alerts.col.actions",)
    rows = []
    for _, alert in alerts.iterrows():
        status = str(alert["status"])
        patient = dcc.Link(alert["patient"], href=f"/patient/{int(alert['patient_id'])}", className="patient-link")
        rows.append(
            html.Tr(
                [
                    html.Td(format_time(alert["opened_at"], tz), className="time"),
                    html.Td(format_age(alert["opened_at"], now, lang=lang), className="age"),
                    html.Td(village_of(alert, lang=lang), className="place"),
                    html.Td(patient, className="patient"),
                    html.Td(badge(str(alert["severity"]), lang=lang), className="sev"),
                    html.Td(format_reasons(alert["reasons"], lang=lang), className="reasons"),
                    html.Td(t(f"alert.status.{status}", lang), className=f"status status-{status}"),
                    html.Td(format_ack(alert, lang=lang, tz=tz), className="ack"),
                    html.Td(_actions(alert, lang=lang), className="acts"),
                ],
                id=f"alert-row-{int(alert['alert_id'])}",
                className=f"alert-row alert-{status}",
            )
        )
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys]))
    return html.Table([header, html.Tbody(rows)], className="grid alerts worklist")
