-- What the rules conclude and what people do about it: assessments, follow-ups, alerts and their outbox.

create table assessment_current (
    patient_id    bigint primary key references patient (id),
    colour        text not null check (colour in ('green', 'yellow', 'red')),
    reasons       text[] not null,
    priority      real not null,
    evidence      text[] not null,      -- "device_uid:seq" of the readings that decided the colour
    assessed_at   timestamptz not null,
    colour_since  timestamptz not null,
    rules_edition text not null
);
create index assessment_current_colour on assessment_current (colour, priority desc);

-- One row per change of colour or reasons, with the evidence, for the patient's history and for audit.
create table assessment_history (
    id              bigint generated always as identity primary key,
    patient_id      bigint not null references patient (id),
    colour          text not null check (colour in ('green', 'yellow', 'red')),
    previous_colour text check (previous_colour in ('green', 'yellow', 'red')),
    reasons         text[] not null,
    priority        real not null,
    evidence        text[] not null,
    assessed_at     timestamptz not null,
    rules_edition   text not null
);
create index assessment_history_patient on assessment_history (patient_id, assessed_at desc);

create table follow_up (
    id          bigint generated always as identity primary key,
    patient_id  bigint not null references patient (id),
    done_on     date not null,
    class       text not null check (class in ('controlled', 'uncontrolled', 'adverse_reaction', 'complication')),
    next_step   text,
    next_due    date,
    recorded_by text not null,
    recorded_at timestamptz not null default now()
);
create index follow_up_patient on follow_up (patient_id, done_on desc);

create table alert (
    id          bigint generated always as identity primary key,
    patient_id  bigint not null references patient (id),
    kind        text not null,
    severity    text not null check (severity in ('critical', 'high')),
    status      text not null default 'open' check (status in ('open', 'acknowledged', 'actioned', 'closed')),
    reasons     text[] not null,
    evidence    text[] not null,
    township_id integer not null references region (id),
    opened_at   timestamptz not null default now()
);
-- At most one open alert per patient and kind, whatever races between ingest workers.
create unique index alert_one_open on alert (patient_id, kind) where status <> 'closed';
create index alert_opened on alert (opened_at desc);

-- The outbox: one row per recipient centre, written in the same transaction as the alert.
create table notification (
    id              bigint generated always as identity primary key,
    alert_id        bigint not null references alert (id),
    recipient       text not null check (recipient in ('township', 'county')),
    region_id       integer not null references region (id),
    channel         text not null default 'webhook',
    idempotency_key uuid not null unique default gen_random_uuid(),
    body            jsonb not null,
    status          text not null default 'pending' check (status in ('pending', 'sending', 'delivered', 'failed')),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz,
    last_error      text,
    unique (alert_id, recipient)
);
create index notification_due on notification (next_attempt_at) where status in ('pending', 'sending');

-- Every delivery attempt and the receiver's answer.
create table notification_attempt (
    id              bigint generated always as identity primary key,
    notification_id bigint not null references notification (id),
    started_at      timestamptz not null,
    finished_at     timestamptz not null,
    ok              boolean not null,
    http_status     integer,
    receipt         text,
    error           text
);
create index notification_attempt_notification on notification_attempt (notification_id);
