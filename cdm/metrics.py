"""The Prometheus metrics every process of this system keeps (prometheus_client), and where they are written.

One endpoint for every process: each process calls `enable(settings, process=...)` before it counts anything. With
CDM_METRICS_DIR set, prometheus_client's multiprocess mode keeps each metric in memory-mapped files in that folder
(one file per process and metric type), and `cdm metrics` (app.monitor) merges the folder at every scrape. So
ingest workers, the worker and the dashboard need no port of their own, a counter survives the restart of the
process that counted it (its file stays; Prometheus sees the sum go on), and the gauges that describe a live
process ("live" modes) are dropped by the exporter once that process is gone, even after a SIGKILL. Unset, the
metrics stay in the process's own registry (tests read them there).

Cost: an update is a dictionary lookup and a float written into an mmap under a lock (about a microsecond);
ingest updates once per batch, never per message.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any

from cdm.settings import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own switch for multiprocess mode
HEARTBEAT_S = 5.0  # how often a process says it is alive; `cdm health` calls one silent for 6x this dead
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Commit to delivery: tens of milliseconds normally; the rules alert at 5 minutes, so 300 s must be a bucket edge.
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
OUTCOMES = ("stored", "unattributed", "duplicate", "quarantined")
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    """Every metric a process of this system may update (the store-derived gauges live in app.monitor)."""

    registry: Any  # prometheus_client.CollectorRegistry: this process's own metrics
    readings: Any
    batch_seconds: Any
    queue_depth: Any
    ingest_alerts: Any
    delivery_seconds: Any
    notifications: Any
    job_last_success: Any
    job_failures: Any
    scheduler_active: Any
    requests: Any
    request_seconds: Any
    heartbeat: Any


_lock = threading.Lock()
_state: dict[str, Any] = {"metrics": None, "dir": None}


def enable(settings: Settings, *, process: str) -> Path | None:
    """Write this process's metrics to CDM_METRICS_DIR (when set) and say every few seconds that it is alive.

    Call it first thing in a process, before any metric is updated; returns the folder, or None.
    """
    folder = settings.metrics_dir
    with _lock:
        if _state["metrics"] is not None and folder != _state["dir"]:
            raise RuntimeError("metrics were updated before cdm.metrics.enable(); call it first")
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            os.environ[MULTIPROC_ENV] = str(folder)  # prometheus_client reads its switch from the environment
            from prometheus_client import values

            values.ValueClass = values.get_value_class()
            atexit.register(_mark_dead, folder, os.getpid())
        _state["dir"] = folder
    _start_heartbeat(process)
    return folder


def metrics() -> Metrics:
    """The metrics of this process, created on first use (after `enable`)."""
    current = _state["metrics"]
    if current is None:
        with _lock:
            current = _state["metrics"] = _state["metrics"] or _create()
    return current


@dataclass(frozen=True)
class _Spec:
    """One metric: the `Metrics` field that holds it, its prometheus_client type, name, labels, help and options."""

    field: str
    kind: str  # "Counter", "Gauge" or "Histogram"
    name: str
    labels: tuple[str, ...] = ()
    _: KW_ONLY
    doc: str
    buckets: tuple[float, ...] | None = None  # a Histogram's
    mode: str | None = None  # a Gauge's multiprocess_mode: how the exporter merges the processes' values


# Every metric, one row each: the Metrics field, its type, its name, its labels and options, then its help text.
_SPECS = (
    _Spec("readings", "Counter", "cdm_ingest_readings", ("outcome",),
          doc="Messages ingest committed, by outcome: stored (with a patient), unattributed (stored, waiting for a"
          " patient), duplicate (a repeat of a stored reading), quarantined (refused, kept with its reason)"),
    _Spec("batch_seconds", "Histogram", "cdm_ingest_batch_seconds", buckets=BATCH_BUCKETS,
          doc="Time to store and commit one batch"),
    _Spec("queue_depth", "Gauge", "cdm_ingest_queue_depth", mode="livesum",
          doc="Messages received from the broker and not yet committed (all ingest workers of the machine)"),
    _Spec("ingest_alerts", "Counter", "cdm_ingest_alerts", doc="Alerts raised by ingest"),
    _Spec("delivery_seconds", "Histogram", "cdm_alert_delivery_seconds", ("centre",), buckets=DELIVERY_BUCKETS,
          doc="From the alert's commit (its notification's creation) to its delivery, per centre"),
    _Spec("notifications", "Counter", "cdm_notifications", ("channel", "result"),
          doc="Delivery attempts by channel and result: delivered, retry (failed, tried again later), failed (left"
          " for staff)"),
    _Spec("job_last_success", "Gauge", "cdm_scheduler_job_last_success_timestamp_seconds", ("job",), mode="max",
          doc="When each scheduled job last finished without an error (Unix time)"),
    _Spec("job_failures", "Counter", "cdm_scheduler_job_failures", ("job",), doc="Runs of a job that failed"),
    _Spec("scheduler_active", "Gauge", "cdm_scheduler_active", mode="livesum",
          doc="1 in the worker whose scheduler holds the lock (exactly one per store should)"),
    _Spec("requests", "Counter", "cdm_dashboard_requests", ("code",), doc="Requests answered, by status"),
    _Spec("request_seconds", "Histogram", "cdm_dashboard_request_seconds", buckets=REQUEST_BUCKETS,
          doc="Time to answer a request"),
    _Spec("heartbeat", "Gauge", "cdm_process_heartbeat_timestamp_seconds", ("process",), mode="liveall",
          doc="Last sign of life of each process (Unix time), every few seconds"),
)  # fmt: skip


def _create() -> Metrics:
    import prometheus_client

    reg = prometheus_client.CollectorRegistry(auto_describe=True)
    made = {spec.field: _make(prometheus_client, spec, reg) for spec in _SPECS}
    for outcome in OUTCOMES:  # every outcome shows from the start, at 0, so rate() and alerts see it
        made["readings"].labels(outcome)
    return Metrics(registry=reg, **made)


def _make(prometheus_client: Any, spec: _Spec, reg: Any) -> Any:
    options: dict[str, Any] = {"registry": reg}
    if spec.buckets is not None:
        options["buckets"] = spec.buckets
    if spec.mode is not None:
        options["multiprocess_mode"] = spec.mode
    return getattr(prometheus_client, spec.kind)(spec.name, spec.doc, spec.labels, **options)


def observe_batch(*, outcomes: dict[str, int], alerts: int, seconds: float, queue_depth: int) -> None:
    """Count one committed ingest batch."""
    m = metrics()
    for outcome, n in outcomes.items():
        if n:
            m.readings.labels(outcome).inc(n)
    if alerts:
        m.ingest_alerts.inc(alerts)
    m.batch_seconds.observe(seconds)
    m.queue_depth.set(queue_depth)


def observe_delivery(*, channel: str, centre: str, result: str, seconds: float | None) -> None:
    """Count one delivery attempt; `seconds` from commit to delivery when it was delivered."""
    m = metrics()
    m.notifications.labels(channel, result).inc()
    if seconds is not None:
        m.delivery_seconds.labels(centre).observe(max(0.0, seconds))


def observe_job(job: str, *, ok: bool) -> None:
    """Record one run of a scheduled job."""
    if ok:
        metrics().job_last_success.labels(job).set(time.time())
    else:
        metrics().job_failures.labels(job).inc()


def _start_heartbeat(process: str) -> None:
    def beat() -> None:
        gauge = metrics().heartbeat.labels(process)
        while True:
            gauge.set(time.time())
            time.sleep(HEARTBEAT_S)

    threading.Thread(target=beat, name="metrics-heartbeat", daemon=True).start()


def _mark_dead(folder: Path, pid: int) -> None:
    if os.getpid() != pid:  # a forked child inherits atexit handlers
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(folder))
