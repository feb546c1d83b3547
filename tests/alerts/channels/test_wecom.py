"""The WeCom group-robot channel against a real local HTTP server answering as the robot does."""

from __future__ import annotations

import uuid

import pytest

from alerts.channels import DeliveryError, OutboundMessage, WeComChannel
from alerts.channels.wecom import MAX_CONTENT_BYTES, markdown_content, short_key

KEY = "5f0c8f9e-2b7a-4c3d-9e8f-0a1b2c3d4e5f"


@pytest.fixture
def channel():
    ch = WeComChannel(timeout_s=0.5)
    yield ch
    ch.close()


def robot(sink) -> str:
    return f"{sink.url}/wecom/send?key=robot-secret-key"


def test_delivered_as_markdown_with_the_short_key_in_the_footer(sink, channel):
    msg = OutboundMessage(robot(sink), "【红色预警】青山镇", "张** 血压 192/104 mmHg,请立即随访。", KEY)
    receipt = channel.send(msg)
    assert receipt.status == 200 and '"errcode": 0' in receipt.text
    [got] = sink.received()
    assert got.path == "/wecom/send?key=robot-secret-key"
    assert got.body["msgtype"] == "markdown"
    content = got.body["markdown"]["content"]
    assert content.startswith("### 【红色预警】青山镇\n张** 血压 192/104 mmHg,请立即随访。")
    assert content.endswith(f'<font color="comment">#{short_key(KEY)}</font>') and short_key(KEY) == "5f0c8f9e"


def test_the_rate_limit_errcode_is_retryable(sink, channel):
    sink.fail_next(1)  # the robot answers HTTP 200 with errcode 45009
    with pytest.raises(DeliveryError) as caught:
        channel.send(OutboundMessage(robot(sink), "t", "x", KEY))
    assert not caught.value.permanent and caught.value.status == 200 and "45009" in str(caught.value)


def test_an_invalid_robot_key_is_permanent(sink, channel):
    sink.fail_next(1, errcode=93000)
    with pytest.raises(DeliveryError) as caught:
        channel.send(OutboundMessage(robot(sink), "t", "x", KEY))
    assert caught.value.permanent and "93000" in str(caught.value)


def test_an_answer_that_is_not_the_robots_is_retryable(sink, channel):
    with pytest.raises(DeliveryError) as caught:  # the sink's plain webhook path answers {"receipt": …}
        channel.send(OutboundMessage(f"{sink.url}/not-a-robot", "t", "x", KEY))
    assert not caught.value.permanent and caught.value.key == "delivery.wecom_answer"


def test_an_unreachable_robot_is_retryable_and_its_key_stays_out_of_the_error(channel, closed_port):
    with pytest.raises(DeliveryError) as caught:
        channel.send(OutboundMessage(f"http://127.0.0.1:{closed_port}/wecom/send?key=robot-secret-key", "t", "x", KEY))
    assert not caught.value.permanent and "robot-secret-key" not in str(caught.value)


def test_a_long_message_is_cut_to_4096_bytes_and_arrives_with_its_footer(sink, channel):
    text = "收缩压持续升高,请乡镇卫生院立即电话随访并预约复诊。" * 200  # about 15,000 bytes
    channel.send(OutboundMessage(robot(sink), "【红色预警】", text, KEY))
    content = sink.received()[0].body["markdown"]["content"]
    assert len(content.encode()) <= MAX_CONTENT_BYTES
    assert content.endswith(f"#{short_key(KEY)}</font>") and "…" in content
    kept = content.split("…")[0].removeprefix("### 【红色预警】\n")
    assert text.startswith(kept) and len(kept) > 1000


@pytest.mark.parametrize("padding", [0, 1, 2, 3])
def test_the_cut_never_splits_a_character(padding):
    # shifting the text by 0-3 ASCII bytes puts the 4096-byte limit at every offset inside 3- and 4-byte characters
    text = "a" * padding + ("血压😀" * 1000)
    content = markdown_content(title="标题", text=text, idempotency_key=KEY)
    encoded = content.encode()  # would raise on a lone surrogate; a split multi-byte sequence cannot be str
    assert MAX_CONTENT_BYTES - 4 - len("…".encode()) <= len(encoded) <= MAX_CONTENT_BYTES
    body = content.split("…")[0].removeprefix("### 标题\n")
    assert text.startswith(body), "what is kept is exactly a prefix of the text, whole characters only"


def test_content_that_fits_exactly_is_left_alone_and_one_byte_more_is_cut():
    footer_and_title = len(markdown_content(title="T", text="", idempotency_key=KEY).encode())
    fits = "x" * (MAX_CONTENT_BYTES - footer_and_title)
    exact = markdown_content(title="T", text=fits, idempotency_key=KEY)
    assert len(exact.encode()) == MAX_CONTENT_BYTES and "…" not in exact
    over = markdown_content(title="T", text=fits + "x", idempotency_key=KEY)
    assert len(over.encode()) <= MAX_CONTENT_BYTES and "…" in over


def test_a_key_that_is_not_a_uuid_still_gets_a_stable_short_form():
    assert short_key("notification-42") == short_key("notification-42") != short_key("notification-43")
    assert len(short_key("notification-42")) == 8
    assert short_key(str(uuid.UUID(KEY))) == KEY[:8]
