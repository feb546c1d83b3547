-- The alert workflow: lifecycle with who-did-what, repeats folded into the open alert, escalation policy,
-- contacts of centres, on-duty staff and family-doctor teams, and follow-up outcomes that close alerts.

alter table alert
    add column occurrences     integer not null default 1,     -- critical readings folded into this alert
    add column last_seen_at    timestamptz,
    add column latest_evidence text[],
    add column acknowledged_at timestamptz,
    add column acknowledged_by text,
    add column actioned_at     timestamptz,
    add column actioned_by     text,
    add column action          text check (action in ('phone_call', 'home_visit', 'referral')),
    add column closed_at       timestamptz,
    add column closed_by       text,
    add column outcome         text,
    add column escalated_at    timestamptz,
    add column overdue_at      timestamptz;
update alert set last_seen_at = opened_at, latest_evidence = evidence;
alter table alert alter column last_seen_at set not null, alter column last_seen_at set default now();
create index alert_open_by_township on alert (township_id, opened_at desc) where status <> 'closed';

-- Every transition, with who made it: the alert's own audit trail.
create table alert_event (
    id       bigint generated always as identity primary key,
    alert_id bigint not null references alert (id),
    at       timestamptz not null default now(),
    actor    text not null,                 -- a person's account, or 'system' for rules and escalation
    event    text not null check (event in ('opened', 'repeated', 'acknowledged', 'actioned', 'closed',
                                            'escalated', 'overdue')),
    detail   jsonb not null default '{}'
);
create index alert_event_alert on alert_event (alert_id, at);

-- When nobody acts: configurable per severity. 'ack' steps notify more people; 'action' steps mark overdue.
create table escalation_policy (
    severity text not null check (severity in ('critical', 'high')),
    step     text not null check (step in ('ack', 'action')),
    after    interval not null,
    notify   text[] not null default '{}',   -- recipients: 'county_on_duty', 'team'
    primary key (severity, step)
);
insert into escalation_policy (severity, step, after, notify) values
    ('critical', 'ack', interval '30 minutes', '{county_on_duty,team}'),
    ('high', 'ack', interval '30 minutes', '{county_on_duty,team}'),
    -- the specification follows an urgent referral up within 2 weeks
    ('critical', 'action', interval '14 days', '{}'),
    ('high', 'action', interval '14 days', '{}');

-- Where each kind of recipient is reached. A township/county centre's webhook may also come from settings.
create table contact (
    id        integer generated always as identity primary key,
    region_id integer references region (id),
    team_id   integer references care_team (id),
    role      text not null check (role in ('centre', 'on_duty', 'team')),
    channel   text not null check (channel in ('webhook', 'wecom', 'sms', 'email')),
    address   text not null,
    active    boolean not null default true,
    check ((region_id is null) <> (team_id is null))
);
create unique index contact_unique on contact (coalesce(region_id, 0), coalesce(team_id, 0), role, channel, address);

alter table notification drop constraint notification_recipient_check;
alter table notification add constraint notification_recipient_check
    check (recipient in ('township', 'county', 'county_on_duty', 'team'));
alter table notification add column team_id integer references care_team (id);
alter table notification add column address text;   -- fixed when the recipient has a contact row
alter table notification drop constraint notification_alert_id_recipient_key;
create unique index notification_once on notification (alert_id, recipient, channel, coalesce(address, ''));

-- A follow-up visit that answers an alert closes it; the outcome is kept with the alert.
alter table follow_up add column alert_id bigint references alert (id);
