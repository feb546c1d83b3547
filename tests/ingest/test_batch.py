"""One batch, one transaction, on a real PostgreSQL: readings once, refusals kept, colour, alert and outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cdm.payload import glucose_payload, reading_topic
from cdm.privacy import mask_card
from cdm.settings import Settings
from ingest.batch import IngestContext, process_batch
from ingest.message import InboundMessage
from tests.support.registry import SmallCounty, bp_message, build

pytestmark = pytest.mark.integration
COUNTY = "tb"


@pytest.fixture
def setup(db_url: str):
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        conn.commit()
    ctx = IngestContext.from_settings(Settings(database_url=db_url, county_code=COUNTY, _env_file=None))
    with psycopg.connect(db_url) as conn:
        yield conn, county, ctx


def bp_msg(
    county: SmallCounty,
    card: str | None,
    seq: int,
    sbp: int,
    dbp: int,
    *,
    mid: int = 1,
    ago: timedelta = timedelta(seconds=5),
) -> InboundMessage:
    return bp_message(county, county_code=COUNTY, card=card, seq=seq, sbp=sbp, dbp=dbp, ago=ago)


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def test_a_redelivered_message_makes_no_second_row(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    msg = bp_msg(county, card, 1, 130, 80)
    with conn.transaction():
        first = process_batch(conn, [msg, msg], ctx=ctx)
    with conn.transaction():
        again = process_batch(conn, [msg], ctx=ctx)
    assert (first.stored, first.duplicates, again.stored, again.duplicates) == (1, 1, 0, 1)
    assert one(conn, "select count(*) from reading") == 1
    assert one(conn, "select duplicates_count from device where uid = %s", county.bp_meter) == 2


def test_refused_messages_are_kept_with_raw_bytes_and_reason_and_the_rest_goes_on(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    now = datetime.now(UTC)
    bad = InboundMessage(2, 1, reading_topic(COUNTY, county.bp_meter), b"{broken", now)
    unknown = InboundMessage(
        3,
        1,
        reading_topic(COUNTY, "BP-nobody"),
        bp_msg(county, card, 9, 120, 80).payload.replace(county.bp_meter.encode(), b"BP-nobody"),
        now,
    )
    wrong_kind = InboundMessage(
        4,
        1,
        reading_topic(COUNTY, county.bp_meter),
        glucose_payload(
            device_uid=county.bp_meter, seq=5, measured_at=now, mmol_l=5.0, context="fasting", patient=None
        ),
        now,
    )
    with conn.transaction():
        result = process_batch(conn, [bad, bp_msg(county, card, 1, 130, 80), unknown, wrong_kind], ctx=ctx)
    assert (result.stored, result.quarantined) == (1, 3)
    rows = conn.execute("select reason, device_uid, raw from quarantine order by id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("invalid_json", county.bp_meter),
        ("unknown_device", "BP-nobody"),
        ("device_kind_mismatch", county.bp_meter),
    ]
    assert bytes(rows[0][2]) == b"{broken"


def test_an_unknown_patient_reference_is_stored_unattributed(setup):
    conn, county, ctx = setup
    with conn.transaction():
        result = process_batch(conn, [bp_msg(county, "HNOBODY", 1, 150, 90)], ctx=ctx)
    assert result.stored == 1
    row = conn.execute("select patient_id, patient_scheme, patient_ref from reading").fetchone()
    assert row == (None, "health_card", "HNOBODY")
    assert one(conn, "select count(*) from assessment_current") == 0


def test_turning_red_writes_one_alert_and_two_notifications_in_the_readings_transaction(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    with conn.transaction():
        result = process_batch(conn, [bp_msg(county, card, 1, 188, 100)], ctx=ctx)
    assert result.alerts == 1
    colour, reasons = conn.execute("select colour, reasons from assessment_current").fetchone()
    assert (colour, reasons) == ("red", ["bp_critical"])
    recipients = conn.execute("select n.recipient, n.region_id, n.status from notification n order by recipient")
    assert recipients.fetchall() == [
        ("county", county.county_id, "pending"),
        ("township", county.township_id, "pending"),
    ]
    body = one(conn, "select body from notification where recipient = 'township'")
    assert body["patient"]["card"] == mask_card(card) != card
    assert body["reasons"][0]["code"] == "bp_critical" and "180" in body["reasons"][0]["text"]

    with conn.transaction():
        again = process_batch(conn, [bp_msg(county, card, 2, 195, 100)], ctx=ctx)
    assert again.alerts == 0, "a patient who stays red has one open alert, not a new one per reading"
    assert one(conn, "select count(*) from notification") == 2


def test_a_rolled_back_batch_leaves_no_reading_no_alert_no_notification(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    with pytest.raises(RuntimeError), conn.transaction():
        process_batch(conn, [bp_msg(county, card, 1, 190, 100)], ctx=ctx)
        raise RuntimeError("crash before commit")
    assert [one(conn, f"select count(*) from {t}") for t in ("reading", "alert", "notification")] == [0, 0, 0]


def test_colour_history_records_each_change_with_reasons(setup):
    conn, county, ctx = setup
    card = next(iter(county.patients))
    sittings = [(125, 75, timedelta(days=2)), (160, 100, timedelta(days=1)), (185, 100, timedelta(seconds=5))]
    for seq, (sbp, dbp, ago) in enumerate(sittings, start=1):
        with conn.transaction():
            process_batch(conn, [bp_msg(county, card, seq, sbp, dbp, ago=ago)], ctx=ctx)
    history = conn.execute("select previous_colour, colour from assessment_history order by id").fetchall()
    assert history == [(None, "green"), ("green", "yellow"), ("yellow", "red")]
