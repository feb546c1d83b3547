"""The risk model's inputs: one patient's monitoring history before a moment, as a fixed, versioned vector; pure.

Missing values are NaN (the gradient-boosted model splits on them natively) and each group of values that can be
absent has an explicit 0/1 indicator, so a linear model or a reader of the model card can see absence as such.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from statistics import fmean, stdev

from cdm.domain import FollowUp, FollowUpClass, GlucoseContext, PatientProfile, Reading, ReadingKind
from cdm.thresholds import PLAUSIBLE, ROUTINE_FOLLOW_UP_DAYS, SHORT_FOLLOW_UP_DAYS

# Bump when a feature is added, removed, renamed or computed differently: a saved model refuses other versions.
FEATURE_VERSION = "1"
# the rules' default window, and the routine follow-up period
SHORT, LONG = timedelta(days=SHORT_FOLLOW_UP_DAYS), timedelta(days=ROUTINE_FOLLOW_UP_DAYS)
SLOPE_MIN_SPAN = timedelta(days=7)  # a trend from readings of a few days is noise, not a trend
NAN = math.nan

FEATURES: tuple[str, ...] = (
    "sbp_mean_14d",
    "sbp_sd_14d",
    "dbp_mean_14d",
    "dbp_sd_14d",
    "sbp_mean_90d",
    "sbp_sd_90d",
    "dbp_mean_90d",
    "dbp_sd_90d",
    "sbp_max_90d",
    "sbp_slope_90d",  # mmHg per 30 days, least squares over the 90-day window
    "fasting_mean_14d",
    "fasting_mean_90d",
    "nonfasting_mean_14d",
    "nonfasting_mean_90d",
    "readings_per_30d",
    "days_since_reading",
    "days_since_follow_up",
    "last_fu_controlled",
    "last_fu_uncontrolled",
    "last_fu_adverse_reaction",
    "last_fu_complication",
    "age",
    "male",
    "hypertension",
    "diabetes",
    "ascvd_10y_percent",
    "month_sin",  # the calendar, because BP rises in winter
    "month_cos",
    "missing_bp_14d",
    "missing_bp_90d",
    "missing_fasting_90d",
    "missing_nonfasting_90d",
    "missing_reading",  # no reading within the last 90 days
    "missing_follow_up",
    "missing_ascvd",
)
_CLASS_FEATURE = {
    FollowUpClass.CONTROLLED: "last_fu_controlled",
    FollowUpClass.UNCONTROLLED: "last_fu_uncontrolled",
    FollowUpClass.ADVERSE_REACTION: "last_fu_adverse_reaction",
    FollowUpClass.COMPLICATION: "last_fu_complication",
}


def build_features(
    *,
    profile: PatientProfile,
    readings: Sequence[Reading],
    follow_ups: Sequence[FollowUp],
    as_of: datetime,
    ascvd_percent: float | None = None,
) -> dict[str, float]:
    """The feature values of one patient at `as_of`, from readings and follow-ups strictly before it."""
    # Only the last LONG days count, because that is all a rescore loads (assess.rules.LOOKBACK).
    past = [r for r in readings if as_of - LONG <= r.measured_at < as_of]
    visits = sorted((f for f in follow_ups if f.recorded_at < as_of), key=lambda f: (f.done_on, f.recorded_at))
    out: dict[str, float] = dict.fromkeys(FEATURES, 0.0)
    out.update(_bp(past, as_of))
    out.update(_glucose(past, as_of))
    out["readings_per_30d"] = len(past) * 30 / LONG.days
    last_reading = max((r.measured_at for r in past), default=None)
    # No reading within the window: the window's length, a floor for how long it has been (the indicator says so).
    out["days_since_reading"] = _days(as_of - last_reading) if last_reading else float(LONG.days)
    out["missing_reading"] = float(last_reading is None)
    if visits:
        out["days_since_follow_up"] = float((as_of.date() - visits[-1].done_on).days)
        out[_CLASS_FEATURE[visits[-1].follow_up_class]] = 1.0
    else:
        out["days_since_follow_up"] = NAN
        out["missing_follow_up"] = 1.0
    out["age"] = float(profile.age_on(as_of.date()))
    out["male"] = float(profile.sex == "M")
    out["hypertension"] = float(profile.hypertension)
    out["diabetes"] = float(profile.diabetes)
    out["ascvd_10y_percent"] = NAN if ascvd_percent is None else float(ascvd_percent)
    out["missing_ascvd"] = float(ascvd_percent is None)
    angle = 2 * math.pi * (as_of.month - 1) / 12
    out["month_sin"], out["month_cos"] = math.sin(angle), math.cos(angle)
    return out


def vector(features: Mapping[str, float]) -> list[float]:
    """The values in FEATURES order (a KeyError names a feature the mapping lacks)."""
    return [float(features[name]) for name in FEATURES]


def _bp(past: Sequence[Reading], as_of: datetime) -> dict[str, float]:
    out: dict[str, float] = {}
    for label, span in (("14d", SHORT), ("90d", LONG)):
        bp = [r for r in past if r.kind is ReadingKind.BP and r.measured_at >= as_of - span]
        sbp = [float(r.systolic) for r in bp if r.systolic is not None]
        dbp = [float(r.diastolic) for r in bp if r.diastolic is not None]
        out[f"sbp_mean_{label}"], out[f"sbp_sd_{label}"] = _mean(sbp), _sd(sbp)
        out[f"dbp_mean_{label}"], out[f"dbp_sd_{label}"] = _mean(dbp), _sd(dbp)
        out[f"missing_bp_{label}"] = float(not sbp)
        if label == "90d":
            out["sbp_max_90d"] = max(sbp) if sbp else NAN
            out["sbp_slope_90d"] = _slope([(r.measured_at, float(r.systolic or 0)) for r in bp], as_of)
    return out


def _glucose(past: Sequence[Reading], as_of: datetime) -> dict[str, float]:
    out: dict[str, float] = {}
    for context, name in ((GlucoseContext.FASTING, "fasting"), (GlucoseContext.NON_FASTING, "nonfasting")):
        for label, span in (("14d", SHORT), ("90d", LONG)):
            values = [
                _glucose_value(r)
                for r in past
                if r.kind is ReadingKind.GLUCOSE and r.glucose_context is context and r.measured_at >= as_of - span
            ]
            out[f"{name}_mean_{label}"] = _mean([v for v in values if v is not None])
        out[f"missing_{name}_90d"] = float(math.isnan(out[f"{name}_mean_90d"]))
    return out


def _glucose_value(reading: Reading) -> float | None:
    # A meter's HI/LO display says "beyond my range": the range's end is the nearest value we can stand behind.
    if reading.glucose_flag == "HI":
        return PLAUSIBLE.glucose_mmol[1]
    if reading.glucose_flag == "LO":
        return PLAUSIBLE.glucose_mmol[0]
    return reading.glucose_mmol


def _slope(points: Sequence[tuple[datetime, float]], as_of: datetime) -> float:
    """Least-squares slope in units per 30 days; NaN when the points span less than SLOPE_MIN_SPAN."""
    if len(points) < 2 or max(p[0] for p in points) - min(p[0] for p in points) < SLOPE_MIN_SPAN:
        return NAN
    xs = [_days(t - as_of) for t, _ in points]
    ys = [y for _, y in points]
    mx, my = fmean(xs), fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return 30.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def _mean(values: Sequence[float]) -> float:
    return fmean(values) if values else NAN


def _sd(values: Sequence[float]) -> float:
    return stdev(values) if len(values) >= 2 else NAN


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86_400
