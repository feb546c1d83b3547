"""A meter client publishing a paced stream of BP readings (QoS 1) from a thread, for the tests that break something
while readings flow. While the broker is away, paho keeps the unacknowledged ones and sends them again on
reconnecting: the meter's buffer."""

from __future__ import annotations

import random
import threading
import time

from cdm.payload import PatientRef
from cdm.settings import Settings
from device_sim.meter import MeterPublisher
from tests.support.registry import SmallCounty


class Stream:
    """`n` readings at about `rate` a second for the county's patients; `reading(i, rng)` says what the i-th is."""

    def __init__(self, settings: Settings, county: SmallCounty, *, n: int, rate: float, seed: int) -> None:
        self.n, self.rate, self.seed, self.sent = n, rate, seed, 0
        self.publisher = MeterPublisher(settings, client_id=f"meters-{settings.county_code}", first_seq=1)
        self.cards = list(county.patients)
        self.meter = county.bp_meter
        self._thread = threading.Thread(target=self._run, daemon=True)

    def reading(self, i: int, rng: random.Random) -> tuple[str, int, int]:
        """The i-th reading: (health card, systolic, diastolic)."""
        sbp = rng.randint(115, 150)
        return self.cards[i % len(self.cards)], sbp, sbp - 45

    def start(self) -> Stream:
        self.publisher.connect()
        self._thread.start()
        return self

    def _run(self) -> None:
        started, rng = time.monotonic(), random.Random(self.seed)
        for i in range(self.n):
            while i > self.rate * (time.monotonic() - started):
                time.sleep(0.005)
            card, sbp, dbp = self.reading(i, rng)
            self.publisher.publish_bp(
                self.meter, systolic=sbp, diastolic=dbp, pulse=70, patient=PatientRef(scheme="health_card", value=card)
            )
            self.sent += 1

    def finish(self, timeout: float = 60) -> int:
        """Wait until all are sent and acknowledged by the broker; the number left unacknowledged."""
        self._thread.join(timeout * 2)
        return self.publisher.close(timeout=timeout)
