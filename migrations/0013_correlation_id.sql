-- A client's own correlation id (`x-correlation-id`) is kept with each audit record, so that an agency can find the
-- records of one of its business transactions across several calls. lindung only checks its shape: 1 to 128
-- visible ASCII characters, as the edge enforces for it and for `x-request-id`.
alter table audit_log add column correlation_id text
    constraint audit_log_correlation_id_format check (correlation_id ~ '^[!-~]{1,128}$');

-- The same bound for request ids from now on; earlier rows are not re-checked (NOT VALID) because the log is
-- append-only and a record is never rewritten.
alter table audit_log add constraint audit_log_request_id_format check (request_id ~ '^[!-~]{1,128}$') not valid;
