"""Readings and patients with clinical names, for the rule tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cdm.domain import FollowUp, FollowUpClass, GlucoseContext, HealthRecord, PatientProfile, Reading, ReadingKind

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
_seq = iter(range(1, 1_000_000))


def patient(
    *,
    age: int = 60,
    hypertension: bool = True,
    diabetes: bool = False,
    registered_on: date | None = date(2025, 1, 1),
    record: HealthRecord | None = None,
    year_only: bool = False,
) -> PatientProfile:
    """A patient of `age` completed years on NOW (born on 1 January), or with only the birth year known."""
    if not year_only:
        record = replace(record or HealthRecord(), birth_date=date(NOW.year - age, 1, 1))
    return PatientProfile(1, "M", NOW.year - age, hypertension, diabetes, registered_on, record)


def _reading(kind: ReadingKind, device: str, ago: timedelta, **values: Any) -> Reading:
    """A reading of `device`, measured and received `ago` before NOW, numbered after the ones before it."""
    return Reading(device_uid=device, seq=next(_seq), kind=kind, measured_at=NOW - ago, received_at=NOW - ago, **values)


def bp(
    systolic: int, diastolic: int, *, ago: timedelta = timedelta(hours=1), device: str = "BP-1", pulse: int = 70
) -> Reading:
    return _reading(ReadingKind.BP, device, ago, systolic=systolic, diastolic=diastolic, pulse=pulse)


def glucose(
    mmol: float | None, *, fasting: bool = True, flag: str | None = None, ago: timedelta = timedelta(hours=1)
) -> Reading:
    context = GlucoseContext.FASTING if fasting else GlucoseContext.NON_FASTING
    return _reading(ReadingKind.GLUCOSE, "GLU-1", ago, glucose_mmol=mmol, glucose_flag=flag, glucose_context=context)


def visit(cls: FollowUpClass, *, days_ago: int, next_due_in: int | None = None) -> FollowUp:
    done = (NOW - timedelta(days=days_ago)).date()
    due = (NOW + timedelta(days=next_due_in)).date() if next_due_in is not None else None
    return FollowUp(done, cls, NOW - timedelta(days=days_ago), due)


def controlled_visit(days_ago: int = 10) -> FollowUp:
    return visit(FollowUpClass.CONTROLLED, days_ago=days_ago, next_due_in=80)


def under_control_bp() -> list[Reading]:
    return [bp(128, 78, ago=timedelta(days=d)) for d in (1, 4, 8)]


def diabetic_at_target(*, pulses: tuple[int, ...] = ()) -> list[Reading]:
    """BP below the diabetes target and a normal fasting glucose; BP readings with the given pulses, oldest first."""
    timed = [bp(128, 78, ago=timedelta(hours=len(pulses) - i), pulse=p) for i, p in enumerate(pulses)]
    return [*under_control_bp(), glucose(6.0, ago=timedelta(days=2)), *timed]
