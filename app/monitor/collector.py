"""What `cdm metrics` serves: every process's metrics merged from CDM_METRICS_DIR, and gauges read from the store
at scrape time (outbox backlog, meters offline, patients by colour) through app.monitor.repo."""

from __future__ import annotations

import glob
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.monitor import repo
from cdm import db

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 5_000  # a scrape must never hang on a busy store; Prometheus times out at 10 s by default
_LIVE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def prune_dead(folder: Path) -> list[int]:
    """Drop the live-gauge files of processes that are gone (a SIGKILL leaves them behind); the pids dropped."""
    dead = sorted(
        {
            int(m.group(1))
            for name in os.listdir(folder)
            if (m := _LIVE_FILE.match(name)) and not pid_alive(int(m.group(1)))
        }
    )
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(folder))
    return dead


class ProcessesCollector(Collector):
    """Every process's metrics from the shared folder, merged (counters and histograms summed over processes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def collect(self) -> Iterator[Any]:
        prune_dead(self.folder)
        files = glob.glob(os.path.join(self.folder, "*.db"))
        return iter(multiprocess.MultiProcessCollector.merge(files, accumulate=True))


class StoreCollector(Collector):
    """Gauges the store answers at scrape time; `cdm_store_up` 0 (and nothing else) when it does not."""

    def __init__(self, url: str) -> None:
        self.url = psycopg.conninfo.make_conninfo(
            url, connect_timeout=CONNECT_TIMEOUT_S, options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
        )

    def describe(self) -> list[Any]:
        return []  # no query at registration time

    def collect(self) -> Iterator[Any]:
        started = time.perf_counter()
        up = GaugeMetricFamily("cdm_store_up", "1 when the store answered this scrape's queries")
        try:
            with db.connect(self.url, autocommit=True, app="cdm-metrics") as conn:
                figures = repo.store_figures(conn)
        except psycopg.Error as exc:
            log.warning("metrics: the store did not answer (%s)", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge(
            "cdm_outbox_pending", "Notifications not yet delivered (pending or being sent)", figures.outbox_pending
        )
        yield _gauge(
            "cdm_outbox_oldest_pending_seconds",
            "Age of the oldest notification not yet delivered (0 when none waits)",
            figures.outbox_oldest_s,
        )
        yield _gauge("cdm_devices_offline", "Meters in service marked offline", figures.devices_offline)
        yield _gauge("cdm_devices_total", "Meters in service (registered, not revoked)", figures.devices_total)
        colours = GaugeMetricFamily("cdm_patients_by_colour", "Patients by current colour", labels=["colour"])
        for colour in ("green", "yellow", "red"):
            colours.add_metric([colour], figures.colours.get(colour, 0))
        yield colours
        yield _gauge(
            "cdm_store_scrape_seconds", "Time the store took to answer this scrape", time.perf_counter() - started
        )


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
