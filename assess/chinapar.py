"""China-PAR 10-year ASCVD risk (Yang X et al., Circulation 2016;134:1430–1440), as clinical-reference §4.

risk = 1 − S10 ^ exp(Σ βᵢxᵢ − mean), continuous terms as natural logs, cholesterol in mg/dL, waist in cm.
Pure: no I/O. The category cut-offs live in cdm/thresholds.py with the other clinical numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import exp, log
from statistics import fmean

from cdm.domain import HealthRecord, PatientProfile, Reading, ReadingKind
from cdm.i18n import t
from cdm.thresholds import DEFAULT_EDITION, Thresholds, for_edition

MMOL_TO_MG_DL = 0.0259  # cholesterol: mg/dL = mmol/L ÷ 0.0259 (clinical-reference §4)
# The model was derived and validated in ages 35–74 only. Outside that range we return no percentage rather than
# extrapolate (ln-age terms with interactions diverge quickly beyond the data) or clamp (clamping a 85-year-old to
# 74 would understate the risk while looking like a real estimate). Managed patients are ≥35, so in practice this
# leaves out those aged 75 and over; their note says why.
AGE_RANGE = (35, 74)
_CUTOFFS = for_edition(DEFAULT_EDITION)  # the risk categories do not depend on the hypertension guideline's edition


@dataclass(frozen=True, slots=True)
class Coefficients:
    """One sex's β, the mean of Σβx̄ and the 10-year baseline survival S10."""

    ln_age: float
    ln_sbp_treated: float
    ln_sbp_untreated: float
    ln_total_cholesterol: float
    ln_hdl: float
    ln_waist: float
    smoker: float
    diabetes: float
    north: float
    urban: float
    family_history: float
    ln_age_x_ln_sbp_treated: float
    ln_age_x_ln_sbp_untreated: float
    ln_age_x_smoker: float
    ln_age_x_family_history: float
    mean: float
    s10: float


MEN = Coefficients(
    ln_age=31.96604,
    ln_sbp_treated=27.39,
    ln_sbp_untreated=26.14876,
    ln_total_cholesterol=0.62090,
    ln_hdl=-0.69373,
    ln_waist=-0.71200,
    smoker=3.96,
    diabetes=0.36,
    north=0.48,
    urban=-0.16,
    family_history=6.22,
    ln_age_x_ln_sbp_treated=-6.02,
    ln_age_x_ln_sbp_untreated=-5.73074,
    ln_age_x_smoker=-0.94,
    ln_age_x_family_history=-1.53,
    mean=140.68,
    s10=0.9707,
)
# The women's equation has no urban or family-history terms: zero β, so those fields are not needed for women.
WOMEN = Coefficients(
    ln_age=24.87,
    ln_sbp_treated=20.71,
    ln_sbp_untreated=19.98,
    ln_total_cholesterol=0.06,
    ln_hdl=-0.22,
    ln_waist=1.48,
    smoker=0.49,
    diabetes=0.57,
    north=0.54,
    urban=0.0,
    family_history=0.0,
    ln_age_x_ln_sbp_treated=-4.53,
    ln_age_x_ln_sbp_untreated=-4.36,
    ln_age_x_smoker=0.0,
    ln_age_x_family_history=0.0,
    mean=117.26,
    s10=0.9851,
)
COEFFICIENTS = {"M": MEN, "F": WOMEN}
_NEEDED_BY_ALL = ("on_bp_treatment", "total_cholesterol_mmol", "hdl_mmol", "waist_cm", "smoker", "north")
_NEEDED_BY_MEN = ("urban", "family_history_ascvd")


@dataclass(frozen=True, slots=True)
class AscvdRisk:
    """The 10-year risk in percent and its category, or None with what was missing or out of range."""

    percent: float | None
    category: str | None  # "low" / "medium" / "high"
    missing: tuple[str, ...] = ()  # health-record fields (or "systolic") that China-PAR needs and the record lacks
    age_out_of_range: int | None = None  # the age, when outside AGE_RANGE
    established: bool = False  # established ASCVD recorded: China-PAR (a first event) does not apply


# China-PAR predicts a *first* ASCVD event; a patient with clinical ASCVD is very high risk by definition and is
# not assessed with it (Chinese guideline on the assessment and management of cardiovascular risk, 2019;
# clinical-reference §4). Clinical ASCVD as the Chinese guidelines list it (2016 Chinese guideline on dyslipidaemia,
# repeated in the 2019 risk guideline): acute coronary syndrome, stable coronary heart disease (angina),
# revascularisation, ischaemic cardiomyopathy, ischaemic stroke, transient ischaemic attack and peripheral
# atherosclerotic disease; haemorrhagic stroke is counted with stroke (China-PAR's outcome counts all strokes).
# clinical-reference names only stroke, MI and revascularisation; the guideline's list is followed (README).
# The health record's complications are free text from counties' files and case files: these fragments, in English
# codes or Chinese, name ASCVD (underscores and hyphens read as spaces); short codes must be a whole entry.
ASCVD_TERMS = (
    "stroke",
    "cerebral infarct",
    "myocardial infarct",
    "heart attack",
    "coronary",
    "angina",
    "revascular",
    "pci",
    "cabg",
    "transient ischaemic",
    "transient ischemic",
    "peripheral arter",
    "ischaemic cardiomyopathy",
    "ischemic cardiomyopathy",
    "ascvd",
    "卒中",
    "中风",
    "脑梗",
    "脑血栓",
    "脑出血",
    "心肌梗",
    "心梗",
    "冠心病",
    "冠状动脉",
    "冠脉",
    "心绞痛",
    "短暂性脑缺血",
    "外周动脉",
    "缺血性心肌病",
    "血运重建",
    "支架",
    "搭桥",
)
ASCVD_CODES = frozenset({"mi", "ami", "chd", "cad", "acs", "tia", "pad"})  # whole entries only


def has_established_ascvd(complications: Sequence[str]) -> bool:
    """Whether the recorded complications name clinical ASCVD (stroke, myocardial infarction, CHD, TIA, ...)."""
    entries = [c.lower().replace("_", " ").replace("-", " ").strip() for c in complications]
    text = " | ".join(entries)
    return any(term in text for term in ASCVD_TERMS) or any(e in ASCVD_CODES for e in entries)


def china_par_percent(
    *,
    sex: str,
    age: float,
    systolic: float,
    treated: bool,
    total_cholesterol_mmol: float,
    hdl_mmol: float,
    waist_cm: float,
    smoker: bool,
    diabetes: bool,
    north: bool,
    urban: bool,
    family_history: bool,
) -> float:
    """The China-PAR 10-year ASCVD risk in percent, unrounded."""
    c = COEFFICIENTS[sex]
    ln_age, ln_sbp = log(age), log(systolic)
    sbp_beta, interaction = (
        (c.ln_sbp_treated, c.ln_age_x_ln_sbp_treated) if treated else (c.ln_sbp_untreated, c.ln_age_x_ln_sbp_untreated)
    )
    total = (
        c.ln_age * ln_age
        + sbp_beta * ln_sbp
        + interaction * ln_age * ln_sbp
        + c.ln_total_cholesterol * log(total_cholesterol_mmol / MMOL_TO_MG_DL)
        + c.ln_hdl * log(hdl_mmol / MMOL_TO_MG_DL)
        + c.ln_waist * log(waist_cm)
        + (c.smoker + c.ln_age_x_smoker * ln_age) * smoker
        + c.diabetes * diabetes
        + c.north * north
        + c.urban * urban
        + (c.family_history + c.ln_age_x_family_history * ln_age) * family_history
    )
    return 100.0 * (1.0 - c.s10 ** exp(total - c.mean))


def category(percent: float, th: Thresholds = _CUTOFFS) -> str:
    """'low' (<5 %), 'medium' (5–9.9 %) or 'high' (≥10 %)."""
    if percent >= th.ascvd_high_percent:
        return "high"
    return "medium" if percent >= th.ascvd_medium_percent else "low"


def category_name(code: str, lang: str = "zh") -> str:
    """The category in words, from the message catalogue."""
    return t(f"ascvd.{code}", lang)


def age_in_years(*, birth_date: date, on: date) -> int:
    """Completed years of age on `on`."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def ten_year_risk(*, profile: PatientProfile, systolic: float | None, on: date) -> AscvdRisk:
    """China-PAR for one patient from the profile, its health record and a systolic BP; None where it cannot."""
    record = profile.health_record or HealthRecord()
    if has_established_ascvd(record.complications):
        return AscvdRisk(None, None, established=True)
    needed = _NEEDED_BY_ALL + (_NEEDED_BY_MEN if profile.sex == "M" else ())
    missing = tuple(name for name in needed if getattr(record, name) is None)
    if systolic is None:
        missing = ("systolic", *missing)
    # Without a birth date the registry's birth year is all we know; a year's error is small beside the model's own.
    age = age_in_years(birth_date=record.birth_date, on=on) if record.birth_date else profile.age_on(on)
    out_of_range = None if AGE_RANGE[0] <= age <= AGE_RANGE[1] else age
    if missing or out_of_range is not None or systolic is None:
        return AscvdRisk(None, None, missing, out_of_range)
    percent = china_par_percent(
        sex=profile.sex,
        age=age,
        systolic=systolic,
        treated=bool(record.on_bp_treatment),
        total_cholesterol_mmol=record.total_cholesterol_mmol or 0.0,
        hdl_mmol=record.hdl_mmol or 0.0,
        waist_cm=record.waist_cm or 0.0,
        smoker=bool(record.smoker),
        diabetes=profile.diabetes,
        north=bool(record.north),
        urban=bool(record.urban),
        family_history=bool(record.family_history_ascvd),
    )
    # Shown to one decimal as in the paper; the category is taken from the shown number so the two never disagree.
    shown = round(percent, 1)
    return AscvdRisk(shown, category(shown))


def risk_systolic(readings: Sequence[Reading], *, now: datetime, window: timedelta) -> float | None:
    """The SBP China-PAR uses: the mean over the rules' window, else the latest reading; None without BP."""
    bp = sorted(
        (r for r in readings if r.kind is ReadingKind.BP and r.systolic is not None and r.measured_at <= now),
        key=lambda r: r.measured_at,
    )
    if not bp:
        return None
    # The paper used one visit's measured SBP; a window's mean is steadier than any single meter reading.
    recent = [r.systolic or 0 for r in bp if r.measured_at >= now - window]
    return fmean(recent) if recent else float(bp[-1].systolic or 0)


def unavailable_note(risk: AscvdRisk, lang: str = "zh") -> str | None:
    """Why no percentage was computed, in words (the missing fields by their Chinese names); None when it was."""
    if risk.established:
        return t("ascvd.established", lang)
    if risk.age_out_of_range is not None:
        return t("ascvd.age_out_of_range", lang, age=risk.age_out_of_range, low=AGE_RANGE[0], high=AGE_RANGE[1])
    if risk.missing:
        return t("ascvd.missing", lang, fields="、".join(t(f"ascvd.field.{name}", lang) for name in risk.missing))
    return None
