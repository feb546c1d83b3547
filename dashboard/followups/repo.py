"""All SQL of the follow-up list: who a family-doctor team should see or call, most urgent first, scoped to the viewer.

The order is the CLI's (alerts.followups.logic.order), written once in SQL as FOLLOWUP_ORDER so that the page, its
pagination and its exports agree: red first (higher priority first), then the overdue (longest overdue first), then
the rest (soonest due first). The due date is the one alerts.followups.logic.due_date computes in Python, stored by
triggers (migration 0098) for Asia/Shanghai and computed in SQL for another zone (the tests hold all three equal).
Names: in full for the team and the township, masked for the county (dashboard.access.Principal.sees_names); phone
and address only for the team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from alerts.followups.logic import ROUTINE, SHORT
from assess.rules import LOOKBACK
from cdm.domain import completed_years
from cdm.privacy import mask_card
from cdm.thresholds import FOLLOW_UP_DUE_TZ
from dashboard.access import Principal, Role, scope_filter

DEFAULT_LIMIT = 1000  # rows a screen shows at most: a team has fewer; a county user filters down
DEFAULT_TZ = "Asia/Shanghai"
# A patient belongs to the township of their village clinic, or to the township itself when registered there.
TOWNSHIP_OF_PATIENT = "case v.level when 'township' then v.id else v.parent_id end"
TEAM_OF_PATIENT = "p.team_id"
COLOURS = ("red", "yellow", "green")

_IDENTITY = "pc.phone, p.id_card_masked, pp.address"
_NO_IDENTITY = "null::text as phone, null::text as id_card_masked, null::text as address"
_CONTACT_JOIN = "left join patient_contact pc on pc.patient_id = page.patient_id"
_NAME = "pp.name"
# The county's masked form is made in SQL, so a full name never leaves the database for a role that may not see it.
_MASKED_NAME = "left(pp.name, 1) || repeat('*', greatest(char_length(pp.name) - 1, 1))"  # null stays null
# The order a doctor works in (alerts.followups.logic.order), over a row with colour, priority and due.
FOLLOWUP_ORDER = (
    "case when {t}.colour = 'red' then 0 when {t}.due < %(today)s then 1 else 2 end,"
    " case when {t}.colour = 'red' then -{t}.priority else 0 end, {t}.due, {t}.patient_id"
)

# Two steps: first the order (only what it needs: colour, priority and due date, for the scoped patients), then the
# columns shown, for the page's rows alone. The due date is stored (assessment_current.followup_due, migration 0098,
# kept by triggers) for STORED_DUE_TZ; the order's only dependence on today is red / overdue / due soon, and among
# the others the overdue are simply the earliest due. So the county's red are read in order from one index and the
# others from another, at most `limit` of each (it no longer computes and sorts 260,000 due dates); a township's or
# a team's patients (13,000 or 6,500 at 260,000) are found through their villages or team, each one's row read by
# its key (`offset 0` keeps that plan: costed as random reads, PostgreSQL 15 chose a parallel scan of all 250,000
# rows and a hash join, 345 ms against 54 ms for a team on the shared test server), and sorted.
STORED_DUE_TZ = FOLLOW_UP_DUE_TZ
_STORED_FILTER = (
    "({scope}) and (%(colours)s::text[] is null or a.colour = any(%(colours)s::text[]))"
    " and (not %(overdue_only)s or a.followup_due < %(today)s)"
)
_STORED_SCOPED = """
candidate as materialized (
    select a.patient_id, a.colour, a.priority, a.followup_due as due
    from patient p
    join region v on v.id = p.village_id
    cross join lateral (
        select ac.patient_id, ac.colour, ac.priority, ac.followup_due from assessment_current ac
        where ac.patient_id = p.id offset 0
    ) a
    where {filter}
),
"""
_STORED_IN_ORDER = """
candidate as (
    (select a.patient_id, a.colour, a.priority, a.followup_due as due
     from assessment_current a
     join patient p on p.id = a.patient_id
     join region v on v.id = p.village_id
     where a.colour = 'red' and {filter}
     order by a.priority desc, a.followup_due, a.patient_id
     limit %(limit)s)
    union all
    (select a.patient_id, a.colour, a.priority, a.followup_due as due
     from assessment_current a
     join patient p on p.id = a.patient_id
     join region v on v.id = p.village_id
     where a.colour <> 'red' and {filter}
     order by a.followup_due, a.patient_id
     limit %(limit)s)
),
"""
# In another time zone the due date is computed per patient, as before 0098 (the same dates as the stored ones in
# Asia/Shanghai; tests hold the two equal), and the scoped patients are sorted whole. A team's (a few hundred to a
# couple of thousand) are read through their own index (`materialized`).
_COMPUTED_CANDIDATE = """
candidate as {materialized} (
    select a.patient_id, a.colour, a.priority,
           case when a.colour <> 'green'
                     and (f.done_on is null or f.done_on < (a.colour_since at time zone %(tz)s)::date)
                then least(s.scheduled, (a.colour_since at time zone %(tz)s)::date + %(short)s::integer)
                else s.scheduled end as due
    from assessment_current a
    join patient p on p.id = a.patient_id
    join region v on v.id = p.village_id
    left join lateral (
        select fu.done_on, fu.next_due from follow_up fu where fu.patient_id = a.patient_id
        order by fu.done_on desc, fu.recorded_at desc, fu.id desc limit 1
    ) f on true
    cross join lateral (
        select coalesce(f.next_due,
                        coalesce(f.done_on, (p.registered_at at time zone %(tz)s)::date) + %(routine)s::integer)
               as scheduled
    ) s
    where ({scope}) and (%(colours)s::text[] is null or a.colour = any(%(colours)s::text[]))
),
"""
_LIST = """
with {candidate}
page as (
    select * from candidate
    where not %(overdue_only)s or due < %(today)s
    order by {order_candidate}
    limit %(limit)s
)
select page.*, ac.reasons, ac.reason_facts, p.health_card_no, p.sex, p.birth_year, tw.name as township,
       (select h.birth_date from health_record h where h.patient_id = page.patient_id) as birth_date,
       case v.level when 'village' then v.name end as village, ct.name as team, {identity}, {name} as name,
       bp.systolic, bp.diastolic, bp.measured_at as bp_at,
       g.glucose_mmol, g.glucose_context, g.measured_at as glucose_at
from page
join assessment_current ac on ac.patient_id = page.patient_id
join patient p on p.id = page.patient_id
join region v on v.id = p.village_id
join region tw on tw.id = {township}
left join care_team ct on ct.id = p.team_id
left join patient_person pp on pp.patient_id = page.patient_id
{contact}
{latest_bp}
{latest_glucose}
order by {order_page}
"""
# A listed patient's latest reading of one kind in the window, joined as `alias` (one index look-up each kind).
_LATEST_READING = """left join lateral (
    select {columns}, r.measured_at from reading r
    where r.patient_id = page.patient_id and r.kind = '{kind}' and r.measured_at >= %(since)s
      and r.measured_at < %(until)s
    order by r.measured_at desc limit 1
) {alias} on true"""

_CARD_IN_SCOPE = """
select p.health_card_no from patient p join region v on v.id = p.village_id
where p.id = %(patient_id)s and ({scope})
"""


@dataclass(frozen=True, slots=True)
class FollowupRow:
    """One patient on the follow-up list, as a screen may show it to the viewer."""

    patient_id: int
    card: str  # the health-card number, masked
    sex: str
    age: int
    township: str
    village: str | None  # None: registered at the township health centre
    team: str | None
    colour: str
    reasons: tuple[str, ...]  # reason codes (assess.rules); the screen shows their text from the catalogue
    reason_facts: dict[str, Any]  # each reason's figures and target (assess.reasons words them)
    priority: float
    due: date
    days_overdue: int
    last_bp: str | None  # "152/96", within the rules' 90-day lookback
    last_bp_at: datetime | None
    last_glucose: float | None  # mmol/L
    last_glucose_context: str | None  # fasting / non_fasting
    last_glucose_at: datetime | None
    phone: str | None  # only for roles that see identity (Principal.sees_identity)
    id_card: str | None  # the masked ID-card form, only for roles that see identity
    name: str | None = None  # in full for the team and township, masked for the county; None: not on file
    address: str | None = None  # only for roles that see identity


def followup_rows(
    conn: psycopg.Connection,
    *,
    principal: Principal,
    today: date | None = None,
    colours: tuple[str, ...] | None = None,
    overdue_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    tz: str = DEFAULT_TZ,
) -> list[FollowupRow]:
    """The first `limit` patients `principal` may see, most urgent first; optionally only some colours or overdue."""
    today = today or datetime.now(ZoneInfo(tz)).date()
    query, params = list_query(
        principal=principal, today=today, colours=colours, overdue_only=overdue_only, limit=limit, tz=tz
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()  # the format fills code, never input
    return [_row(r, today=today) for r in rows]


def list_query(
    *,
    principal: Principal,
    today: date,
    colours: tuple[str, ...] | None,
    overdue_only: bool,
    limit: int,
    tz: str,
) -> tuple[str, dict[str, object]]:
    """The list's SQL and bound parameters for this viewer and these filters."""
    if colours is not None and not set(colours) <= set(COLOURS):
        raise ValueError(f"colours must be among {COLOURS}")
    scope, scope_params = scope_filter(principal, township_col=TOWNSHIP_OF_PATIENT, team_col=TEAM_OF_PATIENT)
    identity = principal.sees_identity
    if tz == STORED_DUE_TZ:
        stored = _STORED_IN_ORDER if principal.role in (Role.COUNTY, Role.ADMIN) else _STORED_SCOPED
        candidate = stored.format(filter=_STORED_FILTER.format(scope=scope))
    else:
        materialized = "materialized" if principal.role is Role.TEAM else "not materialized"
        candidate = _COMPUTED_CANDIDATE.format(materialized=materialized, scope=scope)
    query = _LIST.format(
        candidate=candidate,
        identity=_IDENTITY if identity else _NO_IDENTITY,
        contact=_CONTACT_JOIN if identity else "",
        name=_NAME if principal.sees_names else _MASKED_NAME,
        township=TOWNSHIP_OF_PATIENT,
        order_candidate=FOLLOWUP_ORDER.format(t="candidate"),
        order_page=FOLLOWUP_ORDER.format(t="page"),
        latest_bp=_LATEST_READING.format(columns="r.systolic, r.diastolic", kind="bp", alias="bp"),
        latest_glucose=_LATEST_READING.format(columns="r.glucose_mmol, r.glucose_context", kind="glucose", alias="g"),
    )
    params: dict[str, object] = {
        **scope_params,
        "tz": tz,
        "today": today,
        "routine": ROUTINE.days,
        "short": SHORT.days,
        "colours": list(colours) if colours is not None else None,
        "overdue_only": overdue_only,
        "limit": limit,
        "since": datetime.combine(today, datetime.min.time(), ZoneInfo(tz)) - LOOKBACK,
        # An upper bound lets the planner skip the month partitions ahead and the default one (8 index look-ups a
        # patient became 4 at 260,000 patients); ingest refuses a reading more than CDM_MAX_CLOCK_SKEW_S (5 minutes)
        # ahead of arrival, so two days on loses none.
        "until": datetime.combine(today + timedelta(days=2), datetime.min.time(), ZoneInfo(tz)),
    }
    return query, params


def _row(r: dict, *, today: date) -> FollowupRow:
    due: date = r["due"]
    return FollowupRow(
        patient_id=r["patient_id"],
        card=mask_card(r["health_card_no"]),
        sex=r["sex"],
        age=completed_years(r["birth_date"], today) if r["birth_date"] else today.year - r["birth_year"],
        township=r["township"],
        village=r["village"],
        team=r["team"],
        colour=r["colour"],
        reasons=tuple(r["reasons"]),
        reason_facts=r["reason_facts"] or {},
        priority=float(r["priority"]),
        due=due,
        days_overdue=max((today - due).days, 0),
        last_bp=f"{r['systolic']}/{r['diastolic']}" if r["systolic"] is not None else None,
        last_bp_at=r["bp_at"],
        last_glucose=round(float(r["glucose_mmol"]), 1) if r["glucose_mmol"] is not None else None,
        last_glucose_context=r["glucose_context"],
        last_glucose_at=r["glucose_at"],
        phone=r["phone"],
        id_card=r["id_card_masked"],
        name=r["name"],
        address=r["address"],
    )


def card_in_scope(conn: psycopg.Connection, *, principal: Principal, patient_id: int) -> str | None:
    """The patient's full health-card number when `principal` may see the patient; None otherwise.

    Stays on the server: recording a visit names the patient by it (alerts.followups.service), a screen never does.
    """
    scope, params = scope_filter(principal, township_col=TOWNSHIP_OF_PATIENT, team_col=TEAM_OF_PATIENT)
    row = conn.execute(
        _CARD_IN_SCOPE.format(scope=scope),
        {**params, "patient_id": patient_id},
    ).fetchone()
    return row[0] if row else None
