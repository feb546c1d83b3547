"""A synthetic county for `cdm bench dashboard`, generated inside PostgreSQL with generate_series: regions,
teams, patients, meters with their status, a year of readings, follow-ups, colours with a 90-day history, and
alerts in every state. Values come from hashes of the ids (no random()), so a rebuild gives the same county. One
patient in seven has missed the last two quarterly visits, so the follow-up list has its overdue to order (35,528,
92 to 151 days overdue, on 2026-12-04): before that day every patient had been seen within 60 days and nobody was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

TOWNSHIPS = 20
PATIENTS_PER_VILLAGE = 300
READING_DAYS = 365
QUARANTINE_DAYS = 45  # past the screen's 30-day window, so the window's bound is what the queries rely on
QUARANTINED_PER_METER = 40  # refused messages a meter over those days: a county's unruly month, many times over
UNATTRIBUTED_EVERY = 997  # one reading in this many waits for a patient

_STATEMENTS = """
insert into region (code, name, level) values ('bench', '基准县', 'county');
insert into region (code, name, level, parent_id)
select 'bench-t' || t, '镇' || t, 'township', (select id from region where code = 'bench')
from generate_series(1, {townships}) t;
insert into region (code, name, level, parent_id)
select 'bench-v' || v, '村' || v, 'village', (select id from region where code = 'bench-t' || (v %% {townships} + 1))
from generate_series(1, {villages}) v;
insert into care_team (code, name, township_id)
select 'bench-team' || t.id || '-' || k, t.name || '团队' || k, t.id
from region t cross join generate_series(1, 2) k where t.level = 'township';
insert into device (uid, kind, clinic_id, status, status_at)
select k || '-' || r.code, lower(k), r.id,
       (array['online', 'online', 'online', 'online', 'offline', 'unknown'])[1 + r.id %% 6], %(now)s
from region r, unnest(array['BP', 'GLUCOSE']) k where r.level = 'village';
insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, team_id, registered_at)
select 'B' || lpad(i::text, 10, '0'), case when i %% 2 = 0 then 'M' else 'F' end, 1940 + (i::bigint * 7919) %% 46,
       (i %% 10) <> 0, (i %% 10) = 0 or (i %% 10) > 6, v.id,
       (select c.id from care_team c where c.township_id = v.parent_id order by c.id limit 1 offset (i %% 2)),
       %(now)s - interval '2 years' + (i %% 700) * interval '1 day'
from generate_series(1, %(patients)s) i
join region v on v.code = 'bench-v' || ((i - 1) / {per_village} + 1);
insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at, colour_since,
                                rules_edition)
select id, c, array[case c when 'red' then 'bp_critical' when 'yellow' then 'bp_above_target' else 'at_target' end],
       case c when 'red' then 90 when 'yellow' then 50 else 10 end, '{{}}', %(now)s, %(now)s, '2020'
from (select id, case when id * 7 %% 100 < 4 then 'red' when id * 7 %% 100 < 30 then 'yellow' else 'green' end as c
      from patient where id %% 23 <> 0) x;
insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence, assessed_at,
                                rules_edition)
select patient_id, (array['green', 'yellow', 'red'])[1 + patient_id %% 3], null, '{{}}'::text[], 0, '{{}}'::text[],
       %(now)s - (100 + patient_id %% 200) * interval '1 day', '2020' from assessment_current
union all
select patient_id, colour, (array['green', 'yellow', 'red'])[1 + patient_id %% 3], reasons, 0, '{{}}'::text[],
       %(now)s - (patient_id * 7 %% 89) * interval '1 day' - interval '1 hour', '2020'
from assessment_current where colour <> (array['green', 'yellow', 'red'])[1 + patient_id %% 3];
insert into follow_up (patient_id, done_on, class, recorded_by, recorded_at)
select p.id, (%(now)s - (q * 91 + p.id %% 60) * interval '1 day')::date, 'controlled', 'bench', %(now)s
from patient p cross join generate_series(0, 3) q where p.id %% 7 <> 0 or q >= 2;
insert into alert (patient_id, kind, severity, status, reasons, evidence, township_id, opened_at, last_seen_at,
                   acknowledged_at, acknowledged_by, closed_at, closed_by, outcome, escalated_at)
select a.patient_id, 'turned_red', case when a.patient_id %% 5 = 0 then 'high' else 'critical' end, s.status,
       a.reasons, '{{}}', v.parent_id, o.opened, o.opened,
       case when s.status <> 'open' then o.opened + (5 + a.patient_id %% 60) * interval '1 minute' end,
       case when s.status <> 'open' then 'bench' end,
       case when s.status = 'closed' then o.opened + (2 + a.patient_id %% 70) * interval '1 hour' end,
       case when s.status = 'closed' then 'bench' end, case when s.status = 'closed' then '已随访' end,
       case when s.status = 'open' and o.opened < %(now)s - interval '30 minutes'
            then o.opened + interval '30 minutes' end
from assessment_current a
join patient p on p.id = a.patient_id
join region v on v.id = p.village_id
cross join lateral (select %(now)s - (a.patient_id %% 43200) * interval '1 minute' as opened) o
cross join lateral (
    select (array['closed', 'closed', 'closed', 'actioned', 'acknowledged', 'open'])[1 + a.patient_id %% 6] as status
) s
where a.colour = 'red';
insert into notification (alert_id, recipient, region_id, body, status, delivered_at)
select a.id, r.recipient, a.township_id, '{{}}', case when a.id %% 17 = 0 then 'failed' else 'delivered' end,
       a.opened_at
from alert a cross join (values ('township'), ('county')) r(recipient);
insert into quarantine (received_at, topic, device_uid, reason, detail, raw)
select %(now)s - ((d.id * 7919 + k * 104729) %% ({quarantine_days} * 24 * 60)) * interval '1 minute',
       'cdm/v1/bench/devices/' || d.uid || '/readings', d.uid,
       (array['invalid_json', 'implausible_value', 'measured_in_future', 'schema_invalid'])[1 + (d.id + k) %% 4],
       'bench', convert_to('{{"v": 1, "device_id": "' || d.uid || '", "seq": ' || k || ', "systolic": 400}}', 'UTF8')
from device d cross join generate_series(1, {quarantined_per_meter}) k;
update device set last_seen_at = %(now)s - (id %% 90) * interval '1 minute', clock_skew_s = (id %% 50) * 3
where id %% 10 <> 0;
"""

# About `per_patient` readings a year per patient, spread over the year by hashes of (patient, k).
_READINGS = """
insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic, diastolic,
                     glucose_mmol, glucose_context)
select dev.id, p.id * 1000 + k, t, t, p.village_id, x.kind, p.id,
       case when x.kind = 'bp' then 118 + (p.id * 7 + k * 13) %% 50 end,
       case when x.kind = 'bp' then 70 + (p.id * 11 + k * 5) %% 30 end,
       case when x.kind = 'glucose' then 5.0 + ((p.id * 3 + k * 7) %% 60) / 10.0 end,
       case when x.kind = 'glucose' then case when k %% 3 = 0 then 'non_fasting' else 'fasting' end end
from patient p
cross join generate_series(1, %(per_patient)s) k
cross join lateral (
    select %(now)s - ((p.id * 7919 + k * 104729) %% (%(days)s * 24 * 60)) * interval '1 minute' as t,
           case when not p.hypertension or (p.diabetes and k %% 2 = 0) then 'glucose' else 'bp' end as kind
) x
join device dev on dev.clinic_id = p.village_id and dev.kind = x.kind
where p.id %% 41 <> 0
"""


# Readings waiting for a patient (the data-quality screen's grid): their reading rows stay as generated.
_UNATTRIBUTED = """
insert into reading_unattributed (device_id, seq, measured_at, received_at, clinic_id, kind, ref_scheme, ref_key,
                                  ref_masked, reason)
select device_id, seq, measured_at, received_at, clinic_id, kind, 'health_card', 'X' || seq,
       'X33****' || right(seq::text, 4), 'no_match'
from reading where seq %% %(every)s = 0
"""


def build(conn: psycopg.Connection, *, patients: int, readings_per_patient: int, now: datetime) -> int:
    """Fill an empty store with the county; the number of readings."""
    villages = -(-patients // PATIENTS_PER_VILLAGE)
    sql = _STATEMENTS.format(
        townships=TOWNSHIPS,
        villages=villages,
        per_village=PATIENTS_PER_VILLAGE,
        quarantine_days=QUARANTINE_DAYS,
        quarantined_per_meter=QUARANTINED_PER_METER,
    )
    with conn.cursor() as cur:
        for statement in filter(str.strip, sql.split(";")):
            cur.execute(statement, {"now": now, "patients": patients})
        first = (now - timedelta(days=READING_DAYS + 31)).date().replace(day=1)
        cur.execute("select cdm_ensure_reading_partitions(%s, 15)", (first,))
        # Indexes built once after the load are far cheaper than maintained row by row; the patient index is rebuilt
        # as the migrations made it (0009 carries the columns read in it: before 2026-12-04 the bench rebuilt it
        # without them, so every reading looked up by patient cost a heap page that production does not read).
        by_patient = cur.execute(
            "select indexdef from pg_indexes where schemaname = current_schema() and indexname = 'reading_patient_time'"
        ).fetchone()
        assert by_patient is not None
        cur.execute("alter table reading drop constraint reading_pkey")
        cur.execute("drop index reading_patient_time")
        cur.execute(_READINGS, {"now": now, "per_patient": readings_per_patient, "days": READING_DAYS})
        readings = cur.rowcount
        cur.execute("set maintenance_work_mem = '512MB'")
        cur.execute("alter table reading add primary key (device_id, seq, measured_at)")
        cur.execute(str(by_patient[0]).replace(" ON ONLY ", " ON ", 1))  # on the partitions too
        cur.execute(_UNATTRIBUTED, {"now": now, "every": UNATTRIBUTED_EVERY})
    conn.commit()
    return readings
