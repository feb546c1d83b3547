-- The follow-up list reads patients most urgent first. An assessment's priority already orders the colours (red
-- 200-299, yellow 100-199, green 0-99: models.rules), so one index on it lets the list stop after its first rows
-- instead of sorting the county; the patient id makes the order total. The included columns, the patient's
-- village and team, and the latest visit's dates let the list's first step (the order) run on index-only scans:
-- a county's index pages stay in memory where its table pages, scattered over the heap, do not.
create index assessment_current_priority on assessment_current (priority desc, patient_id)
    include (colour, colour_since);
create index patient_place on patient (id) include (village_id, team_id, registered_at);

-- A patient's latest visit, ties on the visit date broken by when it was recorded (alerts.followup_repo).
create index follow_up_patient_latest on follow_up (patient_id, done_on desc, recorded_at desc) include (next_due);
