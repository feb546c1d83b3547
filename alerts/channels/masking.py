"""How addressees appear in logs and error texts: phone numbers and e-mail addresses masked, URL secrets dropped."""

from __future__ import annotations

from urllib.parse import urlsplit

from cdm.privacy import MASK, mask_card


def mask_phone(number: str) -> str:
    """A phone number with its middle masked, e.g. 13812345678 -> 138****678."""
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
