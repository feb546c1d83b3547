"""The data-quality screen's tables (pure): refusals by meter and reason, the latest refusals, offline and
clock-skewed meters, and the rows of the unattributed-readings grid, in the catalogue's words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from cdm.i18n import CATALOGUE, t
from cdm.settings import Settings
from dashboard.language import request_language
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


def by_meter_rows(report: QualityReport, settings: Settings) -> list[dict[str, Any]]:
    """Refusals by meter and reason, as grid rows."""
    lang = request_language(settings)
    return [
        {
            "device": r["device_uid"] or "—",
            "kind": _kind(r["kind"], lang),
            "clinic": r["clinic"] or "",
            "reason": t(f"quarantine.{r['reason']}", lang),
            "count": r["n"],
            "latest": _when(r["latest"], settings),
        }
        for r in report.by_meter
    ]


def _field_value(name: str, value: str, settings: Settings) -> str:
    if name in ("measured_at", "at", "sent_at"):
        try:
            return _when(datetime.fromisoformat(value), settings) or value
        except ValueError:
            return value
    return value


def _fields(row: dict[str, Any], settings: Settings) -> Any:
    """A refused message as labelled fields in the catalogue's words; escaped text when it is not JSON."""
    lang = request_language(settings)
    if row.get("fields") is None:
        return html.Div([t("quality.not_json", lang), html.Code(row["raw"], className="raw")])
    parts = []
    for name, value in row["fields"]:
        label = t(f"quality.field.{name}", lang) if f"quality.field.{name}" in CATALOGUE else name
        parts.append(html.Span([html.B(label + "："), _field_value(name, value, settings)], className="field"))
    return html.Div(parts, className="fields")


def _explain(row: dict[str, Any], lang: str) -> str:
    """What the reason means for this message, from its own fields (the store's English detail is not shown)."""
    if row["reason"] != "measured_in_future":
        return ""
    measured = dict(row.get("fields") or []).get("measured_at")
    try:
        ahead = (datetime.fromisoformat(measured or "") - row["received_at"]).total_seconds()
    except (TypeError, ValueError):
        return ""
    return t("quality.ahead_of_arrival", lang, seconds=f"{ahead:.0f}")


def _latest(report: QualityReport, settings: Settings) -> html.Table:
    lang = request_language(settings)
    rows = [
        [
            _when(r["received_at"], settings),
            r["device_uid"] or "—",
            html.Div([html.Div(t(f"quarantine.{r['reason']}", lang)), html.Div(_explain(r, lang), className="detail")]),
            _fields(r, settings),
        ]
        for r in report.latest
    ]
    return _table(_heads(lang, "latest", "device", "reason", "fields"), rows, lang)


def _meter_cells(row: dict[str, Any], lang: str) -> dict[str, Any]:
    """The cells a row of a meter grid starts with: the meter, its kind and its clinic."""
    return {"device": row["uid"], "kind": _kind(row["kind"], lang), "clinic": row["clinic"]}


def offline_rows(report: QualityReport, settings: Settings) -> list[dict[str, Any]]:
    """Meters offline, or registered but never connected (未激活), as grid rows."""
    lang = request_language(settings)
    return [
        {
            **_meter_cells(r, lang),
            "status": t(f"quality.status.{r['state']}", lang),
            "last_seen": _when(r["last_seen_at"], settings) or t("quality.never_seen", lang),
            "battery": f"{r['battery_pct']}%" if r["battery_pct"] is not None else "",
            "signal": f"{r['signal_dbm']} dBm" if r["signal_dbm"] is not None else "",
        }
        for r in report.offline
    ]


def silent_summary(report: QualityReport, lang: str) -> str:
    """How many meters are offline and how many never connected, whatever the list shows."""
    counts = report.silent
    return (
        f"{t('quality.status.offline', lang)} {counts['offline']} · {t('quality.status.inactive', lang)} "
        f"{counts['inactive']}"
    )


def skewed_rows(report: QualityReport, settings: Settings) -> list[dict[str, Any]]:
    """Meters whose clock is off, or whose readings were refused as from the future, as grid rows."""
    lang = request_language(settings)
    return [
        {
            **_meter_cells(r, lang),
            "skew": _skew(r["clock_skew_s"], lang) if r["clock_skew_s"] is not None else "",
            "future_refused": r["future_refused"] or "",
            "latest": _when(r["future_latest"] or r["clock_skew_at"], settings),
        }
        for r in report.skewed
    ]


def unattributed_rows(report: QualityReport, settings: Settings) -> list[dict[str, Any]]:
    """The grid's rows; `key` names the reading (device id, seq, measured_at) for the match action."""
    lang = request_language(settings)
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
    """The screen's contents in its order: grid rows of refusals by meter, the latest refusals (a table), grid rows
    of silent meters with their counts, of skewed meters, and of readings without a patient. Grids, not tables of
    components: the browser builds a few thousand Dash components in seconds, a grid's rows in milliseconds."""
    return (
        by_meter_rows(report, settings),
        _latest(report, settings),
        offline_rows(report, settings),
        silent_summary(report, request_language(settings)),
        skewed_rows(report, settings),
        unattributed_rows(report, settings),
    )
