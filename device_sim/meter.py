"""paho MQTT clients for simulated meters: QoS 1, MQTT 3.1.1, counting the broker's PUBACKs.

`MeterPublisher` speaks for any number of meters on one connection (the demo and the benchmarks, through a
simulator account); `device_sim.sim_meter.SimMeter` is one meter as in the field.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import paho.mqtt.client as mqtt

from cdm.mqtt import configure, endpoint
from cdm.payload import (
    PatientRef,
    bp_payload,
    glucose_payload,
    heartbeat_payload,
    heartbeat_topic,
    reading_topic,
    status_payload,
    status_topic,
)
from cdm.settings import Settings

log = logging.getLogger(__name__)

# Waiting this long for the broker's PUBACKs at the end is ample on a LAN and bounded if the broker is gone.
ACK_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10.0
# Messages paho keeps on the wire before PUBACKs return; above paho's default of 20 so a burst is not throttled.
MAX_INFLIGHT = 200


@dataclass(frozen=True)
class Published:
    topic: str
    payload: bytes
    seq: int


def seq_start() -> int:
    """A sequence start above any earlier run's: milliseconds since the epoch times 1,000."""
    return time.time_ns() // 1_000_000 * 1000


class MeterPublisher:
    """One MQTT connection that speaks for any number of meters; counts the broker's acknowledgements."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_id: str | None = None,
        first_seq: int | None = None,
        credentials: tuple[str, str] | None = None,
        brokers: Sequence[str] | None = None,
    ) -> None:
        self._settings = settings
        # Like a real 4G meter's firmware: a list of brokers (same accounts, same scheme); a lost or refused
        # connection moves on to the next one, round the list (default: CDM_MQTT_URL, then CDM_MQTT_SECONDARY_URL).
        self._brokers = [endpoint(url)[:2] for url in (brokers or settings.mqtt_urls)]
        self._broker = 0
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"cdm-sim-{settings.county_code}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self._client.max_inflight_messages_set(MAX_INFLIGHT)
        configure(self._client, settings)
        if credentials:
            self._client.username_pw_set(*credentials)
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._next_broker
        self._connected = threading.Event()
        self._acks = threading.Condition()
        self._sent = 0
        self._acked = 0
        self._seq: dict[str, itertools.count[int]] = {}
        self._first_seq = seq_start() if first_seq is None else first_seq

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def county_code(self) -> str:
        return self._settings.county_code

    @property
    def acked(self) -> int:
        with self._acks:
            return self._acked

    def connect(self, *, timeout: float = CONNECT_TIMEOUT_S) -> MeterPublisher:
        """Connect to the broker of the settings and start the network thread; raise if it does not accept us.

        Connecting an already connected publisher does nothing (`with MeterPublisher(…).connect() as p` is fine).
        """
        if self._connected.is_set():
            return self
        refusals = []
        for _ in self._brokers:
            host, port = self._brokers[self._broker]
            try:
                self._client.connect(host, port, keepalive=30)
                break
            except OSError as exc:
                refusals.append(f"{host}:{port}: {exc}")
                self._broker = (self._broker + 1) % len(self._brokers)
        else:
            raise ConnectionError(f"no MQTT broker accepted the simulator ({'; '.join(refusals)})")
        self._client.loop_start()
        if not self._connected.wait(timeout):
            self._client.loop_stop()
            raise ConnectionError(f"MQTT broker {host}:{port} did not accept the simulator within {timeout:.0f} s")
        return self

    @property
    def broker(self) -> tuple[str, int]:
        """(host, port) of the broker this publisher uses (or tries) now."""
        return self._brokers[self._broker]

    def _next_broker(self, client: mqtt.Client, userdata: object = None) -> None:
        """Point the client at the next broker of the list; paho's reconnect loop goes there next."""
        if len(self._brokers) > 1:
            self._broker = (self._broker + 1) % len(self._brokers)
            host, port = self._brokers[self._broker]
            # connect_async only records where to connect (paho refuses a plain host change mid-reconnect); the
            # network thread's reconnect goes there, and resends what was in flight (the keys make repeats harmless).
            client.connect_async(host, port, keepalive=client.keepalive)
            log.info("simulator falls back to broker %s:%s", host, port)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        if getattr(reason, "is_failure", False):  # lost, not a disconnect of our own
            self._next_broker(client)

    def next_seq(self, meter_uid: str) -> int:
        """The next sequence number of a meter."""
        counter = self._seq.setdefault(meter_uid, itertools.count(self._first_seq))
        return next(counter)

    def publish_bp(
        self,
        meter_uid: str,
        *,
        systolic: int,
        diastolic: int,
        pulse: int | None = None,
        patient: PatientRef | None,
        measured_at: datetime | None = None,
    ) -> Published:
        """Publish one BP reading as meter `meter_uid` would (measured now unless told otherwise)."""
        seq = self.next_seq(meter_uid)
        payload = bp_payload(
            device_uid=meter_uid,
            seq=seq,
            measured_at=measured_at or self.now(),
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            patient=patient,
        )
        return self._send(reading_topic(self._settings.county_code, meter_uid), payload, seq)

    def publish_glucose(
        self,
        meter_uid: str,
        *,
        mmol_l: float | None,
        context: str = "fasting",
        patient: PatientRef | None,
        measured_at: datetime | None = None,
        flag: Literal["HI", "LO"] | None = None,
    ) -> Published:
        """Publish one glucose reading as meter `meter_uid` would (measured now unless told otherwise)."""
        seq = self.next_seq(meter_uid)
        payload = glucose_payload(
            device_uid=meter_uid,
            seq=seq,
            measured_at=measured_at or self.now(),
            mmol_l=mmol_l,
            context=context,
            patient=patient,
            flag=flag,
        )
        return self._send(reading_topic(self._settings.county_code, meter_uid), payload, seq)

    def publish_heartbeat(
        self, meter_uid: str, *, battery_pct: int | None, signal_dbm: int | None, interval_s: int | None
    ) -> None:
        """Publish one heartbeat of meter `meter_uid`."""
        payload = heartbeat_payload(
            device_uid=meter_uid,
            sent_at=self.now(),
            battery_pct=battery_pct,
            signal_dbm=signal_dbm,
            interval_s=interval_s,
        )
        self._send(heartbeat_topic(self._settings.county_code, meter_uid), payload, -1)

    def publish_status(self, meter_uid: str, *, online: bool) -> None:
        """Publish meter `meter_uid`'s retained online (since now) or offline state."""
        state: Literal["online", "offline"] = "online" if online else "offline"
        payload = status_payload(device_uid=meter_uid, state=state, at=self.now() if online else None)
        self._send(status_topic(self._settings.county_code, meter_uid), payload, -1, retain=True)

    def publish_raw(self, topic: str, payload: bytes) -> None:
        """Publish bytes as they are: a meter's repeat, or a deliberately bad message."""
        self._send(topic, payload, -1)

    def wait_acked(self, *, timeout: float = ACK_TIMEOUT_S) -> int:
        """Wait until the broker has acknowledged every message sent; the number still unacknowledged."""
        with self._acks:
            self._acks.wait_for(lambda: self._acked >= self._sent, timeout)
            return self._sent - self._acked

    def close(self, *, timeout: float = ACK_TIMEOUT_S) -> int:
        """Wait (bounded) for outstanding acknowledgements, disconnect; the number left unacknowledged."""
        unacked = self.wait_acked(timeout=timeout)
        if unacked:
            log.warning("simulator disconnects with %s message(s) not acknowledged by the broker", unacked)
        self._client.disconnect()
        self._client.loop_stop()
        return unacked

    def __enter__(self) -> MeterPublisher:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The time on the meters' clocks: aware, in the settings' time zone, whole seconds."""
        return datetime.now(self._settings.tz).replace(microsecond=0)

    def _send(self, topic: str, payload: bytes, seq: int, *, retain: bool = False) -> Published:
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise RuntimeError(f"paho refused to queue a message: {mqtt.error_string(info.rc)}")
        with self._acks:
            self._sent += 1  # NO_CONN: paho keeps a QoS 1 message and sends it after reconnecting
        return Published(topic=topic, payload=payload, seq=seq)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker refused the simulator: %s", reason)
            return
        log.info("simulator connected to %s:%s", *self.broker)
        self._connected.set()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        with self._acks:
            self._acked += 1
            self._acks.notify_all()
