"""A generic SMS-gateway adapter: one templated SMS per request, over an HTTP API a county can put in front of
its provider.

The request (POST to CDM_SMS_GATEWAY_URL, `Authorization: Bearer <CDM_SMS_API_KEY>`, also `Idempotency-Key`)::

    {"phone": "13812345678", "sign_name": "县慢病中心", "template": "SMS_123", "params": {"name": "…"},
     "request_id": "<idempotency key>"}

Success is HTTP 200 with `{"code": "OK", "message_id": "…"}`. A failure is either an HTTP status (4xx other than
408/429: permanent; 408, 429, 5xx: retried) or HTTP 200 with another `code`, permanent unless the answer also
says `"retryable": true` (the gateway knows which of its provider's codes pass with time).

A thin gateway maps this onto the providers that hold the county's approved signature and templates:

- Aliyun SMS `SendSms`: phone -> PhoneNumbers, sign_name -> SignName, template -> TemplateCode, params ->
  TemplateParam (a JSON string of the same names), request_id -> OutId (returned in delivery reports). Aliyun
  answers `Code: "OK"` with a `BizId` (-> message_id); `isv.BUSINESS_LIMIT_CONTROL` (rate limit) is retryable,
  `isv.MOBILE_NUMBER_ILLEGAL` or `isv.SMS_TEMPLATE_ILLEGAL` are not.
- Tencent Cloud SMS `SendSms` (2021-01-11): phone -> PhoneNumberSet ["+86…"], sign_name -> SignName, template
  -> TemplateId, params -> TemplateParamSet (a list in the template's order: the gateway keeps that order per
  template), request_id -> SessionContext (echoed back), SmsSdkAppId from its own configuration. Success is
  `SendStatusSet[0].Code == "Ok"` with a `SerialNo` (-> message_id).

Neither provider drops a repeated request by itself: the outbox makes repeats rare, and `request_id` lets a
gateway that keeps recent ids drop the rest.
"""

from __future__ import annotations

import json
import logging
import re

import httpx

from alerts.channels.base import DeliveryError, OutboundMessage, Receipt
from alerts.channels.http_common import TIMEOUT_S, post, raise_for_status
from cdm.privacy import mask_phone

log = logging.getLogger(__name__)

_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s-]")
_COUNTRY_PREFIXES = ("+86", "0086")


def normalise_mobile(number: str) -> str:
    """The 11-digit form of a mainland mobile number, or a permanent DeliveryError saying what is wrong."""
    digits = _SEPARATORS.sub("", number)
    for prefix in _COUNTRY_PREFIXES:
        if digits.startswith(prefix):
            digits = digits.removeprefix(prefix)
            break
    # the error names the problem, never the number: it is kept and shown where staff read delivery failures
    if not digits:
        raise DeliveryError("delivery.phone_missing", permanent=True)
    if not digits.isdigit():
        raise DeliveryError("delivery.phone_characters", permanent=True)
    if len(digits) != 11:
        raise DeliveryError("delivery.phone_length", digits=len(digits), permanent=True)
    if not _MAINLAND_MOBILE.fullmatch(digits):
        raise DeliveryError("delivery.phone_not_mobile", permanent=True)
    return digits


class SmsChannel:
    """Sends `message.template` with `message.params` to the phone number in `message.address`."""

    name = "sms"

    def __init__(self, *, gateway_url: str, api_key: str, sign_name: str, timeout_s: float = TIMEOUT_S) -> None:
        self._url = gateway_url
        self._api_key = api_key
        self._sign_name = sign_name
        self._http = httpx.Client(timeout=timeout_s)

    def send(self, message: OutboundMessage) -> Receipt:
        """Hand one SMS to the gateway; raise DeliveryError unless it answers code OK."""
        phone = normalise_mobile(message.address)
        if not message.template:
            raise DeliveryError("delivery.sms_template", permanent=True)
        request = {
            "phone": phone,
            "sign_name": self._sign_name,
            "template": message.template,
            "params": message.params,
            "request_id": message.idempotency_key,
        }
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": message.idempotency_key,
        }
        response = post(
            self._http, self._url, content=json.dumps(request, ensure_ascii=False).encode(), headers=headers
        )
        raise_for_status(response)
        message_id = _message_id(response)
        log.debug("SMS %s to %s accepted as %s", message.template, mask_phone(phone), message_id)
        return Receipt(response.status_code, message_id)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()


def _message_id(response: httpx.Response) -> str:
    """The gateway's id for an accepted SMS; a refusal becomes a DeliveryError."""
    try:
        answer = response.json()
        code = str(answer["code"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryError("delivery.sms_answer", detail=response.text[:200], status=response.status_code) from exc
    if code != "OK":
        detail = str(answer.get("message", ""))[:200]
        raise DeliveryError(
            "delivery.sms_refused",
            code=code,
            detail=detail,
            status=response.status_code,
            permanent=answer.get("retryable") is not True,
        )
    return str(answer.get("message_id", ""))
