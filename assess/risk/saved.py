"""A saved risk model: load the latest one this code can use, and predict with it.

Apart from training (`assess.risk.model`) so that what predicts — the nightly scores, the patient screen — does not
import scikit-learn at start-up (about 5 s of a worker's start on a 2-core machine); unpickling a model imports
what it needs when a model is first loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np

from assess.risk.features import FEATURE_VERSION, vector

if TYPE_CHECKING:
    from sklearn.calibration import CalibratedClassifierCV

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    """A saved model, ready to predict."""

    version: str
    estimator: CalibratedClassifierCV
    card: dict[str, Any]
    path: Path


def load_latest(directory: Path) -> LoadedModel | None:
    """The most recently trained model in `directory` that this code can use; None when there is none.

    Only load from a directory the deployment controls: a joblib file is a pickle, and loading one runs its code.
    """
    cards = []
    for path in directory.glob("risk-*.model-card.json"):
        try:
            cards.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            log.warning("unreadable model card %s", path.name)
    for card in sorted(cards, key=lambda c: str(c.get("trained_at", "")), reverse=True):
        loaded = _load(directory, card)
        if loaded is not None:
            return loaded
    return None


def _load(directory: Path, card: dict[str, Any]) -> LoadedModel | None:
    version = str(card.get("version"))
    path = directory / f"{version}.joblib"
    if card.get("features", {}).get("version") != FEATURE_VERSION:
        log.warning(
            "model %s was trained on feature version %s, not %s: skipped",
            version,
            card.get("features", {}).get("version"),
            FEATURE_VERSION,
        )
        return None
    try:
        blob = path.read_bytes()
    except OSError:
        log.warning("model file %s is missing", path.name)
        return None
    if hashlib.sha256(blob).hexdigest() != card.get("sha256"):
        log.warning("model file %s does not match its card's hash: skipped", path.name)
        return None
    payload = joblib.load(io.BytesIO(blob))
    return LoadedModel(version=version, estimator=payload["estimator"], card=card, path=path)


def predict(model: LoadedModel, features: Mapping[str, float]) -> float:
    """The probability that this patient becomes red, or stays uncontrolled, within the next 90 days."""
    return float(predict_many(model, [features])[0])


def predict_many(model: LoadedModel, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Probabilities for many patients at once (a nightly rescore)."""
    if not rows:
        return np.zeros(0)
    X = np.array([vector(r) for r in rows], dtype=float)
    return np.asarray(model.estimator.predict_proba(X)[:, 1], dtype=float)
