"""The traffic-light rules (clinical-reference §3): a pure function of profile, readings, follow-ups and now.

red    an urgent reading (SBP >=180 or DBP >=110; glucose >=16.7 or <=3.9, or the meter's HI/LO; with the
       hypoglycaemia level) with no follow-up recorded since; heart rate >100/min persisting since the last
       follow-up (diabetes); "uncontrolled" at the last two follow-ups; a complication at the last follow-up
yellow recent mean BP (the mean of sitting means) not below the patient's target; grade-2 BP on the latest
       sitting; mean fasting glucose >=7.0 or <4.4, non-fasting >=10.0, HbA1c >=7.0 % (diabetes); for a managed
       disease no sitting / glucose reading within the window (green needs evidence), or none within the
       monitoring interval; follow-up overdue (due by the last visit's class, assess.schedule)
green  otherwise: at target on evidence, monitored, follow-ups on time. Old complications in the health record
       raise the priority within the colour, not the colour.

An urgent BP reading whose complete sitting's mean is below the urgent criterion no longer counts (the colour
follows the mean; assess.summary.logic.unconfirmed).

`assess` = `decide(summarise(...))`: the decision reads only a Summary (assess.summary.logic), which the store can
also compute for a whole county in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from assess import schedule
from assess.summary.logic import (
    EVIDENCE_MAX,
    LOOKBACK,
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
from cdm.thresholds import (
    ELDERLY_FROM_AGE,
    ROUTINE_FOLLOW_UP_DAYS,
    VERY_ELDERLY_FROM_AGE,
    BpTarget,
    Thresholds,
    for_edition,
)

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
_BASE_PRIORITY = {Colour.RED: 200.0, Colour.YELLOW: 100.0, Colour.GREEN: 0.0}
# Old complications in the health record: a raise within the colour (README, rules section)
COMPLICATIONS_PRIORITY = 5.0


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
    """The BP target for this patient under the edition (clinical-reference §2), by completed age and diabetes.

    With only a birth year the patient may be either of two ages: the stricter of the two targets applies.
    """
    targets = [_target_at(age, profile.diabetes, th) for age in profile.ages_on(on.date())]
    return BpTarget(min(t.systolic for t in targets), min(t.diastolic for t in targets))


def _target_at(age: int, diabetes: bool, th: Thresholds) -> BpTarget:
    by_age = (
        th.target_80_plus
        if age >= VERY_ELDERLY_FROM_AGE
        else th.target_65_79
        if age >= ELDERLY_FROM_AGE
        else th.target_general
    )
    if not diabetes:
        return by_age
    # With diabetes the diabetes target governs below 80 (<130/80: Chinese hypertension guideline 2018, primary-care
    # hypertension guideline 2020, CDS T2DM guideline 2020); an older diabetic's target is loosened to <140/90 at
    # most, never to the <150/90 of a non-diabetic elderly patient. An edition without a diabetes target (2017)
    # keeps its age target, with the same ceiling.
    loosest = th.target_diabetes_loosest
    if th.target_diabetes is not None and age < VERY_ELDERLY_FROM_AGE:
        return th.target_diabetes
    return BpTarget(min(by_age.systolic, loosest.systolic), min(by_age.diastolic, loosest.diastolic))


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
    s = summary
    found = _Found()
    for code in s.urgent_codes:
        found.add(code, s.urgent_evidence, **_urgent_facts(code, s))
    classes = s.last_classes
    if len(classes) == 2 and all(c is FollowUpClass.UNCONTROLLED for c in classes):
        found.add("uncontrolled_2x")
    if classes and classes[-1] is FollowUpClass.COMPLICATION:
        found.add("complication")
    if profile.diabetes and s.heart_rate_evidence:
        found.add("heart_rate_high", s.heart_rate_evidence)
    if found.reasons:
        severity = max(s.urgent_excess, 1.0) if "heart_rate_high" in found.reasons else s.urgent_excess
        return _result(Colour.RED, found, severity)
    case = _Case(profile, s, now, rules)
    _yellow_reasons(found, case)
    # Old complications in the health record raise the priority within the colour, not the colour: the 2017
    # specification counts a visit "controlled" when no complication is new or worse, so a stable old one is
    # routine follow-up (README, rules section).
    raise_by = COMPLICATIONS_PRIORITY if profile.health_record and profile.health_record.complications else 0.0
    if found.reasons:
        return _result(Colour.YELLOW, found, _yellow_severity(found, case) + raise_by)
    found.add("at_target", s.recent_evidence)
    return _result(Colour.GREEN, found, raise_by)


@dataclass(slots=True)
class _Found:
    """The reasons found so far: each code with the readings that show it and the facts its words need."""

    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, code: str, evidence: tuple[str, ...] = (), **facts: Any) -> None:
        self.reasons[code] = evidence
        if facts:
            self.facts[code] = facts


class _Case(NamedTuple):
    """What the yellow rules read: the patient, their summary, the moment and the county's rules."""

    profile: PatientProfile
    s: Summary
    now: datetime
    rules: RuleSettings


def _urgent_facts(code: str, s: Summary) -> dict[str, Any]:
    if code == "bp_critical" and s.urgent_bp_at is not None:
        return {"sbp": s.urgent_systolic, "dbp": s.urgent_diastolic, "at": s.urgent_bp_at.isoformat()}
    if code.startswith("glucose_") and s.urgent_glucose_at is not None:
        return {"mmol": s.urgent_glucose_mmol, "flag": s.urgent_glucose_flag, "at": s.urgent_glucose_at.isoformat()}
    return {}


def _yellow_reasons(found: _Found, case: _Case) -> None:
    profile, s, now, rules = case
    th = rules.thresholds
    days = rules.window.days
    if s.bp_count and s.sbp_mean is not None and s.dbp_mean is not None:
        target = bp_target(profile, th, on=now)
        if s.sbp_mean >= target.systolic or s.dbp_mean >= target.diastolic:
            found.add(
                "bp_above_target",
                s.bp_evidence,
                days=days,
                sbp=shown_mean(s.sbp_mean, target.systolic),
                dbp=shown_mean(s.dbp_mean, target.diastolic),
                target_sbp=target.systolic,
                target_dbp=target.diastolic,
                why=_target_why(profile, th, now, target),
            )
        if (s.sitting_sbp_mean or 0) >= th.bp_grade2_systolic or (s.sitting_dbp_mean or 0) >= th.bp_grade2_diastolic:
            found.add(
                "bp_grade2", s.sitting_evidence, sbp=round(s.sitting_sbp_mean or 0), dbp=round(s.sitting_dbp_mean or 0)
            )
    if profile.diabetes:
        _glucose_reasons(found, s, th, days)
    record = profile.health_record
    hba1c = record.hba1c_percent if record is not None and profile.diabetes else None
    if hba1c is not None and hba1c >= th.hba1c_target_percent:
        found.add("hba1c_above_target", value=hba1c)
    _evidence_reasons(found, case)
    due = _follow_up_due(profile, s)
    if due is not None and now.date() > due:
        found.add("follow_up_overdue", due=due.isoformat(), days=(now.date() - due).days)


def _glucose_reasons(found: _Found, s: Summary, th: Thresholds, days: int) -> None:
    # Capillary fasting target 4.4-7.0 mmol/L, non-fasting <10.0 (CDS T2DM guideline 2020; 2022 primary-care
    # diabetes guideline). Below 4.4 is not hypoglycaemia (<3.9, urgent) but off target: yellow.
    if s.fasting_count and s.fasting_mean is not None:
        if s.fasting_mean >= th.fasting_glucose_target:
            found.add("glucose_fasting_high", s.fasting_evidence, days=days, mean=round(s.fasting_mean, 1))
        elif s.fasting_mean < th.fasting_glucose_low:
            found.add("glucose_fasting_low", s.fasting_evidence, days=days, mean=round(s.fasting_mean, 1))
    if s.nonfasting_count and s.nonfasting_mean is not None and s.nonfasting_mean >= th.nonfasting_glucose_target:
        found.add("glucose_nonfasting_high", s.nonfasting_evidence, days=days, mean=round(s.nonfasting_mean, 1))


def _evidence_reasons(found: _Found, case: _Case) -> None:
    """Green needs evidence (clinical-reference §3): for each managed disease a sitting (BP) or a reading (glucose)
    inside the window the means are taken over; without one the patient is yellow, with how long it has been.
    Beyond the monitoring interval the older monitoring_gap says so instead (not for the newly registered)."""
    profile, s, now, rules = case
    new = profile.registered_on is not None and profile.registered_on > (now - rules.monitoring_interval).date()
    checks = (
        (profile.hypertension, s.bp_count, s.last_bp_at, "bp"),
        (profile.diabetes, s.fasting_count + s.nonfasting_count, s.last_glucose_at, "glucose"),
    )
    gap = False
    for managed, count, last_at, kind in checks:
        if not managed or count:
            continue
        if last_at is None and not new:
            gap = True
            continue
        since = None if last_at is None else (now - last_at).days
        found.add(f"{kind}_not_recent", since_days=since, days=rules.window.days)
    if gap:
        found.add("monitoring_gap", days=rules.monitoring_interval.days)


def shown_mean(mean: float, target: int) -> int:
    """A mean to whole mmHg as the reason shows it, never rounded up onto a target it is below (79.7 against <80
    reads 79, not 80: the words must not contradict the decision, which compares the unrounded mean)."""
    shown = round(mean)
    return target - 1 if mean < target <= shown else shown


def _target_why(profile: PatientProfile, th: Thresholds, now: datetime, target: BpTarget) -> str:
    """Which row of the targets applies, as a catalogue key suffix (assess.reasons words it)."""
    if profile.diabetes:
        return "diabetes"
    age = min(profile.ages_on(now.date()))
    if age >= VERY_ELDERLY_FROM_AGE:
        return "age_80"
    if age >= ELDERLY_FROM_AGE and target == th.target_65_79:
        return "age_65"
    return "general"


def _follow_up_due(profile: PatientProfile, s: Summary) -> date | None:
    """The next visit's due date: the last visit's (assess.schedule, as production records it), else a routine
    period after registration."""
    if s.last_done_on is not None and s.last_classes:
        return schedule.next_due(s.last_classes[-1], s.last_done_on, s.last_next_due)
    if profile.registered_on is None:
        return None
    return profile.registered_on + timedelta(days=ROUTINE_FOLLOW_UP_DAYS)


def _yellow_severity(found: _Found, case: _Case) -> float:
    profile, s, now, rules = case
    score = 10.0 * len(found.reasons)
    if found.reasons.get("bp_above_target") and s.sbp_mean is not None:
        score += max(s.sbp_mean - bp_target(profile, rules.thresholds, on=now).systolic, 0)
    return score


def _result(colour: Colour, found: _Found, severity: float) -> Assessment:
    reasons, facts = found.reasons, found.facts
    evidence = most_recent(item for items in reasons.values() for item in items)
    return Assessment(
        colour=colour,
        reasons=tuple(sorted(reasons)),
        priority=round(_BASE_PRIORITY[colour] + min(severity, 99.0), 2),
        evidence=tuple(evidence_key(item) for item in evidence),
        facts={code: facts[code] for code in sorted(reasons) if facts.get(code)},
    )
