"""Checking one row of a county's file: every problem it has, named by column, or the clean record. Pure.

A row is taken whole or refused whole, so a validator never stops at the first problem. Duplicates within a
file are caught by `FirstSeen`; codes a row points at (village, team, township) are checked against what the
files and the store hold by the caller. The ID-card number is checked (GB 11643 via cdm.identity, agreement
with 性别 and 出生日期) and leaves this module only as its keyed hash and masked form (`protect_id`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from cdm.id_keys import IdCardKeyring
from cdm.identity import IdNumber, IdNumberError, check_character, mask_id_number, parse_id_number
from registry.importing import cells
from registry.importing.cells import CellProblem

_DISEASE_SPLIT = re.compile(r"[、，,;；/\s]+")
HYPERTENSION = frozenset({"高血压", "高血压病", "原发性高血压"})
DIABETES = frozenset({"2型糖尿病", "ii型糖尿病", "Ⅱ型糖尿病", "二型糖尿病", "糖尿病", "t2dm"})
SEXES = {"男": "M", "男性": "M", "1": "M", "m": "M", "女": "F", "女性": "F", "2": "F", "f": "F"}
_OLD_ID = re.compile(r"^\d{15}$")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Plausible ranges: wide enough for any patient, narrow enough to catch a unit slip (mg/dL for mmol/L, m for cm).
RANGES = {
    "total_cholesterol": (1.0, 20.0, "mmol/L"),
    "hdl": (0.2, 5.0, "mmol/L"),
    "waist": (40.0, 200.0, "cm"),
    "height": (80.0, 230.0, "cm"),
    "weight": (20.0, 250.0, "kg"),
}
NAME_MAX = 50
ADDRESS_MAX = 200


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a row: the column (template header, '' for the row as a whole) and the reason."""

    column: str
    code: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PatientRow:
    """A clean patient row; the ID-card number only as its keyed hash and masked form."""

    row: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    village: str
    team: str
    hypertension: bool
    diabetes: bool
    managed_since: date
    id_card: ProtectedId | None = None
    phone: str | None = None
    address: str | None = None
    card: str | None = None
    on_bp_treatment: bool | None = None
    total_cholesterol: float | None = None
    hdl: float | None = None
    waist: float | None = None
    height: float | None = None
    weight: float | None = None
    smoker: bool | None = None
    family_history: bool | None = None
    urban: bool | None = None


class Collector:
    """Runs cleaners over a row's cells, keeping each clean value and every problem under its column's header."""

    def __init__(self, raw: Mapping[str, object], headers: Mapping[str, str]) -> None:
        self.raw = raw
        self.headers = headers  # field -> template header
        self.problems: list[Problem] = []
        self.values: dict[str, Any] = {}

    def take(self, name: str, cleaner: Callable[[object], Any], *, optional: bool = False) -> Any:
        """Clean field `name` with `cleaner`; on a problem, note it and return None. An empty optional cell is None
        without a call (most optional cells of a county's file are empty: the check of 260,000 rows is the
        import's largest cost)."""
        raw = self.raw.get(name)
        if optional and (raw is None or raw == ""):
            self.values[name] = None
            return None
        try:
            value = cleaner(raw)
        except CellProblem as exc:
            self.problems.append(Problem(self.headers[name], exc.code, exc.values))
            value = None
        self.values[name] = value
        return value

    def refuse(self, name: str, code: str, **values: object) -> None:
        """Note a problem of field `name` found by a check across cells."""
        self.problems.append(Problem(self.headers.get(name, ""), code, values))


def sex(value: object) -> str:
    """男 / 女, or the GB/T 2261.1 codes 1 / 2, as 'M' / 'F'."""
    return cells.one_of(value, SEXES, "bad_sex", quote=True)


def diseases(value: object) -> tuple[bool, bool]:
    """(hypertension, diabetes) from 高血压 / 2型糖尿病 (or 糖尿病), either or both, separated by 、，,;；."""
    raw = cells.text(value)
    parts = [p for p in _DISEASE_SPLIT.split(raw) if p]
    if not parts:
        raise CellProblem("missing")
    unknown = [p for p in parts if p not in HYPERTENSION and p.lower() not in DIABETES]
    if unknown:
        raise CellProblem("bad_disease", value="、".join(unknown)[:30])
    return any(p in HYPERTENSION for p in parts), any(p.lower() in DIABETES for p in parts)


def residence(value: object) -> bool | None:
    """城市 -> urban (True), 农村 -> rural (False), None when empty."""
    raw = cells.text(value)
    if not raw:
        return None
    if raw in {"城市", "城镇", "城"}:
        return True
    if raw in {"农村", "乡村", "乡"}:
        return False
    raise CellProblem("bad_residence")


def id_number(value: object, *, today: date) -> IdNumber | None:
    """A checked 18-character ID-card number (lower-case x accepted), None when empty."""
    if value is not None and not isinstance(value, str):  # an Excel number cell: the tail is gone
        raise CellProblem("excel_number")
    raw = cells.text(value).replace(" ", "").lstrip("'").upper()
    if not raw:
        return None
    if cells.looks_scientific(raw):
        raise CellProblem("excel_number")
    if _OLD_ID.match(raw):
        raise CellProblem("id_old")
    if not _ID_SHAPE.match(raw):
        raise CellProblem("id_shape")
    try:
        return parse_id_number(raw, today=today)
    except IdNumberError:
        if check_character(raw[:17]) != raw[17]:
            try:  # a wrong birth date says more than the check character it also breaks
                date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
            except ValueError:
                raise CellProblem("id_birth_invalid") from None
            raise CellProblem("id_check") from None
        raise CellProblem("id_birth_invalid") from None


@dataclass(frozen=True, slots=True)
class ProtectedId:
    """All the store keeps of an ID-card number, made in one place: the hash under the current key with that key's
    id, the masked form, and every stored form the same number may already have (under each chain of keys on file)
    to find it in the store."""

    key_id: str
    digest: bytes
    masked: str
    stored: tuple[tuple[bytes, str], ...]  # (hash, chain) a stored patient of this number may hold


def protect_id(number: IdNumber, keyring: IdCardKeyring, chains: Iterable[str]) -> ProtectedId:
    """The keyed hash, its key id, the masked form and the stored forms to match (cdm.id_keys)."""
    key_id, digest = keyring.hash(number)
    stored = tuple((d, c) for d, cs in keyring.candidates(number, chains).items() for c in sorted(cs))
    return ProtectedId(key_id, digest, mask_id_number(number.number), stored)


def patient_row(
    row: int,
    raw: Mapping[str, object],
    *,
    headers: Mapping[str, str],
    today: date,
    keyring: IdCardKeyring,
    chains: Iterable[str] = (),
) -> tuple[PatientRow | None, list[Problem]]:
    """Clean and check one patient row: the record, or None and every problem found."""
    c = Collector(raw, headers)
    c.take("record_no", cells.identifier)
    c.take("name", lambda v: cells.words(v, max_length=NAME_MAX))
    c.take("sex", sex)
    born = c.take("birth_date", lambda v: cells.a_date(v, today=today))
    number = c.take("id_number", lambda v: id_number(v, today=today), optional=True)
    c.take("phone", cells.phone, optional=True)
    c.take("address", lambda v: cells.words(v, max_length=ADDRESS_MAX, required=False), optional=True)
    c.take("village", cells.identifier)
    c.take("team", cells.identifier)
    managed_by = c.take("diseases", diseases)
    since = c.take("managed_since", lambda v: cells.a_date(v, today=today))
    c.take("card", lambda v: cells.identifier(v, required=False), optional=True)
    for name in ("on_bp_treatment", "smoker", "family_history"):
        c.take(name, cells.yes_no, optional=True)
    c.take("residence", residence, optional=True)
    for name, (low, high, unit) in RANGES.items():
        c.take(name, partial(cells.number, low=low, high=high, unit=unit), optional=True)
    _cross_check(c, number, born, since)
    if c.problems:
        return None, c.problems
    v = c.values
    protected = protect_id(number, keyring, chains) if number is not None else None
    return PatientRow(
        row=row,
        record_no=v["record_no"],
        name=v["name"],
        sex=v["sex"],
        birth_date=born,
        village=v["village"],
        team=v["team"],
        hypertension=managed_by[0],
        diabetes=managed_by[1],
        managed_since=since,
        id_card=protected,
        phone=v["phone"],
        address=v["address"],
        card=v["card"],
        on_bp_treatment=v["on_bp_treatment"],
        total_cholesterol=v["total_cholesterol"],
        hdl=v["hdl"],
        waist=v["waist"],
        height=v["height"],
        weight=v["weight"],
        smoker=v["smoker"],
        family_history=v["family_history"],
        urban=v["residence"],
    ), []


def _cross_check(c: Collector, number: IdNumber | None, born: date | None, since: date | None) -> None:
    """Refuse a row whose ID number disagrees with its sex or birth date, or managed before birth."""
    if number is not None:
        if c.values["sex"] is not None and number.sex != c.values["sex"]:
            c.refuse("id_number", "id_sex_mismatch")
        if born is not None and number.birth_date != born:
            c.refuse("id_number", "id_birth_mismatch")
    if born is not None and since is not None and since < born:
        c.refuse("managed_since", "managed_before_birth")


class FirstSeen:
    """Remembers the row where each value of a unique column first appeared in a file."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, object], int] = {}

    def earlier(self, column: str, value: object, row: int) -> int | None:
        """The earlier row holding `value` in `column`, or None (and this row is remembered as the first)."""
        if value is None:
            return None
        first = self._rows.setdefault((column, value), row)
        return first if first != row else None

    def repeated(self, column: str, value: object, row: int, headers: Mapping[str, str]) -> list[Problem]:
        """A `duplicate_in_file` problem naming the earlier row that held `value` in `column`; none when first."""
        first = self.earlier(column, value, row)
        if first is None:
            return []
        return [Problem(headers[column], "duplicate_in_file", {"row": first, "column": headers[column]})]
