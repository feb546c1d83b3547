"""The risk model's card: what it was trained on, what goes in, how well it did, and what it must not be used for."""

from __future__ import annotations

import platform
from typing import Any

import sklearn

from assess.risk.data import TrainingSet
from assess.risk.features import FEATURE_VERSION, FEATURES
from assess.risk.outcome import HORIZON, UNCONTROLLED_REASONS
from assess.risk.policy import GREEN_TO_YELLOW_THRESHOLD, MAX_PRIORITY_BOOST

INTENDED_USE = (
    "Ranks managed hypertension and type 2 diabetes patients by the probability that the traffic-light rules turn "
    "them red, or still find them uncontrolled, within the next 90 days, so that family-doctor teams see the "
    "likely next reds earlier. It can raise a patient's priority within the colour and turn green into yellow "
    "(reason model_risk); it never lowers a rule's red or yellow."
)
NOT_FOR = (
    "Not a diagnosis and not a treatment decision; not for patients outside the programme (under 35, other "
    "conditions); not a replacement for the guideline rules or the doctor's judgement."
)
LIMITS = (
    "Trained on simulated patients unless the data source says the store: its numbers describe the simulator, "
    "not a real county, until a deployment retrains on its own outcomes (cdm model train --source db).",
    "The outcome is defined by this system's rules (assess.rules); a change of guideline edition or of the rules "
    "changes what the model predicts, so retrain after one.",
    "ASCVD risk (China-PAR) is missing for patients without lipids in the health record or outside ages 35-74; "
    "the model sees that as missing, not as low.",
    "Per-township and per-sex figures on small held-out groups are noisy; a township with one outcome has no AUROC.",
    "Patients with no readings at all are predicted from age, sex and diagnoses alone.",
)


def make_card(
    *, data: TrainingSet, n_train: int, split_by: str, method: str, evaluation: dict[str, Any]
) -> dict[str, Any]:
    """The card's content (the version, time and hash are added when the model is saved)."""
    return {
        "model": "90-day risk of red or uncontrolled (慢病90天风险)",
        "intended_use": INTENDED_USE,
        "not_for": NOT_FOR,
        "outcome": {
            "horizon_days": HORIZON.days,
            "definition": "red at any moment within the horizon, or at its end red or yellow for "
            + ", ".join(sorted(UNCONTROLLED_REASONS)),
        },
        "data": {
            "source": data.source,
            "examples": len(data),
            "positives": int(data.y.sum()),
            "training_examples": n_train,
            "held_out_examples": len(data) - n_train,
            "split": f"by {split_by}: no {split_by} is on both sides",
        },
        "features": {"version": FEATURE_VERSION, "names": list(FEATURES)},
        "estimator": {
            "kind": "HistGradientBoostingClassifier in CalibratedClassifierCV",
            "calibration": method,
            "scikit_learn": sklearn.__version__,
            "python": platform.python_version(),
        },
        "policy": {"green_to_yellow_threshold": GREEN_TO_YELLOW_THRESHOLD, "max_priority_boost": MAX_PRIORITY_BOOST},
        "evaluation": evaluation,
        "limits": list(LIMITS),
    }


def card_markdown(card: dict[str, Any]) -> str:
    """The card as a page a person reads."""
    ev = card["evaluation"]
    lines = [
        f"# Model card: {card['model']}",
        "",
        f"Version `{card.get('version', '-')}`, trained {card.get('trained_at', '-')}, "
        f"sha256 `{card.get('sha256', '-')}`.",
        "",
        "## Intended use",
        card["intended_use"],
        "",
        f"**Not for:** {card['not_for']}",
        "",
        "## Outcome",
        f"Within {card['outcome']['horizon_days']} days: {card['outcome']['definition']}.",
        "",
        "## Data",
        *(f"- {k.replace('_', ' ')}: {v}" for k, v in card["data"].items()),
        "",
        "## Features",
        f"Version {card['features']['version']}: " + ", ".join(f"`{n}`" for n in card["features"]["names"]),
        "",
        "## Held-out evaluation",
        f"- AUROC {ev['auroc']}, AUPRC {ev['auprc']}, Brier {ev['brier']} "
        f"(base-rate Brier {ev['brier_base_rate']}, base rate {ev['base_rate']}, n {ev['n']})",
        "",
        "| mean predicted | observed | n |",
        "|---|---|---|",
        *(f"| {b['mean_predicted']} | {b['observed']} | {b['n']} |" for b in ev["calibration"]),
        "",
        "| group | n | positives | AUROC | Brier |",
        "|---|---|---|---|---|",
        *(
            f"| {kind} {key} | {g['n']} | {g['positives']} | {g['auroc']} | {g['brier']} |"
            for kind in ("per_sex", "per_township")
            for key, g in ev[kind].items()
        ),
        "",
        "## Limits",
        *(f"- {item}" for item in card["limits"]),
        "",
    ]
    return "\n".join(lines)
