"""SQL of the risk model: training examples from a deployment's own store (patients, readings, follow-ups, and the
assessment history as outcomes)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import psycopg

from assess.repo import reading_from_row
from assess.risk.data import Example, example
from assess.risk.features import LONG
from assess.risk.outcome import HORIZON, State
from assess.summary.repo import RECORD_SELECT, health_record_from
from cdm.domain import (
    Colour,
    FollowUp,
    FollowUpClass,
    PatientProfile,
    Reading,
)

log = logging.getLogger(__name__)

BATCH = 1000  # patients per round trip: bounded memory on a county with many years of readings

_PATIENTS = f"""
select p.id, p.sex, p.birth_year, p.hypertension, p.diabetes, p.registered_at::date, t.code, {RECORD_SELECT}
from patient p
join region v on v.id = p.village_id
join region t on t.id = v.parent_id
left join health_record h on h.patient_id = p.id
where p.id = any(%s)
"""
_READINGS = """
select r.patient_id, coalesce(d.uid, r.source), r.seq, r.kind, r.measured_at, r.received_at, r.systolic,
       r.diastolic, r.pulse, r.glucose_mmol, r.glucose_flag, r.glucose_context
from reading r left join device d on d.id = r.device_id
where r.patient_id = any(%s) and r.measured_at >= %s and r.measured_at < %s
order by r.measured_at
"""
_FOLLOW_UPS = """
select patient_id, done_on, class, recorded_at, next_due from follow_up
where patient_id = any(%s) and recorded_at < %s order by done_on, recorded_at
"""
_HISTORY = """
select patient_id, assessed_at, colour, reasons from assessment_history
where patient_id = any(%s) and assessed_at <= %s order by assessed_at, id
"""


def store_examples(
    conn: psycopg.Connection, *, until: datetime, cuts: int = 4, every: timedelta = HORIZON
) -> list[Example]:
    """One example per patient and cut: cuts at `until` − HORIZON, then every `every` earlier, `cuts` in all.

    A cut counts only where the patient had a reading or an assessment before it (a patient registered later has
    nothing to learn from at that cut).
    """
    grid = [until - HORIZON - k * every for k in range(cuts)]
    ids = [row[0] for row in conn.execute("select id from patient order by id")]
    out: list[Example] = []
    for chunk in _chunks(ids, BATCH):
        out.extend(examples_at(conn, cuts=[(pid, at) for pid in chunk for at in grid]))
    log.info("built %s examples from the store for %s patients", len(out), len(ids))
    return out


def examples_at(conn: psycopg.Connection, *, cuts: Sequence[tuple[int, datetime]]) -> list[Example]:
    """The examples of the given (patient id, cut) pairs, from what the store holds."""
    if not cuts:
        return []
    ids = sorted({pid for pid, _ in cuts})
    first, last = min(at for _, at in cuts), max(at for _, at in cuts)
    patients = patients_at(conn, ids)
    readings = readings_between(conn, ids, since=first - LONG, until=last)
    visits = follow_ups_until(conn, ids, until=last)
    states = _states(conn, ids, until=last + HORIZON)
    out = []
    for pid, at in cuts:
        if pid not in patients:
            continue
        profile, township = patients[pid]
        mine = [r for r in readings.get(pid, []) if at - LONG <= r.measured_at < at]
        history = states.get(pid, [])
        if not mine and not any(s.at <= at for s in history):
            continue
        out.append(
            example(
                profile=profile,
                township=township,
                readings=mine,
                follow_ups=[f for f in visits.get(pid, []) if f.recorded_at < at],
                states=history,
                as_of=at,
            )
        )
    return out


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def patients_at(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, tuple[PatientProfile, str]]:
    """Profiles (with the health record) and township code of the given patients."""
    out = {}
    for row in conn.execute(_PATIENTS, (list(ids),)):
        record = health_record_from(row[7], row[8:])
        profile = PatientProfile(row[0], row[1], row[2], row[3], row[4], row[5], record)
        out[row[0]] = (profile, row[6])
    return out


def readings_between(
    conn: psycopg.Connection, ids: Sequence[int], *, since: datetime, until: datetime
) -> dict[int, list[Reading]]:
    """Readings of the given patients measured in [since, until), oldest first."""
    out: dict[int, list[Reading]] = defaultdict(list)
    for r in conn.execute(_READINGS, (list(ids), since, until)):
        out[r[0]].append(reading_from_row(r[1:]))
    return out


def follow_ups_until(conn: psycopg.Connection, ids: Sequence[int], *, until: datetime) -> dict[int, list[FollowUp]]:
    """Follow-ups of the given patients recorded before `until`."""
    out: dict[int, list[FollowUp]] = defaultdict(list)
    for pid, done_on, cls, recorded_at, next_due in conn.execute(_FOLLOW_UPS, (list(ids), until)):
        out[pid].append(FollowUp(done_on, FollowUpClass(cls), recorded_at, next_due))
    return out


def _states(conn: psycopg.Connection, ids: Sequence[int], *, until: datetime) -> dict[int, list[State]]:
    out: dict[int, list[State]] = defaultdict(list)
    for pid, at, colour, reasons in conn.execute(_HISTORY, (list(ids), until)):
        out[pid].append(State(at, Colour(colour), tuple(reasons)))
    return out


def save_scores(conn: psycopg.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    """Upsert (patient_id, scored_at, model_version, probability, ascvd_10y_percent, ascvd_category) rows."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into risk_score (patient_id, scored_at, model_version, probability, ascvd_10y_percent,"
            " ascvd_category) values (%s, %s, %s, %s, %s, %s) on conflict (patient_id) do update set"
            " scored_at = excluded.scored_at, model_version = excluded.model_version,"
            " probability = excluded.probability, ascvd_10y_percent = excluded.ascvd_10y_percent,"
            " ascvd_category = excluded.ascvd_category",
            rows,
        )


def all_patient_ids(conn: psycopg.Connection) -> list[int]:
    """Every patient's id, in order."""
    return [r[0] for r in conn.execute("select id from patient order by id")]
