"""SQL of accounts: look one up for signing in, count failures and successes, create one, and resolve scope codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from dashboard.access import Principal, Role
from dashboard.auth.policy import AccountState

_ACCOUNT = (
    "select id, username, role, county_id, township_id, team_id, password_hash, totp_secret, failed_logins,"
    " locked_until, disabled_at is not null, language from app_user"
)


@dataclass(frozen=True, slots=True)
class Account:
    """An account as signing in needs it: who it is, what it may see, and its secrets' hashes."""

    principal: Principal
    password_hash: str
    totp_secret: str | None
    state: AccountState


def _account(row: tuple[Any, ...] | None) -> Account | None:
    if row is None:
        return None
    uid, username, role, county, township, team, pw_hash, totp, failed, locked, disabled, language = row
    principal = Principal(
        user_id=int(uid),
        username=str(username),
        role=Role(role),
        county_id=int(county),
        township_id=township,
        team_id=team,
        language=language,
    )
    state = AccountState(
        failed_logins=int(failed),
        locked_until=locked,
        disabled=bool(disabled),
        is_admin=principal.role is Role.ADMIN,
        has_totp=totp is not None,
    )
    return Account(principal, str(pw_hash), totp, state)


def account_by_username(conn: psycopg.Connection, username: str, *, for_update: bool = False) -> Account | None:
    """The account named `username` (locked for the attempt when `for_update`), or None."""
    lock = " for update" if for_update else ""
    return _account(conn.execute(_ACCOUNT + " where username = %s" + lock, (username,)).fetchone())


def active_principal(conn: psycopg.Connection, user_id: int) -> Principal | None:
    """The principal of an account still allowed in (not disabled), for each request of a signed-in session."""
    row = conn.execute(_ACCOUNT + " where id = %s and disabled_at is null", (user_id,)).fetchone()
    account = _account(row)
    return account.principal if account else None


def set_language(conn: psycopg.Connection, user_id: int, language: str | None) -> None:
    """Store an account's language of the screens (None: the county's)."""
    conn.execute("update app_user set language = %s where id = %s", (language, user_id))


def record_failure(
    conn: psycopg.Connection, user_id: int, *, failed_logins: int, locked_until: datetime | None
) -> None:
    """Store the failure count and lock computed by the lock-out policy."""
    conn.execute(
        "update app_user set failed_logins = %s, locked_until = coalesce(%s, locked_until) where id = %s",
        (failed_logins, locked_until, user_id),
    )


def record_success(conn: psycopg.Connection, user_id: int, *, now: datetime, new_hash: str | None = None) -> None:
    """Clear the failure count and lock, note the log-in time, and replace an outdated hash."""
    conn.execute(
        "update app_user set failed_logins = 0, locked_until = null, last_login_at = %s,"
        " password_hash = coalesce(%s, password_hash) where id = %s",
        (now, new_hash, user_id),
    )


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What `cdm users add` writes."""

    username: str
    display_name: str
    role: Role
    county_id: int
    township_id: int | None
    team_id: int | None
    password_hash: str
    totp_secret: str | None
    phone: str | None = None  # the mobile an alert assigned to this person is texted to


def insert_account(conn: psycopg.Connection, account: NewAccount) -> int:
    """Insert an account; its id. A taken username raises psycopg.errors.UniqueViolation."""
    row = conn.execute(
        "insert into app_user (username, display_name, role, county_id, township_id, team_id, password_hash,"
        " totp_secret, phone) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
        (
            account.username,
            account.display_name,
            str(account.role),
            account.county_id,
            account.township_id,
            account.team_id,
            account.password_hash,
            account.totp_secret,
            account.phone,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def set_phone(conn: psycopg.Connection, *, user_id: int, phone: str | None) -> None:
    """Keep (or, with None, remove) the account's mobile."""
    conn.execute("update app_user set phone = %s where id = %s", (phone, user_id))


def region_id(conn: psycopg.Connection, code: str, *, level: str) -> int | None:
    """The id of the region with `code` at `level`, or None."""
    row = conn.execute("select id from region where code = %s and level = %s", (code, level)).fetchone()
    return int(row[0]) if row else None


def team_place(conn: psycopg.Connection, code: str) -> tuple[int, int, int] | None:
    """(team id, township id, county id) of the care team with `code`, or None."""
    row = conn.execute(
        "select c.id, c.township_id, t.parent_id from care_team c join region t on t.id = c.township_id"
        " where c.code = %s",
        (code,),
    ).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def township_county(conn: psycopg.Connection, township_id: int) -> int | None:
    """The county a township belongs to."""
    row = conn.execute("select parent_id from region where id = %s and level = 'township'", (township_id,)).fetchone()
    return int(row[0]) if row else None


def first_county(conn: psycopg.Connection) -> int | None:
    """The county region when the store holds exactly one (a deployment holds one county)."""
    rows = conn.execute("select id from region where level = 'county' order by id limit 2").fetchall()
    return int(rows[0][0]) if len(rows) == 1 else None


def first_township(conn: psycopg.Connection, county_code: str) -> tuple[str] | None:
    """The code of the county's first township (by code)."""
    return conn.execute(
        "select t.code from region t join region c on c.id = t.parent_id where c.code = %s and t.level = 'township'"
        " order by t.code limit 1",
        (county_code,),
    ).fetchone()


def first_team(conn: psycopg.Connection) -> tuple[str, str] | None:
    """(team code, township code) of the first family-doctor team (by township, then team code)."""
    return conn.execute(
        "select c.code, t.code from care_team c join region t on t.id = c.township_id order by t.code, c.code limit 1"
    ).fetchone()
