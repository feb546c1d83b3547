"""The screen's pure parts: shares, the township chart, KPI cards, tables and masking, with no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdm.privacy import mask_card
from dashboard.alerts.repo import ALERT_COLUMNS
from dashboard.overview import figures, tables
from dashboard.overview.repo import COUNT_COLUMNS, CountyTotals

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
TOWNSHIP_COLUMNS = ("township_id", "township_code", "township", *COUNT_COLUMNS)


def _counts(*rows: tuple[str, int, int, int, int]) -> pd.DataFrame:
    """Township counts shaped like repo.township_counts: (name, red, yellow, green, not_assessed)."""
    records = [
        {
            "township_id": i,
            "township_code": f"t{i}",
            "township": name,
            "managed": r + y + g + n,
            "red": r,
            "yellow": y,
            "green": g,
            "not_assessed": n,
        }
        for i, (name, r, y, g, n) in enumerate(rows)
    ]
    return pd.DataFrame(records, columns=list(TOWNSHIP_COLUMNS))


COUNTS = _counts(("河口乡", 1, 2, 7, 0), ("城关镇", 3, 1, 3, 1), ("山后乡", 0, 0, 0, 0), ("石桥乡", 1, 0, 1, 1))


def _texts(component: object) -> list[str]:
    """Every string in a Dash component tree."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [s for child in component for s in _texts(child)]
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else []


@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=6))
def test_rounded_shares_add_up_to_exactly_100_or_all_zero(counts: list[int]) -> None:
    shares = figures.rounded_shares(counts)
    total = sum(counts)
    assert round(sum(shares), 6) == (100.0 if total else 0.0)
    exact = [c * 100 / total if total else 0.0 for c in counts]
    assert all(abs(s - e) <= 0.1 + 1e-9 for s, e in zip(shares, exact, strict=True))


def test_rounded_shares_of_thirds() -> None:
    assert figures.rounded_shares([1, 1, 1]) == [33.4, 33.3, 33.3]


def test_townships_are_sorted_most_red_first_and_empty_ones_last() -> None:
    shared = figures.with_shares(COUNTS)
    # red shares: 城关镇 3/8 = 37.5%, 石桥乡 1/3 = 33.3%, 河口乡 1/10 = 10%, 山后乡 no patients
    assert shared["township"].tolist() == ["城关镇", "石桥乡", "河口乡", "山后乡"]


def test_equal_red_shares_put_more_yellow_first() -> None:
    shared = figures.with_shares(_counts(("甲", 1, 0, 9, 0), ("乙", 1, 5, 4, 0)))
    assert shared["township"].tolist() == ["乙", "甲"]


def test_each_townships_shares_add_up_to_100() -> None:
    shared = figures.with_shares(COUNTS)
    share_columns = [f"share_{c}" for c in figures.STACK_ORDER]
    totals = shared.set_index("township")[share_columns].sum(axis=1).round(6).to_dict()
    assert totals == {"城关镇": 100.0, "石桥乡": 100.0, "河口乡": 100.0, "山后乡": 0.0}
    row = shared.set_index("township").loc["城关镇"]
    assert (row["share_red"], row["share_yellow"], row["share_green"], row["share_not_assessed"]) == (
        37.5,
        12.5,
        37.5,
        12.5,
    )


def test_chart_stacks_red_yellow_green_then_not_assessed_in_their_colours() -> None:
    figure = figures.township_chart(COUNTS)
    assert [trace.name for trace in figure.data] == ["红", "黄", "绿", "未评估"]
    assert [trace.marker.color for trace in figure.data] == ["#c62828", "#f9a825", "#2e7d32", "#9e9e9e"]
    assert figure.layout.barmode == "stack"
    assert all(trace.orientation == "h" for trace in figure.data)


def test_chart_rows_follow_the_red_ranking_top_down_with_counts_behind_the_shares() -> None:
    figure = figures.township_chart(COUNTS)
    red, yellow, green, grey = figure.data
    assert [label.split()[0] for label in red.y] == ["城关镇", "石桥乡", "河口乡", "山后乡"]
    assert figure.layout.yaxis.autorange == "reversed"  # first row drawn at the top
    assert list(red.customdata) == [3, 1, 1, 0]
    assert list(grey.customdata) == [1, 1, 0, 0]
    sums = [round(r + y + g + n, 6) for r, y, g, n in zip(red.x, yellow.x, green.x, grey.x, strict=True)]
    assert sums == [100.0, 100.0, 100.0, 0.0]
    assert "无在管患者" in red.y[3] and "8人" in red.y[0]


def test_chart_of_a_county_without_townships_is_still_a_figure() -> None:
    figure = figures.township_chart(_counts())
    assert len(figure.data) == 4 and all(len(trace.x) == 0 for trace in figure.data)


def test_kpi_cards_give_counts_and_shares_of_managed() -> None:
    totals = CountyTotals(townships=4, managed=20, red=3, yellow=5, green=10, not_assessed=2)
    cards = figures.kpi_cards(totals)
    values = [card.children[1].children for card in cards]
    notes = [card.children[2].children for card in cards]
    assert [card.className for card in cards] == [
        "kpi kpi-managed",
        "kpi kpi-red",
        "kpi kpi-yellow",
        "kpi kpi-green",
        "kpi kpi-not_assessed",
    ]
    assert values == ["20", "3", "5", "10", "2"]
    assert notes == ["覆盖 4 个乡镇", "占在管 15.0%", "占在管 25.0%", "占在管 50.0%", "占在管 10.0%"]


def test_kpi_cards_of_an_empty_county_show_zero_not_an_error() -> None:
    cards = figures.kpi_cards(CountyTotals(townships=0, managed=0, red=0, yellow=0, green=0, not_assessed=0))
    assert [card.children[1].children for card in cards] == ["0"] * 5


def test_township_table_has_counts_shares_and_not_assessed_in_chart_order() -> None:
    table = tables.township_table(COUNTS)
    header = _texts(table.children[0])
    assert header == ["乡镇", "管理人数", "红", "黄", "绿", "未评估"]
    first = _texts(table.children[1].children[0])
    assert first == ["城关镇", "8", "3", "37.5%", "1", "12.5%", "3", "37.5%", "1", "12.5%"]
    last = _texts(table.children[1].children[-1])
    assert last == ["山后乡", "0", "0", "0", "0", "0"]  # no patients: counts without shares


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("H330000000123", "H33****0123"),
        ("330102195001011234", "330****1234"),
        ("ABCDEF", "AB****EF"),
        ("AB", "****"),
        ("A", "****"),
    ],
)
def test_health_card_numbers_are_masked(number: str, masked: str) -> None:
    assert mask_card(number) == masked


@given(st.text(alphabet="0123456789ABCDEFHXZ", min_size=1, max_size=40))
def test_a_masked_number_never_contains_the_whole_number(number: str) -> None:
    masked = mask_card(number)
    assert number not in masked
    assert sum(ch != "*" for ch in masked) <= 2 * len(number) // 3


def _alerts(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame([{**dict.fromkeys(ALERT_COLUMNS), **row} for row in rows], columns=list(ALERT_COLUMNS))


def test_alerts_table_speaks_chinese_and_never_shows_a_full_number() -> None:
    alerts = _alerts(
        {
            "alert_id": 2,
            "patient_id": 2,
            "opened_at": datetime(2025, 3, 14, 6, 25, tzinfo=UTC),
            "township": "城关镇",
            "village": "东村",
            "patient": mask_card("H330000000002"),
            "severity": "critical",
            "status": "open",
            "reasons": ["bp_critical", "glucose_hypo"],
            "acknowledged_at": None,
            "delivered": 2,
            "failed": 0,
            "notifications": 2,
        },
        {
            "alert_id": 1,
            "patient_id": 1,
            "opened_at": datetime(2025, 3, 13, 23, 0, tzinfo=UTC),
            "township": "河口乡",
            "village": None,
            "patient": mask_card("H330000000001"),
            "severity": "high",
            "status": "acknowledged",
            "reasons": ["uncontrolled_2x"],
            "acknowledged_at": datetime(2025, 3, 13, 23, 12, tzinfo=UTC),
            "acknowledged_by": "town.li",
            "delivered": 1,
            "failed": 1,
            "notifications": 2,
        },
    )
    table = tables.alerts_table(alerts, tz=SHANGHAI, now=NOW)
    assert _texts(table.children[0]) == ["时间", "已等待", "乡镇", "村", "患者", "级别", "原因", "状态", "通知"]
    first, second = (_texts(row) for row in table.children[1].children)
    assert first == [
        "03-14 14:25",
        "5分钟",
        "城关镇",
        "东村",
        "H33****0002",
        "紧急",
        "血压达到紧急转诊标准（≥180/110 mmHg）；血糖≤3.9 mmol/L（低血糖），需紧急处理",
        "待处理",
        "未确认",
        "2/2 已送达",
    ]
    assert second[0] == "03-14 07:00" and second[1] == "7小时" and second[3] == "（乡镇直管）"
    assert second[-3:] == ["已确认", "town.li 03-14 07:12", "1/2 已送达 · 1 条失败"]
    assert not any("H330000000001" in text or "H330000000002" in text for text in _texts(table))


def test_no_alerts_says_so() -> None:
    assert _texts(tables.alerts_table(_alerts(), tz=SHANGHAI, now=NOW)) == ["暂无预警"]


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0分钟"), (59, "59分钟"), (60, "1小时"), (47 * 60 + 59, "47小时"), (48 * 60, "2天")]
)
def test_alert_age(minutes: int, text: str) -> None:
    assert tables.format_age(NOW - timedelta(minutes=minutes), NOW) == text


@pytest.mark.parametrize(
    ("delivered", "failed", "total", "text", "state"),
    [
        (2, 0, 2, "2/2 已送达", "ok"),
        (1, 0, 2, "1/2 已送达", "pending"),
        (0, 2, 2, "0/2 已送达 · 2 条失败", "failed"),
        (0, 0, 0, "无通知", "pending"),
    ],
)
def test_notification_summary(delivered: int, failed: int, total: int, text: str, state: str) -> None:
    assert tables.format_notified(delivered, failed, total) == text
    assert tables.notified_state(delivered, failed, total) == state
