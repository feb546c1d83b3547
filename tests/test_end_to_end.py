"""Meter -> broker -> ingest -> store -> assessment -> alert -> both centres' notifications -> county screen.

Every part is real: the simulator's meter client, the broker, the `cdm ingest` and `cdm worker` processes,
PostgreSQL, an HTTP server standing in for the township and county centres, and the dashboard's queries.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from alerts.channels import sign
from cdm.db import open_pool
from cdm.privacy import mask_card
from cdm.settings import Settings
from dashboard.overview.repo import Snapshot, county_snapshot
from device_sim.county import County, generate_county
from device_sim.meter import MeterPublisher
from device_sim.readings import patient_ref
from device_sim.repo import register_county
from tests.support.processes import spawn

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _wait_for_text(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{path.name} never said {text!r}:\n{path.read_text() if path.exists() else ''}")


@contextmanager
def _county_with_ingest_and_worker(settings: Settings, logs: Path) -> Iterator[County]:
    """A small simulated county registered in the store, with `cdm ingest` (subscribed) and `cdm worker` running
    until the block ends; their logs in `logs`."""
    county = generate_county(code=settings.county_code, name="测试县", townships=2, clinics=4, patients=20, seed=7)
    with psycopg.connect(settings.database_url) as conn:
        register_county(conn, county)
    processes = [spawn(settings, name, log=logs / f"{name}.log") for name in ("ingest", "worker")]
    try:
        _wait_for_text(logs / "ingest.log", "subscribed")
        yield county
    finally:
        for proc in processes:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)


def _logs(logs: Path) -> str:
    """What ingest and the worker wrote, for a failed assertion to show."""
    return (logs / "ingest.log").read_text() + (logs / "worker.log").read_text()


def _county_screen(settings: Settings) -> Snapshot:
    """The county screen's data, read through the dashboard's own queries."""
    pool = open_pool(settings.database_url)
    try:
        return county_snapshot(pool)
    finally:
        pool.close()


def test_a_critical_bp_turns_the_patient_red_and_both_centres_hear_of_it(settings, sink, tmp_path):
    with _county_with_ingest_and_worker(settings, tmp_path) as county:
        patient = county.patients[0]
        meter = county.meter_for(patient.village_code, "bp")
        with MeterPublisher(settings, client_id="e2e-meter").connect() as publisher:
            sent = publisher.publish_bp(meter.uid, systolic=192, diastolic=104, pulse=88, patient=patient_ref(patient))
            assert publisher.wait_acked() == 0

        received = sink.wait_for(2, timeout=30)

    assert len(received) == 2, _logs(tmp_path)
    township = next(c for c in county.clinics if c.code == patient.village_code).township_code
    assert sorted(r.path for r in received) == ["/county", f"/township/{township}"]
    assert {r.body["alert_id"] for r in received} == {received[0].body["alert_id"]}
    assert all(r.body["patient"]["card"] == mask_card(patient.health_card_no) for r in received)
    assert all(r.body["reasons"][0]["code"] == "bp_critical" for r in received)
    assert all(r.body["evidence"] == [f"{meter.uid}:{sent.seq}"] for r in received)
    assert len({r.idempotency_key for r in received}) == 2 and sink.repeats == 0
    secret = settings.webhook_secret.get_secret_value()
    assert all(r.signature == sign(r.raw, secret) for r in received), "receivers can verify who sent it"

    with psycopg.connect(settings.database_url) as conn:
        colour = conn.execute(
            "select a.colour from assessment_current a join patient p on p.id = a.patient_id"
            " where p.health_card_no = %s",
            (patient.health_card_no,),
        ).fetchone()
        alerts = conn.execute("select count(*) from alert").fetchone()[0]
        delivered = conn.execute(
            "select count(*) from notification n join notification_attempt t"
            " on t.notification_id = n.id where n.status = 'delivered' and t.ok"
        ).fetchone()[0]
    assert (colour, alerts, delivered) == (("red",), 1, 2)

    screen = _county_screen(settings)
    assert screen.totals.red == 1
    assert screen.alerts.iloc[0]["patient"] == mask_card(patient.health_card_no)
    assert screen.alerts.iloc[0]["delivered"] == 2


def test_a_sitting_that_does_not_confirm_its_urgent_reading_is_lowered_and_both_centres_told(settings, sink, tmp_path):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from dashboard.overview.tables import alerts_table

    with _county_with_ingest_and_worker(settings, tmp_path) as county:
        patient, other = county.patients[0], county.patients[1]
        meter = county.meter_for(patient.village_code, "bp")
        # One sitting of 150, 182, 148 three seconds apart (mean 160/91), the first 9 min 55 s ago: the sitting gap
        # (10 min) leaves it open about 10 s more. The 182 alerts at once; once the gap has passed, the next batch
        # (another patient's reading) settles it.
        start = datetime.now(UTC) - timedelta(minutes=9, seconds=55)
        with MeterPublisher(settings, client_id="e2e-sitting").connect() as publisher:
            for i, (sbp, dbp) in enumerate([(150, 90), (182, 96)]):
                publisher.publish_bp(
                    meter.uid,
                    systolic=sbp,
                    diastolic=dbp,
                    patient=patient_ref(patient),
                    measured_at=start + i * timedelta(seconds=3),
                )
            assert publisher.wait_acked() == 0
            first = sink.wait_for(2, timeout=30)
            publisher.publish_bp(
                meter.uid,
                systolic=148,
                diastolic=88,
                patient=patient_ref(patient),
                measured_at=start + timedelta(seconds=6),
            )
            assert publisher.wait_acked() == 0
            time.sleep(max(0.0, (start + timedelta(minutes=10, seconds=7) - datetime.now(UTC)).total_seconds()))
            other_meter = county.meter_for(other.village_code, "bp")
            publisher.publish_bp(other_meter.uid, systolic=120, diastolic=75, patient=patient_ref(other))
            assert publisher.wait_acked() == 0
        received = sink.wait_for(4, timeout=30)

    assert len(first) == 2 and all(r.body["severity"] == "critical" for r in first), "alerted at once"
    follow = [r for r in received if r.body.get("purpose") == "sitting_unconfirmed"]
    assert len(follow) == 2, _logs(tmp_path)
    assert all("复测未证实" in r.body["title"] and r.body["severity"] == "warning" for r in follow)
    with psycopg.connect(settings.database_url) as conn:
        colour, status = conn.execute(
            "select a.colour, x.status from assessment_current a join patient p on p.id = a.patient_id"
            " join alert x on x.patient_id = p.id where p.health_card_no = %s",
            (patient.health_card_no,),
        ).fetchone()
    assert (colour, status) == ("yellow", "closed")
    screen = _county_screen(settings)
    feed = alerts_table(screen.alerts, lang="zh", tz=ZoneInfo("Asia/Shanghai"), now=datetime.now(UTC))
    assert "复测未证实" in str(feed)
    # the feed names the reading, its sitting's mean and the criterion; so does every notification
    assert "最近一次 182/96 mmHg（" in str(feed) and "同次测量均值 160/91 mmHg 未达 ≥180/110" in str(feed)
    assert all("需紧急转诊" in r.body["reasons"][0]["text"] for r in first)
    assert all("同次测量均值 160/91 mmHg" in r.body["reasons"][0]["text"] for r in follow)
