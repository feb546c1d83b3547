"""Writes a simulated cohort into the store as a deployment would hold it: registry, readings, follow-ups, health
records and the assessment history (the rules' states), for the tests of `cdm model train --source db`."""

from __future__ import annotations

import psycopg

from assess.risk.cohort import Cohort
from cdm.domain import HealthRecord, ReadingKind
from device_sim.repo import register_county


def write_cohort(conn: psycopg.Connection, cohort: Cohort) -> dict[int, int]:
    """Store the cohort; returns cohort patient index -> store patient id."""
    register_county(conn, cohort.county)
    ids = dict(conn.execute("select health_card_no, id from patient").fetchall())
    clinics = dict(conn.execute("select code, id from region where level = 'village'").fetchall())
    pid_of = {p.profile.patient_id: ids[p.sim.health_card_no] for p in cohort.patients}
    with conn.cursor() as cur:
        for p in cohort.patients:
            pid, clinic = pid_of[p.profile.patient_id], clinics[p.sim.village_code]
            cur.execute("update patient set registered_at = %s where id = %s", (cohort.start, pid))
            cur.execute(
                "insert into device (uid, kind, clinic_id) values (%s, 'bp', %s) on conflict do nothing",
                (f"HOME-{p.sim.health_card_no}", clinic),
            )
            health_record(cur, pid, p.profile.health_record)
            cur.executemany(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                " systolic, diastolic, pulse, glucose_mmol, glucose_context)"
                " select d.id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s from device d where d.uid = %s",
                [
                    (
                        r.seq,
                        r.measured_at,
                        r.received_at,
                        clinic,
                        r.kind.value,
                        pid,
                        r.systolic,
                        r.diastolic,
                        r.pulse,
                        r.glucose_mmol,
                        r.glucose_context.value if r.kind is ReadingKind.GLUCOSE else None,
                        r.device_uid,
                    )
                    for r in p.readings
                ],
            )
            cur.executemany(
                "insert into follow_up (patient_id, done_on, class, next_due, recorded_by, recorded_at)"
                " values (%s, %s, %s, %s, 'test', %s)",
                [(pid, f.done_on, f.follow_up_class.value, f.next_due, f.recorded_at) for f in p.follow_ups],
            )
            previous = None
            for s in p.states:
                cur.execute(
                    "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority,"
                    " evidence, assessed_at, rules_edition) values (%s, %s, %s, %s, 0, '{}', %s, %s)",
                    (pid, s.colour.value, previous, list(s.reasons), s.at, cohort.edition),
                )
                previous = s.colour.value
    conn.commit()
    return pid_of


def health_record(cur: psycopg.Cursor | psycopg.Connection, pid: int, record: HealthRecord | None) -> None:
    """Store a patient's health-record fields, every one the domain type has."""
    if record is None:
        return
    cur.execute(
        "insert into health_record (patient_id, birth_date, total_cholesterol_mmol, hdl_mmol, waist_cm, smoker,"
        " family_history_ascvd, urban, north, hba1c_percent, on_bp_treatment, complications)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (pid, record.birth_date, record.total_cholesterol_mmol, record.hdl_mmol, record.waist_cm, record.smoker,
         record.family_history_ascvd, record.urban, record.north, record.hba1c_percent, record.on_bp_treatment,
         list(record.complications)),
    )  # fmt: skip
