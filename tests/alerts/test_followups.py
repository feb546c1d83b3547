"""Due dates and order of a family-doctor team's follow-up list (national specification rhythm)."""

from __future__ import annotations

from datetime import date

import pytest

from alerts.followups.logic import ListEntry, default_next_due, due_date, order
from cdm.domain import Colour, FollowUpClass

REG = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("cls", "days"),
    [
        (FollowUpClass.CONTROLLED, 90),
        (FollowUpClass.UNCONTROLLED, 14),
        (FollowUpClass.ADVERSE_REACTION, 14),
        (FollowUpClass.COMPLICATION, 14),
    ],
)
def test_next_visit_by_class(cls, days):
    assert (default_next_due(cls, date(2026, 3, 1)) - date(2026, 3, 1)).days == days


def test_green_is_quarterly_from_the_last_visit_or_registration():
    assert due_date(
        colour=Colour.GREEN, colour_since=date(2026, 5, 1), last_done=date(2026, 4, 1), next_due=None, registered=REG
    ) == date(2026, 6, 30)
    assert due_date(
        colour=Colour.GREEN, colour_since=date(2026, 5, 1), last_done=None, next_due=None, registered=REG
    ) == date(2026, 4, 1)


@pytest.mark.parametrize("colour", [Colour.YELLOW, Colour.RED])
def test_turning_yellow_or_red_since_the_last_visit_brings_it_within_two_weeks(colour):
    assert due_date(
        colour=colour,
        colour_since=date(2026, 5, 10),
        last_done=date(2026, 4, 1),
        next_due=date(2026, 6, 30),
        registered=REG,
    ) == date(2026, 5, 24)


def test_a_visit_after_turning_yellow_sets_the_date_the_doctor_chose():
    assert due_date(
        colour=Colour.YELLOW,
        colour_since=date(2026, 5, 10),
        last_done=date(2026, 5, 12),
        next_due=date(2026, 5, 26),
        registered=REG,
    ) == date(2026, 5, 26)


def entry(pid, colour, priority, overdue):
    return ListEntry(pid, "H1****1", colour, (), priority, date(2026, 5, 1), overdue, None, None)


def test_list_order_is_red_then_overdue_by_days_then_due_soonest():
    entries = [
        entry(1, Colour.GREEN, 0, 50),
        entry(2, Colour.YELLOW, 120, 3),
        entry(3, Colour.RED, 201, 0),
        entry(4, Colour.YELLOW, 120, 9),
        entry(5, Colour.RED, 230, 0),
        entry(6, Colour.YELLOW, 150, 0),
    ]
    assert [e.patient_id for e in order(entries)] == [5, 3, 1, 4, 2, 6]
