"""The patient detail screen's trend charts (pure): BP and glucose over time, the patient's target band from the
guideline edition, the urgent-referral lines, and a ring round each reading that changed the colour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from cdm.i18n import t
from cdm.thresholds import BpTarget, Thresholds
from dashboard.patient.repo import reading_key

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
SYSTOLIC, DIASTOLIC = "#c62828", "#1565c0"
FASTING, NON_FASTING = "#6a1b9a", "#ef6c00"
BAND = "rgba(46, 125, 50, 0.14)"
CRITICAL = "#b71c1c"
HEIGHT = 340


def _frame(fig: go.Figure, *, title: str, y_title: str, empty: bool, lang: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 18}},
        font={"family": FONT, "size": 15},
        height=HEIGHT,
        margin={"l": 60, "r": 20, "t": 70, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        yaxis={"title": y_title, "gridcolor": "#e5e7eb"},
        xaxis={"gridcolor": "#e5e7eb", "tickformat": "%m-%d", "hoverformat": "%Y-%m-%d %H:%M", "visible": not empty},
    )
    if empty:
        fig.add_annotation(
            text=t("patient.chart.empty", lang),
            showarrow=False,
            font={"size": 18},
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
    return fig


def _changed(points: Sequence[dict[str, Any]], value: str, changed: set[str], tz: ZoneInfo, lang: str) -> go.Scatter:
    marked = [r for r in points if reading_key(r) in changed and r[value] is not None]
    return go.Scatter(
        x=[r["measured_at"].astimezone(tz) for r in marked],
        y=[r[value] for r in marked],
        mode="markers",
        name=t("patient.marker.changed", lang),
        marker={"symbol": "circle-open", "size": 20, "color": "#111111", "line": {"width": 3}},
        hoverinfo="skip",
    )


def _series(x: list[Any], y: list[Any], name: str, colour: str, *, size: int) -> go.Scatter:
    return go.Scatter(
        x=x, y=y, mode="lines+markers", name=name, line={"color": colour, "width": 3}, marker={"size": size}
    )


def _urgent_line(fig: go.Figure, value: float, text: str) -> None:
    fig.add_hline(
        y=value, line={"color": CRITICAL, "dash": "dot", "width": 2}, annotation_text=text,
        annotation_position="top left",
    )  # fmt: skip


def _title(title: str, target: str) -> str:
    return f"{title}<br>{target}"  # the target on a line of its own: a phone's chart is too narrow for both


@dataclass(frozen=True, slots=True)
class ChartView:
    """What both charts are drawn with: the edition's thresholds, the readings that changed the colour (their keys),
    the days shown, the viewer's language and the county's time zone."""

    thresholds: Thresholds
    changed: set[str]
    days: int
    lang: str
    tz: ZoneInfo


def bp_figure(readings: Sequence[dict[str, Any]], *, target: BpTarget, view: ChartView) -> go.Figure:
    """Systolic and diastolic over time, the target band below the patient's target and the urgent line."""
    thresholds, changed, lang, tz = view.thresholds, view.changed, view.lang, view.tz
    bp = [r for r in readings if r["kind"] == "bp"]
    x = [r["measured_at"].astimezone(tz) for r in bp]
    fig = go.Figure()
    fig.add_hrect(y0=60, y1=target.systolic, fillcolor=BAND, line_width=0, layer="below")
    for value, colour, dash in ((target.systolic, SYSTOLIC, "dash"), (target.diastolic, DIASTOLIC, "dash")):
        fig.add_hline(y=value, line={"color": colour, "dash": dash, "width": 1.5})
    _urgent_line(fig, thresholds.bp_critical_systolic, f"≥{thresholds.bp_critical_systolic}")
    for field, colour in (("systolic", SYSTOLIC), ("diastolic", DIASTOLIC)):
        fig.add_trace(_series(x, [r[field] for r in bp], t(f"patient.bp.{field}", lang), colour, size=8))
    fig.add_trace(_changed(bp, "systolic", changed, tz, lang))
    title = _title(
        t("patient.bp.title", lang, days=view.days),
        t("patient.bp.target", lang, systolic=target.systolic, diastolic=target.diastolic, edition=thresholds.edition),
    )
    fig.update_yaxes(range=[40, max([200, *[r["systolic"] or 0 for r in bp]]) + 10])
    return _frame(fig, title=title, y_title="mmHg", empty=not bp, lang=lang)


def glucose_figure(readings: Sequence[dict[str, Any]], *, view: ChartView) -> go.Figure:
    """Fasting and non-fasting glucose over time, the fasting target band, and the urgent high and low lines."""
    thresholds, changed, lang, tz = view.thresholds, view.changed, view.lang, view.tz
    glucose = [r for r in readings if r["kind"] == "glucose" and r["glucose_mmol"] is not None]
    fig = go.Figure()
    fig.add_hrect(
        y0=thresholds.hypo_level1, y1=thresholds.fasting_glucose_target, fillcolor=BAND, line_width=0, layer="below"
    )
    fig.add_hline(y=thresholds.nonfasting_glucose_target, line={"color": NON_FASTING, "dash": "dash", "width": 1.5})
    for value in (thresholds.glucose_critical_high, thresholds.glucose_critical_low):
        _urgent_line(fig, value, f"{value}")
    for context, colour, key in (
        ("fasting", FASTING, "patient.glucose.fasting"),
        ("non_fasting", NON_FASTING, "patient.glucose.non_fasting"),
    ):
        points = [r for r in glucose if r["glucose_context"] == context]
        x = [r["measured_at"].astimezone(tz) for r in points]
        fig.add_trace(_series(x, [r["glucose_mmol"] for r in points], t(key, lang), colour, size=9))
    fig.add_trace(_changed(glucose, "glucose_mmol", changed, tz, lang))
    title = _title(
        t("patient.glucose.title", lang, days=view.days),
        t(
            "patient.glucose.target",
            lang,
            fasting=thresholds.fasting_glucose_target,
            nonfasting=thresholds.nonfasting_glucose_target,
        ),
    )
    fig.update_yaxes(range=[0, max([20.0, *[r["glucose_mmol"] for r in glucose]]) + 1])
    return _frame(fig, title=title, y_title="mmol/L", empty=not glucose, lang=lang)
