"""The national follow-up forms' checks (pure): each bad field named in Chinese, at the boundaries; the next visit
defaulting by class and never in the past; the two BP measurements' mean."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from alerts.followups.form import validate
from cdm.domain import FollowUpClass

TODAY = date(2026, 3, 14)


def good(**changes: object) -> dict[str, object]:
    """A complete hypertension visit at the clinic, controlled; `changes` override fields (None removes one)."""
    raw: dict[str, object] = {
        "kind": "hypertension",
        "done_on": TODAY.isoformat(),
        "way": "clinic",
        "symptoms": ["headache_dizziness", "palpitations"],
        "sbp1": "138",
        "dbp1": "86",
        "sbp2": "134",
        "dbp2": "84",
        "heart_rate": "76",
        "weight_kg": "68.5",
        "target_weight_kg": "65",
        "height_cm": "165",
        "cigarettes_per_day": "5",
        "alcohol_liang_per_day": "1",
        "exercise_times_per_week": "5",
        "exercise_minutes": "30",
        "salt": "moderate",
        "psych": "good",
        "compliance": "good",
        "adherence": "regular",
        "class": "controlled",
        "medications": [{"name": "氨氯地平", "dose": "5mg", "frequency": "每日1次"}],
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def test_a_full_visit_keeps_every_field_with_the_mean_bp_and_bmi() -> None:
    visit, errors = validate(good(), today=TODAY, lang="zh")
    assert errors == {} and visit is not None
    assert (visit.bp, visit.sbp_mean, visit.dbp_mean) == (((138, 86), (134, 84)), 136, 85)
    assert visit.bmi == 25.2 and visit.follow_up_class is FollowUpClass.CONTROLLED
    form = visit.as_json()
    assert form["symptoms"] == ["headache_dizziness", "palpitations"] and form["salt"] == "moderate"
    assert form["medications"] == [{"name": "氨氯地平", "dose": "5mg", "frequency": "每日1次"}]


@pytest.mark.parametrize(
    ("cls", "done_days_ago", "due_in"),
    [
        ("controlled", 0, 90),
        ("uncontrolled", 0, 14),
        ("adverse_reaction", 3, 11),
        ("complication", 0, 14),
        ("uncontrolled", 20, 0),  # a visit entered late: its default would be past, so today
        ("controlled", 100, 0),
    ],
)
def test_the_next_visit_defaults_by_class_and_never_lies_in_the_past(cls: str, done_days_ago: int, due_in: int) -> None:
    done = TODAY - timedelta(days=done_days_ago)
    visit, errors = validate(good(**{"class": cls, "done_on": done.isoformat()}), today=TODAY, lang="zh")
    assert errors == {} and visit is not None
    assert visit.next_due == TODAY + timedelta(days=due_in)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sbp1": "301"}, "sbp1", "血压（第1次）收缩压：应在 50–300 mmHg 之间"),
        ({"dbp2": "29"}, "dbp2", "血压（第2次）舒张压：应在 30–200 mmHg 之间"),
        ({"sbp1": "90", "dbp1": "90"}, "sbp1", "血压（第1次）收缩压：收缩压应高于舒张压"),
        ({"sbp2": "", "dbp2": "84"}, "sbp2", "血压（第2次）收缩压：收缩压和舒张压需同时填写"),
        ({"sbp1": "", "dbp1": "", "sbp2": "", "dbp2": ""}, "sbp1", "血压（第1次）收缩压：门诊或家庭随访须测量血压"),
        ({"sbp1": "一百四"}, "sbp1", "血压（第1次）收缩压：请填写数字"),
        ({"heart_rate": "72.5"}, "heart_rate", "心率：请填写整数"),
        ({"heart_rate": "251"}, "heart_rate", "心率：应在 25–250 次/分 之间"),
        ({"weight_kg": "9.9"}, "weight_kg", "体重：应在 10–300 kg 之间"),
        ({"fasting_glucose": "33.4"}, "fasting_glucose", "空腹血糖：应在 1.1–33.3 mmol/L 之间"),
        ({"fasting_glucose": "1.0"}, "fasting_glucose", "空腹血糖：应在 1.1–33.3 mmol/L 之间"),
        ({"hba1c": "2.9"}, "hba1c", "糖化血红蛋白：应在 3–20 % 之间"),
        ({"done_on": "2026/3/14"}, "done_on", "随访日期：日期格式应为 年-月-日，例如 2025-03-14"),
        ({"done_on": "2026-03-15"}, "done_on", "随访日期：不能晚于今天"),
        ({"next_due": "2026-03-13"}, "next_due", "下次随访日期：不能早于今天"),
        ({"class": None}, "class", "此次随访分类：请选择"),
        ({"adherence": None}, "adherence", "服药依从性：请选择"),
        ({"way": "wechat"}, "way", "随访方式：请选择"),
        ({"symptoms": ["none", "nosebleed"]}, "symptoms", "症状：“无症状”不能与其他症状同选"),
        ({"symptoms": ["polyuria"]}, "symptoms", "症状：请选择"),  # a diabetes symptom on the hypertension form
        ({"medications": [{"dose": "5mg"}]}, "medications", "用药情况：请填写药物名称"),
    ],
)
def test_each_refusal_names_its_field_in_chinese(changes: dict[str, object], field: str, message: str) -> None:
    visit, errors = validate(good(**changes), today=TODAY, lang="zh")
    assert visit is None and errors[field] == message


def test_boundaries_are_accepted() -> None:
    changes = {"sbp1": "300", "dbp1": "200", "sbp2": "51", "dbp2": "30", "heart_rate": "25", "hba1c": "20"}
    visit, errors = validate(good(**changes, fasting_glucose="33.3"), today=TODAY, lang="zh")
    assert errors == {} and visit is not None and visit.fasting_glucose == 33.3


def test_a_phone_visit_needs_no_bp_and_a_diabetes_form_takes_its_own_symptoms() -> None:
    raw = good(kind="diabetes", way="phone", sbp1=None, dbp1=None, sbp2=None, dbp2=None, symptoms="polyuria,infection")
    visit, errors = validate({**raw, "dorsalis_pedis": "weak", "fasting_glucose": "7.8"}, today=TODAY, lang="zh")
    assert errors == {} and visit is not None
    assert visit.bp == () and visit.as_json()["symptoms"] == ["polyuria", "infection"]
    assert visit.as_json()["dorsalis_pedis"] == "weak"


def test_every_bad_field_is_reported_at_once_in_english_too() -> None:
    _, errors = validate(good(sbp1="20", heart_rate="x", **{"class": None}), today=TODAY, lang="en")
    assert errors == {
        "sbp1": "BP 1st: systolic: must be 50–300 mmHg",
        "heart_rate": "Heart rate: enter a number",
        "class": "This visit's class: choose one",
    }
