"""SQL of the programme indicators (dashboard.indicators.logic) over the `patient_activity` summary, scoped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from dashboard.access import Principal
from dashboard.indicators.logic import (
    BP_CONTROLLED_BELOW,
    FASTING_CONTROLLED_BELOW_MMOL,
    LOCAL,
    NAMES,
    RECENT_DAYS,
    STANDARD_VISITS_PER_YEAR,
    YEAR_DAYS,
    Indicator,
)
from dashboard.scope import patient_scope

# Rows per township: numerator and denominator of each indicator, in the order of NAMES.
_BY_TOWNSHIP = """
select pl.township_id, coalesce(p.team_id, 0),
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
join region t on t.id = pl.township_id
left join patient_activity a on a.patient_id = p.id
where (%(scope_county)s::int is null or t.parent_id = %(scope_county)s) and {scope}
group by 1, 2
"""

_STORED = """
select s.township_id, s.name, sum(s.numerator), sum(s.denominator)
from screen_indicator s join region t on t.id = s.township_id
where t.parent_id = %(scope_county)s and {scope}
group by s.township_id, s.name
"""


@dataclass(frozen=True)
class IndicatorTable:
    """Indicators per township id and for the whole scope, and when the summary was last refreshed."""

    by_township: dict[int, dict[str, Indicator]]
    total: dict[str, Indicator]
    refreshed_at: datetime | None


def _values(now: datetime) -> dict[str, object]:
    recent, year = now - timedelta(days=RECENT_DAYS), now - timedelta(days=YEAR_DAYS)
    return {
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


def _table(by_township: dict[int, dict[str, Indicator]], refreshed: datetime | None) -> IndicatorTable:
    total = {name: sum((t[name] for t in by_township.values()), Indicator(0, 0)) for name in NAMES}
    return IndicatorTable(by_township, total, refreshed)


def indicators(conn: psycopg.Connection, *, principal: Principal, now: datetime) -> IndicatorTable:
    """The indicators at `now` of the patients `principal` may see, computed from patient_activity."""
    scope, params = patient_scope(principal, township_col="pl.township_id", team_col="p.team_id")
    rows = conn.execute(_BY_TOWNSHIP.format(scope=scope), {**params, **_values(now)}).fetchall()
    by_township: dict[int, dict[str, Indicator]] = {}
    for row in rows:
        mine = by_township.setdefault(int(row[0]), {name: Indicator(0, 0) for name in NAMES})
        for i, name in enumerate(NAMES):
            mine[name] = mine[name] + Indicator(int(row[2 + 2 * i]), int(row[3 + 2 * i]))
    return _table(by_township, refreshed_at(conn))


def store_indicators(conn: psycopg.Connection, *, now: datetime) -> int:
    """Write every county's indicators at `now` per township and team into screen_indicator; rows written."""
    rows = conn.execute(_BY_TOWNSHIP.format(scope="true"), {"scope_county": None, **_values(now)}).fetchall()
    conn.execute("delete from screen_indicator")
    records = [(row[0], row[1], name, row[2 + 2 * i], row[3 + 2 * i]) for row in rows for i, name in enumerate(NAMES)]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into screen_indicator (township_id, team_id, name, numerator, denominator)"
            " values (%s, %s, %s, %s, %s)",
            records,
        )
    conn.execute(
        "insert into summary_refresh (name, refreshed_at) values ('screen_indicator', %s)"
        " on conflict (name) do update set refreshed_at = excluded.refreshed_at",
        (now,),
    )
    return len(records)


def stored_indicators(conn: psycopg.Connection, *, principal: Principal, now: datetime) -> IndicatorTable:
    """The indicators as the job last stored them, scoped; computed on the spot when it never ran."""
    refreshed = refreshed_at(conn, name="screen_indicator")
    if refreshed is None:
        return indicators(conn, principal=principal, now=now)
    scope, params = patient_scope(principal, township_col="s.township_id", team_col="nullif(s.team_id, 0)")
    by_township: dict[int, dict[str, Indicator]] = {}
    for township_id, name, numerator, denominator in conn.execute(_STORED.format(scope=scope), params):
        mine = by_township.setdefault(int(township_id), {n: Indicator(0, 0) for n in NAMES})
        mine[name] = Indicator(int(numerator), int(denominator))
    return _table(by_township, refreshed)


def refreshed_at(conn: psycopg.Connection, *, name: str = "patient_activity") -> datetime | None:
    """When summary `name` (by default `patient_activity`) was last brought up to date."""
    row = conn.execute("select refreshed_at from summary_refresh where name = %s", (name,)).fetchone()
    return row[0] if row else None


def refresh_activity(conn: psycopg.Connection, *, now: datetime, lookback_days: int) -> int:
    """Fold readings measured in the last `lookback_days` (all of the last year+ on the first run) into the
    summary and recount follow-ups; the number of patients whose readings changed."""
    last = refreshed_at(conn)
    since = now - timedelta(days=YEAR_DAYS + RECENT_DAYS) if last is None else last - timedelta(days=lookback_days)
    row = conn.execute("select cdm_refresh_patient_activity(%s, %s)", (since, now)).fetchone()
    return int(row[0]) if row else 0
