"""Meters' online/offline state from their status messages, last wills and heartbeats; silent meters flagged.

Store representation (what screens read), on `device`:
  status            online | offline | unknown (never heard from)
  status_at         when the state last changed (server time)
  status_reason     why: 'status' (the meter said so), 'will' (the broker saw it vanish), 'heartbeat' or
                    'reading' (it was heard from again), 'silent' (no word for heartbeat_interval_s x grace)
  last_seen_at      last reading or heartbeat received;  last_heartbeat_at, battery_pct, signal_dbm
  heartbeat_interval_s   what the meter said its interval is (3600 until it says)
Offline meters: `select … from device where status = 'offline' and revoked_at is null`.

The ingest worker's status and heartbeat topics are handled by `store_device_messages`, inside the batch's
transaction (so these are acknowledged after commit, like readings), after the worker has locked every meter of
the batch in id order (`lock_meters`). A bad status or heartbeat message is quarantined with its reason, like a
bad reading.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import psycopg

from cdm.payload import StatusV1, parse_device_topic
from cdm.privacy import redact
from ingest import repo as ingest_repo
from ingest.message import InboundMessage
from ingest.repo import DeviceTally, QuarantineRow
from ingest.status import repo
from ingest.status.logic import Problem, meter_uids, parse_device_message, refusals, status_change
from ingest.validate import DETAIL_MAX

log = logging.getLogger(__name__)


def lock_meters(conn: psycopg.Connection, messages: Sequence[InboundMessage]) -> dict[str, int]:
    """Lock every registered, unrevoked meter a batch names, in id order; their ids by meter uid.

    The readings path updates its meters' counters late in the transaction and status messages update theirs
    early: two workers locking meters in two phases, in different orders, could deadlock. Locking them all first,
    in one order, cannot.
    """
    return repo.lock_devices(conn, meter_uids(messages))


def store_device_messages(
    conn: psycopg.Connection, messages: Sequence[InboundMessage], *, county_code: str
) -> tuple[list[InboundMessage], int]:
    """Store the status and heartbeat messages (in arrival order); return the others, untouched, and how many
    were quarantined."""
    rest: list[InboundMessage] = []
    quarantine: list[QuarantineRow] = []
    ids: dict[str, int] | None = None
    for msg in messages:
        parsed = parse_device_topic(msg.topic)
        if parsed is None or parsed[0] != county_code:
            rest.append(msg)
            continue
        if ids is None:
            ids = lock_meters(conn, messages)
        _, uid, channel = parsed
        if channel == "status" and not msg.payload:
            continue  # an empty retained message only clears the broker's copy
        problem = _apply_safely(conn, msg, uid=uid, channel=channel, device_id=ids.get(uid))
        if problem:
            reason, detail = problem[0], redact(problem[1])
            log.warning("quarantined a %s message from meter %s: %s (%s)", channel, redact(uid), reason, detail)
            quarantine.append(QuarantineRow(msg.received_at, msg.topic[:300], uid, reason, detail, msg.payload))
    ingest_repo.insert_quarantine(conn, quarantine)
    # Counted on the meter like the readings path's refusals.
    counts = refusals([(q.device_uid, q) for q in quarantine], ids or {})
    ingest_repo.update_device_counters(conn, {i: DeviceTally(quarantined=n) for i, n in counts.items()})
    return rest, len(quarantine)


def _apply_safely(
    conn: psycopg.Connection, msg: InboundMessage, *, uid: str, channel: str, device_id: int | None
) -> Problem | None:
    """`_apply`, with a message Python cannot even turn into values refused with its reason instead of failing
    the batch."""
    try:
        return _apply(conn, msg, uid=uid, channel=channel, device_id=device_id)
    except (OverflowError, ValueError) as exc:
        return f"bad_{channel}", f"{type(exc).__name__}: {exc}"[:DETAIL_MAX]


def _apply(
    conn: psycopg.Connection, msg: InboundMessage, *, uid: str, channel: str, device_id: int | None
) -> Problem | None:
    parsed = parse_device_message(msg, uid=uid, channel=channel)
    if isinstance(parsed, tuple):
        return parsed
    if device_id is None:
        return "unknown_device", f"meter {uid!r} is not registered (or was revoked)"
    if isinstance(parsed, StatusV1):
        at, reason = status_change(parsed, received_at=msg.received_at)
        repo.update_status(conn, device_id=device_id, state=parsed.state, at=at, reason=reason)
    else:
        repo.update_heartbeat(conn, device_id=device_id, beat=parsed, at=msg.received_at)
    return None


def refresh_status(conn: psycopg.Connection, *, now: datetime, grace: float) -> dict[str, list[str]]:
    """Meters heard from again since they went offline -> online ('reading'); meters silent longer than their
    heartbeat interval x `grace` -> offline ('silent'), even if no last will arrived. Returns the meter ids."""
    back = repo.mark_heard_again(conn, now=now, grace=grace)
    silent = repo.mark_silent(conn, now=now, grace=grace)
    return {"online": sorted(back), "offline": sorted(silent)}
