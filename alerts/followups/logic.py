"""Follow-up lists as the national specification has them (pure): when each patient is due, and the order a
family-doctor team works through them — red first; then the overdue, longest overdue first; then due soonest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from assess import schedule
from cdm.domain import Colour, FollowUpClass
from cdm.thresholds import ROUTINE_FOLLOW_UP_DAYS, SHORT_FOLLOW_UP_DAYS

ROUTINE = timedelta(days=ROUTINE_FOLLOW_UP_DAYS)  # controlled: every 3 months
SHORT = timedelta(days=SHORT_FOLLOW_UP_DAYS)  # uncontrolled, adverse reaction, complication, urgent: within 2 weeks


@dataclass(frozen=True, slots=True)
class ListEntry:
    patient_id: int
    card: str  # masked
    colour: Colour
    reasons: tuple[str, ...]
    priority: float
    due: date
    days_overdue: int
    last_bp: str | None
    last_glucose: str | None
    facts: Mapping[str, Any] = field(default_factory=dict)  # each reason's figures (assess.reasons words them)


def default_next_due(follow_up_class: FollowUpClass, done_on: date) -> date:
    """When the next visit falls due after a visit of this class (assess.schedule, as the rules count it)."""
    return schedule.next_due(follow_up_class, done_on)


def due_date(
    *, colour: Colour, colour_since: date, last_done: date | None, next_due: date | None, registered: date
) -> date:
    """The date a patient's next follow-up is due.

    The scheduled date comes from the last visit (or registration); a patient who turned yellow or red since
    the last visit is due within two weeks of turning, whichever comes first.
    """
    scheduled = next_due or ((last_done or registered) + ROUTINE)
    if colour is not Colour.GREEN and (last_done is None or last_done < colour_since):
        return min(scheduled, colour_since + SHORT)
    return scheduled


def order(entries: list[ListEntry]) -> list[ListEntry]:
    """The order a doctor works in: red first (higher priority first); then the overdue, longest overdue first;
    then the rest, soonest due first. dashboard.followups.repo.FOLLOWUP_ORDER is the same order in SQL."""

    def key(e: ListEntry) -> tuple[int, float, int, date, int]:
        band = 0 if e.colour is Colour.RED else 1 if e.days_overdue > 0 else 2
        return (band, -e.priority if band == 0 else 0.0, -e.days_overdue, e.due, e.patient_id)

    return sorted(entries, key=key)
