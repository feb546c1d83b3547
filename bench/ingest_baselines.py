"""The two baselines `cdm bench ingest` drains the same backlog with: a bare paho subscriber (the ceiling for a
Python consumer here) and a naive one that validates each message and commits it alone (the way most
MQTT-to-SQL bridges are written)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cdm import db
from cdm.settings import Settings

DRAIN_TIMEOUT_S = 900.0

OnMessage = Callable[[mqtt.Client, object, mqtt.MQTTMessage], None]


def client(settings: Settings, client_id: str, *, clean: bool, manual_ack: bool = False) -> mqtt.Client:
    """A paho client of the benchmark (MQTT 3.1.1), configured from the settings like every client of the system."""
    from cdm.mqtt import configure

    made = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    return configure(made, settings)


@dataclass
class _Counter:
    """A subscriber's tally: how many, when the first and the last arrived."""

    target: int
    n: int = 0
    first: float | None = None
    last: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def count(self, first_at: float) -> None:
        """One more message, the first of which arrived at `first_at`."""
        if self.first is None:
            self.first = first_at
        self.n += 1
        if self.n == self.target:
            self.last = time.perf_counter()
            self.done.set()


def _drain(
    settings: Settings, client_id: str, tally: _Counter, on_message: OnMessage, what: str
) -> tuple[float, float]:
    """Run `on_message` over the session's backlog until `tally` is full; (first, last) arrival times."""
    sub = client(settings, client_id, clean=False)
    sub.on_message = on_message
    sub.connect(settings.mqtt_host, settings.mqtt_port)
    sub.loop_start()
    try:
        if not tally.done.wait(DRAIN_TIMEOUT_S):
            raise TimeoutError(f"the {what} subscriber got {tally.n} of {tally.target} messages")
    finally:
        sub.disconnect()
        sub.loop_stop()
    assert tally.first is not None and tally.last is not None
    return tally.first, tally.last


def bare_drain(settings: Settings, n: int) -> float:
    """Messages a second a paho subscriber takes off the backlog doing nothing else (QoS 1, auto-acknowledged)."""
    tally = _Counter(n)

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        tally.count(time.perf_counter())

    first, last = _drain(settings, "bench-bare", tally, on_message, "bare")
    return (n - 1) / (last - first) if last > first else 0.0


def naive_drain(settings: Settings, url: str, n: int, device_ids: dict[str, int]) -> float:
    """Rows a second of a subscriber that validates each message as ingest does and commits it alone."""
    from ingest.batch import IngestContext
    from ingest.validate import Rejection, decode

    limits = IngestContext.from_settings(settings).limits
    conn = db.connect(url, autocommit=True, app="cdm-bench-naive")
    conn.execute("create table if not exists reading_naive (like reading including defaults including indexes)")
    clinics: dict[int, int] = dict(conn.execute("select id, clinic_id from device").fetchall())
    tally = _Counter(n)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if tally.done.is_set():
            return
        now = time.perf_counter()
        r = decode(topic=msg.topic, payload=bytes(msg.payload), received_at=datetime.now(UTC), limits=limits)
        if not isinstance(r, Rejection):
            device = device_ids[r.device_uid]
            conn.execute(
                "insert into reading_naive (device_id, seq, measured_at, received_at, clinic_id, kind, patient_scheme,"
                " patient_ref, systolic, diastolic, pulse, glucose_mmol, glucose_flag, glucose_context)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
                (device, r.seq, r.measured_at, r.received_at, clinics[device], r.kind.value, r.patient_scheme,
                 r.patient_ref, r.systolic, r.diastolic, r.pulse, r.glucose_mmol, r.glucose_flag,
                 r.glucose_context.value if r.glucose_context else None),
            )  # fmt: skip
        tally.count(now)

    try:
        first, last = _drain(settings, "bench-naive", tally, on_message, "naive")
    finally:
        conn.close()
    return n / (last - first) if last > first else 0.0
