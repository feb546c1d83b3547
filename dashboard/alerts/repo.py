"""SQL of the alert feed, the township's open alerts and the alert console, scoped to the principal."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import psycopg

from alerts.workflow.repo import ASSIGNABLE
from cdm.privacy import mask_card
from dashboard.access import Principal, Role
from dashboard.scope import patient_scope

CONSOLE_DAYS = 30  # time-to-acknowledge and time-to-close over alerts opened in the last 30 days

ALERT_COLUMNS = (
    "alert_id",
    "patient_id",
    "opened_at",
    "township",
    "village",
    "patient",
    "severity",
    "status",
    "reasons",
    "occurrences",
    "acknowledged_at",
    "acknowledged_by",
    "escalated_at",
    "overdue_at",
    "delivered",
    "failed",
    "notifications",
    "reason_facts",
    "assignee",
)

_ALERTS = """
select a.id, a.patient_id, a.opened_at, t.name, case v.level when 'village' then v.name end,
       p.health_card_no, a.severity, a.status, a.reasons, a.occurrences, a.acknowledged_at, a.acknowledged_by,
       a.escalated_at, a.overdue_at, n.delivered, n.failed, n.total, a.reason_facts, u.display_name
from (
    select a.* from alert a
    join region tw on tw.id = a.township_id
    join patient p on p.id = a.patient_id
    where tw.parent_id = %(scope_county)s and {scope} and {which}
    order by {order}
    limit %(limit)s
) a
join region t on t.id = a.township_id
join patient p on p.id = a.patient_id
join region v on v.id = p.village_id
left join app_user u on u.id = a.assigned_to
cross join lateral (
    select count(*) filter (where status = 'delivered') as delivered,
           count(*) filter (where status = 'failed') as failed,
           count(*) as total
    from notification where alert_id = a.id
) n
order by {order}
"""

_TIMINGS = """
select t.name as township,
       count(*) as opened,
       count(*) filter (where a.status <> 'closed') as still_open,
       count(*) filter (where a.escalated_at is not null) as escalated,
       percentile_cont(0.5) within group (order by extract(epoch from a.acknowledged_at - a.opened_at) / 60)
           filter (where a.acknowledged_at is not null) as ack_median_min,
       percentile_cont(0.9) within group (order by extract(epoch from a.acknowledged_at - a.opened_at) / 60)
           filter (where a.acknowledged_at is not null) as ack_p90_min,
       percentile_cont(0.5) within group (order by extract(epoch from a.closed_at - a.opened_at) / 3600)
           filter (where a.closed_at is not null) as close_median_h,
       percentile_cont(0.9) within group (order by extract(epoch from a.closed_at - a.opened_at) / 3600)
           filter (where a.closed_at is not null) as close_p90_h
from alert a
join region t on t.id = a.township_id
join patient p on p.id = a.patient_id
where t.parent_id = %(scope_county)s and {scope} and a.opened_at > %(since)s
group by t.name
order by t.name
"""

TIMING_COLUMNS = (
    "township",
    "opened",
    "still_open",
    "escalated",
    "ack_median_min",
    "ack_p90_min",
    "close_median_h",
    "close_p90_h",
)

_WHICH = {
    "all": ("true", "a.opened_at desc, a.id desc"),
    # the township's work list: unfinished alerts, oldest first (the longest-waiting patient at the top)
    "open": ("a.status <> 'closed'", "a.opened_at asc, a.id asc"),
    # the console: escalated first, then the oldest
    "console": (
        "a.status <> 'closed'",
        "(a.escalated_at is null) asc, (a.overdue_at is null) asc, a.opened_at asc, a.id asc",
    ),
}


def _alerts(conn: psycopg.Connection, *, principal: Principal, limit: int, which: str) -> pd.DataFrame:
    scope, params = patient_scope(principal, township_col="a.township_id", team_col="p.team_id")
    where, order = _WHICH[which]
    sql = _ALERTS.format(scope=scope, which=where, order=order)
    rows = conn.execute(sql, {**params, "limit": limit}).fetchall()
    records = [
        (*r[:5], mask_card(r[5]), *r[6:8], list(r[8]), *r[9:14], int(r[14]), int(r[15]), int(r[16]), r[17] or {}, r[18])
        for r in rows
    ]
    return pd.DataFrame.from_records(records, columns=list(ALERT_COLUMNS))


def latest_alerts(conn: psycopg.Connection, *, principal: Principal, limit: int) -> pd.DataFrame:
    """The newest alerts first, the patient masked, with their state and notification counts."""
    return _alerts(conn, principal=principal, limit=limit, which="all")


def open_alerts(conn: psycopg.Connection, *, principal: Principal, limit: int) -> pd.DataFrame:
    """Alerts not yet closed, the longest waiting first."""
    return _alerts(conn, principal=principal, limit=limit, which="open")


def console_alerts(conn: psycopg.Connection, *, principal: Principal, limit: int) -> pd.DataFrame:
    """Alerts not yet closed, escalated and overdue ones first."""
    return _alerts(conn, principal=principal, limit=limit, which="console")


def timings(conn: psycopg.Connection, *, principal: Principal, now: datetime, days: int = CONSOLE_DAYS) -> pd.DataFrame:
    """Per township: alerts opened in the last `days`, still open, escalated, and the median and 90th percentile
    of minutes to acknowledge and hours to close."""
    scope, params = patient_scope(principal, township_col="a.township_id", team_col="p.team_id")
    rows = conn.execute(_TIMINGS.format(scope=scope), {**params, "since": now - timedelta(days=days)}).fetchall()
    return pd.DataFrame(rows, columns=list(TIMING_COLUMNS))


def alert_in_scope(conn: psycopg.Connection, *, principal: Principal, alert_id: int) -> int | None:
    """The patient id of alert `alert_id` if `principal` may see it, else None."""
    scope, params = patient_scope(principal, township_col="a.township_id", team_col="p.team_id")
    row = conn.execute(
        "select a.patient_id from alert a join region t on t.id = a.township_id join patient p on p.id = a.patient_id"
        f" where a.id = %(alert)s and t.parent_id = %(scope_county)s and {scope}",
        {**params, "alert": alert_id},
    ).fetchone()
    return int(row[0]) if row else None


def alert_status(conn: psycopg.Connection, alert_id: int) -> str | None:
    """The alert's status now (the caller has checked its scope)."""
    row = conn.execute("select status from alert where id = %s", (alert_id,)).fetchone()
    return str(row[0]) if row else None


def escalation_policy(conn: psycopg.Connection) -> dict[tuple[str, str], timedelta]:
    """After how long each (severity, step) of the escalation policy comes due."""
    return {
        (str(s), str(step)): after
        for s, step, after in conn.execute("select severity, step, after from escalation_policy")
    }


RECENTLY_CLOSED_DAYS = 7
CLOSED_COLUMNS = ("alert_id", "patient_id", "patient", "village", "closed_at", "closed_by", "outcome")


def recently_closed(conn: psycopg.Connection, *, principal: Principal, now: datetime, limit: int) -> pd.DataFrame:
    """Alerts closed in the last RECENTLY_CLOSED_DAYS days, newest first, the patient masked."""
    scope, params = patient_scope(principal, township_col="a.township_id", team_col="p.team_id")
    rows = conn.execute(
        "select a.id, a.patient_id, p.health_card_no, case v.level when 'village' then v.name end,"
        " a.closed_at, a.closed_by, a.outcome"
        " from alert a join region t on t.id = a.township_id join patient p on p.id = a.patient_id"
        " join region v on v.id = p.village_id"
        f" where a.status = 'closed' and a.closed_at > %(since)s and t.parent_id = %(scope_county)s and {scope}"
        " order by a.closed_at desc, a.id desc limit %(limit)s",
        {**params, "since": now - timedelta(days=RECENTLY_CLOSED_DAYS), "limit": limit},
    ).fetchall()
    records = [(r[0], r[1], mask_card(r[2]), *r[3:]) for r in rows]
    return pd.DataFrame.from_records(records, columns=list(CLOSED_COLUMNS))


def assignable_people(
    conn: psycopg.Connection, *, principal: Principal, township_id: int
) -> list[tuple[int, str, str]]:
    """(account id, username, name) of the people of township `township_id` an alert there can be assigned to, by
    name; none when the township is not one `principal` sees in full (a team sees only its own patients)."""
    if principal.role is Role.TEAM or (principal.role is Role.TOWNSHIP and principal.township_id != township_id):
        return []
    rows = conn.execute(
        ASSIGNABLE + " and u.township_id = %s and u.county_id = %s order by u.display_name, u.username",
        (township_id, principal.county_id),
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def person_name(conn: psycopg.Connection, user_id: int) -> str:
    """The name an account is shown by."""
    row = conn.execute("select display_name from app_user where id = %s", (user_id,)).fetchone()
    return str(row[0]) if row else ""
