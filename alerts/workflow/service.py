"""What people and the scheduler do with alerts: acknowledge, record an action, close; fold repeats; escalate."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from alerts import repo
from alerts.channels.addresses import check_address
from alerts.channels.base import DeliveryError
from alerts.message import notification_body
from alerts.workflow import repo as workflow_repo
from alerts.workflow.logic import CHANNELS, CONTACT_ROLES, TransitionError, due_steps, next_status
from cdm import db
from cdm.i18n import Refusal
from cdm.settings import Settings

log = logging.getLogger(__name__)

SYSTEM = "system"


def acknowledge(conn: psycopg.Connection, *, alert_id: int, actor: str, now: datetime) -> dict[str, Any]:
    """The township (or county) has seen the alert and takes it on."""
    return _move(
        conn,
        alert_id=alert_id,
        actor=actor,
        now=now,
        move="acknowledge",
        fields={"acknowledged_at": now, "acknowledged_by": actor},
    )


def record_action(
    conn: psycopg.Connection, *, alert_id: int, actor: str, action: str, now: datetime, note: str = ""
) -> dict[str, Any]:
    """A family doctor phoned, visited or referred the patient."""
    return _move(
        conn,
        alert_id=alert_id,
        actor=actor,
        now=now,
        move="act",
        action=action,
        note=note,
        fields={"actioned_at": now, "actioned_by": actor, "action": action},
    )


def close(conn: psycopg.Connection, *, alert_id: int, actor: str, outcome: str, now: datetime) -> dict[str, Any]:
    """The loop is closed, with an outcome the county can measure."""
    return _move(
        conn,
        alert_id=alert_id,
        actor=actor,
        now=now,
        move="close",
        outcome=outcome,
        fields={"closed_at": now, "closed_by": actor, "outcome": outcome},
    )


def assign(
    conn: psycopg.Connection, *, alert_id: int, actor: str, who: int | str, now: datetime, lang: str
) -> workflow_repo.Assignee:
    """Name the doctor who takes the alert on (account id or username), a person of the alert's township health
    centre or one of its family-doctor teams; the status is unchanged. The doctor is told by SMS in the same
    transaction (in their own language, else `lang`, the county's), unless they assigned it to themselves. Who may
    assign is the caller's to check (dashboard.alerts.service); a TransitionError for a closed alert or a person
    it cannot be given to."""
    with conn.transaction():
        alert = _locked(conn, alert_id, actor)
        if alert["status"] == "closed":
            raise TransitionError("workflow.refused.assign_closed")
        person = workflow_repo.assignee(conn, alert_id=alert_id, who=who)
        if person is None:
            raise TransitionError("workflow.refused.assignee_scope", who=who)
        workflow_repo.update_alert(conn, alert_id, {"assigned_to": person.id, "assigned_at": now, "assigned_by": actor})
        repo.add_event(
            conn, alert_id=alert_id, actor=actor, event="assigned", at=now, detail={"assignee": person.username}
        )
        if person.username != actor:
            place = repo.patient_places(conn, [alert["patient_id"]])[alert["patient_id"]]
            repo.add_notification(
                conn,
                alert_id=alert_id,
                recipient="assignee",
                region_id=place["township_id"],
                channel="sms",
                address=person.phone,  # None: the notification fails where staff see it, naming what to set
                body={
                    **notification_body(alert=alert, recipient="assignee", place=place, lang=person.language or lang),
                    "assignee": person.username,
                },
            )
            repo.wake_dispatcher(conn, [alert_id])
    return person


def _locked(conn: psycopg.Connection, alert_id: int, actor: str) -> dict[str, Any]:
    """The alert, locked for the caller's transaction; TransitionError when nobody is named or it does not exist."""
    if not actor.strip():
        raise TransitionError("workflow.refused.no_actor")
    alert = workflow_repo.lock_alert(conn, alert_id)
    if alert is None:
        raise TransitionError("workflow.refused.no_alert", alert_id=alert_id)
    return alert


def _move(
    conn: psycopg.Connection,
    *,
    alert_id: int,
    actor: str,
    now: datetime,
    move: str,
    fields: dict[str, Any],
    action: str | None = None,
    outcome: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    with conn.transaction():
        alert = _locked(conn, alert_id, actor)
        status = next_status(alert["status"], move, action=action, outcome=outcome)
        if move == "act" and alert["acknowledged_at"] is None:
            fields = {**fields, "acknowledged_at": now, "acknowledged_by": actor}  # acting implies having seen it
        workflow_repo.update_alert(conn, alert_id, {"status": status, **fields})
        detail = {k: v for k, v in (("action", action), ("outcome", outcome), ("note", note)) if v}
        event = {"acknowledge": "acknowledged", "act": "actioned", "close": "closed"}[move]
        repo.add_event(conn, alert_id=alert_id, actor=actor, event=event, at=now, detail=detail)
    return workflow_repo.alert_row(conn, alert_id)


def fold_repeats(
    conn: psycopg.Connection, repeats: dict[int, list[str]], *, now: datetime, new_alerts: Sequence[int]
) -> list[int]:
    """Count further urgent readings on the patient's open alert instead of raising another."""
    folded = workflow_repo.record_repeats(conn, repeats, now=now, opened=new_alerts)
    for alert_id in folded:
        repo.add_event(conn, alert_id=alert_id, actor=SYSTEM, event="repeated", at=now, detail={})
    return folded


def escalate(conn: psycopg.Connection, *, now: datetime, settings: Settings) -> dict[str, int]:
    """Apply every escalation step that has come due (inside the caller's transaction)."""
    policy = workflow_repo.load_policy(conn)
    counts = {"escalated": 0, "overdue": 0}
    candidates = workflow_repo.escalation_candidates(conn, now=now)
    places = repo.patient_places(conn, [pid for _, pid, _ in candidates])
    for alert_id, patient_id, state in candidates:
        for step in due_steps(state, policy, now=now):
            if step.step == "ack":
                _notify_more(
                    conn, alert_id=alert_id, place=places[patient_id], recipients=step.notify, settings=settings
                )
                workflow_repo.update_alert(conn, alert_id, {"escalated_at": now})
                repo.add_event(
                    conn,
                    alert_id=alert_id,
                    actor=SYSTEM,
                    event="escalated",
                    at=now,
                    detail={"notify": list(step.notify)},
                )
                counts["escalated"] += 1
            else:
                workflow_repo.update_alert(conn, alert_id, {"overdue_at": now})
                repo.add_event(conn, alert_id=alert_id, actor=SYSTEM, event="overdue", at=now, detail={})
                counts["overdue"] += 1
    return counts


def _notify_more(
    conn: psycopg.Connection, *, alert_id: int, place: dict[str, Any], recipients: Sequence[str], settings: Settings
) -> None:
    alert = workflow_repo.alert_row(conn, alert_id)
    for recipient in recipients:
        where = {"region_id": place["county_id"]} if recipient == "county_on_duty" else {"team_id": place["team_id"]}
        role = "on_duty" if recipient == "county_on_duty" else "team"
        found: list[tuple[str, str | None]] = list(workflow_repo.contacts(conn, role=role, **where))
        # No contact on file still makes a notification: it fails visibly, naming what to register.
        for channel, address in found or [("sms", None)]:
            repo.add_notification(
                conn,
                alert_id=alert_id,
                recipient=recipient,
                channel=channel,
                address=address,
                region_id=place["county_id"],
                team_id=place["team_id"],
                body=notification_body(alert=alert, recipient=recipient, place=place, lang=settings.language),
            )
    repo.wake_dispatcher(conn, [alert_id])


def run_escalation(settings: Settings) -> dict[str, int]:
    """The scheduled job: escalate what is due now, in one transaction per batch."""
    with db.connect(settings.database_url or "", app="cdm-escalation") as conn, conn.transaction():
        counts = escalate(conn, now=datetime.now(UTC), settings=settings)
    if any(counts.values()):
        log.info("escalation: %s", counts)
    return counts


def checked_contact(role: str, channel: str, address: str) -> str:
    """The address a contact of this role is reached at on `channel`, as the channel sends to it; a Refusal naming
    what to change when the role or channel is not one of ours or the address is not one the channel can use."""
    if role not in CONTACT_ROLES:
        raise Refusal("contacts.refused.role", role=role, roles=" / ".join(CONTACT_ROLES))
    if channel not in CHANNELS:
        raise Refusal("contacts.refused.channel", channel=channel, channels=" / ".join(CHANNELS))
    try:
        return check_address(channel, address)
    except DeliveryError as exc:
        raise Refusal("contacts.refused.address", channel=channel, reason=exc) from None


def add_contact(
    conn: psycopg.Connection, *, role: str, channel: str, address: str, region: str | None, team: str | None
) -> str:
    """Register where a centre, the county's person on duty or a team is reached (`cdm contacts add`): of exactly
    one region or team, checked first; returns the address as kept."""
    address = checked_contact(role, channel, address)
    if (region is None) == (team is None):
        raise Refusal("contacts.refused.owner")
    region_id = workflow_repo.region_id(conn, region) if region else None
    team_id = workflow_repo.team_id(conn, team) if team else None
    workflow_repo.add_contact(conn, role=role, channel=channel, address=address, region_id=region_id, team_id=team_id)
    return address
