-- Patient reminders: how to reach a patient (with consent), and one row per reminder ever planned.

-- Kept apart from `patient` so that the minimum-data registry stays free of phone numbers, and a patient's
-- contact (and consent) can be erased without touching their clinical record.
create table patient_contact (
    patient_id           bigint primary key references patient (id),
    phone                text,
    reminders_opt_out_at timestamptz,                   -- set: the patient asked for no more reminders
    medication_times     time[] not null default '{}',  -- local times the patient takes medicine; empty: none
    updated_at           timestamptz not null default now()
);

-- The unique (patient_id, kind, due_key) is what makes a reminder happen once: planning twice, or two workers
-- planning at the same moment, inserts one row; sending claims the row under a row lock.
create table reminder (
    id              bigint generated always as identity primary key,
    patient_id      bigint not null references patient (id),
    kind            text not null check (kind in ('measure', 'follow_up', 'medication')),
    due_key         text not null,   -- measure: start of the gap step; follow_up: appointment date; medication: local date + time
    params          jsonb not null default '{}',  -- what the message says (days, date, time), rendered at send time
    planned_for     timestamptz not null,
    status          text not null default 'pending' check (status in ('pending', 'sent', 'skipped', 'failed')),
    skip_reason     text,
    attempts        integer not null default 0,
    idempotency_key uuid not null unique default gen_random_uuid(),
    sent_at         timestamptz,
    receipt         text,
    last_error      text,
    created_at      timestamptz not null default now(),
    unique (patient_id, kind, due_key),
    check ((status = 'skipped') = (skip_reason is not null)),
    check ((status = 'sent') = (sent_at is not null))
);
create index reminder_due on reminder (planned_for) where status = 'pending';
-- The daily cap counts what a patient was sent on one local day.
create index reminder_sent_per_patient on reminder (patient_id, sent_at) where status = 'sent';
