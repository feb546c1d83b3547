"""`cdm bench ingest --profile DIR`: where a drain's CPU goes, Python and PostgreSQL alike.

- py-spy samples ingest worker 0 for the whole drain (`py-spy record --nonblocking --format raw`: collapsed stacks,
  idle threads left out), into DIR/py-spy-ingest.txt; `summarise_stacks` folds them into the pipeline's stages.
- pg_stat_statements (loaded with `shared_preload_libraries`, which needs a restart of the benchmark's own server,
  `track = all` so the statements of functions and DO blocks count too) is reset when ingest starts and read when
  the drain is over: DIR/pg_stat_statements.json, the statements by total execution time. Its times are elapsed
  time inside the server (on a busy machine some of it is waiting for a core), its blocks exact.
- EXPLAIN (ANALYZE, BUFFERS) of the per-batch queries for one batch's patients, after the drain (the readings all
  stored, so each patient's window is as long as it gets): DIR/explain.txt.

The benchmark's figures come from runs without --profile: py-spy costs the worker a few per cent of a core.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.services import EmbeddedPostgres
from cdm import db

STATEMENTS_KEPT = 40


def enable_pg_stat_statements(pg: EmbeddedPostgres, url: str) -> None:
    """Load pg_stat_statements into the benchmark's own server (a restart) and create it in the database."""
    with db.connect(url, autocommit=True) as conn:
        conn.execute("alter system set shared_preload_libraries = 'pg_stat_statements'")
        conn.execute("alter system set pg_stat_statements.track = 'all'")
        conn.execute("alter system set pg_stat_statements.track_planning = on")
    pg.stop()
    pg.start()
    with db.connect(url, autocommit=True) as conn:
        conn.execute("create extension if not exists pg_stat_statements")


def reset_statements(url: str) -> None:
    with db.connect(url, autocommit=True) as conn:
        conn.execute("select pg_stat_statements_reset()")


def start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy recording `pid` until stop_py_spy (None when py-spy is not installed)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy is not installed (pip install py-spy): no Python profile", file=sys.stderr)
        return None
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--format", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=(out.parent / "py-spy.log").open("ab"),
    )


def stop_py_spy(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def dump_statements(url: str, out: Path) -> None:
    """The statements since the reset, by total execution time, with calls, rows and blocks."""
    with db.connect(url) as conn:
        rows = conn.execute(
            "select calls, total_exec_time, total_plan_time, rows, shared_blks_hit, shared_blks_read,"
            " shared_blks_dirtied, temp_blks_written, left(regexp_replace(query, '\\s+', ' ', 'g'), 400)"
            " from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())"
            " order by total_exec_time desc limit %s",
            (STATEMENTS_KEPT,),
        ).fetchall()
    keys = ("calls", "exec_ms", "plan_ms", "rows", "blks_hit", "blks_read", "blks_dirtied", "temp_blks", "query")
    out.write_text(
        json.dumps([dict(zip(keys, (_num(v) for v in r), strict=True)) for r in rows], ensure_ascii=False, indent=1)
    )


def _num(v: Any) -> Any:
    return round(v, 1) if isinstance(v, float) else v


def explain_batch(url: str, out: Path, *, patients: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the per-batch assessment queries for `patients` patients, rolled back."""
    from alerts.service import AlertContext
    from assess.repo import bind_summary, summary_query
    from assess.summary.repo import SummaryParams
    from cdm.settings import Settings

    rules = AlertContext.from_settings(Settings()).rules
    now = datetime.now(UTC)
    with db.connect(url) as conn:
        ids = [r[0] for r in conn.execute("select id from patient order by random() limit %s", (patients,))]
        parts = []
        queries: list[tuple[str, Any, Any]] = [
            ("summary (assess.repo.load_cases)", summary_query(by_range=False), bind_summary(
                SummaryParams(now, rules), ids, None)),
            ("current (assess.repo.load_current)", "select patient_id, colour, reasons from assessment_current"
             " where patient_id = any(%s) order by patient_id for update", (ids,)),
        ]  # fmt: skip
        for title, query, params in queries:
            with conn.cursor() as cur:
                cur.execute(b"explain (analyze, buffers) " + _bytes(query, conn), params)
                plan = "\n".join(r[0] for r in cur.fetchall())
            parts.append(f"## {title}, {len(ids)} patients\n\n{plan}\n")
        conn.rollback()
    out.write_text("\n".join(parts))


def _bytes(query: Any, conn: Any) -> bytes:
    return query.encode() if isinstance(query, str) else query.as_bytes(conn)


# Stage of a stack: the first of these names found in it, innermost first. Stacks in paho's network thread that
# match nothing here are paho's own work.
STAGES = (
    ("ack", ("ack (paho/client.py)", "_commit_and_ack")),
    ("commit", ("commit (psycopg/", "__exit__ (psycopg/transaction.py")),
    ("outbox", ("alert_changes", "fold_repeats", "lower_unconfirmed", "wake_dispatcher")),
    ("sittings", ("settle_sittings",)),
    ("assessment SQL", ("load_cases", "load_current", "load_risk_scores", "silent_reds")),
    ("assessment write", ("save_bulk", "repo.py:save")),
    ("assessment rules", ("decide_all", "case_from_row")),
    ("device counters", ("update_device_counters",)),
    ("COPY + insert", ("insert_readings", "insert_quarantine")),
    ("attribution", ("resolve (ingest/attribution",)),
    ("device lookup", ("lookup_devices",)),
    ("validation", ("decode (ingest/validate.py",)),
    ("queue", ("_take_batch", "_on_message")),
    ("paho", ("paho/",)),
)


def summarise_stacks(raw: Path) -> dict[str, float]:
    """py-spy's collapsed stacks folded into the pipeline's stages: the share of samples of each."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        frames = stack.split(";")
        counts[_stage(frames)] += int(n)
    return {k: round(100 * v / total, 1) for k, v in counts.most_common()} if total else {}


def _stage(frames: list[str]) -> str:
    for frame in reversed(frames):
        for stage, marks in STAGES:
            if any(m in frame for m in marks):
                return stage
    return "other"
