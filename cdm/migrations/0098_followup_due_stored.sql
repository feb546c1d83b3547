-- Issues 14 and 15: the follow-up list's due date, stored and indexed, so the county's list (260,000 patients) is
-- read in its order from an index instead of computing and sorting every patient's due date (709 ms p95 at 20,000).
--
-- assessment_current.followup_due is exactly what dashboard.followups.repo computed per row (and
-- alerts.followups.logic.due_date in Python): the scheduled date from the last visit (its next date, or 90 days
-- after it; with no visit, 90 days after registration); a yellow or red patient not seen since turning is due
-- within 14 days of turning, whichever comes first. Dates are local to Asia/Shanghai (cdm.settings' default
-- time zone, the country's one): the screens use the stored date only in that zone and compute it otherwise.
-- 90 and 14 are cdm.thresholds' ROUTINE_FOLLOW_UP_DAYS and SHORT_FOLLOW_UP_DAYS (a test holds them equal).
--
-- Triggers keep it wherever the inputs are written — the rules (assessment_current's colour), visits from the
-- screens, the CLI and imports (follow_up, per statement, so bulk loads do one pass), and registration dates.
alter table assessment_current add column followup_due date;

create function cdm_followup_due(p_patient_id bigint, p_colour text, p_colour_since timestamptz)
returns date language sql stable as $$
    select case when p_colour <> 'green'
                     and (f.done_on is null or f.done_on < (p_colour_since at time zone 'Asia/Shanghai')::date)
                then least(s.scheduled, (p_colour_since at time zone 'Asia/Shanghai')::date + 14)
                else s.scheduled end
    from patient p
    left join lateral (
        select fu.done_on, fu.next_due from follow_up fu where fu.patient_id = p.id
        order by fu.done_on desc, fu.recorded_at desc limit 1
    ) f on true
    cross join lateral (
        select coalesce(f.next_due, coalesce(f.done_on, (p.registered_at at time zone 'Asia/Shanghai')::date) + 90)
               as scheduled
    ) s
    where p.id = p_patient_id
$$;

create function cdm_refresh_followup_due(p_patients bigint[]) returns void language sql as $$
    update assessment_current a
    set followup_due = cdm_followup_due(a.patient_id, a.colour, a.colour_since)
    where a.patient_id = any(p_patients)
      and followup_due is distinct from cdm_followup_due(a.patient_id, a.colour, a.colour_since)
$$;

-- A colour (or its start) written by the rules: the row's own due date, before it is stored. A re-assessment that
-- keeps the colour and its start (most of them) leaves the date alone.
create function assessment_current_followup_due() returns trigger language plpgsql as $$
begin
    new.followup_due := cdm_followup_due(new.patient_id, new.colour, new.colour_since);
    return new;
end $$;

create trigger assessment_current_due_insert before insert on assessment_current
    for each row execute function assessment_current_followup_due();
create trigger assessment_current_due_update before update of colour, colour_since, patient_id on assessment_current
    for each row
    when (old.colour is distinct from new.colour or old.colour_since is distinct from new.colour_since
          or old.patient_id is distinct from new.patient_id)
    execute function assessment_current_followup_due();

-- Visits recorded, corrected or removed: the due dates of their patients, once per statement.
create function follow_up_refresh_due() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform cdm_refresh_followup_due(array(select distinct patient_id from new_rows));
    elsif tg_op = 'DELETE' then
        perform cdm_refresh_followup_due(array(select distinct patient_id from old_rows));
    else
        perform cdm_refresh_followup_due(
            array(select patient_id from new_rows union select patient_id from old_rows));
    end if;
    return null;
end $$;

create trigger follow_up_due_insert after insert on follow_up referencing new table as new_rows
    for each statement execute function follow_up_refresh_due();
create trigger follow_up_due_update after update on follow_up referencing old table as old_rows new table as new_rows
    for each statement execute function follow_up_refresh_due();
create trigger follow_up_due_delete after delete on follow_up referencing old table as old_rows
    for each statement execute function follow_up_refresh_due();

-- A registration date corrected (the registry import): with no visit yet, the due date counts from it.
create function patient_refresh_due() returns trigger language plpgsql as $$
begin
    perform cdm_refresh_followup_due(array[new.id]);
    return null;
end $$;

create trigger patient_registered_due after update of registered_at on patient
    for each row when (old.registered_at is distinct from new.registered_at) execute function patient_refresh_due();

update assessment_current set followup_due = cdm_followup_due(patient_id, colour, colour_since);
alter table assessment_current alter column followup_due set not null;

-- The list's order without today in it (dashboard.followups.repo): red by priority, then due date, then id; the
-- others by due date, then id (the overdue, longest overdue first, are simply the earliest due).
create index assessment_current_red_order on assessment_current (priority desc, followup_due, patient_id)
    where colour = 'red';
create index assessment_current_due_order on assessment_current (followup_due, patient_id) include (colour, priority)
    where colour <> 'red';
