-- The national follow-up forms (高血压 / 2型糖尿病患者随访服务记录表, 国家基本公共卫生服务规范 第三版), issue 14.
-- What rules and reports read stays in typed columns; the rest of the form (symptoms, lifestyle, medications,
-- referral, ...) is kept whole in `form`, as the doctor filled it. Visits recorded before the forms have none.
alter table follow_up
    add column form_kind       text check (form_kind in ('hypertension', 'diabetes')),
    add column way             text check (way in ('clinic', 'home', 'phone')),
    add column sbp_mean        smallint check (sbp_mean between 50 and 300),
    add column dbp_mean        smallint check (dbp_mean between 30 and 200),
    add column weight_kg       real check (weight_kg between 10 and 300),
    add column heart_rate      smallint check (heart_rate between 25 and 250),
    add column fasting_glucose real check (fasting_glucose between 1.1 and 33.3),
    add column hba1c           real check (hba1c between 3 and 20),
    add column adherence       text check (adherence in ('regular', 'intermittent', 'none')),
    add column form            jsonb not null default '{}'::jsonb;

-- A BP or glucose measured by a doctor at a visit is a reading like a meter's, so the same rules see it.
-- Null: sent by a meter; 'visit': entered on a follow-up form (device_id 0, seq from the visit's id).
-- Nullable without a default, so adding it rewrites no row and works on a compressed hypertable.
alter table reading add column source text;

-- Finding a patient by name (prefix) and by the last four digits of the phone, within the viewer's scope.
create index patient_person_name on patient_person (name text_pattern_ops);
create index patient_contact_phone_tail on patient_contact (right(phone, 4));
