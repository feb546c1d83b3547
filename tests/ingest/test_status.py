"""Meters' online/offline state through a real broker and the real ingest worker: status, will, heartbeats, silence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from app import jobs
from cdm.payload import heartbeat_payload, heartbeat_topic
from cdm.settings import Settings
from device_sim.sim_meter import SimMeter
from ingest.status.service import refresh_status
from ingest.worker import IngestWorker
from tests.support.ingest import running_ingest
from tests.support.mqtt import TestPublisher
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@contextmanager
def ingest(settings: Settings, client_id: str | None = None) -> Iterator[IngestWorker]:
    if client_id:
        settings = settings.model_copy(update={"ingest_client_id": client_id})
    with running_ingest(settings) as (worker, _thread):
        yield worker


def device(url: str, uid: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select status, status_reason, status_at, last_seen_at, last_heartbeat_at, battery_pct, signal_dbm,"
            " heartbeat_interval_s from device where uid = %s",
            (uid,),
        ).fetchone()
    keys = ("status", "reason", "status_at", "last_seen_at", "last_heartbeat_at", "battery", "signal", "interval")
    return dict(zip(keys, row, strict=True))


def test_status_will_and_heartbeats_keep_the_meter_state(settings, county):
    url, uid = settings.database_url, county.bp_meter
    with ingest(settings):
        meter = SimMeter(settings, uid=uid, heartbeat_s=30).connect()
        assert wait_until(lambda: device(url, uid)["status"] == "online" and device(url, uid)["battery"] is not None)
        state = device(url, uid)
        assert state["reason"] == "status" and state["interval"] == 30
        assert -105 <= state["signal"] <= -60 and 0 <= state["battery"] <= 100
        assert state["last_heartbeat_at"] is not None and state["last_seen_at"] is not None

        meter.vanish()  # power lost: no DISCONNECT, the broker publishes the will
        assert wait_until(lambda: device(url, uid)["status"] == "offline")
        assert device(url, uid)["reason"] == "will"

        again = SimMeter(settings, uid=uid, heartbeat_s=30).connect()
        assert wait_until(lambda: device(url, uid)["status"] == "online")
        again.close()  # a clean shutdown says offline itself
        assert wait_until(lambda: device(url, uid)["status"] == "offline")
        assert device(url, uid)["reason"] == "status"


def test_a_silent_meter_is_flagged_offline_without_a_will_and_a_stale_retained_online_does_not_revive_it(
    settings, county
):
    url, uid = settings.database_url, county.bp_meter
    with ingest(settings):
        meter = SimMeter(settings, uid=uid, heartbeat_s=10).connect()
        assert wait_until(lambda: device(url, uid)["last_heartbeat_at"] is not None)
        meter.stop_heartbeats()  # still connected, so the broker never sends the will: only silence tells
        heard = device(url, uid)["last_heartbeat_at"]
        with psycopg.connect(url) as conn:
            assert refresh_status(conn, now=heard + timedelta(seconds=24), grace=2.5)["offline"] == []
            assert refresh_status(conn, now=heard + timedelta(seconds=26), grace=2.5)["offline"] == [uid]
            conn.commit()
        assert device(url, uid)["status"] == "offline" and device(url, uid)["reason"] == "silent"

    # A worker subscribing afresh receives the broker's retained "online" of the hung meter: older than the
    # store's verdict, it changes nothing. Another meter coming online afterwards marks the replay as processed.
    with ingest(settings, client_id=f"ingest-2-{settings.county_code}"):
        marker = SimMeter(settings, uid=county.glucose_meter, heartbeat_s=30).connect()
        assert wait_until(lambda: device(url, county.glucose_meter)["status"] == "online")
        assert device(url, uid)["status"] == "offline" and device(url, uid)["reason"] == "silent"
        marker.close()
    meter.close()


def test_bad_heartbeats_are_quarantined_with_a_reason_and_readings_still_flow(settings, county):
    url = settings.database_url
    with ingest(settings) as worker:
        pub = TestPublisher(settings, "raw-meter")
        topic = heartbeat_topic(settings.county_code, county.bp_meter)
        pub.publish(topic, b'{"v": 1, "device_id": "%s", "sent_at": "now"}' % county.bp_meter.encode())
        stranger = heartbeat_payload(
            device_uid="BP-nobody", sent_at=datetime.now(UTC), battery_pct=50, signal_dbm=-70, interval_s=60
        )
        pub.publish(heartbeat_topic(settings.county_code, "BP-nobody"), stranger)
        pub.publish(topic, b"\xff not even UTF-8")
        pub.close()
        assert wait_until(lambda: _reasons(url) == ["bad_heartbeat", "unknown_device", "not_utf8"]), _reasons(url)
        assert worker.totals.stored == 0


def _reasons(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("select reason from quarantine order by id")]


def test_the_scheduled_job_flags_silent_meters_and_revives_meters_heard_from_again(settings, county):
    now = datetime.now(UTC)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            "update device set status = 'online', status_at = %s, last_heartbeat_at = %s, last_seen_at = %s,"
            " heartbeat_interval_s = 3600 where uid = %s",
            (now - timedelta(hours=5), now - timedelta(hours=3), now - timedelta(hours=3), county.bp_meter),
        )
        conn.execute(
            "update device set status = 'offline', status_reason = 'will', status_at = %s, last_seen_at = %s"
            " where uid = %s",
            (now - timedelta(hours=1), now - timedelta(minutes=2), county.glucose_meter),
        )
        conn.commit()
    jobs.flag_silent_meters(settings)
    assert (
        device(settings.database_url, county.bp_meter)["status"],
        device(settings.database_url, county.bp_meter)["reason"],
    ) == ("offline", "silent")
    assert (
        device(settings.database_url, county.glucose_meter)["status"],
        device(settings.database_url, county.glucose_meter)["reason"],
    ) == ("online", "reading")
    jobs.flag_silent_meters(settings)  # nothing changes on a second run
    assert device(settings.database_url, county.bp_meter)["reason"] == "silent"
