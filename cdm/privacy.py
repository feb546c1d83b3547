"""How personal identifiers are shown: masked on screens and in messages, never written to logs."""

from __future__ import annotations

from urllib.parse import urlsplit

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


def mask_phone(number: str) -> str:
    """A phone number with its middle masked, e.g. 13812345678 -> 138****678, for logs and error texts."""
    return mask_card(number)


def mask_email(address: str) -> str:
    """An e-mail address with its local part masked, e.g. zhang.san@example.cn -> z****@example.cn."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return mask_card(address)
    return (local[:1] + MASK) + "@" + domain


def mask_url(url: str) -> str:
    """A URL without its query and user part: a WeCom robot's key travels in the query and is a secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
