"""Sittings through ingest, on a real PostgreSQL: a critical reading alerts at once, and its alert records whether
the sitting that held it confirmed it, once later readings (in later batches) or the passing gap complete it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import time_machine

from alerts.service import settle_sittings
from cdm.payload import PatientRef, glucose_payload, reading_topic
from cdm.settings import Settings
from ingest.batch import IngestContext, process_batch
from ingest.message import InboundMessage
from tests.support.registry import bp_message, build

pytestmark = pytest.mark.integration
COUNTY = "ts"
MIN = timedelta(minutes=1)


@pytest.fixture
def setup(db_url: str):
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        conn.commit()
    ctx = IngestContext.from_settings(Settings(database_url=db_url, county_code=COUNTY, _env_file=None))
    with psycopg.connect(db_url) as conn:
        yield conn, county, ctx


def batch(conn, county, ctx, *readings, card):
    """One committed batch of BP readings (seq, sbp, dbp, measured this long ago) of one patient."""
    msgs = [
        bp_message(county, county_code=COUNTY, card=card, seq=seq, sbp=s, dbp=d, ago=ago) for seq, s, d, ago in readings
    ]
    with conn.transaction():
        return process_batch(conn, msgs, ctx=ctx)


def confirmed(conn):
    return conn.execute("select sitting_confirmed from alert").fetchone()[0]


def test_a_single_critical_reading_alerts_at_once_and_its_sitting_is_still_open(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    result = batch(conn, county, ctx, (1, 190, 100, 5 / 60 * MIN), card=card)
    assert result.alerts == 1, "the red does not wait for the sitting"
    assert confirmed(conn) is None, "the sitting may still grow: nothing recorded yet"


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ((150, 90), False),  # mean 170/95: the sitting did not confirm the critical reading
        ((185, 100), True),  # mean 187.5/100: it did
    ],
)
def test_a_later_batch_of_the_same_sitting_settles_the_alert_once_the_gap_has_passed(setup, second, expected):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    assert batch(conn, county, ctx, (1, 190, 100, 9 * MIN), card=card).alerts == 1
    assert confirmed(conn) is None
    # The second reading of the sitting, a minute after the first, arrives in the next batch: the sitting has grown
    # but may still grow (its last reading is 8 minutes old).
    assert batch(conn, county, ctx, (2, *second, 8 * MIN), card=card).alerts == 0
    assert confirmed(conn) is None
    with conn.transaction():
        settled = settle_sittings(conn, patient_ids=[], now=datetime.now(UTC) + 2 * MIN, rules=ctx.alerting.rules)
    assert list(settled.values()) == [expected]
    assert confirmed(conn) is expected


def test_the_next_batch_of_any_patient_settles_a_sitting_that_time_has_closed(setup):
    conn, county, ctx = setup
    first, other = list(county.patients)[:2]
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=True):
        batch(conn, county, ctx, (1, 190, 100, 5 / 60 * MIN), (2, 150, 90, 4 / 60 * MIN), card=first)
        assert confirmed(conn) is None
    with time_machine.travel(start + 11 * MIN, tick=True):
        batch(conn, county, ctx, (3, 130, 80, 5 / 60 * MIN), card=other)
    assert confirmed(conn) is False


def test_a_reading_a_full_gap_later_is_a_new_sitting_and_closes_the_first(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    batch(conn, county, ctx, (1, 190, 100, 20 * MIN + 5 / 60 * MIN), card=card)  # settled at once: alone 20 min
    assert confirmed(conn) is True
    conn.execute("update alert set sitting_confirmed = null")  # as if it had been raised a moment ago
    conn.commit()
    # A full gap (and the moment between the two messages) after the critical one: not the same sitting, so the
    # critical reading stood alone and its sitting confirmed it.
    batch(conn, county, ctx, (2, 120, 70, 10 * MIN + 5 / 60 * MIN), card=card)
    assert confirmed(conn) is True


def test_a_settled_verdict_is_not_reopened(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    batch(conn, county, ctx, (1, 190, 100, 15 * MIN), card=card)
    assert confirmed(conn) is True
    batch(conn, county, ctx, (2, 120, 70, 14 * MIN), card=card)  # would have joined, but the verdict stands
    assert confirmed(conn) is True
    assert conn.execute("select count(*) from alert where sitting_confirmed is null").fetchone()[0] == 0


def test_a_glucose_alert_has_no_sitting(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    now = datetime.now(UTC)
    raw = glucose_payload(
        device_uid=county.glucose_meter,
        seq=1,
        measured_at=now - 20 * MIN,
        mmol_l=2.5,
        context="fasting",
        patient=PatientRef(scheme="health_card", value=card),
    )
    with conn.transaction():
        msg = InboundMessage(1, 1, reading_topic(COUNTY, county.glucose_meter), raw, now)
        assert process_batch(conn, [msg], ctx=ctx).alerts == 1
    assert confirmed(conn) is None, "null: not applicable"


def test_the_minute_job_settles_a_sitting_when_the_county_has_gone_quiet(setup, db_url):
    from app import jobs

    conn, county, ctx = setup
    card = next(iter(county.patients))
    # A lone critical reading measured 9 minutes ago: its sitting may still grow, and then no batch follows.
    assert batch(conn, county, ctx, (1, 190, 100, 9 * MIN), card=card).alerts == 1
    assert confirmed(conn) is None
    with time_machine.travel(datetime.now(UTC) + 2 * MIN, tick=True):
        jobs.settle_sittings(Settings(database_url=db_url, county_code=COUNTY, _env_file=None))
    conn.rollback()  # see what the job committed
    assert confirmed(conn) is True, "a single critical reading left alone for the whole gap confirms itself"


def test_a_sitting_that_does_not_confirm_lowers_closes_and_tells_both_centres(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    # 150, 182, 148 a minute apart (mean 160/91): red and alerted at the 182, at once.
    assert batch(conn, county, ctx, (1, 150, 90, 3 * MIN), (2, 182, 96, 2 * MIN), card=card).alerts == 1
    assert batch(conn, county, ctx, (3, 148, 88, MIN), card=card).alerts == 0
    with conn.transaction():
        settled = settle_sittings(conn, patient_ids=[], now=datetime.now(UTC) + 12 * MIN, rules=ctx.alerting.rules)
    assert list(settled.values()) == [False]
    severity, status, outcome = conn.execute("select severity, status, outcome from alert").fetchone()
    assert (severity, status) == ("warning", "closed") and outcome.startswith("复测未证实")
    sent = conn.execute(
        "select recipient, body->>'title' from notification where purpose = 'sitting_unconfirmed' order by recipient"
    ).fetchall()
    assert [r for r, _ in sent] == ["county", "township"] and all("复测未证实" in title for _, title in sent)
    # the reason names the reading, the sitting's mean and the criterion it did not reach
    texts = [r[0] for r in conn.execute("select body->'reasons'->0->>'text' from notification order by id")]
    first, lowered = texts[:2], texts[2:]
    assert all(t.startswith("最近一次 182/96 mmHg（") and t.endswith("≥180/110 需紧急转诊") for t in first), texts
    assert len(lowered) == 2, texts
    assert all("同次测量均值 160/91 mmHg 未达 ≥180/110（复测未证实）" in t for t in lowered), texts
    colour, reasons = conn.execute("select colour, reasons from assessment_current").fetchone()
    assert colour == "yellow" and "bp_critical" not in reasons and "bp_grade2" in reasons


def test_an_acknowledged_alert_its_sitting_did_not_confirm_stays_for_its_owner_to_close(setup):
    from alerts.workflow.service import acknowledge

    conn, county, ctx = setup
    card = next(iter(county.patients))
    assert batch(conn, county, ctx, (1, 182, 96, 9 * MIN), card=card).alerts == 1
    alert_id = conn.execute("select id from alert").fetchone()[0]
    with conn.transaction():
        acknowledge(conn, alert_id=alert_id, actor="township-doctor", now=datetime.now(UTC))
    batch(conn, county, ctx, (2, 150, 90, 8 * MIN), card=card)
    with conn.transaction():
        settle_sittings(conn, patient_ids=[], now=datetime.now(UTC) + 2 * MIN, rules=ctx.alerting.rules)
    assert conn.execute("select severity, status from alert").fetchone() == ("warning", "acknowledged")
