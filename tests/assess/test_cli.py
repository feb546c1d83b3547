"""`cdm assess --file` as a clinician runs it: a real process on the shipped example cases, no mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parents[2] / "assess" / "cases"
EXPECTED = {
    "critical_bp.json": ("red", ["bp_critical"], None),
    "elderly_at_target.json": ("green", ["at_target"], None),
    # HbA1c 7.6 % in its health record: at or above the 7.0 % target since the HbA1c rule (issue 4)
    "diabetes_high_fasting.json": ("yellow", ["glucose_fasting_high", "hba1c_above_target"], None),
    "uncontrolled_twice.json": ("red", ["uncontrolled_2x"], None),
    "china_par_complete.json": ("yellow", ["bp_above_target"], "high"),
    # 3.4 mmol/L is level 1 hypoglycaemia (3.0 <= v < 3.9) since the hypoglycaemia levels (issue 4)
    "hypoglycaemia.json": ("red", ["glucose_hypo", "glucose_hypo_level1"], None),
}


def assess(path: Path | str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "assess", "--file", str(path)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_shipped_case_has_an_expectation():
    assert sorted(p.name for p in CASES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_case_gets_its_colour_and_reasons(name):
    result = assess(CASES / name)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    colour, reasons, category = EXPECTED[name]
    assert (out["colour"], out["reasons"], out["ascvd_category"]) == (colour, reasons, category)
    assert len(out["reason_texts"]) == len(reasons) and all(out["reason_texts"])
    assert out["guideline_edition"] == "2020"
    for key in ("priority", "evidence", "ascvd_10y_percent"):
        assert key in out


def test_the_complete_record_gives_the_papers_value():
    out = json.loads(assess(CASES / "china_par_complete.json").stdout)
    assert out["ascvd_10y_percent"] == pytest.approx(11.0, abs=0.2)
    assert out["ascvd_category_text"] == "高危"


def test_the_edition_setting_reaches_the_rules():
    out = json.loads(assess(CASES / "elderly_at_target.json", CDM_GUIDELINE_EDITION="2017").stdout)
    assert out["guideline_edition"] == "2017"


def test_a_malformed_case_gets_one_line_naming_the_field_and_exit_2(tmp_path):
    case = json.loads((CASES / "critical_bp.json").read_text(encoding="utf-8"))
    case["readings"][2]["systolic"] = "182"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(case), encoding="utf-8")
    result = assess(bad)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "readings[2].systolic: Input should be a valid integer" in result.stderr


@pytest.mark.parametrize(("content", "expected"), [(None, "cannot read the file"), ("{oops", "Invalid JSON")])
def test_a_missing_file_or_bad_json_gets_one_line_and_exit_2(tmp_path, content, expected):
    path = tmp_path / "case.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = assess(path)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
