"""What a notification says on each channel (pure): the webhook's JSON, a text for WeCom and e-mail, an SMS
template with its parameters."""

from __future__ import annotations

from typing import Any

from alerts.channels.base import OutboundMessage
from assess.reasons import reason_texts
from cdm.i18n import t

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


def notification_body(*, alert: dict[str, Any], recipient: str, place: dict[str, Any], lang: str) -> dict[str, Any]:
    """What a notification of `alert` tells `recipient` (the webhook's JSON; the other channels are made from it)."""
    escalated = recipient in ("county_on_duty", "team")
    title = t(
        f"alert.{alert['kind']}.title",
        lang,
        township=place["township"],
        village=place["village"],
        patient=place["card"],
    )
    if escalated:
        title = t("alert.escalated.prefix", lang) + title
    elif recipient == "assignee":
        title = t("alert.assigned.prefix", lang) + title
    return {
        "alert_id": alert["id"],
        "kind": alert["kind"],
        "severity": alert["severity"],
        "recipient": recipient,
        "recipient_name": t(f"alert.recipient.{recipient}", lang),
        "title": title,
        "township": {"code": place["township_code"], "name": place["township"]},
        "village": place["village"],
        "patient": {"id": alert["patient_id"], "card": place["card"]},
        "reasons": [
            {"code": r, "text": text}
            for r, text in zip(
                alert["reasons"], reason_texts(alert["reasons"], alert.get("reason_facts"), lang=lang), strict=True
            )
        ],
        "evidence": list(alert["evidence"]),
        "opened_at": alert["opened_at"].isoformat(),
        "escalated": escalated,
    }
