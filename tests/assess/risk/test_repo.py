"""Training examples from a deployment's own store match the ones built from the same history in memory."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from assess.risk.cohort import generate_cohort, training_set
from assess.risk.features import FEATURES
from assess.risk.outcome import HORIZON
from assess.risk.repo import examples_at, store_examples
from cdm import db
from tests.assess.store_history import write_cohort

pytestmark = pytest.mark.integration


def test_store_examples_equal_the_cohort_examples(db_url):
    cohort = generate_cohort(patients=40, seed=5)
    with db.connect(db_url) as conn:
        pid_of = write_cohort(conn, cohort)
        examples = examples_at(conn, cuts=[(pid_of[p.profile.patient_id], p.cut) for p in cohort.patients])
    expected = training_set(cohort)
    assert len(examples) == 40
    assert [e.case for e in examples] == expected.y.astype(bool).tolist()
    assert [e.green_at_cut for e in examples] == expected.green_at_cut.tolist()
    assert {e.township for e in examples} == set(expected.townships)
    for e, row in zip(examples, expected.X, strict=True):
        for name, want in zip(FEATURES, row, strict=True):
            got = e.features[name]
            if math.isnan(want):
                assert math.isnan(got), name
            else:  # glucose and lipids are stored as `real`: float4 rounding, and China-PAR to one decimal
                assert got == pytest.approx(want, rel=1e-5, abs=0.11 if name == "ascvd_10y_percent" else 1e-5), name


def test_cdm_model_train_from_the_store(db_url, tmp_path, monkeypatch):
    # Every cut on one day, so the store's 90-day grid ends exactly on it.
    cohort = generate_cohort(patients=160, seed=2, cut_spread_days=0)
    with db.connect(db_url) as conn:
        write_cohort(conn, cohort)
        until = cohort.patients[0].cut + HORIZON
        examples = store_examples(conn, until=until, cuts=2)
    # Everyone at the later cut; at the earlier one only those with a reading or an assessment before it.
    assert sum(e.as_of == until - HORIZON for e in examples) == 160
    assert 140 < len(examples) - 160 <= 160
    monkeypatch.setenv("CDM_DATABASE_URL", db_url)
    monkeypatch.setenv("CDM_DATA_DIR", str(tmp_path))
    from app.cli import app

    result = CliRunner().invoke(
        app, ["model", "train", "--source", "db", "--until", until.isoformat(), "--cuts", "2", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["source"] == "db" and summary["examples"] == len(examples)
    assert summary["evaluation"]["auroc"] > 0.6
    assert (tmp_path / "models" / f"{summary['version']}.joblib").exists()
    assert (tmp_path / "models" / "model-card.md").exists()


def test_cdm_model_train_needs_a_database_for_db(monkeypatch, tmp_path):
    monkeypatch.delenv("CDM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    from app.cli import app

    result = CliRunner().invoke(app, ["model", "train", "--source", "db"])
    assert result.exit_code == 2
    assert "CDM_DATABASE_URL" in result.output
