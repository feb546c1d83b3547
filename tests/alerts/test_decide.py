"""An alert when a patient turns red, never while staying red; both centres are recipients."""

from __future__ import annotations

import pytest

from alerts.decide import RECIPIENTS, decide
from cdm.domain import Assessment, Colour
from cdm.privacy import mask_card

RED_URGENT = Assessment(Colour.RED, ("bp_critical",), 210.0)
RED_RECORD = Assessment(Colour.RED, ("uncontrolled_2x",), 200.0)


@pytest.mark.parametrize("previous", [None, Colour.GREEN, Colour.YELLOW])
def test_turning_red_raises_one_alert(previous):
    decision = decide(previous=previous, current=RED_URGENT)
    assert decision is not None and decision.kind == "turned_red" and decision.severity == "critical"


def test_staying_red_raises_nothing():
    assert decide(previous=Colour.RED, current=RED_URGENT) is None


@pytest.mark.parametrize("colour", [Colour.GREEN, Colour.YELLOW])
def test_other_colours_raise_nothing(colour):
    assert decide(previous=None, current=Assessment(colour, ("x",), 1.0)) is None


def test_red_from_the_doctors_record_is_high_not_critical():
    decision = decide(previous=Colour.YELLOW, current=RED_RECORD)
    assert decision is not None and decision.severity == "high"


def test_both_centres_hear_of_every_alert():
    assert set(RECIPIENTS) == {"township", "county"}


@pytest.mark.parametrize(("card", "shown"), [("H330100000123", "H33****0123"), ("H12345", "H1****45")])
def test_health_card_numbers_are_masked(card, shown):
    assert mask_card(card) == shown
