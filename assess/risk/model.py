"""The 90-day risk model: train and evaluate on held-out patients, save versioned with a model card (loading and
predicting: `assess.risk.saved`).

Gradient-boosted trees (they take missing values and non-linear thresholds such as "above target" as they come),
calibrated with CalibratedClassifierCV because the probability itself is used: the policy compares it with a
threshold and adds it to a priority. Isotonic calibration is the more flexible mapping but overfits small
calibration folds, so it is used only when each of the CALIBRATION_FOLDS folds holds about 1,000 examples or more;
below that, Platt's sigmoid (two parameters) is the safer choice.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupShuffleSplit

from assess.risk.card import card_markdown, make_card
from assess.risk.data import TrainingSet
from assess.risk.evaluate import evaluate
from assess.risk.features import FEATURE_VERSION, FEATURES
from assess.risk.saved import LoadedModel

log = logging.getLogger(__name__)

CALIBRATION_FOLDS = 3
ISOTONIC_MIN_TRAIN = 3000  # ~1,000 examples per calibration fold: below that isotonic steps fit noise
TEST_SHARE = 0.3
LATEST_CARD = "model-card"  # <dir>/model-card.json and .md always describe the latest saved model


@dataclass(frozen=True)
class TrainedModel:
    """A fitted, calibrated model with its held-out evaluation, not yet saved."""

    estimator: CalibratedClassifierCV
    evaluation: dict[str, Any]
    card: dict[str, Any]


def split(data: TrainingSet, *, by: str = "patient", test_share: float = TEST_SHARE, seed: int = 0) -> tuple:
    """Train and held-out indices; all of a patient's (or a township's) examples fall on one side."""
    if by not in {"patient", "township"}:
        raise ValueError("split must be 'patient' or 'township'")
    groups = data.patient_ids if by == "patient" else data.townships
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=seed)
    train_idx, test_idx = next(splitter.split(data.X, data.y, groups))
    return train_idx, test_idx


def build_estimator(*, n_train: int, seed: int) -> CalibratedClassifierCV:
    """The (unfitted) calibrated classifier, its calibration method chosen by the training set's size."""
    trees = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=150,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,  # a fixed, small number of shallow trees: reproducible, and no data held back
        random_state=seed,
    )
    method = "isotonic" if n_train >= ISOTONIC_MIN_TRAIN else "sigmoid"
    return CalibratedClassifierCV(trees, method=method, cv=CALIBRATION_FOLDS)


def train(
    data: TrainingSet, *, split_by: str = "patient", test_share: float = TEST_SHARE, seed: int = 0
) -> TrainedModel:
    """Fit on the training part, evaluate on the held-out part, then refit nothing: the evaluated model is kept."""
    train_idx, test_idx = split(data, by=split_by, test_share=test_share, seed=seed)
    for name, idx in (("training", train_idx), ("held-out", test_idx)):
        if len(set(data.y[idx].tolist())) < 2:
            raise ValueError(f"the {name} part has only one outcome; more patients are needed")
    estimator = build_estimator(n_train=len(train_idx), seed=seed)
    estimator.fit(data.X[train_idx], data.y[train_idx])
    p = estimator.predict_proba(data.X[test_idx])[:, 1]
    report = evaluate(
        y=data.y[test_idx],
        p=p,
        townships=data.townships[test_idx],
        sexes=data.sexes[test_idx],
        green=data.green_at_cut[test_idx],
    )
    card = make_card(
        data=data,
        n_train=len(train_idx),
        split_by=split_by,
        method=estimator.method,
        evaluation=report,
    )
    log.info("risk model trained on %s examples: held-out AUROC %s", len(train_idx), report["auroc"])
    return TrainedModel(estimator=estimator, evaluation=report, card=card)


def save(model: TrainedModel, directory: Path, *, now: datetime | None = None) -> LoadedModel:
    """Write `<version>.joblib` and its model card; the version is the date and the file's own hash."""
    directory.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    buffer = io.BytesIO()
    joblib.dump({"estimator": model.estimator, "features": FEATURES, "feature_version": FEATURE_VERSION}, buffer)
    blob = buffer.getvalue()
    digest = hashlib.sha256(blob).hexdigest()
    version = f"risk-{now:%Y%m%d}-{digest[:8]}"
    card = {**model.card, "version": version, "trained_at": now.isoformat(), "sha256": digest}
    _write(directory / f"{version}.joblib", blob)
    text, markdown = json.dumps(card, ensure_ascii=False, indent=2).encode(), card_markdown(card).encode()
    for stem in (f"{version}.model-card", LATEST_CARD):
        _write(directory / f"{stem}.json", text)
        _write(directory / f"{stem}.md", markdown)
    log.info("saved risk model %s in %s", version, directory)
    return LoadedModel(version=version, estimator=model.estimator, card=card, path=directory / f"{version}.joblib")


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file, so a reader never sees half a model."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
