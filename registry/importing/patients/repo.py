"""SQL of importing patients, set-based: the file's clean rows are COPYed into a staging table; conflicts with the
store, what changed and what is new are found by a few statements over it. Then the store is written from it (new
patients, the changed fields of stored ones, their health record, name and address, phone, then readings waiting
for them), one statement per table.

The staging table lives for the import's transaction. A refused row stays in it (refused = true) so that a
patient whose row was refused is not reported as missing from the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg

STAGING_COLUMNS = (
    "row_no",
    "refused",
    "record_no",
    "name",
    "sex",
    "birth_date",
    "id_hash",
    "id_key_id",
    "id_digests",
    "id_chains",
    "id_masked",
    "phone",
    "address",
    "village",
    "team",
    "hypertension",
    "diabetes",
    "managed",
    "card",
    "on_bp_treatment",
    "total_cholesterol",
    "hdl",
    "waist",
    "height",
    "weight",
    "smoker",
    "family_history",
    "urban",
    "village_id",
    "team_id",
    "want_card",
)

_CREATE = """
create temp table import_patient (
    row_no integer primary key, refused boolean not null, record_no text, name text, sex text, birth_date date,
    id_hash bytea, id_key_id text, id_digests bytea[], id_chains text[], id_masked text, phone text, address text,
    village text, team text, hypertension boolean,
    diabetes boolean, managed date, card text, on_bp_treatment boolean, total_cholesterol real, hdl real,
    waist real, height real, weight real, smoker boolean, family_history boolean, urban boolean,
    village_id integer, team_id integer, want_card text, patient_id bigint, changed boolean not null default false
) on commit drop
"""

# The patient each row is about: the one with its record number; else one registered before imports existed
# (no record number) under the row's health card, which the import then takes over.
_TARGETS = (
    "update import_patient s set patient_id = p.id from patient p where p.record_no = s.record_no and not s.refused",
    "update import_patient s set patient_id = p.id from patient p where s.patient_id is null and not s.refused"
    " and p.record_no is null and p.health_card_no = s.card",
    # staged as the row's card, else its record number; a stored patient without a card in the row keeps theirs
    "update import_patient s set want_card = p.health_card_no from patient p"
    " where p.id = s.patient_id and s.card is null and not s.refused and s.want_card <> p.health_card_no",
)

# A stored patient holds the row's ID-card number: its hash is one of the forms the number may be stored in, under
# the chain of keys that made it (cdm.id_keys: a re-key wraps stored hashes without the numbers).
_HOLDS_ID = (
    "exists (select 1 from unnest(s.id_digests, s.id_chains) as c (digest, chain)"
    " where c.digest = p.id_card_hash and c.chain = p.id_card_key_id)"
)

# (row, column field, other record) of every conflict with the store or between rows' health cards.
_CONFLICTS = f"""
select s.row_no, 'id_number', coalesce(p.record_no, p.health_card_no)
from import_patient s cross join lateral unnest(s.id_digests, s.id_chains) as c (digest, chain)
join patient p on p.id_card_hash = c.digest and p.id_card_key_id = c.chain
where not s.refused and p.id is distinct from s.patient_id
union all
select s.row_no, 'id_on_record', null
from import_patient s join patient p on p.id = s.patient_id
where not s.refused and s.id_hash is not null and p.id_card_hash is not null and not {_HOLDS_ID}
union all
select s.row_no, 'card', coalesce(p.record_no, p.health_card_no)
from import_patient s join patient p on p.health_card_no = s.want_card
where not s.refused and p.id is distinct from s.patient_id
union all
select x.row_no, 'card_in_file', x.first_row::text
from (select row_no, min(row_no) over (partition by want_card) as first_row from import_patient where not refused) x
where x.row_no <> x.first_row
"""

_FIELDS = """
('record_no', p.record_no, s.record_no),
('name', pp.name, s.name),
('sex', p.sex, s.sex),
('birth_date', h.birth_date::text, s.birth_date::text),
('id_card', p.id_card_masked, coalesce(s.id_masked, p.id_card_masked)),
('phone', c.phone, coalesce(s.phone, c.phone)),
('address', pp.address, coalesce(s.address, pp.address)),
('village', v.code, s.village),
('team', t.code, s.team),
('hypertension', p.hypertension::text, s.hypertension::text),
('diabetes', p.diabetes::text, s.diabetes::text),
('managed_since', (p.registered_at at time zone %(tz)s)::date::text, s.managed::text),
('health_card', p.health_card_no, s.want_card),
('on_bp_treatment', h.on_bp_treatment::text, coalesce(s.on_bp_treatment, h.on_bp_treatment)::text),
('total_cholesterol', h.total_cholesterol_mmol::text, coalesce(s.total_cholesterol, h.total_cholesterol_mmol)::text),
('hdl', h.hdl_mmol::text, coalesce(s.hdl, h.hdl_mmol)::text),
('waist', h.waist_cm::text, coalesce(s.waist, h.waist_cm)::text),
('height', h.height_cm::text, coalesce(s.height, h.height_cm)::text),
('weight', h.weight_kg::text, coalesce(s.weight, h.weight_kg)::text),
('smoker', h.smoker::text, coalesce(s.smoker, h.smoker)::text),
('family_history', h.family_history_ascvd::text, coalesce(s.family_history, h.family_history_ascvd)::text),
('urban', h.urban::text, coalesce(s.urban, h.urban)::text)
"""

_CHANGES = f"""
select s.row_no, s.patient_id, f.field, f.old, f.new
from import_patient s
join patient p on p.id = s.patient_id
join region v on v.id = p.village_id
left join care_team t on t.id = p.team_id
left join health_record h on h.patient_id = p.id
left join patient_contact c on c.patient_id = p.id
left join patient_person pp on pp.patient_id = p.id
cross join lateral (values {_FIELDS}) f (field, old, new)
where not s.refused and f.old is distinct from f.new
order by s.row_no
"""


def create_staging(conn: psycopg.Connection) -> None:
    """The staging table of this transaction (a caller's outer transaction may still hold an earlier run's)."""
    conn.execute("drop table if exists import_patient")
    conn.execute("drop table if exists import_new")
    conn.execute(_CREATE)
    conn.execute("create temp table import_new (patient_id bigint primary key) on commit drop")


@contextmanager
def staging_copy(conn: psycopg.Connection) -> Iterator[Any]:
    """A COPY into the staging table: call `write_row` with values in STAGING_COLUMNS order."""
    with conn.cursor() as cur, cur.copy(f"copy import_patient ({', '.join(STAGING_COLUMNS)}) from stdin") as copy:
        yield copy


def resolve_targets(conn: psycopg.Connection) -> None:
    """Which stored patient each row is about, and the health card each row will have."""
    conn.execute("create index on import_patient (record_no)")
    conn.execute("create index on import_patient (want_card)")
    conn.execute("analyze import_patient")
    for statement in _TARGETS:
        conn.execute(statement)
    conn.execute("analyze import_patient")


def key_chains(conn: psycopg.Connection) -> list[str]:
    """The chains of ID-card keys re-keys have made (stored hashes may be under any of them)."""
    return [r[0] for r in conn.execute("select chain from id_card_key_chain order by chain")]


def conflicts(conn: psycopg.Connection) -> list[tuple[int, str, str | None]]:
    """(row, what, other record or row) for every row that clashes with the store or an earlier row's card."""
    return [(int(r[0]), str(r[1]), r[2]) for r in conn.execute(_CONFLICTS).fetchall()]


def refuse(conn: psycopg.Connection, rows: Sequence[int]) -> None:
    """Mark rows refused after the store's checks."""
    conn.execute("update import_patient set refused = true where row_no = any(%s)", (list(rows),))


def changes(conn: psycopg.Connection, *, tz: str) -> list[tuple[int, int, str, str | None, str | None]]:
    """(row, patient id, field, old, new) of every field the file changes on a stored patient (as text)."""
    rows = conn.execute(_CHANGES, {"tz": tz}).fetchall()
    return [(int(r[0]), int(r[1]), r[2], r[3], r[4]) for r in rows]


def counts(conn: psycopg.Connection) -> tuple[int, int]:
    """(rows about a stored patient, rows about a new patient), refused rows left out."""
    row = conn.execute(
        "select count(*) filter (where patient_id is not null), count(*) filter (where patient_id is null)"
        " from import_patient where not refused"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def missing(conn: psycopg.Connection, *, county_id: int) -> list[str]:
    """Record numbers of the county's patients that no row of the file names (refused rows count as naming)."""
    rows = conn.execute(
        "select p.record_no from patient p join region v on v.id = p.village_id"
        " left join region t on t.id = v.parent_id"
        " where p.record_no is not null and coalesce(t.parent_id, v.parent_id) = %s"
        " and not exists (select 1 from import_patient s where s.record_no = p.record_no) order by p.record_no",
        (county_id,),
    )
    return [r[0] for r in rows]


def waiting_readings(conn: psycopg.Connection) -> int:
    """Readings waiting for a patient that the new rows' health card or ID-card hash would match (dry run)."""
    row = conn.execute(
        "select count(*) from reading_unattributed u join import_patient s on not s.refused"
        " and s.patient_id is null and ((u.ref_scheme = 'health_card' and u.ref_key = s.want_card)"
        " or (u.ref_scheme = 'id_card' and u.ref_key in"
        " (select c.chain || ':' || encode(c.digest, 'hex')"
        " from unnest(s.id_digests, s.id_chains) as c (digest, chain))))"
        " where u.attributed_at is null and u.reason = 'no_match'"
    ).fetchone()
    return int(row[0]) if row else 0


def mark_changed(conn: psycopg.Connection, patient_ids: Sequence[int]) -> None:
    """Rows whose stored patient the file changes."""
    conn.execute("update import_patient set changed = true where patient_id = any(%s)", (list(patient_ids),))


def write_history(
    conn: psycopg.Connection, rows: Sequence[tuple[int, str, str | None, str | None]], *, import_id: int, now: datetime
) -> None:
    """One patient_change row per changed field: (patient id, field, old, new), already masked where needed."""
    with (
        conn.cursor() as cur,
        cur.copy(
            "copy patient_change (patient_id, import_id, changed_at, field, old_value, new_value) from stdin"
        ) as copy,
    ):
        for patient_id, name, old, new in rows:
            copy.write_row((patient_id, import_id, now, name, old, new))


# Writing the staged patients into the store.
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
