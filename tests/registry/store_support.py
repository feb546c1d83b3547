"""What the import tests read back from the store: a snapshot of every table, a waiting reading, a patient
registered before imports existed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import psycopg

from cdm.settings import Settings
from ingest.attribution.service import NewPatient, Reassess, register_patient


def snapshot(conn: psycopg.Connection) -> dict[str, str]:
    """A digest of every table's rows (in a stable order), to show that something changed nothing."""
    tables = [
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
            " and table_type = 'BASE TABLE' and table_name not like 'reading_%%' order by 1"
        )
    ]
    out = {}
    for table in tables:
        rows = conn.execute(f'select t::text from "{table}" t order by 1').fetchall()  # names from the catalogue
        out[table] = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
    return out


def waiting_reading(conn: psycopg.Connection, *, card: str, clinic: str, systolic: int) -> None:
    """A BP reading under a health card no patient has yet, kept for matching, from a meter of `clinic`."""
    device = conn.execute(
        "insert into device (uid, kind, clinic_id) select 'BP-WAIT', 'bp', id from region where code = %s"
        " returning id, clinic_id",
        (clinic,),
    ).fetchone()
    assert device is not None
    now = datetime.now(UTC)
    conn.execute(
        "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_scheme, patient_ref,"
        " systolic, diastolic, pulse) values (%s, 1, %s, %s, %s, 'bp', 'health_card', %s, %s, 100, 70)",
        (device[0], now, now, device[1], card, systolic),
    )
    conn.execute(
        "insert into reading_unattributed (device_id, seq, measured_at, received_at, clinic_id, kind, ref_scheme,"
        " ref_key, ref_masked, reason) values (%s, 1, %s, %s, %s, 'bp', 'health_card', %s, 'H-****-1', 'no_match')",
        (device[0], now, now, device[1], card),
    )


def register_before_import(conn: psycopg.Connection, settings: Settings, *, id_number: str, village: str) -> int:
    """A patient registered one at a time (`cdm patients register`), with an ID-card number and no record number."""
    reassess = Reassess.from_settings(settings, now=datetime.now(UTC))
    new = NewPatient(
        health_card_no="H-OLD",
        sex="M",
        birth_year=1949,
        village_code=village,
        team_code=None,
        hypertension=True,
        diabetes=False,
    )
    result = register_patient(
        conn, new, id_number=id_number, keyring=settings.id_card_keyring, reassess=reassess
    )
    return int(result["patient_id"])
