-- Issue 15: an open alert can be assigned to a named doctor (an account of the alert's township or of one of its
-- family-doctor teams). Who it is assigned to, when and by whom is kept with the alert; each assignment is an
-- 'assigned' step in the alert's history (alert_event) and an audit event.
alter table alert
    add column assigned_to integer references app_user (id),
    add column assigned_at timestamptz,
    add column assigned_by text;

alter table alert_event drop constraint alert_event_event_check;
alter table alert_event add constraint alert_event_event_check check (event in (
    'opened', 'repeated', 'acknowledged', 'actioned', 'closed', 'escalated', 'overdue', 'sitting_unconfirmed',
    'assigned'));
