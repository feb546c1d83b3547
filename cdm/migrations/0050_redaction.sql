-- Identity and mobile numbers are masked wherever a message or a person's typing is kept in free text: the same
-- rules as cdm.privacy.redact (tests hold the two equal), as a trigger on quarantine (behind the Python redaction
-- ingest does first) and, once, over the rows already stored (quarantine, readings' references, waiting readings,
-- the audit trail's typed user names). See cdm/privacy.py for what counts as a number.

create function cdm_redact_normalise(t text) returns text language sql immutable parallel safe as $$
    select upper(replace(replace(translate(t, '０１２３４５６７８９Ｘｘ', '0123456789XX'), ' ', ''), '-', ''))
$$;

create function cdm_real_date(y integer, m integer, d integer) returns boolean language sql immutable parallel safe as $$
    select case when y between 1 and 9999 and m between 1 and 12 and d between 1 and 31
                then d <= extract(day from make_date(y, m, 1) + interval '1 month' - interval '1 day')::integer
                else false end
$$;

-- ISO 7064 MOD 11-2 over the first 17 digits of an 18-character number (normalised), against its 18th.
create function cdm_id_check_ok(n text) returns boolean language plpgsql immutable parallel safe as $$
declare
    weights constant integer[] := array[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    total integer := 0;
begin
    for i in 1 .. 17 loop
        total := total + substr(n, i, 1)::integer * weights[i];
    end loop;
    return substr('10X98765432', total % 11 + 1, 1) = substr(n, 18, 1);
end $$;

create function cdm_id_birth_ok(n text) returns boolean language sql immutable parallel safe as $$
    select substr(n, 7, 4)::integer between 1900 and 2099
       and cdm_real_date(substr(n, 7, 4)::integer, substr(n, 11, 2)::integer, substr(n, 13, 2)::integer)
$$;

-- One pass of one rule over `t`: every match of `pattern` replaced by its mask when the rule holds for it.
create function cdm_redact_pass(t text, pattern text, kind text) returns text
language plpgsql immutable parallel safe as $$
declare
    result text := '';
    pos integer := 1;
    s integer;
    m text;
    n text;
    rep text;
begin
    loop
        s := regexp_instr(t, pattern, pos);
        exit when s = 0;
        m := regexp_substr(t, pattern, pos);
        n := cdm_redact_normalise(m);
        rep := m;
        if kind = 'id18' then
            if cdm_id_check_ok(n) or cdm_id_birth_ok(n) then
                rep := left(n, 6) || '********' || right(n, 4);
            end if;
        elsif kind = 'long' then
            for i in 1 .. length(n) - 17 loop
                if cdm_id_check_ok(substr(n, i, 18)) and cdm_id_birth_ok(substr(n, i, 18)) then
                    rep := '**********';
                    exit;
                end if;
            end loop;
        elsif kind = 'id15' then
            if cdm_real_date(1900 + substr(n, 7, 2)::integer, substr(n, 9, 2)::integer, substr(n, 11, 2)::integer) then
                rep := left(n, 6) || '******' || right(n, 3);
            end if;
        else  -- mobile
            n := right(n, 11);
            rep := left(n, 3) || '****' || right(n, 4);
        end if;
        result := result || substr(t, pos, s - pos) || rep;
        pos := s + length(m);
    end loop;
    return result || substr(t, pos);
end $$;

-- JSON's \u0030-style escapes of digits and X read as what they stand for, so a number cannot hide behind them.
create function cdm_redact_unescape(t text) returns text language plpgsql immutable parallel safe as $$
declare
    pattern constant text := '\\u(00(3[0-9]|58|78)|ff(1[0-9]|38|58))';
    result text := '';
    pos integer := 1;
    s integer;
    m text;
begin
    if position('\' in t) = 0 then
        return t;
    end if;
    loop
        s := regexp_instr(t, pattern, pos, 1, 0, 'i');
        exit when s = 0;
        m := regexp_substr(t, pattern, pos, 1, 'i');
        result := result || substr(t, pos, s - pos) || chr(('x' || lpad(substr(m, 3), 8, '0'))::bit(32)::integer);
        pos := s + length(m);
    end loop;
    return result || substr(t, pos);
end $$;

create function cdm_redact(t text) returns text language plpgsql immutable strict parallel safe as $$
declare
    d constant text := '[0-9０-９]';
    nb constant text := '(?<![0-9０-９])';
    na constant text := '(?![0-9０-９])';
    plain text := cdm_redact_unescape(t);
    result text;
begin
    result := cdm_redact_pass(plain, nb || d || '{19,}' || na, 'long');
    result := cdm_redact_pass(result, nb || d || '(?:[ -]?' || d || '){16}[ -]?(?:' || d || '|[Xx\uff38\uff58])' || na,
                              'id18');
    result := cdm_redact_pass(result, nb || d || '{15}' || na, 'id15');
    result := cdm_redact_pass(result, nb || '(?:\+?[8８][6６][ -]?)?[1１][3-9３-９]' || d || '(?:[ -]?' || d || '){8}' || na,
                              'mobile');
    return case when result = plain then t else result end;
end $$;

-- Raw message bytes: as UTF-8 text when they are; otherwise byte for byte (Latin-1), NUL bytes carried through a
-- placeholder, since PostgreSQL text cannot hold them. Never fails: a row is stored even if it cannot be redacted
-- here (ingest has already redacted it in Python).
create function cdm_redact_bytes(raw bytea) returns bytea language plpgsql immutable strict parallel safe as $$
declare
    txt text;
    result text;
    work bytea := raw;
    at integer;
begin
    begin
        txt := convert_from(raw, 'UTF8');
        result := cdm_redact(txt);
        return case when result = txt then raw else convert_to(result, 'UTF8') end;
    exception when others then
        null;  -- not UTF-8, or holds NUL: byte for byte below
    end;
    if position('\x01'::bytea in raw) > 0 then
        return raw;
    end if;
    loop
        at := position('\x00'::bytea in work);
        exit when at = 0;
        work := set_byte(work, at - 1, 1);
    end loop;
    txt := convert_from(work, 'LATIN1');
    result := cdm_redact(txt);
    if result = txt then
        return raw;
    end if;
    work := convert_to(result, 'LATIN1');
    loop
        at := position('\x01'::bytea in work);
        exit when at = 0;
        work := set_byte(work, at - 1, 0);
    end loop;
    return work;
exception when others then
    return raw;
end $$;

create or replace function quarantine_redact_id_numbers() returns trigger language plpgsql as $$
begin
    new.raw := cdm_redact_bytes(new.raw);
    new.topic := cdm_redact(new.topic);
    new.device_uid := cdm_redact(new.device_uid);
    new.detail := cdm_redact(new.detail);
    return new;
end $$;
drop trigger quarantine_redact_id_numbers on quarantine;
create trigger quarantine_redact_id_numbers before insert or update on quarantine
    for each row execute function quarantine_redact_id_numbers();

-- Rows already stored.
update quarantine set raw = raw;  -- the trigger above redacts every column

update reading_unattributed
   set ref_key = cdm_redact(ref_key), ref_masked = cdm_redact(ref_masked)
 where ref_scheme is distinct from 'id_card'
   and (ref_key is distinct from cdm_redact(ref_key) or ref_masked is distinct from cdm_redact(ref_masked));

update reading set patient_ref = cdm_redact(patient_ref)
 where patient_scheme is distinct from 'id_card' and patient_ref ~ '[0-9０-９]{6}'
   and patient_ref <> cdm_redact(patient_ref);

-- The audit trail refuses any change; this once, as the table's owner, a typed user name (someone types an ID
-- number into the name field) is masked. Nothing else in the rows changes.
create function cdm_redact_jsonb(j jsonb) returns jsonb language plpgsql immutable as $$
begin
    return cdm_redact(j::text)::jsonb;
exception when others then
    return jsonb_build_object('redacted', true);
end $$;
alter table audit_event disable trigger audit_event_append_only;
update audit_event set username = cdm_redact(username), detail = cdm_redact_jsonb(detail)
 where username <> cdm_redact(username) or detail::text <> cdm_redact(detail::text);
alter table audit_event enable trigger audit_event_append_only;
