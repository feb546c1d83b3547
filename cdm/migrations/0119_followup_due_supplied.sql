-- assessment_current.followup_due (0098): the triggers compute the date only when the writer does not supply it —
-- an insert without one (NULL), a change of colour (or of its start) that leaves the date as it was or sets it
-- NULL, and a date written NULL on its own. Today no writer supplies it, so they run as before; a writer that
-- computes the date from what it has already read may now do so (tried for the full rescore on 2026-12-04 and
-- not taken: README, `cdm bench score`). The column stays NOT NULL.
--
-- The last visit is now the one the summary query (and the rules) take: by date, then when it was recorded, then
-- the latest row, so two visits recorded on the same day in the same transaction give one answer on both sides.

create or replace function cdm_followup_due(p_patient_id bigint, p_colour text, p_colour_since timestamptz)
returns date language sql stable as $$
    select case when p_colour <> 'green'
                     and (f.done_on is null or f.done_on < (p_colour_since at time zone 'Asia/Shanghai')::date)
                then least(s.scheduled, (p_colour_since at time zone 'Asia/Shanghai')::date + 14)
                else s.scheduled end
    from patient p
    left join lateral (
        select fu.done_on, fu.next_due from follow_up fu where fu.patient_id = p.id
        order by fu.done_on desc, fu.recorded_at desc, fu.id desc limit 1
    ) f on true
    cross join lateral (
        select coalesce(f.next_due, coalesce(f.done_on, (p.registered_at at time zone 'Asia/Shanghai')::date) + 90)
               as scheduled
    ) s
    where p.id = p_patient_id
$$;

drop trigger assessment_current_due_insert on assessment_current;
drop trigger assessment_current_due_update on assessment_current;

create trigger assessment_current_due_insert before insert on assessment_current
    for each row when (new.followup_due is null) execute function assessment_current_followup_due();
create trigger assessment_current_due_update before update of colour, colour_since, patient_id, followup_due
    on assessment_current
    for each row
    when (new.followup_due is null
          or ((old.colour is distinct from new.colour or old.colour_since is distinct from new.colour_since
               or old.patient_id is distinct from new.patient_id)
              and new.followup_due is not distinct from old.followup_due))
    execute function assessment_current_followup_due();

-- The dates of patients with two visits on one day recorded at one moment, chosen again by that order.
select cdm_refresh_followup_due(array(
    select distinct patient_id from follow_up group by patient_id, done_on, recorded_at having count(*) > 1));
