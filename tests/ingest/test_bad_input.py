"""Bad input through a real broker and a real worker: refused with a specific reason, kept with its raw bytes,
counted per meter, and the worker carries on storing good readings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cdm.payload import reading_topic
from cdm.settings import Settings
from ingest.worker import IngestWorker
from tests.ingest.test_fuzz import encoded, messages
from tests.support.ingest import running_ingest
from tests.support.mqtt import TestPublisher
from tests.support.registry import SmallCounty
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(settings: Settings, county: SmallCounty) -> Iterator[tuple[IngestWorker, threading.Thread]]:
    with running_ingest(settings) as running:
        yield running


@pytest.fixture
def meter(settings: Settings) -> Iterator[TestPublisher]:
    publisher = TestPublisher(settings, f"meter-{settings.county_code}")
    yield publisher
    publisher.close()


def bp(county: SmallCounty, seq: int, **changes: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "bp",
        "device_id": county.bp_meter,
        "seq": seq,
        "measured_at": datetime.now(UTC).isoformat(),
        "patient": {"scheme": "health_card", "value": next(iter(county.patients))},
        "systolic": 140,
        "diastolic": 85,
        "pulse": 70,
        "unit": "mmHg",
        **changes,
    }


def glucose(county: SmallCounty, seq: int, **changes: Any) -> dict[str, Any]:
    message = {k: v for k, v in bp(county, seq).items() if k not in ("systolic", "diastolic", "pulse")}
    return {
        **message,
        "kind": "glucose",
        "device_id": county.glucose_meter,
        "value": 7.2,
        "unit": "mmol/L",
        "context": "fasting",
        **changes,
    }


def raw(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def count(url: str, sql: str, *args: object) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchone()[0]


def test_each_kind_of_bad_message_is_refused_with_its_reason_and_kept(settings, county, worker, meter):
    c = settings.county_code
    bp_topic, glu_topic = reading_topic(c, county.bp_meter), reading_topic(c, county.glucose_meter)
    no_diastolic = {k: v for k, v in bp(county, 3).items() if k != "diastolic"}
    cases: list[tuple[str, str, bytes, str, str | None]] = [
        # (case, topic, payload, reason, a word the detail must contain)
        ("malformed JSON", bp_topic, b'{"v": 1, "kind": "bp",', "invalid_json", "JSON"),
        ("wrong type", bp_topic, raw(bp(county, 2, systolic="140")), "schema_invalid", "systolic"),
        ("missing field", bp_topic, raw(no_diastolic), "schema_invalid", "diastolic"),
        ("mg/dL sent as mmol/L", glu_topic, raw(glucose(county, 4, value=126)), "implausible_value", "mg/dL"),
        ("unknown unit", glu_topic, raw(glucose(county, 5, unit="mg%")), "wrong_unit", "mmol/L"),
        ("out of range", bp_topic, raw(bp(county, 6, systolic=320)), "implausible_value", "systolic"),
        ("SBP <= DBP", bp_topic, raw(bp(county, 7, systolic=90, diastolic=95)), "sbp_not_above_dbp", "90"),
        ("oversized", bp_topic, raw(bp(county, 8, note="x" * 5000)), "payload_too_large", "4096"),
        ("not UTF-8", bp_topic, b'{"v": 1, "kind": "\xff\xfe"}', "not_utf8", "UTF-8"),
        (
            "unknown device",
            reading_topic(c, "BP-ghost"),
            raw(bp(county, 9, device_id="BP-ghost")),
            "unknown_device",
            "provision",
        ),
        ("another meter's topic", glu_topic, raw(bp(county, 10)), "topic_mismatch", county.bp_meter),
        (
            "wrong kind for the meter",
            bp_topic,
            raw(glucose(county, 11, device_id=county.bp_meter)),
            "device_kind_mismatch",
            "glucose",
        ),
        ("not a readings topic", f"cdm/v1/{c}/devices/BP.0/readings", raw(bp(county, 12)), "bad_topic", "devices"),
        (
            "in the future",
            bp_topic,
            raw(bp(county, 13, measured_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())),
            "measured_in_future",
            "clock",
        ),
    ]
    for _, topic, payload, _, _ in cases:
        meter.publish(topic, payload)
    good = raw(glucose(county, 20, value=126, unit="mg/dL"))  # mg/dL, correctly labelled: accepted
    meter.publish(glu_topic, good)
    url = settings.database_url
    assert wait_until(lambda: count(url, "select count(*) from quarantine") == len(cases)), worker[0].totals
    assert wait_until(lambda: count(url, "select count(*) from reading") == 1), worker[0].totals
    assert count(url, "select glucose_mmol::numeric(4,1) from reading") == 7.0
    with psycopg.connect(url) as conn:
        kept = {bytes(r[2]): (r[0], r[1]) for r in conn.execute("select reason, detail, raw from quarantine")}
    for case, _, payload, reason, word in cases:
        assert payload in kept, f"{case}: not kept with its raw bytes"
        assert kept[payload][0] == reason, f"{case}: {kept[payload]}"
        assert word is None or word in kept[payload][1], f"{case}: detail {kept[payload][1]!r} lacks {word!r}"
    refused = {
        m: sum(1 for _, t, _, r, _ in cases if m in t and r != "unknown_device")
        for m in (county.bp_meter, county.glucose_meter)
    }
    # the glucose reading published on the BP meter's topic counts against the BP meter, and so on: per topic
    for meter_uid, n in refused.items():
        assert count(url, "select quarantined_count from device where uid = %s", meter_uid) == n, meter_uid
    assert worker[1].is_alive(), "the worker carries on"


@settings(
    max_examples=1,
    phases=[Phase.generate],
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(messages() | st.binary(max_size=300).map(lambda b: {"raw": b}), min_size=400, max_size=400))
def test_a_fuzzed_batch_through_a_real_worker_is_all_accounted_for(settings, county, worker, meter, batch):
    topic = reading_topic(settings.county_code, county.bp_meter)
    payloads = []
    for item in batch:
        if "raw" in item and isinstance(item["raw"], bytes):
            payloads.append(item["raw"])
            continue
        if item.get("device_id") == "BP-0001":
            item["device_id"] = county.bp_meter
        payloads.append(encoded(item))
    for payload in payloads:
        meter.publish(topic, payload)
    w, thread = worker
    assert wait_until(lambda: w.totals.stored + w.totals.duplicates + w.totals.quarantined == len(payloads), 60)
    url = settings.database_url
    assert count(url, "select count(*) from reading") == w.totals.stored
    assert count(url, "select count(*) from quarantine") == w.totals.quarantined
    assert count(url, "select quarantined_count from device where uid = %s", county.bp_meter) == w.totals.quarantined
    with psycopg.connect(url) as conn:
        kept = [bytes(r[0]) for r in conn.execute("select raw from quarantine")]
    assert set(kept) <= set(payloads)
    assert thread.is_alive()
