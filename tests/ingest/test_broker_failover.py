"""The broker survives too: a meter that loses its broker publishes to the second one (SimMeter's list of brokers,
as 4G meters' firmware does), and ingest subscribes to both (CDM_MQTT_SECONDARY_URL). The first broker is stopped
mid-stream: every reading is stored once — what the meter had in flight is sent again to the second broker, and
the readings' keys make the overlap harmless.

Both brokers are this test's own Mosquittos (persistent: a stopped broker keeps what it accepted and delivers it
when it is started again, as an operator brings it back)."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.broker import Mosquitto, window_for
from cdm.payload import PatientRef
from cdm.settings import Settings
from device_sim.sim_meter import SimMeter
from tests.support.processes import spawn
from tests.support.registry import SmallCounty, build
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("redelivering_broker")]
RATE = 200.0


@pytest.fixture
def brokers(tmp_path: Path, settings: Settings) -> Iterator[tuple[Mosquitto, Mosquitto]]:
    pair = tuple(
        Mosquitto(tmp_path / name, max_inflight=window_for(settings.ingest_batch_size), persistent=True)
        for name in ("first", "second")
    )
    for broker in pair:
        broker.start()
    yield pair  # type: ignore[misc]
    for broker in pair:
        broker.stop()


def stored(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        rows, keys = conn.execute("select count(*), count(distinct (device_id, seq)) from reading").fetchone()
        counted = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()[0]
    return rows, keys, int(counted)


def publish(meter: SimMeter, county: SmallCounty, n: int, sent: list[int]) -> None:
    rng, cards, started = random.Random(7), list(county.patients), time.monotonic()
    for i in range(n):
        while i > RATE * (time.monotonic() - started):
            time.sleep(0.002)
        sbp = rng.randint(112, 150)
        ref = PatientRef(scheme="health_card", value=cards[i % len(cards)])
        meter.publish_bp(meter.uid, systolic=sbp, diastolic=sbp - 40, patient=ref)
        sent[0] += 1


def test_meters_fall_back_to_the_second_broker_and_ingest_hears_both(
    settings: Settings, brokers: tuple[Mosquitto, Mosquitto], tmp_path: Path
):
    first, second = brokers
    settings = settings.model_copy(update={"mqtt_url": first.url, "mqtt_secondary_url": second.url})
    url = settings.database_url or ""
    with psycopg.connect(url) as conn:
        county = build(conn, code=settings.county_code)
        conn.commit()
    log = tmp_path / "ingest.log"
    ingest = spawn(settings, "ingest", log=log)
    n, sent = 2_400, [0]
    try:
        assert wait_until(lambda: log.read_text().count("subscribed") == 2, 30), log.read_text()
        meter = SimMeter(settings, uid=county.bp_meter, first_seq=1)
        meter._client.reconnect_delay_set(0.2, 1)  # a meter retries quickly; the test stays short
        meter.connect()
        assert meter.broker == ("127.0.0.1", first.port)
        thread = threading.Thread(target=publish, args=(meter, county, n, sent), daemon=True)
        thread.start()
        assert wait_until(lambda: stored(url)[0] >= n // 4, 30)
        first.stop()  # mid-stream
        assert wait_until(lambda: meter.broker == ("127.0.0.1", second.port), 10)
        thread.join(60)
        assert sent[0] == n and meter.close(timeout=30) == 0, "the second broker acknowledged everything sent"
        wait_until(lambda: stored(url)[0] >= n, 30)  # usually all arrive through the second broker alone
        first.start()  # brought back: it delivers whatever it had accepted and not yet handed to ingest
        assert wait_until(lambda: stored(url)[0] >= n, 30), stored(url)
        time.sleep(1.0)  # a late redelivery would show now
    finally:
        ingest.send_signal(signal.SIGTERM)
        try:
            ingest.wait(30)
        except subprocess.TimeoutExpired:
            ingest.kill()
    assert stored(url) == (n, n, n), "nothing lost, nothing doubled, each counted once on its meter"
    second_log = (second.work_dir / "mosquitto.log").read_text()
    assert f"as {county.bp_meter}" in second_log, "the meter really published to the second broker"
