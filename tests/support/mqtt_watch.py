"""A real paho subscriber that records what reaches a county's reading topics, for the simulator tests."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from cdm.mqtt import configure
from cdm.payload import readings_filter
from cdm.settings import Settings


class Subscriber:
    """A real paho client that records every message on a county's reading topics."""

    def __init__(self, mqtt_url: str, county_code: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._filter = readings_filter(county_code)
        settings = Settings(mqtt_url=mqtt_url, _env_file=None)  # type: ignore[call-arg]
        self._client = configure(
            mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{county_code}", protocol=mqtt.MQTTv311),
            settings,
        )
        self._client.on_connect = lambda c, *_: c.subscribe(self._filter, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(settings.mqtt_host, settings.mqtt_port)
        self._client.loop_start()
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload))

    def wait_for(self, count: int, *, timeout: float = 30.0, settle: float = 0.5) -> list[tuple[str, bytes]]:
        """Messages once `count` have arrived (or the timeout passed), after a pause that would reveal extras."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.02)
        time.sleep(settle)
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
