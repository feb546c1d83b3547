"""Pure alert decisions: when a change of colour raises an alert, how severe, and who must hear of it."""

from __future__ import annotations

from dataclasses import dataclass

from assess.rules import URGENT_REASONS
from cdm.domain import Assessment, Colour

# Both centres hear of every red at the same moment (architecture: township + county, one commit).
RECIPIENTS = ("township", "county")


@dataclass(frozen=True, slots=True)
class AlertDecision:
    kind: str
    severity: str  # "critical": an urgent reading; "high": the doctor's record turned the patient red


def decide(*, previous: Colour | None, current: Assessment) -> AlertDecision | None:
    """An alert when a patient turns red (not while staying red: the open alert already stands)."""
    if current.colour is not Colour.RED or previous is Colour.RED:
        return None
    severity = "critical" if URGENT_REASONS.intersection(current.reasons) else "high"
    return AlertDecision(kind="turned_red", severity=severity)
