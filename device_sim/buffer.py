"""A meter's store-and-forward memory: readings taken without a network, replayed later in any order.

A 4G meter in a village clinic loses its signal for minutes or days. It keeps what it measured (up to its memory,
oldest dropped first, and no longer than it is allowed to keep a reading) and sends the lot when the network
returns, in whatever order its firmware walks its memory: ingest must take them in any order, once each.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol


class RawPublisher(Protocol):
    def publish_raw(self, topic: str, payload: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class Buffered:
    topic: str
    payload: bytes
    measured_at: datetime


@dataclass
class ReplayBuffer:
    """One meter's memory of unsent readings."""

    capacity: int = 2_000
    max_age: timedelta = timedelta(days=30)
    _items: deque[Buffered] = field(default_factory=deque)
    dropped: int = 0  # readings the meter lost: memory full, or too old to send

    def __len__(self) -> int:
        return len(self._items)

    def keep(self, topic: str, payload: bytes, measured_at: datetime) -> None:
        """Remember a reading the meter could not send."""
        if len(self._items) >= self.capacity:
            self._items.popleft()
            self.dropped += 1
        self._items.append(Buffered(topic, payload, measured_at))

    def replay(self, publisher: RawPublisher, *, now: datetime, rng: random.Random, shuffle: bool = True) -> int:
        """Send everything still worth sending, in a random order unless told otherwise; the number sent."""
        items = [b for b in self._items if now - b.measured_at <= self.max_age]
        self.dropped += len(self._items) - len(items)
        self._items.clear()
        if shuffle:
            rng.shuffle(items)
        for item in items:
            publisher.publish_raw(item.topic, item.payload)
        return len(items)


@dataclass
class Outages:
    """Which meters are off the network right now, and what each has buffered meanwhile."""

    share: float  # chance that an online meter loses its network before a sitting
    rng: random.Random
    recover: float = 0.3  # chance that an offline meter has its network back at its next sitting
    capacity: int = 2_000
    max_age: timedelta = timedelta(days=30)
    buffers: dict[str, ReplayBuffer] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    replayed: int = 0

    def offline(self, meter_uid: str) -> bool:
        """Draw whether the meter has no network for this sitting (it stays offline for a few sittings)."""
        if meter_uid in self.down:
            if self.rng.random() < self.recover:
                self.down.discard(meter_uid)
                return False
            return True
        if self.share > 0 and self.rng.random() < self.share:
            self.down.add(meter_uid)
            return True
        return False

    def keep(self, meter_uid: str, topic: str, payload: bytes, measured_at: datetime) -> None:
        buffer = self.buffers.setdefault(meter_uid, ReplayBuffer(self.capacity, self.max_age))
        buffer.keep(topic, payload, measured_at)

    def back_online(self, meter_uid: str, publisher: RawPublisher, *, now: datetime) -> int:
        """The meter has its network again: replay its buffer; the number replayed."""
        buffer = self.buffers.get(meter_uid)
        if not buffer:
            return 0
        sent = buffer.replay(publisher, now=now, rng=self.rng)
        self.replayed += sent
        return sent

    def drain_all(self, publisher: RawPublisher, *, now: datetime) -> int:
        """Every meter back online (the end of a run): replay all buffers."""
        self.down.clear()
        return sum(self.back_online(uid, publisher, now=now) for uid in list(self.buffers))

    @property
    def dropped(self) -> int:
        return sum(b.dropped for b in self.buffers.values())
