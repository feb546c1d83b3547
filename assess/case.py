"""The case file of `cdm assess --file` (issue 4 item 6): its schema, and refusals that name the field.

Strict: no type coercion ("120" is not a number, 1 is not true) and no unknown fields, so a typing mistake in a
clinician's case is reported rather than silently assessed as something else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from cdm.thresholds import PLAUSIBLE

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
_READING_KINDS = frozenset({"bp", "glucose"})
ERRORS_SHOWN = 5  # enough to fix a file in one go, short enough to stay one readable line

Diagnosis = Literal["hypertension", "type2_diabetes"]
FollowUpClassName = Literal["controlled", "uncontrolled", "adverse_reaction", "complication"]


class CaseError(Exception):
    """A case file that cannot be assessed; the message is one line naming the field."""


class HealthRecordIn(BaseModel):
    """Health-record fields; any may be absent. Bounds are generous: they catch unit slips, not rare patients."""

    model_config = _STRICT
    total_cholesterol_mmol: float | None = Field(default=None, gt=0.5, lt=30)  # mmol/L, not mg/dL
    hdl_mmol: float | None = Field(default=None, gt=0.1, lt=10)  # mmol/L, not mg/dL
    waist_cm: float | None = Field(default=None, ge=30, le=250)
    smoker: bool | None = None
    family_history_ascvd: bool | None = None
    urban: bool | None = None
    north: bool | None = None
    hba1c_percent: float | None = Field(default=None, ge=3, le=20)  # percent (NGSP), not mmol/mol


class PatientIn(BaseModel):
    model_config = _STRICT
    sex: Literal["M", "F"]
    birth_date: dt.date
    diagnoses: list[Diagnosis] = Field(min_length=1)
    complications: list[str] = Field(default_factory=list)
    on_bp_treatment: bool | None = None
    health_record: HealthRecordIn | None = None


class BpIn(BaseModel):
    model_config = _STRICT
    kind: Literal["bp"]
    measured_at: AwareDatetime
    systolic: int = Field(ge=PLAUSIBLE.systolic[0], le=PLAUSIBLE.systolic[1])
    diastolic: int = Field(ge=PLAUSIBLE.diastolic[0], le=PLAUSIBLE.diastolic[1])
    pulse: int | None = Field(default=None, ge=PLAUSIBLE.pulse[0], le=PLAUSIBLE.pulse[1])

    @model_validator(mode="after")
    def _systolic_above_diastolic(self) -> BpIn:
        if self.systolic <= self.diastolic:
            raise ValueError(f"systolic {self.systolic} <= diastolic {self.diastolic}")
        return self


class GlucoseIn(BaseModel):
    model_config = _STRICT
    kind: Literal["glucose"]
    measured_at: AwareDatetime
    mmol_l: float = Field(ge=PLAUSIBLE.glucose_mmol[0], le=PLAUSIBLE.glucose_mmol[1])
    context: Literal["fasting", "non_fasting"]


class FollowUpIn(BaseModel):
    model_config = _STRICT
    done_on: dt.date = Field(alias="date")
    follow_up_class: FollowUpClassName = Field(alias="class")


class Case(BaseModel):
    """One patient as a clinician describes it: who, what was measured, what doctors concluded, and when."""

    model_config = _STRICT
    as_of: AwareDatetime
    patient: PatientIn
    readings: list[Annotated[BpIn | GlucoseIn, Field(discriminator="kind")]] = Field(default_factory=list)
    follow_ups: list[FollowUpIn] = Field(default_factory=list)


def parse_case(text: str | bytes, *, source: str = "case") -> Case:
    """The case in `text` (JSON), or CaseError naming every wrong field (`source` names the whole, e.g. bad JSON)."""
    try:
        case = Case.model_validate_json(text)
    except ValidationError as exc:
        raise CaseError(format_errors(exc, source=source)) from None
    late = _after_as_of(case)
    if late:
        raise CaseError("; ".join(late[:ERRORS_SHOWN]))
    return case


def load_case(path: str | Path) -> Case:
    """The case in the file at `path`, or CaseError saying what is wrong with it."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CaseError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    return parse_case(raw, source=str(path))


def format_errors(exc: ValidationError, *, source: str = "case") -> str:
    """pydantic's errors as one line: `readings[2].systolic: Input should be a valid integer; …`."""
    parts = []
    for err in exc.errors()[:ERRORS_SHOWN]:
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{field_path(err['loc']) or source}: {message}")
    more = len(exc.errors()) - ERRORS_SHOWN
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def field_path(loc: tuple[int | str, ...]) -> str:
    """('readings', 2, 'bp', 'systolic') -> 'readings[2].systolic' (the union's tag is not part of the file)."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i and isinstance(loc[i - 1], int) and part in _READING_KINDS:
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _after_as_of(case: Case) -> list[str]:
    """Entries dated after `as_of`: the rules would ignore them, so the file is refused instead."""
    late = [
        f"readings[{i}].measured_at: {r.measured_at.isoformat()} is after as_of"
        for i, r in enumerate(case.readings)
        if r.measured_at > case.as_of
    ]
    late += [
        f"follow_ups[{i}].date: {f.done_on.isoformat()} is after as_of"
        for i, f in enumerate(case.follow_ups)
        if f.done_on > case.as_of.date()
    ]
    return late
