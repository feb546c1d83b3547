"""Pure checks of one MQTT message: topic, size, encoding, schema, units, plausibility, time. No I/O.

Each refusal carries a reason code (shown to staff through the message catalogue, `quarantine.<code>`) and a
detail a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from cdm.domain import GlucoseContext, Reading, ReadingKind
from cdm.payload import READING_V1, BpReadingV1, GlucoseReadingV1, parse_topic
from cdm.thresholds import MG_DL_PER_MMOL_L, PLAUSIBLE

DETAIL_MAX = 300  # enough for the first few field errors; the raw bytes are kept in full beside it


@dataclass(frozen=True, slots=True)
class Limits:
    county_code: str
    max_payload_bytes: int = 4096
    max_clock_skew: timedelta = timedelta(minutes=5)
    max_buffer_age: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    detail: str
    device_uid: str | None


def decode(*, topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Reading | Rejection:
    """Turn one message into a normalised Reading, or say exactly why it is refused."""
    parsed_topic = parse_topic(topic)
    if parsed_topic is None or parsed_topic[0] != limits.county_code:
        return Rejection(
            "bad_topic",
            f"topic {topic[:120]!r} is not cdm/v1/{limits.county_code}/devices/<id>/readings",
            parsed_topic[1] if parsed_topic else None,
        )
    device_uid = parsed_topic[1]
    if len(payload) > limits.max_payload_bytes:
        return Rejection("payload_too_large", f"{len(payload)} bytes, limit {limits.max_payload_bytes}", device_uid)
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection("not_utf8", f"byte {exc.start} is not UTF-8", device_uid)
    try:
        msg = READING_V1.validate_json(payload)
    except ValidationError as exc:
        return _schema_rejection(exc, device_uid)
    if msg.device_id != device_uid:
        return Rejection(
            "topic_mismatch", f"payload device_id {msg.device_id!r} published on {device_uid!r}'s topic", device_uid
        )
    time_problem = _check_time(msg.measured_at, received_at, limits)
    if time_problem:
        return Rejection(time_problem[0], time_problem[1], device_uid)
    if isinstance(msg, BpReadingV1):
        return _bp(msg, received_at)
    return _glucose(msg, received_at)


def _schema_rejection(exc: ValidationError, device_uid: str) -> Rejection:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return Rejection("invalid_json", f"not JSON: {first['msg']}", device_uid)
    fields = [_field_name(e["loc"]) for e in errors]
    if any(e["loc"][-1:] == ("v",) for e in errors):
        return Rejection("unsupported_version", 'this server reads message version 1 ("v": 1)', device_uid)
    if any(e["loc"][-1:] == ("unit",) for e in errors):
        return Rejection("wrong_unit", "unit must be mmHg for BP, mmol/L or mg/dL for glucose", device_uid)
    detail = "; ".join(f"{f}: {e['msg']}" for f, e in zip(fields, errors, strict=True))
    return Rejection("schema_invalid", detail[:DETAIL_MAX], device_uid)


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("bp", "glucose")]  # drop the union's tag from the path
    return ".".join(parts) or "kind (bp or glucose)"


def _check_time(measured_at: datetime, received_at: datetime, limits: Limits) -> tuple[str, str] | None:
    if measured_at > received_at + limits.max_clock_skew:
        ahead = (measured_at - received_at).total_seconds()
        return "measured_in_future", f"measured_at is {ahead:.0f} s after arrival; check the meter's clock"
    if measured_at < received_at - limits.max_buffer_age:
        age = (received_at - measured_at).days
        return (
            "measured_too_old",
            f"measured {age} days ago; meters may replay at most {limits.max_buffer_age.days} days",
        )
    return None


def _identity(msg: BpReadingV1 | GlucoseReadingV1, received_at: datetime) -> dict[str, Any]:
    """Who and when, common to both kinds of reading."""
    return {
        "device_uid": msg.device_id,
        "seq": msg.seq,
        "measured_at": msg.measured_at.astimezone(UTC),
        "received_at": received_at,
        "patient_scheme": msg.patient.scheme if msg.patient else None,
        "patient_ref": msg.patient.value if msg.patient else None,
    }


def _outside(value: float, bounds: tuple[float, float]) -> bool:
    return not bounds[0] <= value <= bounds[1]


def _bp(msg: BpReadingV1, received_at: datetime) -> Reading | Rejection:
    for name, value, bounds in (
        ("systolic", msg.systolic, PLAUSIBLE.systolic),
        ("diastolic", msg.diastolic, PLAUSIBLE.diastolic),
        ("pulse", msg.pulse, PLAUSIBLE.pulse),
    ):
        if value is not None and _outside(value, bounds):
            return Rejection("implausible_value", f"{name} {value} outside {bounds[0]}-{bounds[1]}", msg.device_id)
    if msg.systolic <= msg.diastolic:
        return Rejection("sbp_not_above_dbp", f"systolic {msg.systolic} <= diastolic {msg.diastolic}", msg.device_id)
    return Reading(
        **_identity(msg, received_at),
        kind=ReadingKind.BP,
        systolic=msg.systolic,
        diastolic=msg.diastolic,
        pulse=msg.pulse,
    )


def _glucose(msg: GlucoseReadingV1, received_at: datetime) -> Reading | Rejection:
    if (msg.value is None) == (msg.flag is None):
        return Rejection(
            "schema_invalid", "send either value (a number) or flag (HI/LO), not both or neither", msg.device_id
        )
    mmol = None
    if msg.value is not None:
        mmol = round(msg.value / MG_DL_PER_MMOL_L, 1) if msg.unit == "mg/dL" else msg.value
        if _outside(mmol, PLAUSIBLE.glucose_mmol):
            low, high = PLAUSIBLE.glucose_mmol
            hint = ""
            if msg.unit == "mmol/L" and not _outside(msg.value / MG_DL_PER_MMOL_L, PLAUSIBLE.glucose_mmol):
                hint = "; it looks like mg/dL sent as mmol/L"
            return Rejection(
                "implausible_value", f"glucose {msg.value} {msg.unit} outside {low}-{high} mmol/L{hint}", msg.device_id
            )
    return Reading(
        **_identity(msg, received_at),
        kind=ReadingKind.GLUCOSE,
        glucose_mmol=mmol,
        glucose_flag=msg.flag,
        glucose_context=GlucoseContext(msg.context),
    )
