-- Readings on plain PostgreSQL: native monthly range partitions on measured_at.
-- The key is the meter's own identity for a reading (device + sequence); measured_at is in it because a
-- partitioned table's unique keys must contain the partition column. A redelivered message carries the same
-- three values, so it never makes a second row. No foreign keys: ingest resolves device and patient first,
-- and a foreign-key probe per row would halve the write rate.
create table reading (
    device_id       integer not null,
    seq             bigint not null,
    measured_at     timestamptz not null,
    received_at     timestamptz not null,
    clinic_id       integer not null,       -- the meter's clinic when it measured, not today's
    kind            text not null check (kind in ('bp', 'glucose')),
    patient_id      bigint,                 -- null: not yet attributed (reference matched no patient)
    patient_scheme  text,
    patient_ref     text,
    systolic        smallint,
    diastolic       smallint,
    pulse           smallint,
    glucose_mmol    real,
    glucose_flag    text check (glucose_flag in ('HI', 'LO')),
    glucose_context text check (glucose_context in ('fasting', 'non_fasting')),
    primary key (device_id, seq, measured_at)
) partition by range (measured_at);
create index reading_patient_time on reading (patient_id, measured_at desc);

-- Catches a row no monthly partition covers, so an insert never fails for want of a partition.
create table reading_default partition of reading default;

create function cdm_ensure_reading_partitions(first_month date, months integer) returns integer
language plpgsql as $$
declare
    made integer := 0;
    m date;
    name text;
begin
    for i in 0 .. months - 1 loop
        m := (date_trunc('month', first_month) + make_interval(months => i))::date;
        name := format('reading_%s', to_char(m, 'YYYY_MM'));
        if to_regclass(name) is null then
            begin
                execute format('create table %I partition of reading for values from (%L) to (%L)',
                               name, m, (m + interval '1 month')::date);
                made := made + 1;
            exception when others then
                -- rows for that month already sit in the default partition; leave them there
                raise warning 'partition % not created: %', name, sqlerrm;
            end;
        end if;
    end loop;
    return made;
end $$;

-- Daily means per patient (China time): the same name and columns as the TimescaleDB continuous aggregate.
create view reading_daily as
select date_trunc('day', measured_at, 'Asia/Shanghai') as day,
       patient_id,
       kind,
       count(*) as n,
       avg(systolic)::real as systolic_mean,
       avg(diastolic)::real as diastolic_mean,
       avg(glucose_mmol) filter (where glucose_context = 'fasting')::real as fasting_glucose_mean,
       avg(glucose_mmol) filter (where glucose_context = 'non_fasting')::real as nonfasting_glucose_mean
from reading
group by 1, 2, 3;
