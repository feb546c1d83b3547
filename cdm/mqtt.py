"""What every MQTT client of this system shares: credentials and TLS from the settings."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from cdm.settings import Settings


def configure(client: mqtt.Client, settings: Settings) -> mqtt.Client:
    """Apply the settings' credentials and TLS to a paho client."""
    username, password = settings.mqtt_credentials
    if username:
        client.username_pw_set(username, password)
    if settings.mqtt_tls:
        client.tls_set()
    return client
