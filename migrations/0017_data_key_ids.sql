-- Data keys that rotate (docs/SECURITY.md, "Data keys"): every sealed value names the key that sealed it (see
-- src/seal.rs for the layouts), so that `lindung keys rotate` can re-seal under a new key while servers run and a
-- value opens with its own key whichever step the rotation is at. The id is in the value, not in a column of the
-- row: a claim's sealed columns are written at different steps, so a row may hold values of two keys.

-- A re-seal is not a change of the claim: its update_time stays. `lindung keys rotate` says so for its own
-- transactions with `set local lindung.resealing = 'on'`; every other update stamps the time as before.
create or replace function claims_check_transition() returns trigger language plpgsql as $$
begin
    -- A notice may turn out to be a work-accident death when the insurer files it; nothing else changes its event.
    if new.worker_nik <> old.worker_nik or (new.event <> old.event and old.status <> 'notice') then
        raise exception 'claim % may not change its worker or event', old.id
            using errcode = 'check_violation', constraint = 'claims_identity_fixed';
    end if;
    if new.status is distinct from old.status and not (
        (old.status = 'notice' and new.status in ('filed', 'rejected'))
        or (old.status = 'filed' and new.status in ('assessed', 'rejected'))
        or (old.status = 'assessed' and new.status in ('approved', 'rejected'))
        or (old.status = 'approved' and new.status in ('paid', 'rejected'))
    ) then
        raise exception 'claim % cannot go from % to %', old.id, old.status, new.status
            using errcode = 'check_violation', constraint = 'claims_status_transition';
    end if;
    if new.status = 'paid' and not exists (select 1 from claim_payments p where p.claim_id = new.id) then
        raise exception 'claim % is paid only with its payment recorded', old.id
            using errcode = 'check_violation', constraint = 'claims_paid_has_payment';
    end if;
    if coalesce(current_setting('lindung.resealing', true), '') <> 'on' then
        new.updated_at := now();
    end if;
    return new;
end;
$$;

-- The key id a sealed value names, as src/seal.rs reads it: 8 hex digits; the derived key's for a value without
-- one (from an older build).
create function sealed_key_id(sealed bytea) returns text
    language sql immutable strict parallel safe
    as $$
        select case
            when length(sealed) < 5 then '00000000'
            when get_byte(sealed, 0) = 1 then encode(substring(sealed from 2 for 4), 'hex')
            else '00000000'
        end
    $$;

-- The same for a sealed text: `sealed:v2:<id>:…`, `sealed:v1:…` (the derived key), or 'clear' for a text stored
-- before sealing, which a rotation seals.
create function sealed_key_id(stored text) returns text
    language sql immutable strict parallel safe
    as $$
        select case
            when stored like 'sealed:v2:%' then split_part(stored, ':', 3)
            when stored like 'sealed:v1:%' then '00000000'
            else 'clear'
        end
    $$;

-- Every sealed byte value stored so far is `nonce || ciphertext+tag` under the key derived from the pseudonym key:
-- it is prefixed with the version byte and that key's id (all zeros), so that the key of every value can be told
-- from its first bytes. Texts need nothing: `sealed:v1:` already says the derived key.
set local lindung.resealing = 'on';
update claims set
    particulars = '\x0100000000'::bytea || particulars,
    breakdown = '\x0100000000'::bytea || breakdown;
