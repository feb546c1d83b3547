"""The county traffic-light screen: KPI cards, colour shares per township and the latest alerts, refreshed live."""

from __future__ import annotations

import logging
from datetime import datetime

import dash
import psycopg
from dash import Input, Output, callback, dcc, html, no_update

from cdm.i18n import t
from dashboard import figures, repo, tables
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(
    __name__, path="/", name="county", title=lambda **_: t("dashboard.title", current().settings.language)
)

# Component ids
REFRESH = "county-refresh"
UPDATED_AT = "county-updated-at"
STALE = "county-stale"
KPIS = "county-kpis"
CHART = "county-chart"
TOWNSHIPS = "county-townships"
ALERTS = "county-alerts"

ALERT_ROWS = 10
CLOCK_FORMAT = "%Y-%m-%d %H:%M:%S"


def _header(county: str, refresh_s: int, lang: str) -> html.Header:
    return html.Header(
        className="screen-header",
        children=[
            html.H1(t("dashboard.header", lang, county=county)),
            html.Div(
                className="clock",
                children=[
                    html.Div(id=UPDATED_AT, className="updated-at"),
                    html.Div(t("dashboard.refresh_every", lang, seconds=refresh_s), className="refresh-note"),
                ],
            ),
        ],
    )


def _panel(title: str, body_id: str) -> html.Section:
    return html.Section(className="panel", children=[html.H2(title), html.Div(id=body_id, className="panel-body")])


def layout(**_query: str) -> html.Div:
    """The screen's frame; the refresh callback fills it as soon as the page loads, then every refresh_s seconds."""
    settings = current().settings
    lang = settings.language
    chart = dcc.Graph(id=CHART, config={"displayModeBar": False, "responsive": True})
    return html.Div(
        className="screen",
        children=[
            _header(settings.county_name, settings.dashboard_refresh_s, lang),
            html.Div(id=STALE, className="stale-banner", role="alert"),
            html.Div(id=KPIS, className="kpis"),
            html.Div(
                className="main-grid",
                children=[
                    html.Section(className="panel", children=[html.H2(t("dashboard.chart.title", lang)), chart]),
                    _panel(t("dashboard.alerts.title", lang), ALERTS),
                ],
            ),
            _panel(t("dashboard.townships.title", lang), TOWNSHIPS),
            dcc.Interval(id=REFRESH, interval=settings.dashboard_refresh_s * 1000, n_intervals=0),
        ],
    )


@callback(
    Output(UPDATED_AT, "children"),
    Output(STALE, "children"),
    Output(KPIS, "children"),
    Output(CHART, "figure"),
    Output(TOWNSHIPS, "children"),
    Output(ALERTS, "children"),
    Input(REFRESH, "n_intervals"),
)
def refresh(_n_intervals: int) -> tuple[object, ...]:
    """Read the county's snapshot and draw it; when the store is unreachable keep the last picture and say so."""
    runtime = current()
    lang, tz = runtime.settings.language, runtime.settings.tz
    try:
        snapshot = repo.county_snapshot(runtime.pool, alert_limit=ALERT_ROWS)
    except psycopg.Error as exc:
        log.warning("county screen not refreshed: %s", type(exc).__name__)
        return no_update, t("dashboard.stale", lang), no_update, no_update, no_update, no_update
    taken_at: datetime = snapshot.taken_at.astimezone(tz)
    return (
        t("dashboard.updated_at", lang, time=taken_at.strftime(CLOCK_FORMAT)),
        "",
        figures.kpi_cards(snapshot.totals, lang=lang),
        figures.township_chart(snapshot.townships, lang=lang),
        tables.township_table(snapshot.townships, lang=lang),
        tables.alerts_table(snapshot.alerts, lang=lang, tz=tz),
    )
