-- Issue 12 item 9, everywhere reasons are shown: an alert and a change in a patient's history keep the figures and
-- targets of their reasons as the rules stated them at the time (the same facts as assessment_current.reason_facts,
-- migration 0082), so the alert feed, the console, the patient's page and every notification word them through
-- one function (assess.reasons) with "近14天均值 146/85 mmHg，目标 <130/80（合并糖尿病）", not a bare code.
alter table alert add column reason_facts jsonb not null default '{}';
alter table assessment_history add column reason_facts jsonb not null default '{}';

-- Alerts still being worked on when this migration runs: the current assessment's facts for the alert's reasons
-- (closed alerts keep their plain words; their figures were never recorded).
update alert a set reason_facts = f.facts
from (
    select x.id, jsonb_object_agg(e.key, e.value) as facts
    from alert x
    join assessment_current ac on ac.patient_id = x.patient_id
    cross join lateral jsonb_each(ac.reason_facts) as e
    where x.status <> 'closed' and e.key = any (x.reasons)
    group by x.id
) f
where a.id = f.id;
