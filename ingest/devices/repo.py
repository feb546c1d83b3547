"""SQL of the device registry: meters, their placements in clinics, broker service accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.devices.broker import Account, Role
from ingest.devices.logic import Registered


def meter_for_update(conn: psycopg.Connection, uid: str) -> Registered | None:
    """The registered meter `uid`, locked until the transaction ends."""
    row = conn.execute(
        "select id, kind, provisioned_at, revoked_at from device where uid = %s for update", (uid,)
    ).fetchone()
    return Registered(int(row[0]), row[1], row[2], row[3]) if row else None


def imei_holder(conn: psycopg.Connection, *, imei: str, other_than: str) -> str | None:
    """The meter other than `other_than` registered with this IMEI, if any."""
    row = conn.execute("select uid from device where imei = %s and uid <> %s", (imei, other_than)).fetchone()
    return str(row[0]) if row else None


def insert_meter(
    conn: psycopg.Connection, *, uid: str, kind: str, clinic_id: int, serial: str, imei: str, hashed: str, now: datetime
) -> int:
    """Register and provision a new meter (its MQTT username is its uid); its id."""
    row = conn.execute(
        "insert into device (uid, kind, clinic_id, serial, imei, mqtt_username, mqtt_password_hash,"
        " provisioned_at) values (%s, %s, %s, %s, %s, %s, %s, %s) returning id",
        (uid, kind, clinic_id, serial, imei, uid, hashed, now),
    ).fetchone()
    return int(row[0]) if row else 0


def provision_meter(
    conn: psycopg.Connection, *, device_id: int, clinic_id: int, serial: str, imei: str, hashed: str, now: datetime
) -> None:
    """Provision a meter registered without credentials (its MQTT username becomes its uid)."""
    conn.execute(
        "update device set serial = %s, imei = %s, mqtt_username = uid, mqtt_password_hash = %s,"
        " provisioned_at = %s, clinic_id = %s where id = %s",
        (serial, imei, hashed, now, clinic_id, device_id),
    )


def add_placement(conn: psycopg.Connection, *, device_id: int, clinic_id: int, since: datetime) -> None:
    """Record where a meter stands from `since`, unless a placement from that moment is kept already."""
    conn.execute(
        "insert into device_placement (device_id, clinic_id, valid_from) values (%s, %s, %s) on conflict do nothing",
        (device_id, clinic_id, since),
    )


def set_meter_password(conn: psycopg.Connection, *, uid: str, hashed: str) -> bool:
    """Replace a provisioned, unrevoked meter's password hash; whether there was one."""
    cur = conn.execute(
        "update device set mqtt_password_hash = %s where uid = %s and provisioned_at is not null"
        " and revoked_at is null",
        (hashed, uid),
    )
    return cur.rowcount == 1


def revoke_meter(conn: psycopg.Connection, *, uid: str, now: datetime) -> bool:
    """Revoke an unrevoked meter; whether there was one."""
    cur = conn.execute("update device set revoked_at = %s where uid = %s and revoked_at is null", (now, uid))
    return bool(cur.rowcount)


def revoke_account(conn: psycopg.Connection, *, username: str, now: datetime) -> bool:
    """Revoke an unrevoked broker service account; whether there was one."""
    cur = conn.execute(
        "update mqtt_account set revoked_at = %s where username = %s and revoked_at is null", (now, username)
    )
    return cur.rowcount == 1


def meter_id(conn: psycopg.Connection, uid: str) -> int | None:
    """The id of meter `uid`, if registered."""
    row = conn.execute("select id from device where uid = %s", (uid,)).fetchone()
    return int(row[0]) if row else None


def keep_first_placement(conn: psycopg.Connection, *, device_id: int, before: datetime) -> None:
    """Give a meter registered before placements were kept its first one: its clinic, since it was registered."""
    conn.execute(
        "insert into device_placement (device_id, clinic_id, valid_from)"
        " select id, clinic_id, least(registered_at, %s - interval '1 second')"
        " from device where id = %s and not exists (select 1 from device_placement where device_id = %s)",
        (before, device_id, device_id),
    )


def place_meter(conn: psycopg.Connection, *, device_id: int, clinic_id: int, at: datetime) -> None:
    """Record that a meter stands in `clinic_id` from `at` (replacing a placement from that same moment)."""
    conn.execute(
        "insert into device_placement (device_id, clinic_id, valid_from) values (%s, %s, %s)"
        " on conflict (device_id, valid_from) do update set clinic_id = excluded.clinic_id",
        (device_id, clinic_id, at),
    )


def set_current_clinic(conn: psycopg.Connection, device_id: int) -> None:
    """Set `device.clinic_id` to the clinic of the meter's latest placement."""
    conn.execute(
        "update device d set clinic_id = p.clinic_id from (select clinic_id from device_placement"
        " where device_id = %s order by valid_from desc limit 1) p where d.id = %s",
        (device_id, device_id),
    )


def is_meter_username(conn: psycopg.Connection, username: str) -> bool:
    """Whether a meter has this MQTT username."""
    return conn.execute("select 1 from device where mqtt_username = %s", (username,)).fetchone() is not None


def insert_account(conn: psycopg.Connection, *, username: str, role: Role, hashed: str, now: datetime) -> None:
    """Add a broker service account (raises on a taken or malformed name)."""
    conn.execute(
        "insert into mqtt_account (username, role, password_hash, created_at) values (%s, %s, %s, %s)",
        (username, role, hashed, now),
    )


def meter_accounts(conn: psycopg.Connection) -> list[Account]:
    """Provisioned, unrevoked meters with a password, as broker accounts."""
    rows = conn.execute(
        "select mqtt_username, mqtt_password_hash from device where provisioned_at is not null"
        " and revoked_at is null and mqtt_password_hash is not null"
    )
    return [Account(u, h, "meter") for u, h in rows]


def service_accounts(conn: psycopg.Connection) -> list[Account]:
    """Unrevoked broker service accounts."""
    rows = conn.execute("select username, password_hash, role from mqtt_account where revoked_at is null")
    return [Account(u, h, r) for u, h, r in rows]


def list_meters(conn: psycopg.Connection, *, clinic_code: str | None) -> list[dict[str, Any]]:
    """Meters with their clinic code, provisioning and status (no secrets), by uid."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select d.uid, d.kind, r.code as clinic, d.serial, d.imei, d.provisioned_at, d.revoked_at, d.status,"
            " d.status_at, d.status_reason, d.last_seen_at, d.last_heartbeat_at, d.battery_pct, d.signal_dbm,"
            " d.heartbeat_interval_s from device d join region r on r.id = d.clinic_id"
            " where %(clinic)s::text is null or r.code = %(clinic)s order by d.uid",
            {"clinic": clinic_code},
        ).fetchall()
