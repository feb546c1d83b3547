"""The generic HTTP webhook: JSON body, an Idempotency-Key per notification, an HMAC-SHA256 signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import httpx

from alerts.channels.base import OutboundMessage, Receipt
from alerts.channels.http_common import TIMEOUT_S, post, raise_for_status
from cdm.privacy import mask_url

log = logging.getLogger(__name__)


def sign(body: bytes, secret: str) -> str:
    """The value of X-CDM-Signature: HMAC-SHA256 of the exact body bytes, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fill_township(url_template: str, township_code: str) -> str:
    """A webhook address with `{township}` replaced by the township's code."""
    return url_template.replace("{township}", township_code)


class WebhookChannel:
    """POSTs `message.body` as JSON to `message.address`, signed, with the notification's Idempotency-Key."""

    name = "webhook"

    def __init__(self, *, secret: str, timeout_s: float = TIMEOUT_S) -> None:
        self._secret = secret
        self._http = httpx.Client(timeout=timeout_s)

    def send(self, message: OutboundMessage) -> Receipt:
        """Deliver one notification; raise DeliveryError unless the receiver answers 2xx."""
        data = json.dumps(message.body, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.idempotency_key,
            "X-CDM-Signature": sign(data, self._secret),
        }
        response = post(self._http, message.address, content=data, headers=headers)
        raise_for_status(response)
        log.debug("webhook delivered to %s (HTTP %s)", mask_url(message.address), response.status_code)
        return Receipt(response.status_code, response.text[:500])

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()
