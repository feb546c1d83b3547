"""What the rules need to know about a patient's readings and follow-ups as of `now`, in a few numbers.

The colour decision (assess.rules.decide) reads only this summary, so it can be computed two ways that must
agree: `summarise` here, over Reading objects (single cases, tests, `cdm assess --file`), and one SQL query over
the store for many patients at once (assess.repo.load_cases; a property test holds them equal).

Evidence items are "YYYYmmddHHMMSSffffff|device_uid:seq" (UTC): sorting them as text orders them by time, then
by reading, in Python and in SQL (collation "C") alike, so both pick the same ten most recent. A summary's
evidence lists hold the readings behind each criterion in any order, possibly more than EVIDENCE_MAX: the
decision names the EVIDENCE_MAX most recent of the criteria that fire, so the store's summary leaves the
sorting to the few lists a decision uses (`Summary.canonical` is how two summaries compare).

Sittings (clinical-reference §2: two readings 1-2 minutes apart at one sitting, averaged). A patient's BP readings
in the window, in evidence order (time, then "device_uid:seq"), fall into sittings: a reading joins the sitting of
the one before it when both came from the same meter and it was measured less than the sitting gap
(CDM_SITTING_MINUTES, default 10) after it; a reading from another meter, or one the gap or more later, starts a
new sitting. So a chain of readings each 9 minutes apart is one sitting, and 10:00 apart are two. Only readings
inside the window count (a sitting cut by the window's start keeps its readings inside). The BP means the rules
read are the means of the sitting means, summed newest sitting first (both paths add the same floats in the same
order, so they agree to the bit); glucose readings are taken one by one. A single reading still meets an urgent
criterion on its own: the red does not wait for its sitting (alerts.sittings records whether the sitting
confirmed it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING, Any

from cdm.domain import FollowUp, FollowUpClass, GlucoseContext, Reading, ReadingKind
from cdm.thresholds import LOOKBACK_DAYS, Thresholds

if TYPE_CHECKING:
    from assess.rules import RuleSettings

SITTING_GAP = timedelta(minutes=10)  # the default: BP readings of one meter less than this apart form one sitting
# Readings older than the routine follow-up period no longer decide a colour on their own: by then a follow-up is
# due anyway, and the monitoring-gap and overdue rules take over (assess.rules; the summary query reads no older).
LOOKBACK = timedelta(days=LOOKBACK_DAYS)
EVIDENCE_MAX = 10  # readings named per assessment; each evidence list keeps its most recent this many


@dataclass(frozen=True, slots=True)
class Summary:
    """The facts the colour rules read, as of one moment (means over the window; None/0 where nothing counts)."""

    urgent_codes: tuple[str, ...] = ()  # urgent criteria met by readings after the last follow-up, sorted
    urgent_excess: float = 0.0  # the largest excess over an urgent threshold among those readings
    urgent_evidence: tuple[str, ...] = ()
    bp_count: int = 0  # BP readings in the window
    bp_sittings: int = 0  # the sittings they form
    sbp_mean: float | None = None  # the mean of the sitting means
    dbp_mean: float | None = None
    bp_evidence: tuple[str, ...] = ()
    sitting_sbp_mean: float | None = None  # the latest sitting within the window
    sitting_dbp_mean: float | None = None
    sitting_evidence: tuple[str, ...] = ()
    fasting_count: int = 0
    fasting_mean: float | None = None
    fasting_evidence: tuple[str, ...] = ()
    nonfasting_count: int = 0
    nonfasting_mean: float | None = None
    nonfasting_evidence: tuple[str, ...] = ()
    recent_evidence: tuple[str, ...] = ()  # every reading in the window
    last_bp_at: datetime | None = None  # the latest BP reading within the monitoring interval
    last_glucose_at: datetime | None = None  # the latest glucose reading within the monitoring interval
    last_classes: tuple[FollowUpClass, ...] = ()  # the last two follow-ups' classes, oldest first
    last_done_on: date | None = None  # the last follow-up (by date, then by when it was recorded)
    last_next_due: date | None = None
    last_recorded_at: datetime | None = None
    # The latest urgent BP reading and the latest urgent glucose reading among those, for the reasons' figures.
    urgent_bp_at: datetime | None = None
    urgent_systolic: int | None = None
    urgent_diastolic: int | None = None
    urgent_glucose_at: datetime | None = None
    urgent_glucose_mmol: float | None = None
    urgent_glucose_flag: str | None = None  # "HI" / "LO" when the meter showed no number
    # The latest heart_rate_persist_readings readings with a pulse, when all are above the urgent rate and after
    # the last follow-up (else empty). Readings of any kind count; whether it matters (diabetes) the rules decide.
    heart_rate_evidence: tuple[str, ...] = ()

    def canonical(self) -> Summary:
        """The same facts with every evidence list cut to its EVIDENCE_MAX most recent items, newest first."""
        cut: dict[str, Any] = {name: most_recent(getattr(self, name)) for name in EVIDENCE_FIELDS}
        return replace(self, **cut)


EVIDENCE_FIELDS = tuple(name for name in Summary.__dataclass_fields__ if name.endswith("_evidence"))


def evidence_item(reading: Reading) -> str:
    """The sortable evidence item of one reading."""
    return f"{reading.measured_at.astimezone(UTC):%Y%m%d%H%M%S%f}|{reading.device_uid}:{reading.seq}"


def evidence_key(item: str) -> str:
    """The "device_uid:seq" an evidence item names."""
    return item.split("|", 1)[1]


def most_recent(items: Iterable[str]) -> tuple[str, ...]:
    """The EVIDENCE_MAX most recent distinct evidence items, newest first."""
    return tuple(sorted(set(items), reverse=True)[:EVIDENCE_MAX])


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
        level = hypo_level(reading, th)
        if level:
            found.add(level)
    return found


def hypo_level(reading: Reading, th: Thresholds) -> str | None:
    """The hypoglycaemia level (2022 diabetes guideline) of a low glucose reading; the meter's LO counts as level 2."""
    value = reading.glucose_mmol
    if reading.glucose_flag == "LO" or (value is not None and value < th.hypo_level2):
        return "glucose_hypo_level2"
    if value is not None and th.hypo_level2 <= value < th.hypo_level1:
        return "glucose_hypo_level1"
    return None


def heart_rate_high(readings: Sequence[Reading], last: FollowUp | None, th: Thresholds) -> tuple[str, ...]:
    """Evidence of a persisting high heart rate since the last follow-up: the latest pulses, or () if not met."""
    n = th.heart_rate_persist_readings
    latest = sorted((r for r in readings if r.pulse is not None), key=evidence_item)[-n:] if n > 0 else []
    fast = [
        r
        for r in latest
        if (r.pulse or 0) > th.heart_rate_urgent_per_min and (last is None or r.measured_at > last.recorded_at)
    ]
    if n < 1 or len(fast) < n:
        return ()
    return most_recent(map(evidence_item, latest))


def excess(reading: Reading, th: Thresholds) -> float:
    """How far beyond the urgent threshold a reading lies, in rough 'mmHg-equivalent' points."""
    if reading.kind is ReadingKind.BP:
        over = max(
            (reading.systolic or 0) - th.bp_critical_systolic, (reading.diastolic or 0) - th.bp_critical_diastolic
        )
        return max(over, 0) + 1.0
    if reading.glucose_flag:
        return 40.0
    value = reading.glucose_mmol or 0.0
    return max(value - th.glucose_critical_high, th.glucose_critical_low - value, 0) * 10 + 1.0


def sittings(bp: Sequence[Reading], gap: timedelta = SITTING_GAP) -> list[list[Reading]]:
    """BP readings grouped into sittings, oldest first: same meter, each less than `gap` after the one before."""
    groups: list[list[Reading]] = []
    for reading in sorted(bp, key=evidence_item):
        last = groups[-1][-1] if groups else None
        if last is not None and reading.device_uid == last.device_uid and reading.measured_at - last.measured_at < gap:
            groups[-1].append(reading)
        else:
            groups.append([reading])
    return groups


def latest_sitting(bp: Sequence[Reading], gap: timedelta = SITTING_GAP) -> list[Reading]:
    """The readings of the latest sitting (see `sittings`)."""
    groups = sittings(bp, gap)
    return groups[-1] if groups else []


def sitting_mean(sitting: Sequence[Reading]) -> tuple[float, float]:
    """The mean systolic and diastolic of one sitting."""
    return (
        sum(r.systolic or 0 for r in sitting) / len(sitting),
        sum(r.diastolic or 0 for r in sitting) / len(sitting),
    )


def mean_of_sittings(groups: Sequence[Sequence[Reading]]) -> tuple[float | None, float | None]:
    """The means of the sitting means, added newest sitting first one by one (the order the SQL path adds them)."""
    if not groups:
        return None, None
    sbp = dbp = 0.0
    for sitting in reversed(groups):
        s, d = sitting_mean(sitting)
        sbp += s
        dbp += d
    return sbp / len(groups), dbp / len(groups)


def summarise(
    *, readings: Sequence[Reading], follow_ups: Sequence[FollowUp], now: datetime, rules: RuleSettings
) -> Summary:
    """The summary of one patient's readings and follow-ups as of `now` (readings after `now`, or older than the
    lookback, are ignored: the store reads no further back)."""
    th = rules.thresholds
    oldest = now - max(LOOKBACK, rules.window, rules.monitoring_interval)
    past = [r for r in readings if oldest <= r.measured_at <= now]
    visits = sorted(follow_ups, key=lambda f: (f.done_on, f.recorded_at))
    last = visits[-1] if visits else None
    fresh = [r for r in past if last is None or r.measured_at > last.recorded_at]
    disproved = unconfirmed(fresh, now=now, th=th, gap=rules.sitting_gap)
    urgent = [(r, urgent_reasons(r, th)) for r in fresh if evidence_item(r) not in disproved]
    urgent = [(r, codes) for r, codes in urgent if codes]
    urgent_bp = max((r for r, _ in urgent if r.kind is ReadingKind.BP), key=evidence_item, default=None)
    urgent_glucose = max((r for r, _ in urgent if r.kind is ReadingKind.GLUCOSE), key=evidence_item, default=None)
    recent = [r for r in past if r.measured_at >= now - rules.window]
    bp = [r for r in recent if r.kind is ReadingKind.BP]
    groups = sittings(bp, rules.sitting_gap)
    sitting = groups[-1] if groups else []
    sbp_mean, dbp_mean = mean_of_sittings(groups)
    fasting, nonfasting = (
        [r for r in recent if r.glucose_context is ctx and r.glucose_mmol is not None]
        for ctx in (GlucoseContext.FASTING, GlucoseContext.NON_FASTING)
    )
    since = now - rules.monitoring_interval
    return Summary(
        urgent_codes=tuple(sorted({c for _, codes in urgent for c in codes})),
        urgent_excess=max((excess(r, th) for r, _ in urgent), default=0.0),
        urgent_evidence=most_recent(evidence_item(r) for r, _ in urgent),
        bp_count=len(bp),
        bp_sittings=len(groups),
        sbp_mean=sbp_mean,
        dbp_mean=dbp_mean,
        bp_evidence=most_recent(map(evidence_item, bp)),
        sitting_sbp_mean=_mean(r.systolic for r in sitting),
        sitting_dbp_mean=_mean(r.diastolic for r in sitting),
        sitting_evidence=most_recent(map(evidence_item, sitting)),
        fasting_count=len(fasting),
        fasting_mean=_mean(r.glucose_mmol for r in fasting),
        fasting_evidence=most_recent(map(evidence_item, fasting)),
        nonfasting_count=len(nonfasting),
        nonfasting_mean=_mean(r.glucose_mmol for r in nonfasting),
        nonfasting_evidence=most_recent(map(evidence_item, nonfasting)),
        recent_evidence=most_recent(map(evidence_item, recent)),
        last_bp_at=_latest(past, ReadingKind.BP, since),
        last_glucose_at=_latest(past, ReadingKind.GLUCOSE, since),
        last_classes=tuple(v.follow_up_class for v in visits[-2:]),
        last_done_on=last.done_on if last else None,
        last_next_due=last.next_due if last else None,
        last_recorded_at=last.recorded_at if last else None,
        urgent_bp_at=urgent_bp.measured_at if urgent_bp else None,
        urgent_systolic=urgent_bp.systolic if urgent_bp else None,
        urgent_diastolic=urgent_bp.diastolic if urgent_bp else None,
        urgent_glucose_at=urgent_glucose.measured_at if urgent_glucose else None,
        urgent_glucose_mmol=_float(urgent_glucose.glucose_mmol) if urgent_glucose else None,
        urgent_glucose_flag=urgent_glucose.glucose_flag if urgent_glucose else None,
        heart_rate_evidence=heart_rate_high(past, last, th),
    )


def unconfirmed(readings: Sequence[Reading], *, now: datetime, th: Thresholds, gap: timedelta) -> set[str]:
    """Evidence items of the BP readings whose complete sitting's mean is below the urgent criterion.

    clinical-reference §2-3: BP is measured two or three times at one sitting and the mean counts; a single urgent
    reading alerts at once, but once its sitting is complete (a later reading of the patient closed it, or the gap
    has passed since its last reading) and the mean stays below SBP 180 and DBP 110, the reading is not confirmed
    and the colour follows the mean. Integer sums, so both paths compare exactly. `readings`: those after the last
    follow-up (the ones that can be urgent).
    """
    groups = sittings([r for r in readings if r.kind is ReadingKind.BP], gap)
    out: set[str] = set()
    for i, group in enumerate(groups):
        if i == len(groups) - 1 and now - group[-1].measured_at < gap:
            continue  # still open: the red does not wait for it
        n = len(group)
        if (
            sum(r.systolic or 0 for r in group) < th.bp_critical_systolic * n
            and sum(r.diastolic or 0 for r in group) < th.bp_critical_diastolic * n
        ):
            out.update(evidence_item(r) for r in group)
    return out


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)  # the store's numeric comes as Decimal


def _mean(values: Iterable[float | int | None]) -> float | None:
    present = [v or 0 for v in values]
    return fmean(present) if present else None


def _latest(readings: Sequence[Reading], kind: ReadingKind, since: datetime) -> datetime | None:
    return max((r.measured_at for r in readings if r.kind is kind and r.measured_at >= since), default=None)
