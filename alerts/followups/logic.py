"""Follow-up lists as the national specification has them (pure): when each patient is due, and the order a
family-doctor team works through them — red first, then yellow, then green; by priority; longest overdue first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cdm.domain import Colour, FollowUpClass
from cdm.thresholds import ROUTINE_FOLLOW_UP_DAYS, SHORT_FOLLOW_UP_DAYS

ROUTINE = timedelta(days=ROUTINE_FOLLOW_UP_DAYS)  # controlled: every 3 months
SHORT = timedelta(days=SHORT_FOLLOW_UP_DAYS)  # uncontrolled, adverse reaction, complication, urgent: within 2 weeks
_NEXT_BY_CLASS = {
    FollowUpClass.CONTROLLED: ROUTINE,
    FollowUpClass.UNCONTROLLED: SHORT,
    FollowUpClass.ADVERSE_REACTION: SHORT,
    FollowUpClass.COMPLICATION: SHORT,
}


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


def default_next_due(follow_up_class: FollowUpClass, done_on: date) -> date:
    """When the next visit falls due after a visit of this class."""
    return done_on + _NEXT_BY_CLASS[follow_up_class]


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
    """Red, yellow, green; then higher priority; then longest overdue."""
    return sorted(entries, key=lambda e: (-e.colour.rank, -e.priority, -e.days_overdue, e.due, e.patient_id))
