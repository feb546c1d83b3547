"""`cdm followups record` with the national form's fields, from a JSON file or flags, against a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support.registry import build

from .test_cli import cdm

pytestmark = pytest.mark.integration


def test_a_form_from_json_is_recorded_and_a_bad_flag_is_refused_naming_the_field(settings, tmp_path: Path) -> None:
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=2)
        conn.commit()
    card = list(county.patients)[1]  # with diabetes
    refused = cdm(
        settings, "followups", "record", "--by", "li", "--patient", card, "--kind", "diabetes",
        "--field", "way=clinic", "--field", "sbp1=120", "--field", "dbp1=130", "--field", "adherence=regular",
        "--class", "controlled",
    )  # fmt: skip
    assert refused.returncode == 1 and "血压（第1次）收缩压：收缩压应高于舒张压" in refused.stderr
    form = {
        "kind": "diabetes", "way": "home", "symptoms": ["polyuria"], "sbp1": 128, "dbp1": 78, "heart_rate": 72,
        "dorsalis_pedis": "normal", "fasting_glucose": 6.4, "hba1c": 6.8, "adherence": "regular",
        "class": "controlled", "medications": [{"name": "二甲双胍", "dose": "0.5g", "frequency": "每日3次"}],
    }  # fmt: skip
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    done = cdm(settings, "followups", "record", "--by", "li", "--patient", card, "--form", str(path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["visit_readings"] == 2
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "select form_kind, way, fasting_glucose, hba1c, form->'medications'->0->>'name', next_due - done_on"
            " from follow_up"
        ).fetchone()
    assert row == ("diabetes", "home", 6.4, 6.8, "二甲双胍", 90)
