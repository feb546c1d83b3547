"""Sends the outbox: wakes on NOTIFY at commit (or polls each second), claims due notifications, sends the
township's and the county's at the same moment, and records every attempt."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg

from alerts import repo
from alerts.channels.base import DeliveryError
from alerts.channels.registry import build_channels, close_all
from alerts.channels.webhook import fill_township
from alerts.message import outbound
from cdm import db
from cdm.i18n import Term
from cdm.metrics import observe_delivery
from cdm.settings import Settings

log = logging.getLogger(__name__)

CLAIM_LIMIT = 50
POLL_S = 1.0


def backoff(attempts: int, *, base_s: float = 2.0, max_s: float = 600.0) -> timedelta:
    """Wait before the next attempt: base, 2 x base, 4 x base … seconds, at most `max_s`."""
    return timedelta(seconds=min(base_s * 2 ** (attempts - 1), max_s))


def _observe(due: repo.Due, attempt: repo.Attempt) -> None:
    """Count a recorded attempt; a delivery also times commit (the notification's creation) to delivered."""
    result = "delivered" if attempt.ok else ("retry" if attempt.retry_in is not None else "failed")
    seconds = (attempt.finished - due.created_at).total_seconds() if attempt.ok else None
    observe_delivery(channel=due.channel, centre=due.recipient, result=result, seconds=seconds)


class Dispatcher:
    """One dispatcher; several may run at once (claims skip each other's rows)."""

    def __init__(self, settings: Settings, *, stop: threading.Event | None = None) -> None:
        if not settings.database_url:
            raise ValueError("CDM_DATABASE_URL is not set")
        self.settings = settings
        self.stop = stop or threading.Event()
        self.channels = build_channels(
            settings, failure_threshold=settings.notify_breaker_failures, cooldown_s=settings.notify_breaker_cooldown_s
        )
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="send")

    def run(self) -> None:
        """Dispatch until `stop` is set, reconnecting to the store whenever it goes away."""
        try:
            while not self.stop.is_set():
                try:
                    self._serve()
                except psycopg.OperationalError as exc:
                    log.warning("store unavailable (%s); dispatcher reconnects", exc)
                    self.stop.wait(2.0)
        finally:
            self._pool.shutdown(wait=True)
            close_all(self.channels)

    def _serve(self) -> None:
        url = self.settings.database_url or ""
        with (
            db.connect(url, autocommit=True, app="cdm-dispatch") as listen,
            db.connect(url, autocommit=True, app="cdm-dispatch") as conn,
        ):
            repo.listen_for_outbox(listen)
            log.info("dispatcher listening")
            while not self.stop.is_set():
                if self.dispatch_once(conn) == 0:
                    for _ in listen.notifies(timeout=POLL_S, stop_after=1):
                        pass

    def dispatch_once(self, conn: psycopg.Connection) -> int:
        """Claim what is due and send it all concurrently; returns how many were attempted."""
        lease = timedelta(seconds=self.settings.notify_lease_s)
        due = repo.claim_due(conn, limit=CLAIM_LIMIT, lease=lease)
        for d, future in [(d, self._pool.submit(self._send, d)) for d in due]:
            attempt = future.result()
            repo.record_attempt(conn, d, attempt)
            _observe(d, attempt)
        return len(due)

    def _address(self, due: repo.Due) -> str:
        if due.address:
            return due.address
        template = {"township": self.settings.notify_township_url, "county": self.settings.notify_county_url}.get(
            due.recipient
        )
        if due.channel == "webhook" and template:
            return fill_township(template, due.township_code)
        if due.recipient == "assignee":  # a doctor's own mobile: no centre's contact stands in for it
            raise DeliveryError("delivery.no_phone_assignee", username=due.body.get("assignee", "?"), permanent=True)
        hint = f"CDM_NOTIFY_{due.recipient.upper()}_URL or " if due.recipient in ("township", "county") else ""
        raise DeliveryError(
            "delivery.no_address",
            recipient=Term(f"alert.recipient.{due.recipient}"),
            channel=due.channel,
            hint=hint,
            permanent=True,
        )

    def _send(self, due: repo.Due) -> repo.Attempt:
        started = datetime.now(UTC)
        try:
            message = outbound(body=due.body, address=self._address(due), idempotency_key=due.idempotency_key)
            channel = self.channels.get(due.channel)
            if channel is None:
                raise DeliveryError("delivery.unknown_channel", channel=due.channel, permanent=True)
            receipt = channel.send(message)
            return repo.Attempt(started, datetime.now(UTC), ok=True, http_status=receipt.status, receipt=receipt.text)
        except DeliveryError as exc:
            return self._failed(due, exc, started)

    def _failed(self, due: repo.Due, exc: DeliveryError, started: datetime) -> repo.Attempt:
        finished = datetime.now(UTC)
        age = (finished - due.created_at).total_seconds()
        give_up = exc.permanent or age >= self.settings.notify_give_up_after_s
        why = exc.text(self.settings.language)  # kept for staff and logged in the county's language
        log.warning(
            "notification %s (%s via %s) not delivered, attempt %s%s: %s",
            due.id,
            due.recipient,
            due.channel,
            due.attempts,
            "; left for staff" if give_up else "",
            why,
        )
        retry_in = (
            None
            if give_up
            else backoff(due.attempts, base_s=self.settings.notify_retry_base_s, max_s=self.settings.notify_retry_max_s)
        )
        return repo.Attempt(started, finished, ok=False, http_status=exc.status, error=why[:500], retry_in=retry_in)
