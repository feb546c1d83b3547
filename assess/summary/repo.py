"""SQL of the scoring stage's summary: assess.summary.Summary for many patients at once, from the store.

The thresholds are bound parameters taken from the same Thresholds object the Python rules read
(cdm.thresholds), so both sides of the property test in tests/assess/test_summary_sql.py use one set of numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any

from assess.rules import RuleSettings
from assess.summary.logic import EVIDENCE_MAX, LOOKBACK, Summary
from cdm.domain import FollowUpClass, HealthRecord, PatientProfile


@dataclass(frozen=True, slots=True)
class SummaryParams:
    """The moment and the rules one summary query is bound to: the thresholds are the rules' edition's, the same
    object the Python rules read."""

    now: datetime
    rules: RuleSettings

    def bound(self) -> dict[str, object]:
        now, rules, th = self.now, self.rules, self.rules.thresholds
        return {
            "now": now,
            "lookback": now - max(LOOKBACK, rules.window, rules.monitoring_interval),
            "recent": now - max(rules.window, rules.monitoring_interval),
            "window": now - rules.window,
            "interval": now - rules.monitoring_interval,
            "cs": th.bp_critical_systolic,
            "cd": th.bp_critical_diastolic,
            "gh": float(th.glucose_critical_high),
            "gl": float(th.glucose_critical_low),
            "h1": float(th.hypo_level1),
            "h2": float(th.hypo_level2),
            "hr": th.heart_rate_urgent_per_min,
            "hn": th.heart_rate_persist_readings,
            "gap": rules.sitting_gap,
            "top": EVIDENCE_MAX,
        }


# r: the readings that can matter (the recent ones; urgent ones, and ones with a pulse after the last follow-up,
# back to the lookback), each with its sortable evidence item and urgent code; u: urgent readings after the last
# follow-up, with the hypoglycaemia level; b/bs: BP in the window, its sittings (a break wherever the meter changes
# or the sitting gap or more passes; assess.summary.logic) and the latest one. Each sitting's mean is read at its oldest
# reading (`last`, in newest-first order) from running sums: the sums there less the sums at the previous sitting's
# oldest reading; all windows share r's order, so none sorts. The means of the sittings are added newest first, as
# summarise adds them; a: glucose in the window, every recent reading, and the last
# reading of each kind within the monitoring interval; x: the latest pulses after the last follow-up. r comes
# ordered by patient and evidence (the index gives most of it), so none of the parts that read it sorts again.
# fs/dis/ru: BP readings after the last follow-up in sittings (sid 0 the latest), the sittings complete with a mean
# below the urgent criterion (assess.summary.logic.unconfirmed: integer sums), and the urgent readings less those.
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
    select r.patient_id as pid, r.measured_at as t, r.kind, r.device_id, r.systolic, r.diastolic, r.pulse,
           r.glucose_context as ctx, r.glucose_mmol::text::float8 as g, r.glucose_flag as flag,
           (to_char(r.measured_at at time zone 'UTC', 'YYYYMMDDHH24MISSUS') || '|' || coalesce(d.uid, r.source)
               || ':' || r.seq) collate "C" as ev,
           case when r.kind = 'bp' then
                    case when coalesce(r.systolic, 0) >= %(cs)s or coalesce(r.diastolic, 0) >= %(cd)s
                         then 'bp_critical' end
                when r.glucose_flag = 'HI' or coalesce(r.glucose_mmol::text::float8, 0) >= %(gh)s
                    then 'glucose_high_critical'
                when r.glucose_flag = 'LO' or r.glucose_mmol::text::float8 <= %(gl)s then 'glucose_hypo' end as code,
           r.measured_at > coalesce(lv.recorded_at, '-infinity') as after_fu
    from reading r left join device d on d.id = r.device_id left join lv on lv.patient_id = r.patient_id
    where {sel_r} and r.measured_at >= %(lookback)s and r.measured_at <= %(now)s
      and (r.measured_at >= %(recent)s or r.systolic >= %(cs)s or r.diastolic >= %(cd)s
           or r.glucose_flag is not null or r.glucose_mmol::text::float8 >= %(gh)s
           or r.glucose_mmol::text::float8 <= %(gl)s
           or ((r.pulse is not null or r.kind = 'bp') and r.measured_at > coalesce(lv.recorded_at, '-infinity')))
    order by r.patient_id, ev desc
), fs as (
    select pid, ev, t, systolic, diastolic, sum(brk) over (partition by pid order by ev desc rows unbounded preceding)
               as sid
    from (select pid, ev, t, systolic, diastolic,
                 case when lag(device_id) over w <> device_id or lag(t) over w - t >= %(gap)s then 1 else 0 end as brk
          from r where kind = 'bp' and after_fu window w as (partition by pid order by ev desc)) z
), dis as (
    select pid, sid from fs group by pid, sid
    having (sid > 0 or max(t) <= %(now)s::timestamptz - %(gap)s::interval)
       and sum(coalesce(systolic, 0)) < %(cs)s * count(*) and sum(coalesce(diastolic, 0)) < %(cd)s * count(*)
), ru as (
    select * from r
    where code is not null and after_fu
      and not exists (select 1 from fs join dis on dis.pid = fs.pid and dis.sid = fs.sid
                      where fs.pid = r.pid and fs.ev = r.ev)
), u as (
    select pid, array_agg(distinct code) || array_remove(array_agg(distinct
               case when code <> 'glucose_hypo' then null
                    when flag = 'LO' or g < %(h2)s then 'glucose_hypo_level2'
                    when g >= %(h2)s and g < %(h1)s then 'glucose_hypo_level1' end), null) as codes,
           array_agg(ev) as ev,
           max(case when kind = 'bp'
                    then greatest(coalesce(systolic, 0) - %(cs)s, coalesce(diastolic, 0) - %(cd)s, 0) + 1.0
                    when flag is not null then 40.0
                    else greatest(coalesce(g, 0) - %(gh)s, %(gl)s - coalesce(g, 0), 0) * 10 + 1.0
               end) as excess,
           max(t) filter (where kind = 'bp') as ubt,
           (array_agg(systolic order by ev desc) filter (where kind = 'bp'))[1] as ubs,
           (array_agg(diastolic order by ev desc) filter (where kind = 'bp'))[1] as ubd,
           max(t) filter (where kind = 'glucose') as ugt,
           (array_agg(g order by ev desc) filter (where kind = 'glucose'))[1] as ugv,
           (array_agg(flag order by ev desc) filter (where kind = 'glucose'))[1] as ugf
    from ru group by pid
), b as (
    select pid, systolic, diastolic, ev, brks,
           case when last then (cs - coalesce(max(cs) filter (where last) over wp, 0))::float8
                               / (cn - coalesce(max(cn) filter (where last) over wp, 0))::float8 end as sm,
           case when last then (cd - coalesce(max(cd) filter (where last) over wp, 0))::float8
                               / (cn - coalesce(max(cn) filter (where last) over wp, 0))::float8 end as dm
    from (select pid, systolic, diastolic, ev,
                 sum(brk) over w as brks, coalesce(lead(brk) over w, 1) = 1 as last,
                 sum(coalesce(systolic, 0)) over w as cs, sum(coalesce(diastolic, 0)) over w as cd,
                 row_number() over w as cn
          from (select pid, systolic, diastolic, ev,
                       case when lag(device_id) over w <> device_id or lag(t) over w - t >= %(gap)s
                            then 1 else 0 end as brk
                from r where kind = 'bp' and t >= %(window)s window w as (partition by pid order by ev desc)) x
          window w as (partition by pid order by ev desc rows unbounded preceding)) y
    window wp as (partition by pid order by ev desc rows between unbounded preceding and 1 preceding)
), bs as (
    select pid, count(*) as n, count(sm) as sc, sum(sm order by ev desc) as smsum,
           sum(dm order by ev desc) as dmsum,
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
), x as (
    select pid, array_agg(ev) as ev
    from (select pid, ev, pulse, row_number() over (partition by pid order by ev desc) as k
          from r where pulse is not null and after_fu) p
    where k <= %(hn)s group by pid having count(*) = %(hn)s and bool_and(pulse > %(hr)s)
)
select p.id, p.sex, p.birth_year, p.hypertension, p.diabetes, p.registered_at::date, h.patient_id is not null,
       h.birth_date, h.total_cholesterol_mmol, h.hdl_mmol, h.waist_cm, h.smoker, h.family_history_ascvd, h.urban,
       h.north, h.hba1c_percent, h.on_bp_treatment, h.complications, h.updated_at,
       u.codes, u.excess, u.ev, bs.n, bs.sc, bs.smsum, bs.dmsum, bs.ev, bs.sn, bs.sssum, bs.sdsum, bs.sev,
       a.fn, a.fm, a.fev, a.nn, a.nm, a.nev, a.rev, a.lbp, a.lg,
       lv.class1, lv.class2, lv.done_on, lv.next_due, lv.recorded_at,
       u.ubt, u.ubs, u.ubd, u.ugt, u.ugv, u.ugf, x.ev
from patient p left join u on u.pid = p.id left join bs on bs.pid = p.id left join a on a.pid = p.id
     left join lv on lv.patient_id = p.id left join x on x.pid = p.id
     left join health_record h on h.patient_id = p.id
where {sel_p}
order by p.id
"""
RECORD_FIELDS = (
    "birth_date",
    "total_cholesterol_mmol",
    "hdl_mmol",
    "waist_cm",
    "smoker",
    "family_history_ascvd",
    "urban",
    "north",
    "hba1c_percent",
    "on_bp_treatment",
    "complications",
    "updated_at",
)
_PROFILE_COLUMNS = 7 + len(RECORD_FIELDS)
# The health-record columns every query that builds a HealthRecord selects, in RECORD_FIELDS order.
RECORD_SELECT = "h.patient_id is not null, " + ", ".join(f"h.{name}" for name in RECORD_FIELDS)


def health_record_from(has_record: bool, fields: Sequence[Any]) -> HealthRecord | None:
    """The HealthRecord from RECORD_SELECT's columns (None when the patient has no record)."""
    if not has_record:
        return None
    values = dict(zip(RECORD_FIELDS, fields, strict=True))
    return HealthRecord(**{**values, "complications": tuple(values["complications"] or ())})


def case_from_row(row: tuple[Any, ...]) -> tuple[PatientProfile, Summary]:
    """A patient's profile (with the health record, if any) and summary from one row of SUMMARY_SQL."""
    pid, sex, birth_year, htn, dm, registered, has_record, *fields = row[:_PROFILE_COLUMNS]
    record = health_record_from(has_record, fields)
    return PatientProfile(pid, sex, birth_year, htn, dm, registered, record), summary_from_row(row[_PROFILE_COLUMNS:])


_CLASSES = {c.value: c for c in FollowUpClass}  # a dict lookup: FollowUpClass(value) costs ~1 µs a call


def summary_from_row(row: tuple[Any, ...]) -> Summary:
    """The Summary from the summary columns of one row of SUMMARY_SQL (evidence lists as the store gave them)."""
    (codes, excess, uev, n, sc, smsum, dmsum, bev, sn, sssum, sdsum, sev, fn, fm, fev, nn, nm, nev, rev, lbp, lg,
     class1, class2, done_on, next_due, recorded_at, ubt, ubs, ubd, ugt, ugv, ugf, hev) = row  # fmt: skip
    return Summary(
        urgent_codes=tuple(sorted(set(codes))) if codes else (),
        urgent_excess=float(excess) if excess is not None else 0.0,
        urgent_evidence=tuple(uev) if uev else (),
        bp_count=n or 0,
        bp_sittings=sc or 0,
        sbp_mean=smsum / sc if sc else None,
        dbp_mean=dmsum / sc if sc else None,
        bp_evidence=tuple(bev) if bev else (),
        sitting_sbp_mean=sssum / sn if sn else None,
        sitting_dbp_mean=sdsum / sn if sn else None,
        sitting_evidence=tuple(sev) if sev else (),
        fasting_count=fn or 0,
        fasting_mean=fmean(fm) if fm else None,  # fmean, as summarise: the same rounding
        fasting_evidence=tuple(fev) if fev else (),
        nonfasting_count=nn or 0,
        nonfasting_mean=fmean(nm) if nm else None,
        nonfasting_evidence=tuple(nev) if nev else (),
        recent_evidence=tuple(rev) if rev else (),
        last_bp_at=lbp,
        last_glucose_at=lg,
        last_classes=(_CLASSES[class2], _CLASSES[class1])
        if class2 is not None
        else (_CLASSES[class1],)
        if class1 is not None
        else (),
        last_done_on=done_on,
        last_next_due=next_due,
        last_recorded_at=recorded_at,
        urgent_bp_at=ubt,
        urgent_systolic=ubs,
        urgent_diastolic=ubd,
        urgent_glucose_at=ugt,
        urgent_glucose_mmol=ugv,
        urgent_glucose_flag=ugf,
        heart_rate_evidence=tuple(hev) if hev else (),
    )
