"""Faults of the alert path, with real processes, a real broker, PostgreSQL and a real receiver."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cdm.payload import PatientRef, bp_payload, reading_topic
from cdm.settings import Settings
from tests.support.mqtt import TestPublisher
from tests.support.processes import spawn
from tests.support.registry import build

pytestmark = pytest.mark.integration


def wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def scalar(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def _ingest(settings: Settings, tmp_path: Path, name: str):
    log = tmp_path / f"{name}.log"
    proc = spawn(settings.model_copy(update={"ingest_client_id": f"{settings.county_code}-{name}"}), "ingest", log=log)
    assert wait_until(lambda: log.exists() and "subscribed" in log.read_text(), 30), log.read_text()
    return proc


def test_an_alert_storm_gives_one_open_alert_per_patient_and_no_repeated_notification(settings, sink, tmp_path):
    """1,000 critical readings in a burst for 50 patients, received by two ingest workers at once."""
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=50)
        conn.commit()
    workers = [_ingest(settings, tmp_path, "ingest-a"), _ingest(settings, tmp_path, "ingest-b")]
    dispatcher = spawn(settings, "worker", log=tmp_path / "worker.log")
    meter = TestPublisher(settings, "storm-meter")
    topic = reading_topic(settings.county_code, county.bp_meter)
    start = datetime.now(UTC) - timedelta(minutes=2)
    try:
        for i in range(1000):
            card = list(county.patients)[i % 50]
            meter.publish(
                topic,
                bp_payload(
                    device_uid=county.bp_meter,
                    seq=i,
                    measured_at=start + timedelta(milliseconds=i),
                    systolic=185 + i % 30,
                    diastolic=100,
                    pulse=90,
                    patient=PatientRef(scheme="health_card", value=card),
                ),
            )
        url = settings.database_url
        assert wait_until(lambda: scalar(url, "select count(*) from reading") == 1000)
        assert wait_until(lambda: scalar(url, "select coalesce(sum(duplicates_count), 0) from device") == 1000)
        received = sink.wait_for(100, timeout=60)
        time.sleep(1.0)  # room for a repeat to show up, if there were one
    finally:
        meter.close()
        for proc in [*workers, dispatcher]:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    assert scalar(url, "select count(*) from alert where status <> 'closed'") == 50
    assert scalar(url, "select count(distinct patient_id) from alert") == 50
    assert scalar(url, "select sum(occurrences) from alert") == 1000, "every critical reading counted once"
    assert scalar(url, "select count(*) from notification") == 100
    assert len(sink.received()) == 100 and sink.repeats == 0
    assert len({r.idempotency_key for r in received}) == 100
