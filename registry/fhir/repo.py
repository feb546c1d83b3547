"""SQL of the FHIR export: the county's (or one township's) patients, their readings, follow-up visits and
assessments, and the meters those readings came from. Readings are streamed through a server-side cursor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

# The patients in scope: of the county's townships, or of one township (its code), by the village they live in.
_SCOPE = """
join region v on v.id = p.village_id
join region t on t.id = v.parent_id
where t.parent_id = %(county)s and (%(township)s::text is null or t.code = %(township)s)
"""

_PATIENTS = f"""
select p.id, p.record_no, p.health_card_no, p.sex, p.birth_year, h.birth_date, p.hypertension, p.diabetes,
       p.registered_at, p.id_card_masked, pp.name, pp.address, c.phone
from patient p
left join health_record h on h.patient_id = p.id
left join patient_person pp on pp.patient_id = p.id
left join patient_contact c on c.patient_id = p.id
{_SCOPE}
order by p.id
"""

_READINGS = f"""
select r.device_id, d.uid, r.seq, r.measured_at, r.received_at, r.kind, r.patient_id, r.systolic, r.diastolic,
       r.pulse, r.glucose_mmol, r.glucose_flag, r.glucose_context
from reading r
join device d on d.id = r.device_id
join patient p on p.id = r.patient_id
{_SCOPE} and (%(since)s::timestamptz is null or r.measured_at >= %(since)s)
order by r.patient_id, r.measured_at
"""

# Meters standing in the scope's clinics, and any meter a reading of the export came from (a patient may have
# measured in another township's clinic), so that every Observation's device resolves.
_DEVICES = f"""
select d.id, d.uid, d.kind, d.serial, d.imei, d.revoked_at is not null as revoked
from device d
where d.clinic_id in (select v.id from region v join region t on t.id = v.parent_id
                      where t.parent_id = %(county)s and (%(township)s::text is null or t.code = %(township)s))
   or d.id in (select r.device_id from reading r join patient p on p.id = r.patient_id
               {_SCOPE} and (%(since)s::timestamptz is null or r.measured_at >= %(since)s))
order by d.id
"""

_FOLLOW_UPS = f"""
select f.id, f.patient_id, f.done_on, f.class
from follow_up f join patient p on p.id = f.patient_id
{_SCOPE} and (%(since)s::timestamptz is null or f.done_on >= (%(since)s at time zone 'Asia/Shanghai')::date)
order by f.id
"""

_ASSESSMENTS = f"""
select a.patient_id, a.colour, a.reasons, a.assessed_at, a.rules_edition, a.ascvd_10y_percent, a.ascvd_category
from assessment_current a join patient p on p.id = a.patient_id
{_SCOPE} and (%(since)s::timestamptz is null or a.assessed_at >= %(since)s)
order by a.patient_id
"""

QUERIES = {
    "patients": _PATIENTS,
    "readings": _READINGS,
    "devices": _DEVICES,
    "follow_ups": _FOLLOW_UPS,
    "assessments": _ASSESSMENTS,
}
FETCH = 5_000  # rows per round trip of the server-side cursor


def county_id(conn: psycopg.Connection, code: str) -> int | None:
    """The region id of the county with this code."""
    row = conn.execute("select id from region where code = %s and level = 'county'", (code,)).fetchone()
    return int(row[0]) if row else None


def township_exists(conn: psycopg.Connection, *, county: int, code: str) -> bool:
    """Whether the county has a township with this code."""
    row = conn.execute(
        "select 1 from region where code = %s and level = 'township' and parent_id = %s", (code, county)
    ).fetchone()
    return row is not None


@dataclass(frozen=True, slots=True)
class Scope:
    """Which patients and which of their data: the county's (or one township's), from `since` on."""

    county: int
    township: str | None = None
    since: datetime | None = None


def rows(conn: psycopg.Connection, what: str, scope: Scope) -> Iterator[dict[str, Any]]:
    """The rows of one query, streamed (never the whole result in memory)."""
    params = {"county": scope.county, "township": scope.township, "since": scope.since}
    with conn.cursor(name=f"fhir_{what}", row_factory=dict_row) as cur:
        cur.itersize = FETCH
        cur.execute(QUERIES[what], params)
        yield from cur
