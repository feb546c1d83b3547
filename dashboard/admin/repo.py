"""SQL of the administration screen: lists of accounts, meters and contacts (no secrets), the checks its refusals
need (a name taken, the last administrator, a clinic or meter that exists) and the two changes no command line had
yet: an account's role and scope, and a contact switched off."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

LIST_LIMIT = 500  # a county has tens of accounts and hundreds of meters; the screen lists them all up to this


def _all(conn: psycopg.Connection, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"limit": LIST_LIMIT, **(params or {})}).fetchall()


def accounts(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every account with its role, the name of its scope and whether it is disabled, by user name."""
    return _all(
        conn,
        "select u.username, u.display_name, u.role, coalesce(tm.name, tw.name, c.name) as scope,"
        " u.disabled_at is not null as disabled, u.last_login_at, u.phone, u.language from app_user u"
        " left join region c on c.id = u.county_id left join region tw on tw.id = u.township_id"
        " left join care_team tm on tm.id = u.team_id order by u.username limit %(limit)s",
    )


def meters(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every meter with its clinic and whether it holds credentials or was revoked, by meter id."""
    return _all(
        conn,
        "select d.uid, d.kind, r.code as clinic_code, r.name as clinic, d.provisioned_at is not null as provisioned,"
        " d.revoked_at is not null as revoked from device d join region r on r.id = d.clinic_id"
        " order by d.revoked_at is not null, d.uid limit %(limit)s",
    )


def contacts(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Active notification contacts with the region or team they belong to."""
    return _all(
        conn,
        "select c.id, c.role, c.channel, c.address, coalesce(r.name, t.name) as owner from contact c"
        " left join region r on r.id = c.region_id left join care_team t on t.id = c.team_id"
        " where c.active order by c.id limit %(limit)s",
    )


def account_role(conn: psycopg.Connection, username: str) -> tuple[str, bool] | None:
    """(role, disabled) of an account, locked until the transaction ends; None when there is none."""
    row = conn.execute(
        "select role, disabled_at is not null from app_user where username = %s for update", (username,)
    ).fetchone()
    return (str(row[0]), bool(row[1])) if row else None


def other_active_admins(conn: psycopg.Connection, username: str) -> int:
    """Enabled administrator accounts other than `username` (locked, so two removals cannot race)."""
    rows = conn.execute(
        "select id from app_user where role = 'admin' and disabled_at is null and username <> %s for update",
        (username,),
    ).fetchall()
    return len(rows)


def set_role(
    conn: psycopg.Connection,
    *,
    username: str,
    role: str,
    place: tuple[int, int | None, int | None],
    totp_secret: str | None,
) -> None:
    """Give an account another role and scope (county, township, team ids); a new second-factor secret if given."""
    county_id, township_id, team_id = place
    conn.execute(
        "update app_user set role = %s, county_id = %s, township_id = %s, team_id = %s,"
        " totp_secret = coalesce(totp_secret, %s) where username = %s",
        (role, county_id, township_id, team_id, totp_secret, username),
    )


def has_totp(conn: psycopg.Connection, username: str) -> bool:
    """Whether the account has a second factor set up."""
    row = conn.execute("select totp_secret is not null from app_user where username = %s", (username,)).fetchone()
    return bool(row and row[0])


def village(conn: psycopg.Connection, code: str) -> str | None:
    """The name of the village clinic with this code."""
    row = conn.execute("select name from region where code = %s and level = 'village'", (code,)).fetchone()
    return str(row[0]) if row else None


def meter_active(conn: psycopg.Connection, uid: str) -> bool:
    """Whether a meter with this id is registered and not revoked."""
    return conn.execute("select 1 from device where uid = %s and revoked_at is null", (uid,)).fetchone() is not None


def imei_holder(conn: psycopg.Connection, *, imei: str, uid: str) -> str | None:
    """The meter other than `uid` registered with this IMEI."""
    row = conn.execute("select uid from device where imei = %s and uid <> %s", (imei, uid)).fetchone()
    return str(row[0]) if row else None


def owner(conn: psycopg.Connection, code: str) -> tuple[int | None, int | None]:
    """(region id, team id) of the county or township, or of the care team, with this code."""
    row = conn.execute("select id from region where code = %s and level in ('county', 'township')", (code,)).fetchone()
    if row:
        return int(row[0]), None
    team = conn.execute("select id from care_team where code = %s", (code,)).fetchone()
    return (None, int(team[0])) if team else (None, None)


def deactivate_contact(conn: psycopg.Connection, contact_id: int) -> bool:
    """Switch an active contact off (kept for the record of past notifications); whether there was one."""
    return conn.execute("update contact set active = false where id = %s and active", (contact_id,)).rowcount == 1
