"""A hand-built county registry for integration tests: one township, one village clinic, two meters, patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from cdm.payload import PatientRef, bp_payload, reading_topic
from ingest.message import InboundMessage


@dataclass(frozen=True)
class SmallCounty:
    county_id: int
    township_id: int
    village_id: int
    team_id: int
    bp_meter: str
    glucose_meter: str
    patients: dict[str, int]  # health card number -> patient id


def build(conn: psycopg.Connection, *, code: str = "t", patients: int = 3) -> SmallCounty:
    """Insert the registry and return its ids (the caller commits)."""
    county = conn.execute(
        "insert into region (code, name, level) values (%s, '测试县', 'county') returning id", (code,)
    ).fetchone()[0]
    township = conn.execute(
        "insert into region (code, name, level, parent_id) values (%s, '城关镇', 'township', %s) returning id",
        (f"{code}-tw1", county),
    ).fetchone()[0]
    village = conn.execute(
        "insert into region (code, name, level, parent_id) values (%s, '东村卫生室', 'village', %s) returning id",
        (f"{code}-v1", township),
    ).fetchone()[0]
    team = conn.execute(
        "insert into care_team (code, name, township_id) values (%s, '城关镇家医1队', %s) returning id",
        (f"{code}-team1", township),
    ).fetchone()[0]
    bp, glu = f"BP-{code}-1", f"GLU-{code}-1"
    conn.execute(
        "insert into device (uid, kind, clinic_id) values (%s, 'bp', %s), (%s, 'glucose', %s)",
        (bp, village, glu, village),
    )
    ids = {}
    for i in range(patients):
        card = f"H{code.upper()}{i:06d}"
        ids[card] = conn.execute(
            "insert into patient (health_card_no, qr_code, sex, birth_year, hypertension, diabetes, village_id,"
            " team_id) values (%s, %s, %s, 1960, true, %s, %s, %s) returning id",
            (card, f"QR{card}", "MF"[i % 2], i % 2 == 1, village, team),
        ).fetchone()[0]
    return SmallCounty(county, township, village, team, bp, glu, ids)


def bp_message(
    county: SmallCounty,
    *,
    county_code: str,
    card: str | None,
    seq: int,
    sbp: int,
    dbp: int,
    ago: timedelta = timedelta(seconds=5),
    pulse: int = 70,
) -> InboundMessage:
    """A BP reading from the county's meter as ingest takes it off the broker."""
    now = datetime.now(UTC)
    raw = bp_payload(
        device_uid=county.bp_meter,
        seq=seq,
        measured_at=now - ago,
        systolic=sbp,
        diastolic=dbp,
        pulse=pulse,
        patient=PatientRef(scheme="health_card", value=card) if card else None,
    )
    return InboundMessage(seq, 1, reading_topic(county_code, county.bp_meter), raw, now)
