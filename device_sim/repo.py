"""Writes a simulated county into the store's registry (regions, teams, patients, meters), idempotently."""

from __future__ import annotations

import logging

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
