"""Cleaning one cell the way a clerk's Excel leaves it: spaces, full-width digits, `+86` phones, dates in several
forms and Excel date cells, numbers Excel turned into `1.30130E+17`. Pure.

Each cleaner returns the clean value, or raises `CellProblem` with a reason code (a catalogue key under
`registry.reason.`) and the values its message needs; never an ID-card number in either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_INVISIBLE = {cp: None for cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)} | {0xA0: 0x20}
_TRANSLATE = _FULLWIDTH | _INVISIBLE
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$")
_CODE = re.compile(r"^[0-9A-Za-z_.-]{1,40}$")
_DATE_SEP = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]+\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 date system, counting its phantom 29 February 1900
EARLIEST = date(1900, 1, 1)
# Excel keeps 15 significant digits: a number of 16 or more digits has lost its tail.
EXCEL_DIGITS = 15
YES = frozenset({"是", "有", "y", "yes", "1", "true", "√"})
NO = frozenset({"否", "无", "n", "no", "0", "false", "×"})


class CellProblem(ValueError):
    """A cell that cannot be taken: `code` names the reason, `values` fill in its message."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms; invisible characters dropped."""
    return text.translate(_TRANSLATE)


def text(value: object) -> str:
    """A cell as trimmed half-width text ('' for an empty cell); a whole float loses its '.0'."""
    if type(value) is str:  # every cell of a CSV: the fast path
        clean = value.strip() if value.isascii() else value.translate(_TRANSLATE).strip()
        if clean.startswith('="') and clean.endswith('"'):  # ="0123", the way some exports keep digits as text
            clean = clean[2:-1].strip()
        return clean
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 10**EXCEL_DIGITS:
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return halfwidth(str(value)).strip()


def looks_scientific(raw: str) -> bool:
    """Whether text is a number in Excel's scientific form, such as 1.30130E+17."""
    return bool(_SCIENTIFIC.match(raw))


def _lost_digits(value: object) -> bool:
    """Whether Excel stored this identifier as a number and so may have lost digits."""
    if isinstance(value, float):
        return abs(value) >= 10**EXCEL_DIGITS or not value.is_integer()
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) >= 10**EXCEL_DIGITS
    if isinstance(value, str) and "e" not in value and "E" not in value and "Ｅ" not in value and "ｅ" not in value:
        return False
    return bool(_SCIENTIFIC.match(text(value)))


def identifier(value: object, *, required: bool = True) -> str | None:
    """A code or number written as text: letters, digits, '-', '_', '.'; refused when Excel made it a number."""
    if _lost_digits(value):
        raise CellProblem("excel_number")
    clean = text(value).replace(" ", "").lstrip("'")  # Excel's text prefix, when it survives into a CSV
    if not clean:
        if required:
            raise CellProblem("missing")
        return None
    if not _CODE.match(clean):
        raise CellProblem("bad_code")
    return clean


def words(value: object, *, max_length: int, required: bool = True) -> str | None:
    """Free text (a name, an address), trimmed, inner runs of spaces made one."""
    clean = " ".join(text(value).split())
    if not clean:
        if required:
            raise CellProblem("missing")
        return None
    if len(clean) > max_length:
        raise CellProblem("too_long", max=max_length)
    return clean


def a_date(value: object, *, today: date, required: bool = True) -> date | None:
    """A date from an Excel date cell, an Excel serial number, or text as YYYY-MM-DD, YYYY/M/D or YYYYMMDD."""
    found: date | None
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    else:
        found = _date_from_text(value)
        if found is None:
            if required:
                raise CellProblem("missing")
            return None
    if found > today:
        raise CellProblem("date_future", value=found.isoformat())
    if found < EARLIEST:
        raise CellProblem("date_too_early", value=found.isoformat())
    return found


def _date_from_text(value: object) -> date | None:
    raw = text(value)
    if not raw:
        return None
    match = _DATE_SEP.match(raw) or _DATE_COMPACT.match(raw)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        if raw.isdigit() and 1 <= int(raw) < 100_000:  # an Excel date serial shown as a number
            return EXCEL_EPOCH + timedelta(days=int(raw))
    except ValueError:
        pass
    raise CellProblem("bad_date", value=raw[:20])


def phone(value: object) -> str | None:
    """A mainland mobile (11 digits) or landline with area code; +86, 0086, spaces, dashes and brackets removed."""
    if _lost_digits(value):
        raise CellProblem("excel_number")
    digits = _PHONE_NOISE.sub("", text(value))
    if not digits:
        return None
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    raise CellProblem("bad_phone")


def one_of(value: object, choices: Mapping[str, str], problem: str, *, quote: bool = False) -> str:
    """The code a cell's word stands for in `choices` (matched lower-case); `problem` when it is none of them (the
    refusal quoting the cell's first ten characters when `quote`)."""
    raw = text(value).lower()
    if not raw:
        raise CellProblem("missing")
    if raw not in choices:
        raise CellProblem(problem, **({"value": raw[:10]} if quote else {}))
    return choices[raw]


def yes_no(value: object) -> bool | None:
    """是 / 否 (also 有 / 无, Y / N, 1 / 0, an Excel TRUE / FALSE); None when empty."""
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if not raw:
        return None
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellProblem("bad_yes_no")


def number(value: object, *, low: float, high: float, unit: str) -> float | None:
    """A measurement within [low, high] in `unit`; a value outside is most often a unit slip, said so."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        found = float(value)
    else:
        raw = text(value).removesuffix(unit).strip()
        if not raw:
            return None
        try:
            found = float(raw)
        except ValueError:
            raise CellProblem("bad_number") from None
    if not low <= found <= high:
        raise CellProblem("out_of_range", value=f"{found:g}", low=f"{low:g}", high=f"{high:g}", unit=unit)
    return found
