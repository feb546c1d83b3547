"""SQL of the ingest stage: meters, patient references, readings, quarantine, per-meter counters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: int
    kind: str
    clinic_id: int


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    received_at: datetime
    topic: str
    device_uid: str | None
    reason: str
    detail: str
    raw: bytes


def fetch_devices(conn: psycopg.Connection, uids: Iterable[str]) -> dict[str, DeviceInfo]:
    """Registered meters among `uids`."""
    rows = conn.execute("select uid, id, kind, clinic_id from device where uid = any(%s)", (list(uids),))
    return {r[0]: DeviceInfo(r[1], r[2], r[3]) for r in rows}


def resolve_patients(conn: psycopg.Connection, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Patient ids for (scheme, value) references entered at the meter; unmatched ones are absent."""
    cards = [v for s, v in refs if s == "health_card"]
    qrs = [v for s, v in refs if s == "qr"]
    found: dict[tuple[str, str], int] = {}
    if cards:
        for pid, card in conn.execute(
            "select id, health_card_no from patient where health_card_no = any(%s)", (cards,)
        ):
            found[("health_card", card)] = pid
    if qrs:
        for pid, qr in conn.execute("select id, qr_code from patient where qr_code = any(%s)", (qrs,)):
            found[("qr", qr)] = pid
    return found


_INSERT_READINGS = (
    "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, patient_scheme,"
    " patient_ref, systolic, diastolic, pulse, glucose_mmol, glucose_flag, glucose_context)"
    " select * from unnest(%s::integer[], %s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::integer[],"
    " %s::text[], %s::bigint[], %s::text[], %s::text[], %s::smallint[], %s::smallint[], %s::smallint[],"
    " %s::real[], %s::text[], %s::text[])"
    " on conflict do nothing returning device_id, seq, patient_id"
)


def insert_readings(conn: psycopg.Connection, rows: Sequence[tuple[object, ...]]) -> list[tuple[int, int, int | None]]:
    """Insert readings given as column tuples (in _INSERT_READINGS order); return (device_id, seq, patient_id) of
    the rows that were new. A row whose key is already stored (a redelivery) is skipped, never doubled."""
    if not rows:
        return []
    columns = [list(col) for col in zip(*rows, strict=True)]
    return [(r[0], r[1], r[2]) for r in conn.execute(_INSERT_READINGS, columns)]


def insert_quarantine(conn: psycopg.Connection, rows: Sequence[QuarantineRow]) -> None:
    """Keep refused messages with their raw bytes and reason."""
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into quarantine (received_at, topic, device_uid, reason, detail, raw)"
            " values (%s, %s, %s, %s, %s, %s)",
            [(q.received_at, q.topic, q.device_uid, q.reason, q.detail, q.raw) for q in rows],
        )


def update_device_counters(conn: psycopg.Connection, counters: dict[int, tuple[int, int, datetime]]) -> None:
    """Add (stored, duplicates) to each meter's counters and move its last-seen time forward."""
    if not counters:
        return
    ids = sorted(counters)  # a fixed order, so two workers updating the same meters never deadlock
    conn.execute(
        "update device d set readings_count = d.readings_count + u.stored,"
        " duplicates_count = d.duplicates_count + u.dups, last_seen_at = greatest(d.last_seen_at, u.seen)"
        " from unnest(%s::integer[], %s::bigint[], %s::bigint[], %s::timestamptz[]) as u(id, stored, dups, seen)"
        " where d.id = u.id",
        (ids, [counters[i][0] for i in ids], [counters[i][1] for i in ids], [counters[i][2] for i in ids]),
    )
