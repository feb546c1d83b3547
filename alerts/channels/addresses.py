"""Whether an address is one its channel can send to, checked when a contact is registered (`cdm contacts add`,
the administration screen) so a typing error is refused when it is typed, not at the first alert."""

from __future__ import annotations

from urllib.parse import urlsplit

from alerts.channels.base import DeliveryError
from alerts.channels.email import usable_email
from alerts.channels.sms import normalise_mobile


def check_address(channel: str, address: str) -> str:
    """The address as `channel` sends to it (a mobile number in its 11 digits), or a permanent DeliveryError
    saying what is wrong with it (never repeating a number)."""
    address = address.strip()
    if channel == "sms":
        return normalise_mobile(address)
    if channel == "email":
        if not usable_email(address):
            raise DeliveryError("delivery.email_address", permanent=True)
        return address
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("delivery.not_a_url", permanent=True)
    return address
