"""What a meter measures at one sitting, and the deliberately bad messages a demo needs; pure, no I/O."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from cdm.payload import PatientRef, bp_payload, glucose_payload, reading_topic
from cdm.thresholds import DEFAULT_EDITION, PLAUSIBLE, for_edition
from device_sim.county import Meter, MeterKind, SimPatient

# Urgent-referral criteria (clinical-reference §1). Stable patients are kept strictly inside them, so every
# critical value the simulator sends comes from an unstable patient's episode and alerts stay countable.
_URGENT = for_edition(DEFAULT_EDITION)  # the urgent-referral criteria are the same in every edition
SBP_CRITICAL, DBP_CRITICAL = _URGENT.bp_critical_systolic, _URGENT.bp_critical_diastolic
GLUCOSE_HIGH_CRITICAL, GLUCOSE_LOW_CRITICAL = _URGENT.glucose_critical_high, _URGENT.glucose_critical_low
# Physiological plausibility (clinical-reference §6): what a working meter can send.
SBP_RANGE, DBP_RANGE, PULSE_RANGE = PLAUSIBLE.systolic, PLAUSIBLE.diastolic, PLAUSIBLE.pulse
GLUCOSE_RANGE = PLAUSIBLE.glucose_mmol
# Guidelines ask for two BP readings 1-2 minutes apart at one sitting.
BP_GAP_S = (60.0, 120.0)
# A meter stamps a reading up to this long before it is sent (the 4G modem takes a moment).
SEND_DELAY_S = 5.0
# Share of sittings where the village doctor scans the QR code on the card instead of typing the number.
QR_SHARE = 0.2

BAD_REASONS = (
    "malformed_json",
    "not_utf8",
    "wrong_unit",
    "sbp_not_above_dbp",
    "out_of_range",
    "unknown_device",
    "device_mismatch",
    "future_time",
    "unknown_patient",
    "missing_field",
)
_BP_ONLY = frozenset({"sbp_not_above_dbp"})


@dataclass(frozen=True)
class BpValues:
    systolic: int
    diastolic: int
    pulse: int
    measured_at: datetime


@dataclass(frozen=True)
class GlucoseValues:
    mmol_l: float
    context: str  # "fasting" | "non_fasting"
    measured_at: datetime


Values = BpValues | GlucoseValues


@dataclass(frozen=True)
class BadMessage:
    topic: str
    payload: bytes
    reason: str  # one of BAD_REASONS


def is_critical(values: Values) -> bool:
    """True when a reading meets an urgent-referral criterion."""
    if isinstance(values, BpValues):
        return values.systolic >= SBP_CRITICAL or values.diastolic >= DBP_CRITICAL
    return values.mmol_l >= GLUCOSE_HIGH_CRITICAL or values.mmol_l <= GLUCOSE_LOW_CRITICAL


def sitting(patient: SimPatient, kind: MeterKind, *, rng: random.Random, now: datetime) -> tuple[Values, ...]:
    """One sitting at a meter: two BP readings 1-2 minutes apart, or one glucose reading; all in the past."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    # Meters report whole seconds; truncating keeps every time at or before `now`.
    last = now.replace(microsecond=0) - timedelta(seconds=rng.uniform(0.0, SEND_DELAY_S))
    last = last.replace(microsecond=0)
    critical = patient.unstable and rng.random() < patient.critical_chance
    if kind == "glucose":
        return (_glucose(patient, rng=rng, at=last, critical=critical),)
    first = (last - timedelta(seconds=rng.uniform(*BP_GAP_S))).replace(microsecond=0)
    return _bp_pair(patient, rng=rng, times=(first, last), critical=critical)


def meter_kind_for(patient: SimPatient, rng: random.Random) -> MeterKind:
    """Which meter a patient uses at this visit (diabetics also have their BP taken)."""
    if not patient.diabetes:
        return "bp"
    if not patient.hypertension:
        return "glucose" if rng.random() < 0.7 else "bp"
    return "glucose" if rng.random() < 0.5 else "bp"


def patient_ref(patient: SimPatient, *, scheme: str = "health_card") -> PatientRef:
    """How the patient is identified at the meter: the health-card number, or the card's QR code."""
    value = patient.qr_code if scheme == "qr" else patient.health_card_no
    return PatientRef(scheme="qr" if scheme == "qr" else "health_card", value=value)


def random_patient_ref(patient: SimPatient, rng: random.Random) -> PatientRef:
    """The health-card number usually, the QR code sometimes."""
    return patient_ref(patient, scheme="qr" if rng.random() < QR_SHARE else "health_card")


def encode(values: Values, *, meter_uid: str, seq: int, patient: PatientRef | None) -> bytes:
    """The payload a meter sends for one reading, via the shared schema."""
    if isinstance(values, BpValues):
        return bp_payload(
            device_uid=meter_uid,
            seq=seq,
            measured_at=values.measured_at,
            systolic=values.systolic,
            diastolic=values.diastolic,
            pulse=values.pulse,
            patient=patient,
        )
    return glucose_payload(
        device_uid=meter_uid,
        seq=seq,
        measured_at=values.measured_at,
        mmol_l=values.mmol_l,
        context=values.context,
        patient=patient,
    )


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _bp_pair(
    patient: SimPatient, *, rng: random.Random, times: tuple[datetime, datetime], critical: bool
) -> tuple[BpValues, BpValues]:
    sbp_level, dbp_level = patient.systolic, patient.diastolic
    if critical:
        # An episode held through the sitting: mostly a systolic crisis, sometimes diastolic too or alone.
        sbp_crisis = rng.random() < 0.8
        dbp_crisis = not sbp_crisis or rng.random() < 0.3
        sbp_level = rng.uniform(185, 225) if sbp_crisis else sbp_level
        dbp_level = rng.uniform(112, 125) if dbp_crisis else dbp_level
        sbp_level = max(sbp_level, dbp_level + 40)
    pair = []
    for at in times:
        sbp = sbp_level + rng.gauss(0, patient.bp_noise_sd)
        dbp = dbp_level + rng.gauss(0, patient.bp_noise_sd * 0.6)
        if critical:
            sbp = _clamp(sbp, SBP_CRITICAL if sbp_level >= SBP_CRITICAL else 90, 260)
            dbp = _clamp(dbp, DBP_CRITICAL if dbp_level >= DBP_CRITICAL else 50, 150)
        else:
            sbp, dbp = _clamp(sbp, 90, SBP_CRITICAL - 2), _clamp(dbp, 50, DBP_CRITICAL - 2)
        dbp = min(dbp, sbp - 20)  # pulse pressure below 20 mmHg is not a plausible reading
        pulse = _clamp(patient.pulse + rng.gauss(0, 4), 45, 130)
        pair.append(BpValues(systolic=round(sbp), diastolic=round(dbp), pulse=round(pulse), measured_at=at))
    return pair[0], pair[1]


def _glucose(patient: SimPatient, *, rng: random.Random, at: datetime, critical: bool) -> GlucoseValues:
    context = "fasting" if rng.random() < 0.5 else "non_fasting"
    if critical:
        # Hyperglycaemia is the common crisis in poorly controlled diabetes; hypoglycaemia follows over-treatment.
        value = rng.uniform(17.0, 27.0) if rng.random() < 0.7 else rng.uniform(2.2, 3.7)
    else:
        level = patient.fasting_glucose if context == "fasting" else patient.non_fasting_glucose
        value = _clamp(level + rng.gauss(0, patient.glucose_noise_sd), 4.1, 16.4)
    return GlucoseValues(mmol_l=round(value, 1), context=context, measured_at=at)


def bad_message(
    *,
    county_code: str,
    meter: Meter,
    patient: SimPatient,
    rng: random.Random,
    now: datetime,
    seq: int,
    reason: str | None = None,
) -> BadMessage:
    """A deliberately bad message of a meter (a random reason unless one is named), on a reading topic."""
    allowed = [r for r in BAD_REASONS if meter.kind == "bp" or r not in _BP_ONLY]
    reason = reason or rng.choice(allowed)
    if reason not in allowed:
        raise ValueError(f"bad-message reason {reason!r} does not apply to a {meter.kind} meter")
    uid = meter.uid
    if reason == "unknown_device":
        uid = f"{meter.kind.upper()}-{county_code}-X{rng.randrange(10**6):06d}"
    values = sitting(patient, meter.kind, rng=rng, now=now)[-1]
    good = json.loads(encode(values, meter_uid=uid, seq=seq, patient=patient_ref(patient)))
    body = _spoil(good, reason=reason, now=now, rng=rng)
    payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return BadMessage(topic=reading_topic(county_code, uid), payload=payload, reason=reason)


def _spoil(msg: dict[str, object], *, reason: str, now: datetime, rng: random.Random) -> dict[str, object] | bytes:
    bp = msg["kind"] == "bp"
    if reason == "malformed_json":
        text = json.dumps(msg)
        return text[: rng.randrange(5, len(text) - 1)].encode()
    if reason == "not_utf8":
        return b"\xff\xfe" + json.dumps(msg).encode("utf-16-le")
    if reason == "wrong_unit":
        msg["unit"] = "kPa" if bp else "mg/L"
    elif reason == "sbp_not_above_dbp":
        msg.update({"systolic": 82, "diastolic": 96})
    elif reason == "out_of_range":
        msg.update({"systolic": 320} if bp else {"value": 45.0})
    elif reason == "device_mismatch":
        msg["device_id"] = f"{msg['device_id']}-other"
    elif reason == "future_time":
        msg["measured_at"] = (now + timedelta(hours=rng.uniform(2, 48))).isoformat(timespec="seconds")
    elif reason == "unknown_patient":
        msg["patient"] = {"scheme": "health_card", "value": f"HX{rng.randrange(10**9):09d}"}
    elif reason == "missing_field":
        msg.pop("systolic" if bp else "context")
    return msg
