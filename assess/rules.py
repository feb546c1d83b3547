"""The traffic-light rules (clinical-reference §3): a pure function of profile, readings, follow-ups and now.

red    an urgent reading (SBP >=180 or DBP >=110; glucose >=16.7 or <=3.9, or the meter's HI/LO; with the
       hypoglycaemia level) with no follow-up recorded since; heart rate >100/min persisting since the last
       follow-up (diabetes); "uncontrolled" at the last two follow-ups; a complication at the last follow-up
yellow recent mean BP (the mean of sitting means) not below the patient's target; grade-2 BP on the latest
       sitting; mean fasting glucose >=7.0 or non-fasting >=10.0, HbA1c >=7.0 % (diabetes); complications in the
       health record; no reading within the monitoring interval; follow-up overdue
green  otherwise: at target, monitored, follow-ups on time

`assess` = `decide(summarise(...))`: the decision reads only a Summary (assess.summary.logic), which the store can
also compute for a whole county in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from assess.summary.logic import (
    EVIDENCE_MAX,
    SITTING_GAP,
    Summary,
    evidence_key,
    latest_sitting,
    most_recent,
    sitting_mean,
    sittings,
    summarise,
    urgent_reasons,
)
from cdm.domain import Assessment, Colour, FollowUp, FollowUpClass, PatientProfile, Reading
from cdm.settings import Settings
from cdm.thresholds import LOOKBACK_DAYS, BpTarget, Thresholds, for_edition

__all__ = [
    "EVIDENCE_MAX",
    "LOOKBACK",
    "SITTING_GAP",
    "URGENT_REASONS",
    "RuleSettings",
    "assess",
    "bp_target",
    "decide",
    "latest_sitting",
    "sitting_verdict",
    "urgent_reasons",
]

URGENT_REASONS = frozenset(
    {
        "bp_critical",
        "glucose_high_critical",
        "glucose_hypo",
        "glucose_hypo_level1",
        "glucose_hypo_level2",
        "heart_rate_high",
    }
)
# Readings older than the routine follow-up period no longer decide a colour on their own: by then a follow-up is
# due anyway, and the monitoring-gap and overdue rules take over.
LOOKBACK = timedelta(days=LOOKBACK_DAYS)
_BASE_PRIORITY = {Colour.RED: 200.0, Colour.YELLOW: 100.0, Colour.GREEN: 0.0}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    thresholds: Thresholds
    window: timedelta = timedelta(days=14)  # means are taken over this many days of readings
    monitoring_interval: timedelta = timedelta(days=30)
    sitting_gap: timedelta = SITTING_GAP  # BP readings of one meter less than this apart form one sitting

    @classmethod
    def from_settings(cls, settings: Settings) -> RuleSettings:
        """The rules as this county configured them."""
        return cls(
            thresholds=for_edition(settings.guideline_edition),
            window=timedelta(days=settings.assessment_window_days),
            monitoring_interval=timedelta(days=settings.monitoring_interval_days),
            sitting_gap=timedelta(minutes=settings.sitting_minutes),
        )


def sitting_verdict(*, bp: Sequence[Reading], critical: Reading, now: datetime, rules: RuleSettings) -> bool | None:
    """Whether the sitting that holds the `critical` BP reading confirmed it, among the patient's BP readings `bp`.

    None while the sitting may still grow: no later reading of the patient has closed it and its last reading is
    less than the sitting gap before `now`. Then True when the sitting's mean also meets the urgent criterion
    (SBP >= 180 or DBP >= 110), else False. A single reading alone in its sitting confirms itself.
    """
    th = rules.thresholds
    groups = sittings([*bp, critical] if critical not in bp else bp, rules.sitting_gap)
    at = next(i for i, group in enumerate(groups) if critical in group)
    if at == len(groups) - 1 and now - groups[at][-1].measured_at < rules.sitting_gap:
        return None
    sbp, dbp = sitting_mean(groups[at])
    return sbp >= th.bp_critical_systolic or dbp >= th.bp_critical_diastolic


def bp_target(profile: PatientProfile, th: Thresholds, *, on: datetime) -> BpTarget:
    """The BP target for this patient under the edition: by age first, then diabetes, then the general one."""
    age = profile.age_on(on.date())
    # Age before diabetes: the guideline's <130/80 with diabetes applies "if tolerated", while the older patients'
    # targets exist to guard against over-treatment (falls, hypotension), so an elderly diabetic keeps the age's.
    if age >= 80:
        return th.target_80_plus
    if age >= 65:
        return th.target_65_79
    if profile.diabetes and th.target_diabetes is not None:
        return th.target_diabetes
    return th.target_general


def assess(
    *,
    profile: PatientProfile,
    readings: Sequence[Reading],
    follow_ups: Sequence[FollowUp],
    now: datetime,
    rules: RuleSettings,
) -> Assessment:
    """The colour of one patient at `now`, with reason codes, a priority within the colour and the evidence."""
    summary = summarise(readings=readings, follow_ups=follow_ups, now=now, rules=rules)
    return decide(profile=profile, summary=summary, now=now, rules=rules)


def decide(*, profile: PatientProfile, summary: Summary, now: datetime, rules: RuleSettings) -> Assessment:
    """The colour of one patient at `now` from the summary of their readings and follow-ups."""
    reasons: dict[str, tuple[str, ...]] = {code: summary.urgent_evidence for code in summary.urgent_codes}
    classes = summary.last_classes
    if len(classes) == 2 and all(c is FollowUpClass.UNCONTROLLED for c in classes):
        reasons["uncontrolled_2x"] = ()
    if classes and classes[-1] is FollowUpClass.COMPLICATION:
        reasons["complication"] = ()
    if profile.diabetes and summary.heart_rate_evidence:
        reasons["heart_rate_high"] = summary.heart_rate_evidence
    if reasons:
        severity = max(summary.urgent_excess, 1.0) if "heart_rate_high" in reasons else summary.urgent_excess
        return _result(Colour.RED, reasons, severity)
    _yellow_reasons(reasons, profile=profile, s=summary, now=now, rules=rules)
    if reasons:
        return _result(Colour.YELLOW, reasons, _yellow_severity(reasons, profile, summary, now, rules))
    return _result(Colour.GREEN, {"at_target": summary.recent_evidence}, 0.0)


def _yellow_reasons(
    reasons: dict[str, tuple[str, ...]], *, profile: PatientProfile, s: Summary, now: datetime, rules: RuleSettings
) -> None:
    th = rules.thresholds
    if s.bp_count and s.sbp_mean is not None and s.dbp_mean is not None:
        target = bp_target(profile, th, on=now)
        if s.sbp_mean >= target.systolic or s.dbp_mean >= target.diastolic:
            reasons["bp_above_target"] = s.bp_evidence
        if (s.sitting_sbp_mean or 0) >= th.bp_grade2_systolic or (s.sitting_dbp_mean or 0) >= th.bp_grade2_diastolic:
            reasons["bp_grade2"] = s.sitting_evidence
    if profile.diabetes:
        if s.fasting_count and (s.fasting_mean or 0) >= th.fasting_glucose_target:
            reasons["glucose_fasting_high"] = s.fasting_evidence
        if s.nonfasting_count and (s.nonfasting_mean or 0) >= th.nonfasting_glucose_target:
            reasons["glucose_nonfasting_high"] = s.nonfasting_evidence
    record = profile.health_record
    if record is not None:
        if profile.diabetes and record.hba1c_percent is not None and record.hba1c_percent >= th.hba1c_target_percent:
            reasons["hba1c_above_target"] = ()
        if record.complications:
            reasons["complications_recorded"] = ()
    if _monitoring_gap(profile, s, now, rules):
        reasons["monitoring_gap"] = ()
    if _follow_up_overdue(profile, s, now, th):
        reasons["follow_up_overdue"] = ()


def _monitoring_gap(profile: PatientProfile, s: Summary, now: datetime, rules: RuleSettings) -> bool:
    since = now - rules.monitoring_interval
    if profile.registered_on is not None and profile.registered_on > since.date():
        return False  # newly registered: the first interval has not passed yet
    return (profile.hypertension and s.last_bp_at is None) or (profile.diabetes and s.last_glucose_at is None)


def _follow_up_overdue(profile: PatientProfile, s: Summary, now: datetime, th: Thresholds) -> bool:
    if s.last_done_on is not None:
        due = s.last_next_due or s.last_done_on + timedelta(days=th.routine_follow_up_days)
        return now.date() > due
    if profile.registered_on is None:
        return False
    return now.date() > profile.registered_on + timedelta(days=th.routine_follow_up_days)


def _yellow_severity(
    reasons: dict[str, tuple[str, ...]], profile: PatientProfile, s: Summary, now: datetime, rules: RuleSettings
) -> float:
    score = 10.0 * len(reasons)
    if reasons.get("bp_above_target") and s.sbp_mean is not None:
        score += max(s.sbp_mean - bp_target(profile, rules.thresholds, on=now).systolic, 0)
    return score


def _result(colour: Colour, reasons: dict[str, tuple[str, ...]], severity: float) -> Assessment:
    evidence = most_recent(item for items in reasons.values() for item in items)
    return Assessment(
        colour=colour,
        reasons=tuple(sorted(reasons)),
        priority=round(_BASE_PRIORITY[colour] + min(severity, 99.0), 2),
        evidence=tuple(evidence_key(item) for item in evidence),
    )
