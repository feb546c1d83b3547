"""`cdm registry template` writes files that import cleanly, twice (the second time changes nothing)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import psycopg
import pytest

from cdm.settings import Settings
from registry.importing.columns import COLUMNS, KINDS
from registry.importing.service import Actor, import_directory
from registry.importing.template import write_template

pytestmark = pytest.mark.integration


def _settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, county_code="xc", county_name="西城县", _env_file=None)  # type: ignore[call-arg]


def test_template_files_have_the_chinese_headers_and_a_readme(tmp_path: Path) -> None:
    written = write_template(tmp_path / "t")
    assert {p.name for p in written} == {f"{k}.csv" for k in KINDS} | {"README.md"}
    for kind in KINDS:
        with (tmp_path / "t" / f"{kind}.csv").open(encoding="utf-8-sig", newline="") as f:
            header, sample = list(csv.reader(f))
        assert header == [c.name for c in COLUMNS[kind]]
        assert all(sample[i] for i, c in enumerate(COLUMNS[kind]) if c.required)
    readme = (tmp_path / "t" / "README.md").read_text(encoding="utf-8")
    assert "健康档案号" in readme and "文本格式" in readme  # the README says to format ID columns as text
    assert "校验位" in readme  # the refusal reasons are listed


def test_the_template_imports_cleanly_and_again_changes_nothing(db_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "county"
    write_template(directory)
    settings = _settings(db_url)
    with psycopg.connect(db_url) as conn:
        first = import_directory(
            conn, directory=directory, settings=settings, actor=Actor("tester"), report=tmp_path / "r1.csv"
        )
        second = import_directory(
            conn, directory=directory, settings=settings, actor=Actor("tester"), report=tmp_path / "r2.csv"
        )
    one = first.summary()
    assert all(
        one[k]
        == {"rows": 1, "added": 1, "updated": 0, "unchanged": 0, "refused": 0}
        | ({"missing": 0} if k == "patients" else {})
        for k in KINDS
    ), json.dumps(one, ensure_ascii=False)
    two = second.summary()
    assert all(two[k]["unchanged"] == 1 and two[k]["added"] == 0 for k in KINDS), two
    assert first.credentials is not None and second.credentials is None
    assert stat.S_IMODE(first.credentials.stat().st_mode) == 0o600
    with first.credentials.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert [r[1] for r in rows[1:]] == ["BP-SN2024000001", "doc.zhang"]


def test_the_commands_print_one_json_line(db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from app.cli import app

    env = {"CDM_DATABASE_URL": db_url, "CDM_COUNTY_CODE": "xc", "CDM_COUNTY_NAME": "西城县"}
    runner = CliRunner()
    made = runner.invoke(app, ["registry", "template", "--out", str(tmp_path / "t")], env=env)
    assert made.exit_code == 0, made.output
    report = tmp_path / "report.csv"
    args = ["registry", "import", "--dir", str(tmp_path / "t"), "--report", str(report), "--by", "clerk"]
    dry = runner.invoke(app, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    line = json.loads(dry.stdout.strip().splitlines()[-1])
    assert line["patients"]["added"] == 1 and line["dry_run"] is True and line["report"] == str(report)
    real = runner.invoke(app, args, env=env)
    printed = json.loads(real.stdout.strip().splitlines()[-1])
    assert printed["patients"]["added"] == 1
    with Path(printed["credentials"]).open(encoding="utf-8-sig") as f:
        passwords = [row[2] for row in csv.reader(f)][1:]
    assert len(passwords) == 2 and not any(p in real.output for p in passwords)  # only in the 0600 file
    out = runner.invoke(app, ["export", "fhir", "--out", str(tmp_path / "fhir")], env=env)
    manifest = json.loads(out.stdout.strip().splitlines()[-1])
    assert {o["type"]: o["count"] for o in manifest["output"]}["Patient"] == 1
