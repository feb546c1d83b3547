"""Writes a simulated county into the store's registry (regions, teams, patients, meters), idempotently."""

from __future__ import annotations

import logging
from datetime import date, datetime

import psycopg

from device_sim.county import County

log = logging.getLogger(__name__)

# Each statement inserts only rows whose natural key is not there yet, so a second call inserts nothing and
# changes nothing (not even identity sequences); `on conflict do nothing` covers a concurrent registration.
_COUNTY = """
insert into region (code, name, level, parent_id)
select %(code)s, %(name)s, 'county', null
where not exists (select 1 from region where code = %(code)s)
on conflict do nothing
"""

_CHILD_REGIONS = """
insert into region (code, name, level, parent_id)
select v.code, v.name, %(level)s, p.id
from unnest(%(codes)s::text[], %(names)s::text[], %(parents)s::text[]) as v (code, name, parent_code)
join region p on p.code = v.parent_code
where not exists (select 1 from region r where r.code = v.code)
on conflict do nothing
"""

_TEAMS = """
insert into care_team (code, name, township_id)
select v.code, v.name, t.id
from unnest(%(codes)s::text[], %(names)s::text[], %(townships)s::text[]) as v (code, name, township_code)
join region t on t.code = v.township_code
where not exists (select 1 from care_team c where c.code = v.code)
on conflict do nothing
"""

_PATIENTS = """
insert into patient (health_card_no, qr_code, sex, birth_year, hypertension, diabetes, village_id, team_id)
select v.card, v.qr, v.sex, v.birth_year, v.htn, v.dm, r.id, t.id
from unnest(
    %(cards)s::text[], %(qrs)s::text[], %(sexes)s::text[], %(years)s::smallint[], %(htn)s::boolean[],
    %(dm)s::boolean[], %(villages)s::text[], %(teams)s::text[]
) as v (card, qr, sex, birth_year, htn, dm, village_code, team_code)
join region r on r.code = v.village_code
join care_team t on t.code = v.team_code
where not exists (select 1 from patient p where p.health_card_no = v.card or p.qr_code = v.qr)
on conflict do nothing
"""

_DEVICES = """
insert into device (uid, kind, clinic_id)
select v.uid, v.kind, r.id
from unnest(%(uids)s::text[], %(kinds)s::text[], %(clinics)s::text[]) as v (uid, kind, clinic_code)
join region r on r.code = v.clinic_code
where not exists (select 1 from device d where d.uid = v.uid)
on conflict do nothing
"""


def register_county(conn: psycopg.Connection, county: County) -> dict[str, int]:
    """Insert the county's regions, teams, patients and meters that are not registered yet; counts inserted."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_COUNTY, {"code": county.code, "name": county.name})
        counties = cur.rowcount
        cur.execute(
            _CHILD_REGIONS,
            {
                "level": "township",
                "codes": [t.code for t in county.townships],
                "names": [t.name for t in county.townships],
                "parents": [county.code] * len(county.townships),
            },
        )
        townships = cur.rowcount
        cur.execute(
            _CHILD_REGIONS,
            {
                "level": "village",
                "codes": [c.code for c in county.clinics],
                "names": [c.name for c in county.clinics],
                "parents": [c.township_code for c in county.clinics],
            },
        )
        villages = cur.rowcount
        cur.execute(
            _TEAMS,
            {
                "codes": [t.code for t in county.teams],
                "names": [t.name for t in county.teams],
                "townships": [t.township_code for t in county.teams],
            },
        )
        teams = cur.rowcount
        cur.execute(_PATIENTS, _patient_columns(county))
        patients = cur.rowcount
        cur.execute(
            _DEVICES,
            {
                "uids": [m.uid for m in county.meters],
                "kinds": [m.kind for m in county.meters],
                "clinics": [m.clinic_code for m in county.meters],
            },
        )
        devices = cur.rowcount
    counts = {
        "counties": counties,
        "townships": townships,
        "villages": villages,
        "care_teams": teams,
        "patients": patients,
        "devices": devices,
    }
    log.info("registered county %s: %s", county.code, counts)
    return counts


def _patient_columns(county: County) -> dict[str, list[object]]:
    ps = county.patients
    return {
        "cards": [p.health_card_no for p in ps],
        "qrs": [p.qr_code for p in ps],
        "sexes": [p.sex for p in ps],
        "years": [p.birth_year for p in ps],
        "htn": [p.hypertension for p in ps],
        "dm": [p.diabetes for p in ps],
        "villages": [p.village_code for p in ps],
        "teams": [p.team_code for p in ps],
    }


def device_places(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """Every meter's id and clinic, by meter id (uid)."""
    return {uid: (i, clinic) for uid, i, clinic in conn.execute("select uid, id, clinic_id from device")}


def patient_ids_by_card(conn: psycopg.Connection) -> dict[str, int]:
    """Every patient's id, by health-card number."""
    return dict(conn.execute("select health_card_no, id from patient").fetchall())


# A county with a past: patients entered the programme between a month and five years ago (spread by a hash of
# their card, so the same county always gets the same dates); the newest tenth within the last 90 days.
_SPREAD_REGISTRATIONS = """
update patient set registered_at = %(now)s - make_interval(days => case
    when abs(hashtext(health_card_no || %(salt)s)) %% 10 = 0 then 30 + abs(hashtext(health_card_no)) %% 55
    else 95 + abs(hashtext(health_card_no || 'r')) %% 1730 end)
"""

# Quarterly face-to-face follow-ups over the last year for patients registered long enough; about one in five
# misses one or more (so the standardised management rate is a real fraction, not 100 %).
_PAST_FOLLOW_UPS = """
insert into follow_up (patient_id, done_on, class, next_step, next_due, recorded_by, recorded_at)
select p.id, v.done_on,
       -- an uncontrolled visit now and then, never two in a row (that would be a referral: red)
       case when q = 1 and abs(hashtext(p.health_card_no || 'u')) %% 6 = 0 then 'uncontrolled' else 'controlled' end,
       null, v.done_on + 90, %(recorded_by)s, v.done_on::timestamp + interval '10 hours'
from patient p
cross join generate_series(0, 3) q
cross join lateral (select (%(today)s::date - q * 91 - abs(hashtext(p.health_card_no)) %% 60) as done_on) v
where v.done_on > (p.registered_at at time zone 'Asia/Shanghai')::date
  and abs(hashtext(p.health_card_no || 'f' || q::text)) %% 100 >= %(miss_pct)s
  and v.done_on > %(after)s and v.done_on <= %(until)s
"""

# Meters heard from recently: online, with their last heartbeat, battery and signal; a few went offline days ago
# (their last will, or silence).
_METERS_HEARD = """
update device d set
    status = case when abs(hashtext(d.uid)) %% 97 < %(offline_per_97)s then 'offline' else 'online' end,
    status_reason = case when abs(hashtext(d.uid)) %% 97 < %(offline_per_97)s
                         then (case when abs(hashtext(d.uid)) %% 2 = 0 then 'will' else 'silent' end)
                         else 'heartbeat' end,
    status_at = case when abs(hashtext(d.uid)) %% 97 < %(offline_per_97)s
                     then %(now)s - make_interval(days => 2 + abs(hashtext(d.uid)) %% 9)
                     else %(now)s - make_interval(days => 20) end,
    last_heartbeat_at = case when abs(hashtext(d.uid)) %% 97 < %(offline_per_97)s
                             then %(now)s - make_interval(days => 2 + abs(hashtext(d.uid)) %% 9)
                             else %(now)s - make_interval(mins => abs(hashtext(d.uid || 'h')) %% 50) end,
    battery_pct = 35 + abs(hashtext(d.uid || 'b')) %% 65,
    signal_dbm = -105 + abs(hashtext(d.uid || 's')) %% 45,
    last_seen_at = greatest(d.last_seen_at, r.last_at)
from (select device_id, max(received_at) as last_at from reading group by device_id) r
where r.device_id = d.id and d.revoked_at is null
"""


def spread_registrations(conn: psycopg.Connection, *, now: datetime) -> int:
    """Date every patient's entry into the programme a month to five years before `now`; patients updated."""
    return conn.execute(_SPREAD_REGISTRATIONS, {"now": now, "salt": "reg"}).rowcount


def add_past_follow_ups(
    conn: psycopg.Connection, *, today: date, after: date, until: date, recorded_by: str, miss_pct: int = 8
) -> int:
    """The quarterly follow-ups of the year before `today` (each missed with `miss_pct` % chance) done after
    `after` and up to `until`; rows written. Successive ranges write disjoint visits of the same plan."""
    values = {"today": today, "after": after, "until": until, "recorded_by": recorded_by, "miss_pct": miss_pct}
    return conn.execute(_PAST_FOLLOW_UPS, values).rowcount


def mark_meters_heard(conn: psycopg.Connection, *, now: datetime, offline_per_97: int = 2) -> int:
    """Give every meter with past readings its status and last heartbeat (about 2 % offline); meters updated."""
    return conn.execute(_METERS_HEARD, {"now": now, "offline_per_97": offline_per_97}).rowcount


def add_spare_meters(conn: psycopg.Connection, *, county_code: str, count: int = 4) -> int:
    """Provision `count` spare BP meters at the first clinics, never switched on (status 'unknown'); rows added."""
    rows = conn.execute(
        "insert into device (uid, kind, clinic_id)"
        " select %(prefix)s || lpad(c.n::text, 3, '0'), 'bp', c.id"
        " from (select id, row_number() over (order by code) as n from region where level = 'village') c"
        " where c.n <= %(count)s"
        " and not exists (select 1 from device d where d.uid = %(prefix)s || lpad(c.n::text, 3, '0'))",
        {"prefix": f"{county_code}-spare-", "count": count},
    )
    return rows.rowcount
