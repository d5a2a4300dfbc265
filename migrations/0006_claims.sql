-- Claims (R2, R3): a death or work-accident claim from notice or filing to payment. What must never happen lives
-- here: a second death claim for one worker, a claim paid twice, a status that skips a step.

create table claims (
    id uuid primary key,
    worker_nik text collate "C" not null constraint claims_worker_fk references workers,
    -- 'death' (JKM), 'accident' (JKK, survived) or 'accident_death' (JKK).
    event text not null constraint claims_event_known check (event in ('death', 'accident', 'accident_death')),
    event_date date not null,
    status text not null constraint claims_status_known check (
        status in ('notice', 'filed', 'assessed', 'approved', 'rejected', 'paid')
    ),
    -- The funder on the event date, from the coverage check at filing: it follows the claim. Null on a notice.
    subsidy_id uuid constraint claims_subsidy_fk references subsidies,
    funder_id uuid constraint claims_funder_fk references agencies,
    contribution_months integer constraint claims_contribution_months_non_negative check (contribution_months >= 0),
    -- The accident notice (R3.7).
    accident_place text,
    accident_cause text,
    accident_at timestamptz,
    notifier_name text,
    notifier_phone text,
    -- Heirs with their bank accounts, children, medical particulars: specific personal data (R6.3), sealed
    -- (AES-256-GCM) by lindung before they reach the store. The database never sees them in clear.
    particulars bytea not null,
    -- The R2.6 checklist items present, and when it became complete.
    documents text[] not null default '{}',
    complete_at timestamptz,
    -- The assessment: the breakdown (sealed: scholarship lines describe children) and its total in clear.
    breakdown bytea,
    total numeric(18, 2) constraint claims_total_non_negative check (total >= 0),
    assessed_at timestamptz,
    rejection_reason text,
    decided_by uuid constraint claims_decided_by_fk references agencies,
    decided_at timestamptz,
    -- The filing agency's request id: a resend answers the same claim.
    request_id text not null,
    filed_by uuid not null constraint claims_filed_by_fk references agencies,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint claims_request_unique unique (filed_by, request_id),
    constraint claims_filed_has_funder check (status in ('notice', 'rejected') or subsidy_id is not null),
    constraint claims_assessed_has_total check (
        status not in ('assessed', 'approved', 'paid') or (breakdown is not null and total is not null)
    ),
    constraint claims_rejected_has_reason check (status <> 'rejected' or rejection_reason is not null)
);

-- At most one death claim per worker (R2: the death benefit is paid once), whichever programme pays it. Racing
-- filings queue on this index: the second is refused.
create unique index claims_one_death_claim_per_worker on claims (worker_nik)
    where event in ('death', 'accident_death') and status <> 'rejected';
create index claims_worker on claims (worker_nik);
create index claims_funder on claims (funder_id, created_at);
create index claims_open on claims (created_at) where status not in ('paid', 'rejected');

-- One payment per claim, under a reference used once: a claim is never paid twice.
create table claim_payments (
    claim_id uuid primary key constraint claim_payments_claim_fk references claims,
    amount numeric(18, 2) not null constraint claim_payments_amount_non_negative check (amount >= 0),
    reference text not null constraint claim_payments_reference_unique unique,
    paid_on date not null,
    recorded_by uuid not null constraint claim_payments_recorded_by_fk references agencies,
    recorded_at timestamptz not null default now()
);

-- The life cycle: NOTICE -> FILED; FILED -> ASSESSED; ASSESSED -> ASSESSED (re-assessed) | APPROVED; any state
-- before PAID -> REJECTED; APPROVED -> PAID, and only with its payment recorded. PAID and REJECTED are final.
create function claims_check_transition() returns trigger language plpgsql as $$
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
    new.updated_at := now();
    return new;
end;
$$;

create trigger claims_check_transition before update on claims
    for each row execute function claims_check_transition();
