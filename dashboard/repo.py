"""All SQL of the county screen: colour counts per township, county totals and the latest alerts.

Every query is scoped to the townships of one county (or of every county in the store when no code is given: a
deployment holds one county). A patient belongs to the township that is the parent of their village clinic, or to
the township itself when they are registered at the township health centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from cdm.privacy import mask_card

COLOURS = ("red", "yellow", "green")
COUNT_COLUMNS = ("managed", "red", "yellow", "green", "not_assessed")
DEFAULT_ALERT_LIMIT = 12

_SCOPE = """
with township as (
    select t.id, t.code, t.name
    from region t
    join region c on c.id = t.parent_id and c.level = 'county'
    where t.level = 'township' and (%(county)s::text is null or c.code = %(county)s::text)
),
placed as (
    select p.id as patient_id,
           case r.level when 'township' then r.id else r.parent_id end as township_id
    from patient p
    join region r on r.id = p.village_id
)
"""

_COUNTS = """
    count(pl.patient_id) as managed,
    count(*) filter (where a.colour = 'red') as red,
    count(*) filter (where a.colour = 'yellow') as yellow,
    count(*) filter (where a.colour = 'green') as green,
    count(pl.patient_id) filter (where a.patient_id is null) as not_assessed
"""

_TOWNSHIP_COUNTS = (
    _SCOPE
    + f"""
select t.id as township_id, t.code as township_code, t.name as township, {_COUNTS}
from township t
left join placed pl on pl.township_id = t.id
left join assessment_current a on a.patient_id = pl.patient_id
group by t.id, t.code, t.name
order by t.code
"""
)

_COUNTY_TOTALS = (
    _SCOPE
    + f"""
select count(distinct t.id) as townships, {_COUNTS}
from township t
left join placed pl on pl.township_id = t.id
left join assessment_current a on a.patient_id = pl.patient_id
"""
)

_LATEST_ALERTS = (
    _SCOPE
    + """
select a.id as alert_id, a.opened_at, t.name as township,
       case v.level when 'village' then v.name end as village,
       p.health_card_no, a.severity, a.status, a.reasons,
       n.delivered, n.failed, n.total as notifications
from (
    select * from alert
    where township_id in (select id from township)
    order by opened_at desc, id desc
    limit %(limit)s
) a
join township t on t.id = a.township_id
join patient p on p.id = a.patient_id
join region v on v.id = p.village_id
cross join lateral (
    select count(*) filter (where status = 'delivered') as delivered,
           count(*) filter (where status = 'failed') as failed,
           count(*) as total
    from notification where alert_id = a.id
) n
order by a.opened_at desc, a.id desc
"""
)

ALERT_COLUMNS = (
    "alert_id",
    "opened_at",
    "township",
    "village",
    "patient",
    "severity",
    "status",
    "reasons",
    "delivered",
    "failed",
    "notifications",
)


@dataclass(frozen=True)
class CountyTotals:
    """Patients managed in the county and how many are red, yellow, green or not yet assessed."""

    townships: int
    managed: int
    red: int
    yellow: int
    green: int
    not_assessed: int


@dataclass(frozen=True)
class CountySnapshot:
    """Everything the county screen shows, read in one consistent transaction."""

    taken_at: datetime
    totals: CountyTotals
    townships: pd.DataFrame
    alerts: pd.DataFrame


def township_counts(conn: psycopg.Connection, *, county_code: str | None = None) -> pd.DataFrame:
    """One row per township of the county (zero-patient ones included): managed, red, yellow, green, not_assessed."""
    cur = conn.execute(_TOWNSHIP_COUNTS, {"county": county_code})
    columns = [d.name for d in cur.description or ()]
    frame = pd.DataFrame(cur.fetchall(), columns=columns)
    return frame.astype({c: "int64" for c in COUNT_COLUMNS})


def county_totals(conn: psycopg.Connection, *, county_code: str | None = None) -> CountyTotals:
    """The county's totals over the same patients as `township_counts`."""
    row = conn.execute(_COUNTY_TOTALS, {"county": county_code}).fetchone()
    assert row is not None  # an aggregate without group by always returns one row
    return CountyTotals(*(int(v) for v in row))


def latest_alerts(
    conn: psycopg.Connection, *, limit: int = DEFAULT_ALERT_LIMIT, county_code: str | None = None
) -> pd.DataFrame:
    """The newest alerts first, the patient masked, with delivered/failed/total notification counts."""
    rows = conn.execute(_LATEST_ALERTS, {"county": county_code, "limit": limit}).fetchall()
    records = [
        (r[0], r[1], r[2], r[3], mask_card(r[4]), r[5], r[6], list(r[7]), int(r[8]), int(r[9]), int(r[10]))
        for r in rows
    ]
    return pd.DataFrame.from_records(records, columns=list(ALERT_COLUMNS))


def county_snapshot(
    pool: ConnectionPool, *, alert_limit: int = DEFAULT_ALERT_LIMIT, county_code: str | None = None
) -> CountySnapshot:
    """Counts, totals and latest alerts from one read-only snapshot, so the numbers on the screen agree."""
    with pool.connection() as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        taken_at = datetime.now(UTC)
        return CountySnapshot(
            taken_at=taken_at,
            totals=county_totals(conn, county_code=county_code),
            townships=township_counts(conn, county_code=county_code),
            alerts=latest_alerts(conn, limit=alert_limit, county_code=county_code),
        )
