"""A meter's store-and-forward buffer: what it keeps, drops and replays (pure), and a run with outages (broker)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cdm.payload import READING_V1
from cdm.settings import Settings
from device_sim.buffer import Outages, ReplayBuffer
from device_sim.county import County
from device_sim.publisher import run
from tests.support.mqtt_watch import Subscriber

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def publish_raw(self, topic: str, payload: bytes) -> None:
        self.sent.append((topic, payload))


def test_a_buffer_replays_everything_once_in_a_shuffled_order():
    buffer = ReplayBuffer()
    for i in range(50):
        buffer.keep("t", str(i).encode(), NOW - timedelta(minutes=50 - i))
    out = Recorder()
    assert buffer.replay(out, now=NOW, rng=random.Random(1)) == 50
    assert sorted(int(p) for _, p in out.sent) == list(range(50))
    assert [int(p) for _, p in out.sent] != list(range(50)), "a meter's memory comes back in any order"
    assert len(buffer) == 0 and buffer.replay(out, now=NOW, rng=random.Random(1)) == 0


def test_a_full_buffer_drops_the_oldest_and_a_too_old_reading_is_not_sent():
    buffer = ReplayBuffer(capacity=3, max_age=timedelta(days=30))
    buffer.keep("t", b"ancient", NOW - timedelta(days=31))
    for name in (b"a", b"b", b"c", b"d"):
        buffer.keep("t", name, NOW - timedelta(hours=1))
    out = Recorder()
    assert buffer.replay(out, now=NOW, rng=random.Random(2), shuffle=False) == 3
    assert [p for _, p in out.sent] == [b"b", b"c", b"d"]
    assert buffer.dropped == 2


def test_outages_last_a_few_sittings_and_drain_at_the_end():
    outages = Outages(share=0.5, rng=random.Random(3))
    states = [outages.offline("BP-1") for _ in range(200)]
    assert 0 < sum(states) < 200
    outages.keep("BP-1", "t", b"x", NOW)
    out = Recorder()
    assert outages.drain_all(out, now=NOW) == 1 and outages.replayed == 1 and not outages.down


@pytest.mark.integration
def test_a_run_with_outages_sends_every_reading_once_some_late_and_out_of_order(
    sim_settings: Settings, small_county: County, watcher: Subscriber
) -> None:
    stats = run(sim_settings, small_county, seconds=3.0, rate=100, duplicate_share=0, bad_share=0, outage_share=0.3)
    received = watcher.wait_for(stats.published)
    assert stats.unacked == 0 and stats.lost_in_meters == 0
    assert stats.replayed > 0
    assert stats.published == stats.readings  # each reading exactly once, buffered or not
    msgs = [READING_V1.validate_json(p) for _, p in received]
    assert len(Counter((m.device_id, m.seq) for m in msgs)) == stats.readings
    by_meter: dict[str, list[int]] = {}
    for m in msgs:
        by_meter.setdefault(m.device_id, []).append(m.seq)
    assert any(seqs != sorted(seqs) for seqs in by_meter.values()), "replays arrive out of sequence"
