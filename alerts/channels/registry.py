"""Every channel the dispatcher can send through, each behind its own circuit breaker, built from the settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from alerts.channels.base import Channel, DeliveryError, OutboundMessage, Receipt
from alerts.channels.breaker import COOLDOWN_S, FAILURE_THRESHOLD, BreakerState, CircuitBreaker
from alerts.channels.email import EmailChannel
from alerts.channels.sms import SmsChannel
from alerts.channels.webhook import WebhookChannel
from alerts.channels.wecom import WeComChannel
from cdm.settings import Settings

log = logging.getLogger(__name__)

CHANNEL_NAMES = ("webhook", "wecom", "sms", "email")


class UnconfiguredChannel:
    """Stands in for a channel whose settings are missing: every send fails permanently, naming them."""

    def __init__(self, name: str, *, missing: tuple[str, ...]) -> None:
        self.name = name
        self.missing = missing

    def send(self, message: OutboundMessage) -> Receipt:
        """Refuse: nothing to send with until the settings are there."""
        raise DeliveryError(
            "delivery.not_configured", channel=self.name, missing=", ".join(self.missing), permanent=True
        )

    def close(self) -> None:
        """Nothing to release."""


def build_channels(
    settings: Settings, *, failure_threshold: int = FAILURE_THRESHOLD, cooldown_s: float = COOLDOWN_S
) -> dict[str, Channel]:
    """The channels by name (webhook, wecom, sms, email), each wrapped in its own circuit breaker."""
    channels: list[Channel] = [
        WebhookChannel(secret=settings.webhook_secret.get_secret_value()),
        WeComChannel(),
        _sms(settings),
        _email(settings),
    ]
    for channel in channels:
        if isinstance(channel, UnconfiguredChannel):
            log.info("channel %s is not configured (%s unset)", channel.name, ", ".join(channel.missing))
    return {c.name: CircuitBreaker(c, failure_threshold=failure_threshold, cooldown_s=cooldown_s) for c in channels}


def breaker_states(channels: Mapping[str, Channel]) -> list[BreakerState]:
    """The circuit state of every channel that has a breaker, for logs and screens."""
    return [c.snapshot() for c in channels.values() if isinstance(c, CircuitBreaker)]


def close_all(channels: Mapping[str, Channel]) -> None:
    """Close every channel; one that fails to close does not keep the others open."""
    for name, channel in channels.items():
        try:
            channel.close()
        except Exception:
            log.exception("channel %s did not close cleanly", name)


def _sms(settings: Settings) -> Channel:
    url, key = settings.sms_gateway_url, settings.sms_api_key
    if not url or not key:
        missing = tuple(env for env, value in (("CDM_SMS_GATEWAY_URL", url), ("CDM_SMS_API_KEY", key)) if not value)
        return UnconfiguredChannel("sms", missing=missing)
    return SmsChannel(gateway_url=url, api_key=key.get_secret_value(), sign_name=settings.sms_sign_name)


def _email(settings: Settings) -> Channel:
    if not settings.smtp_host:
        return UnconfiguredChannel("email", missing=("CDM_SMTP_HOST",))
    return EmailChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
    )
