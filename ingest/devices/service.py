"""The device registry: provisioning meters with their own MQTT credentials, service accounts, moves, revocation.

Store representation (what screens read): `device` — one row per meter; `mqtt_username` equals `uid`;
`revoked_at` set means the broker files leave it out; `status` online / offline / unknown with `status_at`,
`status_reason` ('will', 'status', 'heartbeat', 'reading', 'silent') and `last_seen_at` / `last_heartbeat_at`,
`battery_pct`, `signal_dbm`. `device_placement` — which clinic a meter stood in from when.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from ingest import repo as ingest_repo
from ingest.devices import repo
from ingest.devices.broker import (
    Account,
    Role,
    TlsListener,
    broker_files,
    mosquitto_hash,
    new_password,
    role_counts,
)
from ingest.devices.logic import (
    Credentials,
    Kind,
    RegistryError,
    check_identity,
    check_provisionable,
    meter_uid,
)


def _clinic_id(conn: psycopg.Connection, clinic_code: str) -> int:
    clinic_id = ingest_repo.village_id(conn, clinic_code)
    if clinic_id is None:
        raise RegistryError("devices.refused.no_clinic", code=clinic_code)
    return clinic_id


def provision(
    conn: psycopg.Connection,
    *,
    kind: Kind,
    clinic_code: str,
    serial: str,
    imei: str,
    now: datetime,
    uid: str | None = None,
) -> Credentials:
    """Register a meter (or issue credentials to one registered without) and return its new MQTT credentials."""
    uid = meter_uid(kind, serial, uid=uid)
    check_identity(serial=serial, imei=imei, uid=uid)
    clinic_id = _clinic_id(conn, clinic_code)
    password = new_password()
    hashed = mosquitto_hash(password)
    existing = repo.meter_for_update(conn, uid)
    clash = repo.imei_holder(conn, imei=imei, other_than=uid)
    if clash:
        raise RegistryError("devices.refused.imei_taken", uid=clash)
    if existing is None:
        device_id = repo.insert_meter(
            conn, uid=uid, kind=kind, clinic_id=clinic_id, serial=serial, imei=imei, hashed=hashed, now=now
        )
    else:
        check_provisionable(existing, uid=uid, kind=kind)
        device_id = existing.id
        repo.provision_meter(
            conn, device_id=device_id, clinic_id=clinic_id, serial=serial, imei=imei, hashed=hashed, now=now
        )
    repo.add_placement(conn, device_id=device_id, clinic_id=clinic_id, since=now)
    return Credentials(uid=uid, username=uid, password=password)


def rotate(conn: psycopg.Connection, *, uid: str) -> Credentials:
    """New credentials for a provisioned meter (the old password stops working once the files are regenerated)."""
    password = new_password()
    if not repo.set_meter_password(conn, uid=uid, hashed=mosquitto_hash(password)):
        raise RegistryError("devices.refused.not_provisioned", uid=uid)
    return Credentials(uid=uid, username=uid, password=password)


def revoke(conn: psycopg.Connection, *, uid: str, now: datetime) -> str:
    """Revoke a meter (lost, stolen or replaced) or a service account: the next broker files leave it out."""
    if repo.revoke_meter(conn, uid=uid, now=now):
        return "meter"
    if not repo.revoke_account(conn, username=uid, now=now):
        raise RegistryError("devices.refused.nothing_to_revoke", uid=uid)
    return "account"


def move(conn: psycopg.Connection, *, uid: str, clinic_code: str, at: datetime) -> dict[str, object]:
    """Record that a meter stands in another clinic from `at`; readings measured after it belong there."""
    clinic_id = _clinic_id(conn, clinic_code)
    device_id = repo.meter_id(conn, uid)
    if device_id is None:
        raise RegistryError("devices.refused.no_meter", uid=uid)
    # A meter registered before placements were kept gets its first one: where it stood until now, since it was
    # registered (readings measured earlier, from its buffer, belong there too).
    repo.keep_first_placement(conn, device_id=device_id, before=at)
    repo.place_meter(conn, device_id=device_id, clinic_id=clinic_id, at=at)
    # `device.clinic_id` is where the meter is now (the latest placement).
    repo.set_current_clinic(conn, device_id)
    return {"moved": uid, "clinic": clinic_code, "from": at}


def add_account(conn: psycopg.Connection, *, username: str, role: Role, now: datetime) -> Credentials:
    """A service account of the broker (ingest, simulator, monitor); its password is returned once."""
    if role == "meter":
        raise RegistryError("devices.refused.meter_role")
    if repo.is_meter_username(conn, username):
        raise RegistryError("devices.refused.meter_username", username=username)
    password = new_password()
    try:
        with conn.transaction():
            repo.insert_account(conn, username=username, role=role, hashed=mosquitto_hash(password), now=now)
    except psycopg.errors.UniqueViolation:
        raise RegistryError("devices.refused.account_exists", username=username) from None
    except psycopg.errors.CheckViolation:
        raise RegistryError("devices.refused.account_name") from None
    return Credentials(uid="", username=username, password=password)


def broker_accounts(conn: psycopg.Connection) -> list[Account]:
    """Every account the broker should accept: provisioned, unrevoked meters and unrevoked service accounts."""
    return repo.meter_accounts(conn) + repo.service_accounts(conn)


def list_devices(conn: psycopg.Connection, *, clinic_code: str | None = None) -> list[dict[str, Any]]:
    """Meters with their clinic, provisioning and status (no secrets)."""
    return repo.list_meters(conn, clinic_code=clinic_code)


def write_broker_files(
    out_dir: Path,
    accounts: list[Account],
    *,
    county_code: str,
    owner: str | None = None,
    tls: TlsListener | None = None,
) -> dict[str, object]:
    """Write passwd, acl and cdm-auth.conf into `out_dir`, each replaced atomically (the broker may reload any time).

    `owner` (e.g. mosquitto): the user the files are given to, for a broker that runs as that user.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in broker_files(accounts, county_code=county_code, out_dir=out_dir, tls=tls).items():
        tmp = out_dir / f".{name}.tmp"
        # Mosquitto refuses (2.1) or warns about (2.0) a password file others can read.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name != "cdm-auth.conf" else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if owner:
            shutil.chown(tmp, user=owner)
        os.replace(tmp, out_dir / name)
    return {"out": str(out_dir), "accounts": role_counts(accounts)}
