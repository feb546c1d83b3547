-- The nightly risk scores (China-PAR 10-year ASCVD risk and the model's 90-day probability), kept per patient so
-- every assessment — on each reading, or in the nightly rescore — can use them without recomputing: the rules
-- decide the colour; the model may only raise priority or turn green to yellow, never lower a red.
create table risk_score (
    patient_id        bigint primary key references patient (id),
    scored_at         timestamptz not null,
    model_version     text,                  -- null: no model was trained yet
    probability       real check (probability between 0 and 1),
    ascvd_10y_percent real check (ascvd_10y_percent between 0 and 100),
    ascvd_category    text check (ascvd_category in ('low', 'medium', 'high'))
);

-- Every assessment records which model (if any) shaped it, and the probability it gave.
alter table assessment_current
    add column model_version    text,
    add column risk_probability real check (risk_probability between 0 and 1);
alter table assessment_history
    add column model_version    text,
    add column risk_probability real check (risk_probability between 0 and 1);
