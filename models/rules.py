"""The traffic-light rules (clinical-reference §3): a pure function of profile, readings, follow-ups and now.

red    an urgent reading (SBP >=180 or DBP >=110; glucose >=16.7 or <=3.9, or the meter's HI/LO) with no
       follow-up recorded since; "uncontrolled" at the last two follow-ups; a complication at the last follow-up
yellow recent mean BP not below the patient's target; grade-2 BP on the latest sitting; mean fasting glucose
       >=7.0 or non-fasting >=10.0 (diabetes); no reading within the monitoring interval; follow-up overdue
green  otherwise: at target, monitored, follow-ups on time
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean

from cdm.domain import Assessment, Colour, FollowUp, FollowUpClass, GlucoseContext, PatientProfile, Reading, ReadingKind
from cdm.thresholds import BpTarget, Thresholds

URGENT_REASONS = frozenset({"bp_critical", "glucose_high_critical", "glucose_hypo"})
SITTING_GAP = timedelta(minutes=10)  # readings of one meter this close together form one sitting
EVIDENCE_MAX = 10
_BASE_PRIORITY = {Colour.RED: 200.0, Colour.YELLOW: 100.0, Colour.GREEN: 0.0}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    thresholds: Thresholds
    window: timedelta = timedelta(days=14)  # means are taken over this many days of readings
    monitoring_interval: timedelta = timedelta(days=30)


def bp_target(profile: PatientProfile, th: Thresholds, *, on: datetime) -> BpTarget:
    """The BP target for this patient under the edition: by age first, then diabetes."""
    age = profile.age_on(on.date())
    if age >= 80:
        return th.target_80_plus
    if profile.diabetes and th.target_diabetes is not None:
        return th.target_diabetes
    return th.target_65_79 if age >= 65 else th.target_general


def urgent_reasons(reading: Reading, th: Thresholds) -> set[str]:
    """The urgent-referral criteria one reading meets."""
    found = set()
    if reading.kind is ReadingKind.BP:
        if (reading.systolic or 0) >= th.bp_critical_systolic or (reading.diastolic or 0) >= th.bp_critical_diastolic:
            found.add("bp_critical")
    elif reading.glucose_flag == "HI" or (reading.glucose_mmol or 0) >= th.glucose_critical_high:
        found.add("glucose_high_critical")
    elif reading.glucose_flag == "LO" or (
        reading.glucose_mmol is not None and reading.glucose_mmol <= th.glucose_critical_low
    ):
        found.add("glucose_hypo")
    return found


def assess(
    *,
    profile: PatientProfile,
    readings: Sequence[Reading],
    follow_ups: Sequence[FollowUp],
    now: datetime,
    rules: RuleSettings,
) -> Assessment:
    """The colour of one patient at `now`, with reason codes, a priority within the colour and the evidence."""
    readings = sorted((r for r in readings if r.measured_at <= now), key=lambda r: r.measured_at)
    visits = sorted(follow_ups, key=lambda f: (f.done_on, f.recorded_at))
    reasons: dict[str, list[Reading]] = {}
    severity = 0.0

    last_visit = visits[-1].recorded_at if visits else None
    for reading in readings:
        if last_visit is None or reading.measured_at > last_visit:
            for code in urgent_reasons(reading, rules.thresholds):
                reasons.setdefault(code, []).append(reading)
                severity = max(severity, _excess(reading, rules.thresholds))
    classes = [v.follow_up_class for v in visits[-2:]]
    if len(classes) == 2 and all(c is FollowUpClass.UNCONTROLLED for c in classes):
        reasons["uncontrolled_2x"] = []
    if classes and classes[-1] is FollowUpClass.COMPLICATION:
        reasons["complication"] = []
    if reasons:
        return _result(Colour.RED, reasons, severity)

    _yellow_reasons(reasons, profile=profile, readings=readings, visits=visits, now=now, rules=rules)
    if reasons:
        return _result(Colour.YELLOW, reasons, _yellow_severity(reasons, profile, now, rules))
    recent = [r for r in readings if r.measured_at >= now - rules.window]
    return _result(Colour.GREEN, {"at_target": recent}, 0.0)


def _yellow_reasons(
    reasons: dict[str, list[Reading]],
    *,
    profile: PatientProfile,
    readings: list[Reading],
    visits: list[FollowUp],
    now: datetime,
    rules: RuleSettings,
) -> None:
    th = rules.thresholds
    recent = [r for r in readings if r.measured_at >= now - rules.window]
    bp = [r for r in recent if r.kind is ReadingKind.BP]
    if bp:
        target = bp_target(profile, th, on=now)
        if (
            fmean(r.systolic or 0 for r in bp) >= target.systolic
            or fmean(r.diastolic or 0 for r in bp) >= target.diastolic
        ):
            reasons["bp_above_target"] = bp
        last = latest_sitting(bp)
        if (
            fmean(r.systolic or 0 for r in last) >= th.bp_grade2_systolic
            or fmean(r.diastolic or 0 for r in last) >= th.bp_grade2_diastolic
        ):
            reasons["bp_grade2"] = last
    if profile.diabetes:
        for context, limit, code in (
            (GlucoseContext.FASTING, th.fasting_glucose_target, "glucose_fasting_high"),
            (GlucoseContext.NON_FASTING, th.nonfasting_glucose_target, "glucose_nonfasting_high"),
        ):
            values = [r for r in recent if r.glucose_context is context and r.glucose_mmol is not None]
            if values and fmean(r.glucose_mmol or 0 for r in values) >= limit:
                reasons[code] = values
    if _monitoring_gap(profile, readings, now, rules):
        reasons["monitoring_gap"] = []
    if _follow_up_overdue(profile, visits, now, th):
        reasons["follow_up_overdue"] = []


def latest_sitting(bp: Sequence[Reading]) -> list[Reading]:
    """The readings of the latest sitting: same meter, each within SITTING_GAP of the next."""
    ordered = sorted(bp, key=lambda r: r.measured_at)
    sitting = [ordered[-1]]
    for reading in reversed(ordered[:-1]):
        if reading.device_uid != sitting[0].device_uid or sitting[0].measured_at - reading.measured_at > SITTING_GAP:
            break
        sitting.insert(0, reading)
    return sitting


def _monitoring_gap(profile: PatientProfile, readings: list[Reading], now: datetime, rules: RuleSettings) -> bool:
    needed = ([ReadingKind.BP] if profile.hypertension else []) + ([ReadingKind.GLUCOSE] if profile.diabetes else [])
    since = now - rules.monitoring_interval
    if profile.registered_on is not None and profile.registered_on > since.date():
        return False  # newly registered: the first interval has not passed yet
    return any(not any(r.kind is kind and r.measured_at >= since for r in readings) for kind in needed)


def _follow_up_overdue(profile: PatientProfile, visits: list[FollowUp], now: datetime, th: Thresholds) -> bool:
    if visits:
        last = visits[-1]
        due = last.next_due or last.done_on + timedelta(days=th.routine_follow_up_days)
        return now.date() > due
    if profile.registered_on is None:
        return False
    return now.date() > profile.registered_on + timedelta(days=th.routine_follow_up_days)


def _excess(reading: Reading, th: Thresholds) -> float:
    """How far beyond the urgent threshold a reading lies, in rough 'mmHg-equivalent' points."""
    if reading.kind is ReadingKind.BP:
        return (
            max(
                (reading.systolic or 0) - th.bp_critical_systolic,
                (reading.diastolic or 0) - th.bp_critical_diastolic,
                0,
            )
            + 1.0
        )
    if reading.glucose_flag:
        return 40.0
    value = reading.glucose_mmol or 0.0
    return max(value - th.glucose_critical_high, th.glucose_critical_low - value, 0) * 10 + 1.0


def _yellow_severity(
    reasons: dict[str, list[Reading]], profile: PatientProfile, now: datetime, rules: RuleSettings
) -> float:
    score = 10.0 * len(reasons)
    bp = reasons.get("bp_above_target")
    if bp:
        target = bp_target(profile, rules.thresholds, on=now)
        score += max(fmean(r.systolic or 0 for r in bp) - target.systolic, 0)
    return score


def _result(colour: Colour, reasons: dict[str, list[Reading]], severity: float) -> Assessment:
    evidence = sorted({r for rs in reasons.values() for r in rs}, key=lambda r: r.measured_at, reverse=True)
    return Assessment(
        colour=colour,
        reasons=tuple(sorted(reasons)),
        priority=round(_BASE_PRIORITY[colour] + min(severity, 99.0), 2),
        evidence=tuple(f"{r.device_uid}:{r.seq}" for r in evidence[:EVIDENCE_MAX]),
    )
