"""SQL of the scoring stage: what the rules read, and where their conclusions are kept."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import psycopg

from cdm.domain import Assessment, FollowUp, FollowUpClass, GlucoseContext, PatientProfile, Reading, ReadingKind

FOLLOW_UPS_READ = 3  # the rules look at the last two visits; one more for context


def load_profiles(conn: psycopg.Connection, patient_ids: Sequence[int]) -> dict[int, PatientProfile]:
    """Profiles of the given patients."""
    rows = conn.execute(
        "select id, sex, birth_year, hypertension, diabetes, registered_at::date from patient where id = any(%s)",
        (list(patient_ids),),
    )
    return {r[0]: PatientProfile(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows}


def load_readings(conn: psycopg.Connection, patient_ids: Sequence[int], *, since: datetime) -> dict[int, list[Reading]]:
    """Readings of the given patients measured since `since`, oldest first."""
    rows = conn.execute(
        "select r.patient_id, d.uid, r.seq, r.kind, r.measured_at, r.received_at, r.systolic, r.diastolic, r.pulse,"
        " r.glucose_mmol, r.glucose_flag, r.glucose_context"
        " from reading r join device d on d.id = r.device_id"
        " where r.patient_id = any(%s) and r.measured_at >= %s order by r.measured_at",
        (list(patient_ids), since),
    )
    out: dict[int, list[Reading]] = defaultdict(list)
    for r in rows:
        out[r[0]].append(
            Reading(
                device_uid=r[1],
                seq=r[2],
                kind=ReadingKind(r[3]),
                measured_at=r[4],
                received_at=r[5],
                systolic=r[6],
                diastolic=r[7],
                pulse=r[8],
                glucose_mmol=r[9],
                glucose_flag=r[10],
                glucose_context=GlucoseContext(r[11]) if r[11] else None,
            )
        )
    return out


def load_follow_ups(conn: psycopg.Connection, patient_ids: Sequence[int]) -> dict[int, list[FollowUp]]:
    """The last few follow-ups of each patient, oldest first."""
    rows = conn.execute(
        "select patient_id, done_on, class, recorded_at, next_due from ("
        " select f.*, row_number() over (partition by patient_id order by done_on desc, recorded_at desc) as k"
        " from follow_up f where patient_id = any(%s)) x where k <= %s order by done_on, recorded_at",
        (list(patient_ids), FOLLOW_UPS_READ),
    )
    out: dict[int, list[FollowUp]] = defaultdict(list)
    for pid, done_on, cls, recorded_at, next_due in rows:
        out[pid].append(FollowUp(done_on, FollowUpClass(cls), recorded_at, next_due))
    return out


def load_current(conn: psycopg.Connection, patient_ids: Sequence[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Current colour and reasons of the given patients, locked until the transaction ends.

    The row lock makes two ingest workers that assess the same patient at once take turns, so a change of
    colour is seen (and alerted) exactly once.
    """
    rows = conn.execute(
        "select patient_id, colour, reasons from assessment_current where patient_id = any(%s)"
        " order by patient_id for update",
        (list(patient_ids),),
    )
    return {r[0]: (r[1], tuple(r[2])) for r in rows}


def save(
    conn: psycopg.Connection,
    *,
    assessed: Sequence[tuple[int, Assessment]],
    changed: Sequence[tuple[int, Assessment, str | None]],
    now: datetime,
    edition: str,
) -> None:
    """Upsert every patient's current status; add a history row for each change of colour or reasons."""
    with conn.cursor() as cur:
        if assessed:
            cur.executemany(
                "insert into assessment_current as a (patient_id, colour, reasons, priority, evidence, assessed_at,"
                " colour_since, rules_edition) values (%s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (patient_id) do update set colour = excluded.colour, reasons = excluded.reasons,"
                " priority = excluded.priority, evidence = excluded.evidence, assessed_at = excluded.assessed_at,"
                " rules_edition = excluded.rules_edition, colour_since = case when a.colour = excluded.colour"
                " then a.colour_since else excluded.colour_since end",
                [
                    (pid, a.colour.value, list(a.reasons), a.priority, list(a.evidence), now, now, edition)
                    for pid, a in assessed
                ],
            )
        if changed:
            cur.executemany(
                "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
                " assessed_at, rules_edition) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (pid, a.colour.value, prev, list(a.reasons), a.priority, list(a.evidence), now, edition)
                    for pid, a, prev in changed
                ],
            )
