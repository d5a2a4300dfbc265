-- Subsidies (the programmes cities and provinces fund) and enrollments (a worker funded by a subsidy from a month),
-- with the invariants the mayor asked for living here, where no client and no second server can get around them:
-- one funder per worker per month (an exclusion constraint over month ranges), quota and budget never overrun
-- (checked per statement under a lock on the subsidy), and the enrollment life cycle.

-- btree_gist lets one exclusion constraint combine equality on the NIK with overlap of month ranges.
create extension if not exists btree_gist;

create table subsidies (
    id uuid primary key,
    funder_id uuid not null constraint subsidies_funder_fk references agencies,
    name text not null,
    -- The decree that establishes the programme (e.g. a Keputusan Wali Kota).
    legal_basis text not null,
    -- A regency or province code inside the funder's region.
    area_code text collate "C" not null,
    first_month date not null constraint subsidies_first_month_is_month check (extract(day from first_month) = 1),
    last_month date not null constraint subsidies_last_month_is_month check (extract(day from last_month) = 1),
    quota integer not null constraint subsidies_quota_positive check (quota > 0),
    budget_ceiling numeric(18, 2) not null constraint subsidies_budget_positive check (budget_ceiling > 0),
    -- The monthly contribution per worker, as its components (R1.1–R1.4): JKK 10,000 + JKM 6,800 by default.
    jkk_monthly numeric(12, 2) not null constraint subsidies_jkk_non_negative check (jkk_monthly >= 0),
    jkm_monthly numeric(12, 2) not null constraint subsidies_jkm_non_negative check (jkm_monthly >= 0),
    -- Eligibility parameters (R4.1, R4.2): policy, not constants.
    max_decile smallint not null constraint subsidies_max_decile_range check (max_decile between 1 and 10),
    min_age smallint not null,
    max_age smallint not null,
    max_decile_age_quarters smallint not null constraint subsidies_decile_age_range check (max_decile_age_quarters >= 0),
    -- The client's request id of the creating call: a resent CreateSubsidy answers the subsidy it created.
    request_id text not null,
    created_at timestamptz not null default now(),
    constraint subsidies_request_unique unique (funder_id, request_id),
    constraint subsidies_months_ordered check (last_month >= first_month),
    constraint subsidies_age_range check (min_age between 0 and max_age and max_age <= 100),
    constraint subsidies_contribution_positive check (jkk_monthly + jkm_monthly > 0)
);

create index subsidies_funder on subsidies (funder_id);

-- The insurer's participant number (KPJ) belongs to one person, whichever government funds them.
alter table workers add column participant_number text
    constraint workers_participant_number_format check (participant_number ~ '^[0-9]{11}$')
    constraint workers_participant_number_unique unique;

create table enrollments (
    id uuid primary key,
    subsidy_id uuid not null constraint enrollments_subsidy_fk references subsidies,
    worker_nik text collate "C" not null constraint enrollments_worker_fk references workers,
    -- The first month asked for; kept apart from `months`, which becomes empty when ended before it.
    first_month date not null constraint enrollments_first_month_is_month check (extract(day from first_month) = 1),
    -- The funded months as a range of first days, [first month, month after the last): `&&` is "overlaps".
    -- Empty when an enrollment ended before its first month.
    months daterange not null constraint enrollments_months_by_month check (
        isempty(months) or (
            extract(day from lower(months)) = 1 and extract(day from upper(months)) = 1
            and lower_inc(months) and not upper_inc(months)
        )
    ),
    status text not null constraint enrollments_status_known check (status in ('pending', 'active', 'rejected', 'ended')),
    participant_number text constraint enrollments_participant_number_format check (participant_number ~ '^[0-9]{11}$'),
    protection_start date,
    rejection_reason text,
    rejection_detail text,
    end_reason text,
    -- The funder's request id: a resent submission answers the original decision.
    request_id text not null,
    created_by uuid not null constraint enrollments_created_by_fk references agencies,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint enrollments_active_is_registered check (
        status <> 'active' or (participant_number is not null and protection_start is not null)
    ),
    constraint enrollments_rejected_has_reason check (status <> 'rejected' or rejection_reason is not null),
    -- One funder per worker per month (R1.9), for every enrollment that funds or may fund those months. An ended
    -- enrollment keeps the months it funded; a rejected one funds nothing.
    constraint enrollments_one_funder_per_month
        exclude using gist (worker_nik with =, months with &&) where (status <> 'rejected')
);

create index enrollments_subsidy_status on enrollments (subsidy_id, status);
create index enrollments_pending on enrollments (created_at, id) where status = 'pending';
create index enrollments_worker on enrollments (worker_nik);

-- The answer given to each funder request id, accepted or refused, so that a resend gets the same answer even when
-- the world has changed since (R6.1, idempotency). `fingerprint` tells a resend from a different request that
-- reuses an id.
create table enrollment_requests (
    funder_id uuid not null constraint enrollment_requests_funder_fk references agencies,
    request_id text not null,
    fingerprint text not null,
    enrollment_id uuid constraint enrollment_requests_enrollment_fk references enrollments,
    -- When refused: the google.rpc.Status answered, protobuf-encoded, to be answered again byte for byte.
    refusal bytea,
    created_at timestamptz not null default now(),
    primary key (funder_id, request_id),
    constraint enrollment_requests_one_answer check ((enrollment_id is null) <> (refusal is null))
);

-- The life cycle, in one place: PENDING -> ACTIVE | REJECTED | ENDED, ACTIVE -> ENDED. An update never moves an
-- enrollment to another subsidy, worker or first month, and never adds months: so no update can use more quota or
-- budget, and the quota and budget check below need only run on insert.
create function enrollments_check_transition() returns trigger language plpgsql as $$
begin
    if new.subsidy_id <> old.subsidy_id or new.worker_nik <> old.worker_nik or new.first_month <> old.first_month
       or not (isempty(new.months) or old.months @> new.months) then
        raise exception 'enrollment % may only shrink its months', old.id
            using errcode = 'check_violation', constraint = 'enrollments_months_only_shrink';
    end if;
    if new.status is distinct from old.status and not (
        (old.status = 'pending' and new.status in ('active', 'rejected', 'ended'))
        or (old.status = 'active' and new.status = 'ended')
    ) then
        raise exception 'enrollment % cannot go from % to %', old.id, old.status, new.status
            using errcode = 'check_violation', constraint = 'enrollments_status_transition';
    end if;
    new.updated_at := now();
    return new;
end;
$$;

create trigger enrollments_check_transition before update on enrollments
    for each row execute function enrollments_check_transition();

-- Quota (enrollments pending or active) and budget (every funded month of every enrollment that is not rejected,
-- times the monthly contribution) are checked once per inserting statement for each subsidy it touched, after
-- locking the subsidy row: concurrent writers to one subsidy queue on that lock, so they cannot both squeeze into
-- the last place.
create function enrollments_check_quota_and_budget() returns trigger language plpgsql as $$
declare
    over record;
begin
    perform 1 from subsidies where id in (select subsidy_id from changed) order by id for update;
    select s.id, s.quota, s.budget_ceiling,
           count(*) filter (where e.status in ('pending', 'active')) as places,
           coalesce(sum(
               ((extract(year from upper(e.months)) * 12 + extract(month from upper(e.months)))
                - (extract(year from lower(e.months)) * 12 + extract(month from lower(e.months))))
               * (s.jkk_monthly + s.jkm_monthly)
           ) filter (where e.status <> 'rejected' and not isempty(e.months)), 0) as committed
      into over
      from subsidies s join enrollments e on e.subsidy_id = s.id
     where s.id in (select subsidy_id from changed)
     group by s.id
    having count(*) filter (where e.status in ('pending', 'active')) > s.quota
        or coalesce(sum(
               ((extract(year from upper(e.months)) * 12 + extract(month from upper(e.months)))
                - (extract(year from lower(e.months)) * 12 + extract(month from lower(e.months))))
               * (s.jkk_monthly + s.jkm_monthly)
           ) filter (where e.status <> 'rejected' and not isempty(e.months)), 0) > s.budget_ceiling
     limit 1;
    if found then
        raise exception 'subsidy % over its quota (% of %) or budget (% of %)',
            over.id, over.places, over.quota, over.committed, over.budget_ceiling
            using errcode = 'check_violation', constraint = 'enrollments_within_quota_and_budget';
    end if;
    return null;
end;
$$;

create trigger enrollments_quota_and_budget_on_insert after insert on enrollments
    referencing new table as changed
    for each statement execute function enrollments_check_quota_and_budget();
