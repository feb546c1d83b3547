"""Assessing patients from the store and keeping the result: the rules (pure) joined to their queries.

Every path reads summaries computed by the store (assess.summary.repo), never raw readings in Python:
`rescore` for the few patients of one ingest batch, a visit or a match, inside the caller's transaction;
`rescore_all` for everyone (the nightly job, the benchmark), in id ranges processed in parallel, one short
transaction per chunk. What follows from a change of colour (alerts) is the alert stage's: alerts.service.

`rescore_all`: the patients are cut into chunks of consecutive ids, dealt round-robin to the processes. Each
process reads the summaries of its next chunk on one connection and writes the previous one on a second, each in
a thread of its own, while it decodes the current one, so the store's work and Python's overlap. A write is one
transaction per chunk: the chunk's current rows locked, the colours decided, COPY into a temporary table, one
upsert, history rows only for changes, the caller's `on_changes` (alerts), commit. A patient whose current
assessment was made within IN_FLIGHT of this run's `now`, or later, is left as it is: an ingest transaction may
have assessed it with a reading this run's snapshot does not hold.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from assess import repo
from assess.risk.policy import apply_model
from assess.rules import RuleSettings, decide, sitting_verdict
from assess.summary.logic import Summary, evidence_item, sitting_mean, sittings, urgent_reasons
from assess.summary.repo import SummaryParams, case_from_row
from cdm import db
from cdm.domain import (
    Assessment,
    Change,
    Colour,
    PatientProfile,
    Reading,
    ReadingKind,
    RiskScore,
    SittingQuestion,
    SittingVerdicts,
)

log = logging.getLogger(__name__)

OnChanges = Callable[[psycopg.Connection, list[Change]], object]


# Patients per summary query in `rescore`. The query's cost per patient grows with the patients it is asked for
# (its CTEs' row estimates are far off, and the plans for many ids scale worse than linearly): measured with
# `cdm bench ingest --stages` (30,000 readings, 3,000 patients, batches of 500, about 266 patients each), the summary
# cost 126 us of PostgreSQL CPU a reading as one query, 62 in chunks of 100, 49 in chunks of 50, 52 in chunks of 25
# (and the Python side 13, 19, 21, 28 us: more round trips). Ids are sorted, so the rows come in one query's order.
SUMMARY_CHUNK = 50


def rescore(
    conn: psycopg.Connection, *, patient_ids: Iterable[int], now: datetime, rules: RuleSettings
) -> list[Change]:
    """Assess the given patients as of `now` inside the caller's transaction; return the changes."""
    ids = sorted(set(patient_ids))
    if not ids:
        return []
    current = repo.load_current(conn, ids)
    params = SummaryParams(now, rules)
    cases = [
        case
        for at in range(0, len(ids), SUMMARY_CHUNK)
        for case in repo.load_cases(conn, params=params, patient_ids=ids[at : at + SUMMARY_CHUNK])
    ]
    risks = repo.load_risk_scores(conn, patient_ids=ids)
    assessed, changes = decide_all(cases, current, now=now, rules=rules, risks=risks)
    if issubclass(conn.cursor_factory, psycopg.ClientCursor):
        # Client-side binding (the TimescaleDB test server, a WASM build that COPY crashes): row-by-row upserts.
        repo.save(
            conn,
            assessed=assessed,
            now=now,
            edition=rules.thresholds.edition,
            changed=[(c.patient_id, c.assessment, c.previous.value if c.previous else None) for c in changes],
            risks=risks,
        )
    else:  # COPY and one upsert: half the cost of the row-by-row upserts in a batch of ingest
        repo.save_bulk(
            conn,
            assessed=assessed,
            now=now,
            edition=rules.thresholds.edition,
            changed={c.patient_id: c.previous.value if c.previous else None for c in changes},
            risks=risks,
        )
    return changes


def decide_all(
    cases: Sequence[tuple[PatientProfile, Summary]],
    current: dict[int, tuple[str, tuple[str, ...]]],
    *,
    now: datetime,
    rules: RuleSettings,
    risks: Mapping[int, RiskScore] | None = None,
) -> tuple[list[tuple[int, Assessment]], list[Change]]:
    """Each patient's assessment, and the changes against `current` (colour, reasons) of each patient.

    The rules decide; last night's model probability (when a model has scored the patient) may then raise the
    priority or turn green to yellow, never lower a rule's red (assess.risk.policy).
    """
    risks = risks or {}
    assessed: list[tuple[int, Assessment]] = []
    changes: list[Change] = []
    for profile, summary in cases:
        pid = profile.patient_id
        try:
            result = decide(profile=profile, summary=summary, now=now, rules=rules)
            risk = risks.get(pid)
            if risk is not None and risk.model_version is not None:
                result = apply_model(result, probability=risk.probability)
        except Exception:  # one patient's bad data must not stop the others' assessment
            log.exception("assessment failed for patient id %s", pid)
            continue
        assessed.append((pid, result))
        before = current.get(pid)
        if before is None or before != (result.colour.value, result.reasons):
            changes.append(Change(pid, Colour(before[0]) if before else None, result))
    return assessed, changes


CHUNK = 10_000  # patients per query and per write transaction: ~0.3 s of row locks, few enough round trips
IN_FLIGHT = timedelta(minutes=1)  # far longer than any ingest transaction
# The summary of a chunk sorts and groups its readings (~25 a patient); in the default 4 MB the sorts spill to
# disk. Set for the reading transaction only.
READER_WORK_MEM = "64MB"
# The processes already keep both cores busy; a parallel plan for one chunk only adds workers that compete.
READER_PARALLEL_WORKERS = 0


@dataclass(frozen=True, slots=True)
class RescoreTotals:
    """What a full rescore did."""

    patients: int
    changes: int
    skipped: int  # assessed by ingest meanwhile
    failed_chunks: int
    seconds: float


def rescore_all(
    url: str,
    *,
    now: datetime,
    rules: RuleSettings,
    workers: int = 2,
    chunk: int = CHUNK,
    on_changes: OnChanges | None = None,
) -> RescoreTotals:
    """Assess every patient as of `now`; `on_changes(conn, changes)` runs in each chunk's transaction."""
    started = time.perf_counter()
    with db.connect(url, app="cdm-rescore") as conn:
        bounds = repo.patient_id_range(conn)
    if bounds is None:
        return RescoreTotals(0, 0, 0, 0, 0.0)
    lo, hi = bounds
    ranges = [(a, min(a + chunk - 1, hi)) for a in range(lo, hi + 1, chunk)]
    shares = [ranges[i :: max(workers, 1)] for i in range(min(max(workers, 1), len(ranges)))]
    args = [(url, share, now, rules, on_changes) for share in shares]
    if len(shares) == 1:
        parts = [_rescore_ranges(*args[0])]
    else:
        # spawn, not fork: the caller may hold threads (the scheduler) and open connections
        with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_rescore_ranges, *zip(*args, strict=True)))
    return RescoreTotals(
        patients=sum(p[0] for p in parts),
        changes=sum(p[1] for p in parts),
        skipped=sum(p[2] for p in parts),
        failed_chunks=sum(p[3] for p in parts),
        seconds=round(time.perf_counter() - started, 3),
    )


def _rescore_ranges(
    url: str,
    ranges: list[tuple[int, int]],
    now: datetime,
    rules: RuleSettings,
    on_changes: OnChanges | None,
) -> tuple[int, int, int, int]:
    """Read, decode and write the ranges as a pipeline: the store reads chunk k+1 and writes chunk k-1 while
    Python decodes chunk k."""
    totals = [0, 0, 0, 0]  # done, changed, skipped, failed
    params = SummaryParams(now, rules)
    with (
        db.connect(url, app="cdm-rescore") as reader,
        db.connect(url, app="cdm-rescore") as writer,
        ThreadPoolExecutor(1) as reading,
        ThreadPoolExecutor(1) as writing,
    ):
        reader.read_only = True
        ahead: Future[list[tuple[Any, ...]]] | None = None
        written: Future[None] | None = None
        for at, id_range in enumerate(ranges):
            rows_of = ahead or reading.submit(_summaries, reader, params, id_range)
            ahead = reading.submit(_summaries, reader, params, ranges[at + 1]) if at + 1 < len(ranges) else None
            try:
                cases = [case_from_row(r) for r in rows_of.result()]
            except Exception:  # one chunk's failure must not stop the rest of the county
                totals[3] += 1
                log.exception("rescore failed to read patients %s..%s", *id_range)
                continue
            if written is not None:
                written.result()
            written = writing.submit(_write, writer, cases, id_range, totals, now, rules, on_changes) if cases else None
        if written is not None:
            written.result()
    return totals[0], totals[1], totals[2], totals[3]


def _write(
    conn: psycopg.Connection,
    cases: list,
    id_range: tuple[int, int],
    totals: list[int],
    now: datetime,
    rules: RuleSettings,
    on_changes: OnChanges | None,
) -> None:
    try:
        with conn.transaction():
            counts = _write_chunk(conn, cases, now=now, rules=rules, on_changes=on_changes)
    except Exception:  # one chunk's failure must not stop the rest of the county
        totals[3] += 1
        log.exception("rescore failed for patients %s..%s", *id_range)
        return
    for i, n in enumerate(counts):
        totals[i] += n


def _summaries(conn: psycopg.Connection, params: SummaryParams, id_range: tuple[int, int]) -> list[tuple[Any, ...]]:
    """The summary rows of one id range, read in a short read-only transaction of their own."""
    with conn.transaction():
        return repo.summary_rows(
            conn, params, id_range, work_mem=READER_WORK_MEM, parallel_workers=READER_PARALLEL_WORKERS
        )


def _write_chunk(
    conn: psycopg.Connection, cases: list, *, now: datetime, rules: RuleSettings, on_changes: OnChanges | None
) -> tuple[int, int, int]:
    first, last = cases[0][0].patient_id, cases[-1][0].patient_id
    locked = repo.lock_current_range(conn, first, last)
    fresh = {pid for pid, (_, _, at) in locked.items() if at > now - IN_FLIGHT}
    todo = [c for c in cases if c[0].patient_id not in fresh]
    current = {pid: (colour, reasons) for pid, (colour, reasons, _) in locked.items()}
    risks = repo.load_risk_scores(conn, id_range=(first, last))
    assessed, changes = decide_all(todo, current, now=now, rules=rules, risks=risks)
    repo.save_bulk(
        conn,
        assessed=assessed,
        changed={c.patient_id: c.previous.value if c.previous else None for c in changes},
        now=now,
        edition=rules.thresholds.edition,
        risks=risks,
    )
    if on_changes is not None and changes:
        on_changes(conn, changes)
    return len(assessed), len(changes), len(fresh)


# Alerts older than this are not looked at again: a sitting lasts minutes, so one still unsettled after a day has
# no critical BP reading to judge (its evidence names none), and must not cost every batch a look for ever.
SITTING_HORIZON = timedelta(days=1)
NEVER = datetime.max.replace(tzinfo=UTC)


def sitting_verdicts(
    conn: psycopg.Connection, questions: Sequence[SittingQuestion], *, now: datetime, rules: RuleSettings
) -> SittingVerdicts:
    """Whether the sitting of each alert's critical BP reading confirmed it, once that sitting is complete.

    The critical reading is the latest critical BP reading among the alert's evidence; its sitting is complete when
    a later reading of the patient closed it or the sitting gap has passed since its last reading (assess.rules
    .sitting_verdict). An undecided sitting reports until when it stays open; an alert whose evidence names no
    critical BP reading has nothing to judge and stays open for ever (only the patient's own batches look again).
    """
    verdicts = SittingVerdicts({}, {})
    if not questions:
        return verdicts
    since = min(q.opened_at for q in questions) - SITTING_HORIZON
    readings = repo.load_readings(conn, sorted({q.patient_id for q in questions}), since=since)
    for q in questions:
        bp = [r for r in readings.get(q.patient_id, []) if r.kind is ReadingKind.BP]
        critical = _critical(bp, set(q.evidence), rules)
        if critical is None:
            verdicts.open_until[q.alert_id] = NEVER
            continue
        verdict = sitting_verdict(bp=bp, critical=critical, now=now, rules=rules)
        if verdict is None:
            verdicts.open_until[q.alert_id] = max(r.measured_at for r in bp) + rules.sitting_gap
        else:
            verdicts.confirmed[q.alert_id] = verdict
            if not verdict:
                sbp, dbp = sitting_mean(next(s for s in sittings(bp, rules.sitting_gap) if critical in s))
                verdicts.means[q.alert_id] = (round(sbp), round(dbp))
    return verdicts


def _critical(bp: list[Reading], evidence: set[str], rules: RuleSettings) -> Reading | None:
    """The alert's critical reading: the latest critical BP reading its evidence names."""
    named = [
        r for r in bp if f"{r.device_uid}:{r.seq}" in evidence and "bp_critical" in urgent_reasons(r, rules.thresholds)
    ]
    return max(named, key=evidence_item, default=None)
