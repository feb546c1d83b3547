-- Readings on TimescaleDB: a hypertable with 1-day chunks, compression, retention and a daily continuous aggregate.
-- Same columns and key as the native variant (see 0002_readings.native.sql for why the key has measured_at).
create extension if not exists timescaledb;

create table reading (
    device_id       integer not null,
    seq             bigint not null,
    measured_at     timestamptz not null,
    received_at     timestamptz not null,
    clinic_id       integer not null,
    kind            text not null check (kind in ('bp', 'glucose')),
    patient_id      bigint,
    patient_scheme  text,
    patient_ref     text,
    systolic        smallint,
    diastolic       smallint,
    pulse           smallint,
    glucose_mmol    real,
    glucose_flag    text check (glucose_flag in ('HI', 'LO')),
    glucose_context text check (glucose_context in ('fasting', 'non_fasting')),
    primary key (device_id, seq, measured_at)
);
select create_hypertable('reading', 'measured_at', chunk_time_interval => interval '1 day');
create index reading_patient_time on reading (patient_id, measured_at desc);

-- Segment by device: a patient has too few rows per chunk to compress well (measured: 12x smaller by device,
-- 2.6x larger by patient). Compress only chunks older than the longest store-and-forward buffer a meter may
-- replay (30 days by default), so ingest never writes into a compressed chunk.
alter table reading set (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'measured_at desc, seq'
);
select add_compression_policy('reading', interval '45 days');
-- Health records are kept for the long term; raw meter readings older than ten years are dropped.
select add_retention_policy('reading', interval '3650 days');

-- Real-time aggregation: screens see today's readings too, as the native view does.
create materialized view reading_daily with (timescaledb.continuous, timescaledb.materialized_only = false) as
select time_bucket(interval '1 day', measured_at, 'Asia/Shanghai') as day,
       patient_id,
       kind,
       count(*) as n,
       avg(systolic)::real as systolic_mean,
       avg(diastolic)::real as diastolic_mean,
       avg(glucose_mmol) filter (where glucose_context = 'fasting')::real as fasting_glucose_mean,
       avg(glucose_mmol) filter (where glucose_context = 'non_fasting')::real as nonfasting_glucose_mean
from reading
group by 1, 2, 3
with no data;
select add_continuous_aggregate_policy('reading_daily',
    start_offset => interval '45 days', end_offset => interval '1 hour', schedule_interval => interval '1 hour');
