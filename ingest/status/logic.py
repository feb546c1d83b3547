"""Pure parts of meters' status: which meters a batch names, what a status or heartbeat message says, silences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import ValidationError

from cdm.payload import HeartbeatV1, StatusV1, parse_device_topic, parse_topic
from ingest.message import InboundMessage
from ingest.validate import DETAIL_MAX

Problem = tuple[str, str]  # (reason, detail) of a quarantined message


def meter_uids(messages: Sequence[InboundMessage]) -> set[str]:
    """Every meter a batch names, on a readings, status or heartbeat topic."""
    uids = {p[1] for p in (parse_device_topic(m.topic) for m in messages) if p}
    return uids | {p[1] for p in (parse_topic(m.topic) for m in messages) if p}


def parse_device_message(msg: InboundMessage, *, uid: str, channel: str) -> StatusV1 | HeartbeatV1 | Problem:
    """The status or heartbeat a message carries, or why it is refused (a bad payload, another meter's id)."""
    model = StatusV1 if channel == "status" else HeartbeatV1
    try:
        parsed = model.model_validate_json(msg.payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or channel
        return f"bad_{channel}", f"{where}: {first['msg']}"[:DETAIL_MAX]
    if parsed.device_id != uid:
        return "topic_mismatch", f"payload device_id {parsed.device_id!r} published on {uid!r}'s topic"
    return parsed


def status_change(status: StatusV1, *, received_at: datetime) -> tuple[datetime, str]:
    """When a status message says the state changed, and why ('will' or 'status')."""
    # A retained copy replayed at a later subscribe carries the meter's old `at`: older than what the store
    # knows, it changes nothing. A will has no `at`; the broker sends it when the meter vanished, i.e. now.
    at = min(status.at, received_at) if status.at else received_at
    return at, "will" if status.will else "status"


def silence_limit(interval_s: int, grace: float) -> timedelta:
    """How long a meter with this heartbeat interval may stay silent before it is flagged offline."""
    return timedelta(seconds=interval_s * grace)
