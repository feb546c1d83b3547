"""Pure rules of the device registry: what a meter's identity may look like and when provisioning is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cdm.i18n import Refusal, Term

_SERIAL = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_IMEI = re.compile(r"^\d{15}$")
_UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
UID_PREFIX = {"bp": "BP", "glucose": "GLU"}

Kind = Literal["bp", "glucose"]


class RegistryError(Refusal, LookupError):
    """A request the registry refuses: a catalogue key and its values saying what to change."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What is printed once at provisioning; only the password's hash is kept."""

    uid: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Registered:
    """A meter already in the registry, as provisioning finds it."""

    id: int
    kind: str
    provisioned_at: datetime | None
    revoked_at: datetime | None


def imei_ok(imei: str) -> bool:
    """An IMEI is 15 digits whose last is a Luhn check digit."""
    if not _IMEI.match(imei):
        return False
    total = 0
    for i, ch in enumerate(reversed(imei)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def meter_uid(kind: Kind, serial: str, *, uid: str | None = None) -> str:
    """The meter's id in topics: the one given, else BP-<serial> / GLU-<serial>."""
    return uid or f"{UID_PREFIX[kind]}-{serial}"


def check_identity(*, serial: str, imei: str, uid: str) -> None:
    """Refuse a serial number, IMEI or meter id that cannot be a meter's."""
    if not _SERIAL.match(serial):
        raise RegistryError("devices.refused.serial")
    if not imei_ok(imei):
        raise RegistryError("devices.refused.imei")
    if not _UID.match(uid):
        raise RegistryError("devices.refused.uid")


def check_provisionable(meter: Registered, *, uid: str, kind: Kind) -> None:
    """Refuse to provision a registered meter that was revoked, is already provisioned, or is of another kind."""
    if meter.revoked_at is not None:
        raise RegistryError("devices.refused.revoked", uid=uid)
    if meter.provisioned_at is not None:
        raise RegistryError("devices.refused.provisioned", uid=uid)
    if meter.kind != kind:
        raise RegistryError("devices.refused.kind", uid=uid, kind=Term(f"devices.kind.{meter.kind}"))
