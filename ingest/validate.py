"""Pure checks of one MQTT message: topic, size, encoding, schema, units, plausibility, time. No I/O.

Each refusal carries a reason code (shown to staff through the message catalogue, `quarantine.<code>`) and a
detail a person can act on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from cdm.domain import GlucoseContext, Reading, ReadingKind
from cdm.payload import READING_V1, BpReadingV1, GlucoseReadingV1, parse_topic
from cdm.privacy import contains_id_number, redact
from cdm.thresholds import MG_DL_PER_MMOL_L, PLAUSIBLE

DETAIL_MAX = 300  # enough for the first few field errors; the raw bytes are kept in full beside it
_NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)
_ANY_COUNTY_TOPIC = re.compile(r"^cdm/v1/(?P<county>[a-z0-9][a-z0-9_-]{0,31})/devices/(?P<device>[A-Za-z0-9_-]{1,64})/")


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
    # measured_in_future: how far ahead of arrival the meter's clock put it (the same measure as device.clock_skew_s)
    skew_s: float | None = None


def decode(*, topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Reading | Rejection:
    """Turn one message into a normalised Reading, or say exactly why it is refused (identity and mobile numbers
    masked in what the refusal says)."""
    outcome = _decode(topic=topic, payload=payload, received_at=received_at, limits=limits)
    if isinstance(outcome, Rejection):
        uid = redact(outcome.device_uid) if outcome.device_uid else None
        return Rejection(outcome.reason, redact(outcome.detail), uid, outcome.skew_s)
    return outcome


def _decode(*, topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Reading | Rejection:
    parsed_topic = parse_topic(topic)
    if parsed_topic is None or parsed_topic[0] != limits.county_code:
        return _topic_rejection(topic, limits.county_code)
    device_uid = parsed_topic[1]
    if len(payload) > limits.max_payload_bytes:
        return Rejection("payload_too_large", f"{len(payload)} bytes, limit {limits.max_payload_bytes}", device_uid)
    problem = envelope_problem(payload)
    if problem:
        return Rejection(problem[0], problem[1], device_uid)
    duplicate = duplicate_key(payload)  # before the schema: an ambiguous message is refused as such, whatever else
    if duplicate:
        return Rejection("duplicate_key", duplicate, device_uid)
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
        ahead = (msg.measured_at - received_at).total_seconds() if time_problem[0] == "measured_in_future" else None
        return Rejection(time_problem[0], time_problem[1], device_uid, ahead)
    if isinstance(msg, BpReadingV1):
        return _bp(msg, received_at)
    return _glucose(msg, received_at)


def _topic_rejection(topic: str, county_code: str) -> Rejection:
    """`other_county` for a meter topic of another county (kept where the broker lets ingest read it), else
    `bad_topic`."""
    shown = topic[:120].replace("\x00", "\\u0000")
    any_county = _ANY_COUNTY_TOPIC.match(topic)
    if any_county and any_county["county"] != county_code:
        return Rejection(
            "other_county",
            f"topic {shown!r} is county {any_county['county']!r}'s; this server keeps county {county_code!r}",
            any_county["device"],
        )
    parsed = parse_topic(topic)
    return Rejection(
        "bad_topic", f"topic {shown!r} is not cdm/v1/{county_code}/devices/<id>/readings", parsed[1] if parsed else None
    )


def envelope_problem(payload: bytes) -> tuple[str, str] | None:
    """(reason, detail) when the bytes cannot be a message at all: not UTF-8, or a NUL character, which no field
    may hold (PostgreSQL text cannot store it, so it would fail the whole batch's transaction)."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "not_utf8", f"byte {exc.start} is not UTF-8"
    if b"\x00" in payload or _NUL_ESCAPE.search(payload):
        return "nul_character", "the message holds a NUL character (\\u0000), which no field may contain"
    return None


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


# One decoder for every message: json.loads with a hook builds a new decoder (and its scanner) at each call, which
# cost more than the parse itself.
_DUPLICATES_DECODER = json.JSONDecoder(object_pairs_hook=_refuse_duplicates)


def duplicate_key(payload: bytes) -> str | None:
    """What to say when a JSON object of the message names a key twice (`systolic` twice is an ambiguous medical
    value: JSON parsers silently keep the last one), else None."""
    try:
        # as json.loads(payload, object_pairs_hook=...) reads bytes
        _DUPLICATES_DECODER.decode(payload.decode(json.detect_encoding(payload), "surrogatepass"))
    except _DuplicateKey as dup:
        return f"key {str(dup)[:40]!r} appears twice in one object; an ambiguous value is not stored"
    except ValueError:
        return None  # not JSON: the schema check says so
    return None


def _schema_rejection(exc: ValidationError, device_uid: str) -> Rejection:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return Rejection("invalid_json", f"not JSON: {first['msg']}", device_uid)
    id_card = next((e for e in errors if _is_id_card_error(e)), None)
    if id_card is not None:
        return Rejection("bad_id_card", _id_card_detail(id_card), device_uid)
    fields = [_field_name(e["loc"]) for e in errors]
    if any(e["loc"][-1:] == ("v",) for e in errors):
        return Rejection("unsupported_version", 'this server reads message version 1 ("v": 1)', device_uid)
    if any(e["loc"][-1:] == ("unit",) for e in errors):
        return Rejection("wrong_unit", "unit must be mmHg for BP, mmol/L or mg/dL for glucose", device_uid)
    detail = "; ".join(f"{f}: {e['msg']}" for f, e in zip(fields, errors, strict=True))
    return Rejection("schema_invalid", detail[:DETAIL_MAX], device_uid)


def _is_id_card_error(error: Any) -> bool:
    """An ID-card number with a wrong check character or birth date, or one sent under another scheme (even inside
    a longer value, or with characters the schema does not allow)."""
    if error["type"] == "id_card_invalid":
        return True
    value = error.get("input")
    return error["loc"][-2:] == ("patient", "value") and isinstance(value, str) and contains_id_number(value)


def _id_card_detail(error: Any) -> str:
    if error["type"] == "id_card_invalid":
        return f"patient.value: {error['msg']}"
    return "patient.value: this holds an ID-card number; send it alone with scheme id_card so it is not kept"


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
