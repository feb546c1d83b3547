"""SQL of the scoring stage's summary: models.summary.Summary for many patients at once, from the store.

The thresholds are bound parameters taken from the same Thresholds object the Python rules read
(cdm.thresholds), so both sides of the property test in tests/models/test_summary_sql.py use one set of numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from cdm.domain import FollowUpClass, PatientProfile
from models.summary import EVIDENCE_MAX, SITTING_GAP, Summary, most_recent


@dataclass(frozen=True, slots=True)
class SummaryParams:
    """The moments and thresholds one summary query is bound to."""

    now: datetime
    lookback: timedelta  # urgent readings older than this are not read
    window: timedelta
    monitoring_interval: timedelta
    bp_critical_systolic: int
    bp_critical_diastolic: int
    glucose_critical_high: float
    glucose_critical_low: float

    def bound(self) -> dict[str, object]:
        now = self.now
        return {
            "now": now,
            "lookback": now - max(self.lookback, self.window, self.monitoring_interval),
            "recent": now - max(self.window, self.monitoring_interval),
            "window": now - self.window,
            "interval": now - self.monitoring_interval,
            "cs": self.bp_critical_systolic,
            "cd": self.bp_critical_diastolic,
            "gh": float(self.glucose_critical_high),
            "gl": float(self.glucose_critical_low),
            "gap": SITTING_GAP,
            "top": EVIDENCE_MAX,
        }


# r: the readings that can matter (the recent ones, and urgent ones back to the lookback), each with its
# sortable evidence item and urgent code; u: urgent readings after the last follow-up; b/bs: BP in the window
# and its latest sitting (a break wherever the meter changes or more than the sitting gap passes); a: glucose
# in the window, every recent reading, and the last reading of each kind within the monitoring interval.
SUMMARY_SQL = """
with v as (
    select patient_id, done_on, class, recorded_at, next_due,
           row_number() over (partition by patient_id order by done_on desc, recorded_at desc, id desc) as k
    from follow_up where {sel_f}
), lv as (
    select patient_id, max(class) filter (where k = 1) as class1, max(class) filter (where k = 2) as class2,
           max(done_on) filter (where k = 1) as done_on, max(next_due) filter (where k = 1) as next_due,
           max(recorded_at) filter (where k = 1) as recorded_at
    from v where k <= 2 group by patient_id
), r as materialized (
    select r.patient_id as pid, r.measured_at as t, r.kind, r.device_id, r.systolic, r.diastolic,
           r.glucose_context as ctx, r.glucose_mmol::text::float8 as g, r.glucose_flag as flag,
           (to_char(r.measured_at at time zone 'UTC', 'YYYYMMDDHH24MISSUS') || '|' || d.uid || ':' || r.seq)
               collate "C" as ev,
           case when r.kind = 'bp' then
                    case when coalesce(r.systolic, 0) >= %(cs)s or coalesce(r.diastolic, 0) >= %(cd)s
                         then 'bp_critical' end
                when r.glucose_flag = 'HI' or coalesce(r.glucose_mmol::text::float8, 0) >= %(gh)s
                    then 'glucose_high_critical'
                when r.glucose_flag = 'LO' or r.glucose_mmol::text::float8 <= %(gl)s then 'glucose_hypo' end as code
    from reading r join device d on d.id = r.device_id
    where {sel_r} and r.measured_at >= %(lookback)s and r.measured_at <= %(now)s
      and (r.measured_at >= %(recent)s or r.systolic >= %(cs)s or r.diastolic >= %(cd)s
           or r.glucose_flag is not null or r.glucose_mmol::text::float8 >= %(gh)s
           or r.glucose_mmol::text::float8 <= %(gl)s)
), u as (
    select r.pid, array_agg(distinct r.code) as codes, array_agg(r.ev) as ev,
           max(case when r.kind = 'bp'
                    then greatest(coalesce(r.systolic, 0) - %(cs)s, coalesce(r.diastolic, 0) - %(cd)s, 0) + 1.0
                    when r.flag is not null then 40.0
                    else greatest(coalesce(r.g, 0) - %(gh)s, %(gl)s - coalesce(r.g, 0), 0) * 10 + 1.0
               end) as excess
    from r left join lv on lv.patient_id = r.pid
    where r.code is not null and (lv.recorded_at is null or r.t > lv.recorded_at)
    group by r.pid
), b as (
    select pid, systolic, diastolic, ev,
           sum(brk) over (partition by pid order by ev desc rows unbounded preceding) as brks
    from (select pid, systolic, diastolic, ev,
                 case when lag(device_id) over w <> device_id or lag(t) over w - t > %(gap)s then 1 else 0 end as brk
          from r where kind = 'bp' and t >= %(window)s window w as (partition by pid order by ev desc)) x
), bs as (
    select pid, count(*) as n, sum(systolic) as ssum, sum(diastolic) as dsum,
           (array_agg(ev order by ev desc))[1:%(top)s] as ev,
           count(*) filter (where brks = 0) as sn, sum(systolic) filter (where brks = 0) as sssum,
           sum(diastolic) filter (where brks = 0) as sdsum,
           (array_agg(ev order by ev desc) filter (where brks = 0))[1:%(top)s] as sev
    from b group by pid
), a as (
    select pid,
           count(*) filter (where ctx = 'fasting' and g is not null and t >= %(window)s) as fn,
           array_agg(g) filter (where ctx = 'fasting' and g is not null and t >= %(window)s) as fm,
           array_agg(ev) filter (where ctx = 'fasting' and g is not null and t >= %(window)s) as fev,
           count(*) filter (where ctx = 'non_fasting' and g is not null and t >= %(window)s) as nn,
           array_agg(g) filter (where ctx = 'non_fasting' and g is not null and t >= %(window)s) as nm,
           array_agg(ev) filter (where ctx = 'non_fasting' and g is not null and t >= %(window)s) as nev,
           array_agg(ev) filter (where t >= %(window)s) as rev,
           max(t) filter (where kind = 'bp' and t >= %(interval)s) as lbp,
           max(t) filter (where kind = 'glucose' and t >= %(interval)s) as lg
    from r where t >= %(recent)s group by pid
)
select p.id, p.sex, p.birth_year, p.hypertension, p.diabetes, p.registered_at::date,
       u.codes, u.excess, u.ev, bs.n, bs.ssum, bs.dsum, bs.ev, bs.sn, bs.sssum, bs.sdsum, bs.sev,
       a.fn, a.fm, a.fev, a.nn, a.nm, a.nev, a.rev, a.lbp, a.lg,
       lv.class1, lv.class2, lv.done_on, lv.next_due, lv.recorded_at
from patient p left join u on u.pid = p.id left join bs on bs.pid = p.id left join a on a.pid = p.id
     left join lv on lv.patient_id = p.id
where {sel_p}
order by p.id
"""


def case_from_row(row: tuple[Any, ...]) -> tuple[PatientProfile, Summary]:
    """A patient's profile and summary from one row of SUMMARY_SQL."""
    (pid, sex, birth_year, htn, dm, registered, codes, excess, uev, n, ssum, dsum, bev, sn, sssum, sdsum, sev,
     fn, fm, fev, nn, nm, nev, rev, lbp, lg, class1, class2, done_on, next_due, recorded_at) = row  # fmt: skip
    classes = tuple(FollowUpClass(c) for c in (class2, class1) if c is not None)
    summary = Summary(
        urgent_codes=tuple(sorted(codes)) if codes else (),
        urgent_excess=float(excess) if excess is not None else 0.0,
        urgent_evidence=most_recent(uev) if uev else (),
        bp_count=n or 0,
        sbp_mean=ssum / n if n else None,
        dbp_mean=dsum / n if n else None,
        bp_evidence=tuple(bev) if bev else (),
        sitting_sbp_mean=sssum / sn if sn else None,
        sitting_dbp_mean=sdsum / sn if sn else None,
        sitting_evidence=tuple(sev) if sev else (),
        fasting_count=fn or 0,
        fasting_mean=fmean(fm) if fm else None,  # fmean, as summarise: the same rounding
        fasting_evidence=most_recent(fev) if fev else (),
        nonfasting_count=nn or 0,
        nonfasting_mean=fmean(nm) if nm else None,
        nonfasting_evidence=most_recent(nev) if nev else (),
        recent_evidence=most_recent(rev) if rev else (),
        last_bp_at=lbp,
        last_glucose_at=lg,
        last_classes=classes,
        last_done_on=done_on,
        last_next_due=next_due,
        last_recorded_at=recorded_at,
    )
    return PatientProfile(pid, sex, birth_year, htn, dm, registered), summary
