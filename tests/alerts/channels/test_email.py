"""The e-mail channel against a real SMTP server (aiosmtpd) on a local port."""

from __future__ import annotations

import logging
import ssl
import uuid

import pytest

from alerts.channels import DeliveryError, EmailChannel, OutboundMessage
from tests.alerts.channels.conftest import SMTP_PASSWORD, SMTP_USER

ADDRESS = "zhang.san@township.example.cn"
TITLE = "【红色预警】青山镇 张** 血压 192/104"
TEXT = "患者张**(健康卡 H33****0123)收缩压 192 mmHg,请乡镇卫生院今日内随访。\n县慢病中心"


def mail(address: str = ADDRESS, *, key: str | None = None) -> OutboundMessage:
    return OutboundMessage(address, TITLE, TEXT, key or str(uuid.uuid4()))


def channel_for(server, **kwargs) -> EmailChannel:
    return EmailChannel(host=server.host, port=server.port, sender="cdm@county.example.cn", timeout_s=2, **kwargs)


def test_delivered_with_utf8_subject_and_body_and_a_message_id_from_the_key(smtp_server):
    key = str(uuid.uuid4())
    receipt = channel_for(smtp_server).send(mail(key=key))
    [got] = smtp_server.handler.messages
    assert receipt.status == 250 and "queued as Q1" in receipt.text
    assert got["Subject"] == TITLE and got["To"] == ADDRESS and got["From"] == "cdm@county.example.cn"
    assert got.get_content().rstrip("\n") == TEXT, "Chinese text arrives intact"
    assert key in got["Message-ID"] and got["Message-ID"].endswith("@county.example.cn>")
    assert got["Message-ID"] in receipt.text


def test_a_retry_has_the_same_message_id_so_the_receiver_drops_it(smtp_server):
    channel = channel_for(smtp_server)
    msg = mail()
    channel.send(msg)
    channel.send(msg)
    channel.send(mail())
    assert len(smtp_server.handler.messages) == 2 and smtp_server.handler.repeats == 1


def test_logs_in_when_a_username_is_set(smtp_server):
    channel_for(smtp_server, username=SMTP_USER, password=SMTP_PASSWORD).send(mail())
    assert len(smtp_server.handler.messages) == 1


def test_a_wrong_password_is_permanent(smtp_server):
    with pytest.raises(DeliveryError) as caught:
        channel_for(smtp_server, username=SMTP_USER, password="wrong").send(mail())
    assert caught.value.permanent and caught.value.status == 535


def test_a_temporary_refusal_451_is_retryable(smtp_server):
    smtp_server.handler.data_reply = "451 4.3.0 mailbox busy, try again later"
    with pytest.raises(DeliveryError) as caught:
        channel_for(smtp_server).send(mail())
    assert not caught.value.permanent and caught.value.status == 451 and "DATA" in str(caught.value)


def test_an_unknown_mailbox_550_is_permanent_and_the_address_is_masked(smtp_server):
    smtp_server.handler.rcpt_reply = f"550 5.1.1 <{ADDRESS}>: no such user"
    with pytest.raises(DeliveryError) as caught:
        channel_for(smtp_server).send(mail())
    assert caught.value.permanent and caught.value.status == 550 and "RCPT" in str(caught.value)
    assert ADDRESS not in str(caught.value) and "z****@township.example.cn" in str(caught.value)


def test_a_refused_connection_is_retryable(closed_port):
    channel = EmailChannel(host="127.0.0.1", port=closed_port, sender="cdm@localhost", timeout_s=1)
    with pytest.raises(DeliveryError) as caught:
        channel.send(mail())
    assert not caught.value.permanent


def test_a_server_that_never_greets_times_out_and_is_retryable(silent_port):
    channel = EmailChannel(host="127.0.0.1", port=silent_port, sender="cdm@localhost", timeout_s=0.3)
    with pytest.raises(DeliveryError) as caught:
        channel.send(mail())
    assert not caught.value.permanent


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@b", "x@y.cn\nBcc: all@y.cn", "张三@例子.中国"])
def test_an_unusable_address_is_permanent_and_nothing_is_sent(smtp_server, address):
    with pytest.raises(DeliveryError) as caught:
        channel_for(smtp_server).send(mail(address))
    assert caught.value.permanent and not smtp_server.handler.messages


def test_starttls_then_log_in_with_a_trusted_certificate(tls_smtp_server, certificate):
    trusted = ssl.create_default_context(cafile=str(certificate))
    channel = channel_for(
        tls_smtp_server, starttls=True, tls_context=trusted, username=SMTP_USER, password=SMTP_PASSWORD
    )
    assert channel.send(mail()).status == 250
    assert tls_smtp_server.handler.messages[0]["Subject"] == TITLE


def test_an_untrusted_certificate_is_permanent(tls_smtp_server):
    with pytest.raises(DeliveryError) as caught:
        channel_for(tls_smtp_server, starttls=True).send(mail())
    assert caught.value.permanent and "SSLCertVerificationError" in str(caught.value)


def test_a_server_that_requires_starttls_refuses_plain_text_permanently(tls_smtp_server):
    with pytest.raises(DeliveryError) as caught:
        channel_for(tls_smtp_server).send(mail())
    assert caught.value.permanent and caught.value.status == 530
    assert not tls_smtp_server.handler.messages


def test_a_non_ascii_password_is_a_permanent_error_not_a_crash(smtp_server):
    with pytest.raises(DeliveryError) as caught:  # smtplib encodes AUTH in ASCII only
        channel_for(smtp_server, username=SMTP_USER, password="口令").send(mail())
    assert caught.value.permanent and "ASCII" in str(caught.value)


def test_no_log_line_of_ours_holds_the_address(smtp_server, caplog):
    caplog.set_level(logging.DEBUG, logger="alerts")
    channel_for(smtp_server).send(mail())
    ours = [r for r in caplog.records if r.name.startswith("alerts.")]  # the test server logs its own traffic
    assert ours and all(ADDRESS not in r.getMessage() for r in ours)
