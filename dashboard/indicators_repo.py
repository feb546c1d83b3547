"""SQL of the programme indicators (defined in dashboard.indicators) over the `patient_activity` summary, scoped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from dashboard.access import Principal, scope_filter
from dashboard.indicators import (
    BP_CONTROLLED_BELOW,
    FASTING_CONTROLLED_BELOW_MMOL,
    LOCAL,
    NAMES,
    RECENT_DAYS,
    STANDARD_VISITS_PER_YEAR,
    YEAR_DAYS,
    Indicator,
)

# Rows per township: numerator and denominator of each indicator, in the order of NAMES.
_BY_TOWNSHIP = """
select pl.township_id,
    count(*) filter (where p.hypertension and p.registered_at <= %(recent)s
                     and a.last_bp_at > %(recent)s and a.last_bp_at <= %(now)s
                     and a.last_systolic < %(sbp)s and a.last_diastolic < %(dbp)s),
    count(*) filter (where p.hypertension and p.registered_at <= %(recent)s),
    count(*) filter (where p.diabetes and p.registered_at <= %(recent)s
                     and a.last_fasting_at > %(recent)s and a.last_fasting_at <= %(now)s
                     and a.last_fasting_mmol < %(glucose)s),
    count(*) filter (where p.diabetes and p.registered_at <= %(recent)s),
    count(*) filter (where p.registered_at <= %(year)s and a.follow_ups_12m >= %(visits)s),
    count(*) filter (where p.registered_at <= %(year)s),
    count(*) filter (where p.registered_at <= %(recent)s
                     and not (coalesce(a.last_reading_at > %(recent)s and a.last_reading_at <= %(now)s, false)
                              or coalesce(a.last_follow_up_on > %(recent_day)s, false))),
    count(*) filter (where p.registered_at <= %(recent)s),
    count(*) filter (where p.registered_at <= %(year)s
                     and not (coalesce(a.last_reading_at > %(year)s and a.last_reading_at <= %(now)s, false)
                              or coalesce(a.last_follow_up_on > %(year_day)s, false))),
    count(*) filter (where p.registered_at <= %(year)s)
from patient p
join region v on v.id = p.village_id
cross join lateral (select case v.level when 'township' then v.id else v.parent_id end as township_id) pl
left join patient_activity a on a.patient_id = p.id
where {scope}
group by pl.township_id
"""


@dataclass(frozen=True)
class IndicatorTable:
    """Indicators per township id and for the whole scope, and when the summary was last refreshed."""

    by_township: dict[int, dict[str, Indicator]]
    total: dict[str, Indicator]
    refreshed_at: datetime | None


def indicators(conn: psycopg.Connection, *, principal: Principal, now: datetime) -> IndicatorTable:
    """The indicators at `now` of the patients `principal` may see, per township and in total."""
    scope, params = scope_filter(principal, township_col="pl.township_id", team_col="p.team_id")
    recent, year = now - timedelta(days=RECENT_DAYS), now - timedelta(days=YEAR_DAYS)
    values = {
        **params,
        "now": now,
        "recent": recent,
        "year": year,
        "recent_day": recent.astimezone(LOCAL).date(),
        "year_day": year.astimezone(LOCAL).date(),
        "sbp": BP_CONTROLLED_BELOW[0],
        "dbp": BP_CONTROLLED_BELOW[1],
        "glucose": FASTING_CONTROLLED_BELOW_MMOL,
        "visits": STANDARD_VISITS_PER_YEAR,
    }
    rows = conn.execute(_BY_TOWNSHIP.format(scope=scope), values).fetchall()
    by_township = {
        int(row[0]): {name: Indicator(int(row[1 + 2 * i]), int(row[2 + 2 * i])) for i, name in enumerate(NAMES)}
        for row in rows
    }
    total = {name: sum((t[name] for t in by_township.values()), Indicator(0, 0)) for name in NAMES}
    return IndicatorTable(by_township, total, refreshed_at(conn))


def refreshed_at(conn: psycopg.Connection) -> datetime | None:
    """When `patient_activity` was last brought up to date."""
    row = conn.execute("select refreshed_at from summary_refresh where name = 'patient_activity'").fetchone()
    return row[0] if row else None


def refresh_activity(conn: psycopg.Connection, *, now: datetime, lookback_days: int) -> int:
    """Fold readings measured in the last `lookback_days` (all of the last year+ on the first run) into the
    summary and recount follow-ups; the number of patients whose readings changed."""
    last = refreshed_at(conn)
    since = now - timedelta(days=YEAR_DAYS + RECENT_DAYS) if last is None else last - timedelta(days=lookback_days)
    row = conn.execute("select cdm_refresh_patient_activity(%s, %s)", (since, now)).fetchone()
    return int(row[0]) if row else 0
