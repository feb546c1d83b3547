"""The webhook channel against a real local HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest

from alerts.channels import DeliveryError, OutboundMessage, WebhookChannel, fill_township, sign

SECRET = "test-secret-密钥"
BODY = {"title": "【红色预警】张** 血压 192/104", "patient": {"card": "H33****0123"}, "reasons": ["bp_critical"]}


def message(address: str, *, key: str | None = None) -> OutboundMessage:
    return OutboundMessage(address, "红色预警", "血压 192/104 mmHg", key or str(uuid.uuid4()), body=BODY)


@pytest.fixture
def channel():
    ch = WebhookChannel(secret=SECRET, timeout_s=0.5)
    yield ch
    ch.close()


def test_delivered_with_receipt_key_and_a_signature_the_receiver_can_verify(sink, channel):
    key = str(uuid.uuid4())
    receipt = channel.send(message(f"{sink.url}/county", key=key))
    assert receipt.status == 200 and "receipt" in json.loads(receipt.text)
    [got] = sink.received()
    assert got.path == "/county" and got.idempotency_key == key
    assert got.body == BODY, "Chinese text arrives intact"
    expected = "sha256=" + hmac.new(SECRET.encode(), got.raw, hashlib.sha256).hexdigest()
    assert got.signature == expected == sign(got.raw, SECRET)
    assert got.signature != sign(got.raw, "another secret")


def test_a_retry_carries_the_same_key_so_the_receiver_drops_it(sink, channel):
    msg = message(f"{sink.url}/county")
    channel.send(msg)
    channel.send(msg)
    assert len(sink.received()) == 1 and sink.repeats == 1


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (401, True), (404, True), (410, True), (408, False), (429, False), (500, False), (503, False)],
)
def test_a_refusal_is_permanent_only_for_a_4xx_other_than_408_and_429(sink, channel, status, permanent):
    sink.fail_next(1, status=status)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(f"{sink.url}/county"))
    assert caught.value.status == status and caught.value.permanent is permanent
    assert str(status) in str(caught.value)
    assert channel.send(message(f"{sink.url}/county")).status == 200


def test_a_refused_connection_is_retryable(channel, closed_port):
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(f"http://127.0.0.1:{closed_port}/county"))
    assert not caught.value.permanent and caught.value.status is None
    assert "ConnectError" in str(caught.value)


def test_a_receiver_that_never_answers_times_out_and_is_retryable(channel, silent_port):
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(f"http://127.0.0.1:{silent_port}/county"))
    assert not caught.value.permanent and "Timeout" in str(caught.value)


def test_an_address_that_is_not_http_is_permanent(channel):
    with pytest.raises(DeliveryError) as caught:
        channel.send(message("ftp://127.0.0.1/county"))
    assert caught.value.permanent


def test_the_township_code_fills_the_address_template():
    assert fill_township("http://h/township/{township}", "330102") == "http://h/township/330102"
