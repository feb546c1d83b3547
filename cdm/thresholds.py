"""Clinical thresholds, written once, per guideline edition (see shared docs: clinical-reference.md).

Python reads them from here; `cdm db upgrade` writes the same rows into table clinical_threshold for SQL.
The edition is a county setting (CDM_GUIDELINE_EDITION).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class BpTarget:
    """A patient is at target when the mean systolic and diastolic are both below these."""

    systolic: int
    diastolic: int


# Follow-up rhythm (National Basic Public Health Service Specification, 3rd ed., 2017), the same in every edition:
# routine every 3 months for the controlled; within 2 weeks after an uncontrolled visit, an adverse reaction, a
# complication or an urgent referral.
ROUTINE_FOLLOW_UP_DAYS = 90
SHORT_FOLLOW_UP_DAYS = 14
# The zone whose calendar the stored follow-up due date counts days in (assessment_current.followup_due, migrations
# 0098 and 0119: the country's one zone, cdm.settings' default).
FOLLOW_UP_DUE_TZ = "Asia/Shanghai"

# The ages that choose a BP target row (`target_65_79`, `target_80_plus`), the same in every edition: 65 and older
# are elderly, 80 and older very elderly (Chinese hypertension guideline 2018; primary-care guideline 2020).
ELDERLY_FROM_AGE = 65
VERY_ELDERLY_FROM_AGE = 80


@dataclass(frozen=True)
class Thresholds:
    edition: str
    source: str
    target_general: BpTarget
    target_65_79: BpTarget
    target_80_plus: BpTarget
    target_diabetes: BpTarget | None  # None: the edition sets no separate target with diabetes
    # With diabetes, an older (>=80) or frail patient's target is loosened to <140/90 at most, never to the <150/90
    # of a non-diabetic elderly patient (Chinese hypertension guideline 2018; CDS T2DM guideline 2020, BP section).
    target_diabetes_loosest: BpTarget = BpTarget(140, 90)
    # Urgent-referral criteria, National Basic Public Health Service Specification (3rd ed., 2017)
    bp_critical_systolic: int = 180  # SBP >= this
    bp_critical_diastolic: int = 110  # DBP >= this
    glucose_critical_high: float = 16.7  # mmol/L, >= this
    glucose_critical_low: float = 3.9  # mmol/L, <= this
    # Grades (primary-care hypertension guideline)
    bp_grade2_systolic: int = 160
    bp_grade2_diastolic: int = 100
    # Diabetes targets (2022 primary-care diabetes guideline), capillary glucose
    fasting_glucose_target: float = 7.0  # mean must be below
    # The fasting target's lower bound (capillary 4.4–7.0 mmol/L, CDS T2DM guideline 2020 and the 2022 primary-care
    # diabetes guideline): a mean below it is off target and a warning sign on treatment, though not hypoglycaemia.
    fasting_glucose_low: float = 4.4  # mean must be at or above
    nonfasting_glucose_target: float = 10.0  # mean must be below
    hypo_level1: float = 3.9  # < this
    hypo_level2: float = 3.0  # < this
    # Follow-up rhythm (2017 specification): routine every 3 months for the controlled
    routine_follow_up_days: int = ROUTINE_FOLLOW_UP_DAYS
    short_follow_up_days: int = SHORT_FOLLOW_UP_DAYS
    # China-PAR risk categories (clinical-reference §4; Chinese guideline on CVD risk assessment 2019): <5 % low,
    # 5–9.9 % medium, >=10 % high. The same in every edition.
    ascvd_medium_percent: float = 5.0  # >= this: medium
    ascvd_high_percent: float = 10.0  # >= this: high
    # HbA1c target (2022 primary-care diabetes guideline): at target below this
    hba1c_target_percent: float = 7.0
    # Urgent referral for diabetes (2017 specification): heart rate >100/min persisting. How many readings make
    # "persisting" the specification does not say (unconfirmed): two, as a sitting of two readings is the practice.
    heart_rate_urgent_per_min: int = 100  # pulse > this
    heart_rate_persist_readings: int = 2


EDITIONS: dict[str, Thresholds] = {
    # 2017 specification: <140/90; >=65 years <150/90 (unconfirmed: the official text was not at hand).
    "2017": Thresholds(
        edition="2017",
        source="国家基本公共卫生服务规范（第三版）2017",
        target_general=BpTarget(140, 90),
        target_65_79=BpTarget(150, 90),
        target_80_plus=BpTarget(150, 90),
        target_diabetes=None,
    ),
    "2020": Thresholds(
        edition="2020",
        source="国家基层高血压防治管理指南 2020",
        target_general=BpTarget(140, 90),
        target_65_79=BpTarget(150, 90),
        target_80_plus=BpTarget(150, 90),
        target_diabetes=BpTarget(130, 80),
    ),
    "2025": Thresholds(
        edition="2025",
        source="国家基层高血压防治管理指南 2025",
        target_general=BpTarget(130, 80),
        target_65_79=BpTarget(130, 80),
        target_80_plus=BpTarget(150, 90),
        target_diabetes=BpTarget(130, 80),
    ),
}


# Readings older than the routine follow-up period (3 months, 2017 specification) no longer decide a colour on their
# own: by then a follow-up is due anyway, and the monitoring-gap and overdue rules take over.
LOOKBACK_DAYS = 90


def for_edition(edition: str) -> Thresholds:
    """The thresholds of one guideline edition."""
    try:
        return EDITIONS[edition]
    except KeyError:
        raise ValueError(f"unknown guideline edition {edition!r}; known: {', '.join(EDITIONS)}") from None


_UNITS = {"days": "day", "percent": "%", "min": "/min", "readings": "readings"}  # by the name's last word


def as_rows() -> list[tuple[str, str, float, str, str]]:
    """(edition, name, value, unit, source) for every number, as stored in table clinical_threshold."""
    rows = []
    for th in EDITIONS.values():
        for name, value in asdict(th).items():
            if name in {"edition", "source"} or value is None:
                continue
            if isinstance(value, dict):
                rows.append((th.edition, f"{name}_systolic", float(value["systolic"]), "mmHg", th.source))
                rows.append((th.edition, f"{name}_diastolic", float(value["diastolic"]), "mmHg", th.source))
            else:
                unit = _UNITS.get(name.rsplit("_", 1)[-1], "mmHg" if name.startswith("bp_") else "mmol/L")
                rows.append((th.edition, name, float(value), unit, th.source))
    return rows


@dataclass(frozen=True)
class Plausibility:
    """What a meter can physically send (clinical-reference §6); outside these a value is refused, not stored."""

    systolic: tuple[int, int] = (50, 300)
    diastolic: tuple[int, int] = (30, 200)
    pulse: tuple[int, int] = (25, 250)
    glucose_mmol: tuple[float, float] = (1.1, 33.3)  # a common glucometer's range; beyond it the meter shows HI/LO


PLAUSIBLE = Plausibility()

# Programme indicators (clinical-reference §1; HEARTS / Simple): "controlled" means the same for every age and
# edition, so that figures compare across counties and years — the treatment target is the rules' business.
PROGRAMME_BP_CONTROLLED_BELOW = BpTarget(140, 90)
PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL = 7.0
PROGRAMME_RECENT_DAYS = 90  # "in the last 3 months" (the national specification's quarterly rhythm)

# The edition a case or a simulator uses when none is named (CDM_GUIDELINE_EDITION's default).
DEFAULT_EDITION = "2020"
MG_DL_PER_MMOL_L = 18.016  # glucose mg/dL -> mmol/L (clinical-reference §5)
PROGRAMME_YEAR_DAYS = 365  # "每年至少4次面对面随访" and 12-month loss to follow-up, counted over a rolling year
PROGRAMME_VISITS_PER_YEAR = 4  # standard management: face-to-face visits on this many distinct days a year
MODEL_HORIZON_DAYS = 90  # the risk model predicts red or uncontrolled within this many days (assess.risk.outcome)
