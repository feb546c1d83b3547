"""What the screens let a person do with an alert, and the time left before it escalates (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.alerts.logic import due_text_key, refusal_key

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
ACK, ACTION = timedelta(minutes=30), timedelta(days=14)


@pytest.mark.parametrize(
    ("status", "move", "action", "outcome", "key"),
    [
        ("open", "acknowledge", None, None, None),
        ("open", "act", "phone_call", None, "alerts.refused.ack_first"),
        ("open", "close", None, "好转", "alerts.refused.ack_first"),
        ("acknowledged", "acknowledge", None, None, "alerts.refused.already_acked"),
        ("acknowledged", "act", "phone_call", None, None),
        ("acknowledged", "act", "shouting", None, "alerts.refused.action"),
        ("actioned", "act", "home_visit", None, None),
        ("actioned", "close", None, " ", "alerts.refused.outcome"),
        ("actioned", "close", None, "已转诊", None),
        ("acknowledged", "close", None, "已转诊", None),
        ("closed", "acknowledge", None, None, "alerts.refused.closed"),
        ("closed", "close", None, "x", "alerts.refused.closed"),
    ],
)
def test_refusals(status: str, move: str, action: str | None, outcome: str | None, key: str | None) -> None:
    assert refusal_key(status, move, action=action, outcome=outcome) == key


@pytest.mark.parametrize(
    ("status", "age", "escalated", "overdue", "expected"),
    [
        ("open", timedelta(minutes=0), False, False, ("alerts.due.ack_minutes", {"minutes": 30})),
        ("open", timedelta(minutes=29, seconds=30), False, False, ("alerts.due.ack_minutes", {"minutes": 1})),
        ("open", timedelta(minutes=30), False, False, ("alerts.due.escalating", {})),
        ("open", timedelta(minutes=40), True, False, ("alerts.due.escalated", {})),
        ("acknowledged", timedelta(days=1), False, False, ("alerts.due.action_days", {"days": 13})),
        ("actioned", timedelta(days=13, hours=1), False, False, ("alerts.due.action_days", {"days": 1})),
        ("acknowledged", timedelta(days=14), False, False, ("alerts.due.overdue", {})),
        ("acknowledged", timedelta(days=2), False, True, ("alerts.due.overdue", {})),
    ],
)
def test_time_left_before_escalation(
    status: str, age: timedelta, escalated: bool, overdue: bool, expected: tuple[str, dict[str, int]]
) -> None:
    opened = NOW - age
    got = due_text_key(
        status=status,
        opened_at=opened,
        escalated_at=opened + ACK if escalated else None,
        overdue_at=opened + ACTION if overdue else None,
        ack_after=ACK,
        action_after=ACTION,
        now=NOW,
    )
    assert got == expected
