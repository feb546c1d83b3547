"""A case file turned into domain values and assessed by the rules and China-PAR (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from assess import chinapar
from assess.case import BpIn, Case, FollowUpIn, GlucoseIn, PatientIn
from assess.reasons import reason_texts
from assess.rules import RuleSettings, assess
from cdm.domain import (
    FollowUp,
    FollowUpClass,
    GlucoseContext,
    HealthRecord,
    PatientProfile,
    Reading,
    ReadingKind,
)
from cdm.i18n import t

FILE_DEVICE = "file"  # device_uid of a case file's readings; seq is the index, so evidence "file:2" is readings[2]
CASE_PATIENT_ID = 0  # a case is nobody in the store


@dataclass(frozen=True, slots=True)
class CaseInputs:
    """What the rules take, built from a case file."""

    profile: PatientProfile
    readings: tuple[Reading, ...]
    follow_ups: tuple[FollowUp, ...]
    now: datetime


def to_domain(case: Case) -> CaseInputs:
    """The case as a profile, readings (UTC) and follow-ups; `now` keeps as_of's offset so dates are local."""
    patient = case.patient
    profile = PatientProfile(
        patient_id=CASE_PATIENT_ID,
        sex=patient.sex,
        birth_year=patient.birth_date.year,
        hypertension="hypertension" in patient.diagnoses,
        diabetes="type2_diabetes" in patient.diagnoses,
        health_record=health_record(patient),
    )
    readings = tuple(_reading(i, r) for i, r in enumerate(case.readings))
    visits = tuple(_follow_up(f, case.as_of) for f in case.follow_ups)
    return CaseInputs(profile=profile, readings=readings, follow_ups=visits, now=case.as_of)


def health_record(patient: PatientIn) -> HealthRecord:
    """The patient block's record fields (birth date, treatment, complications) joined to its health_record."""
    fields = patient.health_record.model_dump() if patient.health_record else {}
    return HealthRecord(
        birth_date=patient.birth_date,
        on_bp_treatment=patient.on_bp_treatment,
        complications=tuple(patient.complications),
        **fields,
    )


def _reading(index: int, r: BpIn | GlucoseIn) -> Reading:
    at = r.measured_at.astimezone(UTC)
    found: dict[str, Any] = {"device_uid": FILE_DEVICE, "seq": index, "measured_at": at, "received_at": at}
    if isinstance(r, BpIn):
        return Reading(**found, kind=ReadingKind.BP, systolic=r.systolic, diastolic=r.diastolic, pulse=r.pulse)
    return Reading(**found, kind=ReadingKind.GLUCOSE, glucose_mmol=r.mmol_l, glucose_context=GlucoseContext(r.context))


def _follow_up(f: FollowUpIn, as_of: datetime) -> FollowUp:
    # A file gives the visit's date only. Taking the start of that day (in as_of's offset) means a critical reading
    # on the same day counts as after the visit, so its red holds: when unsure, keep the loop open.
    recorded_at = datetime.combine(f.done_on, time(0), tzinfo=as_of.tzinfo)
    return FollowUp(
        done_on=f.done_on,
        follow_up_class=FollowUpClass(f.follow_up_class),
        recorded_at=recorded_at,
        next_due=f.next_due,
    )


def evaluate(case: Case, *, rules: RuleSettings, lang: str = "zh") -> dict[str, Any]:
    """The assessment of the case as one JSON-ready object: colour, reasons in words, priority, China-PAR."""
    inputs = to_domain(case)
    result = assess(
        profile=inputs.profile, readings=inputs.readings, follow_ups=inputs.follow_ups, now=inputs.now, rules=rules
    )
    systolic = chinapar.risk_systolic(inputs.readings, now=inputs.now, window=rules.window)
    risk = chinapar.ten_year_risk(profile=inputs.profile, systolic=systolic, on=inputs.now.date())
    return {
        "as_of": case.as_of.isoformat(),
        "guideline_edition": rules.thresholds.edition,
        "colour": result.colour.value,
        "colour_text": t(f"colour.{result.colour.value}", lang),
        "reasons": list(result.reasons),
        "reason_texts": reason_texts(result.reasons, result.facts, lang=lang),
        "reason_facts": {code: dict(facts) for code, facts in result.facts.items()},
        "priority": result.priority,
        "evidence": list(result.evidence),
        "ascvd_10y_percent": risk.percent,
        "ascvd_category": risk.category,
        "ascvd_category_text": chinapar.category_name(risk.category, lang) if risk.category else None,
        "ascvd_systolic": None if systolic is None else round(systolic, 1),
        "ascvd_missing": list(risk.missing),
        "ascvd_note": chinapar.unavailable_note(risk, lang),
    }
