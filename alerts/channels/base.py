"""What every delivery channel offers the dispatcher: send one message, get a receipt or a DeliveryError."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from cdm.i18n import Refusal


class DeliveryError(Refusal):
    """The receiver did not accept the message; it will be retried (unless `permanent`). Why, as a catalogue key
    (`delivery.*`) and its values: kept and logged in the county's language (`text(lang)`); str() is the Chinese."""

    def __init__(self, key: str, *, status: int | None = None, permanent: bool = False, **values: object) -> None:
        super().__init__(key, **values)
        self.status = status
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Receipt:
    status: int  # HTTP status, or 250 for an SMTP "OK"
    text: str  # the receiver's own id or answer, kept as the delivery receipt


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one addressee, whatever the channel."""

    address: str  # a URL, a phone number or an e-mail address, as the channel needs
    title: str  # a one-line summary in the reader's language
    text: str  # the plain-text message in the reader's language
    idempotency_key: str  # the same for every retry of this message, so a receiver can drop repeats
    body: dict[str, Any] = field(default_factory=dict)  # structured content for machine receivers (webhook)
    template: str | None = None  # SMS template id
    params: dict[str, str] = field(default_factory=dict)  # SMS template parameters


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> Receipt:
        """Deliver one message or raise DeliveryError."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
