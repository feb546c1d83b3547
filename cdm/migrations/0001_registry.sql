-- Who and what the system knows: county -> township -> village clinic, family-doctor teams, patients, meters.
-- Only the minimum a programme needs is kept (PIPL): no names, no identity numbers, no phone numbers here.

create table region (
    id        integer generated always as identity primary key,
    code      text not null unique,
    name      text not null,
    level     text not null check (level in ('county', 'township', 'village')),
    parent_id integer references region (id),
    check ((level = 'county') = (parent_id is null))
);
create index region_parent on region (parent_id);

create table care_team (
    id          integer generated always as identity primary key,
    code        text not null unique,
    name        text not null,
    township_id integer not null references region (id)
);

create table patient (
    id             bigint generated always as identity primary key,
    health_card_no text not null unique,
    qr_code        text unique,
    sex            char(1) not null check (sex in ('M', 'F')),
    birth_year     smallint not null check (birth_year between 1900 and 2100),
    hypertension   boolean not null default false,
    diabetes       boolean not null default false,
    village_id     integer not null references region (id),
    team_id        integer references care_team (id),
    registered_at  timestamptz not null default now(),
    check (hypertension or diabetes)
);
create index patient_village on patient (village_id);
create index patient_team on patient (team_id);

create table device (
    id               integer generated always as identity primary key,
    uid              text not null unique,
    kind             text not null check (kind in ('bp', 'glucose')),
    clinic_id        integer not null references region (id),
    registered_at    timestamptz not null default now(),
    last_seen_at     timestamptz,
    readings_count   bigint not null default 0,
    duplicates_count bigint not null default 0
);

-- Every message that was refused, with its raw bytes and the reason, for staff to see which meter misbehaves.
create table quarantine (
    id          bigint generated always as identity primary key,
    received_at timestamptz not null,
    topic       text not null,
    device_uid  text,
    reason      text not null,
    detail      text not null,
    raw         bytea not null
);
create index quarantine_device on quarantine (device_uid, received_at desc);
create index quarantine_time on quarantine (received_at desc);

-- The guideline thresholds, written by `cdm db upgrade` from models/thresholds.py so SQL reads the same numbers.
create table clinical_threshold (
    edition text not null,
    name    text not null,
    value   numeric not null,
    unit    text not null,
    source  text not null,
    primary key (edition, name)
);
