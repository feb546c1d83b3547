-- Quarantine keeps a refused message's raw bytes for staff, but never an ID-card number in clear (PIPL,
-- GB/T 39725): any JSON string shaped like an 18-character identity number is masked to its first 6 and last 4
-- characters before the row is written, whatever the message's other faults. encode/decode 'escape' round-trips
-- every byte (NUL and invalid UTF-8 included), so the rest of the raw bytes stay exactly as received.
create function quarantine_redact_id_numbers() returns trigger language plpgsql as $$
begin
    new.raw := decode(
        regexp_replace(encode(new.raw, 'escape'), '"(\d{6})\d{8}(\d{3}[0-9Xx])"', '"\1********\2"', 'g'),
        'escape');
    return new;
end $$;
create trigger quarantine_redact_id_numbers before insert or update of raw on quarantine
    for each row execute function quarantine_redact_id_numbers();
