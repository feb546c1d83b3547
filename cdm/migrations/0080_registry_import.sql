-- Importing a county's registry from its own files (registry.importing): the health-record number as the key a
-- county's files carry, the person's name and address kept apart from the minimum-data `patient` row (as the
-- phone is, in patient_contact), height and weight beside the other China-PAR fields, each import run, and a
-- history of every field an import changed. The ID-card number stays out of all of them: hash and mask only.

-- 健康档案号 (WS 365 resident health-record number): what a county's exports are keyed on. Null for patients
-- registered one at a time before imports existed.
alter table patient add column record_no text unique;

-- Name and home address: for the family doctor's list and the FHIR export; erasable without touching the record.
create table patient_person (
    patient_id bigint primary key references patient (id),
    name       text not null,
    address    text,
    updated_at timestamptz not null default now()
);

alter table health_record
    add column height_cm real check (height_cm between 40 and 250),
    add column weight_kg real check (weight_kg between 10 and 300);

-- Accounts made by an import get a random first password, to be replaced at the first sign-in.
alter table app_user
    add column phone                    text,
    add column password_change_required boolean not null default false;

-- One row per import that changed the store (a dry run leaves none).
create table registry_import (
    id          bigint generated always as identity primary key,
    started_at  timestamptz not null,
    finished_at timestamptz,
    by          text not null,              -- the account or the operating-system user who ran it
    source      text not null check (source in ('cli', 'screen')),
    summary     jsonb not null default '{}'::jsonb   -- per file: rows, added, updated, unchanged, refused
);

-- What an import changed on a patient, field by field. Phone numbers are kept masked here and the ID-card number
-- only as its masked form: the history says that and when something changed, not a second copy of it.
create table patient_change (
    id         bigint generated always as identity primary key,
    patient_id bigint not null references patient (id),
    import_id  bigint not null references registry_import (id),
    changed_at timestamptz not null,
    field      text not null,
    old_value  text,
    new_value  text
);
create index patient_change_patient on patient_change (patient_id, changed_at desc);
