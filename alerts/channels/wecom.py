"""WeCom (企业微信) group robot: a markdown message POSTed to the robot's webhook address.

The robot answers HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` on success and a non-zero errcode otherwise;
markdown content may hold at most 4096 bytes of UTF-8 (a longer one is refused with errcode 40058), and a robot
takes at most 20 messages a minute (errcode 45009 beyond that).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid

import httpx

from alerts.channels.base import DeliveryError, OutboundMessage, Receipt
from alerts.channels.http_common import TIMEOUT_S, post, raise_for_status
from cdm.privacy import mask_url

log = logging.getLogger(__name__)

MAX_CONTENT_BYTES = 4096  # the robot's limit for markdown.content, in UTF-8 bytes
ELLIPSIS = "…"
# -1 system busy, 45009 rate limit (20 a minute per robot), 45033 too many concurrent calls: all pass with time;
# anything else (93000 invalid key, 40058 content too long, …) will not change on a retry
RETRYABLE_ERRCODES = frozenset({-1, 45009, 45033})


def short_key(idempotency_key: str) -> str:
    """Eight characters a person can compare: a UUID's first eight hex digits, else a hash's."""
    try:
        return uuid.UUID(idempotency_key).hex[:8]
    except ValueError:
        return hashlib.sha256(idempotency_key.encode()).hexdigest()[:8]


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that fits `max_bytes` of UTF-8, never cutting a character in two."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def markdown_content(*, title: str, text: str, idempotency_key: str) -> str:
    """Title and text as robot markdown, cut to fit, ending in a footer with the short key."""
    # the footer survives any cut: it is how people in the group recognise a repeat of the same notification
    footer = f'\n\n<font color="comment">#{short_key(idempotency_key)}</font>'
    main = f"### {title}\n{text}" if title else text
    room = MAX_CONTENT_BYTES - len(footer.encode())
    if len(main.encode()) > room:
        main = truncate_utf8(main, room - len(ELLIPSIS.encode())) + ELLIPSIS
    return main + footer


class WeComChannel:
    """Posts to the robot address in `message.address` (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)."""

    name = "wecom"

    def __init__(self, *, timeout_s: float = TIMEOUT_S) -> None:
        self._http = httpx.Client(timeout=timeout_s)

    def send(self, message: OutboundMessage) -> Receipt:
        """Deliver one message to the group; raise DeliveryError unless the robot answers errcode 0."""
        # WeCom has no idempotency header: the dispatcher's outbox is what prevents repeats; the short key in
        # the footer only lets a person see that two messages are the same notification
        content = markdown_content(title=message.title, text=message.text, idempotency_key=message.idempotency_key)
        data = json.dumps({"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False).encode()
        response = post(
            self._http, message.address, content=data, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        raise_for_status(response)
        errcode, errmsg = _answer(response)
        if errcode != 0:
            raise DeliveryError(
                "delivery.wecom_refused",
                errcode=errcode,
                detail=errmsg[:200],
                status=response.status_code,
                permanent=errcode not in RETRYABLE_ERRCODES,
            )
        log.debug("WeCom robot %s took the message", mask_url(message.address))
        return Receipt(response.status_code, response.text[:500])

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()


def _answer(response: httpx.Response) -> tuple[int, str]:
    """(errcode, errmsg) of the robot's answer; an answer that is not the robot's is retried, as from a proxy."""
    try:
        answer = response.json()
        return int(answer["errcode"]), str(answer.get("errmsg", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryError("delivery.wecom_answer", detail=response.text[:200], status=response.status_code) from exc
