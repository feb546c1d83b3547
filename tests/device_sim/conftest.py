"""Fixtures of the simulator tests: its settings, a small county, and a real paho subscriber watching its topics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cdm.settings import Settings
from device_sim.county import County, generate_county
from tests.support.mqtt_watch import Subscriber


@pytest.fixture
def watcher(mqtt_url: str, county_code: str) -> Iterator[Subscriber]:
    """A subscriber to this test's county topics, subscribed before the test body runs."""
    sub = Subscriber(mqtt_url, county_code)
    yield sub
    sub.close()


@pytest.fixture
def sim_settings(mqtt_url: str, county_code: str) -> Settings:
    return Settings(mqtt_url=mqtt_url, county_code=county_code, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def small_county(county_code: str) -> County:
    return generate_county(
        code=county_code, name="模拟县", townships=3, clinics=12, patients=300, unstable_share=0.3, seed=3
    )
