"""Cleaning single cells the way a clerk's Excel leaves them (pure, table-driven)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from registry.importing import cells
from registry.importing.cells import CellProblem
from registry.importing.logic import diseases, id_number, sex

from .county_files import ID_1, ID_2

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1958-03-15", date(1958, 3, 15)),
        ("1958/3/5", date(1958, 3, 5)),
        ("19580315", date(1958, 3, 15)),
        ("１９５８－０３－１５", date(1958, 3, 15)),
        ("1958年3月5日", date(1958, 3, 5)),
        ("1958/3/5 0:00", date(1958, 3, 5)),
        (" 1958-03-15 ", date(1958, 3, 15)),
        (datetime(1958, 3, 15, 0, 0), date(1958, 3, 15)),
        (date(1958, 3, 15), date(1958, 3, 15)),
        ("21259", date(1958, 3, 15)),  # an Excel date serial shown as a number
        (21259, date(1958, 3, 15)),
        (19580315, date(1958, 3, 15)),
    ],
)
def test_dates_in_every_named_form(raw: object, expected: date) -> None:
    assert cells.a_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1958-13-01", "bad_date"),
        ("58-3-5", "bad_date"),
        ("2026-06-02", "date_future"),
        ("1899-12-31", "date_too_early"),
        ("", "missing"),
        (None, "missing"),
    ],
)
def test_dates_refused_with_their_reason(raw: object, code: str) -> None:
    with pytest.raises(CellProblem) as caught:
        cells.a_date(raw, today=TODAY)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+８６１３８１２３４５６７８", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0571-8888 1234", "057188881234"),
        ("(0571)88881234", "057188881234"),
        (13812345678.0, "13812345678"),
        ("", None),
    ],
)
def test_phones_cleaned(raw: object, expected: str | None) -> None:
    assert cells.phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"), [("12345", "bad_phone"), ("1.38123E+10", "excel_number"), ("无", "bad_phone")]
)
def test_phones_refused(raw: object, code: str) -> None:
    with pytest.raises(CellProblem) as caught:
        cells.phone(raw)
    assert caught.value.code == code


def test_id_numbers_cleaned_and_checked() -> None:
    assert id_number(" " + ID_2.lower() + " ", today=TODAY).number == ID_2  # type: ignore[union-attr]
    full_width = ID_1.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert id_number(full_width, today=TODAY).number == ID_1  # type: ignore[union-attr]
    assert id_number("", today=TODAY) is None
    assert id_number("'" + ID_1, today=TODAY).number == ID_1  # type: ignore[union-attr]  # Excel's text prefix
    assert id_number(f'="{ID_1}"', today=TODAY).number == ID_1  # type: ignore[union-attr]  # an export's ="…"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1.30130E+17", "excel_number"),
        ("1.3013E+17", "excel_number"),
        (1.30130195803151e17, "excel_number"),  # an Excel number cell
        (130130195803151000, "excel_number"),
        ("330102580315123", "id_old"),
        ("33010219580315123", "id_shape"),
        ("3301021958031512Y", "id_shape"),
        ("330102195802301239", "id_birth_invalid"),
    ],
)
def test_id_numbers_refused_with_their_reason(raw: object, code: str) -> None:
    with pytest.raises(CellProblem) as caught:
        id_number(raw, today=TODAY)
    assert caught.value.code == code


def test_a_wrong_check_character_is_named() -> None:
    wrong = ID_1[:17] + ("0" if ID_1[17] != "0" else "1")
    with pytest.raises(CellProblem) as caught:
        id_number(wrong, today=TODAY)
    assert caught.value.code == "id_check"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("高血压", (True, False)),
        ("2型糖尿病", (False, True)),
        ("糖尿病", (False, True)),
        ("高血压、2型糖尿病", (True, True)),
        ("高血压，糖尿病", (True, True)),
        ("高血压,2型糖尿病", (True, True)),
        ("高血压;2型糖尿病", (True, True)),
        ("高血压；糖尿病", (True, True)),
        ("２型糖尿病", (False, True)),
    ],
)
def test_diseases(raw: str, expected: tuple[bool, bool]) -> None:
    assert diseases(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("男", "M"), ("女", "F"), ("1", "M"), ("2", "F"), (1.0, "M"), (2, "F")])
def test_sex_and_its_gb_t_2261_codes(raw: object, expected: str) -> None:
    assert sex(raw) == expected


def test_identifiers_refuse_what_excel_made_a_number() -> None:
    assert cells.identifier(" ＡＢ１２３ ") == "AB123"
    assert cells.identifier(330102001.0) == "330102001"
    for raw in ("3.30102E+16", 3.3010200100100001e16):
        with pytest.raises(CellProblem) as caught:
            cells.identifier(raw)
        assert caught.value.code == "excel_number"


def test_a_cell_quoted_in_the_report_never_shows_an_id_number() -> None:
    from datetime import UTC

    from cdm.settings import Settings
    from registry.importing.service import Run

    run = Run(conn=None, settings=Settings(_env_file=None), dry_run=True, now=datetime.now(UTC))  # type: ignore[arg-type, call-arg]
    text = run.reason("bad_date", {"value": ID_1})  # an ID number typed into the birth-date column
    assert ID_1 not in text and ID_1[:6] + "********" + ID_1[-4:] in text
