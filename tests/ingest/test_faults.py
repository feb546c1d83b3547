"""Faults while meters publish, each bounded in time: the ingest worker killed -9 again and again, the broker
restarted, PostgreSQL restarted. Every reading ends up stored exactly once.

The worker runs as a real `cdm ingest` process; the broker and PostgreSQL of the restart tests are this test's
own (a Mosquitto that saves its sessions on a clean stop; an embedded PostgreSQL stopped and started on its data
directory), so the rest of the suite never sees them go away.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.services import EmbeddedPostgres
from bench.broker import Mosquitto, window_for
from cdm.settings import Settings
from cdm.store import upgrade_store
from tests.support import meters
from tests.support.processes import spawn
from tests.support.registry import SmallCounty, build
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("redelivering_broker")]


class Stream(meters.Stream):
    """A meter client publishing `n` BP readings (QoS 1) at about `rate` a second, round the county's patients."""

    def __init__(self, settings: Settings, county: SmallCounty, *, n: int, rate: float) -> None:
        super().__init__(settings, county, n=n, rate=rate, seed=5)
        self.publisher._client.reconnect_delay_set(0.2, 1)  # a meter retries quickly; the test stays short


def stored(url: str) -> tuple[int, int, int]:
    """(rows, distinct keys, the meters' stored counters) of the readings table."""
    with psycopg.connect(url) as conn:
        rows, keys = conn.execute("select count(*), count(distinct (device_id, seq)) from reading").fetchone()
        counted = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()[0]
    return rows, keys, int(counted)


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    proc = spawn(settings, "ingest", log=log)
    assert wait_until(lambda: log.exists() and log.read_text().count("subscribed") >= 1, 30), log.read_text()
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def registered(url: str, code: str) -> SmallCounty:
    with psycopg.connect(url) as conn:
        county = build(conn, code=code)
        conn.commit()
    return county


def test_killing_the_worker_again_and_again_loses_and_doubles_nothing(settings: Settings, tmp_path: Path):
    n = 50_000
    county = registered(settings.database_url or "", settings.county_code)
    url = settings.database_url or ""
    first = start_worker(settings, tmp_path / "ingest-0.log")  # the persistent session exists from here on
    stream = Stream(settings, county, n=n, rate=2_500).start()
    proc, kills, rng = first, 0, random.Random(11)
    try:
        while stream.sent < n or kills < 5:
            time.sleep(rng.uniform(1.0, 3.0))  # commits in progress, batches half taken, acks in flight
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            proc = start_worker(settings, tmp_path / f"ingest-{kills}.log")
        assert stream.finish() == 0
        assert wait_until(lambda: stored(url)[0] >= n, 90), stored(url)
        time.sleep(1.0)  # any late redelivery would show up now
    finally:
        stop_worker(proc)
    assert kills >= 5
    assert stored(url) == (n, n, n), "every reading stored once, and counted once on its meter"


@pytest.fixture
def own_broker(tmp_path: Path, settings: Settings) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "broker", max_inflight=window_for(settings.ingest_batch_size), persistent=True)
    broker.start()
    yield broker
    broker.stop()


def test_a_broker_restart_mid_stream_loses_nothing(settings: Settings, own_broker: Mosquitto, tmp_path: Path):
    n = 20_000
    settings = settings.model_copy(update={"mqtt_url": own_broker.url})
    url = settings.database_url or ""
    county = registered(url, settings.county_code)
    proc = start_worker(settings, tmp_path / "ingest.log")
    stream = Stream(settings, county, n=n, rate=2_000).start()
    try:
        for _ in range(2):
            time.sleep(3.0)
            own_broker.restart()  # sessions and queued messages saved on stop, restored on start
        assert wait_until(lambda: "subscribed" in (tmp_path / "ingest.log").read_text().split("lost the broker")[-1])
        assert stream.finish() == 0, "the meter's buffer drained once the broker was back"
        assert wait_until(lambda: stored(url)[0] >= n, 60), stored(url)
        time.sleep(1.0)
    finally:
        stop_worker(proc)
    log = (tmp_path / "ingest.log").read_text()
    assert log.count("lost the broker") >= 2 and proc.returncode == 0, log[-2000:]
    assert stored(url) == (n, n, n)


@pytest.fixture
def own_postgres() -> Iterator[tuple[EmbeddedPostgres, str]]:
    home = Path(tempfile.mkdtemp(prefix="cdm-test-pg-restart-"))  # not under pytest's tmp_path: see conftest
    server = EmbeddedPostgres(home / "data")
    try:
        url = server.start()
        upgrade_store(url)
        yield server, url
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_a_postgres_restart_mid_stream_loses_nothing(
    settings: Settings, own_postgres: tuple[EmbeddedPostgres, str], tmp_path: Path
):
    n = 15_000
    server, url = own_postgres
    settings = settings.model_copy(update={"database_url": url})
    county = registered(url, settings.county_code)
    log = tmp_path / "ingest.log"
    proc = start_worker(settings, log)
    stream = Stream(settings, county, n=n, rate=2_000).start()
    try:
        time.sleep(2.5)
        server.stop()
        time.sleep(2.0)  # the meters go on publishing into the broker; ingest waits and retries
        assert server.start() == url
        assert stream.finish() == 0
        assert wait_until(lambda: stored(url)[0] >= n, 60), stored(url)
        time.sleep(1.0)
    finally:
        stop_worker(proc)
    text = log.read_text()
    assert "store unavailable" in text and proc.returncode == 0, text[-2000:]
    totals = json.loads(text.strip().splitlines()[-1])
    assert totals["stored"] == n
    assert stored(url) == (n, n, n)
