"""What the ingest benchmarks share: their database and county, the backlog of readings and its publishing, the
ingest workers as child processes (started, waited for, stopped) and what their sessions left unacknowledged."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.services import EmbeddedPostgres, stop_process, with_database
from bench.broker import Mosquitto, window_for
from bench.ingest_baselines import client as _client
from bench.ingest_live import LIVE_SEQ_BASE
from cdm import db
from cdm.settings import Settings

log = logging.getLogger(__name__)

DATABASE = "cdm_bench_ingest"
UNACKED_MAX = 50_000  # paho numbers outstanding messages with 16 bits: let the broker catch up before 65,535


@dataclass
class Stack:
    """A benchmark's own servers in a temporary folder, and the child processes it started on them."""

    home: Path
    pg: EmbeddedPostgres
    broker: Mosquitto
    url: str = ""  # the benchmark's database
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


@contextlib.contextmanager
def stack(settings: Settings, *, prefix: str) -> Iterator[Stack]:
    """PostgreSQL (its database made) and Mosquitto in a new folder. On leaving, the children still running are
    stopped, then both servers, and the folder is removed (CDM_BENCH_KEEP=1 keeps it, with the workers' logs)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    here = Stack(
        home,
        EmbeddedPostgres(home / "pg"),
        Mosquitto(home / "broker", max_inflight=window_for(settings.ingest_batch_size)),
    )
    try:
        here.url = database(here.pg)
        here.broker.start()
        yield here
    finally:
        for proc in here.procs:
            if proc.poll() is None:
                stop_process(proc, timeout=30)
        here.broker.stop()
        here.pg.stop()
        if os.environ.get("CDM_BENCH_KEEP"):
            print(f"logs kept in {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)


@dataclass
class Backlog:
    messages: list[tuple[str, bytes]]
    published_s: float = 0.0


def wait_connected(procs: list[subprocess.Popen[bytes]], logs: list[Path], *, each: Any = None) -> float:
    """Wait until each worker has logged its connection; the sum of `each(proc)` taken at that moment."""
    total = 0.0
    deadline = time.monotonic() + 120
    for proc, logfile in zip(procs, logs, strict=True):
        while time.monotonic() < deadline:
            if logfile.exists() and b"connected to" in logfile.read_bytes():
                break
            if proc.poll() is not None:
                raise RuntimeError("an ingest worker exited at start-up; CDM_BENCH_KEEP=1 keeps its log")
            time.sleep(0.01)
        else:
            raise TimeoutError("an ingest worker did not connect within 120 s")
        total += each(proc) if each is not None else 0.0
    return total


def stop_ingest(
    bench: Settings, procs: list[subprocess.Popen[bytes]], *, workers: int, client_ids: list[str] | None = None
) -> int:
    """Stop the ingest workers; the messages their sessions still hold unacknowledged."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        stop_process(proc, timeout=30)
    return sum(leftover(bench, c) for c in client_ids or [f"bench-ingest-{i}" for i in range(workers)])


def database(pg: EmbeddedPostgres) -> str:
    from cdm.store import upgrade_store

    server = pg.start()
    with db.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database if exists {DATABASE} with (force)")
        conn.execute(f"create database {DATABASE}")
    url = with_database(server, DATABASE)
    upgrade_store(url)
    return url


def county(url: str, settings: Settings, *, patients: int, clinics: int | None = None) -> tuple[Any, dict[str, int]]:
    from device_sim.county import generate_county
    from device_sim.repo import register_county

    # the default county: 3,000 patients, 336 clinics of two meters
    clinics = max(12, clinics if clinics is not None else min(336, patients // 9))
    county = generate_county(code=settings.county_code, name="基准县", clinics=clinics, patients=patients)
    with db.connect(url) as conn:
        register_county(conn, county)
        ids = {uid: i for uid, i in conn.execute("select uid, id from device")}
    return county, ids


def messages(county: Any, n: int, *, seed: int, first_seq: int, now: datetime | None = None) -> Backlog:
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
    return Backlog(out[:n])


def live_messages(county: Any, *, rate: float, seconds: float, seed: int) -> Backlog:
    """The live run's readings: `rate` a second for `seconds` (at least one), numbered from LIVE_SEQ_BASE."""
    return messages(county, max(1, int(rate * seconds)), seed=seed, first_seq=LIVE_SEQ_BASE)


def publish(settings: Settings, backlog: Backlog) -> None:
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


def child_env(settings: Settings, client_id: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    for name, spec in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or value == spec.default:
            continue
        env[f"CDM_{name.upper()}"] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    env["CDM_INGEST_CLIENT_ID"] = client_id
    return env


def spawn_ingest(settings: Settings, client_id: str, logfile: Path) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "ingest"],
            env=child_env(settings, client_id),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def leftover(settings: Settings, client_id: str) -> int:
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
