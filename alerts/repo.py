"""SQL of the alert stage: alerts and their outbox, written in the transaction of the reading that caused them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from alerts.decide import AlertDecision
from cdm.domain import Change, SittingQuestion, SittingVerdicts
from cdm.privacy import mask_card

OUTBOX_CHANNEL = "cdm_outbox"  # LISTEN/NOTIFY channel that wakes the dispatcher at commit


def patient_places(conn: psycopg.Connection, patient_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Where each patient lives (village, township, county, team), with the card number masked."""
    rows = conn.execute(
        "select p.id, p.health_card_no, v.name, t.id, t.code, t.name, c.id, c.name, p.team_id"
        " from patient p join region v on v.id = p.village_id join region t on t.id = v.parent_id"
        " join region c on c.id = t.parent_id where p.id = any(%s)",
        (list(patient_ids),),
    )
    return {
        r[0]: {
            "card": mask_card(r[1]),
            "village": r[2],
            "township_id": r[3],
            "township_code": r[4],
            "township": r[5],
            "county_id": r[6],
            "county": r[7],
            "team_id": r[8],
        }
        for r in rows
    }


def insert_alert(
    conn: psycopg.Connection, *, change: Change, decision: AlertDecision, township_id: int, now: datetime
) -> int | None:
    """Open an alert for a patient who turned red; None when an open alert of that kind already stands."""
    reasons, evidence = list(change.assessment.reasons), list(change.assessment.evidence)
    facts = Jsonb(dict(change.assessment.facts))  # each reason's figures and target (assess.reasons words them)
    row = conn.execute(
        "insert into alert (patient_id, kind, severity, reasons, evidence, township_id, opened_at, last_seen_at,"
        " latest_evidence, reason_facts) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " on conflict (patient_id, kind) where status <> 'closed' do nothing returning id",
        (
            change.patient_id,
            decision.kind,
            decision.severity,
            reasons,
            evidence,
            township_id,
            now,
            now,
            evidence,
            facts,
        ),
    ).fetchone()
    return int(row[0]) if row else None


def wake_dispatcher(conn: psycopg.Connection, alert_ids: Sequence[int]) -> None:
    """Wake dispatchers at commit; the payload (alert ids) lets a benchmark time the commit."""
    conn.execute("select pg_notify(%s, %s)", (OUTBOX_CHANNEL, ",".join(map(str, alert_ids))))


def listen_for_outbox(conn: psycopg.Connection) -> None:
    """Have this (autocommit) connection hear the outbox's wake-ups."""
    conn.execute(f"listen {OUTBOX_CHANNEL}")  # a constant of this module, not input


def add_event(
    conn: psycopg.Connection, *, alert_id: int, actor: str, event: str, at: datetime, detail: dict[str, Any]
) -> None:
    """Keep one step of an alert's life, with who took it."""
    conn.execute(
        "insert into alert_event (alert_id, at, actor, event, detail) values (%s, %s, %s, %s, %s)",
        (alert_id, at, actor, event, Jsonb(detail)),
    )


def add_notification(
    conn: psycopg.Connection,
    *,
    alert_id: int,
    recipient: str,
    region_id: int,
    channel: str,
    body: dict[str, Any],
    team_id: int | None = None,
    address: str | None = None,
    purpose: str = "alert",
) -> None:
    """Put one notification of an alert for `recipient` in the outbox (a repeat of the same one is ignored)."""
    conn.execute(
        "insert into notification (alert_id, recipient, region_id, channel, body, team_id, address, purpose)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
        (alert_id, recipient, region_id, channel, Jsonb(body), team_id, address, purpose),
    )


@dataclass(frozen=True, slots=True)
class Due:
    """A notification claimed for sending."""

    id: int
    recipient: str
    channel: str
    address: str | None  # its own, or its region's centre contact (never for a person: 'assignee'); None: settings
    township_code: str
    idempotency_key: str
    body: dict[str, Any]
    attempts: int
    created_at: datetime


def claim_due(conn: psycopg.Connection, *, limit: int, lease: timedelta) -> list[Due]:
    """Take up to `limit` due notifications for this dispatcher; a lease that runs out (a dispatcher killed
    mid-send) makes them due again, so nothing is lost."""
    rows = conn.execute(
        "update notification n set status = 'sending', attempts = n.attempts + 1, next_attempt_at = now() + %s"
        " from alert a join region t on t.id = a.township_id"
        " where a.id = n.alert_id and n.id in (select id from notification where status in ('pending', 'sending')"
        " and next_attempt_at <= now() order by next_attempt_at, id for update skip locked limit %s)"
        " returning n.id, n.recipient, n.channel, coalesce(n.address, (select c.address from contact c"
        "   where n.recipient <> 'assignee' and c.active and c.role = 'centre' and c.region_id = n.region_id"
        "   and c.channel = n.channel"
        "   order by c.id limit 1)), t.code, n.idempotency_key::text, n.body, n.attempts, n.created_at",
        (lease, limit),
    ).fetchall()
    return [Due(*r) for r in rows]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at delivering a notification, and what the receiver answered."""

    started: datetime
    finished: datetime
    ok: bool
    http_status: int | None = None
    receipt: str | None = None
    error: str | None = None
    retry_in: timedelta | None = None  # None after a failure: give up and leave it for staff


def record_attempt(conn: psycopg.Connection, due: Due, attempt: Attempt) -> None:
    """Keep the attempt; mark the notification delivered, due again later, or failed (for staff to retry)."""
    conn.execute(
        "insert into notification_attempt (notification_id, started_at, finished_at, ok, http_status, receipt, error)"
        " values (%s, %s, %s, %s, %s, %s, %s)",
        (due.id, attempt.started, attempt.finished, attempt.ok, attempt.http_status, attempt.receipt, attempt.error),
    )
    if attempt.ok:
        conn.execute(
            "update notification set status = 'delivered', delivered_at = %s, last_error = null where id = %s",
            (attempt.finished, due.id),
        )
    elif attempt.retry_in is None:
        conn.execute(
            "update notification set status = 'failed', last_error = %s where id = %s", (attempt.error, due.id)
        )
    else:
        conn.execute(
            "update notification set status = 'pending', last_error = %s, next_attempt_at = %s where id = %s",
            (attempt.error, attempt.finished + attempt.retry_in, due.id),
        )


def list_notifications(conn: psycopg.Connection, *, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Notifications for staff, newest first: recipient, channel, status, attempts and the last error."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select id, alert_id, recipient, channel, status, attempts, created_at, delivered_at, last_error"
            " from notification where %s::text is null or status = %s order by id desc limit %s",
            (status, status, limit),
        ).fetchall()


def retry_notifications(conn: psycopg.Connection, *, ids: Sequence[int] | None) -> int:
    """Put failed notifications (all of them, or the given ids) back in the outbox, due now."""
    cur = conn.execute(
        "update notification set status = 'pending', next_attempt_at = now(), created_at = now()"
        " where status = 'failed' and (%s::bigint[] is null or id = any(%s))",
        (list(ids) if ids else None, list(ids) if ids else None),
    )
    if cur.rowcount:
        conn.execute("select pg_notify(%s, '')", (OUTBOX_CHANNEL,))
    return cur.rowcount


def pending_sittings(
    conn: psycopg.Connection, *, patient_ids: Sequence[int], since: datetime, now: datetime
) -> list[SittingQuestion]:
    """BP alerts opened since `since` whose sitting is not settled yet: those of `patient_ids` (a new reading may
    have grown or closed the sitting), those not looked at yet, and those whose sitting time alone has closed by
    `now`. Rows another transaction holds are skipped: it is settling them."""
    rows = conn.execute(
        "select id, patient_id, evidence, opened_at from alert"
        " where sitting_confirmed is null and 'bp_critical' = any (reasons) and opened_at >= %s"
        " and (patient_id = any(%s) or sitting_open_until is null or sitting_open_until <= %s)"
        " order by id for update skip locked",
        (since, list(patient_ids), now),
    ).fetchall()
    return [SittingQuestion(r[0], r[1], tuple(r[2]), r[3]) for r in rows]


def set_sittings(conn: psycopg.Connection, answers: SittingVerdicts) -> None:
    """Record, per alert id, whether its sitting confirmed the critical reading, or until when it stays open."""
    verdicts, open_until = answers.confirmed, answers.open_until
    if verdicts:
        conn.execute(
            "update alert a set sitting_confirmed = v.confirmed, sitting_open_until = null"
            " from unnest(%s::bigint[], %s::boolean[]) as v (id, confirmed) where a.id = v.id",
            (list(verdicts), list(verdicts.values())),
        )
    if open_until:
        conn.execute(
            "update alert a set sitting_open_until = v.until"
            " from unnest(%s::bigint[], %s::timestamptz[]) as v (id, until) where a.id = v.id",
            (list(open_until), list(open_until.values())),
        )


def lower_unconfirmed(
    conn: psycopg.Connection, alert_ids: Sequence[int], *, means: Mapping[int, tuple[int, int]] | None = None
) -> list[dict[str, Any]]:
    """Lower the critical alerts whose sitting did not confirm them to 'warning'; the rows lowered, with their
    status (an alert lowered once is not lowered, nor notified, again). `means`: per alert, its sitting's mean,
    kept with the critical reading's figures ("…，同次测量均值 160/91 mmHg 未达 ≥180/110（复测未证实）")."""
    if not alert_ids:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "update alert set severity = 'warning' where id = any(%s) and severity = 'critical'"
            " returning id, patient_id, kind, severity, status, reasons, evidence, opened_at, reason_facts",
            (list(alert_ids),),
        ).fetchall()
    for row in rows:
        mean, critical = (means or {}).get(row["id"]), (row["reason_facts"] or {}).get("bp_critical")
        if mean is not None and critical is not None:
            row["reason_facts"] = {**row["reason_facts"], "bp_critical": {**critical, "sitting": list(mean)}}
            conn.execute("update alert set reason_facts = %s where id = %s", (Jsonb(row["reason_facts"]), row["id"]))
    return rows


def silent_reds(
    conn: psycopg.Connection, patient_ids: Iterable[int]
) -> dict[int, tuple[list[str], float, list[str], dict[str, Any]]]:
    """Red patients whose red raised no alert (a replayed buffer turned them red): id -> reasons, priority,
    evidence, reason facts. A fresh urgent reading of theirs must still alert, although their colour does not
    change."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    rows = conn.execute(
        "select a.patient_id, a.reasons, a.priority, a.evidence, a.reason_facts from assessment_current a"
        " where a.patient_id = any(%s) and a.colour = 'red' and not exists"
        " (select 1 from alert x where x.patient_id = a.patient_id and x.opened_at >= a.colour_since)",
        (ids,),
    )
    return {r[0]: (list(r[1]), float(r[2]), list(r[3]), dict(r[4] or {})) for r in rows}
