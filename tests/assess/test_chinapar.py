"""China-PAR, pinned at the paper's check values and the category boundaries (clinical-reference §4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from assess.chinapar import (
    AGE_RANGE,
    MMOL_TO_MG_DL,
    age_in_years,
    category,
    category_name,
    china_par_percent,
    risk_systolic,
    ten_year_risk,
    unavailable_note,
)
from cdm.domain import HealthRecord, PatientProfile
from cdm.i18n import t
from tests.assess.factories import bp, glucose

ON = date(2026, 11, 23)
# The paper's example: SBP 130 untreated, TC 210 mg/dL, HDL 55 mg/dL, waist 80 cm, non-smoker, diabetic, north,
# urban, no family history.
PAPER = {
    "systolic": 130,
    "treated": False,
    "total_cholesterol_mmol": 210 * MMOL_TO_MG_DL,
    "hdl_mmol": 55 * MMOL_TO_MG_DL,
    "waist_cm": 80,
    "smoker": False,
    "diabetes": True,
    "north": True,
    "urban": True,
    "family_history": False,
}
PAPER_RECORD = HealthRecord(
    total_cholesterol_mmol=210 * MMOL_TO_MG_DL,
    hdl_mmol=55 * MMOL_TO_MG_DL,
    waist_cm=80,
    smoker=False,
    family_history_ascvd=False,
    urban=True,
    north=True,
    on_bp_treatment=False,
)


def profile(*, sex: str = "M", age: int = 60, record: HealthRecord | None = PAPER_RECORD) -> PatientProfile:
    birth = date(ON.year - age, 1, 1)
    return PatientProfile(1, sex, birth.year, True, True, health_record=record and replace(record, birth_date=birth))


@pytest.mark.parametrize(
    ("sex", "age", "expected"),
    [
        ("M", 60, 11.0),
        ("F", 60, 10.1),
        ("M", 40, 2.2),
        ("M", 50, 5.4),
        ("M", 70, 19.6),
        ("F", 40, 2.4),
        ("F", 50, 5.4),
        ("F", 70, 17.1),
    ],
)
def test_the_papers_check_values_within_0_2_points(sex, age, expected):
    assert china_par_percent(sex=sex, age=age, **PAPER) == pytest.approx(expected, abs=0.2)
    risk = ten_year_risk(profile=profile(sex=sex, age=age), systolic=130, on=ON)
    assert risk.percent == pytest.approx(expected, abs=0.2)


def test_treated_sbp_uses_its_own_terms_and_gives_a_higher_risk():
    # The treated terms come from a single public source, so only their direction is pinned here.
    untreated = china_par_percent(sex="M", age=60, **PAPER)
    treated = china_par_percent(sex="M", age=60, **{**PAPER, "treated": True})
    assert treated > untreated + 1


def test_women_need_neither_urban_nor_family_history():
    record = replace(PAPER_RECORD, urban=None, family_history_ascvd=None)
    assert ten_year_risk(profile=profile(sex="F", record=record), systolic=130, on=ON).percent == pytest.approx(
        10.1, abs=0.2
    )
    men = ten_year_risk(profile=profile(sex="M", record=record), systolic=130, on=ON)
    assert men.percent is None and men.missing == ("urban", "family_history_ascvd")


@pytest.mark.parametrize(
    ("percent", "expected"),
    [(0.0, "low"), (4.99, "low"), (5.0, "medium"), (9.99, "medium"), (10.0, "high"), (60.0, "high")],
)
def test_category_boundaries(percent, expected):
    assert category(percent) == expected


def test_the_category_follows_the_shown_percentage():
    risk = ten_year_risk(profile=profile(age=60), systolic=130, on=ON)
    assert (risk.percent, risk.category) == (11.0, "high")
    assert ten_year_risk(profile=profile(age=50), systolic=130, on=ON).category == "medium"
    assert ten_year_risk(profile=profile(age=40), systolic=130, on=ON).category == "low"


@pytest.mark.parametrize(
    "field",
    ["on_bp_treatment", "total_cholesterol_mmol", "hdl_mmol", "waist_cm", "smoker", "north", "urban"],
)
def test_a_missing_field_gives_no_percentage_and_is_named(field):
    risk = ten_year_risk(profile=profile(record=replace(PAPER_RECORD, **{field: None})), systolic=130, on=ON)
    assert (risk.percent, risk.category, risk.missing) == (None, None, (field,))
    assert t(f"ascvd.field.{field}", "zh") in (unavailable_note(risk) or "")
    assert field not in (unavailable_note(risk) or "")  # named in Chinese, not by its code


def test_no_record_and_no_bp_name_everything_needed():
    risk = ten_year_risk(profile=profile(record=None), systolic=None, on=ON)
    assert risk.percent is None
    assert risk.missing[0] == "systolic" and "family_history_ascvd" in risk.missing


@pytest.mark.parametrize(("age", "computed"), [(34, False), (35, True), (74, True), (75, False), (85, False)])
def test_ages_outside_35_to_74_are_not_extrapolated(age, computed):
    risk = ten_year_risk(profile=profile(age=age), systolic=130, on=ON)
    assert (risk.percent is not None) is computed
    assert risk.age_out_of_range == (None if computed else age)
    if not computed:
        assert f"{AGE_RANGE[0]}–{AGE_RANGE[1]}" in (unavailable_note(risk, "en") or "")


def test_age_counts_completed_years_from_the_birth_date():
    assert age_in_years(birth_date=date(1952, 11, 24), on=ON) == 73
    assert age_in_years(birth_date=date(1952, 11, 23), on=ON) == 74
    # 74 and 364 days is still 74: inside the model's range
    record = replace(PAPER_RECORD, birth_date=date(1951, 11, 24))
    patient = PatientProfile(1, "M", 1951, True, True, health_record=record)
    assert ten_year_risk(profile=patient, systolic=130, on=ON).percent is not None


def test_category_names_come_from_the_catalogue():
    assert [category_name(c) for c in ("low", "medium", "high")] == ["低危", "中危", "高危"]
    assert category_name("high", "en") == "High risk"


def test_risk_systolic_is_the_window_mean_else_the_latest_reading():
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    window = timedelta(days=14)
    recent = [bp(128, 80, ago=timedelta(days=1)), bp(134, 80, ago=timedelta(days=5))]
    old = [bp(150, 90, ago=timedelta(days=40)), bp(160, 95, ago=timedelta(days=20))]
    assert risk_systolic([*old, *recent], now=now, window=window) == 131
    assert risk_systolic(old, now=now, window=window) == 160
    assert risk_systolic([glucose(6.0)], now=now, window=window) is None
