"""SQL of the monthly report: the screens' own indicator query (dashboard.indicators.repo) run over the patients'
activity as it stood at the month's end instead of the live summary, and the month's counts; scoped as the screens.

`activity_as_of` has the columns of `patient_activity` (migration 0021, cdm_refresh_patient_activity), computed
from readings and follow-ups up to the moment; the indicator query itself is reused unchanged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from dashboard.access import Principal
from dashboard.indicators.logic import NAMES, YEAR_DAYS, Indicator
from dashboard.indicators.repo import _BY_TOWNSHIP, _values
from dashboard.report.logic import Area, Period
from dashboard.scope import patient_scope, place_scope

_ACTIVITY_AS_OF = """
with recent as (
    select patient_id, measured_at, kind, systolic, diastolic, glucose_context,
           case glucose_flag when 'HI' then 'Infinity'::real when 'LO' then 0::real else glucose_mmol end as glucose
    from reading
    where patient_id is not null and measured_at > %(activity_since)s and measured_at <= %(now)s
),
latest_any as (select patient_id, max(measured_at) as measured_at from recent group by patient_id),
latest_bp as (
    select distinct on (patient_id) patient_id, measured_at, systolic, diastolic from recent
    where kind = 'bp' and systolic is not null and diastolic is not null order by patient_id, measured_at desc
),
latest_fasting as (
    select distinct on (patient_id) patient_id, measured_at, glucose from recent
    where kind = 'glucose' and glucose_context = 'fasting' and glucose is not null order by patient_id, measured_at desc
),
visits as (
    select patient_id, max(done_on) as last_on,
           count(distinct done_on) filter (where done_on > %(as_of_day)s - 365) as n
    from follow_up where done_on <= %(as_of_day)s group by patient_id
),
activity_as_of as (
    select coalesce(la.patient_id, v.patient_id) as patient_id, la.measured_at as last_reading_at,
           b.measured_at as last_bp_at, b.systolic as last_systolic, b.diastolic as last_diastolic,
           f.measured_at as last_fasting_at, f.glucose as last_fasting_mmol, v.last_on as last_follow_up_on,
           coalesce(v.n, 0)::integer as follow_ups_12m
    from latest_any la
    full join visits v on v.patient_id = la.patient_id
    left join latest_bp b on b.patient_id = la.patient_id
    left join latest_fasting f on f.patient_id = la.patient_id
)
"""

_COUNTS = """
select pl.township_id,
    count(*) filter (where p.registered_at <= %(now)s),
    count(*) filter (where p.registered_at <= %(now)s and p.hypertension),
    count(*) filter (where p.registered_at <= %(now)s and p.diabetes),
    coalesce(sum((select count(*) from follow_up f where f.patient_id = p.id
                  and f.done_on >= %(first_day)s and f.done_on <= %(as_of_day)s)), 0)
from patient p
join region v on v.id = p.village_id
cross join lateral (select case v.level when 'township' then v.id else v.parent_id end as township_id) pl
join region t on t.id = pl.township_id
where t.parent_id = %(scope_county)s and {scope}
group by 1
"""

_TOWNSHIPS = """
select t.id, t.name from region t
where t.level = 'township' and t.parent_id = %(scope_county)s and {scope} order by t.code
"""


def _params(period: Period) -> dict[str, Any]:
    local_day = period.as_of.astimezone(period.start.tzinfo).date()
    return {
        **_values(period.as_of),
        # the live summary keeps the latest reading of all time; older than a year no window looks at it
        "activity_since": period.as_of - timedelta(days=YEAR_DAYS + 1),
        "as_of_day": local_day,
        "first_day": period.start.date(),
    }


def areas(conn: psycopg.Connection, *, principal: Principal, period: Period) -> dict[int, Area]:
    """Each township's figures (of the patients `principal` may see) for the period, by township region id."""
    params = _params(period)
    scope, scope_params = patient_scope(principal, township_col="pl.township_id", team_col="p.team_id")
    place, place_params = place_scope(principal, township_col="t.id")
    params |= scope_params
    out = {int(i): Area(name) for i, name in conn.execute(_TOWNSHIPS.format(scope=place), {**params, **place_params})}
    query = _ACTIVITY_AS_OF + _BY_TOWNSHIP.format(scope=scope).replace("patient_activity a", "activity_as_of a")
    for row in conn.execute(query, params):
        area = out.setdefault(int(row[0]), Area(str(row[0])))
        for i, name in enumerate(NAMES):
            area.indicators[name] = area.indicators[name] + Indicator(int(row[2 + 2 * i]), int(row[3 + 2 * i]))
    for township, managed, htn, dm, visits in conn.execute(_COUNTS.format(scope=scope), params):
        area = out.setdefault(int(township), Area(str(township)))
        area.counts.update(
            managed=int(managed), managed_hypertension=int(htn), managed_diabetes=int(dm), visits=int(visits)
        )
    return out
