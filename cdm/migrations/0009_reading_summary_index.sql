-- The scoring summary (models.summary_repo) reads a patient's recent readings by (patient_id, measured_at).
-- Readings lie in the table in arrival order, so through a plain index each of them costs a heap page of its
-- own (a county of a million patients: thousands of scattered pages per ingest batch, the whole table per
-- nightly range). Carrying the columns the summary reads in the index makes that an index-only scan over a
-- patient's few adjacent leaf pages. Same name and key as before, so every other query keeps its plan.
drop index if exists reading_patient_time;
create index reading_patient_time on reading (patient_id, measured_at desc)
    include (kind, device_id, seq, systolic, diastolic, pulse, glucose_mmol, glucose_flag, glucose_context);
