-- Sessions of the screens kept in the store, so that signing out, a password change, disabling an account or an
-- administrator's "sign out everywhere" ends every session of the account at once (a signed cookie alone cannot be
-- taken back); an absolute lifetime; the last one-time code step used per account; failed log-ins per address.

create table app_session (
    id           bigint generated always as identity primary key,
    token_hash   bytea not null unique,            -- SHA-256 of the cookie's random token; never the token
    user_id      integer not null references app_user (id),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,             -- absolute: using the session does not extend it
    client_addr  inet,
    ended_at     timestamptz,
    ended_reason text check (ended_reason in ('logout', 'password_changed', 'disabled', 'signed_out_everywhere')),
    check ((ended_at is null) = (ended_reason is null))
);
create index app_session_open on app_session (user_id) where ended_at is null;

alter table app_user
    add column totp_last_step      bigint,       -- RFC 6238 time step of the last code accepted: each code works once
    add column password_changed_at timestamptz;

-- Failed log-ins by client address: after a few, the address waits (HTTP 429, Retry-After), longer each time.
create table login_throttle (
    client_addr      inet primary key,
    failures         integer not null default 0,  -- since first_failure_at, within the throttle's window
    first_failure_at timestamptz,
    blocks           integer not null default 0,  -- waits imposed in a row: each doubles the next
    blocked_until    timestamptz
);
