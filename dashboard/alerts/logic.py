"""What a person may do with an alert from the screens, said in their words before the workflow is asked (pure).

The workflow (alerts.workflow.logic) would silently acknowledge an alert acted on before it was acknowledged, and
explains refusals in English for the command line; the screens make each step explicit and speak the catalogue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

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


class _Deadline(NamedTuple):
    """One of an alert's two deadlines, in the catalogue's words: passed (marked so in the store), run out (not yet
    marked), and the time left in whole units (at least one)."""

    passed: str
    run_out: str
    left: str
    unit: str
    unit_seconds: int


ACK_DEADLINE = _Deadline("alerts.due.escalated", "alerts.due.escalating", "alerts.due.ack_minutes", "minutes", 60)
ACTION_DEADLINE = _Deadline("alerts.due.overdue", "alerts.due.overdue", "alerts.due.action_days", "days", 86400)


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
    """What the row says about escalation: the time left before it, or that it happened (key, values). An open
    alert runs against acknowledgement, an acknowledged one against action."""
    if status == "open":
        deadline, passed_at, after = ACK_DEADLINE, escalated_at, ack_after
    else:
        deadline, passed_at, after = ACTION_DEADLINE, overdue_at, action_after
    if passed_at is not None:
        return deadline.passed, {}
    if after is None:
        return "alerts.due.none", {}
    left = opened_at + after - now
    if left <= timedelta(0):
        return deadline.run_out, {}
    return deadline.left, {deadline.unit: max(1, int(left.total_seconds() // deadline.unit_seconds))}
