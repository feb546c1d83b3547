-- Meter provisioning, the broker's service accounts, where each meter stood when, and readings waiting for a patient.

-- Broker accounts that are not meters: ingest workers (read every meter's topics), the simulator of `cdm demo`
-- and the benchmarks (publishes as any meter; never in production), monitors (read only). Meters' own
-- credentials are on device (mqtt_username, mqtt_password_hash). `cdm devices broker-files` writes both.
create table mqtt_account (
    username      text primary key check (username ~ '^[A-Za-z0-9_.-]{1,64}$'),
    role          text not null check (role in ('ingest', 'simulator', 'monitor')),
    password_hash text not null,                -- Mosquitto's PBKDF2-SHA512 form ($7$...); never the password
    created_at    timestamptz not null default now(),
    revoked_at    timestamptz
);

-- A meter can move between clinics: a reading belongs to the clinic the meter stood in when it measured.
-- One row per move (provisioning makes the first); the clinic at time t is the row with the latest valid_from <= t.
create table device_placement (
    device_id  integer not null references device (id),
    clinic_id  integer not null references region (id),
    valid_from timestamptz not null,
    primary key (device_id, valid_from)
);

-- Readings whose patient reference matched nobody (or did not agree with the patient it matched), kept for
-- matching later: when the patient is registered (`cdm patients register`) or by staff (`cdm readings attribute`).
-- The reading itself is in `reading` with patient_id null; this row says why and, once matched, by whom.
-- The data-quality screen lists `where attributed_at is null`.
create table reading_unattributed (
    device_id      integer not null references device (id),
    seq            bigint not null,
    measured_at    timestamptz not null,        -- with device_id and seq: the key of the row in `reading`
    received_at    timestamptz not null,
    clinic_id      integer not null references region (id),  -- where the meter stood when it measured
    kind           text not null check (kind in ('bp', 'glucose')),
    ref_scheme     text check (ref_scheme in ('health_card', 'qr', 'id_card')),  -- null: the meter sent none
    ref_key        text,                        -- health card / QR as sent; id_card: hex HMAC-SHA256, never the number
    ref_masked     text,                        -- for screens: H33****0123, 330102********123X
    ref_birth_date date,                        -- id_card only: what the number says, checked against the match
    ref_sex        char(1) check (ref_sex in ('M', 'F')),
    reason         text not null check (reason in ('no_reference', 'no_match', 'identity_mismatch')),
    attributed_at  timestamptz,
    patient_id     bigint references patient (id),
    attributed_by  text,                        -- 'registration' or the staff member's name
    primary key (device_id, seq, measured_at),
    check ((attributed_at is null) = (patient_id is null))
);
create index reading_unattributed_ref on reading_unattributed (ref_scheme, ref_key) where attributed_at is null;
create index reading_unattributed_clinic on reading_unattributed (clinic_id, measured_at desc)
    where attributed_at is null;
