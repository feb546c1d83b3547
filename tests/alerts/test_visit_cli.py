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


def test_what_the_command_cannot_read_is_refused_before_the_store_in_the_countys_words(settings, tmp_path: Path):
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=1)
        conn.commit()
    card = next(iter(county.patients))
    as_list, not_json = tmp_path / "list.json", tmp_path / "broken.json"
    as_list.write_text("[1, 2]", encoding="utf-8")
    not_json.write_bytes(b"\xff{")
    record = ("followups", "record", "--by", "li", "--patient", card)
    refused = {
        (): "未执行：请用 --class 填写随访分类：controlled / uncontrolled / adverse_reaction / complication",
        ("--class", "controlled", "--done-on", "2026/03/05"): "未执行：日期格式应为 YYYY-MM-DD，例如 2026-03-05",
        ("--kind", "diabetes", "--field", "sbp1"): "未执行：--field 的格式应为 名称=值，而不是“sbp1”",
        ("--form", str(as_list)): "未执行：随访表文件应为一个 JSON 对象 {字段: 值}",
        ("--form", str(not_json)): "未执行：无法读取随访表文件（UnicodeDecodeError）：应为 UTF-8 编码的 JSON",
    }
    for args, why in refused.items():
        answer = cdm(settings, *record, *args)
        assert answer.returncode == 1 and answer.stderr.strip() == why, answer.stderr
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("select count(*) from follow_up").fetchone() == (0,)
