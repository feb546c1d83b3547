-- Issue 12 item 8: a critical BP alert whose sitting's mean did not meet the urgent criterion (复测未证实) is lowered
-- to 'warning' (no escalation policy: nobody is chased for it), both centres get a second notification saying so,
-- and it closes by itself unless someone has already acknowledged it.
alter table alert drop constraint alert_severity_check;
alter table alert add constraint alert_severity_check check (severity in ('critical', 'high', 'warning'));

-- A notification's purpose: the alert itself, or the follow-up that its sitting did not confirm it.
alter table notification add column purpose text not null default 'alert'
    check (purpose in ('alert', 'sitting_unconfirmed'));
drop index notification_once;
create unique index notification_once on notification (alert_id, recipient, channel, coalesce(address, ''), purpose);

-- The step that lowered it, in the alert's history.
alter table alert_event drop constraint alert_event_event_check;
alter table alert_event add constraint alert_event_event_check check (event in (
    'opened', 'repeated', 'acknowledged', 'actioned', 'closed', 'escalated', 'overdue', 'sitting_unconfirmed'));
