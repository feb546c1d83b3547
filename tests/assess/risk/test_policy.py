"""The model may add urgency, never take it away: a rule's red is never lowered."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assess.risk.policy import GREEN_TO_YELLOW_THRESHOLD, MAX_PRIORITY_BOOST, MODEL_REASON, apply_model
from cdm.domain import Assessment, Colour

BANDS = {Colour.GREEN: (0.0, 99.0), Colour.YELLOW: (100.0, 199.0), Colour.RED: (200.0, 299.0)}
REASONS = {
    Colour.RED: ["bp_critical", "glucose_hypo", "uncontrolled_2x", "complication"],
    Colour.YELLOW: ["bp_above_target", "monitoring_gap", "follow_up_overdue", "bp_grade2"],
    Colour.GREEN: ["at_target"],
}


@st.composite
def assessments(draw):
    colour = draw(st.sampled_from(list(Colour)))
    low, high = BANDS[colour]
    reasons = tuple(sorted(draw(st.sets(st.sampled_from(REASONS[colour]), min_size=1))))
    priority = round(draw(st.floats(min_value=low, max_value=high)), 2)
    return Assessment(colour, reasons, priority, ("BP-1:1",))


@settings(max_examples=500, deadline=None)
@given(
    assessments(),
    st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=50),
)
def test_never_lowers_colour_priority_or_reasons_and_red_stays_red(before, p, threshold, boost):
    after = apply_model(before, probability=p, threshold=threshold, max_boost=boost)
    assert after.colour.rank >= before.colour.rank
    assert after.priority >= before.priority
    low, high = BANDS[after.colour]
    assert low <= after.priority <= high
    assert after.evidence == before.evidence
    if before.colour is Colour.RED:
        assert after.colour is Colour.RED and after.reasons == before.reasons
    if before.colour is Colour.YELLOW:
        assert after.colour is Colour.YELLOW and after.reasons == before.reasons
    if after.colour is not before.colour:
        assert (before.colour, after.colour) == (Colour.GREEN, Colour.YELLOW)
        assert MODEL_REASON in after.reasons and "at_target" not in after.reasons
    if p is not None:
        assert after.priority <= before.priority + boost + 1e-9 or after.colour is not before.colour


def green(priority: float = 0.0) -> Assessment:
    return Assessment(Colour.GREEN, ("at_target",), priority)


@pytest.mark.parametrize(
    ("p", "colour"),
    [
        (GREEN_TO_YELLOW_THRESHOLD - 0.001, Colour.GREEN),
        (GREEN_TO_YELLOW_THRESHOLD, Colour.YELLOW),
        (0.99, Colour.YELLOW),
    ],
)
def test_green_turns_yellow_at_the_threshold(p, colour):
    after = apply_model(green(), probability=p)
    assert after.colour is colour
    assert (after.reasons == (MODEL_REASON,)) is (colour is Colour.YELLOW)


def test_priority_boost_is_bounded_and_stays_in_the_band():
    assert apply_model(Assessment(Colour.YELLOW, ("bp_above_target",), 120.0), probability=1.0).priority == 140.0
    assert apply_model(Assessment(Colour.YELLOW, ("bp_above_target",), 190.0), probability=1.0).priority == 199.0
    assert apply_model(green(10.0), probability=0.4).priority == 10.0 + 0.4 * MAX_PRIORITY_BOOST
    assert apply_model(Assessment(Colour.RED, ("bp_critical",), 250.0), probability=0.5).priority == 260.0


def test_no_probability_changes_nothing_and_out_of_range_is_refused():
    before = Assessment(Colour.RED, ("bp_critical",), 210.0)
    assert apply_model(before, probability=None) == before
    assert apply_model(before, probability=float("nan")) == before
    with pytest.raises(ValueError):
        apply_model(before, probability=1.5)
