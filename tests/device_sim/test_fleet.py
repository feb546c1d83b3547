"""The demo's own-connection meters: their goodbyes are bounded when the broker is already gone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.services import LocalBroker
from cdm.settings import Settings
from device_sim.fleet import Fleet


@pytest.mark.integration
def test_a_fleet_whose_broker_died_closes_within_its_bound(tmp_path: Path, county_code: str) -> None:
    # Ctrl-C on the demo's process group stops the broker with everything else: six meters each waiting the
    # publisher's 10 s for an acknowledgement that cannot come held the demo's exit for over a minute.
    broker = LocalBroker(tmp_path / "broker")
    settings = Settings(mqtt_url=broker.start(), county_code=county_code, _env_file=None)  # type: ignore[call-arg]
    fleet = Fleet(settings, [f"BP-fleet-{i}" for i in range(6)], heartbeat_s=60.0).start()
    gone = fleet.vanish(2)
    broker.stop()
    started = time.monotonic()
    counts = fleet.close(timeout=2.0)
    assert time.monotonic() - started < 8.0  # the bound, plus the paho threads' joins
    assert counts == {"status_meters": 6, "vanished": 2} and gone == ["BP-fleet-0", "BP-fleet-1"]
