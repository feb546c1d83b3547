"""`cdm bench ingest --stages`: the CPU of one reading, stage by stage, in Python and in PostgreSQL.

No broker: the simulated county's readings go straight into `ingest.batch.process_batch`, in batches of
CDM_INGEST_BATCH_SIZE, each committed, as the worker does after taking them off the broker. Each stage is wrapped
to take this process's CPU time (`time.process_time`) and the CPU time of the connection's PostgreSQL backend
(psutil, /proc/<pid>/stat: 10 ms ticks, so a stage's figure is good summed over many batches, not for one)
before and after it. Printed per reading in microseconds. paho's and the broker's share (receiving, acknowledging)
are what the bare subscriber of `cdm bench ingest` costs (`bare_cpu_ms_per_1k`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from app.services import EmbeddedPostgres
from bench.common import machine
from cdm import db
from cdm.settings import Settings

# (module, function, stage): each wrapped where process_batch and assess_and_alert look it up.
STAGES = (
    ("ingest.batch", "decode", "validation"),
    ("ingest.batch", "resolve", "attribution"),
    ("ingest.batch", "repo.insert_readings", "COPY + insert"),
    ("ingest.batch", "repo.update_device_counters", "device counters"),
    ("assess.service", "repo.load_current", "assessment: current rows"),
    ("assess.service", "repo.load_cases", "assessment: summary query"),
    ("assess.service", "repo.load_risk_scores", "assessment: risk scores"),
    ("assess.service", "decide_all", "assessment: rules"),
    ("assess.service", "repo.save_bulk", "assessment: write-back"),
    ("alerts.service", "alert_changes", "alerts + outbox"),
    ("alerts.service", "fold_repeats", "alerts + outbox"),
    ("alerts.service", "_silent_reds", "alerts + outbox"),
    ("alerts.service", "settle_sittings", "sittings"),
)

PER_MESSAGE = {"validation"}


class _Clock:
    def __init__(self, backend: psutil.Process) -> None:
        self.backend = backend
        self.py: dict[str, float] = defaultdict(float)
        self.pg: dict[str, float] = defaultdict(float)
        self.depth = 0

    def pg_now(self) -> float:
        t = self.backend.cpu_times()
        return float(t.user + t.system)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.depth:  # nested in a timed stage: that one counts it
            yield
            return
        self.depth += 1
        # A stage called for each message (validation) does no I/O: reading the backend's /proc file around it
        # would cost more than the stage.
        per_message = name in PER_MESSAGE
        py, pg = time.process_time(), 0.0 if per_message else self.pg_now()
        try:
            yield
        finally:
            self.py[name] += time.process_time() - py
            if not per_message:
                self.pg[name] += self.pg_now() - pg
            self.depth -= 1


def _wrap(clock: _Clock, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        with clock.stage(name):
            return fn(*args, **kwargs)

    return timed


def run(*, settings: Settings, readings: int = 50_000, patients: int = 3_000) -> dict[str, Any]:
    """Store `readings` through process_batch and return the CPU per reading of each stage (one JSON object)."""
    from bench import ingest_setup as setup
    from ingest.batch import IngestContext, process_batch
    from ingest.message import InboundMessage

    home = Path(tempfile.mkdtemp(prefix="cdm-bench-stages-"))
    pg = EmbeddedPostgres(home / "pg")
    patched: list[tuple[Any, str, Any]] = []
    try:
        url = setup.database(pg)
        bench = settings.model_copy(update={"database_url": url, "county_code": "bench"})
        county, _ = setup.county(url, bench, patients=patients)
        messages = setup.messages(county, readings, seed=1, first_seq=1).messages
        ctx = IngestContext.from_settings(bench)
        size = bench.ingest_batch_size
        with db.connect(url, app="cdm-ingest") as conn:
            row = conn.execute("select pg_backend_pid()").fetchone()
            assert row is not None
            clock = _Clock(psutil.Process(int(row[0])))
            patched.extend(_patch_stages(clock))
            total_py, total_pg = time.process_time(), clock.pg_now()
            for start in range(0, len(messages), size):
                if start == size:  # the first batch warms up (imports, pydantic, prepared statements): not counted
                    clock.py.clear()
                    clock.pg.clear()
                    total_py, total_pg = time.process_time(), clock.pg_now()
                now = datetime.now(UTC)
                batch = [InboundMessage(i, 1, topic, payload, now) for i, (topic, payload) in
                         enumerate(messages[start : start + size], start=start)]  # fmt: skip
                with conn.transaction():
                    process_batch(conn, batch, ctx=ctx)
            total_py, total_pg = time.process_time() - total_py, clock.pg_now() - total_pg
    finally:
        for owner, leaf, original in reversed(patched):
            setattr(owner, leaf, original)
        pg.stop()
        shutil.rmtree(home, ignore_errors=True)
    per = 1e6 / max(1, readings - size)
    rest_py, rest_pg = total_py - sum(clock.py.values()), total_pg - sum(clock.pg.values())
    stages = {name: {"py_us": round(clock.py[name] * per, 1), "pg_us": round(clock.pg[name] * per, 1)}
              for _, _, name in STAGES}  # fmt: skip
    stages["rest (BEGIN, COMMIT, the batch's own work)"] = {
        "py_us": round(rest_py * per, 1),
        "pg_us": round(rest_pg * per, 1),
    }
    return {
        "benchmark": "ingest_stages",
        "readings": readings,
        "patients": patients,
        "batch_size": size,
        "py_us_per_reading": round(total_py * per, 1),
        "pg_us_per_reading": round(total_pg * per, 1),
        "stages": stages,
        "machine": machine(),
    }


def _patch_stages(clock: _Clock) -> list[tuple[Any, str, Any]]:
    """Wrap each stage's function with the clock; (owner, name, original) of each, to put back."""
    import importlib

    patched = []
    for module_name, attr, name in STAGES:
        owner: Any = importlib.import_module(module_name)
        *path, leaf = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        patched.append((owner, leaf, getattr(owner, leaf)))
        setattr(owner, leaf, _wrap(clock, getattr(owner, leaf), name))
    return patched
