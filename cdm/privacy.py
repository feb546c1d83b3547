"""How personal identifiers are shown: masked on screens, in messages and never in logs."""

from __future__ import annotations


def mask_card(number: str) -> str:
    """A health-card number as screens and messages show it: the first 3 and last 4 characters."""
    if len(number) <= 7:
        return number[:1] + "*" * (len(number) - 1)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
