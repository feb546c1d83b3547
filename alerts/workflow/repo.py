"""SQL of the alert workflow: transitions, repeats, escalation candidates and contacts, lists for people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from alerts.workflow.logic import AlertState, PolicyStep
from cdm.i18n import Refusal

ESCALATION_BATCH = 200

# The people an alert may be assigned to: accounts in use of a township (its health centre) or of one of its
# family-doctor teams, in the county the township belongs to; the caller adds which township and, for one, who.
ASSIGNABLE = (
    "select u.id, u.username, u.display_name, u.phone, u.language from app_user u"
    " join region t on t.id = u.township_id"
    " where u.role in ('township', 'team') and u.disabled_at is null and t.parent_id = u.county_id"
)


@dataclass(frozen=True, slots=True)
class Assignee:
    """A person an alert can be assigned to, with where and how they are told (mobile, language; None: not set)."""

    id: int
    username: str
    name: str
    phone: str | None
    language: str | None


def assignee(conn: psycopg.Connection, *, alert_id: int, who: int | str) -> Assignee | None:
    """The person (account id, or username) if alert `alert_id` may be assigned to them, else None."""
    column = "u.id" if isinstance(who, int) else "u.username"
    row = conn.execute(
        ASSIGNABLE + f" and {column} = %s and u.township_id = (select township_id from alert where id = %s)",
        (who, alert_id),
    ).fetchone()
    return Assignee(*row) if row else None


def lock_alert(conn: psycopg.Connection, alert_id: int) -> dict[str, Any] | None:
    """The alert's row, locked until the transaction ends (two people acting at once take turns)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("select * from alert where id = %s for update", (alert_id,)).fetchone()


def update_alert(conn: psycopg.Connection, alert_id: int, fields: dict[str, Any]) -> None:
    """Set the given columns of one alert (column names come from this package, never from users)."""
    assignments = ", ".join(f"{name} = %s" for name in fields)
    conn.execute(f"update alert set {assignments} where id = %s", (*fields.values(), alert_id))


def record_repeats(
    conn: psycopg.Connection, repeats: dict[int, list[str]], *, now: datetime, opened: Sequence[int] = ()
) -> list[int]:
    """Count a batch's urgent readings on each patient's open alert and keep the latest as evidence.

    An alert `opened` by this very batch counts its readings from scratch (the one that opened it among them).
    Returns the ids of the alerts that were already open before.
    """
    if not repeats:
        return []
    pids = sorted(repeats)
    rows = conn.execute(
        "update alert a set occurrences = case when a.id = any(%s) then u.n else a.occurrences + u.n end,"
        " last_seen_at = %s, latest_evidence = string_to_array(u.ev, ','),"
        # the latest urgent reading's figures, as the assessment just saved states them (assess.reasons)
        " reason_facts = a.reason_facts || coalesce((select jsonb_object_agg(e.key, e.value)"
        " from assessment_current ac cross join lateral jsonb_each(ac.reason_facts) e"
        " where ac.patient_id = a.patient_id and e.key = any (a.reasons)), '{}')"
        " from unnest(%s::bigint[], %s::integer[], %s::text[]) as u(pid, n, ev)"
        " where a.patient_id = u.pid and a.kind = 'turned_red' and a.status <> 'closed'"
        " returning a.id",
        (list(opened), now, pids, [len(repeats[p]) for p in pids], [",".join(repeats[p]) for p in pids]),
    ).fetchall()
    return [r[0] for r in rows if r[0] not in set(opened)]


def load_policy(conn: psycopg.Connection) -> list[PolicyStep]:
    """The escalation policy table."""
    rows = conn.execute("select severity, step, after, notify from escalation_policy order by after")
    return [PolicyStep(r[0], r[1], r[2], tuple(r[3])) for r in rows]


def escalation_candidates(conn: psycopg.Connection, *, now: datetime) -> list[tuple[int, int, AlertState]]:
    """(alert id, patient id, state) of unfinished alerts old enough for some policy step, locked, skipping
    those another worker holds."""
    rows = conn.execute(
        "select a.id, a.patient_id, a.severity, a.status, a.opened_at, a.escalated_at, a.overdue_at from alert a"
        " where a.status in ('open', 'acknowledged')"
        " and (a.escalated_at is null or a.overdue_at is null)"
        " and a.opened_at <= %s - (select min(after) from escalation_policy p where p.severity = a.severity)"
        " order by a.opened_at limit %s for update skip locked",
        (now, ESCALATION_BATCH),
    )
    return [(r[0], r[1], AlertState(r[2], r[3], r[4], r[5], r[6])) for r in rows]


def contacts(
    conn: psycopg.Connection, *, role: str, region_id: int | None = None, team_id: int | None = None
) -> list[tuple[str, str]]:
    """(channel, address) of the active contacts of a region or team in a role."""
    rows = conn.execute(
        "select channel, address from contact where active and role = %s"
        " and region_id is not distinct from %s and team_id is not distinct from %s order by id",
        (role, region_id, team_id),
    )
    return [(r[0], r[1]) for r in rows]


def add_contact(
    conn: psycopg.Connection,
    *,
    role: str,
    channel: str,
    address: str,
    region_id: int | None = None,
    team_id: int | None = None,
) -> None:
    """Register where a centre, the on-duty person or a team is reached."""
    conn.execute(
        "insert into contact (region_id, team_id, role, channel, address) values (%s, %s, %s, %s, %s)"
        " on conflict do nothing",
        (region_id, team_id, role, channel, address),
    )


def alert_row(conn: psycopg.Connection, alert_id: int) -> dict[str, Any]:
    """One alert as a dict."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("select * from alert where id = %s", (alert_id,)).fetchone()
    if row is None:
        raise Refusal("workflow.refused.no_alert", alert_id=alert_id)
    return row


def list_alerts(
    conn: psycopg.Connection,
    *,
    township_code: str | None = None,
    status: str | None = None,
    overdue_only: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Alerts for a person's list: newest first, optionally one township's, one status, or only overdue."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select a.id, a.opened_at, a.severity, a.status, a.occurrences, a.reasons, a.acknowledged_at,"
            " a.acknowledged_by, a.action, a.closed_at, a.outcome, a.escalated_at, a.overdue_at,"
            " t.code as township_code, t.name as township, p.health_card_no, a.reason_facts"
            " from alert a join region t on t.id = a.township_id join patient p on p.id = a.patient_id"
            " where (%s::text is null or t.code = %s) and (%s::text is null or a.status = %s)"
            " and (not %s or a.overdue_at is not null and a.status <> 'closed')"
            " order by a.opened_at desc limit %s",
            (township_code, township_code, status, status, overdue_only, limit),
        ).fetchall()


def region_id(conn: psycopg.Connection, code: str) -> int:
    """The id of the region (county, township or village) with this code."""
    row = conn.execute("select id from region where code = %s", (code,)).fetchone()
    if row is None:
        raise Refusal("workflow.refused.no_region", code=code)
    return int(row[0])


def team_id(conn: psycopg.Connection, code: str) -> int:
    """The id of the family-doctor team with this code."""
    row = conn.execute("select id from care_team where code = %s", (code,)).fetchone()
    if row is None:
        raise Refusal("workflow.refused.no_team", code=code)
    return int(row[0])
