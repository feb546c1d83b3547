"""One simulated patient's days: latent BP and glucose, what the meters saw, and what the doctors recorded; pure.

Latent level: the county patient's usual level + slow drift + personal trend + winter rise (Dec–Feb, peak mid-January)
+ the effect of stopping medication (adherence switches on and off) + acute episodes (unstable patients) − treatment
changes after uncontrolled visits. Meters add a white-coat effect (clinic meters, strongest on a sitting's first
reading), calibration bias and noise. Patients visit at their own habit, less often while off their medication, not
at all while away (migrant work, harvest); doctors miss some scheduled follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from scipy.signal import lfilter

from assess.rules import bp_target, urgent_reasons
from cdm.domain import FollowUp, FollowUpClass, GlucoseContext, PatientProfile, Reading, ReadingKind
from cdm.thresholds import Thresholds
from device_sim.county import SimPatient

DRIFT_TAU_DAYS, DRIFT_SD = 60.0, 5.0  # the slow drift forgets its past over two months; its SD in mmHg
ADHERENCE_TAU_DAYS = 7.0  # stopping or restarting a drug takes about a week to show in BP
CLINIC_HOURS_UTC = 9.0  # 08:00-17:00 China time
HOME_METER_SHARE = 0.12
TREATMENT_RESPONSE = 0.6  # share of uncontrolled visits after which a changed treatment lowers the level
TREATED_SBP_FLOOR, TREATED_FASTING_FLOOR = 120.0, 6.0  # treatment changes stop lowering the level here


@dataclass(frozen=True)
class Traits:
    """Per-patient habits and physiology the county's SimPatient does not carry."""

    white_coat: float  # mmHg added to the first clinic reading of a sitting
    home_meter: bool
    meter_bias: float  # mmHg, the calibration error of the meter the patient uses
    trend: float  # mmHg per 30 days
    winter_rise: float  # SBP mmHg at the peak of winter
    off_drug_sbp: float  # SBP mmHg added while not taking medication
    off_drug_glucose: float  # mmol/L added to fasting glucose while not taking medication
    p_stop: float  # daily chance of stopping medication
    p_resume: float  # daily chance of restarting it
    miss_visit: float  # chance a scheduled follow-up does not happen
    p_leave: float  # daily chance of going away (no readings at all)


@dataclass
class Path:
    """Daily latent values from day 0 (`start`)."""

    start: date
    sbp: np.ndarray
    dbp: np.ndarray
    fasting: np.ndarray
    adherent: np.ndarray
    away: np.ndarray
    treated_sbp: float = 0.0  # mmHg taken off the usual level by treatment changes so far
    treated_fasting: float = 0.0


def draw_traits(rng: np.random.Generator) -> Traits:
    """The habits of one patient."""
    return Traits(
        white_coat=float(rng.uniform(8, 20) if rng.random() < 0.25 else rng.uniform(0, 4)),
        home_meter=bool(rng.random() < HOME_METER_SHARE),
        meter_bias=float(rng.normal(0, 2)),
        trend=float(rng.normal(0, 0.8)),
        winter_rise=float(rng.uniform(3, 10)),
        off_drug_sbp=float(rng.uniform(8, 22)),
        off_drug_glucose=float(rng.uniform(0.8, 2.5)),
        p_stop=float(rng.uniform(0.001, 0.012)),
        p_resume=float(rng.uniform(0.01, 0.05)),
        miss_visit=float(rng.uniform(0.0, 0.35)),
        p_leave=float(1 / 150 if rng.random() < 0.35 else 0.0),
    )


def latent_path(sim: SimPatient, traits: Traits, *, rng: np.random.Generator, start: date, days: int) -> Path:
    """The daily latent BP and fasting glucose of one patient."""
    adherent = _runs(rng, days, p_off=traits.p_stop, p_on=traits.p_resume)
    away = ~_runs(rng, days, p_off=traits.p_leave, p_on=1 / 40)
    off = lfilter([1 / ADHERENCE_TAU_DAYS], [1, -(1 - 1 / ADHERENCE_TAU_DAYS)], (~adherent).astype(float))
    phi = 1 - 1 / DRIFT_TAU_DAYS
    drift = lfilter([1.0], [1, -phi], rng.normal(0, DRIFT_SD * np.sqrt(1 - phi**2), days))
    trend = traits.trend * np.arange(days) / 30
    winter = traits.winter_rise * _winter(start, days)
    spikes = np.zeros(days)
    if sim.unstable:
        onsets = (rng.random(days) < 0.015) * rng.uniform(30, 50, days)
        spikes = np.convolve(onsets, [1.0, 1.0])[:days]  # an episode lasts two days
    sbp_delta = drift + trend + winter + traits.off_drug_sbp * off + spikes
    glucose_drift = lfilter([1.0], [1, -phi], rng.normal(0, 0.6 * np.sqrt(1 - phi**2), days))
    fasting_delta = glucose_drift + (traits.off_drug_glucose * off if sim.diabetes else 0.0)
    return Path(
        start=start,
        sbp=sim.systolic + sbp_delta,
        dbp=sim.diastolic + 0.55 * sbp_delta,
        fasting=sim.fasting_glucose + fasting_delta,
        adherent=adherent,
        away=away,
    )


def _runs(rng: np.random.Generator, days: int, *, p_off: float, p_on: float) -> np.ndarray:
    """A two-state chain (True/False) with daily switching chances, started from its stationary share."""
    out = np.empty(days, dtype=bool)
    state = p_off == 0 or rng.random() < p_on / (p_off + p_on)
    i = 0
    while i < days:
        p = p_off if state else p_on
        n = days - i if p == 0 else int(rng.geometric(p))
        out[i : i + n] = state
        i, state = i + n, not state
    return out


def _winter(start: date, days: int) -> np.ndarray:
    """0 outside winter, rising to 1 in mid-January (about mid-November to mid-March)."""
    first = np.datetime64(start, "D")
    dates = first + np.arange(days)
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    return np.clip((np.cos(2 * np.pi * (doy - 14) / 365.25) - 0.5) / 0.5, 0, 1)


def scheduled_follow_ups(
    sim: SimPatient,
    profile: PatientProfile,
    path: Path,
    *,
    traits: Traits,
    rng: np.random.Generator,
    th: Thresholds,
) -> list[FollowUp]:
    """Quarterly follow-ups (two weeks after an uncontrolled one), some missed; treatment changes lower the path."""
    visits: list[FollowUp] = []
    day = int(rng.integers(0, 90))
    while day < len(path.sbp):
        if rng.random() < traits.miss_visit:
            day += int(rng.integers(20, 45))
            continue
        visit = doctor_visit(sim, profile, path, traits=traits, rng=rng, at=_clinic_time(path.start, day, rng), th=th)
        visits.append(visit)
        if visit.follow_up_class is FollowUpClass.UNCONTROLLED and rng.random() < TREATMENT_RESPONSE:
            _treat(sim, path, day=day, rng=rng)
        due = visit.next_due or visit.done_on + timedelta(days=th.routine_follow_up_days)
        day += (due - visit.done_on).days + int(rng.integers(-3, 8))
    return visits


def _treat(sim: SimPatient, path: Path, *, day: int, rng: np.random.Generator) -> None:
    """A changed treatment lowers the usual level from a week on, but never below what drugs reach in practice."""
    drop = min(rng.uniform(4, 12), max(0.0, sim.systolic - TREATED_SBP_FLOOR - path.treated_sbp))
    path.treated_sbp += drop
    path.sbp[day + 7 :] -= drop
    path.dbp[day + 7 :] -= 0.55 * drop
    if sim.diabetes:
        fall = min(rng.uniform(0.3, 1.0), max(0.0, sim.fasting_glucose - TREATED_FASTING_FLOOR - path.treated_fasting))
        path.treated_fasting += fall
        path.fasting[day + 7 :] -= fall


def doctor_visit(
    sim: SimPatient,
    profile: PatientProfile,
    path: Path,
    *,
    traits: Traits,
    rng: np.random.Generator,
    at: datetime,
    th: Thresholds,
) -> FollowUp:
    """A face-to-face follow-up: the doctor's office BP (white coat included) and fasting glucose decide the class."""
    day = min(len(path.sbp) - 1, (at.date() - path.start).days)
    # The doctor averages two readings, as the guideline asks, so the noise is that of a mean of two.
    sbp = path.sbp[day] + traits.white_coat + rng.normal(0, sim.bp_noise_sd / 2**0.5)
    dbp = path.dbp[day] + 0.5 * traits.white_coat + rng.normal(0, sim.bp_noise_sd * 0.6 / 2**0.5)
    target = bp_target(profile, th, on=at)
    bp_bad = sim.hypertension and (sbp >= target.systolic or dbp >= target.diastolic)
    glucose_bad = sim.diabetes and path.fasting[day] + rng.normal(0, sim.glucose_noise_sd) >= th.fasting_glucose_target
    roll = rng.random()
    if roll < 0.003 + (0.02 if sbp >= 170 else 0.0):
        cls = FollowUpClass.COMPLICATION
    elif roll < 0.04:
        cls = FollowUpClass.ADVERSE_REACTION
    else:
        cls = FollowUpClass.UNCONTROLLED if bp_bad or glucose_bad else FollowUpClass.CONTROLLED
    due = th.routine_follow_up_days if cls is FollowUpClass.CONTROLLED else th.short_follow_up_days
    return FollowUp(at.date(), cls, at, at.date() + timedelta(days=due))


def _clinic_time(start: date, day: int, rng: np.random.Generator) -> datetime:
    hours = rng.uniform(0, CLINIC_HOURS_UTC)
    at = datetime.combine(start + timedelta(days=day), time(0), UTC) + timedelta(hours=hours)
    return at.replace(microsecond=0)


def sittings(
    sim: SimPatient,
    path: Path,
    *,
    traits: Traits,
    rng: np.random.Generator,
    meters: dict[str, str],
    seq_base: int,
) -> list[Reading]:
    """What the meters recorded: one sitting on each visiting day (two BP readings, or one glucose reading)."""
    days = len(path.sbp)
    rate = min(0.85, sim.visits_per_week / 7) * np.where(path.adherent, 1.0, 0.6) * ~path.away
    out: list[Reading] = []
    for day in np.flatnonzero(rng.random(days) < rate):
        at = _clinic_time(path.start, int(day), rng)
        glucose = sim.diabetes and ((not sim.hypertension and rng.random() < 0.7) or rng.random() < 0.5)
        if glucose:
            out.append(
                _glucose(sim, path, day=int(day), at=at, rng=rng, uid=meters["glucose"], seq=seq_base + len(out))
            )
            continue
        home = traits.home_meter and rng.random() < 0.7
        uid = meters["home"] if home else meters["bp"]
        for k, gap in enumerate((rng.uniform(60, 120), 0.0)):
            white_coat = 0.0 if home else traits.white_coat * (1.0 if k == 0 else 0.6)
            out.append(
                _bp(
                    sim,
                    path,
                    day=int(day),
                    at=at - timedelta(seconds=round(gap)),
                    rng=rng,
                    uid=uid,
                    seq=seq_base + len(out),
                    offset=white_coat + traits.meter_bias,
                )
            )
    return out


def _bp(
    sim: SimPatient, path: Path, *, day: int, at: datetime, rng: np.random.Generator, uid: str, seq: int, offset: float
) -> Reading:
    z_sbp, z_dbp, z_pulse = rng.standard_normal(3).tolist()
    sbp = min(260.0, max(85.0, float(path.sbp[day]) + offset + z_sbp * sim.bp_noise_sd))
    dbp = min(150.0, max(45.0, float(path.dbp[day]) + 0.5 * offset + z_dbp * sim.bp_noise_sd * 0.6))
    dbp = min(dbp, sbp - 20)  # a pulse pressure below 20 mmHg is not a plausible reading
    return _meter_reading(
        uid,
        seq,
        at,
        kind=ReadingKind.BP,
        systolic=round(sbp),
        diastolic=round(dbp),
        pulse=round(min(130.0, max(45.0, sim.pulse + 4 * z_pulse))),
    )


def _glucose(
    sim: SimPatient, path: Path, *, day: int, at: datetime, rng: np.random.Generator, uid: str, seq: int
) -> Reading:
    fasting = rng.random() < 0.5
    level = path.fasting[day] + (0.0 if fasting else sim.non_fasting_glucose - sim.fasting_glucose)
    value = level + rng.normal(0, sim.glucose_noise_sd)
    if sim.diabetes and path.adherent[day] and path.fasting[day] < 7.0 and rng.random() < 0.005:
        value = rng.uniform(2.6, 3.8)  # over-treatment: a well-controlled, adherent diabetic's hypoglycaemia
    return _meter_reading(
        uid,
        seq,
        at,
        kind=ReadingKind.GLUCOSE,
        glucose_mmol=round(min(33.0, max(1.2, float(value))), 1),
        glucose_context=GlucoseContext.FASTING if fasting else GlucoseContext.NON_FASTING,
    )


def _meter_reading(uid: str, seq: int, at: datetime, *, kind: ReadingKind, **values: Any) -> Reading:
    """A reading of meter `uid` measured at `at` and received three seconds later, with its kind's values."""
    return Reading(device_uid=uid, seq=seq, kind=kind, measured_at=at, received_at=at + timedelta(seconds=3), **values)


def reactive_follow_ups(
    sim: SimPatient,
    profile: PatientProfile,
    path: Path,
    *,
    readings: list[Reading],
    traits: Traits,
    rng: np.random.Generator,
    th: Thresholds,
) -> list[FollowUp]:
    """Urgent referrals followed up: most urgent readings bring a doctor's visit within two weeks."""
    out: list[FollowUp] = []
    closed_until: datetime | None = None
    for reading in readings:
        if not urgent_reasons(reading, th) or (closed_until and reading.measured_at <= closed_until):
            continue
        if rng.random() < 0.8:
            at = (reading.measured_at + timedelta(days=float(rng.uniform(1, 14)))).replace(microsecond=0)
            if (at.date() - path.start).days < len(path.sbp):
                out.append(doctor_visit(sim, profile, path, traits=traits, rng=rng, at=at, th=th))
                closed_until = at
    return out
