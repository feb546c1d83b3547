"""A county's files as its clerks send them, written for real: CSV in UTF-8 with and without BOM and GB18030,
`.xlsx` made with openpyxl (Excel date cells, an ID column formatted as number), with dirty rows of every kind."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

from cdm.identity import check_character
from registry.importing.columns import COLUMNS

PATIENT_HEADER = [c.name for c in COLUMNS["patients"]]


def id_number(born: date, *, male: bool, area: str = "330102", seq: int = 12) -> str:
    """A valid 18-character ID-card number for this birth date and sex."""
    sequence = seq * 10 + (1 if male else 2) if seq < 100 else seq
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def id_with_x(born: date, *, male: bool) -> str:
    """A valid ID-card number whose check character is X (written lower-case by the caller)."""
    for seq in range(100):
        number = id_number(born, male=male, seq=seq)
        if number.endswith("X"):
            return number
    raise AssertionError("no X check character for this date")


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, encoding: str) -> Path:
    """Rows (the header first) as Excel's CSV in `encoding` ('utf-8-sig' has the BOM)."""
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    text_columns: Sequence[int] = (),
    number_columns: Sequence[int] = (),
) -> Path:
    """Rows as a workbook; dates become Excel date cells; columns may be formatted as text ('@') or number."""
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(list(values))
    for row in sheet.iter_rows(min_row=2):
        for index in text_columns:
            row[index].number_format = "@"
        for index in number_columns:
            row[index].number_format = "0"
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    book.save(path)
    return path


@dataclass
class Patient:
    """One patient row, by column name; `cells()` lays it out in the template's order."""

    values: dict[str, object] = field(default_factory=dict)

    def cells(self) -> list[object]:
        return [self.values.get(name, "") for name in PATIENT_HEADER]


def patient(record: str, **overrides: object) -> Patient:
    """A clean patient of 东村 (城关镇), team 城关一队, hypertensive, unless overridden."""
    values: dict[str, object] = {
        "健康档案号": record,
        "姓名": "测试",
        "性别": "男",
        "出生日期": "1958-03-15",
        "村卫生室编码": "V1",
        "签约团队编码": "TM1",
        "管理病种": "高血压",
        "纳入管理日期": "2020-01-05",
    }
    values.update({k: v for k, v in overrides.items()})
    return Patient(values)


TODAY = date.today()
BORN_1 = date(1958, 3, 15)
BORN_2 = date(1962, 7, 9)
ID_1 = id_number(BORN_1, male=True)
ID_2 = id_with_x(BORN_2, male=False)
ID_STORED = id_number(date(1949, 10, 1), male=True, seq=55)  # a patient registered before the import
WAITING_CARD = "H-WAIT-1"


def clean_patients() -> list[Patient]:
    """Rows 2-6: every accepted way of writing the values a clerk's Excel produces."""
    return [
        patient(
            "P001",
            姓名="张三",
            出生日期="1958-03-15",
            身份证号=ID_1,
            联系电话="+86 138-1234-5678",
            现住址=" 东村3组12号 ",
            健康卡号="H001",
            是否服用降压药="是",
            **{"总胆固醇mmol/L": "5.2", "高密度脂蛋白mmol/L": "1.3", "腰围cm": "88", "身高cm": "168", "体重kg": "70"},
            吸烟="否",
            心脑血管病家族史="否",
            居住地="农村",
        ),
        patient(
            "Ｐ００２",
            姓名="李四",
            性别="女",
            出生日期="19620709",
            身份证号=ID_2.lower(),
            联系电话="0571-8888 1234",
            管理病种="高血压，2型糖尿病",
            纳入管理日期="2019/11/20",
        ),
        patient("P003", 姓名="王五", 性别="1", 出生日期="1950/1/1", 管理病种="糖尿病", 纳入管理日期="20210301"),
        patient(
            "P004",
            姓名="赵六",
            性别="2",
            出生日期="1955-05-05",
            村卫生室编码="V2",
            管理病种="高血压;2型糖尿病",
            联系电话="13900001111",
        ),
        patient("P005", 姓名="钱七", 村卫生室编码="V3", 签约团队编码="TM2", 居住地="城市"),
    ]


def dirty_patients() -> list[tuple[Patient, list[str]]]:
    """Rows 7 on: each with the columns the report must name (blank row 21 and the waiting patient aside)."""
    future = (TODAY + timedelta(days=3)).isoformat()
    wrong_check = ID_1[:17] + ("0" if ID_1[17] != "0" else "1")
    return [
        (patient("P006", 身份证号="1.30130E+17"), ["身份证号"]),
        (patient("P007", 身份证号=wrong_check), ["身份证号"]),
        (
            patient("P008", 性别="女", 出生日期="1958-03-15", 身份证号=id_number(BORN_1, male=True, seq=20)),
            ["身份证号"],
        ),
        (patient("P009", 出生日期="1958-03-16", 身份证号=id_number(BORN_1, male=True, seq=21)), ["身份证号"]),
        (patient("P010", 出生日期="1960-13-01"), ["出生日期"]),
        (patient("P011", 纳入管理日期=future), ["纳入管理日期"]),
        (patient("P012", 管理病种="冠心病"), ["管理病种"]),
        (patient("P013", 村卫生室编码="V9"), ["村卫生室编码"]),
        (patient("P014", 签约团队编码="TM2"), ["签约团队编码"]),
        (patient("P001", 姓名="重复"), ["健康档案号"]),
        (patient("P015", 身份证号=ID_1), ["身份证号"]),
        (patient("P016", 健康卡号="H001"), ["健康卡号"]),
        (patient("P017", 姓名="", 性别="未知", 联系电话="12345"), ["姓名", "性别", "联系电话"]),
        (patient("P018", **{"腰围cm": "880"}), ["腰围cm"]),
    ]


def patient_rows() -> tuple[list[list[object]], dict[int, list[str]]]:
    """The patients file's rows (header first) and, by spreadsheet row, the columns each bad row is refused for."""
    rows: list[list[object]] = [PATIENT_HEADER]
    bad: dict[int, list[str]] = {}
    rows += [p.cells() for p in clean_patients()]
    for p, columns in dirty_patients():
        rows.append(p.cells())
        bad[len(rows)] = columns
    rows.append([""] * len(PATIENT_HEADER))  # a blank row: skipped, still counted in the numbering
    rows.append(patient("P019", 健康卡号=WAITING_CARD, 性别="女", 出生日期="1949-10-01").cells())
    rows.append(patient("P020", 身份证号="330102580315123").cells())
    bad[len(rows)] = ["身份证号"]
    rows.append(patient("P021", 出生日期="1949-10-01", 身份证号=ID_STORED).cells())
    bad[len(rows)] = ["身份证号"]
    return rows, bad


def write_county(directory: Path) -> dict[int, list[str]]:
    """Every file of the county in `directory`; returns the patients file's bad rows and their columns."""
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(
        directory / "townships.csv",
        [["乡镇编码", "乡镇名称"], ["T1", "城关镇"], ["T2", "河口乡"], ["T1", "城关镇重复"], ["T3", ""]],
        encoding="utf-8-sig",
    )
    write_xlsx(
        directory / "villages.xlsx",
        [
            ["村卫生室编码", "村卫生室名称", "乡镇编码"],
            ["V1", "东村卫生室", "T1"],
            ["V2", "西村卫生室", "T1"],
            ["V3", "河口村卫生室", "T2"],
            ["V4", "无主村", "T9"],
        ],
    )
    write_csv(
        directory / "teams.csv",
        [["团队编码", "团队名称", "乡镇编码"], ["TM1", "城关一队", "T1"], ["TM2", "河口一队", "T2"]],
        encoding="gb18030",
    )
    rows, bad = patient_rows()
    write_csv(directory / "patients.csv", rows, encoding="gb18030")
    write_csv(
        directory / "meters.csv",
        [
            ["设备类型", "序列号", "IMEI", "村卫生室编码"],
            ["血压计", "SN1", "490154203237518", "V1"],
            ["血糖仪", "SN2", "356938035643809", "V2"],
            ["血压计", "SN3", "490154203237519", "V1"],
            ["血压计", "SN4", "490154203237518", "V3"],
        ],
        encoding="utf-8",
    )
    write_csv(
        directory / "accounts.csv",
        [
            ["用户名", "姓名", "角色", "所属编码", "手机号"],
            ["town.chen", "陈站长", "乡镇", "T1", "13700001111"],
            ["doc.li", "李医生", "团队", "TM1", ""],
            ["Bad Name", "坏账号", "团队", "TM1", ""],
            ["boss", "县领导", "县级", "", ""],
        ],
        encoding="utf-8-sig",
    )
    return bad
