"""Pure functions from the county's data to the screen's tables: townships in detail and the latest alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from dash import dcc, html

from assess.reasons import CHINA, joined
from cdm.i18n import t
from dashboard.indicators.logic import Indicator, empty_reason_key, format_rate
from dashboard.overview.figures import category_label, with_shares

TIME_FORMAT = "%m-%d %H:%M"
TOWNSHIP_COLUMNS = ("red", "yellow", "green")
TOWNSHIP_INDICATORS = ("bp_control", "glucose_control")


def format_reasons(
    codes: Iterable[str], facts: Mapping[str, Any] | None = None, *, lang: str = "zh", tz: tzinfo = CHINA
) -> str:
    """The reasons of an alert in words, each with its figure and target (assess.reasons), for one table cell."""
    return joined(codes, facts if isinstance(facts, Mapping) else None, lang=lang, tz=tz)


def format_notified(delivered: int, failed: int, total: int, *, lang: str = "zh") -> str:
    """'2/2 已送达', with the failures named when there are any."""
    if total == 0:
        return t("dashboard.notify.none", lang)
    text = t("dashboard.notify.delivered", lang, delivered=delivered, total=total)
    return f"{text} · {t('dashboard.notify.failed', lang, n=failed)}" if failed else text


def notified_state(delivered: int, failed: int, total: int) -> str:
    """'ok' when every notification arrived, 'failed' when one failed, else 'pending' (a CSS class suffix)."""
    if failed:
        return "failed"
    return "ok" if total and delivered == total else "pending"


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """A UTC moment as the screen shows it: local month-day hour:minute."""
    return moment.astimezone(tz).strftime(TIME_FORMAT)


def _header(labels: Iterable[str]) -> html.Thead:
    return html.Thead(html.Tr([html.Th(label) for label in labels]))


def _count_cell(count: int, share: float | None, category: str) -> html.Td:
    parts = [html.Span(f"{count:,}", className="num")]
    if share is not None:
        parts.append(html.Span(f"{share:.1f}%", className="share"))
    return html.Td(parts, className=f"cell-{category}" + (" cell-hot" if category == "red" and count else ""))


def township_table(
    counts: pd.DataFrame, *, lang: str = "zh", indicators: dict[int, dict[str, Indicator]] | None = None
) -> html.Table:
    """乡镇 | 管理人数 | 红 | 黄 | 绿 (count and share) | 未评估 | 血压控制率 | 血糖控制率, in the chart's order."""
    shared = with_shares(counts)
    labels = [t("dashboard.col.township", lang), t("dashboard.col.managed", lang)]
    labels += [category_label(c, lang) for c in TOWNSHIP_COLUMNS] + [category_label("not_assessed", lang)]
    if indicators is not None:
        labels += [t(f"indicator.{name}", lang) for name in TOWNSHIP_INDICATORS]
    rows = []
    for _, row in shared.iterrows():
        managed = int(row["managed"])
        cells = [html.Td(row["township"], className="name"), html.Td(f"{managed:,}", className="managed")]
        for category in (*TOWNSHIP_COLUMNS, "not_assessed"):
            share = float(row[f"share_{category}"]) if managed else None  # no share of nobody
            cells.append(_count_cell(int(row[category]), share, category))
        if indicators is not None:
            mine = indicators.get(int(row["township_id"]), {})
            cells += [_rate_cell(n, mine.get(n, Indicator(0, 0)), lang) for n in TOWNSHIP_INDICATORS]
        rows.append(html.Tr(cells, className=None if managed else "empty"))
    return html.Table([_header(labels), html.Tbody(rows)], className="grid townships")


def _rate_cell(name: str, value: Indicator, lang: str) -> html.Td:
    """A rate, or "—" with the reason beside it (never a bare dash)."""
    if value.rate is not None:
        return html.Td(format_rate(value), className="rate")
    reason = [html.Span(t(empty_reason_key(name, short=True), lang), className="rate-why")]
    return html.Td([format_rate(value), " ", *reason], className="rate", title=t(empty_reason_key(name), lang))


def format_age(opened_at: datetime, now: datetime, *, lang: str = "zh") -> str:
    """How long an alert has waited: minutes under an hour, hours under two days, then days."""
    minutes = max(0, int((now - opened_at).total_seconds() // 60))
    if minutes < 60:
        return t("age.minutes", lang, n=minutes)
    if minutes < 48 * 60:
        return t("age.hours", lang, n=minutes // 60)
    return t("age.days", lang, n=minutes // (24 * 60))


def format_ack(alert: pd.Series, *, lang: str, tz: ZoneInfo) -> str:
    """Who acknowledged the alert and when, or 未确认."""
    if pd.isna(alert["acknowledged_at"]):
        return t("alerts.not_acked", lang)
    return t("alerts.acked", lang, who=alert["acknowledged_by"] or "", time=format_time(alert["acknowledged_at"], tz))


def patient_link(alert: pd.Series) -> dcc.Link:
    """The (masked) patient as a link to their record (the record's page checks scope and audits the view)."""
    return dcc.Link(alert["patient"], href=f"/patient/{int(alert['patient_id'])}", className="patient-link")


def badge(severity: str, *, lang: str) -> html.Span:
    """The severity as a coloured badge."""
    return html.Span(t(f"dashboard.severity.{severity}", lang), className=f"badge sev-{severity}")


def village_of(alert: pd.Series, *, lang: str) -> str:
    """The alert's village, or (乡镇直管) for a patient registered at the township centre."""
    return t("dashboard.no_village", lang) if pd.isna(alert["village"]) else str(alert["village"])


def _alert_row(alert: pd.Series, *, lang: str, tz: ZoneInfo, now: datetime) -> html.Tr:
    delivered, failed, total = int(alert["delivered"]), int(alert["failed"]), int(alert["notifications"])
    waiting = alert["status"] != "closed"
    return html.Tr(
        [
            html.Td(format_time(alert["opened_at"], tz), className="time"),
            html.Td(format_age(alert["opened_at"], now, lang=lang) if waiting else "", className="age"),
            html.Td(alert["township"], className="place"),
            html.Td(village_of(alert, lang=lang), className="place"),
            html.Td(patient_link(alert), className="patient"),
            html.Td(badge(alert["severity"], lang=lang), className="sev"),
            html.Td(format_reasons(alert["reasons"], alert.get("reason_facts"), lang=lang, tz=tz), className="reasons"),
            html.Td(
                [
                    html.Div(t(f"alert.status.{alert['status']}", lang)),
                    html.Div(format_ack(alert, lang=lang, tz=tz), className="ack-note"),
                ],
                className=f"status status-{alert['status']}",
            ),
            html.Td(
                format_notified(delivered, failed, total, lang=lang),
                className=f"notified notified-{notified_state(delivered, failed, total)}",
            ),
        ],
        className=f"alert-row alert-{alert['status']}",
    )


def alerts_table(alerts: pd.DataFrame, *, lang: str = "zh", tz: ZoneInfo, now: datetime) -> html.Table | html.Div:
    """The latest alerts, newest first: 时间 已等待 乡镇 村 患者 级别 原因 状态 (and who acknowledged) 通知."""
    if alerts.empty:
        return html.Div(t("dashboard.alerts.empty", lang), className="empty-note")
    keys = ("dashboard.col.time", "alerts.col.age", "dashboard.col.township", "dashboard.col.village")
    keys += ("dashboard.col.patient", "dashboard.col.severity", "dashboard.col.reasons", "dashboard.col.status")
    keys += ("dashboard.col.notified",)
    rows = [_alert_row(alert, lang=lang, tz=tz, now=now) for _, alert in alerts.iterrows()]
    return html.Table([_header(t(k, lang) for k in keys), html.Tbody(rows)], className="grid alerts")


def format_duration(value: float | None, unit: str, *, lang: str = "zh") -> str:
    """A median or percentile in minutes or hours, or — when no alert got that far."""
    if value is None or pd.isna(value):
        return t("duration.none", lang)
    return t(f"duration.{unit}", lang, n=float(value))


def timings_table(timings: pd.DataFrame, *, lang: str = "zh") -> html.Table | html.Div:
    """Per township: 发出 未关闭 升级, time to acknowledge and to close (median and 90th percentile)."""
    if timings.empty:
        return html.Div(t("dashboard.alerts.empty", lang), className="empty-note")
    keys = ("dashboard.col.township", "alerts.col.opened", "alerts.col.still_open", "alerts.col.escalated")
    keys += ("alerts.col.ack_median", "alerts.col.ack_p90", "alerts.col.close_median", "alerts.col.close_p90")
    rows = []
    for _, row in timings.iterrows():
        rows.append(
            html.Tr(
                [
                    html.Td(row["township"], className="name"),
                    html.Td(f"{int(row['opened']):,}", className="num"),
                    html.Td(f"{int(row['still_open']):,}", className="num"),
                    html.Td(f"{int(row['escalated']):,}", className="num" + (" cell-hot" if row["escalated"] else "")),
                    html.Td(format_duration(row["ack_median_min"], "minutes", lang=lang), className="dur"),
                    html.Td(format_duration(row["ack_p90_min"], "minutes", lang=lang), className="dur"),
                    html.Td(format_duration(row["close_median_h"], "hours", lang=lang), className="dur"),
                    html.Td(format_duration(row["close_p90_h"], "hours", lang=lang), className="dur"),
                ]
            )
        )
    return html.Table([_header(t(k, lang) for k in keys), html.Tbody(rows)], className="grid timings")
