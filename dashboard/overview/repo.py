"""SQL of the county and township screens: colour counts per township, totals, the 90-day colour mix and meters.

Every query is scoped to what the principal may see (dashboard.scope): the principal's county, and within it the
township or team. A patient belongs to the township that is the parent of their village clinic, or to the
township itself when they are registered at the township health centre.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from dashboard.access import Principal, Role
from dashboard.alerts import repo as alerts_repo
from dashboard.indicators import repo as indicators_repo
from dashboard.indicators.logic import LOCAL
from dashboard.scope import TOWNSHIP_OF_REGION, patient_scope, place_scope
from dashboard.summaries import repo as summary_repo

COLOURS = ("red", "yellow", "green")
COUNT_COLUMNS = ("managed", "red", "yellow", "green", "not_assessed")
DEFAULT_ALERT_LIMIT = 12
MIX_DAYS = 90
METER_STATES = ("online", "offline", "unknown")

_TOWNSHIPS = """
township as (
    select t.id, t.code, t.name from region t
    where t.level = 'township' and t.parent_id = %(scope_county)s and {place}
),
placed as (
    select p.id as patient_id, p.team_id, {township_of} as township_id
    from patient p join region r on r.id = p.village_id
)
""".replace("{township_of}", TOWNSHIP_OF_REGION.format(r="r"))

_COUNTS = """
    count(pl.patient_id) as managed,
    count(a.patient_id) filter (where a.colour = 'red') as red,
    count(a.patient_id) filter (where a.colour = 'yellow') as yellow,
    count(a.patient_id) filter (where a.colour = 'green') as green,
    count(pl.patient_id) filter (where a.patient_id is null) as not_assessed
"""

_TOWNSHIP_COUNTS = f"""
with {_TOWNSHIPS}
select t.id as township_id, t.code as township_code, t.name as township, {_COUNTS}
from township t
left join placed pl on pl.township_id = t.id and {{patient}}
left join assessment_current a on a.patient_id = pl.patient_id
group by t.id, t.code, t.name
order by t.code
"""

# The job's summary counts plus the colour moves of the history rows written since its watermark.
_SUMMARY_COUNTS = f"""
with base as materialized (
    select b.township_id, sum(b.managed) as managed, sum(b.red) as red, sum(b.yellow) as yellow,
           sum(b.green) as green, sum(b.not_assessed) as not_assessed
    from screen_colour_base b
    where {{base_scope}}
    group by b.township_id
),
delta as materialized (
    select pl.township_id,
           count(*) filter (where h.colour = 'red') - count(*) filter (where h.previous_colour = 'red') as red,
           count(*) filter (where h.colour = 'yellow') - count(*) filter (where h.previous_colour = 'yellow') as yellow,
           count(*) filter (where h.colour = 'green') - count(*) filter (where h.previous_colour = 'green') as green,
           -- a first assessment: of a patient counted as not assessed, or of one registered since the job
           -count(*) filter (where h.previous_colour is null and p.registered_at <= %(base_at)s) as not_assessed,
           count(*) filter (where h.previous_colour is null and p.registered_at > %(base_at)s) as new_patients
    from assessment_history h
    join patient p on p.id = h.patient_id
    join region r on r.id = p.village_id
    cross join lateral (select {TOWNSHIP_OF_REGION.format(r="r")} as township_id) pl
    where h.id > %(watermark)s and {{delta_scope}}
    group by pl.township_id
)
select t.id as township_id, t.code as township_code, t.name as township,
       -- a patient registered after the job is counted once assessed (never-assessed ones at the next run)
       coalesce(b.managed, 0) + coalesce(d.new_patients, 0) as managed,
       coalesce(b.red, 0) + coalesce(d.red, 0) as red,
       coalesce(b.yellow, 0) + coalesce(d.yellow, 0) as yellow,
       coalesce(b.green, 0) + coalesce(d.green, 0) as green,
       coalesce(b.not_assessed, 0) + coalesce(d.not_assessed, 0) as not_assessed
from region t
left join base b on b.township_id = t.id
left join delta d on d.township_id = t.id
where t.level = 'township' and t.parent_id = %(scope_county)s and {{place}}
order by t.code
"""

# Each history row moves one patient from previous_colour to colour: +1 and -1. The colour counts at the end of
# a day are the sums of all moves up to that day: the job's daily sums, then the rows after its watermark.
# The changes since the summaries job ran (a minute's worth) are few: joined as a whole, PostgreSQL 15 misjudged the
# township expression's join (20 patients' villages for 887) and read all 260,000 patients to hash-join 1,913
# changes (126 of 139 ms); looked up one by one they cost a few milliseconds.
_COLOUR_MOVES = f"""
with moves as (
    select d.day, d.red, d.yellow, d.green
    from screen_colour_daily d join region t on t.id = d.township_id
    where d.day <= %(now)s and t.parent_id = %(scope_county)s and {{daily_scope}}
    union all
    select date_trunc('day', h.assessed_at, 'Asia/Shanghai'),
           (h.colour = 'red')::int - (h.previous_colour is not distinct from 'red')::int,
           (h.colour = 'yellow')::int - (h.previous_colour is not distinct from 'yellow')::int,
           (h.colour = 'green')::int - (h.previous_colour is not distinct from 'green')::int
    from assessment_history h
    cross join lateral (  -- each change's patient by its key (`offset 0` keeps this plan: see below)
        select 1 from patient p
        join region r on r.id = p.village_id
        join region t on t.id = {TOWNSHIP_OF_REGION.format(r="r")}
        where p.id = h.patient_id and t.parent_id = %(scope_county)s and {{patient}}
        offset 0
    ) in_scope
    where h.id > %(watermark)s and h.assessed_at <= %(now)s
)
select greatest(day, %(start)s) as day, sum(red), sum(yellow), sum(green)
from moves
group by 1
order by 1
"""

_METERS = f"""
select d.status, count(*)
from device d
join region c on c.id = d.clinic_id
join region t on t.id = {TOWNSHIP_OF_REGION.format(r="c")}
where d.revoked_at is null and t.parent_id = %(scope_county)s and {{place}}
group by d.status
"""


@dataclass(frozen=True)
class CountyTotals:
    """Patients managed in scope and how many are red, yellow, green or not yet assessed."""

    townships: int
    managed: int
    red: int
    yellow: int
    green: int
    not_assessed: int


@dataclass(frozen=True)
class Snapshot:
    """Everything the county or township screen shows, read in one consistent transaction."""

    taken_at: datetime
    totals: CountyTotals
    townships: pd.DataFrame
    alerts: pd.DataFrame
    meters: dict[str, int]
    indicators: indicators_repo.IndicatorTable


def township_counts(conn: psycopg.Connection, *, principal: Principal) -> pd.DataFrame:
    """One row per township in scope (zero-patient ones included): managed, red, yellow, green, not_assessed.

    From the job's summary and the colour changes since (live); computed from every patient when the job has
    not run yet.
    """
    mark = summary_repo.mark(conn, summary_repo.COUNTS)
    if mark is None:
        return township_counts_live(conn, principal=principal)
    place, place_params = place_scope(principal, township_col="t.id")
    base, params = patient_scope(principal, township_col="b.township_id", team_col="nullif(b.team_id, 0)")
    delta, _ = patient_scope(principal, township_col="pl.township_id", team_col="p.team_id")
    sql = _SUMMARY_COUNTS.format(place=place, base_scope=base, delta_scope=delta)
    values = {**place_params, **params, "watermark": mark[0], "base_at": mark[1]}
    return _count_frame(conn.execute(sql, values))


def township_counts_live(conn: psycopg.Connection, *, principal: Principal) -> pd.DataFrame:
    """The same counts aggregated from every patient and assessment_current (what the job summarises)."""
    place, place_params = place_scope(principal, township_col="t.id")
    patient, patient_params = patient_scope(principal, township_col="pl.township_id", team_col="pl.team_id")
    sql = _TOWNSHIP_COUNTS.format(place=place, patient=patient)
    return _count_frame(conn.execute(sql, {**place_params, **patient_params}))


def _count_frame(cur: psycopg.Cursor[Any]) -> pd.DataFrame:
    columns = [d.name for d in cur.description or ()]
    frame = pd.DataFrame(cur.fetchall(), columns=columns)
    return frame.astype({c: "int64" for c in COUNT_COLUMNS})


def totals_of(counts: pd.DataFrame) -> CountyTotals:
    """The totals over the townships of `counts` (each patient belongs to exactly one township)."""
    sums = {c: int(counts[c].sum()) for c in COUNT_COLUMNS}
    return CountyTotals(townships=len(counts), **sums)


def colour_moves(
    conn: psycopg.Connection, *, principal: Principal, now: datetime, days: int = MIX_DAYS
) -> pd.DataFrame:
    """Net colour changes per local day (the first row folds in everything before the window)."""
    patient, params = patient_scope(principal, township_col="t.id", team_col="p.team_id")
    daily, _ = patient_scope(principal, township_col="d.township_id", team_col="nullif(d.team_id, 0)")
    mark = summary_repo.watermark(conn, summary_repo.DAILY) or 0
    values = {**params, "start": mix_start(now, days=days), "now": now, "watermark": mark}
    rows = conn.execute(_COLOUR_MOVES.format(patient=patient, daily_scope=daily), values).fetchall()
    return pd.DataFrame(rows, columns=["day", *COLOURS])


def mix_start(now: datetime, *, days: int = MIX_DAYS) -> datetime:
    """Local midnight `days - 1` days before today: the first day of the colour-mix window."""
    today: date = now.astimezone(LOCAL).date()
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=LOCAL)


def colour_mix(moves: pd.DataFrame, *, now: datetime, days: int = MIX_DAYS) -> pd.DataFrame:
    """Patients of each colour at the end of each of the last `days` local days (pure: from `colour_moves`)."""
    start = mix_start(now, days=days)
    index = pd.DatetimeIndex([start + timedelta(days=i) for i in range(days)])
    frame = moves.copy()
    if frame.empty:
        frame = pd.DataFrame({c: [0] * days for c in COLOURS}, index=index)
    else:
        frame["day"] = pd.to_datetime(frame["day"], utc=True).dt.tz_convert(LOCAL)
        frame = frame.groupby("day")[list(COLOURS)].sum().reindex(index, fill_value=0)
    return frame.astype("int64").cumsum().rename_axis("day").reset_index()


def meter_status(conn: psycopg.Connection, *, principal: Principal) -> dict[str, int]:
    """Meters in scope (not revoked) by status: online, offline, unknown."""
    place, params = place_scope(principal, township_col="t.id")
    rows = conn.execute(_METERS.format(place=place), params).fetchall()
    found = {str(r[0]): int(r[1]) for r in rows}
    return {state: found.get(state, 0) for state in METER_STATES}


def snapshot(
    pool: ConnectionPool,
    *,
    principal: Principal,
    alert_limit: int = DEFAULT_ALERT_LIMIT,
    now: datetime | None = None,
) -> Snapshot:
    """Counts, totals, latest alerts, meters and indicators from one read-only snapshot, so the numbers agree."""
    with pool.connection() as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        taken_at = now or datetime.now(UTC)
        counts = township_counts(conn, principal=principal)
        return Snapshot(
            taken_at=taken_at,
            totals=totals_of(counts),
            townships=counts,
            alerts=alerts_repo.latest_alerts(conn, principal=principal, limit=alert_limit),
            meters=meter_status(conn, principal=principal),
            indicators=indicators_repo.stored_indicators(conn, principal=principal, now=taken_at),
        )


def colour_mix_of(pool: ConnectionPool, *, principal: Principal, now: datetime | None = None) -> pd.DataFrame:
    """The 90-day colour mix in scope, read from the store."""
    at = now or datetime.now(UTC)
    with pool.connection() as conn:
        return colour_mix(colour_moves(conn, principal=principal, now=at), now=at)


def township_options(pool: ConnectionPool, *, principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the townships `principal` may see, by code."""
    place, params = place_scope(principal, township_col="t.id")
    sql = f"select t.id, t.name from region t where t.level = 'township' and t.parent_id = %(scope_county)s and {place}"
    with pool.connection() as conn:
        rows = conn.execute(sql + " order by t.code", params).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def within_township(principal: Principal, township_id: int | None) -> Principal:
    """`principal` narrowed to one township: a county user looking at a township screen sees only its rows.
    A township or team principal keeps its own scope whatever is asked."""
    if principal.role in (Role.COUNTY, Role.ADMIN) and township_id is not None:
        return replace(principal, role=Role.TOWNSHIP, township_id=township_id)
    return principal


def county_snapshot(
    pool: ConnectionPool, *, county_code: str | None = None, alert_limit: int = DEFAULT_ALERT_LIMIT
) -> Snapshot:
    """A whole county's snapshot for a process with no signed-in person (reports, the end-to-end test): the
    county named by `county_code`, or the store's first county."""
    with pool.connection() as conn:
        row = conn.execute(
            "select id from region where level = 'county' and (%(code)s::text is null or code = %(code)s)"
            " order by id limit 1",
            {"code": county_code},
        ).fetchone()
    if row is None:
        raise LookupError(f"no county {county_code!r}" if county_code else "the store holds no county")
    system = Principal(user_id=0, username="system", role=Role.COUNTY, county_id=int(row[0]))
    return snapshot(pool, principal=system, alert_limit=alert_limit)
