"""`cdm bench ingest`: how fast a backlog of readings drains end to end, against two baselines in the same run.

1. With ingest stopped, the simulated county's meters publish N readings (QoS 1) into persistent sessions held by
   a Mosquitto of the benchmark's own (its queue limit raised, its in-flight window twice the batch size: see
   cdm/bench/broker.py). Three sessions subscribe beforehand, so the broker keeps the same backlog for each:
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
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from cdm import db
from cdm.bench.broker import Mosquitto, window_for
from cdm.bench.common import machine, percentile
from cdm.services import EmbeddedPostgres, stop_process, with_database
from cdm.settings import Settings

log = logging.getLogger(__name__)

COUNTY = "bench"
DATABASE = "cdm_bench_ingest"
POLL_S = 0.02
DRAIN_TIMEOUT_S = 900.0
LIVE_SEQ_BASE = 10**12  # the live run's sequence numbers, above the backlog's
UNACKED_MAX = 50_000  # paho numbers outstanding messages with 16 bits: let the broker catch up before 65,535


@dataclass
class _Backlog:
    messages: list[tuple[str, bytes]]
    published_s: float = 0.0


@dataclass
class _Counter:
    """A bare subscriber's tally: how many, when the first and the last arrived."""

    target: int
    n: int = 0
    first: float | None = None
    last: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


def run(
    *,
    settings: Settings,
    readings: int = 300_000,
    workers: int = 1,
    live_rate: float = 2_000.0,
    live_seconds: float = 20.0,
    naive_readings: int = 30_000,
    patients: int = 3_000,
) -> dict[str, Any]:
    """Run the benchmark and return its figures (one JSON object)."""
    if readings < 1 or workers < 1:
        raise ValueError("readings and workers must be positive")
    naive_readings = min(naive_readings, readings)
    home = Path(tempfile.mkdtemp(prefix="cdm-bench-ingest-"))
    pg = EmbeddedPostgres(home / "pg")
    broker = Mosquitto(home / "broker", max_inflight=window_for(settings.ingest_batch_size))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = _database(pg)
        broker.start()
        bench = settings.model_copy(
            update={
                "database_url": url,
                "mqtt_url": broker.url,
                "mqtt_username": None,
                "mqtt_password": None,
                "county_code": COUNTY,
                "ingest_share_group": "bench" if workers > 1 else None,
            }
        )
        county, device_ids = _county(url, bench, patients=patients)
        backlog = _messages(county, readings, seed=1, first_seq=1)
        clients = [f"bench-ingest-{i}" for i in range(workers)]
        for client_id in clients:
            _open_session(bench, client_id, shared=workers > 1)
        _open_session(bench, "bench-bare", shared=False)
        _open_session(bench, "bench-naive", shared=False)
        _publish(bench, backlog)

        started = time.time()
        procs = [_spawn_ingest(bench, client_id, home / f"ingest-{i}.log") for i, client_id in enumerate(clients)]
        done_at = _wait_committed(url, readings, procs)
        first = _first_received(url)
        ingest_s = done_at - (first or started)

        bare = _bare_drain(bench, readings)
        naive = _naive_drain(bench, url, naive_readings, device_ids)
        for client_id in ("bench-bare", "bench-naive"):
            _close_session(bench, client_id)

        latencies = _live(bench, county, url, rate=live_rate, seconds=live_seconds)

        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            stop_process(proc, timeout=30)
        unacked = sum(_leftover(bench, client_id) for client_id in clients)
        stored = _stored(url)
        size = _bytes_per_reading(url)
        postgres = _server_version(url)
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop_process(proc)
        broker.stop()
        pg.stop()
        if os.environ.get("CDM_BENCH_KEEP"):
            print(f"logs kept in {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)

    live_total = latencies["published"]
    rows, keys, counted = stored
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
        "lost": readings + live_total - keys,
        "duplicated": (rows - keys) + abs(counted - rows),
        "unacked": unacked,
        "p50_ms": percentile(latencies["ms"], 50),
        "p99_ms": percentile(latencies["ms"], 99),
        "live_rate": live_rate,
        "live_readings": live_total,
        "live_unseen": latencies["unseen"],
        "bytes_per_reading": size,
        "publish_rps": round(readings / backlog.published_s, 1) if backlog.published_s else None,
        "naive_readings": naive_readings,
        "batch_size": settings.ingest_batch_size,
        "flush_ms": settings.ingest_flush_ms,
        "broker_max_inflight": window_for(settings.ingest_batch_size),
        "meters": len(county.meters),
        "patients": len(county.patients),
        "postgres": postgres,
        "machine": machine(),
    }


def _database(pg: EmbeddedPostgres) -> str:
    from cdm.store import upgrade_store

    server = pg.start()
    with db.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database if exists {DATABASE} with (force)")
        conn.execute(f"create database {DATABASE}")
    url = with_database(server, DATABASE)
    upgrade_store(url)
    return url


def _county(url: str, settings: Settings, *, patients: int) -> tuple[Any, dict[str, int]]:
    from device_sim.county import generate_county
    from device_sim.repo import register_county

    clinics = max(12, min(336, patients // 9))  # the default county: 3,000 patients, 336 clinics of two meters
    county = generate_county(code=settings.county_code, name="基准县", clinics=clinics, patients=patients)
    with db.connect(url) as conn:
        register_county(conn, county)
        ids = {uid: i for uid, i in conn.execute("select uid, id from device")}
    return county, ids


def _messages(county: Any, n: int, *, seed: int, first_seq: int, now: datetime | None = None) -> _Backlog:
    """N readings of the county's patients at their meters, each with its meter's next sequence number."""
    from cdm.payload import reading_topic
    from device_sim.readings import encode, meter_kind_for, random_patient_ref, sitting

    rng = random.Random(seed)
    seqs: dict[str, int] = {}
    out: list[tuple[str, bytes]] = []
    now = now or datetime.now(UTC)
    while len(out) < n:
        patient = county.patients[rng.randrange(len(county.patients))]
        meter = county.meter_for(patient.village_code, meter_kind_for(patient, rng))
        ref = random_patient_ref(patient, rng)
        for values in sitting(patient, meter.kind, rng=rng, now=now):
            seq = seqs.get(meter.uid, first_seq)
            seqs[meter.uid] = seq + 1
            out.append(
                (reading_topic(county.code, meter.uid), encode(values, meter_uid=meter.uid, seq=seq, patient=ref))
            )
    return _Backlog(out[:n])


def _client(settings: Settings, client_id: str, *, clean: bool, manual_ack: bool = False) -> mqtt.Client:
    from cdm.mqtt import configure

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    return configure(client, settings)


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


def _publish(settings: Settings, backlog: _Backlog) -> None:
    from device_sim.meter import MeterPublisher

    started = time.monotonic()
    publisher = MeterPublisher(settings, client_id="bench-meters").connect()
    for topic, payload in backlog.messages:
        if publisher.sent - publisher.acked >= UNACKED_MAX:
            publisher.wait_acked(timeout=120)
        publisher.publish_raw(topic, payload)
    unacked = publisher.close(timeout=300)
    backlog.published_s = time.monotonic() - started
    if unacked:
        raise RuntimeError(f"the broker did not acknowledge {unacked} of the backlog's messages")
    log.info("backlog of %s readings published in %.1f s", len(backlog.messages), backlog.published_s)


def _child_env(settings: Settings, client_id: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    for name, spec in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or value == spec.default:
            continue
        env[f"CDM_{name.upper()}"] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    env["CDM_INGEST_CLIENT_ID"] = client_id
    return env


def _spawn_ingest(settings: Settings, client_id: str, logfile: Path) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cdm.cli", "ingest"],
            env=_child_env(settings, client_id),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_committed(url: str, n: int, procs: list[subprocess.Popen[bytes]]) -> float:
    """Poll the meters' counters until n readings are committed; the wall-clock time it was seen."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    with db.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
            if row and int(row[0]) >= n:
                return time.time()
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("an ingest worker exited during the drain; CDM_BENCH_KEEP=1 keeps its log")
            time.sleep(POLL_S)
    raise TimeoutError(f"ingest did not commit {n} readings within {DRAIN_TIMEOUT_S:.0f} s")


def _first_received(url: str) -> float | None:
    with db.connect(url) as conn:
        row = conn.execute("select extract(epoch from min(received_at)) from reading").fetchone()
    return float(row[0]) if row and row[0] is not None else None


def _bare_drain(settings: Settings, n: int) -> float:
    """Messages a second a paho subscriber takes off the backlog doing nothing else (QoS 1, auto-acknowledged)."""
    tally = _Counter(n)

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        if tally.first is None:
            tally.first = now
        tally.n += 1
        if tally.n == tally.target:
            tally.last = now
            tally.done.set()

    client = _client(settings, "bench-bare", clean=False)
    client.on_message = on_message
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    try:
        if not tally.done.wait(DRAIN_TIMEOUT_S):
            raise TimeoutError(f"the bare subscriber got {tally.n} of {n} messages")
    finally:
        client.disconnect()
        client.loop_stop()
    assert tally.first is not None and tally.last is not None
    return (n - 1) / (tally.last - tally.first) if tally.last > tally.first else 0.0


def _naive_drain(settings: Settings, url: str, n: int, device_ids: dict[str, int]) -> float:
    """Rows a second of a subscriber that validates each message as ingest does and commits it alone."""
    from ingest.batch import IngestContext
    from ingest.validate import Rejection, decode

    limits = IngestContext.from_settings(settings).limits
    conn = db.connect(url, autocommit=True, app="cdm-bench-naive")
    conn.execute("create table if not exists reading_naive (like reading including defaults including indexes)")
    clinics: dict[int, int] = dict(conn.execute("select id, clinic_id from device").fetchall())
    tally = _Counter(n)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if tally.done.is_set():
            return
        now = time.perf_counter()
        if tally.first is None:
            tally.first = now
        r = decode(topic=msg.topic, payload=bytes(msg.payload), received_at=datetime.now(UTC), limits=limits)
        if not isinstance(r, Rejection):
            device = device_ids[r.device_uid]
            conn.execute(
                "insert into reading_naive (device_id, seq, measured_at, received_at, clinic_id, kind, patient_scheme,"
                " patient_ref, systolic, diastolic, pulse, glucose_mmol, glucose_flag, glucose_context)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
                (device, r.seq, r.measured_at, r.received_at, clinics[device], r.kind.value, r.patient_scheme,
                 r.patient_ref, r.systolic, r.diastolic, r.pulse, r.glucose_mmol, r.glucose_flag,
                 r.glucose_context.value if r.glucose_context else None),
            )  # fmt: skip
        tally.n += 1
        if tally.n == tally.target:
            tally.last = time.perf_counter()
            tally.done.set()

    client = _client(settings, "bench-naive", clean=False)
    client.on_message = on_message
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    try:
        if not tally.done.wait(DRAIN_TIMEOUT_S):
            raise TimeoutError(f"the naive subscriber stored {tally.n} of {n} messages")
    finally:
        client.disconnect()
        client.loop_stop()
        conn.close()
    assert tally.first is not None and tally.last is not None
    return n / (tally.last - tally.first) if tally.last > tally.first else 0.0


def _live(settings: Settings, county: Any, url: str, *, rate: float, seconds: float) -> dict[str, Any]:
    """Offer `rate` readings/s to the running ingest; each reading's publish -> committed latency."""
    from device_sim.meter import MeterPublisher

    n = max(1, int(rate * seconds))
    messages = _messages(county, n, seed=2, first_seq=LIVE_SEQ_BASE).messages
    keys = [(_uid(topic), _seq(payload)) for topic, payload in messages]
    published: dict[tuple[str, int], float] = {}
    seen: dict[tuple[str, int], float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_commits, args=(url, seen, stop), daemon=True)
    watcher.start()
    publisher = MeterPublisher(settings, client_id="bench-live").connect()
    started = time.perf_counter()
    for i, (topic, payload) in enumerate(messages):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        published[keys[i]] = time.time()
        publisher.publish_raw(topic, payload)
    publisher.close(timeout=60)
    deadline = time.monotonic() + 60
    while len(seen) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    watcher.join(5)
    ms = [1000 * (seen[k] - t) for k, t in published.items() if k in seen]
    return {"published": n, "ms": ms, "unseen": n - len(ms)}


def _uid(topic: str) -> str:
    return topic.split("/")[4]


def _seq(payload: bytes) -> int:
    import json

    return int(json.loads(payload)["seq"])


def _watch_commits(url: str, seen: dict[tuple[str, int], float], stop: threading.Event) -> None:
    """Note when each live reading becomes visible (committed), by its key; polled every POLL_S.

    Each meter's live sequence numbers run on from LIVE_SEQ_BASE; the poll asks, per meter, for the rows from its
    lowest sequence not seen yet (a range of the primary key), so it stays small however long the run.
    """
    with db.connect(url, autocommit=True, app="cdm-bench-watch") as conn:
        uids: dict[int, str] = dict(conn.execute("select id, uid from device").fetchall())
        nxt = dict.fromkeys(uids, LIVE_SEQ_BASE)
        got: dict[int, set[int]] = {i: set() for i in uids}
        while not stop.is_set():
            ids = sorted(nxt)
            rows = conn.execute(
                "select r.device_id, r.seq from unnest(%s::integer[], %s::bigint[]) as u(id, s)"
                " join reading r on r.device_id = u.id and r.seq >= u.s",
                (ids, [nxt[i] for i in ids]),
            ).fetchall()
            now = time.time()
            for device_id, seq in rows:
                seen.setdefault((uids[device_id], seq), now)
                got[device_id].add(seq)
            for device_id in {d for d, _ in rows}:
                while nxt[device_id] in got[device_id]:
                    got[device_id].discard(nxt[device_id])
                    nxt[device_id] += 1
            time.sleep(POLL_S)


def _leftover(settings: Settings, client_id: str) -> int:
    """Messages the broker still holds for an ingest session once ingest stopped: each one unacknowledged."""
    got = []
    client = _client(settings, client_id, clean=False, manual_ack=True)
    client.on_message = lambda _c, _u, m: got.append(m.mid)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    time.sleep(2.0)
    client.disconnect()
    client.loop_stop()
    return len(got)


def _stored(url: str) -> tuple[int, int, int]:
    with db.connect(url) as conn:
        row = conn.execute("select count(*), count(distinct (device_id, seq)) from reading").fetchone()
        counted = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
    assert row is not None and counted is not None
    return int(row[0]), int(row[1]), int(counted[0])


def _bytes_per_reading(url: str) -> float | None:
    """Table plus indexes (and TOAST) of every readings partition, per stored row."""
    with db.connect(url) as conn:
        row = conn.execute(
            "select (select coalesce(sum(pg_total_relation_size(inhrelid)), 0) from pg_inherits"
            " where inhparent = 'reading'::regclass) + pg_total_relation_size('reading'),"
            " (select count(*) from reading)"
        ).fetchone()
    return round(int(row[0]) / int(row[1]), 1) if row and row[1] else None


def _server_version(url: str) -> str:
    with db.connect(url) as conn:
        row = conn.execute("show server_version").fetchone()
    return str(row[0]) if row else "?"
