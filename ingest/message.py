"""What the ingest paths carry: a message as the worker took it off the broker, and the registered meter it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message as it came off the broker; `generation` names the MQTT connection it arrived on, `broker` which of
    the brokers (CDM_MQTT_URL 0, CDM_MQTT_SECONDARY_URL 1) it came from."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int = 0
    broker: int = 0


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A registered meter: its id, its kind (bp or glucose) and the clinic it stands in."""

    id: int
    kind: str
    clinic_id: int
