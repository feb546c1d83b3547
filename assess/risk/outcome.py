"""What the risk model predicts, defined once for the simulated cohort and for a store's own history; pure.

A patient is an outcome case when, within HORIZON after the cut, the rules' colour is red at any moment, or the
colour at the end is "uncontrolled": red, or yellow for a BP or glucose reason (not for a gap or an overdue visit,
which say nothing about control).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cdm.domain import Colour

HORIZON = timedelta(days=90)
UNCONTROLLED_REASONS = frozenset({"bp_above_target", "bp_grade2", "glucose_fasting_high", "glucose_nonfasting_high"})


@dataclass(frozen=True, slots=True)
class State:
    """The rules' conclusion from `at` until the next state."""

    at: datetime
    colour: Colour
    reasons: tuple[str, ...]

    @property
    def uncontrolled(self) -> bool:
        return self.colour is Colour.RED or (
            self.colour is Colour.YELLOW and not UNCONTROLLED_REASONS.isdisjoint(self.reasons)
        )


def is_case(states: Iterable[State], *, cut: datetime, horizon: timedelta = HORIZON) -> bool:
    """True when the status is red at any moment in [cut, cut + horizon] or uncontrolled at its end."""
    ordered: Sequence[State] = sorted(states, key=lambda s: s.at)
    end = cut + horizon
    before = [s for s in ordered if s.at <= cut]
    within = [s for s in ordered if cut < s.at <= end]
    if before and before[-1].colour is Colour.RED:
        return True
    if any(s.colour is Colour.RED for s in within):
        return True
    last = (before + within)[-1] if before or within else None
    return last is not None and last.uncontrolled
