"""The simulator against a real MQTT broker, watched by a real paho subscriber."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
from pydantic import ValidationError

from cdm.payload import READING_V1, BpReadingV1, GlucoseReadingV1, parse_topic
from cdm.settings import Settings
from device_sim.county import County
from device_sim.publisher import SimStats, run
from tests.support.mqtt_watch import Subscriber


def _critical(msg: BpReadingV1 | GlucoseReadingV1) -> bool:
    if isinstance(msg, BpReadingV1):
        return msg.systolic >= 180 or msg.diastolic >= 110
    return msg.value is not None and (msg.value >= 16.7 or msg.value <= 3.9)


def _good(county: County, topic: str, payload: bytes) -> BpReadingV1 | GlucoseReadingV1 | None:
    """The parsed reading when it is one ingest should accept (known meter and patient, plausible), else None."""
    try:
        msg = READING_V1.validate_json(payload)
    except ValidationError:
        return None
    parsed = parse_topic(topic)
    refs = {p.health_card_no for p in county.patients} | {p.qr_code for p in county.patients}
    if parsed is None or parsed[1] != msg.device_id or msg.device_id not in {m.uid for m in county.meters}:
        return None
    if msg.patient is None or msg.patient.value not in refs or msg.measured_at > datetime.now(msg.measured_at.tzinfo):
        return None
    if isinstance(msg, BpReadingV1):
        plausible = 50 <= msg.systolic <= 300 and 30 <= msg.diastolic <= 200 and msg.systolic > msg.diastolic
    else:
        plausible = msg.value is not None and 1.1 <= msg.value <= 33.3
    return msg if plausible else None


@pytest.mark.integration
def test_run_publishes_what_it_reports(sim_settings: Settings, small_county: County, watcher: Subscriber) -> None:
    stats = run(sim_settings, small_county, seconds=2.0, rate=60, duplicate_share=0.1, bad_share=0.1, seed=4)
    received = watcher.wait_for(stats.published)

    assert stats.unacked == 0
    assert 90 <= stats.readings <= 140  # about 60 readings/s for 2 s
    assert stats.duplicates_sent > 0 and stats.bad_sent > 0 and stats.critical_readings > 0
    assert stats.published == stats.readings + stats.duplicates_sent + stats.bad_sent
    assert len(received) == stats.published

    good = [(t, p, _good(small_county, t, p)) for t, p in received]
    good_msgs = [(t, p, m) for t, p, m in good if m is not None]
    counts = Counter((t, p) for t, p, _ in good_msgs)
    assert len(counts) == stats.readings
    assert sum(n - 1 for n in counts.values()) == stats.duplicates_sent
    assert set(counts.values()) <= {1, 2}
    assert len(received) - len(good_msgs) == stats.bad_sent
    for topic, _, msg in good_msgs:
        assert parse_topic(topic) == (sim_settings.county_code, msg.device_id)
    distinct = {(t, p): m for t, p, m in good_msgs}.values()
    assert sum(_critical(m) for m in distinct) == stats.critical_readings


@pytest.mark.integration
def test_sequence_numbers_rise_per_meter_and_never_repeat_across_runs(
    sim_settings: Settings, small_county: County, watcher: Subscriber
) -> None:
    first = run(sim_settings, small_county, seconds=0.5, rate=80, duplicate_share=0, bad_share=0, seed=1)
    second = run(sim_settings, small_county, seconds=0.5, rate=80, duplicate_share=0, bad_share=0, seed=1)
    received = watcher.wait_for(first.published + second.published)
    seqs: dict[str, list[int]] = {}
    for _, payload in received:
        body = json.loads(payload)
        seqs.setdefault(body["device_id"], []).append(body["seq"])
    assert len(received) == first.readings + second.readings
    for device, values in seqs.items():
        assert values == sorted(values) and len(set(values)) == len(values), device


@pytest.mark.integration
def test_run_stops_when_told(sim_settings: Settings, small_county: County) -> None:
    stop = threading.Event()
    threading.Timer(0.6, stop.set).start()
    started = time.monotonic()
    stats = run(sim_settings, small_county, seconds=None, rate=20, stop=stop)
    assert time.monotonic() - started < 5
    assert isinstance(stats, SimStats) and stats.readings >= 5 and stats.unacked == 0


def test_run_refuses_a_run_that_could_never_end(sim_settings: Settings, small_county: County) -> None:
    with pytest.raises(ValueError):
        run(sim_settings, small_county, seconds=None, rate=5)
    with pytest.raises(ValueError):
        run(sim_settings, small_county, seconds=1, rate=0)
