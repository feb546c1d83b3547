"""The SMS-gateway channel against a real local HTTP server answering as the gateway does."""

from __future__ import annotations

import logging
import uuid

import pytest

from alerts.channels import DeliveryError, OutboundMessage, SmsChannel
from alerts.channels.sms import normalise_mobile

PHONE = "13812345678"
PARAMS = {"township": "青山镇", "patient": "张**", "reading": "192/104"}


@pytest.fixture
def channel(sink):
    ch = SmsChannel(gateway_url=f"{sink.url}/sms/send", api_key="gw-key", sign_name="示范县慢病中心", timeout_s=0.5)
    yield ch
    ch.close()


def sms(address: str = PHONE, *, key: str | None = None, template: str | None = "SMS_RED_ALERT") -> OutboundMessage:
    return OutboundMessage(address, "红色预警", "text", key or str(uuid.uuid4()), template=template, params=PARAMS)


def test_delivered_with_the_gateways_message_id_as_receipt(sink, channel):
    key = str(uuid.uuid4())
    receipt = channel.send(sms("+86 138-1234-5678", key=key))
    [got] = sink.received()
    assert receipt.status == 200 and uuid.UUID(receipt.text)
    assert got.path == "/sms/send" and got.authorization == "Bearer gw-key"
    assert got.body == {
        "phone": PHONE,
        "sign_name": "示范县慢病中心",
        "template": "SMS_RED_ALERT",
        "params": PARAMS,
        "request_id": key,
    }
    assert got.idempotency_key == key


def test_a_retry_carries_the_same_request_id_so_the_gateway_drops_it(sink, channel):
    msg = sms()
    channel.send(msg)
    channel.send(msg)
    assert len(sink.received()) == 1 and sink.repeats == 1


@pytest.mark.parametrize(
    ("number", "problem", "worded"),
    [
        ("1381234567", "delivery.phone_length", "手机号为 10 位"),
        ("138123456789", "delivery.phone_length", "手机号为 12 位"),
        ("12812345678", "delivery.phone_not_mobile", "不是大陆手机号"),
        ("02887654321", "delivery.phone_not_mobile", "不是大陆手机号"),
        ("138abc45678", "delivery.phone_characters", "数字以外的字符"),
        ("", "delivery.phone_missing", "没有手机号"),
    ],
)
def test_a_bad_number_is_refused_permanently_without_calling_the_gateway(sink, channel, number, problem, worded):
    with pytest.raises(DeliveryError) as caught:
        channel.send(sms(number))
    assert caught.value.permanent and caught.value.key == problem and worded in caught.value.text("zh")
    said = caught.value.text("zh") + caught.value.text("en")
    assert number == "" or number not in said, "the number is not repeated in clear"
    assert sink.requests == 0


@pytest.mark.parametrize("number", ["13012345678", "19912345678", "+8615912345678", "0086 159 1234 5678"])
def test_mainland_mobiles_are_accepted_in_their_usual_spellings(number):
    assert len(normalise_mobile(number)) == 11


def test_a_message_without_template_is_permanent(sink, channel):
    with pytest.raises(DeliveryError) as caught:
        channel.send(sms(template=None))
    assert caught.value.permanent and caught.value.key == "delivery.sms_template" and sink.requests == 0


@pytest.mark.parametrize(("status", "permanent"), [(401, True), (400, True), (429, False), (502, False)])
def test_gateway_http_failures_are_classified(sink, channel, status, permanent):
    sink.fail_next(1, status=status)
    with pytest.raises(DeliveryError) as caught:
        channel.send(sms())
    assert caught.value.status == status and caught.value.permanent is permanent


def test_a_refusal_code_at_http_200_is_permanent(sink, channel):
    sink.fail_next(1, status=200)
    with pytest.raises(DeliveryError) as caught:
        channel.send(sms())
    assert caught.value.permanent and "REFUSED" in str(caught.value)


def test_an_unreachable_gateway_is_retryable(closed_port):
    channel = SmsChannel(gateway_url=f"http://127.0.0.1:{closed_port}/sms", api_key="k", sign_name="s")
    with pytest.raises(DeliveryError) as caught:
        channel.send(sms())
    assert not caught.value.permanent
    channel.close()


def test_no_log_line_holds_the_phone_number(sink, channel, caplog):
    caplog.set_level(logging.DEBUG)
    channel.send(sms())
    with pytest.raises(DeliveryError):
        channel.send(sms("1381234567"))
    assert caplog.records, "the delivery is logged"
    assert all(PHONE not in r.getMessage() and "1381234567" not in r.getMessage() for r in caplog.records)
