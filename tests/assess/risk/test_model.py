"""Training on a small simulated cohort: the model learns, is calibrated, evaluated per group, saved and reloaded."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assess.risk.cohort import generate_cohort, training_set
from assess.risk.features import FEATURES, build_features
from assess.risk.model import save, split, train
from assess.risk.saved import load_latest, predict, predict_many


@pytest.fixture(scope="module")
def data():
    return training_set(generate_cohort(patients=300, seed=11))


@pytest.fixture(scope="module")
def trained(data):
    return train(data, seed=3)


def test_held_out_discrimination_and_calibration_beat_chance(trained):
    ev = trained.evaluation
    assert ev["n"] == 90
    assert ev["auroc"] > 0.75
    assert ev["auprc"] > ev["base_rate"] + 0.1
    assert ev["brier"] < ev["brier_base_rate"] - 0.03
    bins = ev["calibration"]
    assert len(bins) == 10 and sum(b["n"] for b in bins) == 90
    means = [b["mean_predicted"] for b in bins]
    assert means == sorted(means)
    assert bins[-1]["observed"] > bins[0]["observed"] + 0.4


def test_metrics_per_sex_and_township_are_reported(trained):
    ev = trained.evaluation
    assert set(ev["per_sex"]) == {"F", "M"}
    assert sum(g["n"] for g in ev["per_sex"].values()) == ev["n"]
    assert sum(g["n"] for g in ev["per_township"].values()) == ev["n"]
    assert all(set(g) == {"n", "positives", "auroc", "brier"} for g in ev["per_township"].values())
    assert ev["green_operating_points"][0]["threshold"] == 0.2


def test_shuffled_outcomes_cannot_be_learned(data):
    """The bar above can fail: with the outcome shuffled, the same training is no better than chance."""
    shuffled = replace(data, y=np.random.default_rng(0).permutation(data.y))
    assert train(shuffled, seed=3).evaluation["auroc"] < 0.65


def test_splits_keep_patients_or_townships_apart(data):
    train_idx, test_idx = split(data, by="township", seed=1)
    assert not set(data.townships[train_idx]) & set(data.townships[test_idx])
    train_idx, test_idx = split(data, by="patient", seed=1)
    assert not set(data.patient_ids[train_idx]) & set(data.patient_ids[test_idx])
    assert len(test_idx) == 90


def test_saved_with_card_and_load_latest_returns_that_version(trained, tmp_path):
    assert load_latest(tmp_path) is None
    saved = save(trained, tmp_path)
    assert saved.version.startswith("risk-") and len(saved.version) == len("risk-yyyymmdd-") + 8
    names = {p.name for p in tmp_path.iterdir()}
    assert {f"{saved.version}.joblib", "model-card.json", "model-card.md", f"{saved.version}.model-card.md"} <= names
    card = json.loads((tmp_path / "model-card.json").read_text())
    assert card["version"] == saved.version and card["features"]["names"] == list(FEATURES)
    assert {"data", "evaluation", "limits", "intended_use", "not_for"} <= set(card)
    assert "Not a diagnosis" in (tmp_path / "model-card.md").read_text()
    loaded = load_latest(tmp_path)
    assert loaded is not None and loaded.version == saved.version
    sample = trained.estimator.predict_proba(np.zeros((1, len(FEATURES))))[0, 1]
    assert predict_many(loaded, [dict.fromkeys(FEATURES, 0.0)])[0] == pytest.approx(sample)


def test_a_tampered_or_stale_model_is_not_loaded(trained, tmp_path):
    saved = save(trained, tmp_path)
    saved.path.write_bytes(saved.path.read_bytes() + b"x")
    assert load_latest(tmp_path) is None


def test_predict_one_patient_gives_a_probability(trained, tmp_path):
    loaded = save(trained, tmp_path)
    from tests.assess.factories import NOW, bp, patient

    high = build_features(profile=patient(), readings=[bp(172, 100)] * 6, follow_ups=[], as_of=NOW)
    low = build_features(profile=patient(), readings=[bp(118, 72)] * 6, follow_ups=[], as_of=NOW)
    p_high, p_low = predict(loaded, high), predict(loaded, low)
    assert 0.0 <= p_low < p_high <= 1.0
