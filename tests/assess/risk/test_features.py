"""The feature vector, from hand-built histories with numbers worked out by hand."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from assess.risk.features import FEATURE_VERSION, FEATURES, build_features, vector
from cdm.domain import FollowUpClass
from tests.assess.factories import NOW, bp, glucose, patient, visit


def feats(readings, follow_ups=(), *, profile=None, ascvd=None):
    return build_features(
        profile=profile or patient(age=60), readings=readings, follow_ups=follow_ups, as_of=NOW, ascvd_percent=ascvd
    )


def test_bp_means_sd_and_slope_by_hand():
    readings = [
        bp(150, 90, ago=timedelta(days=60)),
        bp(140, 85, ago=timedelta(days=30)),
        bp(130, 80, ago=timedelta(days=10)),
        bp(134, 84, ago=timedelta(days=2)),
    ]
    f = feats(readings)
    assert f["sbp_mean_14d"] == 132.0
    assert f["sbp_sd_14d"] == pytest.approx(math.sqrt(8))  # sample SD of 130 and 134
    assert f["dbp_mean_14d"] == 82.0
    assert f["sbp_mean_90d"] == 138.5
    assert f["sbp_max_90d"] == 150.0
    # least squares over x = -60, -30, -10, -2 days: slope -0.3426 mmHg/day
    xs, ys = [-60, -30, -10, -2], [150, 140, 130, 134]
    mx, my = sum(xs) / 4, sum(ys) / 4
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert f["sbp_slope_90d"] == pytest.approx(30 * slope)
    assert f["sbp_slope_90d"] < 0
    assert f["readings_per_30d"] == pytest.approx(4 / 3)
    assert f["days_since_reading"] == pytest.approx(2.0)
    assert f["missing_bp_14d"] == f["missing_bp_90d"] == 0.0


def test_readings_at_or_after_as_of_and_older_than_90_days_are_ignored():
    f = feats(
        [
            bp(200, 120, ago=timedelta(days=91)),
            bp(128, 78, ago=timedelta(days=1)),
            bp(190, 115, ago=-timedelta(hours=1)),
        ]
    )
    assert f["sbp_mean_90d"] == 128.0
    assert math.isnan(f["sbp_sd_90d"])  # one reading has no spread
    assert math.isnan(f["sbp_slope_90d"])


def test_glucose_by_context_and_hi_lo_flags():
    readings = [
        glucose(8.0, fasting=True, ago=timedelta(days=3)),
        glucose(6.0, fasting=True, ago=timedelta(days=20)),
        glucose(None, fasting=False, flag="HI", ago=timedelta(days=5)),
        glucose(11.7, fasting=False, ago=timedelta(days=6)),
    ]
    f = feats(readings, profile=patient(diabetes=True))
    assert f["fasting_mean_14d"] == 8.0
    assert f["fasting_mean_90d"] == 7.0
    assert f["nonfasting_mean_14d"] == pytest.approx((33.3 + 11.7) / 2)
    assert f["missing_fasting_90d"] == 0.0
    assert f["missing_bp_90d"] == 1.0 and math.isnan(f["sbp_mean_90d"])
    assert f["diabetes"] == 1.0


def test_follow_up_profile_ascvd_and_missing_indicators():
    visits = [visit(FollowUpClass.CONTROLLED, days_ago=100), visit(FollowUpClass.UNCONTROLLED, days_ago=12)]
    f = feats([], visits, profile=patient(age=70), ascvd=12.5)
    assert f["days_since_follow_up"] == 12.0
    assert (f["last_fu_uncontrolled"], f["last_fu_controlled"], f["last_fu_complication"]) == (1.0, 0.0, 0.0)
    assert (f["age"], f["male"], f["hypertension"]) == (70.0, 1.0, 1.0)
    assert f["ascvd_10y_percent"] == 12.5 and f["missing_ascvd"] == 0.0
    assert f["missing_reading"] == 1.0 and f["days_since_reading"] == 90.0
    assert f["readings_per_30d"] == 0.0
    empty = feats([])
    assert empty["missing_follow_up"] == 1.0 and math.isnan(empty["days_since_follow_up"])
    assert empty["missing_ascvd"] == 1.0 and math.isnan(empty["ascvd_10y_percent"])


def test_vector_follows_the_versioned_feature_list():
    f = feats([bp(128, 78)])
    assert list(f) == list(FEATURES) and len(set(FEATURES)) == len(FEATURES)
    assert vector(f)[FEATURES.index("sbp_mean_14d")] == 128.0
    assert FEATURE_VERSION == "1"
    with pytest.raises(KeyError):
        vector({k: v for k, v in f.items() if k != "age"})
