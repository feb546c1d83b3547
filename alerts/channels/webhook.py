"""Delivery channels. The HTTP webhook: JSON body, an Idempotency-Key per notification, an HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT_S = 5.0  # a centre's endpoint that takes longer is treated as down; the notification is retried


class DeliveryError(Exception):
    """The receiver did not accept the notification; it will be retried."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Receipt:
    status: int
    text: str


def sign(body: bytes, secret: str) -> str:
    """The value of X-CDM-Signature: HMAC-SHA256 of the exact body bytes, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs notifications to the township's and the county's webhook addresses."""

    name = "webhook"

    def __init__(self, *, township_url: str | None, county_url: str | None, secret: str) -> None:
        self._urls = {"township": township_url, "county": county_url}
        self._secret = secret
        self._http = httpx.Client(timeout=TIMEOUT_S)

    def url_for(self, *, recipient: str, township_code: str) -> str | None:
        """The address for one recipient, with `{township}` filled in."""
        template = self._urls.get(recipient)
        return template.replace("{township}", township_code) if template else None

    def send(self, *, url: str, body: dict[str, Any], idempotency_key: str) -> Receipt:
        """Deliver one notification; raise DeliveryError unless the receiver answers 2xx."""
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key,
            "X-CDM-Signature": sign(data, self._secret),
        }
        try:
            response = self._http.post(url, content=data, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}", status=response.status_code)
        return Receipt(response.status_code, response.text[:500])

    def close(self) -> None:
        self._http.close()
