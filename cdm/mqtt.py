"""What every MQTT client of this system shares: credentials and TLS from the settings."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt

from cdm.settings import Settings


def configure(client: mqtt.Client, settings: Settings) -> mqtt.Client:
    """Apply the settings' credentials and TLS to a paho client.

    Over mqtts:// the broker's certificate is verified (host name included) against CDM_MQTT_CA_FILE, a county's
    private CA, or else the system's trust store; CDM_MQTT_CERT_FILE / CDM_MQTT_KEY_FILE are presented when the
    broker asks for a client certificate. TLS 1.2 at least.
    """
    username, password = settings.mqtt_credentials
    if username:
        client.username_pw_set(username, password)
    if settings.mqtt_tls:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.mqtt_cert_file and settings.mqtt_key_file:
            context.load_cert_chain(str(settings.mqtt_cert_file), str(settings.mqtt_key_file))
        client.tls_set_context(context)
    return client
