"""Rescore every patient from the store back into the store: id ranges in parallel processes, short chunks.

Each process streams the summaries of its id range from one query (a server-side cursor on a reading
connection, which holds no row locks) and writes them back on a second connection, one transaction per chunk:
the chunk's current rows locked, the colours decided, COPY into a temporary table, one upsert, history rows only
for changes, the caller's `on_changes` (alerts), commit.

A patient whose current assessment was made within IN_FLIGHT of this run's `now`, or later, is left as it is:
an ingest transaction may have assessed it with a reading this run's snapshot does not hold.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from cdm import db
from models import repo
from models.rules import RuleSettings
from models.scoring import OnChanges, decide_all, summary_params
from models.summary_repo import case_from_row

log = logging.getLogger(__name__)

CHUNK = 10_000  # patients per write transaction: ~0.3 s of row locks, few enough round trips
IN_FLIGHT = timedelta(minutes=1)  # far longer than any ingest transaction


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
        row = conn.execute("select min(id), max(id) from patient").fetchone()
    if row is None or row[0] is None:
        return RescoreTotals(0, 0, 0, 0, 0.0)
    lo, hi = int(row[0]), int(row[1])
    step = (hi - lo) // workers + 1
    ranges = [(a, min(a + step - 1, hi)) for a in range(lo, hi + 1, step)]
    args = [(url, r, now, rules, chunk, on_changes) for r in ranges]
    if len(ranges) == 1:
        parts = [_rescore_range(*args[0])]
    else:
        # spawn, not fork: the caller may hold threads (the scheduler) and open connections
        with ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_rescore_range, *zip(*args, strict=True)))
    return RescoreTotals(
        patients=sum(p[0] for p in parts),
        changes=sum(p[1] for p in parts),
        skipped=sum(p[2] for p in parts),
        failed_chunks=sum(p[3] for p in parts),
        seconds=round(time.perf_counter() - started, 3),
    )


def _rescore_range(
    url: str,
    id_range: tuple[int, int],
    now: datetime,
    rules: RuleSettings,
    chunk: int,
    on_changes: OnChanges | None,
) -> tuple[int, int, int, int]:
    done = changed = skipped = failed = 0
    params = summary_params(now, rules)
    with db.connect(url, app="cdm-rescore") as reader, db.connect(url, app="cdm-rescore") as writer:
        reader.read_only = True
        with reader.transaction(), reader.cursor(name="cdm_summaries") as cur:
            cur.itersize = chunk
            cur.execute(repo.summary_query(by_range=True), repo.bind_summary(params, None, id_range))
            while rows := cur.fetchmany(chunk):
                cases = [case_from_row(r) for r in rows]
                try:
                    with writer.transaction():
                        counts = _write_chunk(writer, cases, now=now, rules=rules, on_changes=on_changes)
                except Exception:  # one chunk's failure must not stop the rest of the county
                    failed += 1
                    log.exception("rescore failed for patients %s..%s", cases[0][0].patient_id, cases[-1][0].patient_id)
                    continue
                done, changed, skipped = done + counts[0], changed + counts[1], skipped + counts[2]
    return done, changed, skipped, failed


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
