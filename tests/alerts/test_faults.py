"""Faults of the alert path, with real processes, a real broker, PostgreSQL and a real receiver."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from alerts.service import AlertContext, alert_changes
from assess.rules import RuleSettings
from cdm.domain import Assessment, Change, Colour
from cdm.payload import PatientRef, bp_payload, reading_topic
from cdm.settings import Settings
from cdm.thresholds import for_edition
from tests.support.mqtt import TestPublisher
from tests.support.processes import spawn
from tests.support.registry import build
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ALERTING = AlertContext(RuleSettings(for_edition("2020")))


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


def _alerts_for(settings: Settings, count: int) -> None:
    """`count` patients turn red at once: `count` alerts, two notifications each, in the outbox."""
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=count)
        changes = [
            Change(pid, Colour.GREEN, Assessment(Colour.RED, ("bp_critical",), 210.0, (f"BP-x:{pid}",)))
            for pid in county.patients.values()
        ]
        alert_changes(conn, changes, now=datetime.now(UTC), ctx=ALERTING)
        conn.commit()


def _fast_retries(settings: Settings) -> Settings:
    # Minutes of outage compressed into seconds: the same code paths, with shorter waits.
    return settings.model_copy(
        update={
            "notify_retry_base_s": 0.2,
            "notify_retry_max_s": 1.0,
            "notify_breaker_cooldown_s": 1.0,
            "notify_lease_s": 3.0,
        }
    )


def test_a_receiver_down_for_a_while_gets_everything_after_recovery_and_nothing_twice(settings, sink, tmp_path):
    settings = _fast_retries(settings)
    _alerts_for(settings, 10)
    sink.fail_next(10**9)  # down: every request answered 503
    worker = spawn(settings, "worker", log=tmp_path / "worker.log")
    url = settings.database_url
    try:
        retried_3x = (
            "select count(*) from (select notification_id from notification_attempt where not ok"
            " group by notification_id having count(*) >= 3) x"
        )
        assert wait_until(lambda: scalar(url, retried_3x) == 20, 30)
        assert scalar(url, "select count(*) from notification where status = 'delivered'") == 0
        calls_while_down = sink.requests
        failed_attempts = scalar(url, "select count(*) from notification_attempt where not ok")
        sink.fail_next(0)  # back up
        assert wait_until(
            lambda: scalar(url, "select count(*) from notification where status = 'delivered'") == 20, 30
        ), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    assert failed_attempts >= 60, "every notification was retried while the receiver was down"
    assert calls_while_down < failed_attempts, "the open circuit spared the receiver most of those calls"
    assert len(sink.received()) == 20 and sink.repeats == 0


def test_a_dispatcher_killed_mid_send_loses_nothing_and_the_receiver_drops_the_resend(settings, sink, tmp_path):
    settings = _fast_retries(settings)
    _alerts_for(settings, 10)
    sink.answer_after(5.0)  # the receiver takes each request, then is slow to answer
    first = spawn(settings, "worker", log=tmp_path / "worker-1.log")
    url = settings.database_url
    assert wait_until(lambda: sink.requests >= 8, 30)  # the dispatcher's 8 senders are all waiting for answers
    first.send_signal(signal.SIGKILL)  # killed mid-send: the receiver has these, the outbox does not know
    first.wait(10)
    in_flight = sink.requests
    assert scalar(url, "select count(*) from notification where status = 'delivered'") == 0
    sink.answer_after(0.0)
    second = spawn(settings, "worker", log=tmp_path / "worker-2.log")
    try:
        assert wait_until(
            lambda: scalar(url, "select count(*) from notification where status = 'delivered'") == 20, 30
        ), (tmp_path / "worker-2.log").read_text()[-3000:]
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    assert len(sink.received()) == 20, "each notification reached the receiver"
    assert sink.repeats == in_flight, "the re-sends carried the same Idempotency-Key, so the receiver dropped them"
