"""The case file's schema: what it accepts, and refusals that name the field on one line."""

from __future__ import annotations

import json
from copy import deepcopy

import pytest

from assess.case import CaseError, field_path, load_case, parse_case

VALID = {
    "as_of": "2026-11-23T10:00:00+08:00",
    "patient": {
        "sex": "M",
        "birth_date": "1964-03-15",
        "diagnoses": ["hypertension", "type2_diabetes"],
        "complications": ["retinopathy"],
        "on_bp_treatment": True,
        "health_record": {"total_cholesterol_mmol": 5.2, "hdl_mmol": 1.3, "smoker": False},
    },
    "readings": [
        {"kind": "bp", "measured_at": "2026-11-22T08:00:00+08:00", "systolic": 138, "diastolic": 84, "pulse": 72},
        {"kind": "glucose", "measured_at": "2026-11-22T07:00:00+08:00", "mmol_l": 6.1, "context": "fasting"},
        {"kind": "bp", "measured_at": "2026-11-23T08:00:00+08:00", "systolic": 140, "diastolic": 86},
    ],
    "follow_ups": [{"date": "2026-11-01", "class": "controlled"}],
}


def with_change(path: tuple, value: object) -> str:
    case = deepcopy(VALID)
    target = case
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(case)


_DELETE = object()


def refusal(text: str) -> str:
    with pytest.raises(CaseError) as caught:
        parse_case(text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_valid_case_parses_with_its_aliases_and_defaults():
    case = parse_case(json.dumps(VALID))
    assert case.as_of.utcoffset() is not None
    assert [r.kind for r in case.readings] == ["bp", "glucose", "bp"]
    assert case.readings[2].pulse is None
    assert case.follow_ups[0].follow_up_class == "controlled"
    assert case.patient.health_record is not None and case.patient.health_record.waist_cm is None


def test_only_the_required_fields_are_needed():
    minimal = {
        "as_of": VALID["as_of"],
        "patient": {"sex": "F", "birth_date": "1950-01-01", "diagnoses": ["hypertension"]},
    }
    case = parse_case(json.dumps(minimal))
    assert (case.readings, case.follow_ups, case.patient.health_record) == ([], [], None)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("readings", 2, "systolic"), "140", "readings[2].systolic: Input should be a valid integer"),
        (("readings", 2, "systolic"), 140.5, "readings[2].systolic: Input should be a valid integer"),
        (("readings", 0, "systolic"), 301, "readings[0].systolic: Input should be less than or equal to 300"),
        (("readings", 0, "diastolic"), 138, "readings[0]: systolic 138 <= diastolic 138"),
        (("readings", 1, "mmol_l"), 120, "readings[1].mmol_l: Input should be less than or equal to 33.3"),
        (("readings", 1, "context"), "random", "readings[1].context: Input should be 'fasting' or 'non_fasting'"),
        (("readings", 1, "kind"), "weight", "readings[1]: Input tag 'weight'"),
        (("readings", 0, "note"), "x", "readings[0].note: Extra inputs are not permitted"),
        (("as_of",), "2026-11-23T10:00:00", "as_of: Input should have timezone info"),
        (("patient", "sex"), "male", "patient.sex: Input should be 'M' or 'F'"),
        (("patient", "diagnoses"), [], "patient.diagnoses: List should have at least 1 item"),
        (("patient", "diagnoses"), ["diabetes"], "patient.diagnoses[0]: Input should be 'hypertension' or"),
        (("patient", "on_bp_treatment"), 1, "patient.on_bp_treatment: Input should be a valid boolean"),
        (("patient", "birth_date"), _DELETE, "patient.birth_date: Field required"),
        (("patient", "health_record", "hdl_mmol"), 55, "patient.health_record.hdl_mmol: Input should be less than"),
        (("patient", "health_record", "bmi"), 24, "patient.health_record.bmi: Extra inputs are not permitted"),
        (("follow_ups", 0, "class"), "good", "follow_ups[0].class: Input should be 'controlled'"),
        (("follow_ups", 0, "date"), _DELETE, "follow_ups[0].date: Field required"),
    ],
)
def test_a_wrong_field_is_named(path, value, expected):
    assert expected in refusal(with_change(path, value))


def test_several_wrong_fields_are_all_named_on_one_line():
    case = json.loads(with_change(("readings", 0, "systolic"), "x"))
    case["follow_ups"][0]["class"] = "good"
    message = refusal(json.dumps(case))
    assert "readings[0].systolic" in message and "follow_ups[0].class" in message


def test_entries_after_as_of_are_refused_rather_than_ignored():
    message = refusal(with_change(("readings", 1, "measured_at"), "2026-11-23T10:00:01+08:00"))
    assert message.startswith("readings[1].measured_at:") and "after as_of" in message
    assert "follow_ups[0].date:" in refusal(with_change(("follow_ups", 0, "date"), "2026-11-24"))
    # exactly at as_of is fine
    parse_case(with_change(("readings", 1, "measured_at"), "2026-11-23T02:00:00Z"))


def test_bad_json_and_unreadable_files_name_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"as_of": ', encoding="utf-8")
    with pytest.raises(CaseError, match=r"broken\.json: Invalid JSON"):
        load_case(broken)
    with pytest.raises(CaseError, match=r"absent\.json: cannot read the file"):
        load_case(tmp_path / "absent.json")
    with pytest.raises(CaseError, match="case: Input should be an object"):
        parse_case("[]")


def test_field_path_drops_the_reading_kind_tag():
    assert field_path(("readings", 2, "bp", "systolic")) == "readings[2].systolic"
    assert field_path(("patient", "diagnoses", 0)) == "patient.diagnoses[0]"
    assert field_path(()) == ""
