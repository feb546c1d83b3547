"""The two reminder jobs: plan what each patient is due, and send what is due now through the SMS channel.

Sending claims one reminder at a time with FOR UPDATE SKIP LOCKED and keeps the row locked until its result is
committed, so any number of workers may send at once and none sends a reminder another holds or has sent.
A sender that dies mid-send rolls back; the reminder is sent again with the same idempotency key.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.channels.base import Channel, DeliveryError, OutboundMessage
from alerts.reminders import repo
from alerts.reminders.logic import Policy, local_day, plan, recheck, render, template_values
from cdm import db
from cdm.privacy import mask_phone
from cdm.settings import Settings

log = logging.getLogger(__name__)

PLAN_CHUNK = 500  # patients whose facts are read in one query
SEND_LIMIT = 1000  # reminders one run sends at most; the next run, a minute later, carries on
MAX_ATTEMPTS = 5  # with the backoff below, about half an hour of retrying a gateway that is down


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def plan_reminders(settings: Settings, *, now: datetime | None = None) -> int:
    """Record every reminder that patients are due as of `now`; return how many new rows were recorded."""
    policy, now = Policy.from_settings(settings), now or datetime.now(UTC)
    recorded = failed = 0
    with db.connect(settings.database_url or "", app="cdm-reminders") as conn:
        ids = repo.reachable_patients(conn)
        for start in range(0, len(ids), PLAN_CHUNK):
            for facts in repo.load_facts(conn, ids[start : start + PLAN_CHUNK], day=local_day(now, policy)):
                try:
                    with conn.transaction():  # a savepoint: one patient's failure leaves the others' rows
                        recorded += repo.insert_planned(conn, plan(facts, now=now, policy=policy))
                except Exception:
                    failed += 1
                    log.exception("planning reminders failed for patient %s", facts.patient_id)
            conn.commit()
    log.info("reminders planned: %s new, %s patients failed", recorded, failed)
    return recorded


def sms_channel(settings: Settings) -> Channel:
    """The SMS channel of this deployment (behind its circuit breaker)."""
    from alerts.channels.registry import build_channels

    return build_channels(settings)["sms"]


def send_due_reminders(
    settings: Settings, channel: Channel | None = None, *, now: datetime | None = None, limit: int = SEND_LIMIT
) -> Counter[str]:
    """Send what is due; re-check quiet hours, cap, opt-out and relevance first. Counts per outcome."""
    with db.connect(settings.database_url or "", autocommit=True, app="cdm-reminders") as conn:
        repo.skip_unreachable(conn)
        if not repo.has_due(conn, now=now or datetime.now(UTC)):
            return Counter()  # the usual minute: no channel built, no connection to the gateway opened
        own = channel is None
        channel = channel or sms_channel(settings)
        try:
            totals = _send_all(conn, channel, policy=Policy.from_settings(settings), now=now, limit=limit)
        finally:
            if own:
                channel.close()
    if totals:
        log.info("reminders: %s", dict(totals))
    return totals


def _send_all(
    conn: psycopg.Connection, channel: Channel, *, policy: Policy, now: datetime | None, limit: int
) -> Counter[str]:
    totals, broken = Counter[str](), set[int]()
    while sum(totals.values()) < limit:
        at = now or datetime.now(UTC)
        try:
            with conn.transaction():
                outcome = _send_one(conn, channel, now=at, policy=policy, broken=broken)
        except Exception:  # one reminder's failure must not stop the others; it is left out of this run
            log.exception("reminder could not be processed")
            outcome = "error"
        if outcome is None:
            break
        totals[outcome] += 1
    return totals


def _send_one(
    conn: psycopg.Connection, channel: Channel, *, now: datetime, policy: Policy, broken: set[int]
) -> str | None:
    claimed = repo.claim_next_due(conn, now=now, exclude=broken)
    if claimed is None:
        return None
    broken.add(claimed.id)  # taken back out below once the outcome is recorded
    phone = claimed.phone
    facts = repo.load_facts(conn, [claimed.patient_id], day=local_day(now, policy))
    if not phone or not facts:
        repo.mark_skipped(conn, claimed.id, reason="no_contact")
        outcome = "skipped"
    else:
        verdict = recheck(
            claimed.kind, claimed.due_key, planned_for=claimed.planned_for, facts=facts[0], now=now, policy=policy
        )
        if verdict.action == "skip":
            repo.mark_skipped(conn, claimed.id, reason=verdict.reason or "unknown")
            outcome = "skipped"
        elif verdict.action == "defer" and verdict.until is not None:
            repo.defer(conn, claimed.id, until=verdict.until)
            outcome = "deferred"
        else:
            outcome = _deliver(conn, channel, claimed, phone=phone, now=now, policy=policy)
    broken.discard(claimed.id)
    return outcome


def _deliver(
    conn: psycopg.Connection, channel: Channel, claimed: repo.Claimed, *, phone: str, now: datetime, policy: Policy
) -> str:
    title, text = render(claimed.kind, claimed.params, now=now, policy=policy)
    message = OutboundMessage(
        address=phone,
        title=title,
        text=text,
        idempotency_key=claimed.idempotency_key,
        body={"kind": claimed.kind.value, "text": text},
        template=f"reminder.{claimed.kind.value}",  # the gateway maps this name to the county's approved template
        params=template_values(claimed.kind, claimed.params, now=now, policy=policy),
    )
    try:
        receipt = channel.send(message)
    except DeliveryError as exc:
        error = exc.text(policy.lang).replace(phone, mask_phone(phone))  # error texts are shown to staff and logged
        give_up = exc.permanent or claimed.attempts + 1 >= MAX_ATTEMPTS
        retry_at = None if give_up else now + retry_delay(claimed.attempts + 1)
        repo.mark_failed(conn, claimed.id, error=error, retry_at=retry_at)
        log.warning("reminder %s to %s not delivered (%s): %s", claimed.id, mask_phone(phone), claimed.kind, error)
        return "failed" if give_up else "retrying"
    repo.mark_sent(conn, claimed.id, at=now, receipt=receipt.text)
    log.info("reminder %s (%s) sent to patient %s", claimed.id, claimed.kind, claimed.patient_id)
    return "sent"
