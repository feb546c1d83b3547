"""What the HTTP channels share: one POST, and the rule that sorts a failed answer into retryable or permanent."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from alerts.channels.base import DeliveryError

TIMEOUT_S = 5.0  # an endpoint that takes longer is treated as down; the dispatcher retries later
# 408 and 429 say "not now", so they are retried like a 5xx; any other 4xx will not change on a retry
RETRYABLE_4XX = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status that is not 2xx may succeed on a later attempt."""
    return status in RETRYABLE_4XX or status >= 500


def post(client: httpx.Client, url: str, *, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
    """POST once; a transport failure becomes a DeliveryError (retryable unless the address itself is bad)."""
    try:
        return client.post(url, content=content, headers=dict(headers))
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise DeliveryError("delivery.bad_url", error=type(exc).__name__, permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError("delivery.unreachable", error=type(exc).__name__, detail=str(exc)) from exc


def raise_for_status(response: httpx.Response) -> None:
    """Raise a DeliveryError unless the answer is 2xx, permanent for a 4xx other than 408/429."""
    if response.is_success:
        return
    status = response.status_code
    raise DeliveryError(
        "delivery.http_status",
        code=status,
        detail=response.text[:200],
        status=status,
        permanent=not is_retryable_status(status),
    )
