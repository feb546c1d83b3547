"""What a township (or county) user does with an alert from the screens: acknowledge, record an action, close.

The transitions are alerts.workflow.service's; this adds the scope check (nobody acts on an alert they cannot see) and
the audit record, in the same transaction as the change.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from alerts.workflow import service as workflow
from alerts.workflow.logic import TransitionError
from dashboard import audit
from dashboard.access import Principal, Role
from dashboard.alerts.logic import refusal_key
from dashboard.alerts.repo import alert_in_scope, alert_status

MOVES = ("acknowledge", "act", "close")


class Refused(TransitionError):
    """A step the screens refuse before asking the workflow; `key` is the catalogue's message."""


def apply(
    conn: psycopg.Connection,
    *,
    principal: Principal,
    alert_id: int,
    move: str,
    now: datetime,
    action: str | None = None,
    outcome: str | None = None,
    screen: str,
) -> str:
    """Move the alert and audit it; its new status. Refused (a TransitionError with a catalogue key) when the
    move is not allowed; acting on or closing an alert nobody has acknowledged is refused, never a silent ack."""
    with conn.transaction():
        patient_id = alert_in_scope(conn, principal=principal, alert_id=alert_id)
        if patient_id is None:
            raise Refused("alerts.refused.other")  # none that this person may see
        refused = refusal_key(alert_status(conn, alert_id) or "closed", move, action=action, outcome=outcome)
        if refused:
            raise Refused(refused)
        actor = principal.username
        if move == "acknowledge":
            row = workflow.acknowledge(conn, alert_id=alert_id, actor=actor, now=now)
        elif move == "act":
            row = workflow.record_action(conn, alert_id=alert_id, actor=actor, action=action or "", now=now)
        elif move == "close":
            row = workflow.close(conn, alert_id=alert_id, actor=actor, outcome=outcome or "", now=now)
        else:
            raise TransitionError("workflow.refused.unknown_step", move=move)
        # The outcome is free text and could name a person or a number: the alert keeps it, the audit does not.
        detail: dict[str, object] = {"alert_id": alert_id, **({"action": action} if action else {})}
        audit.record(
            conn, principal=principal, action=f"alert_{move}", patient_id=patient_id, screen=screen, detail=detail
        )
    return str(row["status"])


def assign(
    conn: psycopg.Connection,
    *,
    principal: Principal,
    alert_id: int,
    assignee_id: int | None,
    now: datetime,
    screen: str,
    lang: str,
) -> str:
    """Assign an unclosed alert to a named person of its township (its health centre or one of its family-doctor
    teams), audited; the assignee's username. The person is told by SMS (alerts.workflow.service.assign; `lang`,
    the county's language, when their account has none). Refused (with a catalogue key) for a team account, an
    alert the person cannot see or that is closed, and anyone outside the alert's township."""
    with conn.transaction():
        if principal.role is Role.TEAM:
            raise Refused("alerts.refused.assign_role")  # the township or the county decides who takes an alert
        patient_id = alert_in_scope(conn, principal=principal, alert_id=alert_id)
        if patient_id is None:
            raise Refused("alerts.refused.other")
        if (alert_status(conn, alert_id) or "closed") == "closed":
            raise Refused("alerts.refused.closed")
        if assignee_id is None:
            raise Refused("alerts.refused.assignee_missing")
        try:
            person = workflow.assign(
                conn, alert_id=alert_id, actor=principal.username, who=assignee_id, now=now, lang=lang
            )
        except TransitionError as exc:  # the workflow checks who may take it; the screen says it in its words
            if exc.key == "workflow.refused.assignee_scope":
                raise Refused("alerts.refused.assignee_scope") from None
            raise
        audit.record(
            conn,
            principal=principal,
            action="alert_assign",
            patient_id=patient_id,
            screen=screen,
            detail={"alert_id": alert_id, "assignee": person.username},
        )
    return person.username
