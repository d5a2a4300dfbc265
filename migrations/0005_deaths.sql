-- Deaths (R1.8, R2): the report a funder or the insurer makes when a worker dies, kept apart from the registry's
-- `workers.date_of_death` so that who reported it, on what certificate, stays on record; and refund lines, the
-- negative bill lines that give back to the funder what was billed for months after the month of death.

create table deaths (
    worker_nik text collate "C" primary key constraint deaths_worker_fk references workers,
    date_of_death date not null,
    certificate_number text not null
        constraint deaths_certificate_length check (char_length(certificate_number) between 1 and 100),
    reported_by uuid not null constraint deaths_reported_by_fk references agencies,
    reported_at timestamptz not null default now()
);

-- A reported death is the one that counts: a later registry upsert cannot clear or move it.
create function workers_keep_reported_death() returns trigger language plpgsql as $$
declare
    reported date;
begin
    select d.date_of_death into reported from deaths d where d.worker_nik = new.nik;
    if found then
        new.date_of_death := reported;
    end if;
    return new;
end;
$$;

create trigger workers_keep_reported_death before update on workers
    for each row execute function workers_keep_reported_death();

-- 'refund': the negation of what an enrollment was billed for a month after the worker's death. The bill's
-- totals drop, so what the funder paid for that month becomes credit (R1.8).
alter table bill_lines drop constraint bill_lines_kind_known;
alter table bill_lines add constraint bill_lines_kind_known check (kind in ('charge', 'adjustment', 'refund'));
