-- A funder's own list (its spreadsheet) staged for one reconciliation, so that it is compared with the store in a
-- few set-based statements instead of a query per row, and the service holds no more than a page of it in memory.
-- Rows are written inside the reconciliation's transaction, which is always rolled back: nothing here is ever
-- committed, and the table is unlogged (no WAL) because it never holds anything worth recovering. `run` keeps
-- concurrent reconciliations apart.
create unlogged table reconcile_rows (
    run uuid not null,
    -- The row's position on the list, from 1.
    row_no integer not null,
    -- The row as sent, re-parsed when it is answered (so a bad row's violations need not be kept). Bytes, not text:
    -- a bad row may hold what text cannot (a NUL), and it must still be answered as sent.
    nik_sent bytea not null,
    full_name bytea not null,
    first_month_sent bytea not null,
    -- The parsed NIK; null when the row is not a valid NIK.
    nik text collate "C",
    constraint reconcile_rows_pk primary key (run, row_no)
);

create index reconcile_rows_nik on reconcile_rows (run, nik);
