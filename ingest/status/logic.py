"""Pure parts of meters' status: which meters a batch names, what a status or heartbeat message says, silences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from cdm.payload import HeartbeatV1, StatusV1, parse_device_topic, parse_topic
from ingest.message import InboundMessage
from ingest.validate import DETAIL_MAX, duplicate_key, envelope_problem

Problem = tuple[str, str]  # (reason, detail) of a quarantined message
EARLIEST_STATUS = datetime(2000, 1, 1, tzinfo=UTC)
STATUS_SKEW = timedelta(hours=1)  # a status `at` this far ahead of arrival is a wrong clock, not a time zone slip


def meter_uids(messages: Sequence[InboundMessage]) -> set[str]:
    """Every meter a batch names, on a readings, status or heartbeat topic."""
    uids = {p[1] for p in (parse_device_topic(m.topic) for m in messages) if p}
    return uids | {p[1] for p in (parse_topic(m.topic) for m in messages) if p}


def parse_device_message(msg: InboundMessage, *, uid: str, channel: str) -> StatusV1 | HeartbeatV1 | Problem:
    """The status or heartbeat a message carries, or why it is refused (not UTF-8, a NUL, a key twice, a bad
    payload, another meter's id, a status time out of range)."""
    duplicate = duplicate_key(msg.payload)
    problem = envelope_problem(msg.payload) or (("duplicate_key", duplicate) if duplicate else None)
    if problem:
        return problem
    model = StatusV1 if channel == "status" else HeartbeatV1
    try:
        parsed = model.model_validate_json(msg.payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or channel
        return f"bad_{channel}", f"{where}: {first['msg']}"[:DETAIL_MAX]
    if parsed.device_id != uid:
        return "topic_mismatch", f"payload device_id {parsed.device_id!r} published on {uid!r}'s topic"
    if isinstance(parsed, StatusV1) and parsed.at is not None and not plausible_status_time(parsed.at, msg.received_at):
        return "status_time_out_of_range", (
            f"status time {parsed.at.isoformat()[:40]} is before {EARLIEST_STATUS.year} or in the future;"
            " check the meter's clock"
        )
    return parsed


def plausible_status_time(at: datetime, received_at: datetime) -> bool:
    """Whether a status time can be stored: a retained status may be months old (the meter has been online since),
    never older than meters of this system, and never later than arrival plus a clock's allowed drift. Year 0001
    or 9999 would be stored as a date PostgreSQL keeps but Python cannot read back (`cdm devices list` would fail).
    """
    try:
        return EARLIEST_STATUS <= at <= received_at + STATUS_SKEW
    except OverflowError:
        return False


def refusals(quarantine: Sequence[tuple[str | None, object]], ids: dict[str, int]) -> dict[int, int]:
    """Per registered meter id, how many of the batch's refused messages (meter uid first) it sent."""
    counts: dict[int, int] = {}
    for uid, *_ in quarantine:
        device_id = ids.get(uid or "")
        if device_id is not None:
            counts[device_id] = counts.get(device_id, 0) + 1
    return counts


def status_change(status: StatusV1, *, received_at: datetime) -> tuple[datetime, str]:
    """When a status message says the state changed, and why ('will' or 'status')."""
    # A retained copy replayed at a later subscribe carries the meter's old `at`: older than what the store
    # knows, it changes nothing. A will has no `at`; the broker sends it when the meter vanished, i.e. now.
    at = min(status.at, received_at) if status.at else received_at
    return at, "will" if status.will else "status"


def silence_limit(interval_s: int, grace: float) -> timedelta:
    """How long a meter with this heartbeat interval may stay silent before it is flagged offline."""
    return timedelta(seconds=interval_s * grace)
