"""`cdm metrics` (one endpoint for every process of the machine) and `cdm health` (is each process working?)."""

from __future__ import annotations

import glob
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import psycopg
from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from app.monitor import repo
from app.monitor.collector import CONNECT_TIMEOUT_S, ProcessesCollector, StoreCollector, prune_dead
from cdm import db
from cdm.metrics import HEARTBEAT_S
from cdm.mqtt import configure, endpoint
from cdm.settings import Settings

log = logging.getLogger(__name__)

PROCESSES = ("ingest", "worker", "dashboard")
STALE_AFTER_S = 6 * HEARTBEAT_S  # a process silent this long is taken for dead (or hung)
BROKER_TIMEOUT_S = 5.0
HEARTBEAT_METRIC = "cdm_process_heartbeat_timestamp_seconds"


def build_registry(settings: Settings) -> CollectorRegistry:
    """The registry `cdm metrics` serves: every process's metrics (CDM_METRICS_DIR) and the store's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.metrics_dir is not None:
        registry.register(ProcessesCollector(settings.metrics_dir))
    else:
        log.warning("CDM_METRICS_DIR is not set: only the store's gauges are served")
    if settings.database_url:
        registry.register(StoreCollector(settings.database_url))
    return registry


def serve(settings: Settings, *, stop: threading.Event) -> None:
    """Serve /metrics on CDM_METRICS_HOST:CDM_METRICS_PORT until `stop` is set."""
    httpd, thread = start_http_server(settings.metrics_port, settings.metrics_host, registry=build_registry(settings))
    log.info("metrics on http://%s:%s/metrics", settings.metrics_host, httpd.server_port)
    try:
        stop.wait()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Check:
    """One thing `cdm health` looked at."""

    name: str
    ok: bool
    detail: str


def check_store(settings: Settings) -> Check:
    """The store answers, and says which migration it is at."""
    started = time.perf_counter()
    try:
        url = psycopg.conninfo.make_conninfo(settings.database_url or "", connect_timeout=CONNECT_TIMEOUT_S)
        with db.connect(url, autocommit=True, app="cdm-health") as conn:
            version = repo.schema_version(conn)
    except psycopg.Error as exc:
        return Check("store", False, str(exc).strip().splitlines()[0][:200])
    ms = (time.perf_counter() - started) * 1000
    return Check("store", version is not None, f"migration {version}, {ms:.0f} ms" if version else "no schema")


def check_broker(settings: Settings, url: str) -> Check:
    """The broker at `url` accepts this machine's credentials (a CONNACK within a few seconds)."""
    host, port, _ = endpoint(url)
    accepted = threading.Event()
    result: list[str] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cdm-health-{os.getpid()}", clean_session=True)
    configure(client, settings, url=url)

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        result.append(str(reason))
        if not getattr(reason, "is_failure", False):
            accepted.set()

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=10)
        client.loop_start()
        ok = accepted.wait(BROKER_TIMEOUT_S)
    except OSError as exc:
        return Check(f"broker {host}:{port}", False, str(exc))
    finally:
        client.disconnect()
        client.loop_stop()
    return Check(f"broker {host}:{port}", ok, result[0] if result else "no answer")


def heartbeats(settings: Settings) -> dict[str, list[float]]:
    """Seconds since each live process of each kind on this machine last said it was alive."""
    folder = settings.metrics_dir
    if folder is None or not folder.is_dir():
        return {}
    prune_dead(folder)
    files = glob.glob(os.path.join(folder, "gauge_liveall_*.db"))
    ages: dict[str, list[float]] = {}
    now = time.time()
    for family in multiprocess.MultiProcessCollector.merge(files, accumulate=False):
        if family.name != HEARTBEAT_METRIC:
            continue
        for sample in family.samples:
            ages.setdefault(sample.labels.get("process", "?"), []).append(round(now - sample.value, 1))
    return ages


def check_process(settings: Settings, process: str, ages: dict[str, list[float]]) -> Check:
    """At least one `process` of this machine said it was alive within the last STALE_AFTER_S seconds."""
    if settings.metrics_dir is None:
        return Check(process, False, "CDM_METRICS_DIR is not set: processes cannot be seen")
    fresh = [a for a in ages.get(process, []) if a <= STALE_AFTER_S]
    return Check(process, bool(fresh), f"{len(fresh)} running" + (f", last heard {min(fresh)} s ago" if fresh else ""))


def check_dashboard(settings: Settings) -> Check:
    """The dashboard's /healthz answers 200 (it checks the store through its own pool)."""
    host = "127.0.0.1" if settings.dashboard_host in ("0.0.0.0", "::", "") else settings.dashboard_host
    url = f"http://{host}:{settings.dashboard_port}/healthz"
    try:
        response = httpx.get(url, timeout=BROKER_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return Check("dashboard /healthz", False, f"{url}: {exc}")
    return Check("dashboard /healthz", response.status_code == 200, f"{url}: {response.status_code}")


def health(settings: Settings, *, process: str = "all") -> dict[str, Any]:
    """Everything `cdm health` checks for one process (or all of them): {"ok": …, "checks": [...]}."""
    wanted = PROCESSES if process == "all" else (process,)
    checks = [check_store(settings)]
    if "ingest" in wanted:
        checks += [check_broker(settings, url) for url in settings.mqtt_urls]
    ages = heartbeats(settings)
    checks += [check_process(settings, p, ages) for p in wanted]
    if "dashboard" in wanted:
        checks.append(check_dashboard(settings))
    return {"ok": all(c.ok for c in checks), "process": process, "checks": [asdict(c) for c in checks]}
