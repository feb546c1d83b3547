"""Pieces the county and township screens share: the frame, the live refresh and the slow 90-day mix.

Each page builds its own component ids from a prefix, so both can be registered in one app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import psycopg
from dash import dcc, html, no_update

from cdm.i18n import t
from dashboard.access import Principal
from dashboard.language import request_language
from dashboard.overview import figures, panels, repo, tables
from dashboard.runtime import current

log = logging.getLogger(__name__)

CLOCK_FORMAT = "%Y-%m-%d %H:%M:%S"
MIX_REFRESH_S = 60  # the 90-day curve moves by the day: once a minute is plenty


@dataclass(frozen=True)
class Ids:
    """Component ids of one screen."""

    prefix: str

    def __getattr__(self, name: str) -> str:
        return f"{self.prefix}-{name.replace('_', '-')}"


def header(title: str, ids: Ids, *, refresh_s: int, lang: str, extra: object = None) -> html.Header:
    """The navy title bar with the update clock."""
    return html.Header(
        className="screen-header",
        children=[
            html.H1(title, id=ids.title),
            *([extra] if extra is not None else []),
            html.Div(
                className="clock",
                children=[
                    html.Div(id=ids.updated_at, className="updated-at"),
                    html.Div(t("dashboard.refresh_every", lang, seconds=refresh_s), className="refresh-note"),
                ],
            ),
        ],
    )


def panel(title: str, body_id: str, *, class_name: str = "panel") -> html.Section:
    """A white panel with a title and a body filled by a callback."""
    return html.Section(className=class_name, children=[html.H2(title), html.Div(id=body_id, className="panel-body")])


def graph_panel(title: str, graph_id: str) -> html.Section:
    """A white panel holding a chart."""
    graph = dcc.Graph(id=graph_id, config={"displayModeBar": False, "responsive": True})
    return html.Section(className="panel", children=[html.H2(title), graph])


def live_parts(ids: Ids, *, lang: str) -> list[object]:
    """Stale banner, KPI cards, indicator cards, and the mix and meters row."""
    return [
        html.Div(id=ids.stale, className="stale-banner", role="alert"),
        html.Div(id=ids.kpis, className="kpis"),
        html.Section(
            className="panel indicators-panel",
            children=[html.H2(t("indicator.title", lang)), html.Div(id=ids.indicators, className="indicators")],
        ),
    ]


def trend_row(ids: Ids, *, lang: str) -> html.Div:
    """The 90-day colour mix beside the meters."""
    return html.Div(
        className="trend-grid",
        children=[graph_panel(t("mix.title", lang), ids.mix), panel(t("meters.title", lang), ids.meters)],
    )


def intervals(ids: Ids, *, refresh_s: int) -> list[dcc.Interval]:
    """The live refresh and the slow one of the 90-day mix."""
    return [
        dcc.Interval(id=ids.refresh, interval=refresh_s * 1000, n_intervals=0),
        dcc.Interval(id=ids.mix_refresh, interval=MIX_REFRESH_S * 1000, n_intervals=0),
    ]


def draw_live(
    principal: Principal, *, alert_limit: int, with_townships: bool, chart_max_px: int | None = None
) -> tuple[object, ...]:
    """(updated-at, stale, kpis, indicators, meters, township chart, township table, alert feed) for `principal`;
    when the store is unreachable, keep the last picture and say so."""
    runtime = current()
    lang, tz = request_language(), runtime.settings.tz
    try:
        snap = repo.snapshot(runtime.pool, principal=principal, alert_limit=alert_limit)
    except psycopg.Error as exc:
        log.warning("screen not refreshed: %s", type(exc).__name__)
        return (no_update, t("dashboard.stale", lang), *([no_update] * 6))
    taken_at: datetime = snap.taken_at.astimezone(tz)
    chart = figures.township_chart(snap.townships, lang=lang, max_height=chart_max_px) if with_townships else no_update
    table = (
        tables.township_table(snap.townships, lang=lang, indicators=snap.indicators.by_township)
        if with_townships
        else no_update
    )
    return (
        t("dashboard.updated_at", lang, time=taken_at.strftime(CLOCK_FORMAT)),
        "",
        figures.kpi_cards(snap.totals, lang=lang),
        panels.indicator_cards(snap.indicators.total, refreshed_at=snap.indicators.refreshed_at, tz=tz, lang=lang),
        panels.meter_panel(snap.meters, lang=lang),
        chart,
        table,
        tables.alerts_table(snap.alerts, lang=lang, tz=tz, now=snap.taken_at),
    )


def draw_mix(principal: Principal) -> object:
    """The 90-day colour mix figure for `principal` (unchanged when the store is unreachable)."""
    runtime = current()
    try:
        mix = repo.colour_mix_of(runtime.pool, principal=principal)
    except psycopg.Error as exc:
        log.warning("colour mix not refreshed: %s", type(exc).__name__)
        return no_update
    return panels.mix_chart(mix, lang=request_language())
