"""A message as the worker took it off the broker: what the readings path and the status path both handle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message as it came off the broker; `generation` names the MQTT connection it arrived on."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int = 0
