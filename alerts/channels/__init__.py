"""Delivery channels behind one interface (base.Channel): webhook, WeCom robot, SMS gateway, e-mail; each wrapped
in a circuit breaker by registry.build_channels."""

from alerts.channels.base import Channel, DeliveryError, OutboundMessage, Receipt
from alerts.channels.breaker import BreakerState, CircuitBreaker
from alerts.channels.email import EmailChannel
from alerts.channels.registry import (
    CHANNEL_NAMES,
    UnconfiguredChannel,
    breaker_states,
    build_channels,
    close_all,
)
from alerts.channels.sms import SmsChannel
from alerts.channels.webhook import WebhookChannel, fill_township, sign
from alerts.channels.wecom import WeComChannel

__all__ = [
    "CHANNEL_NAMES",
    "BreakerState",
    "Channel",
    "CircuitBreaker",
    "DeliveryError",
    "EmailChannel",
    "OutboundMessage",
    "Receipt",
    "SmsChannel",
    "UnconfiguredChannel",
    "WeComChannel",
    "WebhookChannel",
    "breaker_states",
    "build_channels",
    "close_all",
    "fill_township",
    "sign",
]
