"""Domain types shared by every stage: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        return {"green": 0, "yellow": 1, "red": 2}[self.value]


class ReadingKind(StrEnum):
    BP = "bp"
    GLUCOSE = "glucose"


class GlucoseContext(StrEnum):
    FASTING = "fasting"
    NON_FASTING = "non_fasting"


class FollowUpClass(StrEnum):
    CONTROLLED = "controlled"
    UNCONTROLLED = "uncontrolled"
    ADVERSE_REACTION = "adverse_reaction"
    COMPLICATION = "complication"


@dataclass(frozen=True, slots=True)
class Reading:
    """One validated measurement, normalised to SI-style units and UTC times."""

    device_uid: str
    seq: int
    kind: ReadingKind
    measured_at: datetime
    received_at: datetime
    patient_scheme: str | None = None
    patient_ref: str | None = None
    systolic: int | None = None
    diastolic: int | None = None
    pulse: int | None = None
    glucose_mmol: float | None = None
    glucose_flag: str | None = None  # "HI" / "LO": the meter's display was beyond its range
    glucose_context: GlucoseContext | None = None


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """A patient's health-record fields (WS 365) beyond the registry; None where not recorded."""

    birth_date: date | None = None
    total_cholesterol_mmol: float | None = None
    hdl_mmol: float | None = None
    waist_cm: float | None = None
    smoker: bool | None = None
    family_history_ascvd: bool | None = None
    urban: bool | None = None
    north: bool | None = None  # lives north of the Yangtze (China-PAR)
    hba1c_percent: float | None = None
    on_bp_treatment: bool | None = None
    complications: tuple[str, ...] = ()
    updated_at: datetime | None = None


def completed_years(born: date, day: date) -> int:
    """Age in completed years on `day` (a patient born in December 1961 is 64 until then)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """What the rules need to know about a patient."""

    patient_id: int
    sex: str
    birth_year: int
    hypertension: bool
    diabetes: bool
    registered_on: date | None = None
    health_record: HealthRecord | None = None

    def age_on(self, day: date) -> int:
        """Completed years on `day` (clinical-reference §2); with only the birth year, the year difference (the older
        it could mean; the BP target looks at both, assess.rules.bp_target)."""
        return max(self.ages_on(day))

    def ages_on(self, day: date) -> tuple[int, ...]:
        """The completed ages the patient may have on `day`: one from a birth date, two from a birth year alone."""
        born = self.health_record.birth_date if self.health_record is not None else None
        if born is not None:
            return (completed_years(born, day),)
        return (day.year - self.birth_year - 1, day.year - self.birth_year)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A follow-up visit as a family doctor recorded it."""

    done_on: date
    follow_up_class: FollowUpClass
    recorded_at: datetime
    next_due: date | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """The colour of one patient at one moment, with the reasons and the readings that caused it."""

    colour: Colour
    reasons: tuple[str, ...]
    priority: float
    evidence: tuple[str, ...] = field(default=())  # "device_uid:seq" of the readings that decided the colour
    # Per reason code, its figures and target (JSON-ready), rendered in words by assess.reasons
    facts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskScore:
    """Last night's risk scores of a patient: the model's 90-day probability and China-PAR's 10-year ASCVD risk."""

    model_version: str | None
    probability: float | None
    ascvd_10y_percent: float | None
    ascvd_category: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """A patient whose colour or reasons changed in an assessment (previous None: the first assessment)."""

    patient_id: int
    previous: Colour | None
    assessment: Assessment


@dataclass(frozen=True, slots=True)
class SittingQuestion:
    """An open question: did the sitting of this alert's critical BP reading confirm it?"""

    alert_id: int
    patient_id: int
    evidence: tuple[str, ...]  # "device_uid:seq" of the readings that raised the alert
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class SittingVerdicts:
    """Answers to SittingQuestions: alert id -> confirmed, and alert id -> until when its sitting stays open."""

    confirmed: dict[int, bool]
    open_until: dict[int, datetime]
    # alert id -> the mean of the sitting that did not confirm it (mmHg, rounded), for the reason's words
    means: dict[int, tuple[int, int]] = field(default_factory=dict)
