"""Issue 12's boundaries, table-driven through `cdm assess --file`'s pure path (no fixtures): completed age at
64 y 364 d / 65 y and 79 / 80, the diabetic target, 14 / 15 / 30 days since the last reading, fasting 4.3 / 4.4,
a sitting that confirms its urgent reading and one that does not, due dates by the visit's class, China-PAR with
established ASCVD, and reasons that carry their figures."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from assess.case import parse_case
from assess.case_assess import evaluate
from assess.rules import RuleSettings, bp_target
from assess.schedule import next_due
from cdm.domain import FollowUpClass, HealthRecord, PatientProfile
from cdm.thresholds import for_edition

CST = timezone(timedelta(hours=8))
AS_OF = datetime(2026, 11, 23, 10, 0, tzinfo=CST)
RULES = {edition: RuleSettings(thresholds=for_edition(edition)) for edition in ("2017", "2020", "2025")}


def _bp(days_ago: float, systolic: int, diastolic: int, minutes: float = 0) -> dict[str, Any]:
    at = AS_OF - timedelta(days=days_ago) + timedelta(minutes=minutes)
    return {"kind": "bp", "measured_at": at.isoformat(), "systolic": systolic, "diastolic": diastolic}


def _glucose(days_ago: float, mmol: float, context: str = "fasting") -> dict[str, Any]:
    at = AS_OF - timedelta(days=days_ago)
    return {"kind": "glucose", "measured_at": at.isoformat(), "mmol_l": mmol, "context": context}


def run(
    *,
    readings: list[dict[str, Any]],
    born: date = date(1966, 1, 1),
    diagnoses: tuple[str, ...] = ("hypertension",),
    follow_ups: list[dict[str, str]] | None = None,
    complications: tuple[str, ...] = (),
    edition: str = "2020",
    record: dict[str, Any] | None = None,
    as_of: datetime = AS_OF,
) -> dict[str, Any]:
    visits = [{"date": (AS_OF - timedelta(days=10)).date().isoformat(), "class": "controlled"}]
    case = {
        "as_of": as_of.isoformat(),
        "patient": {
            "sex": "M",
            "birth_date": born.isoformat(),
            "diagnoses": list(diagnoses),
            "complications": list(complications),
            "on_bp_treatment": True,
            **({"health_record": record} if record else {}),
        },
        "readings": readings,
        "follow_ups": visits if follow_ups is None else follow_ups,
    }
    return evaluate(parse_case(json.dumps(case)), rules=RULES[edition])


# 145/85 twice this week: at target for <150/90, above it for <140/90 and <130/80.
AT_145 = [_bp(1, 145, 85), _bp(5, 145, 85)]


@pytest.mark.parametrize(
    ("born", "diagnoses", "edition", "colour"),
    [
        (date(1961, 11, 24), ("hypertension",), "2020", "yellow"),  # 64 y 364 d: <140/90
        (date(1961, 11, 23), ("hypertension",), "2020", "green"),  # 65 today: <150/90
        (date(1961, 12, 15), ("hypertension",), "2020", "yellow"),  # born December 1961: 64 until then
        (date(1946, 11, 24), ("hypertension",), "2025", "yellow"),  # 79 y 364 d: <130/80
        (date(1946, 11, 23), ("hypertension",), "2025", "green"),  # 80 today: <150/90
        (date(1956, 5, 1), ("hypertension", "type2_diabetes"), "2020", "yellow"),  # 70, diabetic: <130/80
        (date(1944, 5, 1), ("hypertension", "type2_diabetes"), "2020", "yellow"),  # 82, diabetic: <140/90 at most
        (date(1944, 5, 1), ("hypertension",), "2020", "green"),  # 82, not diabetic: <150/90
        (date(1956, 5, 1), ("hypertension", "type2_diabetes"), "2017", "yellow"),  # 2017: never <150/90 diabetic
    ],
)
def test_completed_age_and_the_diabetic_target(born, diagnoses, edition, colour):
    glucose = [_glucose(2, 6.0)] if "type2_diabetes" in diagnoses else []
    out = run(readings=AT_145 + glucose, born=born, diagnoses=diagnoses, edition=edition)
    assert out["colour"] == colour, out["reason_texts"]
    assert ("bp_above_target" in out["reasons"]) is (colour == "yellow")


@pytest.mark.parametrize(
    ("days", "colour", "reason", "text"),
    [
        (14, "green", "at_target", "控制达标，监测按时"),
        (15, "yellow", "bp_not_recent", "已 15 天无血压测量（需每14天内至少一次）"),
        (20, "yellow", "bp_not_recent", "已 20 天无血压测量（需每14天内至少一次）"),
        (30, "yellow", "bp_not_recent", "已 30 天无血压测量（需每14天内至少一次）"),
        (31, "yellow", "monitoring_gap", "超过30天未测量"),
    ],
)
def test_green_needs_a_reading_inside_the_window(days, colour, reason, text):
    out = run(readings=[_bp(days, 128, 78)])
    assert (out["colour"], out["reasons"], out["reason_texts"]) == (colour, [reason], [text])


def test_an_old_high_reading_is_yellow_not_green():
    out = run(readings=[_bp(20, 178, 108)])
    assert out["colour"] == "yellow" and out["reasons"] == ["bp_not_recent"]


def test_a_diabetic_needs_a_glucose_reading_inside_the_window_too():
    out = run(readings=[_bp(1, 120, 75), _glucose(20, 12.0)], diagnoses=("hypertension", "type2_diabetes"))
    assert out["colour"] == "yellow" and out["reasons"] == ["glucose_not_recent"]
    assert out["reason_texts"] == ["已 20 天无血糖测量（需每14天内至少一次）"]


@pytest.mark.parametrize(
    ("mmol", "colour", "reasons"),
    [
        (4.3, "yellow", ["glucose_fasting_low"]),
        (4.4, "green", ["at_target"]),
        (6.9, "green", ["at_target"]),
        (7.0, "yellow", ["glucose_fasting_high"]),
    ],
)
def test_fasting_target_is_4_4_to_7_0(mmol, colour, reasons):
    out = run(readings=[_bp(1, 120, 75), _glucose(1, mmol)], diagnoses=("hypertension", "type2_diabetes"))
    assert (out["colour"], out["reasons"]) == (colour, reasons)
    if reasons == ["glucose_fasting_low"]:
        assert out["reason_texts"] == ["空腹血糖偏低：近14天均值 4.3 mmol/L，目标 4.4–7.0"]


def test_a_sitting_whose_mean_is_below_the_urgent_criterion_does_not_keep_the_patient_red():
    sitting = [_bp(0.01, 150, 90), _bp(0.01, 182, 96, minutes=1), _bp(0.01, 148, 88, minutes=2)]
    out = run(readings=sitting)  # complete: 14 minutes passed since its last reading (gap 10)
    assert out["colour"] == "yellow" and "bp_critical" not in out["reasons"] and "bp_grade2" in out["reasons"]
    assert "最近一次测量均值 160/91 mmHg，达2级高血压（≥160/100）" in out["reason_texts"]
    still_open = run(readings=sitting, as_of=AS_OF - timedelta(days=0.01) + timedelta(minutes=5))
    assert still_open["colour"] == "red" and still_open["reasons"] == ["bp_critical"]


def test_a_sitting_that_confirms_keeps_the_red_with_its_figure():
    out = run(readings=[_bp(0.01, 182, 96), _bp(0.01, 186, 100, minutes=1)])
    assert (out["colour"], out["reasons"]) == ("red", ["bp_critical"])
    assert out["reason_texts"] == ["最近一次 186/100 mmHg（11-23 09:46），≥180/110 需紧急转诊"]


@pytest.mark.parametrize(
    ("cls", "days_ago", "overdue"),
    [("uncontrolled", 14, False), ("uncontrolled", 15, True), ("controlled", 90, False), ("controlled", 91, True)],
)
def test_due_dates_by_the_visits_class_as_production_records_them(cls, days_ago, overdue):
    done = (AS_OF - timedelta(days=days_ago)).date()
    out = run(readings=[_bp(1, 125, 75)], follow_ups=[{"date": done.isoformat(), "class": cls}])
    assert ("follow_up_overdue" in out["reasons"]) is overdue
    assert next_due(FollowUpClass(cls), done) == done + timedelta(days=14 if cls == "uncontrolled" else 90)


def test_the_mean_reason_names_figure_and_target():
    readings = [_bp(1, 146, 85), _bp(3, 146, 85), _glucose(1, 6.0)]
    out = run(readings=readings, diagnoses=("hypertension", "type2_diabetes"))
    assert out["reason_texts"] == ["近14天均值 146/85 mmHg，目标 <130/80（合并糖尿病）"]


COMPLETE = {"total_cholesterol_mmol": 5.4, "hdl_mmol": 1.3, "waist_cm": 85.0, "smoker": False, "north": True,
            "urban": False, "family_history_ascvd": False}  # fmt: skip


@pytest.mark.parametrize(
    ("complications", "computed"),
    [
        ((), True),
        (("retinopathy",), True),
        (("diabetic_nephropathy", "dementia"), True),  # "tia" inside a word is not a TIA
        (("stroke",), False),
        (("心肌梗死",), False),
        (("cerebral infarction",), False),
        (("中风",), False),  # the everyday word for stroke
        (("TIA",), False),  # clinical ASCVD in the Chinese guidelines' list (2016 lipid guideline, 2019 risk guideline)
        (("心绞痛",), False),
        (("PCI术后",), False),
        (("peripheral_artery_disease",), False),
    ],
)
def test_china_par_is_not_for_established_ascvd(complications, computed):
    out = run(readings=AT_145, complications=complications, record=COMPLETE)
    assert (out["ascvd_10y_percent"] is not None) is computed
    if not computed:
        assert out["ascvd_note"] == "已有心脑血管疾病，不适用一级预防评估"


def test_old_complications_keep_a_controlled_patient_green_with_a_higher_priority():
    plain = run(readings=[_bp(1, 125, 75)])
    old = run(readings=[_bp(1, 125, 75)], complications=("retinopathy",))
    assert plain["colour"] == old["colour"] == "green" and old["priority"] > plain["priority"]


@pytest.mark.parametrize(
    ("birth_year", "born", "diabetes", "edition", "target"),
    [
        (1961, None, False, "2020", (140, 90)),  # 64 or 65 on 2026-11-23: the stricter of <140/90 and <150/90
        (1961, date(1961, 1, 1), False, "2020", (150, 90)),  # the date known: 65
        (1961, date(1961, 12, 31), False, "2020", (140, 90)),  # the date known: 64
        (1946, None, False, "2025", (130, 80)),  # 79 or 80: the stricter of <130/80 and <150/90
        (1946, date(1946, 1, 1), False, "2025", (150, 90)),  # 80
        (1946, None, True, "2020", (130, 80)),  # diabetic, 79 or 80: <130/80 below 80 is the stricter
        (1944, None, True, "2020", (140, 90)),  # diabetic, 81 or 82: at most <140/90
    ],
)
def test_with_only_the_birth_year_the_stricter_target_applies(birth_year, born, diabetes, edition, target):
    record = HealthRecord(birth_date=born) if born else None
    profile = PatientProfile(1, "M", birth_year, True, diabetes, health_record=record)
    found = bp_target(profile, for_edition(edition), on=AS_OF)
    assert (found.systolic, found.diastolic) == target


def test_a_mean_just_below_its_target_is_not_shown_rounded_onto_it():
    # diastolic mean 79.7 is below 80 (only the systolic 132.3 misses <130/80): shown as 79, not as "80 against <80"
    out = run(readings=[_bp(1, 132, 82), _bp(3, 134, 78), _bp(5, 131, 79)], edition="2025")
    assert out["reason_texts"] == ["近14天均值 132/79 mmHg，目标 <130/80"]
