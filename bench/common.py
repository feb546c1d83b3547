"""What every benchmark shares: the machine it ran on, percentiles, a throw-away local stack."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import psutil

from app.services import EmbeddedPostgres
from app.stack import LocalStack
from cdm import db
from cdm.settings import Settings


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile in the values' unit, rounded to 0.1; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1], 1)


def machine() -> dict[str, object]:
    """The machine a figure comes from."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "os": platform.system()}


class BenchStack(LocalStack):
    """A LocalStack in a temporary folder, removed afterwards, with PostgreSQL's version for the record."""

    def __init__(self, settings: Settings, *, name: str, **kwargs: object) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix=f"cdm-bench-{name}-"))
        super().__init__(settings, data_dir=self._tmp, database=f"cdm_bench_{name}", **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        super().stop()
        if os.environ.get("CDM_BENCH_KEEP"):  # keep the processes' logs to look into a figure
            print(f"logs kept in {self._tmp / 'logs'}", file=sys.stderr)
        else:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def server_version(self) -> str:
        with db.connect(self.url) as conn:
            row = conn.execute("show server_version").fetchone()
        return str(row[0]) if row else "?"

    def stored_readings(self) -> int:
        with db.connect(self.url) as conn:
            row = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
        return int(row[0]) if row else 0


def bytes_per_reading(url: str) -> float | None:
    """Table, indexes and TOAST of every readings partition, per stored reading (None while there is none)."""
    with db.connect(url) as conn:
        row = conn.execute(
            "select (select coalesce(sum(pg_total_relation_size(inhrelid)), 0) from pg_inherits"
            " where inhparent = 'reading'::regclass) + pg_total_relation_size('reading'),"
            " (select count(*) from reading)"
        ).fetchone()
    return round(int(row[0]) / int(row[1]), 1) if row and row[1] else None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes, their live descendants and the children they have reaped.

    Read by psutil from /proc/<pid>/stat (utime, stime, cutime, cstime; clock ticks of 10 ms): for PostgreSQL's
    postmaster this covers every backend of the cluster, living (its children) or exited (reaped, so counted in
    its cutime/cstime). Take it before and after a phase; the difference is the phase's CPU.
    """
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            t = proc.cpu_times()
            children = proc.children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
        for child in children:
            try:  # a child that exits meanwhile is counted in its parent's reaped time once it has been waited for
                c = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += c.user + c.system
    return total


def postmaster_pid(pg: EmbeddedPostgres) -> int:
    """The pid of an embedded PostgreSQL's postmaster (parent of every process of the cluster)."""
    return int((pg.data_dir / "postmaster.pid").read_text().splitlines()[0])
