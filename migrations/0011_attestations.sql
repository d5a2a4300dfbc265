-- Coverage attestations lindung has issued (signed JWS tokens, src/attestation/), by their id, the JWT `jti`. The
-- token names the worker only by a keyed hash, so this is where CheckAttestation finds the worker to judge them
-- again: an attestation must not outlive a death or a lapse unnoticed. The token itself is not kept; it is the
-- holder's, and everything it says is signed.
create table attestations (
    id uuid constraint attestations_pk primary key,
    -- No foreign key: a worker not (yet) registered can be attested NOT_ENROLLED.
    worker_nik text collate "C" not null constraint attestations_worker_nik_format check (worker_nik ~ '^[0-9]{16}$'),
    kid text not null constraint attestations_kid_fk references signing_keys,
    issued_by uuid not null constraint attestations_issued_by_fk references agencies,
    issued_at timestamptz not null,
    valid_until date not null
);

-- "Every attestation about this worker", e.g. for a subject-access report.
create index attestations_worker on attestations (worker_nik);
