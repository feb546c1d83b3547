"""A synthetic county for `cdm bench score`, built inside PostgreSQL: patients, meters, 90 days of readings.

Readings are generated day by day, so they lie in the table in arrival order as ingest would have written
them (not clustered by patient); about two a week per patient; each patient has a latent BP and glucose level,
so the county is a realistic mix of green, yellow and red.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

DAYS = 90
PER_WEEK = 2.0  # readings per patient per week, on average
PATIENTS_PER_VILLAGE = 300

_REGIONS = """
insert into region (code, name, level) values ('bench', '基准县', 'county');
insert into region (code, name, level, parent_id)
select 'bench-t' || t, '镇' || t, 'township', (select id from region where code = 'bench')
from generate_series(1, 12) t;
insert into region (code, name, level, parent_id)
select 'bench-v' || v, '村' || v, 'village', (select id from region where code = 'bench-t' || (v %% 12 + 1))
from generate_series(1, %(villages)s) v;
insert into device (uid, kind, clinic_id)
select k || '-' || r.code, case when k = 'BP' then 'bp' else 'glucose' end, r.id
from region r, unnest(array['BP', 'GLU']) k where r.level = 'village';
"""
# Latent levels from hashes of the id: 5 % poorly controlled, 25 % above target, the rest at target.
_PATIENTS = """
insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, registered_at)
select 'B' || i, case when i %% 2 = 0 then 'M' else 'F' end, 1940 + (i::bigint * 7919) %% 46,
       (i %% 10) <> 0, (i %% 10) = 0 or (i %% 10) > 6,
       (select min(id) from region where level = 'village') + (i - 1) / %(per_village)s,
       %(now)s - interval '2 years' + (i %% 700) * interval '1 day'
from generate_series(1, %(patients)s) i
"""
_FOLLOW_UPS = """
insert into follow_up (patient_id, done_on, class, next_due, recorded_by, recorded_at)
select p.id, (%(now)s - (d || ' days')::interval)::date,
       case when p.id %% 50 = 0 then 'uncontrolled' when p.id %% 211 = 0 then 'complication' else 'controlled' end,
       (%(now)s - (d || ' days')::interval)::date + 90, 'bench', %(now)s - (d || ' days')::interval
from patient p, lateral (select 5 + (p.id * 31) %% 100 as d) x
union all
select p.id, (%(now)s - interval '120 days')::date, 'uncontrolled', null, 'bench', %(now)s - interval '120 days'
from patient p where p.id %% 50 = 0;
"""
_READINGS = """
insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic, diastolic,
                     pulse, glucose_mmol, glucose_context)
select dev.id, d::bigint * 10000000 + p.id, t, t, p.village_id, k, p.id,
       case when k = 'bp' then least(sbp, 250) end, case when k = 'bp' then least(sbp * 0.62 + z2 * 6, sbp - 20) end,
       case when k = 'bp' then 72 end,
       case when k = 'glucose' then greatest(glu + z2 * (case when fasting then 0.8 else 1.6 end), 2.0) end,
       case when k = 'glucose' then case when fasting then 'fasting' else 'non_fasting' end end
from generate_series(%(days)s - 1, 0, -1) d
cross join patient p
cross join lateral (
    select %(now)s - d * interval '1 day' - random() * interval '20 hours' as t,
           case when not p.hypertension or (p.diabetes and random() < 0.5) then 'glucose' else 'bp' end as k,
           random() < 0.6 as fasting,
           (random() + random() + random() - 1.5) * 2 as z2,
           case when (p.id * 7) %% 100 < 5 then 168 when (p.id * 7) %% 100 < 30 then 146 else 128 end
               + (random() + random() + random() - 1.5) * 16 as sbp,
           case when (p.id * 13) %% 100 < 8 then 11.5 when (p.id * 13) %% 100 < 35 then 8.2 else 6.2 end as glu
    where random() < %(rate)s
) x
join device dev on dev.clinic_id = p.village_id and dev.kind = x.k
"""


def build(conn: psycopg.Connection, *, patients: int, now: datetime) -> int:
    """Fill an empty store with the county; returns the number of readings."""
    villages = -(-patients // PATIENTS_PER_VILLAGE)
    with conn.cursor() as cur:
        for statement in filter(str.strip, _REGIONS.split(";")):
            cur.execute(statement, {"villages": villages} if "%(villages)s" in statement else None)
        cur.execute(_PATIENTS, {"patients": patients, "per_village": PATIENTS_PER_VILLAGE, "now": now})
        cur.execute(_FOLLOW_UPS.rstrip().rstrip(";"), {"now": now})
        first = (now - timedelta(days=DAYS + 31)).date().replace(day=1)
        cur.execute("select cdm_ensure_reading_partitions(%s, 6)", (first,))
        # Indexes built once after the load are far cheaper than maintained row by row.
        cur.execute("alter table reading drop constraint reading_pkey")
        indexes = _drop_indexes(cur, "reading")
        cur.execute(_READINGS, {"days": DAYS, "now": now, "rate": PER_WEEK / 7})
        readings = cur.rowcount
        cur.execute("set maintenance_work_mem = '512MB'")
        cur.execute("alter table reading add primary key (device_id, seq, measured_at)")
        for definition in indexes:
            cur.execute(definition)
    conn.commit()
    conn.autocommit = True
    conn.execute("vacuum analyze")
    conn.autocommit = False
    return readings


def _drop_indexes(cur: psycopg.Cursor, table: str) -> list[str]:
    """Drop the table's own indexes (all but the primary key); return the statements that rebuild them."""
    rows = cur.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i"
        " where i.indrelid = %s::regclass and not i.indisprimary",
        (table,),
    ).fetchall()
    for name, _ in rows:
        cur.execute(f"drop index {name}")  # names read from the catalogue, not from input
    # On a partitioned table the definition reads "ON ONLY reading", which would build no partition's index.
    return [definition.replace(" ON ONLY ", " ON ", 1) for _, definition in rows]
