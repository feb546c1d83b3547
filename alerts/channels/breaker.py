"""A circuit breaker per channel: after a run of retryable failures the channel rests, then one trial decides.

pybreaker was considered: it holds its lock for the whole guarded call, which would send a channel's messages one
at a time, and the dispatcher sends the township's and the county's at the same moment from a thread pool. This
breaker takes its lock only to change state, never around the receiver.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from alerts.channels.base import Channel, DeliveryError, OutboundMessage, Receipt

log = logging.getLogger(__name__)

FAILURE_THRESHOLD = 5  # one or two failures are a hiccup the dispatcher's backoff absorbs; five in a row is an outage
COOLDOWN_S = 60.0  # about the dispatcher's backoff after five attempts; short enough that a recovery is seen soon

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerState:
    """What the breaker of one channel looks like now, for logs and screens."""

    channel: str
    state: State
    consecutive_failures: int
    retry_in_s: float | None  # while open: seconds until the trial call may go


class CircuitBreaker:
    """Wraps a Channel; itself a Channel with the same name."""

    def __init__(
        self,
        channel: Channel,
        *,
        failure_threshold: int = FAILURE_THRESHOLD,
        cooldown_s: float = COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or cooldown_s < 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown_s >= 0")
        self.name = channel.name
        self.channel = channel
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    def send(self, message: OutboundMessage) -> Receipt:
        """Send through the wrapped channel, or raise a retryable DeliveryError at once while the circuit is open."""
        trial = self._admit()
        try:
            receipt = self.channel.send(message)
        except DeliveryError as exc:
            if exc.permanent:
                self._neutral(trial=trial)  # a bad address or a missing setting says nothing of the receiver
            else:
                self._failed(trial=trial)
            raise
        except BaseException:
            self._failed(trial=trial)  # a channel bug counts as a failure, so a broken channel is not hammered
            raise
        self._succeeded(trial=trial)
        return receipt

    def snapshot(self) -> BreakerState:
        """The state now (an open circuit whose cool-down has passed shows as half-open)."""
        with self._lock:
            state, retry_in = self._state, None
            if state == "open":
                remaining = self._opened_at + self._cooldown_s - self._clock()
                state, retry_in = ("open", remaining) if remaining > 0 else ("half_open", None)
            return BreakerState(self.name, state, self._failures, retry_in)

    @property
    def state(self) -> State:
        """closed, open or half_open."""
        return self.snapshot().state

    def close(self) -> None:
        """Close the wrapped channel."""
        self.channel.close()

    def _admit(self) -> bool:
        """Let a call through (True when it is the half-open trial), or refuse it while the circuit rests."""
        with self._lock:
            if self._state == "closed":
                return False
            if self._state == "open":
                remaining = self._opened_at + self._cooldown_s - self._clock()
                if remaining > 0:
                    raise DeliveryError(
                        "delivery.circuit_open", channel=self.name, failures=self._failures, seconds=f"{remaining:.0f}"
                    )
                self._state = "half_open"
                log.info("channel %s: cool-down over, one trial call", self.name)
            if self._trial_running:
                raise DeliveryError("delivery.circuit_trial", channel=self.name)
            self._trial_running = True
            return True

    def _succeeded(self, *, trial: bool) -> None:
        with self._lock:
            if self._state != "closed":
                log.warning("channel %s delivers again: circuit closed", self.name)
            self._state, self._failures = "closed", 0
            self._trial_running = self._trial_running and not trial

    def _failed(self, *, trial: bool) -> None:
        with self._lock:
            self._failures += 1
            # in half-open only the trial decides; a late failure of a call admitted earlier just counts
            if trial or (self._state == "closed" and self._failures >= self._threshold):
                self._state, self._opened_at = "open", self._clock()
                log.warning(
                    "channel %s: circuit open for %.0f s after %s failures in a row",
                    self.name,
                    self._cooldown_s,
                    self._failures,
                )
            self._trial_running = self._trial_running and not trial

    def _neutral(self, *, trial: bool) -> None:
        with self._lock:
            self._trial_running = self._trial_running and not trial  # the next call becomes the trial
