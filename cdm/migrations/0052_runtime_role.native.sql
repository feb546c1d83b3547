-- The services connect as a runtime role that owns nothing (cdm.db_roles). What they need of the owner's rights is
-- given here, narrowly: creating next month's reading partition runs as the function's owner.
alter function cdm_ensure_reading_partitions(date, integer) security definer set search_path = public, pg_temp;

-- The scheduler's job store (APScheduler's SQLAlchemyJobStore), made here so the runtime role need not create
-- tables; the same columns SQLAlchemy would create (it checks first and leaves an existing table alone).
create table if not exists apscheduler_jobs (
    id            varchar(191) not null primary key,
    next_run_time double precision,
    job_state     bytea not null
);
create index if not exists ix_apscheduler_jobs_next_run_time on apscheduler_jobs (next_run_time);
