"""The alert lifecycle and escalation timing, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.workflow.logic import AlertState, PolicyStep, TransitionError, due_steps, next_status
from cdm.i18n import t

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
POLICY = [
    PolicyStep("critical", "ack", timedelta(minutes=30), ("county_on_duty", "team")),
    PolicyStep("critical", "action", timedelta(days=14), ()),
]


@pytest.mark.parametrize(
    ("current", "move", "expected"),
    [
        ("open", "acknowledge", "acknowledged"),
        ("open", "act", "actioned"),
        ("acknowledged", "act", "actioned"),
        ("actioned", "act", "actioned"),
        ("acknowledged", "close", "closed"),
        ("open", "close", "closed"),
    ],
)
def test_allowed_moves(current, move, expected):
    assert next_status(current, move, action="phone_call", outcome="电话随访，已转诊") == expected


@pytest.mark.parametrize(
    ("current", "move"),
    [
        ("acknowledged", "acknowledge"),
        ("closed", "acknowledge"),
        ("closed", "act"),
        ("closed", "close"),
    ],
)
def test_moves_the_state_does_not_allow_are_refused_with_the_reason(current, move):
    with pytest.raises(TransitionError) as refused:
        next_status(current, move, action="phone_call", outcome="x")
    # In the county's words: the status it is in, named as the screens name it (预警当前为“已关闭”…)
    assert refused.value.key == "workflow.refused.status" and f"“{t(f'alert.status.{current}')}”" in str(refused.value)
    assert t(f"alert.status.{current}", "en") in refused.value.text("en")


def test_an_action_must_be_a_known_kind_and_closing_needs_an_outcome():
    with pytest.raises(TransitionError, match="phone_call"):
        next_status("open", "act", action="text message")
    with pytest.raises(TransitionError, match="须写明结果"):
        next_status("open", "close", outcome="  ")


def state(status="open", *, escalated=None, overdue=None):
    return AlertState("critical", status, T0, escalated, overdue)


@pytest.mark.parametrize(("minutes", "due"), [(29, False), (30, True), (31, True)])
def test_not_acknowledged_within_30_minutes_escalates(minutes, due):
    steps = due_steps(state(), POLICY, now=T0 + timedelta(minutes=minutes))
    assert [s.step for s in steps] == (["ack"] if due else [])


def test_an_acknowledged_or_already_escalated_alert_is_not_escalated_again():
    later = T0 + timedelta(hours=1)
    assert due_steps(state("acknowledged"), POLICY, now=later) == []
    assert due_steps(state(escalated=T0 + timedelta(minutes=30)), POLICY, now=later) == []


def test_no_action_within_the_follow_up_window_makes_it_overdue_once():
    late = T0 + timedelta(days=14)
    assert [s.step for s in due_steps(state("acknowledged"), POLICY, now=late)] == ["action"]
    assert due_steps(state("acknowledged", overdue=late), POLICY, now=late + timedelta(days=1)) == []
    assert due_steps(state("actioned"), POLICY, now=late) == []
    assert due_steps(state("acknowledged"), POLICY, now=late - timedelta(seconds=1)) == []


def test_a_policy_for_another_severity_does_not_apply():
    high = AlertState("high", "open", T0, None, None)
    assert due_steps(high, POLICY, now=T0 + timedelta(days=30)) == []
