"""Late, replayed and skewed readings on a real PostgreSQL: stored, re-assessed, no alarm for history, refusals."""

from __future__ import annotations

import random
from datetime import timedelta

import psycopg
import pytest

from cdm.settings import Settings
from ingest.batch import IngestContext, process_batch
from tests.support.registry import bp_message, build

pytestmark = pytest.mark.integration
COUNTY = "tl"


@pytest.fixture
def setup(db_url: str):
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        conn.commit()
    ctx = IngestContext.from_settings(Settings(database_url=db_url, county_code=COUNTY, _env_file=None))
    with psycopg.connect(db_url) as conn:
        yield conn, county, ctx


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def store(conn, ctx, *messages):
    with conn.transaction():
        return process_batch(conn, list(messages), ctx=ctx)


def test_a_late_critical_reading_reassesses_the_patient_but_raises_no_alert(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    late = bp_message(county, county_code=COUNTY, card=card, seq=1, sbp=190, dbp=112, ago=timedelta(days=2))
    result = store(conn, ctx, late)
    assert (result.stored, result.stale, result.alerts) == (1, 1, 0)
    assert one(conn, "select colour from assessment_current") == "red", "the colour follows the data"
    assert one(conn, "select count(*) from assessment_history") == 1
    assert one(conn, "select count(*) from alert") == 0
    assert one(conn, "select count(*) from notification") == 0

    # A fresh critical reading of the same patient alerts at once, although the colour was already red.
    fresh = bp_message(county, county_code=COUNTY, card=card, seq=2, sbp=192, dbp=110, ago=timedelta(seconds=5))
    result = store(conn, ctx, fresh)
    assert (result.stale, result.alerts) == (0, 1)
    assert one(conn, "select count(*) from notification") == 2
    # and the next one is a repeat on the open alert, not a second alert
    again = bp_message(county, county_code=COUNTY, card=card, seq=3, sbp=195, dbp=112, ago=timedelta(seconds=1))
    assert store(conn, ctx, again).alerts == 0
    assert one(conn, "select count(*) from alert") == 1


def test_a_fresh_reading_in_the_same_batch_as_stale_ones_still_alerts(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    old = bp_message(county, county_code=COUNTY, card=card, seq=1, sbp=130, dbp=80, ago=timedelta(days=3))
    now = bp_message(county, county_code=COUNTY, card=card, seq=2, sbp=188, dbp=100, ago=timedelta(seconds=3))
    result = store(conn, ctx, old, now)
    assert (result.stored, result.stale, result.alerts) == (2, 1, 1)


def test_a_buffer_replayed_in_any_order_is_stored_once_each_and_twice_is_harmless(setup):
    conn, county, ctx = setup
    cards = list(county.patients)
    buffered = [
        bp_message(
            county, county_code=COUNTY, card=cards[i % 3], seq=i, sbp=120 + i % 30, dbp=75, ago=timedelta(hours=i)
        )
        for i in range(1, 61)
    ]
    random.Random(7).shuffle(buffered)
    first = store(conn, ctx, *buffered[:40])
    second = store(conn, ctx, *buffered[20:])  # the meter lost the broker's PUBACKs for part of it and re-sends
    assert first.stored + second.stored == 60 and second.duplicates == 20
    assert one(conn, "select count(*) from reading") == 60
    assert one(conn, "select readings_count from device where uid = %s", county.bp_meter) == 60


def test_clock_skew_is_taken_from_live_readings_not_from_replays(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    # the meter's clock runs 2 minutes fast: its freshest reading is stamped after it arrived
    fast = [
        bp_message(county, county_code=COUNTY, card=card, seq=s, sbp=130, dbp=80, ago=timedelta(seconds=-120 + s))
        for s in range(1, 4)
    ]
    store(conn, ctx, *fast)
    skew, at = conn.execute(
        "select clock_skew_s, clock_skew_at from device where uid = %s", (county.bp_meter,)
    ).fetchone()
    assert 115 <= skew <= 121 and at is not None
    # a replay of last week's buffer says nothing about the clock
    replay = bp_message(county, county_code=COUNTY, card=card, seq=9, sbp=130, dbp=80, ago=timedelta(days=7))
    store(conn, ctx, replay)
    assert one(conn, "select clock_skew_s from device where uid = %s", county.bp_meter) == skew


def test_times_in_the_future_or_beyond_the_buffer_are_refused_with_reasons_and_counted(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    ahead = bp_message(county, county_code=COUNTY, card=card, seq=1, sbp=130, dbp=80, ago=-timedelta(hours=2))
    ancient = bp_message(county, county_code=COUNTY, card=card, seq=2, sbp=130, dbp=80, ago=timedelta(days=45))
    ok = bp_message(county, county_code=COUNTY, card=card, seq=3, sbp=130, dbp=80, ago=timedelta(minutes=4))
    result = store(conn, ctx, ahead, ancient, ok)
    assert (result.stored, result.quarantined) == (1, 2)
    rows = conn.execute("select reason, detail, raw from quarantine order by id").fetchall()
    assert [r[0] for r in rows] == ["measured_in_future", "measured_too_old"]
    assert "clock" in rows[0][1] and "30 days" in rows[1][1]
    assert bytes(rows[0][2]) == ahead.payload
    assert one(conn, "select quarantined_count from device where uid = %s", county.bp_meter) == 2


def test_a_reading_refused_as_from_the_future_still_records_the_meters_clock_skew(setup):
    # The data-quality screen's skew panel and its quarantine must agree: a clock two hours fast shows in both.
    conn, county, ctx = setup
    card = next(iter(county.patients))
    store(conn, ctx, bp_message(county, county_code=COUNTY, card=card, seq=1, sbp=130, dbp=80, ago=-timedelta(hours=2)))
    assert one(conn, "select reason from quarantine") == "measured_in_future"
    assert 7190 <= one(conn, "select clock_skew_s from device where uid = %s", county.bp_meter) <= 7201
