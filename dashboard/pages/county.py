"""The county traffic-light screen (大屏): colour counts and shares per township, programme indicators, the
90-day colour mix, meters and the live alert feed, scoped to the signed-in principal and refreshed live."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from cdm.i18n import t
from dashboard.access import Role, current_principal
from dashboard.language import page_title, request_language
from dashboard.overview import layout as screen
from dashboard.overview import repo as overview_repo
from dashboard.report import download as report_download
from dashboard.runtime import current

dash.register_page(__name__, path="/", name="county", title=page_title("dashboard.title"))

IDS = screen.Ids("county")
ALERT_ROWS = 10
ROTATE = "county-kiosk-rotate"
ROTATING = ("county-kiosk-main", "county-kiosk-trend", "county-kiosk-townships")
KIOSK_TURN_S = 20  # long enough to read a panel from across the room
KIOSK = "county-kiosk"  # whether the page is the wall screen (its townships chart then keeps to KIOSK_CHART_PX)
KIOSK_CHART_PX = 550  # what the first turn leaves the chart of a 1920x1080 display, under the cards and indicators


def _own_title(lang: str) -> str:
    """The county's title, or a township user's own township's name (never the county's on their view)."""
    settings, principal = current().settings, current_principal()
    if principal.role is Role.TOWNSHIP and principal.township_id is not None:
        names = dict(overview_repo.township_options(current().pool, principal=principal))
        return t("dashboard.header", lang, county=names.get(principal.township_id, settings.county_name))
    return t("dashboard.header", lang, county=settings.county_name)


def layout(kiosk: str | None = None, **_query: str) -> html.Div:
    """The screen's frame; the refresh callbacks fill it as soon as the page loads, then keep it current.
    `?kiosk=1`: the wall display, one 1920x1080 screen without scrolling, its panels taking turns."""
    settings = current().settings
    lang, refresh_s = request_language(settings), settings.dashboard_refresh_s
    head = screen.header(_own_title(lang), IDS, refresh_s=refresh_s, lang=lang)
    main = html.Div(
        className="main-grid",
        children=[
            screen.graph_panel(t("dashboard.chart.title", lang), IDS.chart),
            screen.panel(t("dashboard.alerts.title", lang), IDS.alerts),
        ],
    )
    townships = screen.panel(t("dashboard.townships.title", lang), IDS.townships)
    if kiosk in ("1", "true", "yes"):
        turns = [
            html.Div(part, id=ROTATING[i], className="kiosk-turn")
            for i, part in enumerate((main, screen.trend_row(IDS, lang=lang), townships))
        ]
        return html.Div(
            className="screen kiosk",
            children=[
                head,
                *screen.live_parts(IDS, lang=lang),
                *turns,
                *screen.intervals(IDS, refresh_s=refresh_s),
                dcc.Interval(id=ROTATE, interval=KIOSK_TURN_S * 1000, n_intervals=0),
                dcc.Store(id=KIOSK, data=True),
            ],
        )
    return html.Div(
        className="screen",
        children=[
            head,
            *screen.live_parts(IDS, lang=lang),
            main,
            screen.trend_row(IDS, lang=lang),
            townships,
            report_download.panel(lang=lang),
            *screen.intervals(IDS, refresh_s=refresh_s),
            dcc.Store(id=KIOSK, data=False),
        ],
    )


@callback(*(Output(i, "style") for i in ROTATING), Input(ROTATE, "n_intervals"))
def rotate(n: int) -> tuple[dict[str, str], ...]:
    """Show one of the wall's panels at a time, in turn."""
    shown = (n or 0) % len(ROTATING)
    return tuple({} if i == shown else {"display": "none"} for i in range(len(ROTATING)))


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
    State(KIOSK, "data"),
)
def refresh(_n_intervals: int, kiosk: bool | None) -> tuple[object, ...]:
    """Redraw the live parts of the screen from one snapshot of the store (on the wall, a chart that fits)."""
    chart_max = KIOSK_CHART_PX if kiosk else None
    return screen.draw_live(current_principal(), alert_limit=ALERT_ROWS, with_townships=True, chart_max_px=chart_max)


@callback(Output(IDS.mix, "figure"), Input(IDS.mix_refresh, "n_intervals"))
def refresh_mix(_n_intervals: int) -> object:
    """Redraw the 90-day colour mix."""
    return screen.draw_mix(current_principal())


@callback(*report_download.OUTPUTS, *report_download.INPUTS, prevent_initial_call=True)
def download_report(n_clicks: int, month: str | None) -> tuple[object, str]:
    """The monthly report of the month picked (dashboard.report.download)."""
    return report_download.download(n_clicks, month)
