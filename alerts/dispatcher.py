"""Sends the outbox: wakes on NOTIFY at commit (or polls each second), claims due notifications, sends the
township's and the county's at the same moment, and records every attempt."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg

from alerts import repo
from alerts.channels import DeliveryError, WebhookChannel
from cdm import db
from cdm.settings import Settings

log = logging.getLogger(__name__)

CLAIM_LIMIT = 50
LEASE = timedelta(seconds=60)  # longer than a send with its timeout; a dispatcher dead for longer loses its claim
MAX_ATTEMPTS = 12  # with the backoff below, about 40 minutes of retrying before staff must step in
POLL_S = 1.0


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 2, 4, 8 … seconds, at most 10 minutes."""
    return timedelta(seconds=min(2**attempts, 600))


class Dispatcher:
    """One dispatcher; several may run at once (claims skip each other's rows)."""

    def __init__(self, settings: Settings, *, stop: threading.Event | None = None) -> None:
        if not settings.database_url:
            raise ValueError("CDM_DATABASE_URL is not set")
        self.settings = settings
        self.stop = stop or threading.Event()
        self.channel = WebhookChannel(
            township_url=settings.notify_township_url,
            county_url=settings.notify_county_url,
            secret=settings.webhook_secret.get_secret_value(),
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
            self.channel.close()

    def _serve(self) -> None:
        url = self.settings.database_url or ""
        with (
            db.connect(url, autocommit=True, app="cdm-dispatch") as listen,
            db.connect(url, autocommit=True, app="cdm-dispatch") as conn,
        ):
            listen.execute(f"listen {repo.OUTBOX_CHANNEL}")
            while not self.stop.is_set():
                if self.dispatch_once(conn) == 0:
                    for _ in listen.notifies(timeout=POLL_S, stop_after=1):
                        pass

    def dispatch_once(self, conn: psycopg.Connection) -> int:
        """Claim what is due and send it all concurrently; returns how many were attempted."""
        due = repo.claim_due(conn, limit=CLAIM_LIMIT, lease=LEASE)
        for d, future in [(d, self._pool.submit(self._send, d)) for d in due]:
            repo.record_attempt(conn, d, future.result())
        return len(due)

    def _send(self, due: repo.Due) -> repo.Attempt:
        started = datetime.now(UTC)
        url = self.channel.url_for(recipient=due.recipient, township_code=due.township_code)
        try:
            if url is None:
                env = f"CDM_NOTIFY_{due.recipient.upper()}_URL"
                raise DeliveryError(f"no webhook address for the {due.recipient} (set {env})")
            receipt = self.channel.send(url=url, body=due.body, idempotency_key=due.idempotency_key)
            return repo.Attempt(started, datetime.now(UTC), ok=True, http_status=receipt.status, receipt=receipt.text)
        except DeliveryError as exc:
            log.warning(
                "notification %s to the %s not delivered (attempt %s): %s", due.id, due.recipient, due.attempts, exc
            )
            retry_in = backoff(due.attempts) if due.attempts < MAX_ATTEMPTS else None
            return repo.Attempt(
                started, datetime.now(UTC), ok=False, http_status=exc.status, error=str(exc)[:500], retry_in=retry_in
            )
