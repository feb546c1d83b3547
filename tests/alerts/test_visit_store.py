"""A visit on the national form through the store: its BP and glucose become readings (source 'visit') that reach
the patient's colour through the same rules as a meter's; the form is kept whole; nothing is stored twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.followups.form import validate
from alerts.followups.service import record_visit
from cdm.payload import PatientRef, bp_payload, reading_topic
from ingest.batch import IngestContext, process_batch
from ingest.message import InboundMessage

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(settings):
    with psycopg.connect(settings.database_url) as connection:
        yield connection


def _visit(settings, now, **fields):
    raw = {"kind": "hypertension", "done_on": now.astimezone(settings.tz).date().isoformat(), "way": "clinic"}
    raw |= {"adherence": "regular", "class": "uncontrolled", "symptoms": ["headache_dizziness"], **fields}
    visit, errors = validate(raw, today=now.astimezone(settings.tz).date(), lang="zh")
    assert errors == {} and visit is not None
    return visit


def _meter(conn, settings, county, card, seq, sbp, dbp, ago):
    now = datetime.now(UTC)
    raw = bp_payload(
        device_uid=county.bp_meter, seq=seq, measured_at=now - ago, systolic=sbp, diastolic=dbp, pulse=76,
        patient=PatientRef(scheme="health_card", value=card),
    )  # fmt: skip
    message = InboundMessage(seq, 1, reading_topic(settings.county_code, county.bp_meter), raw, now)
    with conn.transaction():
        process_batch(conn, [message], ctx=IngestContext.from_settings(settings))


def _assessed(conn, pid):
    return conn.execute("select colour, reasons from assessment_current where patient_id = %s", (pid,)).fetchone()


def test_a_visits_bp_reaches_the_colour_like_a_meters_and_the_form_is_kept(conn, settings, county) -> None:
    cards = list(county.patients)  # 0 and 2: hypertension only, born 1960; 1: with diabetes
    now = datetime.now(UTC)
    at_visit = _visit(settings, now, sbp1="158", dbp1="98", sbp2="154", dbp2="94", heart_rate="80", weight_kg="70")
    result = record_visit(conn, card=cards[0], form=at_visit, recorded_by="team.zhao", now=now, settings=settings)
    assert result["visit_readings"] == 2

    _meter(conn, settings, county, cards[2], 1, 158, 98, timedelta(minutes=2))
    _meter(conn, settings, county, cards[2], 2, 154, 94, timedelta(minutes=1))
    by_visit, by_meter = _assessed(conn, county.patients[cards[0]]), _assessed(conn, county.patients[cards[2]])
    assert by_visit[0] == "yellow" and "bp_above_target" in by_visit[1]
    assert by_visit == by_meter, "the same BP from a visit or a meter gives the same colour and reasons"

    row = conn.execute(
        "select form_kind, way, sbp_mean, dbp_mean, heart_rate, weight_kg, adherence, class, recorded_by,"
        " form->'symptoms', next_due - done_on from follow_up where id = %s",
        (result["follow_up_id"],),
    ).fetchone()
    assert row == ("hypertension", "clinic", 156, 96, 80, 70.0, "regular", "uncontrolled", "team.zhao",
                   ["headache_dizziness"], 14)  # fmt: skip
    readings = conn.execute(
        "select device_id, source, systolic, diastolic from reading where patient_id = %s order by measured_at",
        (county.patients[cards[0]],),
    ).fetchall()
    assert readings == [(0, "visit", 158, 98), (0, "visit", 154, 94)]


def test_a_diabetic_visits_glucose_is_a_fasting_reading_for_the_rules(conn, settings, county) -> None:
    card = list(county.patients)[1]
    now = datetime.now(UTC)
    form = _visit(settings, now, kind="diabetes", sbp1="122", dbp1="74", fasting_glucose="8.4", symptoms=["polyuria"])
    record_visit(conn, card=card, form=form, recorded_by="team.zhao", now=now, settings=settings)
    colour, reasons = _assessed(conn, county.patients[card])
    assert colour == "yellow" and "glucose_fasting_high" in reasons and "bp_above_target" not in reasons
    glucose = conn.execute(
        "select glucose_mmol, glucose_context, source from reading where patient_id = %s and kind = 'glucose'",
        (county.patients[card],),
    ).fetchall()
    assert glucose == [(8.4, "fasting", "visit")]
