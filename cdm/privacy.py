"""How personal identifiers are shown: masked on screens and in messages, never written to logs."""

from __future__ import annotations

MASK = "****"  # a fixed width, so the mask does not tell how long the number is
_HEAD = 3
_TAIL = 4


def mask_card(number: str) -> str:
    """The number with its middle replaced by four asterisks, e.g. H330100000123 -> H33****0123.

    At most 3 leading and 4 trailing characters stay, and never more than a third of the number at either end,
    so short numbers still lose most of their characters.
    """
    number = number.strip()
    keep = len(number) // 3
    head, tail = min(_HEAD, keep), min(_TAIL, keep)
    return number[:head] + MASK + (number[-tail:] if tail else "")
