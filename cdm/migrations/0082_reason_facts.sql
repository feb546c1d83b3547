-- Issue 12 item 9: every reason carries its figure and its target. The rules (assess.rules) keep them as facts per
-- reason code, e.g. {"bp_above_target": {"days": 14, "sbp": 146, "dbp": 85, "target_sbp": 130, "target_dbp": 80,
-- "why": "diabetes"}}; the screens and messages word them through one function (assess.reasons).
alter table assessment_current add column reason_facts jsonb not null default '{}';
