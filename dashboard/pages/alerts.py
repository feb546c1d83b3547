"""The alert console: unclosed alerts (escalated and overdue first) and, per township, how fast alerts are
acknowledged and closed; scoped to the signed-in principal and refreshed live."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dash
import pandas as pd
import psycopg
from dash import Input, Output, callback, html, no_update

from cdm.i18n import t
from dashboard.access import current_principal
from dashboard.alerts import repo as alerts_repo
from dashboard.language import page_title, request_language
from dashboard.overview import layout as screen
from dashboard.overview.tables import (
    badge,
    format_ack,
    format_age,
    format_reasons,
    format_time,
    patient_link,
    timings_table,
    village_of,
)
from dashboard.overview.worklist import assignee_text
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/alerts", name="alerts", title=page_title("nav.alerts"))

IDS = screen.Ids("console")
ROWS = 40


def layout(**_query: str) -> html.Div:
    """The console's frame, filled by the refresh callback."""
    settings = current().settings
    lang, refresh_s = request_language(settings), settings.dashboard_refresh_s
    title = t("alerts.console.title", lang, county=settings.county_name)
    return html.Div(
        className="screen",
        children=[
            screen.header(title, IDS, refresh_s=refresh_s, lang=lang),
            html.Div(id=IDS.stale, className="stale-banner", role="alert"),
            screen.panel(t("alerts.console.timings", lang, days=alerts_repo.CONSOLE_DAYS), IDS.timings),
            screen.panel(t("alerts.console.open", lang), IDS.open),
            *screen.intervals(IDS, refresh_s=refresh_s)[:1],
        ],
    )


def _flags(alert: pd.Series, lang: str) -> list[html.Span]:
    flags = []
    if not pd.isna(alert["escalated_at"]):
        flags.append(html.Span(t("alerts.flag.escalated", lang), className="flag flag-escalated"))
    if not pd.isna(alert["overdue_at"]):
        flags.append(html.Span(t("alerts.flag.overdue", lang), className="flag flag-overdue"))
    return flags


def console_table(alerts: pd.DataFrame, *, lang: str, tz: ZoneInfo, now: datetime) -> html.Table | html.Div:
    """时间 已等待 乡镇 村 患者 级别 原因 状态 确认 负责医生 升级/超时."""
    if alerts.empty:
        return html.Div(t("dashboard.alerts.empty", lang), className="empty-note")
    keys = ("dashboard.col.time", "alerts.col.age", "dashboard.col.township", "dashboard.col.village")
    keys += ("dashboard.col.patient", "dashboard.col.severity", "dashboard.col.reasons", "dashboard.col.status")
    keys += ("alerts.col.ack", "alerts.col.assignee", "alerts.col.flags")
    rows = [
        html.Tr(
            [
                html.Td(format_time(a["opened_at"], tz), className="time"),
                html.Td(format_age(a["opened_at"], now, lang=lang), className="age"),
                html.Td(a["township"], className="place"),
                html.Td(village_of(a, lang=lang), className="place"),
                html.Td(patient_link(a), className="patient"),
                html.Td(badge(str(a["severity"]), lang=lang), className="sev"),
                html.Td(format_reasons(a["reasons"], a.get("reason_facts"), lang=lang, tz=tz), className="reasons"),
                html.Td(t(f"alert.status.{a['status']}", lang), className=f"status status-{a['status']}"),
                html.Td(format_ack(a, lang=lang, tz=tz), className="ack"),
                html.Td(
                    assignee_text(a, lang=lang),
                    className="assignee",
                    **{"data-label": t("alerts.assignee.label", lang)},
                ),
                html.Td(_flags(a, lang), className="flags"),
            ],
            className=f"alert-row alert-{a['status']}",
        )
        for _, a in alerts.iterrows()
    ]
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys]))
    return html.Table([header, html.Tbody(rows)], className="grid alerts console")


@callback(
    Output(IDS.updated_at, "children"),
    Output(IDS.stale, "children"),
    Output(IDS.timings, "children"),
    Output(IDS.open, "children"),
    Input(IDS.refresh, "n_intervals"),
)
def refresh(_n: int) -> tuple[object, ...]:
    """Redraw the console from the store."""
    runtime = current()
    lang, tz = request_language(), runtime.settings.tz
    principal, now = current_principal(), datetime.now(UTC)
    try:
        with runtime.pool.connection() as conn:
            open_alerts = alerts_repo.console_alerts(conn, principal=principal, limit=ROWS)
            timing = alerts_repo.timings(conn, principal=principal, now=now)
    except psycopg.Error as exc:
        log.warning("alert console not refreshed: %s", type(exc).__name__)
        return no_update, t("dashboard.stale", lang), no_update, no_update
    return (
        t("dashboard.updated_at", lang, time=now.astimezone(tz).strftime(screen.CLOCK_FORMAT)),
        "",
        timings_table(timing, lang=lang),
        console_table(open_alerts, lang=lang, tz=tz, now=now),
    )
