"""Assessments apply last night's risk scores: the model may add urgency, never lower a rule's red."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from assess.rules import RuleSettings
from assess.service import rescore, rescore_all
from tests.support.registry import build

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


@pytest.fixture
def patients(settings):
    """A green patient (at target) and a red one (a critical reading), both with risk scores from model m1."""
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=3)
        green, red, unscored = county.patients.values()
        device = conn.execute("select id, clinic_id from device where kind = 'bp'").fetchone()
        for pid, sbp, dbp in ((green, 124, 76), (red, 188, 104), (unscored, 124, 76)):
            conn.execute(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                " systolic, diastolic, pulse) values (%s, %s, %s, %s, %s, 'bp', %s, %s, %s, 70)",
                (device[0], pid, NOW - timedelta(days=1), NOW, device[1], pid, sbp, dbp),
            )
        conn.execute(
            "insert into risk_score (patient_id, scored_at, model_version, probability, ascvd_10y_percent,"
            " ascvd_category) values (%s, %s, 'm1', 0.9, 12.5, 'high'), (%s, %s, 'm1', 0.0, null, null)",
            (green, NOW, red, NOW),
        )
        conn.commit()
    return green, red, unscored


def current(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select patient_id, colour, reasons, model_version, risk_probability, ascvd_category"
            " from assessment_current order by patient_id"
        )
        return {r[0]: r[1:] for r in rows}


def test_the_model_turns_green_to_yellow_and_never_lowers_red(settings, patients):
    green, red, unscored = patients
    with psycopg.connect(settings.database_url) as conn, conn.transaction():
        rescore(conn, patient_ids=[green, red, unscored], now=NOW, rules=RuleSettings.from_settings(settings))
    rows = current(settings.database_url)
    assert rows[green] == ("yellow", ["model_risk"], "m1", pytest.approx(0.9), "high")
    assert rows[red][:3] == ("red", ["bp_critical"], "m1")
    assert rows[unscored] == ("green", ["at_target"], None, None, None)
    with psycopg.connect(settings.database_url) as conn:
        history = conn.execute("select model_version from assessment_history where patient_id = %s", (green,))
        assert history.fetchall() == [("m1",)], "the history records which model shaped the colour"


def test_the_full_rescore_applies_the_same_scores(settings, patients):
    green, red, unscored = patients
    totals = rescore_all(settings.database_url, now=NOW, rules=RuleSettings.from_settings(settings), workers=1)
    assert totals.patients == 3
    rows = current(settings.database_url)
    assert rows[green][:3] == ("yellow", ["model_risk"], "m1")
    assert rows[red][0] == "red" and rows[unscored][0] == "green"
