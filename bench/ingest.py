"""`cdm bench ingest`: how fast a backlog of readings drains end to end, against two baselines in the same run.

1. With ingest stopped, the simulated county's meters publish N readings (QoS 1) into persistent sessions held by
   a Mosquitto of the benchmark's own (its queue limit raised, its in-flight window twice the batch size: see
   bench/broker.py). Three sessions subscribe beforehand, so the broker keeps the same backlog for each:
   the ingest worker(s), a bare paho subscriber, and a naive subscriber.
2. `cdm ingest` starts (N worker processes share the stream through `$share/<group>/` when --workers > 1); the
   clock runs from the first reading it receives (its `received_at`) to the moment this process sees the last one
   committed (the meters' counters, written in the readings' transaction, polled every 20 ms). The path measured
   is the production one: validation, meter and patient lookup, binary COPY, the idempotent insert, the
   incremental assessment, alerts and their outbox.
3. The bare subscriber (paho, QoS 1, counts and acknowledges, nothing else) drains the same backlog:
   `bare_rps`. The naive subscriber validates each message the same way and inserts it with one commit per row
   into a copy of the readings table (same indexes): `naive_rps`, over the first --naive-readings messages.
4. A separate live run offers a fixed rate (default 2,000 readings/s) to the running ingest; each reading's
   latency is publish -> seen committed (polled every 20 ms, so up to ~20 ms of it is the poll): p50_ms, p99_ms.

`lost` counts readings published and acknowledged by the broker that were never stored; `duplicated` counts rows
beyond one per reading (the key makes it impossible; the meters' counters must agree too); `unacked` counts
messages the broker still held for ingest after the drain (each must have been acknowledged after its commit).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench import ingest_setup as setup
from bench.broker import window_for
from bench.common import bytes_per_reading, cpu_seconds, machine, percentile, postmaster_pid
from bench.ingest_baselines import DRAIN_TIMEOUT_S, bare_drain, naive_drain
from bench.ingest_baselines import client as _client
from bench.ingest_live import POLL_S, live
from bench.ingest_profile import (
    dump_statements,
    enable_pg_stat_statements,
    explain_batch,
    reset_statements,
    start_py_spy,
    stop_py_spy,
)
from cdm import db
from cdm.settings import Settings

log = logging.getLogger(__name__)

COUNTY = "bench"


def run(
    *,
    settings: Settings,
    readings: int,
    workers: int,
    live_rate: float,
    live_seconds: float,
    naive_readings: int,
    patients: int,
    profile: Path | None,
) -> dict[str, Any]:
    """Run the benchmark and return its figures (one JSON object); with `profile`, a py-spy profile of worker 0,
    pg_stat_statements and EXPLAIN of the drain go into that folder (bench.ingest_profile). The defaults are the
    command's (`cdm bench ingest`, bench/cli.py)."""
    if readings < 1 or workers < 1:
        raise ValueError("readings and workers must be positive")
    naive_readings = min(naive_readings, readings)
    with setup.stack(settings, prefix="cdm-bench-ingest-") as here:
        url = here.url
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            enable_pg_stat_statements(here.pg, url)
        bench = settings.model_copy(
            update={"database_url": url, "mqtt_url": here.broker.url, "mqtt_username": None, "mqtt_password": None,
                    "county_code": COUNTY, "ingest_share_group": "bench" if workers > 1 else None}
        )  # fmt: skip
        county, device_ids = setup.county(url, bench, patients=patients)
        backlog = setup.messages(county, readings, seed=1, first_seq=1)
        measured = _measure(bench, here, backlog=backlog, workers=workers, profile=profile)
        measured["naive"] = naive_drain(bench, url, naive_readings, device_ids)
        for client_id in ("bench-bare", "bench-naive"):
            _close_session(bench, client_id)
        live_messages = setup.live_messages(county, rate=live_rate, seconds=live_seconds, seed=2)
        measured["latencies"] = live(bench, live_messages.messages, url, rate=live_rate)
        measured["unacked"] = setup.stop_ingest(bench, here.procs, workers=workers)
        measured.update(stored=_stored(url), size=bytes_per_reading(url), postgres=_server_version(url))
    shape = {"readings": readings, "workers": workers, "live_rate": live_rate, "naive_readings": naive_readings}
    return _figures(settings, measured, backlog=backlog, county=county, **shape)


def _measure(
    bench: Settings, here: setup.Stack, *, backlog: setup.Backlog, workers: int, profile: Path | None = None
) -> dict[str, Any]:
    """Publish the backlog into every subscriber's session, then time ingest draining it, then the bare drain."""
    url, home, procs = here.url, here.home, here.procs
    readings = len(backlog.messages)
    clients = [f"bench-ingest-{i}" for i in range(workers)]
    for client_id in clients:
        _open_session(bench, client_id, shared=workers > 1)
    _open_session(bench, "bench-bare", shared=False)
    _open_session(bench, "bench-naive", shared=False)
    setup.publish(bench, backlog)
    server = {"postgres": [postmaster_pid(here.pg)], "broker": [here.broker.pid or 0]}
    if profile is not None:
        reset_statements(url)
    before = {name: cpu_seconds(pids) for name, pids in server.items()}
    started = time.time()
    spawned = [setup.spawn_ingest(bench, client_id, home / f"ingest-{i}.log") for i, client_id in enumerate(clients)]
    procs.extend(spawned)
    spy = start_py_spy(spawned[0].pid, profile / "py-spy-ingest.txt") if profile is not None else None
    before["ingest"] = _cpu_at_connect(spawned, [home / f"ingest-{i}.log" for i in range(workers)])
    done_at, polling_cpu = _wait_committed(url, readings, procs)
    cpu = {name: cpu_seconds(pids) - before[name] for name, pids in server.items()}
    cpu["postgres"] -= polling_cpu
    cpu["ingest"] = cpu_seconds([p.pid for p in spawned]) - before["ingest"]
    if profile is not None:
        stop_py_spy(spy)
        dump_statements(url, profile / "pg_stat_statements.json")
        explain_batch(url, profile / "explain.txt", patients=min(300, readings // 3))
    first = _first_received(url)
    # The bare subscriber is a thread of this process (whose main thread only waits meanwhile): this process's own
    # CPU, its children (the idle ingest workers) left out, and the broker's.
    bare_before = _own_cpu() + cpu_seconds([here.broker.pid or 0])
    bare = bare_drain(bench, readings)
    bare_cpu = _own_cpu() + cpu_seconds([here.broker.pid or 0]) - bare_before
    return {"ingest_s": done_at - (first or started), "bare": bare, "cpu": cpu, "bare_cpu": bare_cpu}


def _own_cpu() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


def _cpu_at_connect(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> float:
    """The workers' CPU seconds when each has connected (its start-up, imports included, is not the readings')."""
    return setup.wait_connected(procs, logs, each=lambda proc: cpu_seconds([proc.pid]))


def _figures(
    settings: Settings,
    measured: dict[str, Any],
    *,
    backlog: setup.Backlog,
    county: Any,
    readings: int,
    workers: int,
    live_rate: float,
    naive_readings: int,
) -> dict[str, Any]:
    """The benchmark's JSON line from what was measured."""
    latencies, (rows, keys, counted) = measured["latencies"], measured["stored"]
    bare, naive, ingest_s = measured["bare"], measured["naive"], measured["ingest_s"]
    ingest_rps = readings / ingest_s if ingest_s > 0 else 0.0
    return {
        "benchmark": "ingest",
        "ingest_rps": round(ingest_rps, 1),
        "bare_rps": round(bare, 1),
        "naive_rps": round(naive, 1),
        "ratio_to_bare": round(ingest_rps / bare, 3) if bare else None,
        "ratio_to_naive": round(ingest_rps / naive, 2) if naive else None,
        "workers": workers,
        "readings": readings,
        **_cpu_figures(measured["cpu"], measured["bare_cpu"], stored=readings, bare_readings=readings),
        "lost": readings + latencies["published"] - keys,
        "duplicated": (rows - keys) + abs(counted - rows),
        "unacked": measured["unacked"],
        "p50_ms": percentile(latencies["ms"], 50),
        "p99_ms": percentile(latencies["ms"], 99),
        "live_rate": live_rate,
        "live_readings": latencies["published"],
        "live_unseen": latencies["unseen"],
        "bytes_per_reading": measured["size"],
        "publish_rps": round(readings / backlog.published_s, 1) if backlog.published_s else None,
        "naive_readings": naive_readings,
        "batch_size": settings.ingest_batch_size,
        "flush_ms": settings.ingest_flush_ms,
        "broker_max_inflight": window_for(settings.ingest_batch_size),
        "meters": len(county.meters),
        "patients": len(county.patients),
        "postgres": measured["postgres"],
        "machine": machine(),
    }


def _cpu_figures(cpu: dict[str, float], bare_cpu: float, *, stored: int, bare_readings: int) -> dict[str, Any]:
    """CPU milliseconds per 1,000 readings: every process of the drain (ingest workers, the whole PostgreSQL
    cluster, the broker), each one's share, the bare subscriber with its broker, and the ratio."""
    per_1k = 1e6 / stored
    total = sum(cpu.values()) * per_1k
    bare = bare_cpu * 1e6 / bare_readings
    return {
        "cpu_ms_per_1k": round(total, 1),
        "cpu_ms_per_1k_by_process": {name: round(s * per_1k, 1) for name, s in sorted(cpu.items())},
        "bare_cpu_ms_per_1k": round(bare, 1),
        "cpu_ratio_to_bare": round(total / bare, 2) if bare > 0 else None,
    }


def _filter(settings: Settings, *, shared: bool) -> str:
    from cdm.payload import readings_filter

    plain = readings_filter(settings.county_code)
    return f"$share/bench/{plain}" if shared else plain


def _open_session(settings: Settings, client_id: str, *, shared: bool) -> None:
    """A persistent session subscribed to the county's readings, left offline: the broker queues for it."""
    client = _client(settings, client_id, clean=False)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    client.subscribe(_filter(settings, shared=shared), qos=1)
    if not subscribed.wait(10):
        raise RuntimeError(f"the broker did not confirm the subscription of {client_id}")
    client.disconnect()
    client.loop_stop()


def _close_session(settings: Settings, client_id: str) -> None:
    """Drop a session and its queue (a clean connection replaces it)."""
    client = _client(settings, client_id, clean=True)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def _wait_committed(url: str, n: int, procs: list[subprocess.Popen[bytes]]) -> tuple[float, float]:
    """Poll the meters' counters until n readings are committed: the wall-clock time it was seen, and the CPU
    seconds the polling's own PostgreSQL backend spent (the benchmark's, not ingest's: taken off the cluster's)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
        backend = psutil.Process(int(row[0])) if row else None
        while time.monotonic() < deadline:
            row = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
            if row and int(row[0]) >= n:
                t = backend.cpu_times() if backend is not None else None
                return time.time(), float(t.user + t.system) if t is not None else 0.0
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("an ingest worker exited during the drain; CDM_BENCH_KEEP=1 keeps its log")
            time.sleep(POLL_S)
    raise TimeoutError(f"ingest did not commit {n} readings within {DRAIN_TIMEOUT_S:.0f} s")


def _first_received(url: str) -> float | None:
    with db.connect(url) as conn:
        row = conn.execute("select extract(epoch from min(received_at)) from reading").fetchone()
    return float(row[0]) if row and row[0] is not None else None


def _stored(url: str) -> tuple[int, int, int]:
    with db.connect(url) as conn:
        row = conn.execute("select count(*), count(distinct (device_id, seq)) from reading").fetchone()
        counted = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
    assert row is not None and counted is not None
    return int(row[0]), int(row[1]), int(counted[0])


def _server_version(url: str) -> str:
    with db.connect(url) as conn:
        row = conn.execute("show server_version").fetchone()
    return str(row[0]) if row else "?"
