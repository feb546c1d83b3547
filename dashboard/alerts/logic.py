"""What a person may do with an alert from the screens, said in their words before the workflow is asked (pure).

The workflow (alerts.workflow.logic) would silently acknowledge an alert acted on before it was acknowledged, and
explains refusals in English for the command line; the screens make each step explicit and speak the catalogue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.workflow.logic import ACTIONS


def refusal_key(status: str, move: str, *, action: str | None = None, outcome: str | None = None) -> str | None:
    """The catalogue key saying why `move` is refused on an alert in `status`, or None when it may go ahead."""
    if status == "closed":
        return "alerts.refused.closed"
    if move == "acknowledge":
        return None if status == "open" else "alerts.refused.already_acked"
    if status == "open":
        return "alerts.refused.ack_first"  # acting or closing never acknowledges silently
    if move == "act" and action not in ACTIONS:
        return "alerts.refused.action"
    if move == "close" and not (outcome and outcome.strip()):
        return "alerts.refused.outcome"
    return None


def due_text_key(
    *,
    status: str,
    opened_at: datetime,
    escalated_at: datetime | None,
    overdue_at: datetime | None,
    ack_after: timedelta | None,
    action_after: timedelta | None,
    now: datetime,
) -> tuple[str, dict[str, int]]:
    """What the row says about escalation: the time left before it, or that it happened (key, values)."""
    if status == "open":
        if escalated_at is not None:
            return "alerts.due.escalated", {}
        if ack_after is None:
            return "alerts.due.none", {}
        left = opened_at + ack_after - now
        if left <= timedelta(0):
            return "alerts.due.escalating", {}
        return "alerts.due.ack_minutes", {"minutes": max(1, int(left.total_seconds() // 60))}
    if overdue_at is not None:
        return "alerts.due.overdue", {}
    if action_after is None:
        return "alerts.due.none", {}
    left = opened_at + action_after - now
    if left <= timedelta(0):
        return "alerts.due.overdue", {}
    return "alerts.due.action_days", {"days": max(1, int(left.total_seconds() // 86400))}
