"""All SQL of patient reminders: facts for the rules, planned rows, claims, and what became of each send."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alerts.reminders.logic import Decision, Kind, PatientFacts

_FACTS = """
select p.id, p.hypertension, p.diabetes, p.registered_at,
       c.reminders_opt_out_at is not null, c.medication_times,
       (select max(r.measured_at) from reading r where r.patient_id = p.id and r.kind = 'bp'),
       (select max(r.measured_at) from reading r where r.patient_id = p.id and r.kind = 'glucose'),
       (select f.next_due from follow_up f where f.patient_id = p.id
         order by f.done_on desc, f.recorded_at desc, f.id desc limit 1),
       (select count(*) from reminder m where m.patient_id = p.id and m.status = 'sent'
          and m.sent_at >= %(day_start)s and m.sent_at < %(day_end)s)
  from patient p join patient_contact c on c.patient_id = p.id
 where p.id = any(%(ids)s)
 order by p.id
"""


@dataclass(frozen=True)
class Claimed:
    """A due reminder and its patient's phone, both row-locked by this transaction until it commits."""

    id: int
    patient_id: int
    kind: Kind
    due_key: str
    params: dict[str, str]
    planned_for: datetime
    idempotency_key: str
    attempts: int
    phone: str | None


def reachable_patients(conn: psycopg.Connection) -> list[int]:
    """Ids of the patients with a phone number on record (opted-out ones too: their skips are recorded)."""
    rows = conn.execute("select patient_id from patient_contact where phone is not null order by patient_id")
    return [row[0] for row in rows]


def _facts(row: Sequence[Any]) -> PatientFacts:
    pid, hypertension, diabetes, registered_at, opted_out, times, last_bp, last_glucose, next_due, sent = row
    needs = frozenset(k for k, has in (("bp", hypertension), ("glucose", diabetes)) if has)
    last = {k: v for k, v in (("bp", last_bp), ("glucose", last_glucose)) if v is not None}
    next_follow_up: date | None = next_due
    return PatientFacts(
        patient_id=pid,
        needs=needs,
        last_reading=last,
        registered_at=registered_at,
        next_follow_up=next_follow_up,
        medication_times=tuple(times or ()),
        opted_out=opted_out,
        sent_today=sent,
    )


def load_facts(
    conn: psycopg.Connection, patient_ids: Sequence[int], *, day: tuple[datetime, datetime]
) -> list[PatientFacts]:
    """The rules' facts for these patients; `day` is the local day [start, end) whose sends count to the cap."""
    rows = conn.execute(_FACTS, {"ids": list(patient_ids), "day_start": day[0], "day_end": day[1]})
    return [_facts(row) for row in rows]


def insert_planned(conn: psycopg.Connection, decisions: Iterable[Decision]) -> int:
    """Record decisions; a reminder already recorded (same patient, kind and due_key) is left as it is."""
    inserted = 0
    for d in decisions:
        cur = conn.execute(
            "insert into reminder (patient_id, kind, due_key, params, planned_for, status, skip_reason)"
            " values (%s, %s, %s, %s, %s, %s, %s) on conflict (patient_id, kind, due_key) do nothing",
            (
                d.patient_id,
                d.kind.value,
                d.due_key,
                Jsonb(d.params),
                d.planned_for,
                "skipped" if d.skip_reason else "pending",
                d.skip_reason,
            ),
        )
        inserted += cur.rowcount
    return inserted


def claim_next_due(conn: psycopg.Connection, *, now: datetime, exclude: Iterable[int] = ()) -> Claimed | None:
    """Lock the next due reminder and its patient's contact row; None when nothing is due and free.

    Both rows are locked at once and skipped when either is held, so one patient's reminders go out one at a time,
    earliest first, and the daily cap is counted after the previous send committed; other patients' go on in parallel.
    """
    row = conn.execute(
        "select r.id, r.patient_id, r.kind, r.due_key, r.params, r.planned_for, r.idempotency_key, r.attempts, c.phone"
        "  from reminder r join patient_contact c on c.patient_id = r.patient_id"
        " where r.status = 'pending' and r.planned_for <= %s and not (r.id = any(%s))"
        " order by r.planned_for, r.id limit 1 for update skip locked",
        (now, list(exclude)),
    ).fetchone()
    if row is None:
        return None
    rid, pid, kind, due_key, params, planned_for, key, attempts, phone = row
    return Claimed(rid, pid, Kind(kind), due_key, dict(params), planned_for, str(key), attempts, phone)


def has_due(conn: psycopg.Connection, *, now: datetime) -> bool:
    """Whether any reminder is pending and due."""
    row = conn.execute(
        "select exists (select 1 from reminder where status = 'pending' and planned_for <= %s)", (now,)
    ).fetchone()
    return bool(row and row[0])


def skip_unreachable(conn: psycopg.Connection) -> int:
    """Skip pending reminders of patients whose contact row is gone (the claim cannot see them)."""
    cur = conn.execute(
        "update reminder r set status = 'skipped', skip_reason = 'no_contact' where r.status = 'pending'"
        " and not exists (select 1 from patient_contact c where c.patient_id = r.patient_id)"
    )
    return cur.rowcount


def mark_sent(conn: psycopg.Connection, reminder_id: int, *, at: datetime, receipt: str) -> None:
    """The channel accepted the message."""
    conn.execute(
        "update reminder set status = 'sent', sent_at = %s, receipt = %s, attempts = attempts + 1, last_error = null"
        " where id = %s",
        (at, receipt[:500], reminder_id),
    )


def mark_skipped(conn: psycopg.Connection, reminder_id: int, *, reason: str) -> None:
    """The reminder will not be sent, for `reason`."""
    conn.execute("update reminder set status = 'skipped', skip_reason = %s where id = %s", (reason, reminder_id))


def defer(conn: psycopg.Connection, reminder_id: int, *, until: datetime) -> None:
    """Not now (quiet hours, cap): try again at `until`."""
    conn.execute("update reminder set planned_for = %s where id = %s", (until, reminder_id))


def mark_failed(conn: psycopg.Connection, reminder_id: int, *, error: str, retry_at: datetime | None) -> None:
    """The channel refused: retry at `retry_at`, or give up when it is None."""
    conn.execute(
        "update reminder set attempts = attempts + 1, last_error = %s,"
        " status = case when %s::timestamptz is null then 'failed' else 'pending' end,"
        " planned_for = coalesce(%s::timestamptz, planned_for) where id = %s",
        (error[:500], retry_at, retry_at, reminder_id),
    )


def save_contact(
    conn: psycopg.Connection,
    *,
    patient_id: int,
    phone: str | None,
    medication_times: Sequence[time],
    opted_out: bool,
    now: datetime,
) -> None:
    """Record how a patient is reached and what they agreed to (opting out stops every reminder)."""
    conn.execute(
        "insert into patient_contact (patient_id, phone, medication_times, reminders_opt_out_at, updated_at)"
        " values (%s, %s, %s, %s, %s) on conflict (patient_id) do update set phone = excluded.phone,"
        " medication_times = excluded.medication_times, reminders_opt_out_at = excluded.reminders_opt_out_at,"
        " updated_at = excluded.updated_at",
        (patient_id, phone, list(medication_times), now if opted_out else None, now),
    )
