"""An `.xlsx` as a clerk's Excel saves it: dates as date cells, an ID column Excel formatted as a number (digits
lost, refused with the reason to format it as text), the same column as text accepted; and a plain UTF-8 CSV."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest

from cdm.settings import Settings
from registry.importing.files import csv_encoding
from registry.importing.service import Actor, import_directory

from .county_files import PATIENT_HEADER, id_number, patient, write_csv, write_xlsx

pytestmark = pytest.mark.integration


def _places(directory: Path) -> None:
    write_xlsx(
        directory / "townships.xlsx", [["乡镇名称", "乡镇编码"], ["城关镇", 330102001]]
    )  # any order, a number code
    write_xlsx(directory / "villages.xlsx", [["村卫生室编码", "村卫生室名称", "乡镇编码"], ["V1", "东村", "330102001"]])
    write_xlsx(directory / "teams.xlsx", [["团队编码", "团队名称", "乡镇编码"], ["TM1", "一队", 330102001]])


def test_xlsx_date_cells_and_a_number_formatted_id_column(db_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "county"
    directory.mkdir()
    _places(directory)
    born = date(1961, 12, 1)
    good_id = id_number(born, male=False)
    rows = [
        ["XX县高血压患者名单"],  # a title row above the header
        PATIENT_HEADER,
        patient(
            "A1", 性别="女", 出生日期=datetime(1961, 12, 1), 纳入管理日期=date(2022, 2, 3), 身份证号=good_id
        ).cells(),
        patient("A2", 性别="女", 出生日期=born, 身份证号=float(good_id[:17] + "0")).cells(),
        patient("A3", 出生日期=date(1950, 1, 2), 纳入管理日期=44000).cells(),  # a serial with no date format
    ]
    id_col = PATIENT_HEADER.index("身份证号")
    write_xlsx(directory / "patients.xlsx", rows, text_columns=[id_col])
    settings = Settings(database_url=db_url, county_code="xc", _env_file=None)  # type: ignore[call-arg]
    with psycopg.connect(db_url) as conn:
        outcome = import_directory(
            conn, directory=directory, settings=settings, actor=Actor("t"), report=tmp_path / "r.csv"
        )
        got = conn.execute(
            "select p.record_no, h.birth_date, (p.registered_at at time zone 'Asia/Shanghai')::date"
            " from patient p join health_record h on h.patient_id = p.id order by 1"
        ).fetchall()
    assert outcome.summary()["patients"] == {
        "rows": 3,
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "refused": 1,
        "missing": 0,
    }
    assert got == [("A1", born, date(2022, 2, 3)), ("A3", date(1950, 1, 2), date(2020, 6, 18))]
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    assert [(x["文件"], x["行号"], x["列"]) for x in lines] == [("patients.xlsx", "4", "身份证号")]
    assert "文本" in lines[0]["原因"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings_a_chinese_excel_saves(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "townships.csv", [["乡镇编码", "乡镇名称"], ["T1", "城关镇"]], encoding=encoding)
    detected = csv_encoding(path)
    assert path.read_bytes().decode(detected).lstrip("\ufeff").startswith("乡镇编码")
