-- The health record (WS 365 resident health record) fields the rules and China-PAR read, and the China-PAR risk
-- beside the colour on the current assessment. Kept apart from `patient` so the minimum-data registry stays small
-- and a record can be filled in later: every clinical field may be null ("not recorded"), never guessed.

create table health_record (
    patient_id             bigint primary key references patient (id),
    birth_date             date,
    -- Bounds are generous: they catch a unit slip (mg/dL typed as mmol/L, mmol/mol as %), not a rare patient.
    total_cholesterol_mmol real check (total_cholesterol_mmol > 0.5 and total_cholesterol_mmol < 30),
    hdl_mmol               real check (hdl_mmol > 0.1 and hdl_mmol < 10),
    waist_cm               real check (waist_cm between 30 and 250),
    smoker                 boolean,
    family_history_ascvd   boolean,
    urban                  boolean,
    north                  boolean,         -- lives north of the Yangtze (China-PAR)
    hba1c_percent          real check (hba1c_percent between 3 and 20),
    on_bp_treatment        boolean,         -- on antihypertensive drugs: China-PAR's "treated" SBP terms
    complications          text[] not null default '{}',
    updated_at             timestamptz not null default now()
);

-- Null where the record lacks what China-PAR needs, or the age is outside the model's 35–74.
alter table assessment_current
    add column ascvd_10y_percent real check (ascvd_10y_percent between 0 and 100),
    add column ascvd_category    text check (ascvd_category in ('low', 'medium', 'high'));
