"""SQL of follow-up work: a team's list, and recording a visit (which closes the patient's open alerts)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from alerts.followups.form import VisitForm
from cdm.domain import FollowUpClass

VISIT_DEVICE_ID = 0  # a reading entered on a visit's form: no meter (readings carry no foreign key to device)
VISIT_READING_GAP = timedelta(minutes=1)  # the form's two BP measurements, a minute apart as the guideline asks


def team_patients(conn: psycopg.Connection, *, team_code: str) -> list[dict[str, Any]]:
    """The team's assessed patients with their colour, last visit and last readings."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select p.id, p.health_card_no, p.registered_at, a.colour, a.reasons, a.reason_facts, a.priority,"
            " a.colour_since, f.done_on as last_done, f.next_due, bp.systolic, bp.diastolic, bp.measured_at as bp_at,"
            " g.glucose_mmol, g.glucose_context, g.measured_at as glucose_at"
            " from care_team t join patient p on p.team_id = t.id"
            " join assessment_current a on a.patient_id = p.id"
            " left join lateral (select done_on, next_due from follow_up where patient_id = p.id"
            "   order by done_on desc, recorded_at desc, id desc limit 1) f on true"
            " left join lateral (select systolic, diastolic, measured_at from reading where patient_id = p.id"
            "   and kind = 'bp' order by measured_at desc limit 1) bp on true"
            " left join lateral (select glucose_mmol, glucose_context, measured_at from reading where patient_id = p.id"
            "   and kind = 'glucose' order by measured_at desc limit 1) g on true"
            " where t.code = %s",
            (team_code,),
        ).fetchall()


def find_patient(conn: psycopg.Connection, *, card: str) -> int | None:
    """A patient's id by health-card number."""
    row = conn.execute("select id from patient where health_card_no = %s", (card,)).fetchone()
    return row[0] if row else None


def insert_follow_up(
    conn: psycopg.Connection,
    *,
    patient_id: int,
    done_on: date,
    follow_up_class: FollowUpClass,
    next_step: str | None,
    next_due: date,
    recorded_by: str,
    now: datetime,
    form: VisitForm | None = None,
) -> int:
    """Keep one visit (with its national form when there is one); returns its id."""
    typed: tuple[object, ...] = (None, None, None, None, None, None, None, None, None, Jsonb({}))
    if form is not None:
        typed = (form.kind, form.way, form.sbp_mean, form.dbp_mean, form.weight_kg, form.heart_rate)
        typed += (form.fasting_glucose, form.hba1c, form.adherence, Jsonb(form.as_json()))
    row = conn.execute(
        "insert into follow_up (patient_id, done_on, class, next_step, next_due, recorded_by, recorded_at,"
        " form_kind, way, sbp_mean, dbp_mean, weight_kg, heart_rate, fasting_glucose, hba1c, adherence, form)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
        (patient_id, done_on, follow_up_class.value, next_step, next_due, recorded_by, now, *typed),
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert_visit_readings(
    conn: psycopg.Connection, *, patient_id: int, follow_up_id: int, form: VisitForm, measured: datetime, now: datetime
) -> int:
    """The BP and glucose measured at the visit as readings (source 'visit'), so the rules read them like a meter's.

    No meter made them: device 0, and the sequence is the visit's id times ten plus the measurement's place, so
    saving the same visit twice cannot make a second row. Returns how many were written.
    """
    rows: list[tuple[object, ...]] = []
    for n, (sbp, dbp) in enumerate(form.bp):
        at = measured - (len(form.bp) - n) * VISIT_READING_GAP
        rows.append((follow_up_id * 10 + n, at, "bp", sbp, dbp, form.heart_rate if n == 0 else None, None, None))
    if form.fasting_glucose is not None:
        rows.append((follow_up_id * 10 + 5, measured, "glucose", None, None, None, form.fasting_glucose, "fasting"))
    for seq, at, kind, sbp, dbp, pulse, glucose, context in rows:
        conn.execute(
            "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic,"
            " diastolic, pulse, glucose_mmol, glucose_context, source)"
            " select %s, %s, %s, %s, p.village_id, %s, p.id, %s, %s, %s, %s, %s, 'visit' from patient p where p.id = %s"
            " on conflict do nothing",
            (VISIT_DEVICE_ID, seq, at, now, kind, sbp, dbp, pulse, glucose, context, patient_id),
        )
    return len(rows)


def open_alerts_of(conn: psycopg.Connection, patient_id: int) -> list[int]:
    """The patient's alerts not yet closed."""
    rows = conn.execute("select id from alert where patient_id = %s and status <> 'closed' order by id", (patient_id,))
    return [r[0] for r in rows]


def link_follow_up(conn: psycopg.Connection, *, follow_up_id: int, alert_id: int) -> None:
    """Remember which alert a visit answered."""
    conn.execute("update follow_up set alert_id = %s where id = %s", (alert_id, follow_up_id))
