"""Pure functions from the county's counts to what the screen draws: shares, the township chart and the KPI cards."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from dash import html

from cdm.i18n import t
from dashboard.overview.repo import CountyTotals

# Red first, at the common left edge, so red bars are compared from one baseline; then yellow, green, not assessed.
STACK_ORDER = ("red", "yellow", "green", "not_assessed")
COLOUR_HEX = {"red": "#c62828", "yellow": "#f9a825", "green": "#2e7d32", "not_assessed": "#9e9e9e"}
# Dark text on yellow and grey, white on red and green: the contrast a big screen across a room needs.
TEXT_ON = {"red": "#ffffff", "yellow": "#111111", "green": "#ffffff", "not_assessed": "#111111"}
FONT_FAMILY = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
# Below this share a label would not fit inside its bar segment at reading size; the hover and the table give it.
MIN_LABELLED_SHARE = 8.0
BAR_HEIGHT_PX = 46
CHART_MARGIN_PX = 110
LABEL_PX = 19  # a township's name beside its bar
MIN_LABEL_PX = 14  # the smallest a thinner bar's name gets (the wall screen of a county of ~25 townships)


def category_label(category: str, lang: str = "zh") -> str:
    """The screen word for a colour or for not assessed."""
    return t("dashboard.not_assessed" if category == "not_assessed" else f"colour.{category}", lang)


def rounded_shares(counts: Sequence[int], *, decimals: int = 1) -> list[float]:
    """Percent shares of `counts`, rounded by largest remainder so that they add up to exactly 100 (or all 0)."""
    total = sum(counts)
    if total == 0:
        return [0.0 for _ in counts]
    scale = 10**decimals
    exact = [c * 100 * scale / total for c in counts]
    floors = [math.floor(x) for x in exact]
    missing = 100 * scale - sum(floors)
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [f / scale for f in floors]


def with_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Township counts with share_<category> columns in percent, most red first (then most yellow, then largest)."""
    frame = counts.copy()
    shares = [rounded_shares([int(row[c]) for c in STACK_ORDER]) for _, row in frame.iterrows()]
    for i, category in enumerate(STACK_ORDER):
        frame[f"share_{category}"] = [s[i] for s in shares] if shares else pd.Series(dtype="float64")
    exact_red = frame["red"] / frame["managed"].where(frame["managed"] > 0)
    exact_yellow = frame["yellow"] / frame["managed"].where(frame["managed"] > 0)
    frame = frame.assign(_red=exact_red.fillna(-1), _yellow=exact_yellow.fillna(-1))
    frame = frame.sort_values(
        ["_red", "red", "_yellow", "managed", "township"], ascending=[False, False, False, False, True], kind="stable"
    )
    return frame.drop(columns=["_red", "_yellow"]).reset_index(drop=True)


def _township_label(row: pd.Series, lang: str) -> str:
    if row["managed"] == 0:
        return f"{row['township']}  ({t('dashboard.chart.no_patients', lang)})"
    return f"{row['township']}  {t('dashboard.chart.patients', lang, n=int(row['managed']))}"


def _bar(shared: pd.DataFrame, category: str, labels: list[str], lang: str) -> go.Bar:
    shares = shared[f"share_{category}"].tolist()
    return go.Bar(
        name=category_label(category, lang),
        orientation="h",
        x=shares,
        y=labels,
        customdata=shared[category].tolist(),
        marker={"color": COLOUR_HEX[category], "line": {"color": "#ffffff", "width": 1}},
        text=[f"{s:.0f}%" if s >= MIN_LABELLED_SHARE else "" for s in shares],
        textposition="inside",
        insidetextanchor="middle",
        textangle=0,
        textfont={"color": TEXT_ON[category], "size": 18},
        hovertemplate="%{y}<br>" + category_label(category, lang) + ": %{customdata} (%{x:.1f}%)<extra></extra>",
    )


def bar_sizes(n: int, *, max_height: int | None) -> tuple[int, int]:
    """(chart height, label font size) for `n` townships: bars of BAR_HEIGHT_PX, or within `max_height` (the wall
    screen) bars as thin as it takes, their labels shrinking with them but never below MIN_LABEL_PX."""
    natural = CHART_MARGIN_PX + BAR_HEIGHT_PX * max(n, 1)
    if max_height is None or natural <= max_height:
        return natural, LABEL_PX
    bar = (max_height - CHART_MARGIN_PX) / n
    return max_height, max(MIN_LABEL_PX, min(LABEL_PX, int(bar * 0.8)))


def township_chart(counts: pd.DataFrame, *, lang: str = "zh", max_height: int | None = None) -> go.Figure:
    """A horizontal 100% stacked bar of colour shares per township, the township with the most red on top; no
    taller than `max_height` when given (the wall screen: thinner bars for a county of many townships)."""
    shared = with_shares(counts)
    labels = [_township_label(row, lang) for _, row in shared.iterrows()]
    figure = go.Figure([_bar(shared, category, labels, lang) for category in STACK_ORDER])
    height, label_px = bar_sizes(len(labels), max_height=max_height)
    if label_px < LABEL_PX:  # thinner bars: their shares at the labels' size or not at all, never too small to read
        figure.update_traces(textfont_size=label_px)
        figure.update_layout(uniformtext={"minsize": label_px - 1, "mode": "hide"})
    figure.update_layout(
        barmode="stack",
        height=height,
        margin={"l": 10, "r": 36, "t": 50, "b": 40},
        font={"family": FONT_FAMILY, "size": 17, "color": "#111111"},
        legend={
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
            "traceorder": "normal",
            "font": {"size": 18},
        },
        paper_bgcolor="#ffffff",
        plot_bgcolor="#eceff1",
        bargap=0.22,
        uirevision="county",
    )
    ticks = list(range(0, 101, 20))
    figure.update_xaxes(
        range=[0, 100],
        tickvals=ticks,
        ticktext=[f"{v}%" for v in ticks],
        gridcolor="#ffffff",
        title={"text": t("dashboard.chart.axis", lang), "font": {"size": 15}},
    )
    figure.update_yaxes(autorange="reversed", automargin=True, tickfont={"size": label_px})
    return figure


def _card(category: str, value: int, note: str, label: str) -> html.Div:
    return html.Div(
        className=f"kpi kpi-{category}",
        children=[
            html.Div(label, className="kpi-label"),
            html.Div(f"{value:,}", className="kpi-value"),
            html.Div(note, className="kpi-note"),
        ],
    )


def kpi_cards(totals: CountyTotals, *, lang: str = "zh") -> list[html.Div]:
    """Cards for patients managed and for red, yellow, green and not assessed, each with its share of managed."""
    values = {c: getattr(totals, c) for c in STACK_ORDER}
    shares = dict(zip(STACK_ORDER, rounded_shares(list(values.values())), strict=True))
    cards = [
        _card(
            "managed",
            totals.managed,
            t("dashboard.kpi.townships", lang, n=totals.townships),
            t("dashboard.kpi.managed", lang),
        )
    ]
    for category in STACK_ORDER:
        note = t("dashboard.kpi.share", lang, share=f"{shares[category]:.1f}%")
        cards.append(_card(category, values[category], note, t(f"dashboard.kpi.{category}", lang)))
    return cards
