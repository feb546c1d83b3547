"""SQL of signed-in sessions (app_session), failed log-ins per client address (login_throttle) and the last
one-time code step of an account."""

from __future__ import annotations

from datetime import datetime

import psycopg

from dashboard.auth.policy import ThrottleState

_OPEN_SESSION = (
    "select u.id from app_session s join app_user u on u.id = s.user_id"
    " where s.token_hash = %s and s.ended_at is null and s.expires_at > %s and u.disabled_at is null"
)


def insert_session(
    conn: psycopg.Connection, *, token_hash: bytes, user_id: int, expires_at: datetime, client_addr: str | None
) -> None:
    """Record a new session (the cookie carries the token, the store only its hash)."""
    conn.execute(
        "insert into app_session (token_hash, user_id, expires_at, client_addr) values (%s, %s, %s, %s)",
        (token_hash, user_id, expires_at, client_addr),
    )


def session_user(conn: psycopg.Connection, *, token_hash: bytes, now: datetime) -> int | None:
    """The account of a session still open, unexpired and of an account not disabled; else None."""
    row = conn.execute(_OPEN_SESSION, (token_hash, now)).fetchone()
    return int(row[0]) if row else None


def end_session(conn: psycopg.Connection, *, token_hash: bytes, now: datetime, reason: str) -> int | None:
    """End one session; the account it belonged to (None when it was not open)."""
    row = conn.execute(
        "update app_session set ended_at = %s, ended_reason = %s where token_hash = %s and ended_at is null"
        " returning user_id",
        (now, reason, token_hash),
    ).fetchone()
    return int(row[0]) if row else None


def end_sessions_of(conn: psycopg.Connection, *, user_id: int, now: datetime, reason: str) -> int:
    """End every open session of an account; how many."""
    cur = conn.execute(
        "update app_session set ended_at = %s, ended_reason = %s where user_id = %s and ended_at is null",
        (now, reason, user_id),
    )
    return cur.rowcount


def throttle_state(conn: psycopg.Connection, client_addr: str, *, for_update: bool = False) -> ThrottleState | None:
    """The failed log-ins of an address (row locked for the attempt when `for_update`)."""
    row = conn.execute(
        "select failures, first_failure_at, blocks, blocked_until from login_throttle where client_addr = %s"
        + (" for update" if for_update else ""),
        (client_addr,),
    ).fetchone()
    return ThrottleState(int(row[0]), row[1], int(row[2]), row[3]) if row else None


def save_throttle(conn: psycopg.Connection, client_addr: str, state: ThrottleState) -> None:
    """Store an address's failed log-ins as the throttle policy left them."""
    conn.execute(
        "insert into login_throttle (client_addr, failures, first_failure_at, blocks, blocked_until)"
        " values (%s, %s, %s, %s, %s) on conflict (client_addr) do update set failures = excluded.failures,"
        " first_failure_at = excluded.first_failure_at, blocks = excluded.blocks,"
        " blocked_until = excluded.blocked_until",
        (client_addr, state.failures, state.first_failure_at, state.blocks, state.blocked_until),
    )


def clear_throttle(conn: psycopg.Connection, client_addr: str) -> None:
    """Forget an address's failures after it signed in."""
    conn.execute("delete from login_throttle where client_addr = %s", (client_addr,))


def accept_totp_step(conn: psycopg.Connection, *, user_id: int, step: int) -> bool:
    """Record `step` as the account's last one-time code step, if it is later than the last; whether it was."""
    cur = conn.execute(
        "update app_user set totp_last_step = %s where id = %s and (totp_last_step is null or totp_last_step < %s)",
        (step, user_id, step),
    )
    return cur.rowcount == 1


def set_password_hash(conn: psycopg.Connection, *, user_id: int, password_hash: str, now: datetime) -> None:
    """Replace an account's password hash."""
    conn.execute(
        "update app_user set password_hash = %s, password_changed_at = %s, failed_logins = 0, locked_until = null"
        " where id = %s",
        (password_hash, now, user_id),
    )


def set_disabled(conn: psycopg.Connection, *, user_id: int, now: datetime | None) -> None:
    """Disable an account (now) or enable it again (None)."""
    conn.execute("update app_user set disabled_at = %s where id = %s", (now, user_id))
