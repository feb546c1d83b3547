"""SQL of the registry import's smaller files: the county, townships, villages, teams, meters, accounts, the run
and its audit. Patients, set-based, are in `patients.repo`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class Region:
    id: int
    level: str
    name: str
    parent_code: str | None
    county_code: str | None  # the county a township, or a village's township, belongs to


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    name: str
    township_code: str


@dataclass(frozen=True, slots=True)
class Meter:
    uid: str
    kind: str
    imei: str | None
    clinic_code: str
    provisioned: bool
    revoked: bool


@dataclass(frozen=True, slots=True)
class Account:
    role: str
    scope_code: str | None  # township code (township role) or team code (team role)
    display_name: str
    phone: str | None


def ensure_county(conn: psycopg.Connection, *, code: str, name: str) -> int:
    """The configured county's region id, created on the first import."""
    row = conn.execute("select id from region where code = %s and level = 'county'", (code,)).fetchone()
    if row:
        return int(row[0])
    row = conn.execute(
        "insert into region (code, name, level) values (%s, %s, 'county') returning id", (code, name)
    ).fetchone()
    return int(row[0]) if row else 0


def regions(conn: psycopg.Connection) -> dict[str, Region]:
    """Every region by code (codes are unique across levels), with its parent's and county's code."""
    rows = conn.execute(
        "select r.code, r.id, r.level, r.name, p.code,"
        " case r.level when 'county' then r.code when 'township' then p.code else gp.code end"
        " from region r left join region p on p.id = r.parent_id left join region gp on gp.id = p.parent_id"
    ).fetchall()
    return {code: Region(int(i), level, name, parent, county) for code, i, level, name, parent, county in rows}


def teams(conn: psycopg.Connection) -> dict[str, Team]:
    """Every family-doctor team by code, with its township's code."""
    rows = conn.execute("select c.code, c.id, c.name, r.code from care_team c join region r on r.id = c.township_id")
    return {code: Team(int(i), name, township) for code, i, name, township in rows}


def insert_region(conn: psycopg.Connection, *, code: str, name: str, level: str, parent_code: str) -> int:
    """A new township or village under the region `parent_code`."""
    row = conn.execute(
        "insert into region (code, name, level, parent_id) select %s, %s, %s, id from region where code = %s"
        " returning id",
        (code, name, level, parent_code),
    ).fetchone()
    return int(row[0]) if row else 0


def update_region(conn: psycopg.Connection, *, code: str, name: str, parent_code: str) -> None:
    """A region's new name or parent."""
    conn.execute(
        "update region set name = %s, parent_id = (select id from region where code = %s) where code = %s",
        (name, parent_code, code),
    )


def upsert_team(conn: psycopg.Connection, *, code: str, name: str, township_code: str) -> int:
    """A new team, or an existing one's new name or township; its id."""
    row = conn.execute(
        "insert into care_team (code, name, township_id) select %s, %s, id from region where code = %s"
        " on conflict (code) do update set name = excluded.name, township_id = excluded.township_id returning id",
        (code, name, township_code),
    ).fetchone()
    return int(row[0]) if row else 0


def meters(conn: psycopg.Connection) -> tuple[dict[str, Meter], dict[str, str]]:
    """Meters by id, and the meter id holding each IMEI."""
    rows = conn.execute(
        "select d.uid, d.kind, d.imei, r.code, d.provisioned_at is not null, d.revoked_at is not null"
        " from device d join region r on r.id = d.clinic_id"
    ).fetchall()
    by_uid = {r[0]: Meter(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5])) for r in rows}
    return by_uid, {m.imei: m.uid for m in by_uid.values() if m.imei}


def accounts(conn: psycopg.Connection) -> dict[str, Account]:
    """Every screen account by username, with the code of the township or team it is scoped to."""
    rows = conn.execute(
        "select u.username, u.role, case u.role when 'team' then c.code when 'township' then t.code end,"
        " u.display_name, u.phone from app_user u left join region t on t.id = u.township_id"
        " left join care_team c on c.id = u.team_id"
    ).fetchall()
    return {r[0]: Account(r[1], r[2], r[3], r[4]) for r in rows}


def update_account(conn: psycopg.Connection, *, username: str, display_name: str, phone: str | None) -> None:
    """An existing account's name and phone (a blank phone in the file keeps the stored one)."""
    conn.execute(
        "update app_user set display_name = %s, phone = coalesce(%s, phone) where username = %s",
        (display_name, phone, username),
    )


def mark_new_account(conn: psycopg.Connection, *, username: str, phone: str | None) -> None:
    """An account made by the import: its phone, and a first password that must be changed at the first sign-in."""
    conn.execute(
        "update app_user set phone = %s, password_change_required = true where username = %s", (phone, username)
    )


def start_import(conn: psycopg.Connection, *, by: str, source: str, now: datetime) -> int:
    """The run's row, which the patients' change history points at."""
    row = conn.execute(
        "insert into registry_import (started_at, by, source) values (%s, %s, %s) returning id", (now, by, source)
    ).fetchone()
    return int(row[0]) if row else 0


def finish_import(conn: psycopg.Connection, *, import_id: int, summary: dict[str, Any], now: datetime) -> None:
    """What the run did, per file."""
    conn.execute(
        "update registry_import set finished_at = %s, summary = %s where id = %s", (now, Jsonb(summary), import_id)
    )
