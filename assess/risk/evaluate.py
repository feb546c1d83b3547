"""How good the risk model is on held-out data: discrimination, calibration, subgroups, and operating points."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

CALIBRATION_BINS = 10
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def evaluate(
    *, y: np.ndarray, p: np.ndarray, townships: np.ndarray, sexes: np.ndarray, green: np.ndarray
) -> dict[str, Any]:
    """The evaluation report of predictions `p` for outcomes `y` (JSON-ready)."""
    base = float(y.mean()) if len(y) else 0.0
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "base_rate": round(base, 4),
        "auroc": _round(_auroc(y, p)),
        "auprc": _round(float(average_precision_score(y, p))) if 0 < y.sum() < len(y) else None,
        "brier": round(float(brier_score_loss(y, p)), 4),
        "brier_base_rate": round(base * (1 - base), 4),  # predicting the held-out prevalence for everyone
        "calibration": calibration_curve(y, p),
        "per_sex": _groups(y, p, sexes),
        "per_township": _groups(y, p, townships),
        "green_operating_points": operating_points(y[green], p[green]),
    }


def calibration_curve(y: np.ndarray, p: np.ndarray, *, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Mean predicted against observed frequency in bins of equal size (by predicted probability)."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, len(order))):
        if len(chunk):
            out.append(
                {
                    "mean_predicted": round(float(p[chunk].mean()), 4),
                    "observed": round(float(y[chunk].mean()), 4),
                    "n": len(chunk),
                }
            )
    return out


def operating_points(y: np.ndarray, p: np.ndarray) -> list[dict[str, float | None]]:
    """At each threshold: the share of patients flagged, and precision and recall among them."""
    out = []
    for threshold in THRESHOLDS:
        flagged = p >= threshold
        hits = int((flagged & (y == 1)).sum())
        out.append(
            {
                "threshold": threshold,
                "flagged_share": round(float(flagged.mean()), 4) if len(y) else None,
                "precision": round(hits / int(flagged.sum()), 4) if flagged.any() else None,
                "recall": round(hits / int(y.sum()), 4) if y.sum() else None,
            }
        )
    return out


def _groups(y: np.ndarray, p: np.ndarray, keys: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    out = {}
    for key in sorted({str(k) for k in keys}):
        mask = keys == key
        out[key] = {
            "n": int(mask.sum()),
            "positives": int(y[mask].sum()),
            "auroc": _round(_auroc(y[mask], p[mask])),  # None where the group has only one outcome
            "brier": round(float(brier_score_loss(y[mask], p[mask], labels=[0, 1])), 4),
        }
    return out


def _auroc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
