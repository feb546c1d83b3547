"""Checking a row of the smaller files: townships, villages, teams, meters, accounts. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stdnum import luhn

from registry.importing import cells
from registry.importing.cells import CellProblem
from registry.importing.logic import NAME_MAX, Collector, Problem

METER_KINDS = {"血压计": "bp", "血压": "bp", "bp": "bp", "血糖仪": "glucose", "血糖": "glucose", "glucose": "glucose"}
ROLES = {
    "县级": "county",
    "县": "county",
    "county": "county",
    "乡镇": "township",
    "township": "township",
    "团队": "team",
    "team": "team",
    "管理员": "admin",
    "admin": "admin",
}
_SERIAL = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # as ingest.devices.service accepts: it becomes part of the meter id
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")  # as the app_user table's check


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """A township (township None), a village clinic or a family-doctor team, with the township it belongs to."""

    row: int
    code: str
    name: str
    township: str | None = None


@dataclass(frozen=True, slots=True)
class MeterRow:
    row: int
    kind: str  # 'bp' or 'glucose'
    serial: str
    imei: str
    clinic: str


@dataclass(frozen=True, slots=True)
class AccountRow:
    row: int
    username: str
    name: str
    role: str  # county, township, team, admin
    scope: str | None
    phone: str | None


def place_row(
    row: int, raw: Mapping[str, object], *, headers: Mapping[str, str], with_township: bool
) -> tuple[PlaceRow | None, list[Problem]]:
    """A township (code, name) or a village / team (code, name, township code)."""
    c = Collector(raw, headers)
    code = c.take("code", cells.identifier)
    name = c.take("name", lambda v: cells.words(v, max_length=NAME_MAX))
    township = c.take("township", cells.identifier) if with_township else None
    if c.problems:
        return None, c.problems
    return PlaceRow(row, code, name, township), []


def meter_kind(value: object) -> str:
    """血压计 / 血糖仪 as 'bp' / 'glucose'."""
    return cells.one_of(value, METER_KINDS, "bad_meter_kind")


def serial(value: object) -> str:
    """A serial number as printed on the label: letters, digits, '-' and '_'."""
    found = cells.identifier(value) or ""
    if not _SERIAL.match(found):
        raise CellProblem("bad_serial")
    return found


def imei(value: object) -> str:
    """15 digits whose last is the Luhn check digit."""
    found = cells.identifier(value) or ""
    if not (len(found) == 15 and found.isdigit() and luhn.is_valid(found)):
        raise CellProblem("bad_imei")
    return found


def meter_row(
    row: int, raw: Mapping[str, object], *, headers: Mapping[str, str]
) -> tuple[MeterRow | None, list[Problem]]:
    """A meter: type, serial, IMEI, clinic code."""
    c = Collector(raw, headers)
    kind = c.take("kind", meter_kind)
    found_serial = c.take("serial", serial)
    found_imei = c.take("imei", imei)
    clinic = c.take("clinic", cells.identifier)
    if c.problems:
        return None, c.problems
    return MeterRow(row, kind, found_serial, found_imei, clinic), []


def role(value: object) -> str:
    """县级 / 乡镇 / 团队 / 管理员 as county / township / team / admin."""
    return cells.one_of(value, ROLES, "bad_role")


def username(value: object) -> str:
    """3-32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."""
    found = cells.text(value).lower()
    if not found:
        raise CellProblem("missing")
    if not _USERNAME.match(found):
        raise CellProblem("bad_username")
    return found


def account_row(
    row: int, raw: Mapping[str, object], *, headers: Mapping[str, str]
) -> tuple[AccountRow | None, list[Problem]]:
    """An account: username, name, role, the township or team code it belongs to, phone."""
    c = Collector(raw, headers)
    name = c.take("username", username)
    display = c.take("name", lambda v: cells.words(v, max_length=NAME_MAX))
    found_role = c.take("role", role)
    scope = c.take("scope", lambda v: cells.identifier(v, required=False))
    found_phone = c.take("phone", cells.phone)
    if (
        found_role in ("township", "team")
        and scope is None
        and not any(p.column == c.headers["scope"] for p in c.problems)
    ):
        c.refuse("scope", "scope_missing")
    if c.problems:
        return None, c.problems
    return AccountRow(
        row, name, display, found_role, scope if found_role in ("township", "team") else None, found_phone
    ), []
