-- The doctor an alert is assigned to is told so (issue 15's "not yet"): one more kind of recipient in the outbox,
-- 'assignee', written in the same transaction as the assignment. It is sent by SMS to the account's mobile
-- (app_user.phone, set by the registry's accounts file or `cdm users phone`); an account without one still gets a
-- notification, which fails where staff see it and names what to set. The same person assigned twice is told once
-- (notification_once); the centres' contacts never stand in for a doctor's own number (claim_due).
alter table notification drop constraint notification_recipient_check;
alter table notification add constraint notification_recipient_check
    check (recipient in ('township', 'county', 'county_on_duty', 'team', 'assignee'));
