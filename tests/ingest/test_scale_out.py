"""Horizontal scale-out: two `cdm ingest` processes share the meters' stream through an MQTT shared subscription
($share/<group>/...) on the real Mosquitto; every reading is stored once, and both workers do part of the work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdm.settings import Settings
from ingest.worker import subscription, topic_handlers
from tests.ingest.test_faults import Stream, registered, start_worker, stop_worker, stored
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_the_subscription_names_the_share_group_only_when_set(settings: Settings):
    (readings, _), *_ = topic_handlers(settings)
    assert subscription(settings, readings) == readings
    shared = settings.model_copy(update={"ingest_share_group": "ingest"})
    assert subscription(shared, readings) == f"$share/ingest/{readings}"


@pytest.mark.usefixtures("redelivering_broker")  # amqtt has no shared subscriptions
def test_two_workers_share_the_stream_with_nothing_lost_or_doubled(settings: Settings, tmp_path: Path):
    n = 20_000
    url = settings.database_url or ""
    county = registered(url, settings.county_code)
    workers = []
    for name in ("a", "b"):
        mine = settings.model_copy(
            update={"ingest_share_group": "ingest", "ingest_client_id": f"ingest-{settings.county_code}-{name}"}
        )
        workers.append((start_worker(mine, tmp_path / f"ingest-{name}.log"), tmp_path / f"ingest-{name}.log"))
    stream = Stream(settings, county, n=n, rate=4_000).start()
    try:
        assert stream.finish() == 0
        assert wait_until(lambda: stored(url)[0] >= n, 60), stored(url)
    finally:
        for proc, _ in workers:
            stop_worker(proc)
    totals = [json.loads(log.read_text().strip().splitlines()[-1]) for _, log in workers]
    assert stored(url) == (n, n, n)
    assert sum(t["stored"] for t in totals) == n and sum(t["duplicates"] for t in totals) == 0
    assert all(t["stored"] > n / 10 for t in totals), f"both workers take part: {totals}"
