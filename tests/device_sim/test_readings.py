"""Sittings and bad messages: valid readings parse with the shared schema and stay physiologically plausible."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from cdm.payload import READING_V1, BpReadingV1, parse_topic
from device_sim.county import County, SimPatient, generate_county
from device_sim.readings import (
    BAD_REASONS,
    BpValues,
    GlucoseValues,
    bad_message,
    encode,
    is_critical,
    meter_kind_for,
    patient_ref,
    random_patient_ref,
    sitting,
)

NOW = datetime(2026, 3, 9, 8, 30, 15, 987654, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def county() -> County:
    return generate_county(code="rd", name="丁县", patients=1500, unstable_share=0.05, seed=5, as_of_year=2026)


def _all_sittings(county: County, n: int, seed: int = 1) -> list[tuple[SimPatient, tuple[object, ...]]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = county.patients[i % len(county.patients)]
        out.append((p, sitting(p, meter_kind_for(p, rng), rng=rng, now=NOW)))
    return out


def test_valid_readings_parse_and_lie_in_physiological_ranges(county: County) -> None:
    rng = random.Random(2)
    for p, values in _all_sittings(county, 6000):
        for v in values:
            payload = encode(v, meter_uid="BP-rd-0001", seq=12, patient=random_patient_ref(p, rng))
            msg = READING_V1.validate_json(payload)
            if isinstance(v, BpValues):
                assert isinstance(msg, BpReadingV1)
                assert 50 <= v.systolic <= 300 and 30 <= v.diastolic <= 200 and 25 <= v.pulse <= 250
                assert v.systolic > v.diastolic
            else:
                assert isinstance(v, GlucoseValues)
                assert 1.1 <= v.mmol_l <= 33.3
                assert v.context in {"fasting", "non_fasting"}
            assert msg.measured_at <= NOW and msg.measured_at.utcoffset() is not None


def test_bp_sitting_is_two_readings_one_to_two_minutes_apart_in_the_past(county: County) -> None:
    rng = random.Random(3)
    for p in county.patients[:500]:
        first, second = sitting(p, "bp", rng=rng, now=NOW)
        gap = (second.measured_at - first.measured_at).total_seconds()
        assert 59 <= gap <= 120
        assert second.measured_at <= NOW and NOW - second.measured_at <= timedelta(seconds=6)


def test_glucose_sitting_is_one_reading_with_both_contexts_seen(county: County) -> None:
    rng = random.Random(4)
    diabetics = [p for p in county.patients if p.diabetes][:300]
    results = [sitting(p, "glucose", rng=rng, now=NOW) for p in diabetics]
    assert all(len(r) == 1 for r in results)
    assert {r[0].context for r in results} == {"fasting", "non_fasting"}


def test_stable_patients_never_produce_critical_values(county: County) -> None:
    stable = [(p, s) for p, s in _all_sittings(county, 8000) if not p.unstable]
    assert stable and not any(is_critical(v) for _, s in stable for v in s)


def test_unstable_patients_sometimes_produce_critical_values(county: County) -> None:
    p = next(p for p in county.patients if p.unstable and p.diabetes)
    rng = random.Random(9)
    kinds = {"bp": 0, "glucose": 0}
    for kind in kinds:
        sittings = [sitting(p, kind, rng=rng, now=NOW) for _ in range(400)]  # type: ignore[arg-type]
        critical = sum(any(is_critical(v) for v in s) for s in sittings)
        assert 0.3 * p.critical_chance * 400 <= critical <= 2 * p.critical_chance * 400 + 10
        kinds[kind] = critical
    assert all(kinds.values())


@pytest.mark.parametrize(
    ("values", "critical"),
    [
        (BpValues(179, 109, 70, NOW), False),
        (BpValues(180, 100, 70, NOW), True),
        (BpValues(150, 110, 70, NOW), True),
        (GlucoseValues(16.6, "fasting", NOW), False),
        (GlucoseValues(16.7, "fasting", NOW), True),
        (GlucoseValues(4.0, "fasting", NOW), False),
        (GlucoseValues(3.9, "fasting", NOW), True),
    ],
)
def test_is_critical_at_the_thresholds(values: BpValues | GlucoseValues, critical: bool) -> None:
    assert is_critical(values) is critical


def test_sitting_is_deterministic_for_a_seeded_rng(county: County) -> None:
    p = county.patients[0]
    assert sitting(p, "bp", rng=random.Random(1), now=NOW) == sitting(p, "bp", rng=random.Random(1), now=NOW)


def test_naive_now_is_refused(county: County) -> None:
    with pytest.raises(ValueError):
        sitting(county.patients[0], "bp", rng=random.Random(1), now=datetime(2026, 1, 1))


def test_utc_now_gives_utc_times(county: County) -> None:
    now = datetime.now(UTC)
    (v,) = sitting(county.patients[0], "glucose", rng=random.Random(1), now=now)
    assert v.measured_at.utcoffset() == UTC.utcoffset(None) and v.measured_at <= now


def test_patient_ref_uses_the_card_or_its_qr_code(county: County) -> None:
    p = county.patients[3]
    assert patient_ref(p).value == p.health_card_no and patient_ref(p).scheme == "health_card"
    assert patient_ref(p, scheme="qr").value == p.qr_code
    rng = random.Random(1)
    assert {random_patient_ref(p, rng).scheme for _ in range(100)} == {"health_card", "qr"}


def _is_acceptable(county: County, topic: str, payload: bytes) -> bool:
    """What ingest would accept as an attributable, plausible reading of a known meter."""
    try:
        msg = READING_V1.validate_json(payload)
    except ValidationError:
        return False
    _, device = parse_topic(topic) or ("", "")
    cards = {p.health_card_no for p in county.patients} | {p.qr_code for p in county.patients}
    if device != msg.device_id or device not in {m.uid for m in county.meters} or msg.measured_at > NOW:
        return False
    if msg.patient is None or msg.patient.value not in cards:
        return False
    if isinstance(msg, BpReadingV1):
        return 50 <= msg.systolic <= 300 and 30 <= msg.diastolic <= 200 and msg.systolic > msg.diastolic
    return msg.value is not None and 1.1 <= msg.value <= 33.3


@pytest.mark.parametrize("reason", BAD_REASONS)
def test_every_kind_of_bad_message_is_bad_and_on_a_reading_topic(county: County, reason: str) -> None:
    p = next(p for p in county.patients if p.hypertension)
    meter = county.meter_for(p.village_code, "bp")
    bad = bad_message(county_code="rd", meter=meter, patient=p, rng=random.Random(1), now=NOW, seq=5, reason=reason)
    assert bad.reason == reason
    assert parse_topic(bad.topic) is not None and parse_topic(bad.topic)[0] == "rd"  # type: ignore[index]
    assert not _is_acceptable(county, bad.topic, bad.payload)
    # The checker is not trivially false: a good reading of this meter on the same topic passes it.
    good = encode(
        sitting(p, "bp", rng=random.Random(1), now=NOW)[0], meter_uid=meter.uid, seq=5, patient=patient_ref(p)
    )
    if reason != "unknown_device":
        assert _is_acceptable(county, bad.topic, good)


def test_random_bad_messages_cover_many_reasons_and_suit_the_meter(county: County) -> None:
    rng = random.Random(2)
    p = next(p for p in county.patients if p.diabetes)
    meter = county.meter_for(p.village_code, "glucose")
    bad = [bad_message(county_code="rd", meter=meter, patient=p, rng=rng, now=NOW, seq=i) for i in range(300)]
    assert {b.reason for b in bad} == set(BAD_REASONS) - {"sbp_not_above_dbp"}
    assert not any(_is_acceptable(county, b.topic, b.payload) for b in bad)
    with pytest.raises(ValueError):
        bad_message(county_code="rd", meter=meter, patient=p, rng=rng, now=NOW, seq=1, reason="sbp_not_above_dbp")


def test_wrong_unit_changes_only_the_unit(county: County) -> None:
    p = county.patients[0]
    meter = dataclasses.replace(county.meters[0], kind="bp")
    bad = bad_message(
        county_code="rd", meter=meter, patient=p, rng=random.Random(1), now=NOW, seq=1, reason="wrong_unit"
    )
    assert json.loads(bad.payload)["unit"] == "kPa"
