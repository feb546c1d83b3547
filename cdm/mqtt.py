"""What every MQTT client of this system shares: credentials and TLS from the settings."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from cdm.settings import Settings


def endpoint(url: str) -> tuple[str, int, bool]:
    """(host, port, TLS) of an mqtt:// or mqtts:// URL (ports 1883 and 8883 by default)."""
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), tls


def configure(client: mqtt.Client, settings: Settings, *, url: str | None = None) -> mqtt.Client:
    """Apply the settings' credentials, and TLS when `url` (default CDM_MQTT_URL; a second broker's otherwise) is
    mqtts://, to a paho client.

    Over mqtts:// the broker's certificate is verified (host name included) against CDM_MQTT_CA_FILE, a county's
    private CA, or else the system's trust store; CDM_MQTT_CERT_FILE / CDM_MQTT_KEY_FILE are presented when the
    broker asks for a client certificate. TLS 1.2 at least.
    """
    username, password = settings.mqtt_credentials
    if username:
        client.username_pw_set(username, password)
    if endpoint(url or settings.mqtt_url)[2]:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.mqtt_cert_file and settings.mqtt_key_file:
            context.load_cert_chain(str(settings.mqtt_cert_file), str(settings.mqtt_key_file))
        client.tls_set_context(context)
    return client
