"""The nightly risk scores on a real PostgreSQL: China-PAR from the health record, the model's probability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from assess.risk.cohort import generate_cohort, training_set
from assess.risk.model import save, train
from assess.risk.service import score, score_everyone
from tests.support.registry import build

pytestmark = pytest.mark.integration


@pytest.fixture
def county(settings):
    """Two patients with readings; the first has the China-PAR check-value record (age 60, SBP 130)."""
    now = datetime.now(UTC)
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=2)
        first, second = county.patients.values()
        conn.execute(
            "update patient set sex = 'M', birth_year = %s, diabetes = true where id = %s", (now.year - 60, first)
        )
        conn.execute(
            "insert into health_record (patient_id, birth_date, total_cholesterol_mmol, hdl_mmol, waist_cm, smoker,"
            " family_history_ascvd, urban, north, on_bp_treatment) values (%s, %s, %s, %s, 80, false, false, true,"
            " true, false)",
            (first, now.date().replace(year=now.year - 60), 210 * 0.0259, 55 * 0.0259),
        )
        device = conn.execute("select id, clinic_id from device where kind = 'bp'").fetchone()
        for pid in (first, second):
            for day in range(1, 8):
                conn.execute(
                    "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                    " systolic, diastolic, pulse) values (%s, %s, %s, %s, %s, 'bp', %s, 130, 80, 70)",
                    (device[0], pid * 100 + day, now - timedelta(days=day), now, device[1], pid),
                )
        conn.commit()
    return first, second


def scores(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select patient_id, model_version, probability, ascvd_10y_percent, ascvd_category"
            " from risk_score order by patient_id"
        ).fetchall()


def test_without_a_model_only_the_ascvd_risk_is_scored(settings, county):
    first, second = county
    assert score_everyone(settings)["model_version"] is None
    rows = scores(settings.database_url)
    assert rows[0][:3] == (first, None, None) and rows[0][4] == "high"
    assert abs(rows[0][3] - 11.0) <= 0.2, "the paper's check value: men, 60, SBP 130 untreated, diabetic → 11.0 %"
    assert rows[1] == (second, None, None, None, None), "no health record: no China-PAR, and no guess"


def test_with_a_trained_model_every_patient_gets_a_probability_and_the_version(settings, county, tmp_path):
    model = save(train(training_set(generate_cohort(patients=300, seed=11)), seed=3), tmp_path / "models")
    with psycopg.connect(settings.database_url) as conn, conn.transaction():
        assert score(conn, patient_ids=list(county), now=datetime.now(UTC), model=model, window=timedelta(days=14)) == 2
    rows = scores(settings.database_url)
    assert {r[1] for r in rows} == {model.version}
    assert all(0.0 <= r[2] <= 1.0 for r in rows)
