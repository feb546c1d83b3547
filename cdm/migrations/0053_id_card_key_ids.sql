-- The id of the key (or chain of keys) that made each stored ID-card hash, so the key can change without unlinking
-- anyone (cdm.id_keys): patients keep it beside the hash, readings' references as `<chain>:<hex>`. Hashes stored
-- before this were made with the key then configured: '*', "one of the keys on file".
alter table patient add column id_card_key_id text;
update patient set id_card_key_id = '*' where id_card_hash is not null;
alter table patient add constraint patient_id_card_key_id check ((id_card_hash is null) = (id_card_key_id is null));

update reading_unattributed set ref_key = '*:' || ref_key
 where ref_scheme = 'id_card' and ref_key is not null and position(':' in ref_key) = 0;
update reading set patient_ref = '*:' || patient_ref
 where patient_scheme = 'id_card' and patient_ref is not null and position(':' in patient_ref) = 0;

-- Chains of keys a re-key made (`cdm id-cards rekey`), so matching knows which to hash an incoming number along.
create table id_card_key_chain (
    chain      text primary key,                 -- key ids joined by '>', e.g. 3f9a0c1d2e4b>8c77e0a1b2d3
    created_at timestamptz not null default now()
);
