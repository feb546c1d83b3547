"""The alert lifecycle as pure rules: open → acknowledged → actioned → closed, who may move it, and when
escalation is due. No I/O; alerts/workflow.py applies these to the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cdm.i18n import Refusal, Term

ACTIONS = ("phone_call", "home_visit", "referral")
CONTACT_ROLES = ("centre", "on_duty", "team")  # who a contact reaches: a centre, the county's person on duty, a team
CHANNELS = ("webhook", "wecom", "sms", "email")
_ALLOWED = {
    "acknowledge": ({"open"}, "acknowledged"),
    "act": ({"open", "acknowledged", "actioned"}, "actioned"),  # several actions may be recorded
    "close": ({"open", "acknowledged", "actioned"}, "closed"),
}


class TransitionError(Refusal):
    """A request that the alert's state does not allow, explained for the person who asked (a catalogue key)."""


def next_status(current: str, move: str, *, action: str | None = None, outcome: str | None = None) -> str:
    """The status after `move`, or a TransitionError saying why not."""
    if move not in _ALLOWED:
        raise TransitionError("workflow.refused.unknown_step", move=move)
    sources, target = _ALLOWED[move]
    if current not in sources:
        raise TransitionError(
            "workflow.refused.status", current=Term(f"alert.status.{current}"), target=Term(f"alert.status.{target}")
        )
    if move == "act" and action not in ACTIONS:
        raise TransitionError("workflow.refused.action", actions=", ".join(ACTIONS))
    if move == "close" and not (outcome and outcome.strip()):
        raise TransitionError("workflow.refused.outcome")
    return target


@dataclass(frozen=True, slots=True)
class PolicyStep:
    severity: str
    step: str  # "ack": notify more people; "action": mark overdue
    after: timedelta
    notify: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertState:
    severity: str
    status: str
    opened_at: datetime
    escalated_at: datetime | None
    overdue_at: datetime | None


def due_steps(alert: AlertState, policy: list[PolicyStep], *, now: datetime) -> list[PolicyStep]:
    """The policy steps that have come due for this alert and were not taken yet."""
    due = []
    for step in policy:
        if step.severity != alert.severity or now < alert.opened_at + step.after:
            continue
        unacknowledged = step.step == "ack" and alert.status == "open" and alert.escalated_at is None
        no_action = step.step == "action" and alert.status in ("open", "acknowledged") and alert.overdue_at is None
        if unacknowledged or no_action:
            due.append(step)
    return due
