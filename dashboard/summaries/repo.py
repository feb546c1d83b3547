"""The screens' summaries kept by the `refresh_indicators` job: colour counts per township and team, and the
daily colour moves; with the watermark of assessment_history each one has folded in.

A summary plus the history rows written after its watermark is the live figure: every change of a patient's
colour is one history row (assess.repo writes it in the same transaction as assessment_current), moving one
patient from previous_colour to colour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from dashboard.scope import TOWNSHIP_OF_REGION

COUNTS = "screen_counts"
DAILY = "screen_colour_daily"
# A history row is folded into the daily moves once it is this old: a transaction still open when the job
# runs may commit a row with a lower id later, and the daily moves (unlike the counts) are never rebuilt.
SETTLE = timedelta(minutes=5)

_PLACED = f"""
from patient p
join region r on r.id = p.village_id
cross join lateral (select {TOWNSHIP_OF_REGION.format(r="r")} as township_id) pl
"""

_BASE = f"""
insert into screen_colour_base (township_id, team_id, managed, red, yellow, green, not_assessed)
select pl.township_id, coalesce(p.team_id, 0), count(*),
       count(*) filter (where a.colour = 'red'), count(*) filter (where a.colour = 'yellow'),
       count(*) filter (where a.colour = 'green'), count(*) filter (where a.patient_id is null)
{_PLACED}
left join assessment_current a on a.patient_id = p.id
where pl.township_id is not null
group by 1, 2
"""

_DAILY = f"""
insert into screen_colour_daily (day, township_id, team_id, red, yellow, green)
select date_trunc('day', h.assessed_at, 'Asia/Shanghai'), pl.township_id, coalesce(p.team_id, 0),
       count(*) filter (where h.colour = 'red') - count(*) filter (where h.previous_colour = 'red'),
       count(*) filter (where h.colour = 'yellow') - count(*) filter (where h.previous_colour = 'yellow'),
       count(*) filter (where h.colour = 'green') - count(*) filter (where h.previous_colour = 'green')
from assessment_history h
join patient p on p.id = h.patient_id
join region r on r.id = p.village_id
cross join lateral (select {TOWNSHIP_OF_REGION.format(r="r")} as township_id) pl
where h.id > %(since)s and h.id <= %(until)s and pl.township_id is not null
group by 1, 2, 3
on conflict (day, township_id, team_id) do update set
    red = screen_colour_daily.red + excluded.red,
    yellow = screen_colour_daily.yellow + excluded.yellow,
    green = screen_colour_daily.green + excluded.green
"""


def mark(conn: psycopg.Connection, name: str) -> tuple[int, datetime] | None:
    """(last assessment_history id folded in, when) of summary `name`, or None when it was never built."""
    row = conn.execute("select history_id, refreshed_at from summary_refresh where name = %s", (name,)).fetchone()
    return (int(row[0]), row[1]) if row else None


def watermark(conn: psycopg.Connection, name: str) -> int | None:
    """The last assessment_history id folded into summary `name`, or None when it was never built."""
    found = mark(conn, name)
    return found[0] if found else None


def _mark(conn: psycopg.Connection, name: str, *, history_id: int, at: datetime) -> None:
    conn.execute(
        "insert into summary_refresh (name, refreshed_at, history_id) values (%s, %s, %s)"
        " on conflict (name) do update set refreshed_at = excluded.refreshed_at, history_id = excluded.history_id",
        (name, at, history_id),
    )


def rebuild_counts(conn: psycopg.Connection, *, now: datetime) -> int:
    """Recount every township's and team's colours from assessment_current (call in a repeatable-read
    transaction, so the counts and the history watermark are of one snapshot); rows written."""
    row = conn.execute("select coalesce(max(id), 0) from assessment_history").fetchone()
    history_id = int(row[0]) if row else 0
    conn.execute("delete from screen_colour_base")
    written = conn.execute(_BASE).rowcount
    _mark(conn, COUNTS, history_id=history_id, at=now)
    return written


def fold_daily_moves(conn: psycopg.Connection, *, now: datetime) -> int:
    """Add the history rows older than SETTLE and not folded yet to the daily moves; rows folded."""
    since = watermark(conn, DAILY) or 0
    row = conn.execute(
        "select coalesce((select min(id) - 1 from assessment_history where id > %(since)s and assessed_at >= %(cut)s),"
        " (select max(id) from assessment_history), 0)",
        {"since": since, "cut": now - SETTLE},
    ).fetchone()
    until = max(int(row[0]) if row else 0, since)
    if until > since:
        conn.execute(_DAILY, {"since": since, "until": until})
    _mark(conn, DAILY, history_id=until, at=now)
    return until - since
