"""SQL of the ingest stage shared by its parts: meters, village clinics, readings, quarantine, per-meter counters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from cdm.privacy import redact, redact_bytes
from ingest.message import DeviceInfo


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    received_at: datetime
    topic: str
    device_uid: str | None
    reason: str
    detail: str
    raw: bytes
    skew_s: float | None = None  # a reading refused as measured in the future: its measured_at - received_at


def fetch_devices(conn: psycopg.Connection, uids: Iterable[str]) -> dict[str, DeviceInfo]:
    """Registered meters among `uids`."""
    rows = conn.execute("select uid, id, kind, clinic_id from device where uid = any(%s)", (list(uids),))
    return {r[0]: DeviceInfo(r[1], r[2], r[3]) for r in rows}


def village_id(conn: psycopg.Connection, code: str) -> int | None:
    """The id of the village clinic with this code, if there is one."""
    row = conn.execute("select id from region where code = %s and level = 'village'", (code,)).fetchone()
    return int(row[0]) if row else None


READING_COLUMNS = (
    "device_id",
    "seq",
    "measured_at",
    "received_at",
    "clinic_id",
    "kind",
    "patient_id",
    "patient_scheme",
    "patient_ref",
    "systolic",
    "diastolic",
    "pulse",
    "glucose_mmol",
    "glucose_flag",
    "glucose_context",
)
_READING_TYPES = (
    "integer",
    "bigint",
    "timestamptz",
    "timestamptz",
    "integer",
    "text",
    "bigint",
    "text",
    "text",
    "smallint",
    "smallint",
    "smallint",
    "real",
    "text",
    "text",
)
_COLUMNS = ", ".join(READING_COLUMNS)
# A session-local staging table, emptied at every commit: binary COPY fills it, one INSERT ... SELECT moves the
# rows that are new into `reading`. Measured against a multi-array unnest insert: see bench/ingest.py.
_STAGE = (
    "create temp table if not exists reading_stage"
    f" ({', '.join(f'{c} {t}' for c, t in zip(READING_COLUMNS, _READING_TYPES, strict=True))})"
    " on commit delete rows"
)
_FROM_STAGE = (
    f"insert into reading ({_COLUMNS}) select {_COLUMNS} from reading_stage"
    " on conflict do nothing returning device_id, seq, patient_id"
)

_INSERT_UNNEST = (
    f"insert into reading ({_COLUMNS}) select * from unnest("
    + ", ".join(f"%s::{t}[]" for t in _READING_TYPES)
    + ") on conflict do nothing returning device_id, seq, patient_id"
)


def insert_readings(conn: psycopg.Connection, rows: Sequence[tuple[object, ...]]) -> list[tuple[int, int, int | None]]:
    """Insert readings given as column tuples (in READING_COLUMNS order); return (device_id, seq, patient_id) of
    the rows that were new. A row whose key is already stored (a redelivery) is skipped, never doubled.

    Must run inside a transaction (the staging table empties itself at commit)."""
    if not rows:
        return []
    if issubclass(conn.cursor_factory, psycopg.ClientCursor):
        # Client-side binding (the TimescaleDB test server, a WASM build that COPY crashes): one multi-array insert.
        columns = [list(col) for col in zip(*rows, strict=True)]
        return [(r[0], r[1], r[2]) for r in conn.execute(_INSERT_UNNEST, columns)]
    with conn.cursor() as cur:
        cur.execute(_STAGE)
        with cur.copy(f"copy reading_stage ({_COLUMNS}) from stdin (format binary)") as copy:
            copy.set_types(_READING_TYPES)
            for row in rows:
                copy.write_row(row)
        cur.execute(_FROM_STAGE)
        inserted = [(r[0], r[1], r[2]) for r in cur.fetchall()]
        cur.execute("truncate reading_stage")  # a caller may store two batches in one transaction
    return inserted


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a topic or detail quoting one must still be kept, so it is spelt out.
    return redact(value.replace("\x00", "\\u0000"))


def insert_quarantine(conn: psycopg.Connection, rows: Sequence[QuarantineRow]) -> None:
    """Keep refused messages with their raw bytes and reason, identity and mobile numbers masked in every column."""
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into quarantine (received_at, topic, device_uid, reason, detail, raw)"
            " values (%s, %s, %s, %s, %s, %s)",
            [
                (q.received_at, _text(q.topic), _text(q.device_uid) if q.device_uid else None, q.reason,
                 _text(q.detail), redact_bytes(q.raw))
                for q in rows
            ],
        )  # fmt: skip


def count_refusals(conn: psycopg.Connection, refused: dict[str, int]) -> None:
    """Add refusals to registered meters' counters, by meter id (uid)."""
    if refused:
        uids = sorted(refused)
        conn.execute(
            "update device d set quarantined_count = d.quarantined_count + u.n"
            " from unnest(%s::text[], %s::bigint[]) as u(uid, n) where d.uid = u.uid",
            (uids, [refused[u] for u in uids]),
        )


@dataclass(frozen=True, slots=True)
class DeviceTally:
    """What one batch adds to a meter's row: counts, the latest arrival, and the clock skew it showed."""

    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    seen: datetime | None = None  # latest arrival of a valid reading
    skew_s: float | None = None  # the largest measured_at - received_at among the batch's live readings


# A skew estimate is the largest (measured_at - received_at) seen within this window: a message can only arrive
# after it was measured, so transit delay only ever lowers the figure, and the maximum over recent readings is the
# tightest estimate of how far the meter's clock runs ahead (positive) or behind (negative).
SKEW_WINDOW = "1 hour"


def update_device_counters(conn: psycopg.Connection, tallies: dict[int, DeviceTally]) -> None:
    """Add the batch's counts to each meter's counters, move its last-seen time forward, keep its clock skew."""
    if not tallies:
        return
    ids = sorted(tallies)  # a fixed order, so two workers updating the same meters never deadlock
    t = [tallies[i] for i in ids]
    conn.execute(
        "update device d set readings_count = d.readings_count + u.stored,"
        " duplicates_count = d.duplicates_count + u.dups,"
        " quarantined_count = d.quarantined_count + u.refused,"
        " last_seen_at = coalesce(greatest(d.last_seen_at, u.seen), d.last_seen_at, u.seen),"
        " clock_skew_s = case when u.skew is null then d.clock_skew_s when d.clock_skew_at is null"
        f" or d.clock_skew_at < u.seen - interval '{SKEW_WINDOW}' or u.skew >= d.clock_skew_s then u.skew"
        " else d.clock_skew_s end,"
        " clock_skew_at = case when u.skew is null then d.clock_skew_at when d.clock_skew_at is null"
        f" or d.clock_skew_at < u.seen - interval '{SKEW_WINDOW}' or u.skew >= d.clock_skew_s then u.seen"
        " else d.clock_skew_at end"
        " from unnest(%s::integer[], %s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::real[])"
        " as u(id, stored, dups, refused, seen, skew)"
        " where d.id = u.id",
        (
            ids,
            [x.stored for x in t],
            [x.duplicates for x in t],
            [x.quarantined for x in t],
            [x.seen for x in t],
            [x.skew_s for x in t],
        ),
    )
