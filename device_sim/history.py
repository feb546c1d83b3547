"""Weeks of past readings for a simulated county, so a demo opens on a county with a history, not a blank one.

Written straight into the store (as a migration of records from an earlier system would be), not through MQTT:
it is the past, not what the meters send now. Only stable sittings are kept: a critical value weeks ago with no
follow-up would be a red that nobody was alerted to, which is not a state a real county starts from.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import psycopg

from device_sim import repo
from device_sim.county import County, SimPatient
from device_sim.readings import BpValues, GlucoseValues, is_critical, meter_kind_for, sitting

CLINIC_HOURS = (8, 17)  # China time; 00:00 UTC is 08:00 there
_COPY = (
    "copy reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, patient_scheme,"
    " patient_ref, systolic, diastolic, pulse, glucose_mmol, glucose_context) from stdin"
)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _times(patient: SimPatient, *, rng: random.Random, now: datetime, days: int) -> list[datetime]:
    count = _poisson(rng, patient.visits_per_week * days / 7)
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    times = []
    for _ in range(count):
        day = start + timedelta(days=rng.randrange(days))
        at = day + timedelta(hours=rng.uniform(CLINIC_HOURS[0] - 8, CLINIC_HOURS[1] - 8))  # UTC
        if at < now - timedelta(hours=1):
            times.append(at)
    return sorted(times)


def backfill(conn: psycopg.Connection, county: County, *, days: int, now: datetime, seed: int = 1) -> int:
    """Write `days` of stable past sittings for every patient; returns the readings written (caller commits)."""
    devices = repo.device_places(conn)
    patients = repo.patient_ids_by_card(conn)
    rng = random.Random(f"{county.code}:history:{seed}")
    seqs: dict[str, int] = {}
    written = 0
    with conn.cursor().copy(_COPY) as copy:
        for patient in county.patients:
            for at in _times(patient, rng=rng, now=now, days=days):
                kind = meter_kind_for(patient, rng)
                values = sitting(patient, kind, rng=rng, now=at)
                if any(is_critical(v) for v in values):
                    continue
                uid = county.meter_for(patient.village_code, kind).uid
                device_id, clinic_id = devices[uid]
                for v in values:
                    seqs[uid] = seqs.get(uid, 0) + 1
                    copy.write_row(
                        _row(
                            v,
                            device_id=device_id,
                            clinic_id=clinic_id,
                            seq=seqs[uid],
                            patient_id=patients[patient.health_card_no],
                            card=patient.health_card_no,
                        )
                    )
                    written += 1
    return written


def _row(
    v: BpValues | GlucoseValues, *, device_id: int, clinic_id: int, seq: int, patient_id: int, card: str
) -> tuple[object, ...]:
    received = v.measured_at + timedelta(seconds=3)
    head = (device_id, seq, v.measured_at, received, clinic_id)
    who = (patient_id, "health_card", card)
    if isinstance(v, BpValues):
        return (*head, "bp", *who, v.systolic, v.diastolic, v.pulse, None, None)
    return (*head, "glucose", *who, None, None, None, v.mmol_l, v.context)
