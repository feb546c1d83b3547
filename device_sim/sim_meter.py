"""One simulated meter as in the field: its own credentials and client id, a retained online status on every
connect, a last will that turns it offline when it vanishes, and periodic heartbeats with battery and signal."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence

import paho.mqtt.client as mqtt

from cdm.payload import status_payload, status_topic
from cdm.settings import Settings
from device_sim.meter import ACK_TIMEOUT_S, CONNECT_TIMEOUT_S, MeterPublisher

log = logging.getLogger(__name__)


class SimMeter(MeterPublisher):
    """One meter on its own connection, as in the field: own credentials, last will, status and heartbeats."""

    def __init__(
        self,
        settings: Settings,
        *,
        uid: str,
        password: str | None = None,
        heartbeat_s: float = 3600.0,
        seed: int = 0,
        first_seq: int | None = None,
        brokers: Sequence[str] | None = None,
    ) -> None:
        # The client id is the meter's id: the broker then keeps one session per meter, and a second connection
        # of the same meter (a reboot before the old one timed out) replaces the first. `brokers`: the meter's
        # list, tried in turn when one cannot be reached (default: the settings' first and second broker).
        super().__init__(
            settings,
            client_id=uid,
            first_seq=first_seq,
            credentials=(uid, password) if password else None,
            brokers=brokers,
        )
        self.uid = uid
        self.heartbeat_s = heartbeat_s
        self._rng = random.Random(f"{uid}:{seed}")
        self._battery = self._rng.randint(60, 100)
        self._beating = threading.Event()
        self._beat_thread: threading.Thread | None = None
        will = status_payload(device_uid=uid, state="offline", will=True)
        self._client.will_set(status_topic(settings.county_code, uid), will, qos=1, retain=True)

    def connect(self, *, timeout: float = CONNECT_TIMEOUT_S) -> SimMeter:
        """Connect, announce itself online (retained) and start sending heartbeats."""
        super().connect(timeout=timeout)
        if self._beat_thread is None:
            self._beat_thread = threading.Thread(target=self._beat, name=f"heartbeat-{self.uid}", daemon=True)
            self._beat_thread.start()
        return self

    def heartbeat(self) -> None:
        """Send one heartbeat now: battery drains slowly, signal varies."""
        self._battery = max(0, self._battery - (1 if self._rng.random() < 0.2 else 0))
        self.publish_heartbeat(
            self.uid,
            battery_pct=self._battery,
            signal_dbm=self._rng.randint(-105, -60),
            interval_s=max(10, round(self.heartbeat_s)),
        )

    def stop_heartbeats(self) -> None:
        """Stop sending heartbeats but stay connected (a hung meter: only the silence tells)."""
        self._beating.set()

    def close(self, *, timeout: float = ACK_TIMEOUT_S) -> int:
        """Say offline (retained), then disconnect cleanly (the broker sends no will on a clean disconnect)."""
        self._beating.set()
        self.publish_status(self.uid, online=False)
        return super().close(timeout=timeout)

    def vanish(self) -> None:
        """Lose power: the connection drops without a DISCONNECT, so the broker publishes the last will."""
        self._beating.set()
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        if not getattr(reason, "is_failure", False):
            self.publish_status(self.uid, online=True)  # on every (re)connect, replacing the will's retained copy
        super()._on_connect(client, userdata, flags, reason, props)

    def _beat(self) -> None:
        while not self._beating.is_set():
            try:
                self.heartbeat()
            except Exception:  # a heartbeat lost to a reconnect is not worth stopping the meter for
                log.exception("meter %s could not send a heartbeat", self.uid)
            self._beating.wait(self.heartbeat_s)
