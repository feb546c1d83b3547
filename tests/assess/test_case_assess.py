"""A case file as domain values, and its assessment as one JSON-ready object (pure: no fixtures)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

from assess.case import parse_case
from assess.case_assess import FILE_DEVICE, evaluate, to_domain
from assess.rules import RuleSettings
from cdm.domain import FollowUpClass, HealthRecord, ReadingKind
from cdm.thresholds import for_edition
from tests.assess.test_case import VALID

RULES = RuleSettings(thresholds=for_edition("2020"))
CST = timezone(timedelta(hours=8))


def case(**changes: object):
    return parse_case(json.dumps({**VALID, **changes}))


def test_readings_keep_their_order_as_seq_and_are_in_utc():
    inputs = to_domain(case())
    assert [(r.device_uid, r.seq, r.kind) for r in inputs.readings] == [
        (FILE_DEVICE, 0, ReadingKind.BP),
        (FILE_DEVICE, 1, ReadingKind.GLUCOSE),
        (FILE_DEVICE, 2, ReadingKind.BP),
    ]
    assert inputs.readings[0].measured_at == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert inputs.readings[0].measured_at.tzinfo is UTC
    assert inputs.readings[1].glucose_mmol == 6.1


def test_profile_and_health_record_join_the_patient_block():
    profile = to_domain(case()).profile
    assert (profile.sex, profile.birth_year, profile.hypertension, profile.diabetes) == ("M", 1964, True, True)
    assert profile.health_record == HealthRecord(
        birth_date=date(1964, 3, 15),
        total_cholesterol_mmol=5.2,
        hdl_mmol=1.3,
        smoker=False,
        on_bp_treatment=True,
        complications=("retinopathy",),
    )


def test_a_follow_up_counts_from_the_start_of_its_local_day():
    visit = to_domain(case()).follow_ups[0]
    assert visit.follow_up_class is FollowUpClass.CONTROLLED
    assert visit.recorded_at == datetime(2026, 11, 1, 0, 0, tzinfo=CST)


def test_a_critical_reading_on_the_day_of_a_visit_keeps_the_patient_red():
    readings = [{"kind": "bp", "measured_at": "2026-11-23T08:00:00+08:00", "systolic": 185, "diastolic": 100}]
    red = evaluate(case(readings=readings, follow_ups=[{"date": "2026-11-23", "class": "controlled"}]), rules=RULES)
    assert (red["colour"], red["reasons"], red["evidence"]) == ("red", ["bp_critical"], ["file:0"])
    closed = evaluate(case(readings=readings, follow_ups=[{"date": "2026-11-22", "class": "controlled"}]), rules=RULES)
    assert closed["colour"] == "red"
    after = {"kind": "bp", "measured_at": "2026-11-21T08:00:00+08:00", "systolic": 185, "diastolic": 100}
    closed = evaluate(case(readings=[after], follow_ups=[{"date": "2026-11-22", "class": "controlled"}]), rules=RULES)
    assert "bp_critical" not in closed["reasons"]


def test_evaluate_gives_colour_reasons_in_words_and_the_edition():
    out = evaluate(case(), rules=RULES)
    assert out["guideline_edition"] == "2020"
    assert out["colour"] == "yellow" and out["colour_text"] == "黄"
    # a diabetic's 2020 target is <130/80: a mean of 139/85 is above it
    assert "bp_above_target" in out["reasons"]
    assert (
        out["reason_texts"][out["reasons"].index("bp_above_target")]
        == "近14天均值 139/85 mmHg，目标 <130/80（合并糖尿病）"
    )
    assert isinstance(out["priority"], float)
    json.dumps(out)  # JSON-ready as it is


def test_english_texts_are_one_setting_away():
    out = evaluate(case(), rules=RULES, lang="en")
    assert out["reason_texts"][out["reasons"].index("bp_above_target")] == (
        "14-day mean 139/85 mmHg, target <130/80 (with diabetes)"
    )


def test_ascvd_is_null_with_the_missing_fields_named():
    out = evaluate(case(), rules=RULES)
    assert (out["ascvd_10y_percent"], out["ascvd_category"], out["ascvd_category_text"]) == (None, None, None)
    assert out["ascvd_missing"] == ["waist_cm", "north", "urban", "family_history_ascvd"]
    assert "腰围" in out["ascvd_note"] and "waist_cm" not in out["ascvd_note"]


def test_ascvd_is_computed_from_a_complete_record():
    record = {
        "total_cholesterol_mmol": 5.439,
        "hdl_mmol": 1.4245,
        "waist_cm": 80,
        "smoker": False,
        "family_history_ascvd": False,
        "urban": True,
        "north": True,
    }
    patient = {**VALID["patient"], "birth_date": "1966-05-10", "on_bp_treatment": False, "health_record": record}
    readings = [{"kind": "bp", "measured_at": "2026-11-22T08:00:00+08:00", "systolic": 130, "diastolic": 78}]
    out = evaluate(case(patient=patient, readings=readings), rules=RULES)
    assert (out["ascvd_10y_percent"], out["ascvd_category"], out["ascvd_category_text"]) == (11.0, "high", "高危")
    assert (out["ascvd_systolic"], out["ascvd_missing"], out["ascvd_note"]) == (130.0, [], None)


def test_the_edition_changes_the_target():
    # No complications: VALID's recorded retinopathy is yellow on its own (complications_recorded, issue 4), which
    # would hide the edition's effect on the BP target.
    patient = {**VALID["patient"], "diagnoses": ["hypertension"], "complications": []}
    readings = [
        {"kind": "bp", "measured_at": f"2026-11-{day}T08:00:00+08:00", "systolic": 134, "diastolic": 82}
        for day in (15, 19, 22)
    ]
    as_2020 = evaluate(case(patient=patient, readings=readings), rules=RULES)
    as_2025 = evaluate(case(patient=patient, readings=readings), rules=RuleSettings(thresholds=for_edition("2025")))
    assert (as_2020["colour"], as_2025["colour"]) == ("green", "yellow")
    assert as_2025["guideline_edition"] == "2025" and "bp_above_target" in as_2025["reasons"]
