"""Property-based fuzzing of the message check: whatever a meter (or an attacker) sends, `decode` either returns a
plausible, normalised reading or refuses it with one of the known reasons and a detail; it never raises.

About 11,000 generated payloads run on every CI build (the bulk here, straight through the validator; a smaller
batch goes through a real worker in test_bad_input.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdm.domain import Reading, ReadingKind
from cdm.payload import reading_topic
from cdm.thresholds import PLAUSIBLE
from ingest.validate import DETAIL_MAX, Limits, Rejection, decode

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
LIMITS = Limits(county_code="demo")
TOPIC = reading_topic("demo", "BP-0001")
REASONS = {
    "bad_topic",
    "payload_too_large",
    "not_utf8",
    "invalid_json",
    "unsupported_version",
    "wrong_unit",
    "schema_invalid",
    "topic_mismatch",
    "measured_in_future",
    "measured_too_old",
    "implausible_value",
    "sbp_not_above_dbp",
    "bad_id_card",
    "nul_character",
    "duplicate_key",
    "other_county",
}


def fast(examples: int) -> settings:
    """Many examples, no deadline (a loaded CI machine), no example database left in the checkout."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20)
any_json = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.sampled_from([UTC, None])
).map(lambda t: t.isoformat()) | st.sampled_from(
    [
        (NOW - timedelta(seconds=30)).isoformat(),
        (NOW + timedelta(minutes=4)).isoformat(),
        (NOW - timedelta(days=29)).isoformat(),
        "2026-11-23T11:59:00+08:00",
        "yesterday",
        "",
    ]
)
bp_fields = {
    "v": st.sampled_from([1, 1, 1, 2, "1", 0]),
    "kind": st.sampled_from(["bp", "bp", "glucose", "BP", ""]),
    "device_id": st.sampled_from(["BP-0001", "BP-0001", "BP-0002", "", "BP 0001", "x" * 70]),
    "seq": st.integers(-5, 2**64) | st.sampled_from(["7", 7.5]),
    "measured_at": times,
    "patient": st.none()
    | st.fixed_dictionaries(
        {"scheme": st.sampled_from(["health_card", "qr", "id_card"]), "value": st.text(max_size=70)}
    ),
    "systolic": st.integers(-10, 400) | st.floats(0, 400) | st.sampled_from(["150", None]),
    "diastolic": st.integers(-10, 300) | st.sampled_from([None, "90"]),
    "pulse": st.none() | st.integers(-10, 400),
    "unit": st.sampled_from(["mmHg", "mmHg", "kPa", "mmol/L", "mg/dL", ""]),
    "value": st.none() | st.floats(-10, 800) | st.integers(0, 700) | st.just("7.2"),
    "flag": st.none() | st.sampled_from(["HI", "LO", "hi"]),
    "context": st.sampled_from(["fasting", "non_fasting", "random", None]),
    "extra": any_json,
}


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """A reading-shaped object: every field present or not, each value right or wrong."""
    keys = draw(st.sets(st.sampled_from(sorted(bp_fields)), min_size=0, max_size=len(bp_fields)))
    return {k: draw(bp_fields[k]) for k in sorted(keys)}


def encoded(message: dict[str, Any]) -> bytes:
    return json.dumps(message, allow_nan=True).encode()


def check(result: Reading | Rejection, raw: bytes) -> None:
    """The invariants every outcome must keep."""
    if isinstance(result, Rejection):
        assert result.reason in REASONS, result
        assert result.detail and len(result.detail) <= DETAIL_MAX + 50
        return
    assert result.device_uid == "BP-0001" and result.measured_at.tzinfo is not None
    assert NOW - LIMITS.max_buffer_age <= result.measured_at <= NOW + LIMITS.max_clock_skew
    assert len(raw) <= LIMITS.max_payload_bytes
    if result.kind is ReadingKind.BP:
        assert result.systolic is not None and result.diastolic is not None
        assert PLAUSIBLE.systolic[0] <= result.systolic <= PLAUSIBLE.systolic[1]
        assert PLAUSIBLE.diastolic[0] <= result.diastolic <= PLAUSIBLE.diastolic[1]
        assert result.systolic > result.diastolic
    else:
        assert (result.glucose_mmol is None) != (result.glucose_flag is None)
        if result.glucose_mmol is not None:
            assert PLAUSIBLE.glucose_mmol[0] <= result.glucose_mmol <= PLAUSIBLE.glucose_mmol[1]


@fast(300)
@given(st.lists(messages(), min_size=20, max_size=20))
def test_reading_shaped_messages_are_accepted_only_when_sound(batch: list[dict[str, Any]]) -> None:
    for message in batch:  # 300 x 20 = 6,000 payloads; lists cut hypothesis's per-example overhead
        raw = encoded(message)
        check(decode(topic=TOPIC, payload=raw, received_at=NOW, limits=LIMITS), raw)


@fast(150)
@given(st.lists(st.binary(max_size=5_000) | any_json.map(encoded), min_size=20, max_size=20))
def test_arbitrary_bytes_never_crash_the_check(batch: list[bytes]) -> None:
    for raw in batch:  # 3,000 payloads
        check(decode(topic=TOPIC, payload=raw, received_at=NOW, limits=LIMITS), raw)


@fast(100)
@given(st.lists(st.tuples(st.text(max_size=120) | st.just(TOPIC), messages()), min_size=20, max_size=20))
def test_arbitrary_topics_are_refused_unless_they_are_a_readings_topic(batch: list[tuple[str, dict[str, Any]]]) -> None:
    for topic, message in batch:  # 2,000 payloads
        raw = encoded(message)
        result = decode(topic=topic, payload=raw, received_at=NOW, limits=LIMITS)
        if topic == TOPIC:
            check(result, raw)
        else:
            assert isinstance(result, Rejection) and result.reason == "bad_topic"
