-- Issue 12 item 4: a visit recorded without a next date is due by its class, the same date `cdm assess --file`
-- and the rules compute (assess.schedule; National Basic Public Health Service Specification 2017): controlled
-- in 3 months, otherwise (uncontrolled, adverse reaction, complication) within 2 weeks. The numbers come from
-- clinical_threshold (cdm.thresholds), the same in every edition.
create function follow_up_default_next_due() returns trigger language plpgsql as $$
begin
    if new.next_due is null then
        new.next_due := new.done_on + coalesce(
            (select max(value)::integer from clinical_threshold
             where name = case when new.class = 'controlled' then 'routine_follow_up_days'
                               else 'short_follow_up_days' end),
            case when new.class = 'controlled' then 90 else 14 end);
    end if;
    return new;
end $$;

create trigger follow_up_next_due before insert or update of next_due, class, done_on on follow_up
    for each row execute function follow_up_default_next_due();

-- Visits kept before this migration without a next date: the same rule.
update follow_up set next_due = null where next_due is null;
