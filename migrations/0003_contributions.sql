-- Monthly bills per subsidy and the funders' payments (R1). A bill line is never rewritten: a change in
-- enrollments after issue adds an adjustment line, so every rupiah billed keeps its history.

create table bills (
    id uuid primary key,
    subsidy_id uuid not null constraint bills_subsidy_fk references subsidies,
    month date not null constraint bills_month_is_month check (extract(day from month) = 1),
    issued_by uuid not null constraint bills_issued_by_fk references agencies,
    issued_at timestamptz not null default now(),
    -- Totals of the lines, kept with the bill at each issue so that reading a bill (and every coverage check that
    -- replays a subsidy's bills) never sums a million lines.
    jkk numeric(18, 2) not null default 0,
    jkm numeric(18, 2) not null default 0,
    workers integer not null default 0,
    adjustments integer not null default 0,
    constraint bills_one_per_month unique (subsidy_id, month)
);

create table bill_lines (
    id bigint generated always as identity primary key,
    bill_id uuid not null constraint bill_lines_bill_fk references bills,
    enrollment_id uuid not null constraint bill_lines_enrollment_fk references enrollments,
    -- 'charge' on the first issue; 'adjustment' (positive or negative) on a re-issue.
    kind text not null constraint bill_lines_kind_known check (kind in ('charge', 'adjustment')),
    jkk numeric(12, 2) not null,
    jkm numeric(12, 2) not null,
    created_at timestamptz not null default now()
);

create index bill_lines_bill on bill_lines (bill_id, enrollment_id);

create table payments (
    id uuid primary key,
    subsidy_id uuid not null constraint payments_subsidy_fk references subsidies,
    amount numeric(18, 2) not null constraint payments_amount_positive check (amount > 0),
    paid_on date not null,
    -- The funder's transfer reference: one payment per reference, so a resent payment is recorded once.
    reference text not null,
    recorded_by uuid not null constraint payments_recorded_by_fk references agencies,
    created_at timestamptz not null default now(),
    constraint payments_reference_unique unique (subsidy_id, reference)
);

create index payments_subsidy on payments (subsidy_id, paid_on);
