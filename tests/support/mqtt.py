"""A plain paho publisher for tests, standing in for a meter."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cdm.mqtt import configure
from cdm.settings import Settings


class TestPublisher:
    """Connects, publishes QoS 1 and waits for each PUBACK."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, settings: Settings, client_id: str) -> None:
        self.client = configure(
            mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311), settings
        )
        self.client.connect(settings.mqtt_host, settings.mqtt_port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), "the broker did not acknowledge the publish"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
