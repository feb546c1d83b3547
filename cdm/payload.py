"""The versioned MQTT message format, defined once for the meters (device_sim) and for ingest.

Topic:   cdm/v1/<county>/devices/<device_uid>/readings
Payload: UTF-8 JSON, one reading, e.g.
  {"v": 1, "kind": "bp", "device_id": "BP-0101", "seq": 17, "measured_at": "2026-11-23T08:15:02+08:00",
   "patient": {"scheme": "health_card", "value": "H330100000123"},
   "systolic": 152, "diastolic": 94, "pulse": 71, "unit": "mmHg"}
  {"v": 1, "kind": "glucose", "device_id": "GLU-0101", "seq": 9, "measured_at": "…",
   "patient": {…}, "value": 7.8, "unit": "mmol/L", "context": "fasting"}
A glucose meter whose display shows "HI" or "LO" sends "flag": "HI" / "LO" and no value.

The patient reference is what the village doctor entered or scanned at the meter when measuring:
  {"scheme": "health_card", "value": "H330100000123"} · {"scheme": "qr", "value": "Q…"}
  {"scheme": "id_card", "value": "11010519491231002X"}  (GB 11643-1999; checked here, hashed by ingest, never stored)
A value shaped like an ID-card number, or holding a valid one anywhere (`ID330102198001011248`), under another scheme
is refused (`bad_id_card`), so a number typed into the wrong field is never stored in clear.

Meter status (same county and meter parts of the topic):
  cdm/v1/<county>/devices/<device_uid>/status     retained: {"v": 1, "device_id": "BP-0101", "state": "online",
      "at": "<when it connected>"}  (a retained copy replayed later carries its old `at`, so it changes nothing)
      the meter's last will is the same topic, retained: {"v": 1, "device_id": …, "state": "offline", "will": true}
  cdm/v1/<county>/devices/<device_uid>/heartbeat  {"v": 1, "device_id": …, "sent_at": "…", "battery_pct": 87,
      "signal_dbm": -79, "interval_s": 3600}   (interval_s: when the meter will send the next one)
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cdm.identity import IdNumberError, looks_like_id_number, parse_id_number
from cdm.privacy import contains_id_number

TOPIC_VERSION = "v1"
_TOPIC = re.compile(r"^cdm/v1/(?P<county>[a-z0-9][a-z0-9_-]{0,31})/devices/(?P<device>[A-Za-z0-9_-]{1,64})/readings$")
DEVICE_UID = r"^[A-Za-z0-9_-]{1,64}$"
_DEVICE_TOPIC = re.compile(
    r"^cdm/v1/(?P<county>[a-z0-9][a-z0-9_-]{0,31})/devices/(?P<device>[A-Za-z0-9_-]{1,64})/(?P<channel>status|heartbeat)$"
)
DeviceChannel = Literal["status", "heartbeat"]


def reading_topic(county_code: str, device_uid: str) -> str:
    """The topic a meter publishes its readings on."""
    return f"cdm/{TOPIC_VERSION}/{county_code}/devices/{device_uid}/readings"


def readings_filter(county_code: str) -> str:
    """The subscription filter that matches every meter's reading topic in a county."""
    return f"cdm/{TOPIC_VERSION}/{county_code}/devices/+/readings"


def parse_topic(topic: str) -> tuple[str, str] | None:
    """(county_code, device_uid) of a reading topic, or None when the topic is not one."""
    match = _TOPIC.match(topic)
    return (match["county"], match["device"]) if match else None


def status_topic(county_code: str, device_uid: str) -> str:
    """The topic of a meter's retained online/offline state (and of its last will)."""
    return f"cdm/{TOPIC_VERSION}/{county_code}/devices/{device_uid}/status"


def heartbeat_topic(county_code: str, device_uid: str) -> str:
    """The topic of a meter's heartbeats (battery, signal, when to expect the next)."""
    return f"cdm/{TOPIC_VERSION}/{county_code}/devices/{device_uid}/heartbeat"


def device_filters(county_code: str) -> tuple[str, str]:
    """The subscription filters of every meter's status and heartbeat topics in a county."""
    return (
        f"cdm/{TOPIC_VERSION}/{county_code}/devices/+/status",
        f"cdm/{TOPIC_VERSION}/{county_code}/devices/+/heartbeat",
    )


def parse_device_topic(topic: str) -> tuple[str, str, DeviceChannel] | None:
    """(county_code, device_uid, 'status' | 'heartbeat') of a status or heartbeat topic, or None."""
    match = _DEVICE_TOPIC.match(topic)
    if not match:
        return None
    channel: DeviceChannel = "status" if match["channel"] == "status" else "heartbeat"
    return (match["county"], match["device"], channel)


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PatientRef(_Strict):
    """Who was measured, as entered at the meter: health-card number, the QR code on the card, or ID-card number."""

    scheme: Literal["health_card", "qr", "id_card"]
    value: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

    @field_validator("value")
    @classmethod
    def _id_number(cls, value: str, info: ValidationInfo) -> str:
        # The messages name what is wrong, never the number: pydantic's message is what reaches logs and screens.
        if info.data.get("scheme") == "id_card":
            try:
                parse_id_number(value)
            except IdNumberError as exc:  # a distinct error type, so ingest can name the refusal bad_id_card
                raise PydanticCustomError("id_card_invalid", str(exc)) from None
        elif looks_like_id_number(value) or contains_id_number(value):
            raise PydanticCustomError(
                "id_card_invalid", "this looks like an ID-card number; send it with scheme id_card so it is not kept"
            )
        return value

    def __repr__(self) -> str:  # never print an ID-card number into a traceback or log
        shown = "<id_card>" if self.scheme == "id_card" else self.value
        return f"PatientRef(scheme={self.scheme!r}, value={shown!r})"

    __str__ = __repr__


class _ReadingBase(_Strict):
    v: Literal[1]
    device_id: Annotated[str, Field(pattern=DEVICE_UID)]
    seq: Annotated[int, Field(ge=0, lt=2**63)]
    measured_at: AwareDatetime
    patient: PatientRef | None = None


class BpReadingV1(_ReadingBase):
    kind: Literal["bp"]
    systolic: int
    diastolic: int
    pulse: int | None = None
    unit: Literal["mmHg"]


class GlucoseReadingV1(_ReadingBase):
    kind: Literal["glucose"]
    value: float | None = None
    flag: Literal["HI", "LO"] | None = None
    unit: Literal["mmol/L", "mg/dL"]
    context: Literal["fasting", "non_fasting"]


ReadingV1 = Annotated[BpReadingV1 | GlucoseReadingV1, Field(discriminator="kind")]
READING_V1 = TypeAdapter(ReadingV1)


class StatusV1(_Strict):
    """A meter's retained online/offline state; `will` marks the message the broker sent when the meter vanished."""

    v: Literal[1]
    device_id: Annotated[str, Field(pattern=DEVICE_UID)]
    state: Literal["online", "offline"]
    at: AwareDatetime | None = None  # when the meter came online (its clock); absent in a last will
    will: bool = False


class HeartbeatV1(_Strict):
    """A meter's periodic sign of life, with what a technician needs to know before it fails."""

    v: Literal[1]
    device_id: Annotated[str, Field(pattern=DEVICE_UID)]
    sent_at: AwareDatetime
    battery_pct: Annotated[int, Field(ge=0, le=100)] | None = None
    signal_dbm: Annotated[int, Field(ge=-150, le=0)] | None = None
    interval_s: Annotated[int, Field(ge=10, le=7 * 86_400)] | None = None


def status_payload(
    *, device_uid: str, state: Literal["online", "offline"], at: datetime | None = None, will: bool = False
) -> bytes:
    """Serialise a status message (or a last will, `will=True` and no `at`) exactly as a meter sends it."""
    msg = StatusV1(v=1, device_id=device_uid, state=state, at=at, will=will)
    return msg.model_dump_json(exclude_defaults=True).encode()


def heartbeat_payload(
    *,
    device_uid: str,
    sent_at: datetime,
    battery_pct: int | None,
    signal_dbm: int | None,
    interval_s: int | None,
) -> bytes:
    """Serialise a heartbeat exactly as a meter sends it."""
    msg = HeartbeatV1(
        v=1,
        device_id=device_uid,
        sent_at=sent_at,
        battery_pct=battery_pct,
        signal_dbm=signal_dbm,
        interval_s=interval_s,
    )
    return msg.model_dump_json(exclude_none=True).encode()


def bp_payload(
    *,
    device_uid: str,
    seq: int,
    measured_at: datetime,
    systolic: int,
    diastolic: int,
    pulse: int | None,
    patient: PatientRef | None,
) -> bytes:
    """Serialise a BP reading exactly as a meter sends it."""
    msg = BpReadingV1(
        v=1,
        kind="bp",
        device_id=device_uid,
        seq=seq,
        measured_at=measured_at,
        patient=patient,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        unit="mmHg",
    )
    return msg.model_dump_json(exclude_none=True).encode()


def glucose_payload(
    *,
    device_uid: str,
    seq: int,
    measured_at: datetime,
    mmol_l: float | None,
    context: str,
    patient: PatientRef | None,
    flag: Literal["HI", "LO"] | None = None,
) -> bytes:
    """Serialise a glucose reading exactly as a meter sends it."""
    msg = GlucoseReadingV1(
        v=1,
        kind="glucose",
        device_id=device_uid,
        seq=seq,
        measured_at=measured_at,
        patient=patient,
        value=mmol_l,
        flag=flag,
        unit="mmol/L",
        context=context,  # type: ignore[arg-type]
    )
    return msg.model_dump_json(exclude_none=True).encode()
