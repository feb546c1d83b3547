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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
from pydantic import ValidationError

from cdm.payload import HeartbeatV1, StatusV1, parse_device_topic, parse_topic
from cdm.privacy import redact
from ingest import repo
from ingest.repo import DeviceTally, QuarantineRow
from ingest.validate import duplicate_key, envelope_problem

if TYPE_CHECKING:
    from ingest.batch import InboundMessage

log = logging.getLogger(__name__)

DETAIL_MAX = 300
EARLIEST_STATUS = datetime(2000, 1, 1, tzinfo=UTC)
STATUS_SKEW = timedelta(hours=1)  # a status `at` this far ahead of arrival is a wrong clock, not a time zone slip


def lock_meters(conn: psycopg.Connection, messages: Sequence[InboundMessage]) -> dict[str, int]:
    """Lock every registered, unrevoked meter a batch names, in id order; their ids by meter uid.

    The readings path updates its meters' counters late in the transaction and status messages update theirs
    early: two workers locking meters in two phases, in different orders, could deadlock. Locking them all first,
    in one order, cannot.
    """
    return _device_ids(conn, _uids(messages))


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
    repo.insert_quarantine(conn, quarantine)
    repo.update_device_counters(conn, _refusals(quarantine, ids or {}))
    return rest, len(quarantine)


def _refusals(quarantine: list[QuarantineRow], ids: dict[str, int]) -> dict[int, DeviceTally]:
    """Per registered meter, the refusals to add to its counter (as the readings path counts its own)."""
    counts: dict[int, int] = {}
    for row in quarantine:
        device_id = ids.get(row.device_uid or "")
        if device_id is not None:
            counts[device_id] = counts.get(device_id, 0) + 1
    return {device_id: DeviceTally(quarantined=n) for device_id, n in counts.items()}


def _apply_safely(
    conn: psycopg.Connection, msg: InboundMessage, *, uid: str, channel: str, device_id: int | None
) -> tuple[str, str] | None:
    """`_apply`, with a message Python cannot even turn into values (a date past year 9999 once its offset is
    applied, say) refused with its reason instead of failing the batch."""
    problem = envelope_problem(msg.payload) or (
        ("duplicate_key", duplicate) if (duplicate := duplicate_key(msg.payload)) else None
    )
    if problem:
        return problem
    try:
        return _apply(conn, msg, uid=uid, channel=channel, device_id=device_id)
    except (OverflowError, ValueError) as exc:
        return f"bad_{channel}", f"{type(exc).__name__}: {exc}"[:DETAIL_MAX]


def _uids(messages: Sequence[InboundMessage]) -> set[str]:
    uids = {p[1] for p in (parse_device_topic(m.topic) for m in messages) if p}
    return uids | {p[1] for p in (parse_topic(m.topic) for m in messages) if p}


def _device_ids(conn: psycopg.Connection, uids: set[str]) -> dict[str, int]:
    # Every meter of the batch (status and readings alike) is locked here, in id order, before anything updates
    # it: the readings path updates its meters' counters later in this transaction, and two workers locking
    # meters in two phases in different orders could deadlock.
    rows = conn.execute(
        "select uid, id, revoked_at from device where uid = any(%s) order by id for no key update", (sorted(uids),)
    )
    return {uid: int(i) for uid, i, revoked_at in rows if revoked_at is None}


def _apply(
    conn: psycopg.Connection, msg: InboundMessage, *, uid: str, channel: str, device_id: int | None
) -> tuple[str, str] | None:
    model = StatusV1 if channel == "status" else HeartbeatV1
    try:
        parsed = model.model_validate_json(msg.payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or channel
        return f"bad_{channel}", f"{where}: {first['msg']}"[:DETAIL_MAX]
    if parsed.device_id != uid:
        return "topic_mismatch", f"payload device_id {parsed.device_id!r} published on {uid!r}'s topic"
    if device_id is None:
        return "unknown_device", f"meter {uid!r} is not registered (or was revoked)"
    if isinstance(parsed, StatusV1):
        if parsed.at is not None and not _plausible(parsed.at, received_at=msg.received_at):
            return "status_time_out_of_range", (
                f"status time {parsed.at.isoformat()[:40]} is before {EARLIEST_STATUS.year} or in the future;"
                " check the meter's clock"
            )
        _store_status(conn, device_id=device_id, status=parsed, received_at=msg.received_at)
    else:
        _store_heartbeat(conn, device_id=device_id, beat=parsed, received_at=msg.received_at)
    return None


def _plausible(at: datetime, *, received_at: datetime) -> bool:
    # A retained status may be months old (the meter has been online since), never older than meters of this
    # system, and never later than now plus the clock skew a meter is allowed. Year 0001 or 9999 would be stored
    # as a date PostgreSQL keeps but Python cannot read back (`cdm devices list` would fail).
    return EARLIEST_STATUS <= at <= received_at + STATUS_SKEW


def _store_status(conn: psycopg.Connection, *, device_id: int, status: StatusV1, received_at: datetime) -> None:
    # A retained copy replayed at a later subscribe carries the meter's old `at`: older than what the store
    # knows, it changes nothing. A will has no `at`; the broker sends it when the meter vanished, i.e. now.
    at = min(status.at, received_at) if status.at else received_at
    reason = "will" if status.will else "status"
    conn.execute(
        "update device set status = %(state)s, status_at = %(at)s, status_reason = %(reason)s,"
        " last_seen_at = case when %(state)s = 'online' then greatest(last_seen_at, %(at)s) else last_seen_at end"
        " where id = %(id)s and status is distinct from %(state)s and coalesce(status_at, '-infinity') < %(at)s",
        {"state": status.state, "at": at, "reason": reason, "id": device_id},
    )


def _store_heartbeat(conn: psycopg.Connection, *, device_id: int, beat: HeartbeatV1, received_at: datetime) -> None:
    conn.execute(
        "update device set last_heartbeat_at = %(at)s, last_seen_at = greatest(last_seen_at, %(at)s),"
        " battery_pct = coalesce(%(battery)s, battery_pct), signal_dbm = coalesce(%(signal)s, signal_dbm),"
        " heartbeat_interval_s = coalesce(%(interval)s, heartbeat_interval_s),"
        " status_reason = case when status = 'online' then status_reason else 'heartbeat' end,"
        " status_at = case when status = 'online' then status_at else %(at)s end, status = 'online'"
        " where id = %(id)s and coalesce(last_heartbeat_at, '-infinity') < %(at)s",
        {
            "at": received_at,
            "battery": beat.battery_pct,
            "signal": beat.signal_dbm,
            "interval": beat.interval_s,
            "id": device_id,
        },
    )


def refresh_status(conn: psycopg.Connection, *, now: datetime, grace: float) -> dict[str, list[str]]:
    """Meters heard from again since they went offline -> online ('reading'); meters silent longer than their
    heartbeat interval x `grace` -> offline ('silent'), even if no last will arrived. Returns the meter ids."""
    silence = "make_interval(secs => heartbeat_interval_s * %(grace)s)"
    back = conn.execute(
        "update device set status = 'online', status_at = last_seen_at, status_reason = 'reading'"
        " where revoked_at is null and status <> 'online' and last_seen_at > coalesce(status_at, '-infinity')"
        f" and last_seen_at >= %(now)s - {silence} returning uid",
        {"now": now, "grace": grace},
    ).fetchall()
    silent = conn.execute(
        "update device set status = 'offline', status_at = %(now)s, status_reason = 'silent'"
        " where revoked_at is null and status <> 'offline'"
        " and greatest(last_seen_at, last_heartbeat_at, case when status = 'online' then status_at end)"
        f" < %(now)s - {silence} returning uid",
        {"now": now, "grace": grace},
    ).fetchall()
    return {"online": sorted(r[0] for r in back), "offline": sorted(r[0] for r in silent)}


def silence_limit(interval_s: int, grace: float) -> timedelta:
    """How long a meter with this heartbeat interval may stay silent before it is flagged offline."""
    return timedelta(seconds=interval_s * grace)
