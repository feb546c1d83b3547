"""SQL of meters' status: locking a batch's meters, status and heartbeat updates, the silent-meter sweep."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg

from cdm.payload import HeartbeatV1

# How long a meter may stay silent: its heartbeat interval times the grace factor.
_SILENCE = "make_interval(secs => heartbeat_interval_s * %(grace)s)"


def lock_devices(conn: psycopg.Connection, uids: Iterable[str]) -> dict[str, int]:
    """Lock the registered meters among `uids` in id order; the unrevoked ones' ids by uid."""
    rows = conn.execute(
        "select uid, id, revoked_at from device where uid = any(%s) order by id for no key update", (sorted(uids),)
    )
    return {uid: int(i) for uid, i, revoked_at in rows if revoked_at is None}


def update_status(conn: psycopg.Connection, *, device_id: int, state: str, at: datetime, reason: str) -> None:
    """Set a meter's state unless it already holds it or the store knows a later change."""
    conn.execute(
        "update device set status = %(state)s, status_at = %(at)s, status_reason = %(reason)s,"
        " last_seen_at = case when %(state)s = 'online' then greatest(last_seen_at, %(at)s) else last_seen_at end"
        " where id = %(id)s and status is distinct from %(state)s and coalesce(status_at, '-infinity') < %(at)s",
        {"state": state, "at": at, "reason": reason, "id": device_id},
    )


def update_heartbeat(conn: psycopg.Connection, *, device_id: int, beat: HeartbeatV1, at: datetime) -> None:
    """Record a heartbeat received at `at` (a later one already stored wins); the meter is online."""
    conn.execute(
        "update device set last_heartbeat_at = %(at)s, last_seen_at = greatest(last_seen_at, %(at)s),"
        " battery_pct = coalesce(%(battery)s, battery_pct), signal_dbm = coalesce(%(signal)s, signal_dbm),"
        " heartbeat_interval_s = coalesce(%(interval)s, heartbeat_interval_s),"
        " status_reason = case when status = 'online' then status_reason else 'heartbeat' end,"
        " status_at = case when status = 'online' then status_at else %(at)s end, status = 'online'"
        " where id = %(id)s and coalesce(last_heartbeat_at, '-infinity') < %(at)s",
        {
            "at": at,
            "battery": beat.battery_pct,
            "signal": beat.signal_dbm,
            "interval": beat.interval_s,
            "id": device_id,
        },
    )


def mark_heard_again(conn: psycopg.Connection, *, now: datetime, grace: float) -> list[str]:
    """Set online ('reading') the meters heard from since they went offline and not silent since; their uids."""
    rows = conn.execute(
        "update device set status = 'online', status_at = last_seen_at, status_reason = 'reading'"
        " where revoked_at is null and status <> 'online' and last_seen_at > coalesce(status_at, '-infinity')"
        f" and last_seen_at >= %(now)s - {_SILENCE} returning uid",
        {"now": now, "grace": grace},
    )
    return [r[0] for r in rows]


def mark_silent(conn: psycopg.Connection, *, now: datetime, grace: float) -> list[str]:
    """Set offline ('silent') the meters silent longer than their interval x `grace`; their uids."""
    rows = conn.execute(
        "update device set status = 'offline', status_at = %(now)s, status_reason = 'silent'"
        " where revoked_at is null and status <> 'offline'"
        " and greatest(last_seen_at, last_heartbeat_at, case when status = 'online' then status_at end)"
        f" < %(now)s - {_SILENCE} returning uid",
        {"now": now, "grace": grace},
    )
    return [r[0] for r in rows]
