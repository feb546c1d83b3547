-- What the production ingest, the screens and the data-quality page share about meters and patient identity.
-- Meters: their own MQTT credentials (only a hash), online/offline state from last-will, retained status and
-- heartbeats, battery and signal, the clock skew seen in their readings, and refusals counted per meter.
-- Patients: an ID-card number is never kept in clear, only a keyed hash (for matching at the meter) and a masked
-- form (for screens).

alter table device
    add column serial               text,
    add column imei                 text unique,
    add column mqtt_username        text unique,
    add column mqtt_password_hash   text,                   -- Mosquitto's PBKDF2-SHA512 form; never the password
    add column provisioned_at       timestamptz,
    add column revoked_at           timestamptz,            -- set: the broker files no longer let it connect
    add column status               text not null default 'unknown'
                                         check (status in ('online', 'offline', 'unknown')),
    add column status_at            timestamptz,            -- when status last changed
    add column status_reason        text,                   -- 'will', 'status', 'heartbeat', 'reading', 'silent'
    add column last_heartbeat_at    timestamptz,
    add column battery_pct          smallint check (battery_pct between 0 and 100),
    add column signal_dbm           smallint,
    add column heartbeat_interval_s integer not null default 3600 check (heartbeat_interval_s > 0),
    add column clock_skew_s         real,                   -- measured_at - received_at of recent live readings
    add column clock_skew_at        timestamptz,
    add column quarantined_count    bigint not null default 0;
create index device_status on device (status, last_seen_at);

alter table patient
    add column id_card_hash   bytea unique,                 -- HMAC-SHA256 of the 18-character number (keyed)
    add column id_card_masked text;                         -- e.g. 330102********123X, for screens
