"""The device registry: provisioning meters with their own MQTT credentials, service accounts, moves, revocation.

Store representation (what screens read): `device` — one row per meter; `mqtt_username` equals `uid`;
`revoked_at` set means the broker files leave it out; `status` online / offline / unknown with `status_at`,
`status_reason` ('will', 'status', 'heartbeat', 'reading', 'silent') and `last_seen_at` / `last_heartbeat_at`,
`battery_pct`, `signal_dbm`. `device_placement` — which clinic a meter stood in from when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from ingest.devices.broker import Account, Role, mosquitto_hash, new_password

_SERIAL = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_IMEI = re.compile(r"^\d{15}$")
_UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
UID_PREFIX = {"bp": "BP", "glucose": "GLU"}


class RegistryError(LookupError):
    """A request the registry refuses; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What is printed once at provisioning; only the password's hash is kept."""

    uid: str
    username: str
    password: str


def imei_ok(imei: str) -> bool:
    """An IMEI is 15 digits whose last is a Luhn check digit."""
    if not _IMEI.match(imei):
        return False
    total = 0
    for i, ch in enumerate(reversed(imei)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _check_identity(*, serial: str, imei: str, uid: str) -> None:
    if not _SERIAL.match(serial):
        raise RegistryError("the serial number may hold 1-40 letters, digits, '-' or '_'")
    if not imei_ok(imei):
        raise RegistryError("the IMEI must be 15 digits with a valid check digit (printed on the meter's label)")
    if not _UID.match(uid):
        raise RegistryError("the meter id may hold 1-64 letters, digits, '-' or '_'")


def _clinic_id(conn: psycopg.Connection, clinic_code: str) -> int:
    row = conn.execute("select id from region where code = %s and level = 'village'", (clinic_code,)).fetchone()
    if row is None:
        raise RegistryError(f"no village clinic with code {clinic_code!r}")
    return int(row[0])


def provision(
    conn: psycopg.Connection,
    *,
    kind: Literal["bp", "glucose"],
    clinic_code: str,
    serial: str,
    imei: str,
    now: datetime,
    uid: str | None = None,
) -> Credentials:
    """Register a meter (or issue credentials to one registered without) and return its new MQTT credentials."""
    uid = uid or f"{UID_PREFIX[kind]}-{serial}"
    _check_identity(serial=serial, imei=imei, uid=uid)
    clinic_id = _clinic_id(conn, clinic_code)
    password = new_password()
    hashed = mosquitto_hash(password)
    existing = conn.execute(
        "select id, kind, provisioned_at, revoked_at, imei from device where uid = %s for update", (uid,)
    ).fetchone()
    clash = conn.execute("select uid from device where imei = %s and uid <> %s", (imei, uid)).fetchone()
    if clash:
        raise RegistryError(f"IMEI already registered to meter {clash[0]}")
    if existing is None:
        row = conn.execute(
            "insert into device (uid, kind, clinic_id, serial, imei, mqtt_username, mqtt_password_hash,"
            " provisioned_at) values (%s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (uid, kind, clinic_id, serial, imei, uid, hashed, now),
        ).fetchone()
        device_id = int(row[0]) if row else 0
    else:
        device_id, old_kind, provisioned_at, revoked_at, _ = existing
        if revoked_at is not None:
            raise RegistryError(f"meter {uid} was revoked; register the replacement under a new serial")
        if provisioned_at is not None:
            raise RegistryError(f"meter {uid} is already provisioned; use `cdm devices rotate` for new credentials")
        if old_kind != kind:
            raise RegistryError(f"meter {uid} is registered as a {old_kind} meter")
        conn.execute(
            "update device set serial = %s, imei = %s, mqtt_username = uid, mqtt_password_hash = %s,"
            " provisioned_at = %s, clinic_id = %s where id = %s",
            (serial, imei, hashed, now, clinic_id, device_id),
        )
    conn.execute(
        "insert into device_placement (device_id, clinic_id, valid_from) values (%s, %s, %s) on conflict do nothing",
        (device_id, clinic_id, now),
    )
    return Credentials(uid=uid, username=uid, password=password)


def rotate(conn: psycopg.Connection, *, uid: str) -> Credentials:
    """New credentials for a provisioned meter (the old password stops working once the files are regenerated)."""
    password = new_password()
    cur = conn.execute(
        "update device set mqtt_password_hash = %s where uid = %s and provisioned_at is not null"
        " and revoked_at is null",
        (mosquitto_hash(password), uid),
    )
    if cur.rowcount != 1:
        raise RegistryError(f"no provisioned, unrevoked meter {uid!r}")
    return Credentials(uid=uid, username=uid, password=password)


def revoke(conn: psycopg.Connection, *, uid: str, now: datetime) -> str:
    """Revoke a meter (lost, stolen or replaced) or a service account: the next broker files leave it out."""
    if conn.execute("update device set revoked_at = %s where uid = %s and revoked_at is null", (now, uid)).rowcount:
        return "meter"
    cur = conn.execute("update mqtt_account set revoked_at = %s where username = %s and revoked_at is null", (now, uid))
    if cur.rowcount != 1:
        raise RegistryError(f"no unrevoked meter or account {uid!r}")
    return "account"


def move(conn: psycopg.Connection, *, uid: str, clinic_code: str, at: datetime) -> dict[str, object]:
    """Record that a meter stands in another clinic from `at`; readings measured after it belong there."""
    clinic_id = _clinic_id(conn, clinic_code)
    row = conn.execute("select id from device where uid = %s", (uid,)).fetchone()
    if row is None:
        raise RegistryError(f"no meter {uid!r}")
    # A meter registered before placements were kept gets its first one: where it stood until now, since it was
    # registered (readings measured earlier, from its buffer, belong there too).
    conn.execute(
        "insert into device_placement (device_id, clinic_id, valid_from)"
        " select id, clinic_id, least(registered_at, %s - interval '1 second')"
        " from device where id = %s and not exists (select 1 from device_placement where device_id = %s)",
        (at, row[0], row[0]),
    )
    conn.execute(
        "insert into device_placement (device_id, clinic_id, valid_from) values (%s, %s, %s)"
        " on conflict (device_id, valid_from) do update set clinic_id = excluded.clinic_id",
        (row[0], clinic_id, at),
    )
    # `device.clinic_id` is where the meter is now (the latest placement).
    conn.execute(
        "update device d set clinic_id = p.clinic_id from (select clinic_id from device_placement"
        " where device_id = %s order by valid_from desc limit 1) p where d.id = %s",
        (row[0], row[0]),
    )
    return {"moved": uid, "clinic": clinic_code, "from": at}


def add_account(conn: psycopg.Connection, *, username: str, role: Role, now: datetime) -> Credentials:
    """A service account of the broker (ingest, simulator, monitor); its password is returned once."""
    if role == "meter":
        raise RegistryError("meters are provisioned with `cdm devices provision`")
    if conn.execute("select 1 from device where mqtt_username = %s", (username,)).fetchone():
        raise RegistryError(f"{username!r} is a meter's username")
    password = new_password()
    try:
        with conn.transaction():
            conn.execute(
                "insert into mqtt_account (username, role, password_hash, created_at) values (%s, %s, %s, %s)",
                (username, role, mosquitto_hash(password), now),
            )
    except psycopg.errors.UniqueViolation:
        raise RegistryError(f"account {username!r} exists") from None
    except psycopg.errors.CheckViolation:
        raise RegistryError("an account name may hold 1-64 letters, digits, '.', '-' or '_'") from None
    return Credentials(uid="", username=username, password=password)


def broker_accounts(conn: psycopg.Connection) -> list[Account]:
    """Every account the broker should accept: provisioned, unrevoked meters and unrevoked service accounts."""
    meters = conn.execute(
        "select mqtt_username, mqtt_password_hash from device where provisioned_at is not null"
        " and revoked_at is null and mqtt_password_hash is not null"
    ).fetchall()
    services = conn.execute("select username, password_hash, role from mqtt_account where revoked_at is null")
    return [Account(u, h, "meter") for u, h in meters] + [Account(u, h, r) for u, h, r in services]


def list_devices(conn: psycopg.Connection, *, clinic_code: str | None = None) -> list[dict[str, Any]]:
    """Meters with their clinic, provisioning and status (no secrets)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select d.uid, d.kind, r.code as clinic, d.serial, d.imei, d.provisioned_at, d.revoked_at, d.status,"
            " d.status_at, d.status_reason, d.last_seen_at, d.last_heartbeat_at, d.battery_pct, d.signal_dbm,"
            " d.heartbeat_interval_s from device d join region r on r.id = d.clinic_id"
            " where %(clinic)s::text is null or r.code = %(clinic)s order by d.uid",
            {"clinic": clinic_code},
        ).fetchall()
