-- Coverage: the insurer's backdate corrections of lapses (R1.6), and the index that finds the months a worker was
-- billed for.

-- A lapse that the insurer has corrected: the membership did not end at this month, and its arrears stay payable.
create table lapse_backdates (
    subsidy_id uuid not null constraint lapse_backdates_subsidy_fk references subsidies,
    -- The last month of the unpaid run whose lapse is excused.
    month date not null constraint lapse_backdates_month_is_month check (extract(day from month) = 1),
    recorded_by uuid not null constraint lapse_backdates_recorded_by_fk references agencies,
    recorded_at timestamptz not null default now(),
    primary key (subsidy_id, month)
);

create index bill_lines_enrollment on bill_lines (enrollment_id);
