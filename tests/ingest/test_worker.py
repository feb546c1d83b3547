"""The ingest process against a real broker and a real PostgreSQL: nothing stored twice, nothing lost."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from cdm.payload import PatientRef, bp_payload, reading_topic
from ingest.worker import IngestWorker
from tests.support.mqtt import TestPublisher
from tests.support.processes import spawn
from tests.support.registry import SmallCounty
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def payload(county: SmallCounty, seq: int, sbp: int = 130) -> bytes:
    card = next(iter(county.patients))
    return bp_payload(
        device_uid=county.bp_meter,
        seq=seq,
        measured_at=datetime.now(UTC),
        systolic=sbp,
        diastolic=80,
        pulse=70,
        patient=PatientRef(scheme="health_card", value=card),
    )


def count(url: str, sql: str = "select count(*) from reading") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def test_readings_published_by_a_meter_are_stored_once_and_bad_ones_quarantined(settings, county, tmp_path):
    stop = threading.Event()
    worker = IngestWorker(settings, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert worker.connected.wait(10)
    meter = TestPublisher(settings, "meter-1")
    topic = reading_topic(settings.county_code, county.bp_meter)
    try:
        sent = [payload(county, seq) for seq in range(1, 51)]
        for raw in sent:
            meter.publish(topic, raw)
        meter.publish(topic, sent[6])  # the meter re-sends one, byte for byte
        meter.publish(topic, b"\x00garbage")
        assert wait_until(lambda: count(settings.database_url, "select count(*) from quarantine") == 1)
        assert wait_until(lambda: count(settings.database_url) == 50), (count(settings.database_url), worker.totals)
    finally:
        meter.close()
        stop.set()
        thread.join(10)
    assert (worker.totals.stored, worker.totals.duplicates, worker.totals.quarantined) == (50, 1, 1)


def test_messages_sent_while_ingest_is_down_are_stored_when_it_returns(settings, county):
    first = threading.Event()
    worker = IngestWorker(settings, stop=first)
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert worker.connected.wait(10)  # the persistent session now exists on the broker
    first.set()
    thread.join(10)

    meter = TestPublisher(settings, "meter-2")
    for seq in range(1, 21):
        meter.publish(reading_topic(settings.county_code, county.bp_meter), payload(county, seq))
    meter.close()
    assert count(settings.database_url) == 0

    again = threading.Event()
    thread = threading.Thread(target=IngestWorker(settings, stop=again).run)
    thread.start()
    try:
        assert wait_until(lambda: count(settings.database_url) == 20)
    finally:
        again.set()
        thread.join(10)


@pytest.mark.usefixtures("redelivering_broker")
def test_a_message_is_acknowledged_only_after_its_transaction_commits(settings, county, tmp_path: Path):
    """Kill -9 the worker while its batch waits to commit: the broker must still hold the message."""
    log = tmp_path / "ingest-1.log"
    proc = spawn(settings, "ingest", log=log)
    assert wait_until(lambda: "subscribed" in log.read_text()), log.read_text()
    meter = TestPublisher(settings, "meter-3")
    topic = reading_topic(settings.county_code, county.bp_meter)
    try:
        meter.publish(topic, payload(county, 1))
        assert wait_until(lambda: count(settings.database_url) == 1), log.read_text()
        with psycopg.connect(settings.database_url) as blocker:
            blocker.execute("lock table reading in access exclusive mode")  # the next insert waits here
            meter.publish(topic, payload(county, 2, sbp=185))
            time.sleep(1.5)  # received and waiting to commit
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        assert count(settings.database_url) == 1

        proc = spawn(settings, "ingest", log=tmp_path / "ingest-2.log")
        assert wait_until(lambda: count(settings.database_url) == 2), (tmp_path / "ingest-2.log").read_text()
        assert count(settings.database_url, "select count(*) from alert") == 1
    finally:
        meter.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
