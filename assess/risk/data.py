"""Training examples for the risk model: one row per (patient, cut), from the simulated cohort or from the store."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from assess.chinapar import ten_year_risk
from assess.risk.features import FEATURE_VERSION, FEATURES, build_features, vector
from assess.risk.outcome import State, is_case
from cdm.domain import Colour, FollowUp, PatientProfile, Reading


@dataclass(frozen=True)
class Example:
    """One patient at one cut: who, the feature values, and whether the outcome followed."""

    patient_id: int
    township: str
    sex: str
    as_of: datetime
    features: dict[str, float]
    case: bool
    green_at_cut: bool  # the rules' colour at the cut: the only patients the model may turn yellow


@dataclass(frozen=True)
class TrainingSet:
    """Examples as arrays, in FEATURES order."""

    X: np.ndarray
    y: np.ndarray
    patient_ids: np.ndarray
    townships: np.ndarray
    sexes: np.ndarray
    green_at_cut: np.ndarray
    source: str
    feature_version: str = FEATURE_VERSION

    def __len__(self) -> int:
        return len(self.y)


def ascvd_percent(profile: PatientProfile, *, systolic: float, on: datetime) -> float | None:
    """China-PAR 10-year risk from the health record and the recent mean SBP; None where it cannot be computed."""
    if math.isnan(systolic):
        return None
    return ten_year_risk(profile=profile, systolic=systolic, on=on.date()).percent


def example(
    *,
    profile: PatientProfile,
    township: str,
    readings: Sequence[Reading],
    follow_ups: Sequence[FollowUp],
    states: Sequence[State],
    as_of: datetime,
) -> Example:
    """The example of one patient at `as_of`: features from before it, the outcome from the states after it."""
    feats = build_features(profile=profile, readings=readings, follow_ups=follow_ups, as_of=as_of)
    ascvd = ascvd_percent(profile, systolic=feats["sbp_mean_90d"], on=as_of)
    if ascvd is not None:
        feats = build_features(
            profile=profile, readings=readings, follow_ups=follow_ups, as_of=as_of, ascvd_percent=ascvd
        )
    at_cut = [s for s in states if s.at <= as_of]
    return Example(
        patient_id=profile.patient_id,
        township=township,
        sex=profile.sex,
        as_of=as_of,
        features=feats,
        case=is_case(states, cut=as_of),
        green_at_cut=bool(at_cut) and at_cut[-1].colour is Colour.GREEN,
    )


def to_training_set(examples: Sequence[Example], *, source: str) -> TrainingSet:
    """Stack examples into arrays."""
    if not examples:
        raise ValueError("no training examples")
    return TrainingSet(
        X=np.array([vector(e.features) for e in examples], dtype=float).reshape(len(examples), len(FEATURES)),
        y=np.array([e.case for e in examples], dtype=int),
        patient_ids=np.array([e.patient_id for e in examples]),
        townships=np.array([e.township for e in examples]),
        sexes=np.array([e.sex for e in examples]),
        green_at_cut=np.array([e.green_at_cut for e in examples], dtype=bool),
        source=source,
    )
