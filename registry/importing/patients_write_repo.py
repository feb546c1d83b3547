"""SQL that writes the staged patients into the store: new patients, the changed fields of stored ones, their
health record, name and address, phone; then readings waiting for them. Set-based: one statement per table."""

from __future__ import annotations

from datetime import datetime

import psycopg

# New patients in one statement: the patient rows, then their health record, name and address, and phone from the
# same staged rows, and their ids kept in `import_new` — no pass over the staging table to write the ids back.
_NEW = """
with ins as (
    insert into patient (record_no, health_card_no, sex, birth_year, hypertension, diabetes, village_id, team_id,
                         registered_at, id_card_hash, id_card_key_id, id_card_masked)
    select s.record_no, s.want_card, s.sex, extract(year from s.birth_date)::smallint, s.hypertension, s.diabetes,
           s.village_id, s.team_id, s.managed::timestamp at time zone %(tz)s, s.id_hash, s.id_key_id, s.id_masked
    from import_patient s
    where not s.refused and s.patient_id is null
    order by s.row_no
    returning id, record_no
),
staged as materialized (
    select i.id, s.* from ins i join import_patient s on s.record_no = i.record_no and not s.refused
),
records as (
    insert into health_record (patient_id, birth_date, total_cholesterol_mmol, hdl_mmol, waist_cm, height_cm,
                               weight_kg, smoker, family_history_ascvd, urban, on_bp_treatment, updated_at)
    select id, birth_date, total_cholesterol, hdl, waist, height, weight, smoker, family_history, urban,
           on_bp_treatment, %(now)s
    from staged
),
people as (
    insert into patient_person (patient_id, name, address, updated_at) select id, name, address, %(now)s from staged
),
contacts as (
    insert into patient_contact (patient_id, phone, updated_at)
    select id, phone, %(now)s from staged where phone is not null
)
insert into import_new (patient_id) select id from staged
"""

_UPDATE = """
update patient p set
    record_no = s.record_no, sex = s.sex, birth_year = extract(year from s.birth_date)::smallint,
    hypertension = s.hypertension, diabetes = s.diabetes, village_id = s.village_id, team_id = s.team_id,
    registered_at = case when (p.registered_at at time zone %(tz)s)::date = s.managed then p.registered_at
                         else s.managed::timestamp at time zone %(tz)s end,
    health_card_no = s.want_card,
    id_card_hash = coalesce(s.id_hash, p.id_card_hash),
    id_card_key_id = case when s.id_hash is null then p.id_card_key_id else s.id_key_id end,
    id_card_masked = coalesce(s.id_masked, p.id_card_masked)
from import_patient s
where p.id = s.patient_id and s.changed and not s.refused
"""

_HEALTH_RECORD = """
insert into health_record (patient_id, birth_date, total_cholesterol_mmol, hdl_mmol, waist_cm, height_cm, weight_kg,
                           smoker, family_history_ascvd, urban, on_bp_treatment, updated_at)
select s.patient_id, s.birth_date, s.total_cholesterol, s.hdl, s.waist, s.height, s.weight, s.smoker,
       s.family_history, s.urban, s.on_bp_treatment, %(now)s
from import_patient s where s.changed and not s.refused
on conflict (patient_id) do update set
    birth_date = excluded.birth_date,
    total_cholesterol_mmol = coalesce(excluded.total_cholesterol_mmol, health_record.total_cholesterol_mmol),
    hdl_mmol = coalesce(excluded.hdl_mmol, health_record.hdl_mmol),
    waist_cm = coalesce(excluded.waist_cm, health_record.waist_cm),
    height_cm = coalesce(excluded.height_cm, health_record.height_cm),
    weight_kg = coalesce(excluded.weight_kg, health_record.weight_kg),
    smoker = coalesce(excluded.smoker, health_record.smoker),
    family_history_ascvd = coalesce(excluded.family_history_ascvd, health_record.family_history_ascvd),
    urban = coalesce(excluded.urban, health_record.urban),
    on_bp_treatment = coalesce(excluded.on_bp_treatment, health_record.on_bp_treatment),
    updated_at = excluded.updated_at
"""

_PERSON = """
insert into patient_person (patient_id, name, address, updated_at)
select s.patient_id, s.name, s.address, %(now)s from import_patient s where s.changed and not s.refused
on conflict (patient_id) do update set
    name = excluded.name, address = coalesce(excluded.address, patient_person.address), updated_at = excluded.updated_at
"""

_CONTACT = """
insert into patient_contact (patient_id, phone, updated_at)
select s.patient_id, s.phone, %(now)s from import_patient s where s.changed and not s.refused and s.phone is not null
on conflict (patient_id) do update set phone = excluded.phone, updated_at = excluded.updated_at
"""

# Readings waiting under a new patient's health card or ID-card hash (or a stored patient's new ones) move to them,
# as registering one patient does (ingest.attribution.service.register_patient): only those that matched nobody.
_ATTRIBUTE = """
with touched as (
    select patient_id as id from import_new
    union all
    select patient_id from import_patient where changed and not refused
),
refs as (
    select p.id, 'health_card' as scheme, p.health_card_no as ref_key from touched t join patient p on p.id = t.id
    union all
    -- every form a waiting reading of the row's ID-card number may be kept in (its chain of keys, then the hash)
    select p.id, 'id_card', c.chain || ':' || encode(c.digest, 'hex')
    from touched t join patient p on p.id = t.id
    join import_patient s on s.patient_id = p.id or (s.patient_id is null and s.record_no = p.record_no)
    cross join lateral unnest(s.id_digests, s.id_chains) as c (digest, chain)
    where not s.refused and s.id_digests is not null
),
moved as (
    update reading_unattributed u set attributed_at = %(now)s, patient_id = r.id, attributed_by = 'registration'
    from refs r
    where u.attributed_at is null and u.reason = 'no_match' and u.ref_scheme = r.scheme and u.ref_key = r.ref_key
    returning u.device_id, u.seq, u.measured_at, u.patient_id
)
update reading r set patient_id = m.patient_id from moved m
where r.device_id = m.device_id and r.seq = m.seq and r.measured_at = m.measured_at and r.patient_id is null
returning r.patient_id
"""


def insert_new(conn: psycopg.Connection, *, tz: str, now: datetime) -> int:
    """Insert the new patients with their health record, name, address and phone; patients inserted."""
    return conn.execute(_NEW, {"tz": tz, "now": now}).rowcount


def update_changed(conn: psycopg.Connection, *, tz: str) -> None:
    """Write the rows of stored patients the file changes (marked `changed`)."""
    conn.execute(_UPDATE, {"tz": tz})


def write_details(conn: psycopg.Connection, *, now: datetime) -> None:
    """Health record, name and address, phone of every stored patient the file changes; a blank in the file keeps
    what is stored."""
    for statement in (_HEALTH_RECORD, _PERSON, _CONTACT):
        conn.execute(statement, {"now": now})


def attribute_waiting(conn: psycopg.Connection, *, now: datetime) -> list[int]:
    """Move waiting readings to the new or changed patients they name; the patient id of each reading moved."""
    return [int(r[0]) for r in conn.execute(_ATTRIBUTE, {"now": now}).fetchall()]


def changed_ids(conn: psycopg.Connection, *, with_new: bool = True) -> list[int]:
    """Patients the import changed, and (`with_new`) those it added."""
    rows = conn.execute(
        "select s.patient_id from import_patient s where s.changed and not s.refused"
        " union all select patient_id from import_new where %s",
        (with_new,),
    )
    return [int(r[0]) for r in rows]
