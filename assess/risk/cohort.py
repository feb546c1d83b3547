"""A seeded training cohort for the risk model: each patient's history, a cut date, and the rules' verdict after it.

Each patient of a generated county gets a year or more of daily latent BP and glucose (assess.risk.trajectory),
sittings at the patient's visiting habit, and follow-ups with doctors' classes. The cut falls somewhere in the
following year, so every season is represented; the features come from readings before the cut, and the outcome
from the rules themselves (assess.rules.assess) applied at every reading and follow-up in the HORIZON after it.
Deterministic: the same arguments always give the same cohort.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from assess.risk.data import TrainingSet, example, to_training_set
from assess.risk.outcome import HORIZON, State, is_case
from assess.risk.trajectory import (
    Path,
    draw_traits,
    latent_path,
    reactive_follow_ups,
    scheduled_follow_ups,
    sittings,
)
from assess.rules import LOOKBACK, SITTING_GAP, RuleSettings, assess
from cdm.domain import FollowUp, HealthRecord, PatientProfile, Reading
from cdm.thresholds import DEFAULT_EDITION, for_edition
from device_sim.county import County, SimPatient, generate_county

DEFAULT_START = date(2024, 1, 1)  # fixed, so a cohort never depends on the day it is generated
LIPIDS_RECORDED = 0.75  # share of health records with the blood lipids China-PAR needs


@dataclass(frozen=True)
class CohortPatient:
    """One simulated patient: registry, history, cut, the rules' states around it, and the outcome."""

    sim: SimPatient
    profile: PatientProfile
    township_code: str
    cut: datetime
    readings: tuple[Reading, ...]  # oldest first
    follow_ups: tuple[FollowUp, ...]  # oldest first
    states: tuple[State, ...]  # the rules' conclusion at the cut and at every change within the horizon
    case: bool
    latent_sbp: np.ndarray = field(compare=False, repr=False)  # daily, from the cohort's start

    def before_cut(self) -> tuple[list[Reading], list[FollowUp]]:
        """What was known at the cut: readings and follow-ups strictly before it."""
        return (
            [r for r in self.readings if r.measured_at < self.cut],
            [f for f in self.follow_ups if f.recorded_at < self.cut],
        )


@dataclass(frozen=True)
class Cohort:
    county: County
    start: date
    seed: int
    edition: str
    patients: tuple[CohortPatient, ...]

    @property
    def case_share(self) -> float:
        return sum(p.case for p in self.patients) / len(self.patients) if self.patients else 0.0


def generate_cohort(
    *,
    patients: int = 5000,
    seed: int = 1,
    start: date = DEFAULT_START,
    history_days: int = 365,
    cut_spread_days: int = 365,
    edition: str = DEFAULT_EDITION,
    townships: int = 12,
    unstable_share: float = 0.05,
) -> Cohort:
    """A cohort of `patients`, each with `history_days` or more before a cut and HORIZON after it."""
    if history_days < LOOKBACK.days:
        raise ValueError(f"history_days must be at least {LOOKBACK.days}: the features look back that far")
    county = generate_county(
        code="cohort",
        name="训练队列县",
        townships=townships,
        clinics=max(townships, min(120, patients // 10 + townships)),
        patients=patients,
        seed=seed,
        unstable_share=unstable_share,
        as_of_year=start.year,
    )
    rules = RuleSettings(thresholds=for_edition(edition))
    township_of = {c.code: c.township_code for c in county.clinics}
    members = tuple(
        _member(
            county,
            sim,
            index=i,
            seed=seed,
            start=start,
            days_before_cut=history_days + int(np.random.default_rng([seed, i, 0]).integers(0, cut_spread_days + 1)),
            rules=rules,
            township_code=township_of[sim.village_code],
        )
        for i, sim in enumerate(county.patients, start=1)
    )
    return Cohort(county=county, start=start, seed=seed, edition=edition, patients=members)


def _member(
    county: County,
    sim: SimPatient,
    *,
    index: int,
    seed: int,
    start: date,
    days_before_cut: int,
    rules: RuleSettings,
    township_code: str,
) -> CohortPatient:
    rng = np.random.default_rng([seed, index])
    profile = PatientProfile(
        index, sim.sex, sim.birth_year, sim.hypertension, sim.diabetes, start, _health_record(sim, rng)
    )
    traits = draw_traits(rng)
    path: Path = latent_path(sim, traits, rng=rng, start=start, days=days_before_cut + HORIZON.days + 1)
    th = rules.thresholds
    visits = scheduled_follow_ups(sim, profile, path, traits=traits, rng=rng, th=th)
    meters = {
        "bp": county.meter_for(sim.village_code, "bp").uid,
        "glucose": county.meter_for(sim.village_code, "glucose").uid,
        "home": f"HOME-{sim.health_card_no}",
    }
    # Readings of one clinic meter come from many patients: give each patient a block of sequence numbers.
    readings = sittings(sim, path, traits=traits, rng=rng, meters=meters, seq_base=index * 100_000)
    visits += reactive_follow_ups(sim, profile, path, readings=readings, traits=traits, rng=rng, th=th)
    visits.sort(key=lambda f: (f.done_on, f.recorded_at))
    cut = datetime.combine(start + timedelta(days=days_before_cut), time(0), UTC)
    states = rule_states(profile=profile, readings=readings, follow_ups=visits, cut=cut, rules=rules)
    return CohortPatient(
        sim=sim,
        profile=profile,
        township_code=township_code,
        cut=cut,
        readings=tuple(readings),
        follow_ups=tuple(visits),
        states=tuple(states),
        case=is_case(states, cut=cut),
        latent_sbp=path.sbp,
    )


def _health_record(sim: SimPatient, rng: np.random.Generator) -> HealthRecord:
    """A WS 365 health record: lipids for most patients, lifestyle and family history for all."""
    lipids = rng.random() < LIPIDS_RECORDED
    male = sim.sex == "M"
    return HealthRecord(
        total_cholesterol_mmol=round(float(np.clip(rng.normal(5.0, 0.9), 2.8, 9.0)), 2) if lipids else None,
        hdl_mmol=round(float(np.clip(rng.normal(1.2 if male else 1.4, 0.3), 0.6, 2.5)), 2) if lipids else None,
        waist_cm=round(float(np.clip(rng.normal(88 if male else 83, 9), 60, 130)), 1),
        smoker=bool(rng.random() < (0.5 if male else 0.03)),
        family_history_ascvd=bool(rng.random() < 0.08),
        urban=bool(rng.random() < 0.2),
        north=True,  # one county: everyone lives on the same side of the Yangtze
        on_bp_treatment=sim.hypertension,
    )


def rule_states(
    *,
    profile: PatientProfile,
    readings: list[Reading],
    follow_ups: list[FollowUp],
    cut: datetime,
    rules: RuleSettings,
    horizon: timedelta = HORIZON,
) -> list[State]:
    """The rules' state at the cut and at each change after it (each reading, follow-up, and the horizon's end)."""
    end = cut + horizon
    times = [r.measured_at for r in readings]
    # The end of each sitting is enough: an urgent first reading keeps the patient red past the second one.
    ends = {t for t, after in zip(times, [*times[1:], None], strict=True) if after is None or after - t >= SITTING_GAP}
    points = sorted(
        {cut, end}
        | {t for t in ends if cut < t <= end}
        | {f.recorded_at for f in follow_ups if cut < f.recorded_at <= end}
    )
    states: list[State] = []
    for at in points:
        window = readings[bisect.bisect_left(times, at - LOOKBACK) : bisect.bisect_right(times, at)]
        known = [f for f in follow_ups if f.recorded_at <= at]
        result = assess(profile=profile, readings=window, follow_ups=known, now=at, rules=rules)
        if not states or (states[-1].colour, states[-1].reasons) != (result.colour, result.reasons):
            states.append(State(at, result.colour, result.reasons))
    return states


def training_set(cohort: Cohort) -> TrainingSet:
    """The risk model's training set from a cohort: one example per patient at its cut."""
    examples = []
    for p in cohort.patients:
        readings, visits = p.before_cut()
        examples.append(
            example(
                profile=p.profile,
                township=p.township_code,
                readings=readings,
                follow_ups=visits,
                states=p.states,
                as_of=p.cut,
            )
        )
    return to_training_set(
        examples,
        source=f"simulated cohort (assess.risk.cohort, seed {cohort.seed}, {len(examples)} patients, "
        f"guideline edition {cohort.edition})",
    )
