"""SQL of the scoring stage: what the rules read, and where their conclusions are kept."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from assess.summary.logic import Summary
from assess.summary.repo import SUMMARY_SQL, SummaryParams, case_from_row
from cdm.domain import (
    Assessment,
    FollowUp,
    FollowUpClass,
    GlucoseContext,
    PatientProfile,
    Reading,
    ReadingKind,
    RiskScore,
)

FOLLOW_UPS_READ = 3  # the rules look at the last two visits; one more for context


def load_cases(
    conn: psycopg.Connection,
    *,
    params: SummaryParams,
    patient_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> list[tuple[PatientProfile, Summary]]:
    """Profile and summary of the given patients (ids, or an id range), computed in the store by one query."""
    with conn.cursor() as cur:
        cur.execute(summary_query(by_range=patient_ids is None), bind_summary(params, patient_ids, id_range))
        return [case_from_row(row) for row in cur]


def patient_id_range(conn: psycopg.Connection) -> tuple[int, int] | None:
    """The lowest and highest patient id, or None when there is no patient."""
    row = conn.execute("select min(id), max(id) from patient").fetchone()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def summary_rows(
    conn: psycopg.Connection,
    params: SummaryParams,
    id_range: tuple[int, int],
    *,
    work_mem: str,
    parallel_workers: int,
) -> list[tuple[Any, ...]]:
    """The summary rows of the patients in `id_range`, with this transaction's sort memory and parallelism."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("set local work_mem = {}").format(sql.Literal(work_mem)))
        cur.execute(sql.SQL("set local max_parallel_workers_per_gather = {}").format(sql.Literal(parallel_workers)))
        cur.execute(summary_query(by_range=True), bind_summary(params, None, id_range))
        return cur.fetchall()


def summary_query(*, by_range: bool) -> sql.Composed:
    """The summary query for a list of patient ids (%(ids)s) or an id range (%(lo)s..%(hi)s)."""

    def sel(column: str) -> sql.Composable:
        if by_range:
            return sql.SQL("{} between %(lo)s and %(hi)s").format(sql.Identifier(*column.split(".")))
        return sql.SQL("{} = any(%(ids)s)").format(sql.Identifier(*column.split(".")))

    return sql.SQL(SUMMARY_SQL).format(sel_f=sel("patient_id"), sel_r=sel("r.patient_id"), sel_p=sel("p.id"))


def bind_summary(
    params: SummaryParams, patient_ids: Sequence[int] | None, id_range: tuple[int, int] | None
) -> dict[str, object]:
    """The bound parameters of summary_query."""
    bound = params.bound()
    if patient_ids is not None:
        bound["ids"] = list(patient_ids)
    else:
        if id_range is None:
            raise ValueError("give patient_ids or id_range")
        bound["lo"], bound["hi"] = id_range
    return bound


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
        "select r.patient_id, coalesce(d.uid, r.source), r.seq, r.kind, r.measured_at, r.received_at, r.systolic,"
        " r.diastolic, r.pulse, r.glucose_mmol, r.glucose_flag, r.glucose_context"
        " from reading r left join device d on d.id = r.device_id"  # no device: a visit's reading
        " where r.patient_id = any(%s) and r.measured_at >= %s order by r.measured_at",
        (list(patient_ids), since),
    )
    out: dict[int, list[Reading]] = defaultdict(list)
    for r in rows:
        out[r[0]].append(reading_from_row(r[1:]))
    return out


def reading_from_row(r: Sequence[Any]) -> Reading:
    """A Reading from (uid, seq, kind, measured_at, received_at, systolic, diastolic, pulse, glucose_mmol,
    glucose_flag, glucose_context) as the reading queries select them."""
    return Reading(
        device_uid=r[0],
        seq=r[1],
        kind=ReadingKind(r[2]),
        measured_at=r[3],
        received_at=r[4],
        systolic=r[5],
        diastolic=r[6],
        pulse=r[7],
        glucose_mmol=r[8],
        glucose_flag=r[9],
        glucose_context=GlucoseContext(r[10]) if r[10] else None,
    )


def load_follow_ups(conn: psycopg.Connection, patient_ids: Sequence[int]) -> dict[int, list[FollowUp]]:
    """The last few follow-ups of each patient, oldest first."""
    rows = conn.execute(
        "select patient_id, done_on, class, recorded_at, next_due from ("
        " select f.*, row_number() over (partition by patient_id order by done_on desc, recorded_at desc, id desc)"
        " as k"
        " from follow_up f where patient_id = any(%s)) x where k <= %s order by done_on, recorded_at, id",
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


_UPSERT_CURRENT = (
    "insert into assessment_current as a (patient_id, colour, reasons, priority, evidence, assessed_at,"
    " colour_since, rules_edition, model_version, risk_probability, ascvd_10y_percent, ascvd_category,"
    " reason_facts) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " on conflict (patient_id) do update set colour = excluded.colour, reasons = excluded.reasons,"
    " reason_facts = excluded.reason_facts,"
    " priority = excluded.priority, evidence = excluded.evidence, assessed_at = excluded.assessed_at,"
    " rules_edition = excluded.rules_edition, model_version = excluded.model_version,"
    " risk_probability = excluded.risk_probability, ascvd_10y_percent = excluded.ascvd_10y_percent,"
    " ascvd_category = excluded.ascvd_category, colour_since = case when a.colour = excluded.colour"
    " then a.colour_since else excluded.colour_since end"
)
_INSERT_HISTORY = (
    "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
    " assessed_at, rules_edition, model_version, risk_probability, reason_facts)"
    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def save(
    conn: psycopg.Connection,
    *,
    assessed: Sequence[tuple[int, Assessment]],
    changed: Sequence[tuple[int, Assessment, str | None]],
    now: datetime,
    edition: str,
    risks: Mapping[int, RiskScore] | None = None,
) -> None:
    """Upsert every patient's current status; add a history row for each change of colour or reasons."""
    risks = risks or {}
    with conn.cursor() as cur:
        if assessed:
            cur.executemany(
                _UPSERT_CURRENT,
                [
                    (
                        pid,
                        a.colour.value,
                        list(a.reasons),
                        a.priority,
                        list(a.evidence),
                        now,
                        now,
                        edition,
                        *_risk_columns(risks.get(pid)),
                        Jsonb(a.facts),
                    )
                    for pid, a in assessed
                ],
            )
        if changed:
            cur.executemany(
                _INSERT_HISTORY,
                [
                    (
                        pid,
                        a.colour.value,
                        prev,
                        list(a.reasons),
                        a.priority,
                        list(a.evidence),
                        now,
                        edition,
                        *_risk_columns(risks.get(pid))[:2],
                        Jsonb(a.facts),
                    )
                    for pid, a, prev in changed
                ],
            )


def _risk_columns(risk: RiskScore | None) -> tuple[object, object, object, object]:
    """model_version, risk_probability, ascvd_10y_percent, ascvd_category of an assessment."""
    if risk is None:
        return (None, None, None, None)
    return (risk.model_version, risk.probability, risk.ascvd_10y_percent, risk.ascvd_category)


def load_risk_scores(
    conn: psycopg.Connection, *, patient_ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None
) -> dict[int, RiskScore]:
    """Last night's risk scores of the given patients (or of an id range)."""
    where, args = (
        ("patient_id = any(%s)", (list(patient_ids),))
        if patient_ids is not None
        else ("patient_id between %s and %s", id_range)
    )
    rows = conn.execute(
        "select patient_id, model_version, probability, ascvd_10y_percent, ascvd_category from risk_score"
        f" where {where}",  # one of the two fixed clauses above
        args,
    )
    return {r[0]: RiskScore(r[1], r[2], r[3], r[4]) for r in rows}


def lock_current_range(
    conn: psycopg.Connection, first: int, last: int
) -> dict[int, tuple[str, tuple[str, ...], datetime]]:
    """Current colour, reasons and assessment time of patients first..last, locked until the transaction ends."""
    rows = conn.execute(
        "select patient_id, colour, reasons, assessed_at from assessment_current where patient_id between %s and %s"
        " order by patient_id for update",
        (first, last),
    )
    return {r[0]: (r[1], tuple(r[2]), r[3]) for r in rows}


def save_bulk(
    conn: psycopg.Connection,
    *,
    assessed: Sequence[tuple[int, Assessment]],
    changed: dict[int, str | None],
    now: datetime,
    edition: str,
    risks: Mapping[int, RiskScore] | None = None,
) -> None:
    """As `save`, for many patients: COPY into a temporary table, one upsert, one insert of history rows."""
    if not assessed:
        return
    risks = risks or {}
    with conn.cursor() as cur:
        cur.execute(
            "create temp table if not exists assessed_tmp (patient_id bigint, colour text, reasons text[],"
            " priority real, evidence text[], changed boolean, previous text, model_version text,"
            " risk_probability real, ascvd_10y_percent real, ascvd_category text, reason_facts jsonb)"
            " on commit delete rows"
        )
        with cur.copy(
            "copy assessed_tmp (patient_id, colour, reasons, priority, evidence, changed, previous, model_version,"
            " risk_probability, ascvd_10y_percent, ascvd_category, reason_facts) from stdin"
        ) as copy:
            for pid, a in assessed:
                copy.write_row(
                    (
                        pid,
                        a.colour.value,
                        text_array(a.reasons),
                        a.priority,
                        text_array(a.evidence),
                        pid in changed,
                        changed.get(pid),
                        *_risk_columns(risks.get(pid)),
                        json.dumps(a.facts, ensure_ascii=False, separators=(",", ":")) if a.facts else "{}",
                    )
                )
        cur.execute(_UPSERT_FROM_TMP, {"now": now, "edition": edition})
        cur.execute(_HISTORY_FROM_TMP, {"now": now, "edition": edition})
        # A transaction may save more than once (ingest, then a staff match). DELETE, not TRUNCATE: a temporary
        # table's TRUNCATE gives it new files, several times the cost of deleting a batch's rows (6.4 against 1.9 µs
        # a reading, `cdm bench ingest --stages`); the rows dead until COMMIT are the batch's own.
        cur.execute("delete from assessed_tmp")


def text_array(items: Sequence[str]) -> str:
    """A text[] literal of the items, each quoted: psycopg's generic list dumper costs ~5x more per row in a COPY."""
    return "{" + ",".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items) + "}"


# The insert proposes a patient's stored follow-up due date (one index probe), so that the insert trigger, which fires
# for every row of an upsert before the conflict is known, computes it only for the newly assessed (NULL: migration
# 0119). The update keeps the row's date; the update trigger computes it when the colour or its start changes.
_UPSERT_FROM_TMP = """
insert into assessment_current as a (patient_id, colour, reasons, priority, evidence, assessed_at, colour_since,
                                     rules_edition, model_version, risk_probability, ascvd_10y_percent, ascvd_category,
                                     reason_facts, followup_due)
select t.patient_id, t.colour, t.reasons, t.priority, t.evidence, %(now)s, %(now)s, %(edition)s, t.model_version,
       t.risk_probability, t.ascvd_10y_percent, t.ascvd_category, t.reason_facts,
       (select c.followup_due from assessment_current c where c.patient_id = t.patient_id)
from assessed_tmp t
on conflict (patient_id) do update set colour = excluded.colour, reasons = excluded.reasons,
    reason_facts = excluded.reason_facts,
    priority = excluded.priority, evidence = excluded.evidence, assessed_at = excluded.assessed_at,
    rules_edition = excluded.rules_edition, model_version = excluded.model_version,
    risk_probability = excluded.risk_probability, ascvd_10y_percent = excluded.ascvd_10y_percent,
    ascvd_category = excluded.ascvd_category,
    colour_since = case when a.colour = excluded.colour then a.colour_since else excluded.colour_since end
"""
_HISTORY_FROM_TMP = """
insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence, assessed_at,
                                rules_edition, model_version, risk_probability, reason_facts)
select patient_id, colour, previous, reasons, priority, evidence, %(now)s, %(edition)s, model_version,
       risk_probability, reason_facts from assessed_tmp
where changed order by patient_id
"""
