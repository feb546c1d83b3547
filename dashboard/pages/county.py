"""The county traffic-light screen (大屏): colour counts and shares per township, programme indicators, the
90-day colour mix, meters and the live alert feed, scoped to the signed-in principal and refreshed live."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from cdm.i18n import t
from dashboard.access import current_principal
from dashboard.overview import layout as screen
from dashboard.report import download as report_download
from dashboard.runtime import current

dash.register_page(
    __name__, path="/", name="county", title=lambda **_: t("dashboard.title", current().settings.language)
)

IDS = screen.Ids("county")
ALERT_ROWS = 10


def layout(**_query: str) -> html.Div:
    """The screen's frame; the refresh callbacks fill it as soon as the page loads, then keep it current."""
    settings = current().settings
    lang, refresh_s = settings.language, settings.dashboard_refresh_s
    return html.Div(
        className="screen",
        children=[
            screen.header(
                t("dashboard.header", lang, county=settings.county_name), IDS, refresh_s=refresh_s, lang=lang
            ),
            *screen.live_parts(IDS, lang=lang),
            html.Div(
                className="main-grid",
                children=[
                    screen.graph_panel(t("dashboard.chart.title", lang), IDS.chart),
                    screen.panel(t("dashboard.alerts.title", lang), IDS.alerts),
                ],
            ),
            screen.trend_row(IDS, lang=lang),
            screen.panel(t("dashboard.townships.title", lang), IDS.townships),
            report_download.panel(lang=lang),
            *screen.intervals(IDS, refresh_s=refresh_s),
        ],
    )


@callback(
    Output(IDS.updated_at, "children"),
    Output(IDS.stale, "children"),
    Output(IDS.kpis, "children"),
    Output(IDS.indicators, "children"),
    Output(IDS.meters, "children"),
    Output(IDS.chart, "figure"),
    Output(IDS.townships, "children"),
    Output(IDS.alerts, "children"),
    Input(IDS.refresh, "n_intervals"),
)
def refresh(_n_intervals: int) -> tuple[object, ...]:
    """Redraw the live parts of the screen from one snapshot of the store."""
    return screen.draw_live(current_principal(), alert_limit=ALERT_ROWS, with_townships=True)


@callback(Output(IDS.mix, "figure"), Input(IDS.mix_refresh, "n_intervals"))
def refresh_mix(_n_intervals: int) -> object:
    """Redraw the 90-day colour mix."""
    return screen.draw_mix(current_principal())


@callback(*report_download.OUTPUTS, *report_download.INPUTS, prevent_initial_call=True)
def download_report(n_clicks: int, month: str | None) -> tuple[object, str]:
    """The monthly report of the month picked (dashboard.report.download)."""
    return report_download.download(n_clicks, month)
