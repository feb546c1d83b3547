"""repo.py on a real PostgreSQL with a hand-built county: exact counts, zero-patient townships, latest alerts."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from cdm.db import open_pool
from cdm.privacy import mask_card
from dashboard import repo

from .county_builder import NOW, small_county

pytestmark = pytest.mark.integration

TC_COUNTS = {  # township: (managed, red, yellow, green, not_assessed)
    "城关镇": (8, 3, 1, 3, 1),
    "河口乡": (5, 0, 2, 3, 0),
    "山后乡": (0, 0, 0, 0, 0),
    "石桥乡": (0, 0, 0, 0, 0),
}


def _by_township(frame: object) -> dict[str, tuple[int, ...]]:
    rows = frame.set_index("township")[list(repo.COUNT_COLUMNS)]  # type: ignore[attr-defined]
    return {name: tuple(int(v) for v in values) for name, values in rows.iterrows()}


def test_every_township_of_the_county_has_its_exact_counts(conn: psycopg.Connection) -> None:
    small_county(conn)
    counts = repo.township_counts(conn, county_code="tc")
    assert _by_township(counts) == TC_COUNTS
    assert counts["township_code"].tolist() == ["t01", "t02", "t03", "t04"]


def test_not_assessed_patients_are_counted_apart_never_as_green(conn: psycopg.Connection) -> None:
    county = small_county(conn)
    unassessed = county.patients_at("v02a", None, 2)
    counts = _by_township(repo.township_counts(conn, county_code="tc"))
    assert counts["河口乡"] == (7, 0, 2, 3, 2)
    assert len(unassessed) == 2


def test_county_totals_match_the_sum_of_its_townships(conn: psycopg.Connection) -> None:
    small_county(conn)
    totals = repo.county_totals(conn, county_code="tc")
    assert totals == repo.CountyTotals(townships=4, managed=13, red=3, yellow=3, green=6, not_assessed=1)
    sums = tuple(sum(column) for column in zip(*TC_COUNTS.values(), strict=True))
    assert (totals.managed, totals.red, totals.yellow, totals.green, totals.not_assessed) == sums


def test_without_a_county_code_every_county_in_the_store_is_counted(conn: psycopg.Connection) -> None:
    small_county(conn)
    counts = _by_township(repo.township_counts(conn))
    assert counts == {**TC_COUNTS, "乡外镇": (1, 1, 0, 0, 0)}
    assert repo.county_totals(conn).managed == 14


def test_latest_alerts_newest_first_with_delivered_counts_and_masked_patients(conn: psycopg.Connection) -> None:
    county = small_county(conn)
    alerts = repo.latest_alerts(conn, county_code="tc")
    summary = [
        (row.township, row.village, row.severity, row.status, row.delivered, row.failed, row.notifications)
        for row in alerts.itertuples()
    ]
    assert summary == [
        ("城关镇", "东村", "critical", "open", 2, 0, 2),
        ("河口乡", "南村", "high", "acknowledged", 1, 1, 2),
        ("城关镇", "东村", "critical", "open", 1, 0, 2),
        ("城关镇", "西村", "critical", "closed", 0, 0, 0),
    ]
    assert [NOW - t for t in alerts["opened_at"]] == [timedelta(minutes=m) for m in (5, 20, 50, 90)]
    assert alerts["reasons"].tolist()[:2] == [["bp_critical", "glucose_hypo"], ["uncontrolled_2x"]]
    cards = list(county.patients)
    assert alerts["patient"].tolist()[0] == mask_card(cards[1]) == "H33****0002"
    flat = alerts.astype(str).to_string()
    assert not any(number in flat for number in cards)


def test_latest_alerts_honours_the_limit(conn: psycopg.Connection) -> None:
    small_county(conn)
    alerts = repo.latest_alerts(conn, limit=2, county_code="tc")
    assert [NOW - t for t in alerts["opened_at"]] == [timedelta(minutes=5), timedelta(minutes=20)]
    assert repo.latest_alerts(conn)["township"].tolist()[0] == "乡外镇"  # the other county's newer alert


def test_an_empty_store_gives_empty_frames_and_zero_totals(conn: psycopg.Connection) -> None:
    assert repo.township_counts(conn).empty
    assert repo.latest_alerts(conn).empty
    assert repo.county_totals(conn) == repo.CountyTotals(0, 0, 0, 0, 0, 0)


def test_snapshot_reads_counts_totals_and_alerts_through_the_pool(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    pool = open_pool(db_url)
    try:
        snapshot = repo.county_snapshot(pool, alert_limit=3, county_code="tc")
    finally:
        pool.close()
    assert _by_township(snapshot.townships) == TC_COUNTS
    assert snapshot.totals.managed == 13
    assert len(snapshot.alerts) == 3
    assert snapshot.taken_at.tzinfo is not None
