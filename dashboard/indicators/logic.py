"""The programme indicators of the county and township screens, defined exactly, as pure functions.

The definitions follow the HEARTS technical package (WHO, "HEARTS: systems for monitoring", 2021) as implemented
by Simple (simple.org, the Resolve to Save Lives dashboard) and the national specification (国家基本公共卫生服务规范
第三版, 2017: 高血压 / 2型糖尿病患者健康管理服务规范), made *live*: each is computed at a moment `now` over rolling
windows instead of per calendar month or quarter. Every count is of patients, never of readings.

Terms
    registered      `patient.registered_at` (the patient entered the programme).
    visit           any reading attributed to the patient (BP or glucose, from any meter) or a follow-up record
                    (`follow_up.done_on`): contact with the health system, as Simple counts a visit.
    in scope        the patients the signed-in principal may see (county, township or team).

Indicators (numerator / denominator; the rate is numerator / denominator, shown as a percentage, or "—" when
the denominator is 0)
    bp_control          BP control rate (血压控制率). Denominator: hypertensive patients registered at least 90 days
                        before `now`. Numerator: those whose latest BP reading measured in the 90 days up to `now`
                        is below 140 systolic AND below 90 diastolic mmHg. No BP in 90 days counts as not controlled
                        (Simple: "uncontrolled or no visit"; the national 控制率 counts the latest follow-up BP).
    glucose_control     Fasting glucose control rate (血糖控制率). Denominator: diabetic patients registered at least
                        90 days before `now`. Numerator: those whose latest fasting glucose reading in the 90 days up
                        to `now` is below 7.0 mmol/L (national specification: 空腹血糖 < 7.0 mmol/L; Simple's
                        fasting < 126 mg/dL). A meter's HI reading counts as above, LO as below.
    standard_management Standardised management rate (规范管理率). Denominator: patients (hypertension or diabetes)
                        registered at least 365 days before `now`. Numerator: those with follow-up visits on at
                        least 4 distinct days in the 365 days up to `now` (the specification's "每年至少4次面对面随访";
                        a rolling year instead of the calendar year).
    missed_visit_3m     Missed visits (3个月未随访). Denominator: patients registered at least 90 days before `now`.
                        Numerator: those with no visit in the 90 days up to `now` (Simple: "missed visits").
    lost_12m            Lost to follow-up (12个月失访). Denominator: patients registered at least 365 days before
                        `now`. Numerator: those with no visit in the 365 days up to `now` (Simple: "12-month lost to
                        follow-up").

The SQL in `dashboard.indicators.repo` computes the same numbers from `patient_activity`, a per-patient summary
kept by the `refresh_indicators` job; the tests check that both agree on a hand-built county.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cdm.thresholds import (
    PROGRAMME_BP_CONTROLLED_BELOW,
    PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL,
    PROGRAMME_RECENT_DAYS,
    PROGRAMME_VISITS_PER_YEAR,
    PROGRAMME_YEAR_DAYS,
)

# HEARTS / Simple's programme definition of "controlled", the same for every age so that figures compare
# across counties and years (the treatment target of the guideline edition is the rules' business, not this one).
BP_CONTROLLED_BELOW = (PROGRAMME_BP_CONTROLLED_BELOW.systolic, PROGRAMME_BP_CONTROLLED_BELOW.diastolic)
FASTING_CONTROLLED_BELOW_MMOL = PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL
RECENT_DAYS = PROGRAMME_RECENT_DAYS
YEAR_DAYS = PROGRAMME_YEAR_DAYS
STANDARD_VISITS_PER_YEAR = PROGRAMME_VISITS_PER_YEAR
LOCAL = ZoneInfo("Asia/Shanghai")  # follow-up days are local dates
NAMES = ("bp_control", "glucose_control", "standard_management", "missed_visit_3m", "lost_12m")
# Indicators where a higher rate is better (the screen colours the others the other way round).
HIGHER_IS_BETTER = frozenset({"bp_control", "glucose_control", "standard_management"})


@dataclass(frozen=True, slots=True)
class Reading:
    """One attributed reading as the indicators need it."""

    measured_at: datetime
    kind: str  # 'bp' or 'glucose'
    systolic: int | None = None
    diastolic: int | None = None
    glucose_mmol: float | None = None  # HI: float('inf'), LO: 0.0
    fasting: bool = False


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """What the indicators read of one patient."""

    registered_at: datetime
    hypertension: bool
    diabetes: bool
    readings: Sequence[Reading] = ()
    follow_up_days: Sequence[date] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Indicator:
    """A numerator over a denominator."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """numerator / denominator, or None when nobody is in the denominator."""
        return self.numerator / self.denominator if self.denominator else None

    def __add__(self, other: Indicator) -> Indicator:
        return Indicator(self.numerator + other.numerator, self.denominator + other.denominator)


def _latest(readings: Iterable[Reading], *, since: datetime, now: datetime) -> Reading | None:
    window = [r for r in readings if since < r.measured_at <= now]
    return max(window, key=lambda r: r.measured_at, default=None)


def _visited(p: PatientRecord, *, since: datetime, now: datetime) -> bool:
    if any(since < r.measured_at <= now for r in p.readings):
        return True
    first_day, today = since.astimezone(LOCAL).date(), now.astimezone(LOCAL).date()
    return any(first_day < d <= today for d in p.follow_up_days)


def bp_controlled(p: PatientRecord, *, now: datetime) -> bool:
    """Whether the latest BP of the last 90 days is below 140/90."""
    bps = (r for r in p.readings if r.kind == "bp" and r.systolic is not None and r.diastolic is not None)
    latest = _latest(bps, since=now - timedelta(days=RECENT_DAYS), now=now)
    if latest is None:
        return False
    assert latest.systolic is not None and latest.diastolic is not None
    return latest.systolic < BP_CONTROLLED_BELOW[0] and latest.diastolic < BP_CONTROLLED_BELOW[1]


def glucose_controlled(p: PatientRecord, *, now: datetime) -> bool:
    """Whether the latest fasting glucose of the last 90 days is below 7.0 mmol/L."""
    fasting = (r for r in p.readings if r.kind == "glucose" and r.fasting and r.glucose_mmol is not None)
    latest = _latest(fasting, since=now - timedelta(days=RECENT_DAYS), now=now)
    return (
        latest is not None and latest.glucose_mmol is not None and latest.glucose_mmol < FASTING_CONTROLLED_BELOW_MMOL
    )


def compute(patients: Iterable[PatientRecord], *, now: datetime) -> dict[str, Indicator]:
    """Every indicator over `patients` at `now`, by name (see the module docstring for the definitions)."""
    counts = {name: [0, 0] for name in NAMES}
    recent, year = now - timedelta(days=RECENT_DAYS), now - timedelta(days=YEAR_DAYS)
    year_start, today = year.astimezone(LOCAL).date(), now.astimezone(LOCAL).date()

    def count(name: str, hit: bool) -> None:
        counts[name][1] += 1
        counts[name][0] += int(hit)

    for p in patients:
        if p.registered_at <= recent:
            if p.hypertension:
                count("bp_control", bp_controlled(p, now=now))
            if p.diabetes:
                count("glucose_control", glucose_controlled(p, now=now))
            count("missed_visit_3m", not _visited(p, since=recent, now=now))
        if p.registered_at <= year:
            visit_days = {d for d in p.follow_up_days if year_start < d <= today}
            count("standard_management", len(visit_days) >= STANDARD_VISITS_PER_YEAR)
            count("lost_12m", not _visited(p, since=year, now=now))
    return {name: Indicator(n, d) for name, (n, d) in counts.items()}


# The registration an indicator's denominator asks for (the reason shown when nobody has it yet): the recent
# period (RECENT_DAYS) or a year (YEAR_DAYS).
DENOMINATOR_PERIOD = {
    "bp_control": "recent",
    "glucose_control": "recent",
    "missed_visit_3m": "recent",
    "standard_management": "year",
    "lost_12m": "year",
}


def empty_reason_key(name: str, *, short: bool = False) -> str:
    """The catalogue key saying why indicator `name` has no rate (its denominator is empty)."""
    return f"indicator.none_short.{DENOMINATOR_PERIOD[name]}" if short else f"indicator.none.{name}"


def format_rate(indicator: Indicator) -> str:
    """'62.5%', or '—' when the denominator is empty."""
    rate = indicator.rate
    return "—" if rate is None else f"{rate * 100:.1f}%"
