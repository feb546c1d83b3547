"""The data-quality screen's tables (pure): refusals by meter and reason, the latest refusals, offline and
clock-skewed meters, and the rows of the unattributed-readings grid, in the catalogue's words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from cdm.i18n import t
from cdm.settings import Settings
from dashboard.quality.repo import QualityReport

TIME_FORMAT = "%Y-%m-%d %H:%M"


def _when(at: datetime | None, settings: Settings) -> str:
    return at.astimezone(settings.tz).strftime(TIME_FORMAT) if at else ""


def _table(headers: list[str], rows: list[list[Any]], lang: str) -> html.Table:
    body = [html.Tr([html.Td(cell) for cell in row]) for row in rows] or [
        html.Tr(className="empty", children=[html.Td(t("quality.empty", lang), colSpan=len(headers))])
    ]
    return html.Table(className="grid", children=[html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)])


def _heads(lang: str, *cols: str) -> list[str]:
    return [t(f"quality.col.{c}", lang) for c in cols]


def _kind(kind: str | None, lang: str) -> str:
    return t(f"quality.kind.{kind}", lang) if kind else ""


def _skew(seconds: float, lang: str) -> str:
    key = "quality.skew.ahead" if seconds > 0 else "quality.skew.behind"
    return t(key, lang, seconds=f"{abs(seconds):.0f}")


def _value(row: dict[str, Any]) -> str:
    if row["systolic"] is not None:
        return f"{row['systolic']}/{row['diastolic']} mmHg"
    if row["glucose_mmol"] is not None:
        return f"{row['glucose_mmol']:.1f} mmol/L"
    return ""


def _by_meter(report: QualityReport, settings: Settings) -> html.Table:
    lang = settings.language
    rows = [
        [
            r["device_uid"] or "—",
            _kind(r["kind"], lang),
            r["clinic"] or "",
            t(f"quarantine.{r['reason']}", lang),
            r["n"],
            _when(r["latest"], settings),
        ]
        for r in report.by_meter
    ]
    return _table(_heads(lang, "device", "kind", "clinic", "reason", "count", "latest"), rows, lang)


def _latest(report: QualityReport, settings: Settings) -> html.Table:
    lang = settings.language
    rows = [
        [
            _when(r["received_at"], settings),
            r["device_uid"] or "—",
            html.Div([html.Div(t(f"quarantine.{r['reason']}", lang)), html.Div(r["detail"], className="detail")]),
            html.Code(r["raw"], className="raw"),
        ]
        for r in report.latest
    ]
    return _table(_heads(lang, "latest", "device", "reason", "raw"), rows, lang)


def _offline(report: QualityReport, settings: Settings) -> html.Table:
    lang = settings.language
    rows = [
        [
            r["uid"],
            _kind(r["kind"], lang),
            r["clinic"],
            t(f"quality.status.{r['status']}", lang),
            _when(r["last_seen_at"], settings) or t("quality.never_seen", lang),
            f"{r['battery_pct']}%" if r["battery_pct"] is not None else "",
            f"{r['signal_dbm']} dBm" if r["signal_dbm"] is not None else "",
        ]
        for r in report.offline
    ]
    return _table(_heads(lang, "device", "kind", "clinic", "status", "last_seen", "battery", "signal"), rows, lang)


def _skewed(report: QualityReport, settings: Settings) -> html.Table:
    lang = settings.language
    rows = [
        [
            r["uid"],
            _kind(r["kind"], lang),
            r["clinic"],
            _skew(r["clock_skew_s"], lang),
            _when(r["clock_skew_at"], settings),
        ]
        for r in report.skewed
    ]
    return _table(_heads(lang, "device", "kind", "clinic", "skew", "latest"), rows, lang)


def unattributed_rows(report: QualityReport, settings: Settings) -> list[dict[str, Any]]:
    """The grid's rows; `key` names the reading (device id, seq, measured_at) for the match action."""
    lang = settings.language
    return [
        {
            "key": f"{r['device_id']}|{r['seq']}|{r['measured_at'].isoformat()}",
            "measured": _when(r["measured_at"], settings),
            "device": r["uid"],
            "clinic": r["clinic"],
            "reference": (t(f"quality.scheme.{r['patient_scheme']}", lang) + " " if r["patient_scheme"] else "")
            + (r["patient_ref"] or ""),
            "value": _value(r),
        }
        for r in report.unattributed
    ]


def tables(report: QualityReport, settings: Settings) -> tuple[Any, ...]:
    """The four tables and the grid's rows, in the screen's order."""
    return (
        _by_meter(report, settings),
        _latest(report, settings),
        _offline(report, settings),
        _skewed(report, settings),
        unattributed_rows(report, settings),
    )
