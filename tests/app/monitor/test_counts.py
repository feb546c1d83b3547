"""The metrics count what really happened: ingest's outcomes, deliveries per centre, the store's gauges."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import psycopg
import pytest

from alerts.dispatcher import Dispatcher
from alerts.service import AlertContext, alert_changes
from app.monitor.collector import StoreCollector
from assess.rules import RuleSettings
from cdm.domain import Assessment, Change, Colour
from cdm.metrics import metrics
from cdm.payload import PatientRef, bp_payload, reading_topic
from cdm.settings import Settings
from cdm.thresholds import for_edition
from ingest.worker import IngestWorker
from tests.support.mqtt import TestPublisher
from tests.support.registry import SmallCounty
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
ALERTING = AlertContext(RuleSettings(for_edition("2020")))


def sample(name: str, **labels: str) -> float:
    return metrics().registry.get_sample_value(name, labels) or 0.0


def reading(county: SmallCounty, seq: int, card: str) -> bytes:
    return bp_payload(
        device_uid=county.bp_meter,
        seq=seq,
        measured_at=datetime.now(UTC),
        systolic=132,
        diastolic=84,
        pulse=70,
        patient=PatientRef(scheme="health_card", value=card),
    )


def test_ingest_counts_every_message_once_by_its_outcome(settings: Settings, county: SmallCounty):
    outcomes = ("stored", "unattributed", "duplicate", "quarantined")
    before = {o: sample("cdm_ingest_readings_total", outcome=o) for o in outcomes}
    batches = sample("cdm_ingest_batch_seconds_count")
    stop = threading.Event()
    worker = IngestWorker(settings, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert worker.connected.wait(10)
    meter = TestPublisher(settings, f"meter-{settings.county_code}")
    topic = reading_topic(settings.county_code, county.bp_meter)
    card = next(iter(county.patients))
    try:
        sent = [reading(county, seq, card) for seq in range(1, 21)]
        for raw in sent:
            meter.publish(topic, raw)
        meter.publish(topic, sent[3])  # a repeat
        meter.publish(topic, b"{not json")  # refused, kept with its reason
        for seq in range(21, 24):
            meter.publish(topic, reading(county, seq, "H-NOBODY-KNOWS"))  # kept, waiting for a patient
        # The worker counts a batch right after its commit (and its totals): wait for the metrics themselves.
        seen = lambda: sum(sample("cdm_ingest_readings_total", outcome=o) - before[o] for o in outcomes)  # noqa: E731
        assert wait_until(lambda: seen() >= 25)
    finally:
        meter.close()
        stop.set()
        thread.join(10)
    counted = {o: sample("cdm_ingest_readings_total", outcome=o) - before[o] for o in outcomes}
    assert counted == {"stored": 20, "unattributed": 3, "duplicate": 1, "quarantined": 1}
    assert sample("cdm_ingest_batch_seconds_count") > batches
    assert sample("cdm_ingest_queue_depth") == 0


def test_deliveries_are_counted_per_channel_and_timed_per_centre(settings: Settings, sink, county: SmallCounty):
    with psycopg.connect(settings.database_url) as conn:
        pid = next(iter(county.patients.values()))
        change = Change(pid, Colour.YELLOW, Assessment(Colour.RED, ("bp_critical",), 210.0, ("BP-1:1",)))
        alert_changes(conn, [change], now=datetime.now(UTC), ctx=ALERTING)
        conn.commit()
    delivered = sample("cdm_notifications_total", channel="webhook", result="delivered")
    retried = sample("cdm_notifications_total", channel="webhook", result="retry")
    timed = {c: sample("cdm_alert_delivery_seconds_count", centre=c) for c in ("township", "county")}
    sink.fail_next(1)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        dispatcher = Dispatcher(settings)
        dispatcher.dispatch_once(conn)
        conn.execute("update notification set next_attempt_at = now()")
        dispatcher.dispatch_once(conn)
    assert sample("cdm_notifications_total", channel="webhook", result="delivered") - delivered == 2
    assert sample("cdm_notifications_total", channel="webhook", result="retry") - retried == 1
    assert {c: sample("cdm_alert_delivery_seconds_count", centre=c) - timed[c] for c in timed} == {
        "township": 1,
        "county": 1,
    }


def _families(collector: StoreCollector) -> dict[str, dict[tuple[str, ...], float]]:
    return {f.name: {tuple(s.labels.values()): s.value for s in f.samples} for f in collector.collect()}


def test_the_store_gauges_are_read_at_scrape_time(settings: Settings, county: SmallCounty):
    collector = StoreCollector(settings.database_url or "")
    first = _families(collector)
    assert first["cdm_store_up"] == {(): 1.0}
    assert first["cdm_devices_total"] == {(): 2.0} and first["cdm_devices_offline"] == {(): 0.0}
    assert first["cdm_outbox_pending"] == {(): 0.0}
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("update device set status = 'offline' where uid = %s", (county.bp_meter,))
        pid = next(iter(county.patients.values()))
        change = Change(pid, Colour.YELLOW, Assessment(Colour.RED, ("bp_critical",), 210.0, ("BP-1:1",)))
        alert_changes(conn, [change], now=datetime.now(UTC), ctx=ALERTING)
        conn.execute(
            "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at,"
            " colour_since, rules_edition) values (%s, 'red', '{bp_critical}', 210, '{}', now(), now(), '2020')",
            (pid,),
        )
        conn.commit()
    second = _families(collector)
    assert second["cdm_devices_offline"] == {(): 1.0}
    assert second["cdm_outbox_pending"] == {(): 2.0}
    assert second["cdm_patients_by_colour"] == {("green",): 0.0, ("yellow",): 0.0, ("red",): 1.0}


def test_a_store_that_does_not_answer_reads_as_down_not_as_an_error(settings: Settings):
    from app.services import free_port

    collector = StoreCollector(f"postgresql://nobody@127.0.0.1:{free_port()}/cdm")
    assert _families(collector) == {"cdm_store_up": {(): 0.0}}
