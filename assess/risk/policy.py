"""How the risk model's probability may change a rule's assessment; pure.

The rules decide; the model may only add urgency. It raises the priority within the colour (bounded, never past
the colour's band, so it never reorders colours) and may turn GREEN into YELLOW with reason `model_risk`. It never
lowers a colour, removes a reason or lowers a priority, and a rule's RED stays exactly the rule's RED apart from
its priority.
"""

from __future__ import annotations

import math
from dataclasses import replace

from cdm.domain import Assessment, Colour

MODEL_REASON = "model_risk"
# Chosen from the held-out evaluation of the 5,000-patient simulated cohort (`cdm model train`, seed 1; the card's
# green_operating_points): among patients the rules call green, 0.5 flags about 1 in 10 of them, and about half of
# those flagged (precision 0.48, against a 0.22 base rate among greens) turn red or stay uncontrolled within 90 days.
# A county retraining on its own outcomes should re-read those operating points before keeping this number.
GREEN_TO_YELLOW_THRESHOLD = 0.5
MAX_PRIORITY_BOOST = 20.0  # at probability 1; a fifth of a colour's band, so the rules' reasons still dominate
_BAND = {Colour.GREEN: (0.0, 99.0), Colour.YELLOW: (100.0, 199.0), Colour.RED: (200.0, 299.0)}  # assess.rules bands


def apply_model(
    assessment: Assessment,
    *,
    probability: float | None,
    threshold: float = GREEN_TO_YELLOW_THRESHOLD,
    max_boost: float = MAX_PRIORITY_BOOST,
) -> Assessment:
    """The assessment after the model's say: a higher priority, and GREEN → YELLOW at `threshold`; None: unchanged."""
    if probability is None or math.isnan(probability):
        return assessment
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must lie within 0..1, got {probability}")
    boost = max(0.0, max_boost) * probability
    if assessment.colour is Colour.GREEN and probability >= threshold:
        reasons = tuple(sorted({*assessment.reasons, MODEL_REASON} - {"at_target"}))
        low, _ = _BAND[Colour.YELLOW]
        return replace(assessment, colour=Colour.YELLOW, reasons=reasons, priority=_raised(low, boost, Colour.YELLOW))
    return replace(assessment, priority=_raised(assessment.priority, boost, assessment.colour))


def _raised(priority: float, boost: float, colour: Colour) -> float:
    """`priority + boost`, kept inside the colour's band, and never below `priority`."""
    _, high = _BAND[colour]
    # Rounded down to 2 places, so the shown priority never exceeds priority + boost.
    return max(priority, math.floor(min(priority + boost, high) * 100) / 100)
