-- What the screens' programme indicators read: each patient's latest reading, latest BP, latest fasting glucose
-- and follow-up visits in the last 12 months, kept by the `refresh_indicators` job (every minute), so that the
-- county screen answers from one row per patient instead of scanning millions of readings on every refresh.
-- No trigger on `reading`: ingest's write rate is not taxed; the job reads only the recent partitions.

create table patient_activity (
    patient_id        bigint primary key references patient (id),
    last_reading_at   timestamptz,          -- any attributed reading (a "visit" in the Simple / HEARTS sense)
    last_bp_at        timestamptz,
    last_systolic     smallint,
    last_diastolic    smallint,
    last_fasting_at   timestamptz,
    last_fasting_mmol real,                 -- a meter's HI is +Infinity, its LO 0: above / below any target
    last_follow_up_on date,
    follow_ups_12m    integer not null default 0    -- distinct follow-up days in the 365 days before the refresh
);

-- When each summary was last brought up to date (the screens show it).
create table summary_refresh (
    name         text primary key,
    refreshed_at timestamptz not null
);

-- Fold readings measured since `since` into patient_activity (newer values win), and recount follow-ups.
create function cdm_refresh_patient_activity(p_since timestamptz, p_at timestamptz) returns integer
language plpgsql as $$
declare
    touched integer;
begin
    insert into patient_activity (patient_id)
    select p.id from patient p
    where not exists (select 1 from patient_activity x where x.patient_id = p.id);

    with recent as (
        select patient_id, measured_at, kind, systolic, diastolic, glucose_context,
               case glucose_flag when 'HI' then 'Infinity'::real when 'LO' then 0::real else glucose_mmol end as glucose
        from reading
        where patient_id is not null and measured_at >= p_since and measured_at <= p_at + interval '1 day'
    ),
    latest_any as (select patient_id, max(measured_at) as measured_at from recent group by patient_id),
    latest_bp as (
        select distinct on (patient_id) patient_id, measured_at, systolic, diastolic from recent
        where kind = 'bp' and systolic is not null and diastolic is not null
        order by patient_id, measured_at desc
    ),
    latest_fasting as (
        select distinct on (patient_id) patient_id, measured_at, glucose from recent
        where kind = 'glucose' and glucose_context = 'fasting' and glucose is not null
        order by patient_id, measured_at desc
    )
    update patient_activity x set
        last_reading_at = greatest(x.last_reading_at, a.measured_at),
        last_bp_at = case when b.measured_at > coalesce(x.last_bp_at, '-infinity') then b.measured_at else x.last_bp_at end,
        last_systolic = case when b.measured_at > coalesce(x.last_bp_at, '-infinity') then b.systolic else x.last_systolic end,
        last_diastolic = case when b.measured_at > coalesce(x.last_bp_at, '-infinity') then b.diastolic else x.last_diastolic end,
        last_fasting_at = case when f.measured_at > coalesce(x.last_fasting_at, '-infinity') then f.measured_at
                               else x.last_fasting_at end,
        last_fasting_mmol = case when f.measured_at > coalesce(x.last_fasting_at, '-infinity') then f.glucose
                                 else x.last_fasting_mmol end
    from latest_any a
    left join latest_bp b on b.patient_id = a.patient_id
    left join latest_fasting f on f.patient_id = a.patient_id
    where x.patient_id = a.patient_id;
    get diagnostics touched = row_count;

    with visits as (
        select patient_id, max(done_on) as last_on,
               count(distinct done_on) filter (where done_on > (p_at at time zone 'Asia/Shanghai')::date - 365) as n
        from follow_up where done_on <= (p_at at time zone 'Asia/Shanghai')::date group by patient_id
    )
    update patient_activity x set
        last_follow_up_on = v.last_on, follow_ups_12m = coalesce(v.n, 0)
    from patient_activity y left join visits v on v.patient_id = y.patient_id
    where x.patient_id = y.patient_id
      and (x.last_follow_up_on is distinct from v.last_on or x.follow_ups_12m <> coalesce(v.n, 0));

    insert into summary_refresh (name, refreshed_at) values ('patient_activity', p_at)
    on conflict (name) do update set refreshed_at = excluded.refreshed_at;
    return touched;
end $$;

-- The 90-day colour mix replays assessment_history by day; the alert console reads alerts by status.
create index assessment_history_time on assessment_history (assessed_at);
create index alert_status_township on alert (status, township_id, opened_at desc);
create index device_clinic on device (clinic_id);
