"""The screens' words come from the one catalogue, in Chinese by default and in English one setting away."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cdm.i18n import CATALOGUE, t
from dashboard.indicators.logic import NAMES, Indicator
from dashboard.overview import panels

SCREEN_PREFIXES = ("login.", "password.", "role.", "nav.", "indicator.", "meters.", "mix.", "township.", "alerts.")
SCREEN_PREFIXES += ("age.", "duration.", "dashboard.")


@pytest.mark.parametrize("key", sorted(k for k in CATALOGUE if k.startswith(SCREEN_PREFIXES)))
def test_every_screen_text_has_chinese_and_english(key: str) -> None:
    entry = CATALOGUE[key]
    assert entry["zh"].strip() and "en" in entry
    assert any("\u4e00" <= ch <= "\u9fff" for ch in entry["zh"]) or key.startswith(("duration.none", "alerts.acked"))


def _texts(component: object) -> list[str]:
    children = getattr(component, "children", None)
    if isinstance(children, str):
        return [children]
    if isinstance(children, list):
        return [text for child in children for text in _texts(child)]
    return _texts(children) if children is not None else []


def test_indicator_cards_in_each_language() -> None:
    total = {name: Indicator(3, 4) for name in NAMES}
    at = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
    zh = [
        text
        for card in panels.indicator_cards(total, refreshed_at=at, tz=ZoneInfo("Asia/Shanghai"))
        for text in _texts(card)
    ]
    en = [
        text
        for card in panels.indicator_cards(total, refreshed_at=at, tz=ZoneInfo("Asia/Shanghai"), lang="en")
        for text in _texts(card)
    ]
    assert zh[:3] == ["血压控制率", "75.0%", "3 / 4 人"] and zh[-1] == "指标计算于 03-14 14:30"
    assert en[:3] == ["BP control rate", "75.0%", "3 / 4"] and en[-1] == "Computed 03-14 14:30"
    assert t("login.submit") == "登录" and t("login.submit", "en") == "Sign in"


@pytest.mark.parametrize(
    ("name", "indicator", "band"),
    [
        ("bp_control", Indicator(60, 100), "good"),
        ("bp_control", Indicator(59, 100), "fair"),
        ("bp_control", Indicator(39, 100), "poor"),
        ("missed_visit_3m", Indicator(20, 100), "good"),
        ("missed_visit_3m", Indicator(41, 100), "poor"),
        ("lost_12m", Indicator(0, 0), "none"),
    ],
)
def test_rate_bands(name: str, indicator: Indicator, band: str) -> None:
    assert panels.rate_band(name, indicator) == band
