"""Every refusal has a specific reason; every accepted message becomes a normalised reading."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cdm.domain import ReadingKind
from cdm.payload import bp_payload, glucose_payload, reading_topic
from ingest.validate import Limits, Rejection, decode

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
LIMITS = Limits(county_code="demo")
TOPIC = reading_topic("demo", "BP-0001")
BP = {
    "v": 1,
    "kind": "bp",
    "device_id": "BP-0001",
    "seq": 7,
    "measured_at": "2026-11-23T11:59:00+08:00",
    "patient": {"scheme": "health_card", "value": "H001"},
    "systolic": 150,
    "diastolic": 95,
    "pulse": 70,
    "unit": "mmHg",
}
GLU = {
    **{k: v for k, v in BP.items() if k not in ("systolic", "diastolic", "pulse")},
    "kind": "glucose",
    "value": 7.2,
    "unit": "mmol/L",
    "context": "fasting",
}


def run(message: dict | bytes, topic: str = TOPIC):
    raw = message if isinstance(message, bytes) else json.dumps(message).encode()
    return decode(topic=topic, payload=raw, received_at=NOW, limits=LIMITS)


def reason(message: dict | bytes, topic: str = TOPIC) -> str:
    result = run(message, topic)
    assert isinstance(result, Rejection), result
    return result.reason


def test_a_good_bp_message_is_normalised_to_utc():
    reading = run(BP)
    assert not isinstance(reading, Rejection)
    assert reading.kind is ReadingKind.BP and (reading.systolic, reading.diastolic, reading.pulse) == (150, 95, 70)
    assert reading.measured_at == datetime(2026, 11, 23, 3, 59, tzinfo=UTC)
    assert (reading.patient_scheme, reading.patient_ref) == ("health_card", "H001")


def test_the_simulator_serialisers_produce_what_ingest_accepts():
    raw = bp_payload(device_uid="BP-0001", seq=1, measured_at=NOW, systolic=120, diastolic=80, pulse=None, patient=None)
    assert not isinstance(decode(topic=TOPIC, payload=raw, received_at=NOW, limits=LIMITS), Rejection)
    raw = glucose_payload(device_uid="GLU-1", seq=1, measured_at=NOW, mmol_l=5.5, context="fasting", patient=None)
    assert not isinstance(
        decode(topic=reading_topic("demo", "GLU-1"), payload=raw, received_at=NOW, limits=LIMITS), Rejection
    )


def test_mg_dl_is_converted_to_mmol_l():
    reading = run({**GLU, "value": 126, "unit": "mg/dL"})
    assert not isinstance(reading, Rejection) and reading.glucose_mmol == 7.0


def test_mg_dl_number_labelled_mmol_l_is_refused_with_a_hint():
    result = run({**GLU, "value": 126})
    assert isinstance(result, Rejection) and result.reason == "implausible_value" and "mg/dL" in result.detail


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe\x00", "not_utf8"),
        (b"x" * 5000, "payload_too_large"),
        ({**BP, "v": 2}, "unsupported_version"),
        ({**BP, "unit": "kPa"}, "wrong_unit"),
        ({**GLU, "unit": "mg%"}, "wrong_unit"),
        ({**BP, "systolic": "150"}, "schema_invalid"),
        ({k: v for k, v in BP.items() if k != "diastolic"}, "schema_invalid"),
        ({k: v for k, v in BP.items() if k != "kind"}, "schema_invalid"),
        ({**BP, "extra": 1}, "schema_invalid"),
        ({**BP, "measured_at": "2026-11-23T03:59:00"}, "schema_invalid"),
        ({**BP, "systolic": 301}, "implausible_value"),
        ({**BP, "systolic": 49, "diastolic": 30}, "implausible_value"),
        ({**BP, "diastolic": 201, "systolic": 250}, "implausible_value"),
        ({**BP, "pulse": 251}, "implausible_value"),
        ({**BP, "pulse": 24}, "implausible_value"),
        ({**BP, "systolic": 95, "diastolic": 95}, "sbp_not_above_dbp"),
        ({**GLU, "value": 1.0}, "implausible_value"),
        ({**GLU, "value": 33.4}, "implausible_value"),
        ({**GLU, "value": None}, "schema_invalid"),
        ({**GLU, "flag": "HI"}, "schema_invalid"),
        ({**BP, "measured_at": (NOW + timedelta(minutes=6)).isoformat()}, "measured_in_future"),
        ({**BP, "measured_at": (NOW - timedelta(days=31)).isoformat()}, "measured_too_old"),
        ({**BP, "device_id": "BP-0002"}, "topic_mismatch"),
    ],
)
def test_refusals_name_a_specific_reason(message, expected):
    assert reason(message) == expected


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("cdm/v1/other/devices/BP-0001/readings", "other_county"),
        ("cdm/v1/other/devices/BP-0001/status", "other_county"),
        ("cdm/v2/demo/devices/BP-0001/readings", "bad_topic"),
        ("cdm/v1/demo/devices/BP-0001/status", "bad_topic"),
        ("random", "bad_topic"),
    ],
)
def test_wrong_topics_are_refused(topic, expected):
    assert reason(BP, topic) == expected


def test_boundaries_of_plausibility_are_inclusive():
    assert not isinstance(run({**BP, "systolic": 300, "diastolic": 200, "pulse": 250}), Rejection)
    assert not isinstance(run({**BP, "systolic": 50, "diastolic": 30, "pulse": 25}), Rejection)
    assert not isinstance(run({**GLU, "value": 1.1}), Rejection)
    assert not isinstance(run({**GLU, "value": 33.3}), Rejection)
    assert not isinstance(run({**BP, "measured_at": (NOW + timedelta(minutes=5)).isoformat()}), Rejection)


def test_meter_flags_arrive_without_a_value():
    reading = run({**{k: v for k, v in GLU.items() if k != "value"}, "flag": "LO"})
    assert not isinstance(reading, Rejection) and reading.glucose_flag == "LO" and reading.glucose_mmol is None
