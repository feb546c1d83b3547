-- People who sign in to the screens, and the audit trail of what they looked at and did.
-- GB/T 22239-2019 level 3: unique accounts, lock-out after failed log-ins, a second factor for administrators,
-- audit records that cannot be altered (kept at least six months under the Cybersecurity Law: no delete here at all).

create table app_user (
    id              integer generated always as identity primary key,
    username        text not null unique check (username ~ '^[a-z0-9][a-z0-9_.-]{2,31}$'),
    display_name    text not null,
    role            text not null check (role in ('county', 'township', 'team', 'admin')),
    county_id       integer not null references region (id),
    township_id     integer references region (id),
    team_id         integer references care_team (id),
    password_hash   text not null,                          -- argon2id; never the password
    totp_secret     text,                                   -- administrators' second factor (RFC 6238)
    failed_logins   integer not null default 0,
    locked_until    timestamptz,
    disabled_at     timestamptz,
    created_at      timestamptz not null default now(),
    last_login_at   timestamptz,
    check (role <> 'township' or township_id is not null),
    check (role <> 'team' or (team_id is not null and township_id is not null))
);

create table audit_event (
    id          bigint generated always as identity primary key,
    at          timestamptz not null default now(),
    user_id     integer references app_user (id),           -- null only for a failed log-in of an unknown name
    username    text not null,
    role        text,
    action      text not null,                              -- view_patient, export, login, login_failed, logout, ...
    patient_id  bigint references patient (id),
    screen      text,
    detail      jsonb not null default '{}'::jsonb,         -- never an identity or phone number
    client_addr inet
);
create index audit_event_patient on audit_event (patient_id, at) where patient_id is not null;
create index audit_event_user on audit_event (user_id, at);

create function audit_event_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit records cannot be altered or removed (%)', tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger audit_event_append_only before update or delete or truncate on audit_event
    for each statement execute function audit_event_refuse_change();
