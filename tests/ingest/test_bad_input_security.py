"""The bad messages of the security review through a real broker and a real worker: each kept with a specific
reason and counted on its meter, no identity number in clear in any column, and the worker alive afterwards."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from cdm.identity import check_character
from cdm.payload import reading_topic, status_topic
from cdm.settings import Settings
from ingest.batch import quarantine_one
from ingest.devices.service import list_devices
from ingest.message import InboundMessage
from ingest.worker import IngestWorker
from tests.support.ingest import running_ingest
from tests.support.mqtt import TestPublisher
from tests.support.registry import SmallCounty
from tests.support.store_scan import columns_holding
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ID = "33010219800101124" + check_character("33010219800101124")
WRONG_CHECK = ID[:17] + ("0" if ID[17] != "0" else "1")
PHONE = "13812345678"


@pytest.fixture
def worker(settings: Settings, county: SmallCounty) -> Iterator[tuple[IngestWorker, threading.Thread]]:
    # Every topic under cdm/, as a county's own broker gives it: another county's messages are kept, not lost.
    with running_ingest(settings.model_copy(update={"ingest_catch_all": True})) as running:
        yield running


def _bp(county: SmallCounty, seq: int, extra: str = "", patient: dict[str, str] | None = None) -> bytes:
    who = patient or {"scheme": "health_card", "value": next(iter(county.patients))}
    return (
        f'{{"v": 1, "kind": "bp", "device_id": "{county.bp_meter}", "seq": {seq},'
        f' "measured_at": "{datetime.now(UTC).isoformat()}", "patient": {json.dumps(who)}, {extra}'
        ' "systolic": 150, "diastolic": 90, "unit": "mmHg"}'
    ).encode()


def _status(uid: str, at: str) -> bytes:
    return f'{{"v": 1, "device_id": "{uid}", "state": "online", "at": "{at}"}}'.encode()


def _cases(settings: Settings, county: SmallCounty, other: str) -> list[tuple[str, bytes, str]]:
    c, m = settings.county_code, county.bp_meter
    topic, status = reading_topic(c, m), status_topic(c, m)
    return [
        (topic, _bp(county, 1, '"no\\u0000te": 1,'), "nul_character"),
        (topic, _bp(county, 2, '"systolic": 120,'), "duplicate_key"),
        (topic, _bp(county, 3, patient={"scheme": "id_card", "value": WRONG_CHECK}), "bad_id_card"),
        (topic, _bp(county, 4, patient={"scheme": "health_card", "value": f"ID{ID}"}), "bad_id_card"),
        (topic, _bp(county, 5, f'"id": {ID}, "phone": "{PHONE}",'), "schema_invalid"),
        (topic, f'{{"v": 1, "kind": "bp", "note": "{ID} "'.encode(), "invalid_json"),  # cut off after the number
        (topic, _bp(county, 6, f'"{ID}": 1,'), "schema_invalid"),  # the number as a key
        (reading_topic(c, ID), _bp(county, 7), "topic_mismatch"),  # ... as a meter id in the topic
        (reading_topic(other, m), _bp(county, 8), "other_county"),
        (status, _status(m, "0001-01-01T00:00:00+08:00"), "status_time_out_of_range"),
        (status, _status(m, "9999-12-31T23:59:59-05:00"), "status_time_out_of_range"),
        (status, _status(m, "2026-01-01T00:00:00Z").replace(b'"state"', b'"state": "offline", "state"'),
         "duplicate_key"),
    ]  # fmt: skip


def test_every_bad_message_is_kept_with_its_reason_counted_and_masked(settings, county, worker) -> None:
    other = f"o{uuid.uuid4().hex[:10]}"
    cases = _cases(settings, county, other)
    publisher = TestPublisher(settings, f"meter-{settings.county_code}")
    for topic, payload, _ in cases:
        publisher.publish(topic, payload)
    publisher.publish(reading_topic(settings.county_code, county.bp_meter), _bp(county, 30))  # a good one after
    publisher.close()
    url = settings.database_url

    def mine() -> list[tuple[str, str, str | None]]:
        with psycopg.connect(url) as conn:
            return conn.execute(
                "select reason, topic, device_uid from quarantine where topic like %s or topic like %s order by id",
                (f"cdm/v1/{settings.county_code}/%", f"cdm/v1/{other}/%"),
            ).fetchall()

    assert wait_until(lambda: len(mine()) == len(cases), 30), mine()
    assert wait_until(lambda: worker[0].totals.stored == 1)
    assert sorted(r[0] for r in mine()) == sorted(reason for _, _, reason in cases)
    with psycopg.connect(url) as conn:
        counted = conn.execute("select quarantined_count from device where uid = %s", (county.bp_meter,)).fetchone()
        rows = conn.execute("select count(*) from quarantine where device_uid = %s", (county.bp_meter,)).fetchone()
        assert counted == rows and rows is not None and rows[0] == len(cases) - 1  # all but the masked meter id
        assert conn.execute("select count(*) from quarantine where reason = 'store_error'").fetchone() == (0,)
        devices = list_devices(conn, clinic_code=None)  # a status time from year 1 or 9999 would break the listing
        in_clear = columns_holding(conn, ID, WRONG_CHECK, PHONE)
    assert {d["uid"] for d in devices} >= {county.bp_meter}
    assert in_clear == []
    assert worker[1].is_alive()


def test_a_message_the_store_refuses_one_by_one_is_counted_on_its_meter(settings, county) -> None:
    msg = InboundMessage(1, 1, reading_topic(settings.county_code, county.bp_meter), b"{}", datetime.now(UTC))
    with psycopg.connect(settings.database_url) as conn:
        quarantine_one(conn, msg, reason="store_error", detail=f"value {ID} refused")
        conn.commit()
        detail = conn.execute("select detail from quarantine").fetchone()
        counted = conn.execute("select quarantined_count from device where uid = %s", (county.bp_meter,)).fetchone()
    assert counted == (1,) and detail is not None and ID not in detail[0]
