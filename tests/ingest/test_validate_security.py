"""Refusals a security review asked for: each bad message gets its own reason, and nothing a refusal says holds an
identity or mobile number."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cdm.identity import check_character
from cdm.payload import reading_topic
from ingest.validate import Limits, Rejection, decode

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
LIMITS = Limits(county_code="demo")
TOPIC = reading_topic("demo", "BP-0001")
ID = "33010219800101124" + check_character("33010219800101124")
WRONG_CHECK = ID[:17] + ("0" if ID[17] != "0" else "1")
BP = (
    '{"v": 1, "kind": "bp", "device_id": "BP-0001", "seq": 7, "measured_at": "2026-11-23T11:59:00+08:00",'
    ' %s "systolic": 150, "diastolic": 95, "unit": "mmHg"}'
)


def refused(raw: bytes | str, topic: str = TOPIC) -> Rejection:
    payload = raw.encode() if isinstance(raw, str) else raw
    result = decode(topic=topic, payload=payload, received_at=NOW, limits=LIMITS)
    assert isinstance(result, Rejection), result
    return result


@pytest.mark.parametrize(
    "patient",
    [
        {"scheme": "id_card", "value": WRONG_CHECK},
        {"scheme": "health_card", "value": ID},
        {"scheme": "qr", "value": f"ID{ID}"},  # a valid number inside a longer reference
        {"scheme": "health_card", "value": f"{ID}00"},
        {"scheme": "health_card", "value": f" {ID} "},  # characters the schema refuses around it
    ],
)
def test_an_id_card_number_wrongly_typed_or_under_another_scheme_is_bad_id_card(patient: dict[str, str]) -> None:
    rejection = refused(BP % f'"patient": {json.dumps(patient)},')
    assert rejection.reason == "bad_id_card"
    assert ID not in rejection.detail and WRONG_CHECK not in rejection.detail


@pytest.mark.parametrize("nul", ["\\u0000", "\\U0000"])
def test_a_nul_anywhere_is_refused_with_its_own_reason(nul: str) -> None:
    assert refused(BP % f'"note{nul}": 1,').reason == "nul_character"
    assert refused(BP % f'"patient": {{"scheme": "qr", "value": "Q{nul}1"}},').reason == "nul_character"
    assert refused((BP % "").encode().replace(b'"v"', b'"\x00v"')).reason == "nul_character"


def test_a_key_given_twice_is_refused_as_ambiguous() -> None:
    rejection = refused(BP % '"systolic": 120,')
    assert rejection.reason == "duplicate_key" and "systolic" in rejection.detail
    # The same key spelt with an escape is the same key.
    assert refused(BP % '"sys\\u0074olic": 120,').reason == "duplicate_key"
    # The same name in two different objects is not ambiguous.
    fine = decode(
        topic=TOPIC,
        payload=(BP % '"patient": {"scheme": "qr", "value": "Q1"},').replace('"unit"', '"pulse": 70, "unit"').encode(),
        received_at=NOW,
        limits=LIMITS,
    )
    assert not isinstance(fine, Rejection)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z"])
def test_dates_at_the_ends_of_the_calendar_are_refused_not_crashed_on(when: str) -> None:
    raw = (BP % "").replace("2026-11-23T11:59:00+08:00", when)
    assert refused(raw).reason in {"measured_in_future", "measured_too_old"}


def test_identity_numbers_in_topics_and_device_ids_never_reach_a_refusal() -> None:
    on_topic = refused(BP % "", topic=f"cdm/v1/demo/devices/{ID}/readings")
    assert ID not in on_topic.detail and ID not in (on_topic.device_uid or "")
    stray = refused(BP % "", topic=f"cdm/v1/other/devices/{ID}/readings")
    assert stray.reason == "other_county" and ID not in stray.detail and ID not in (stray.device_uid or "")
    unknown_key = refused(BP % f'"{ID}": 1,')
    assert ID not in unknown_key.detail and "330102********" in unknown_key.detail
