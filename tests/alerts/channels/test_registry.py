"""The channel registry built from the one settings object, used against real local receivers."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from alerts.channels import (
    CHANNEL_NAMES,
    CircuitBreaker,
    DeliveryError,
    OutboundMessage,
    breaker_states,
    build_channels,
    close_all,
    sign,
)
from cdm.settings import Settings


def settings(**values) -> Settings:
    base = {"sms_gateway_url": None, "sms_api_key": None, "smtp_host": None, "webhook_secret": SecretStr("reg-secret")}
    return Settings(_env_file=None, **{**base, **values})


def msg(address: str, **extra) -> OutboundMessage:
    return OutboundMessage(address, "【红色预警】", "请随访", str(uuid.uuid4()), body={"a": 1}, **extra)


def test_every_channel_is_there_behind_its_own_breaker():
    channels = build_channels(settings(), failure_threshold=2, cooldown_s=5)
    try:
        assert tuple(channels) == CHANNEL_NAMES == ("webhook", "wecom", "sms", "email")
        assert all(isinstance(c, CircuitBreaker) and c.name == name for name, c in channels.items())
        assert len({id(c) for c in channels.values()}) == 4
        assert [(s.channel, s.state) for s in breaker_states(channels)] == [(n, "closed") for n in CHANNEL_NAMES]
    finally:
        close_all(channels)


@pytest.mark.parametrize(
    ("name", "message", "missing"),
    [
        ("sms", msg("13812345678", template="T"), "CDM_SMS_GATEWAY_URL, CDM_SMS_API_KEY"),
        ("email", msg("a@example.cn"), "CDM_SMTP_HOST"),
    ],
)
def test_a_channel_without_its_settings_fails_permanently_naming_them(name, message, missing):
    channels = build_channels(settings())
    with pytest.raises(DeliveryError) as caught:
        channels[name].send(message)
    assert caught.value.permanent and f"set {missing}" in caught.value.text("en")
    assert channels[name].state == "closed", "a missing setting does not trip the breaker"
    close_all(channels)


def test_an_sms_gateway_without_its_key_names_only_the_key(sink):
    channels = build_channels(settings(sms_gateway_url=f"{sink.url}/sms"))
    with pytest.raises(DeliveryError, match=r"：请设置 CDM_SMS_API_KEY$"):
        channels["sms"].send(msg("13812345678", template="T"))
    assert sink.requests == 0
    close_all(channels)


def test_configured_channels_deliver_to_real_receivers(sink, smtp_server):
    channels = build_channels(
        settings(
            sms_gateway_url=f"{sink.url}/sms",
            sms_api_key=SecretStr("gw-key"),
            sms_sign_name="示范县慢病中心",
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_from="cdm@county.example.cn",
        )
    )
    try:
        assert channels["webhook"].send(msg(f"{sink.url}/county")).status == 200
        assert channels["wecom"].send(msg(f"{sink.url}/wecom/send?key=k")).status == 200
        assert channels["sms"].send(msg("13812345678", template="SMS_1")).status == 200
        assert channels["email"].send(msg("duty@county.example.cn")).status == 250
    finally:
        close_all(channels)
    webhook, wecom, sms = sink.received()
    assert webhook.signature == sign(webhook.raw, "reg-secret"), "the webhook is signed with CDM_WEBHOOK_SECRET"
    assert wecom.body["msgtype"] == "markdown"
    assert sms.authorization == "Bearer gw-key" and sms.body["sign_name"] == "示范县慢病中心"
    assert smtp_server.handler.messages[0]["From"] == "cdm@county.example.cn"
