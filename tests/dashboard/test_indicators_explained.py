"""Each indicator's definition is one click away, and a blank rate always says why (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from dash import html

from dashboard.indicators.logic import NAMES, Indicator
from dashboard.overview import panels, tables


def _texts(component: object) -> list[str]:
    children = getattr(component, "children", None)
    if isinstance(children, str):
        return [children]
    if isinstance(children, list):
        return [text for child in children for text in ([child] if isinstance(child, str) else _texts(child))]
    return _texts(children) if children is not None else []


def _cards(total: dict[str, Indicator], lang: str = "zh") -> dict[str, html.Div]:
    at = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
    cards = panels.indicator_cards(total, refreshed_at=at, tz=ZoneInfo("Asia/Shanghai"), lang=lang)
    return {card.id.removeprefix("indicator-"): card for card in cards if getattr(card, "id", None)}


def test_a_blank_rate_says_why_in_each_language() -> None:
    cards = _cards({name: Indicator(0, 0) for name in NAMES})
    bp = _texts(cards["bp_control"])
    assert bp[1] == "—" and "纳入管理不足 90 天" in bp[2] and "0 / 0" not in " ".join(bp)
    assert "纳入管理不足 1 年" in _texts(cards["standard_management"])[2]
    en = _texts(_cards({name: Indicator(0, 0) for name in NAMES}, lang="en")["glucose_control"])
    assert en[1] == "—" and "registered 90 days" in en[2]


@pytest.mark.parametrize("name", NAMES)
def test_every_indicator_card_holds_its_definition(name: str) -> None:
    card = _cards({n: Indicator(1, 2) for n in NAMES})[name]
    details = [c for c in card.children if isinstance(c, html.Details)]
    assert len(details) == 1
    summary, body = details[0].children
    assert summary.children == "定义"
    assert all(word in body.children for word in ("分子", "分母", "统计期"))


def test_township_table_gives_the_reason_beside_a_dash() -> None:
    counts = pd.DataFrame(
        [{"township_id": 1, "township_code": "t1", "township": "东河镇", "managed": 3, "red": 1, "yellow": 1,
          "green": 1, "not_assessed": 0}]
    )  # fmt: skip
    table = tables.township_table(counts, indicators={1: {n: Indicator(0, 0) for n in NAMES}})
    texts = _texts(table)
    assert "纳入不足90天" in texts
    cells = [c for row in table.children[1].children for c in row.children if getattr(c, "title", None)]
    assert cells and all("纳入管理不足" in c.title for c in cells)
