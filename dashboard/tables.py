"""Pure functions from the county's data to the screen's tables: townships in detail and the latest alerts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from dash import html

from cdm.i18n import t
from dashboard.figures import category_label, with_shares

TIME_FORMAT = "%m-%d %H:%M"
TOWNSHIP_COLUMNS = ("red", "yellow", "green")


def format_reasons(codes: Iterable[str], *, lang: str = "zh") -> str:
    """The reason codes of an alert in words from the catalogue, joined for one table cell."""
    return "；".join(t(f"reason.{code}", lang) for code in codes)


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


def township_table(counts: pd.DataFrame, *, lang: str = "zh") -> html.Table:
    """乡镇 | 管理人数 | 红 | 黄 | 绿 (count and share) | 未评估, in the chart's order."""
    shared = with_shares(counts)
    labels = [t("dashboard.col.township", lang), t("dashboard.col.managed", lang)]
    labels += [category_label(c, lang) for c in TOWNSHIP_COLUMNS] + [category_label("not_assessed", lang)]
    rows = []
    for _, row in shared.iterrows():
        managed = int(row["managed"])
        cells = [html.Td(row["township"], className="name"), html.Td(f"{managed:,}", className="managed")]
        for category in (*TOWNSHIP_COLUMNS, "not_assessed"):
            share = float(row[f"share_{category}"]) if managed else None  # no share of nobody
            cells.append(_count_cell(int(row[category]), share, category))
        rows.append(html.Tr(cells, className=None if managed else "empty"))
    return html.Table([_header(labels), html.Tbody(rows)], className="grid townships")


def _alert_row(alert: pd.Series, *, lang: str, tz: ZoneInfo) -> html.Tr:
    delivered, failed, total = int(alert["delivered"]), int(alert["failed"]), int(alert["notifications"])
    return html.Tr(
        [
            html.Td(format_time(alert["opened_at"], tz), className="time"),
            html.Td(alert["township"], className="place"),
            html.Td(
                t("dashboard.no_village", lang) if pd.isna(alert["village"]) else alert["village"], className="place"
            ),
            html.Td(alert["patient"], className="patient"),
            html.Td(
                html.Span(
                    t(f"dashboard.severity.{alert['severity']}", lang), className=f"badge sev-{alert['severity']}"
                ),
                className="sev",
            ),
            html.Td(format_reasons(alert["reasons"], lang=lang), className="reasons"),
            html.Td(t(f"alert.status.{alert['status']}", lang), className=f"status status-{alert['status']}"),
            html.Td(
                format_notified(delivered, failed, total, lang=lang),
                className=f"notified notified-{notified_state(delivered, failed, total)}",
            ),
        ]
    )


def alerts_table(alerts: pd.DataFrame, *, lang: str = "zh", tz: ZoneInfo) -> html.Table | html.Div:
    """The latest alerts, newest first: 时间 乡镇 村 患者 级别 原因 状态 通知."""
    if alerts.empty:
        return html.Div(t("dashboard.alerts.empty", lang), className="empty-note")
    keys = ("time", "township", "village", "patient", "severity", "reasons", "status", "notified")
    rows = [_alert_row(alert, lang=lang, tz=tz) for _, alert in alerts.iterrows()]
    return html.Table([_header(t(f"dashboard.col.{k}", lang) for k in keys), html.Tbody(rows)], className="grid alerts")
