"""What a notification says on each channel (pure): the webhook's JSON, a text for WeCom and e-mail, an SMS
template with its parameters."""

from __future__ import annotations

from typing import Any

from alerts.channels.base import OutboundMessage

SMS_ALERT_TEMPLATE = "CDM_ALERT_RED"  # registered with the SMS provider: 【县慢病中心】${title}：${reasons}


def outbound(*, body: dict[str, Any], address: str, idempotency_key: str) -> OutboundMessage:
    """The message of one notification, for any channel."""
    reasons = "；".join(r["text"] for r in body.get("reasons", []))
    lines = [
        body["title"],
        f"乡镇：{body['township']['name']}  村：{body['village']}  患者：{body['patient']['card']}",
        f"原因：{reasons}",
        f"读数：{', '.join(body.get('evidence', []))}",
        f"预警编号：{body['alert_id']}  时间：{body['opened_at']}",
    ]
    params = {"title": body["title"], "reasons": reasons, "alert": str(body["alert_id"])}
    return OutboundMessage(
        address=address,
        title=body["title"],
        text="\n".join(lines),
        idempotency_key=idempotency_key,
        body=body,
        template=SMS_ALERT_TEMPLATE,
        params=params,
    )
