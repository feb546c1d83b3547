"""The versioned MQTT message format, defined once for the meters (device_sim) and for ingest.

Topic:   cdm/v1/<county>/devices/<device_uid>/readings
Payload: UTF-8 JSON, one reading, e.g.
  {"v": 1, "kind": "bp", "device_id": "BP-0101", "seq": 17, "measured_at": "2026-11-23T08:15:02+08:00",
   "patient": {"scheme": "health_card", "value": "H330100000123"},
   "systolic": 152, "diastolic": 94, "pulse": 71, "unit": "mmHg"}
  {"v": 1, "kind": "glucose", "device_id": "GLU-0101", "seq": 9, "measured_at": "…",
   "patient": {…}, "value": 7.8, "unit": "mmol/L", "context": "fasting"}
A glucose meter whose display shows "HI" or "LO" sends "flag": "HI" / "LO" and no value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

TOPIC_VERSION = "v1"
_TOPIC = re.compile(r"^cdm/v1/(?P<county>[a-z0-9][a-z0-9_-]{0,31})/devices/(?P<device>[A-Za-z0-9_-]{1,64})/readings$")
DEVICE_UID = r"^[A-Za-z0-9_-]{1,64}$"


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


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PatientRef(_Strict):
    """Who was measured, as entered at the meter (health-card number or the QR code on the card)."""

    scheme: Literal["health_card", "qr"]
    value: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


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
