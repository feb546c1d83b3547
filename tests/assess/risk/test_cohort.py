"""The training cohort: deterministic, a sane share of outcomes, and the physiology it claims (winter rise)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from assess.risk.cohort import generate_cohort, training_set
from assess.risk.outcome import HORIZON
from cdm.domain import Colour, ReadingKind


@pytest.fixture(scope="module")
def cohort():
    return generate_cohort(patients=300, seed=7)


def test_same_seed_same_cohort_other_seed_other_cohort():
    first, again = generate_cohort(patients=60, seed=7), generate_cohort(patients=60, seed=7)
    assert [p.readings for p in again.patients] == [p.readings for p in first.patients]
    assert [(p.cut, p.case, p.states) for p in again.patients] == [(p.cut, p.case, p.states) for p in first.patients]
    other = generate_cohort(patients=60, seed=8)
    assert [p.readings for p in other.patients] != [p.readings for p in first.patients]


def test_outcome_share_is_sane_and_both_kinds_of_case_occur(cohort):
    assert 0.2 <= cohort.case_share <= 0.6
    went_red = sum(any(s.colour is Colour.RED for s in p.states) for p in cohort.patients)
    stayed_yellow = sum(p.case and all(s.colour is not Colour.RED for s in p.states) for p in cohort.patients)
    assert went_red > 20 and stayed_yellow > 10


def test_history_spans_a_year_before_the_cut_and_the_horizon_after(cohort):
    for p in cohort.patients[:50]:
        assert p.cut.date() - cohort.start >= timedelta(days=365)
        assert len(p.latent_sbp) == (p.cut.date() - cohort.start).days + HORIZON.days + 1
        assert all(r.measured_at < p.cut + HORIZON + timedelta(days=1) for r in p.readings)
        assert p.states[0].at == p.cut
    assert {p.cut.month for p in cohort.patients} == set(range(1, 13))  # every season has cuts


def test_winter_raises_blood_pressure(cohort):
    start = np.datetime64(cohort.start, "D")
    winter, summer = [], []
    for p in cohort.patients:
        months = (start + np.arange(len(p.latent_sbp))).astype("datetime64[M]").astype(int) % 12 + 1
        winter.append(p.latent_sbp[np.isin(months, (12, 1, 2))].mean())
        summer.append(p.latent_sbp[np.isin(months, (6, 7, 8))].mean())
    rise = np.mean(winter) - np.mean(summer)
    assert 3.0 < rise < 12.0


def test_meters_add_white_coat_and_noise_and_patients_leave_gaps(cohort):
    bp = [r for p in cohort.patients for r in p.readings if r.kind is ReadingKind.BP]
    home = [r for r in bp if r.device_uid.startswith("HOME-")]
    assert home and len(home) < len(bp) / 3
    gaps = [
        max((b.measured_at - a.measured_at).days for a, b in zip(p.readings, p.readings[1:], strict=False))
        for p in cohort.patients
        if len(p.readings) > 1
    ]
    assert sum(g > 30 for g in gaps) > 30  # monitoring gaps happen


def test_training_set_has_one_row_per_patient_with_ascvd_where_computable(cohort):
    data = training_set(cohort)
    assert data.X.shape == (300, len(data.X[0]))
    assert set(data.sexes) == {"M", "F"} and len(set(data.townships)) == 12
    assert data.y.sum() == sum(p.case for p in cohort.patients)
    from assess.risk.features import FEATURES

    ascvd = data.X[:, FEATURES.index("ascvd_10y_percent")]
    assert 0.3 < np.isfinite(ascvd).mean() < 0.9  # lipids missing for some, ages over 74 for others


def test_start_date_is_fixed_not_today():
    assert generate_cohort(patients=5, seed=1).start == date(2024, 1, 1)
