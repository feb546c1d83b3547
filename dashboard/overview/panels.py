"""Pure functions drawing the indicators, the meters and the 90-day colour mix (data in, components out)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from dash import html

from cdm.i18n import t
from dashboard.indicators.logic import HIGHER_IS_BETTER, NAMES, Indicator, empty_reason_key, format_rate
from dashboard.overview.figures import COLOUR_HEX, FONT_FAMILY, category_label
from dashboard.overview.repo import COLOURS, METER_STATES

# Bands a rate is judged by on the screen (HEARTS dashboards colour control rates in thirds of this kind).
GOOD_RATE, POOR_RATE = 0.6, 0.4  # control, management: >=60% good, <40% poor
GOOD_MISS, POOR_MISS = 0.2, 0.4  # missed / lost: <=20% good, >40% poor
CLOCK = "%m-%d %H:%M"


def rate_band(name: str, indicator: Indicator) -> str:
    """'good', 'fair', 'poor' or 'none' (no denominator): the card's colour class."""
    rate = indicator.rate
    if rate is None:
        return "none"
    if name in HIGHER_IS_BETTER:
        return "good" if rate >= GOOD_RATE else "poor" if rate < POOR_RATE else "fair"
    return "good" if rate <= GOOD_MISS else "poor" if rate > POOR_MISS else "fair"


def indicator_cards(
    total: dict[str, Indicator], *, refreshed_at: datetime | None, tz: ZoneInfo, lang: str = "zh"
) -> list[html.Div]:
    """One card per programme indicator: rate, numerator / denominator, and when it was computed."""
    cards = []
    for name in NAMES:
        value = total[name]
        cards.append(
            html.Div(
                className=f"ind ind-{rate_band(name, value)}",
                id=f"indicator-{name}",
                children=[
                    html.Div(t(f"indicator.{name}", lang), className="ind-label"),
                    html.Div(format_rate(value), className="ind-value"),
                    html.Div(
                        t(empty_reason_key(name), lang)
                        if value.rate is None
                        else t("indicator.fraction", lang, numerator=value.numerator, denominator=value.denominator),
                        className="ind-note",
                    ),
                    # The definition one click away (a native disclosure: no callback, nothing to re-render).
                    html.Details(
                        [html.Summary(t("indicator.definition", lang)), html.P(t(f"indicator.def.{name}", lang))],
                        className="ind-def",
                    ),
                ],
            )
        )
    stamp = (
        t("indicator.refreshed", lang, time=refreshed_at.astimezone(tz).strftime(CLOCK))
        if refreshed_at
        else t("indicator.not_refreshed", lang)
    )
    cards.append(html.Div(stamp, className="ind-stamp"))
    return cards


def meter_panel(meters: dict[str, int], *, lang: str = "zh") -> html.Div:
    """Meters online, offline and of unknown state, as three large numbers."""
    return html.Div(
        className="meters",
        children=[
            html.Div(
                className=f"meter meter-{state}",
                children=[
                    html.Div(f"{meters.get(state, 0):,}", className="meter-value"),
                    html.Div(t(f"meters.{state}", lang), className="meter-label"),
                ],
            )
            for state in METER_STATES
        ],
    )


def mix_chart(mix: pd.DataFrame, *, lang: str = "zh") -> go.Figure:
    """Patients of each colour at the end of each day of the last 90, stacked (red at the bottom)."""
    figure = go.Figure()
    for colour in COLOURS:
        figure.add_trace(
            go.Scatter(
                x=mix["day"],
                y=mix[colour],
                name=category_label(colour, lang),
                mode="lines",
                stackgroup="mix",
                line={"color": COLOUR_HEX[colour], "width": 1},
                fillcolor=COLOUR_HEX[colour],
                hovertemplate="%{x|%m-%d} " + category_label(colour, lang) + ": %{y:,}<extra></extra>",
            )
        )
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 20, "t": 36, "b": 30},
        font={"family": FONT_FAMILY, "size": 16, "color": "#111111"},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 17}},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        uirevision="mix",
    )
    figure.update_xaxes(tickformat="%m-%d", gridcolor="#e5e7eb")
    figure.update_yaxes(
        title={"text": t("mix.axis", lang), "font": {"size": 14}}, gridcolor="#e5e7eb", rangemode="tozero"
    )
    return figure
