-- Agencies may authenticate with a client certificate (mutual TLS) instead of an API key. The certificate must chain
-- to the deployment's CA (checked by the TLS handshake); the agency is the one its public key is recorded for here,
-- by the SHA-256 of its SubjectPublicKeyInfo, so that a reissued certificate for the same key stays the same agency
-- and a revoked key is refused whatever certificate carries it.
create table agency_certificates (
    spki_sha256 bytea not null
        constraint agency_certificates_pkey primary key
        constraint agency_certificates_spki_length check (length(spki_sha256) = 32),
    agency_id uuid not null constraint agency_certificates_agency_fk references agencies on delete cascade,
    -- The certificate's subject as issued, for operators telling certificates apart.
    subject text not null constraint agency_certificates_subject_length check (length(subject) between 1 and 1000),
    not_after timestamptz not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz,
    constraint agency_certificates_revoked_after_created check (revoked_at is null or revoked_at >= created_at)
);

create index agency_certificates_agency on agency_certificates (agency_id);

-- Certificates are cached with the API keys (src/agency/cache.rs): any change empties the same cache, so a revoked
-- certificate is refused on its next call (migration 0014).
create trigger agency_certificates_notify_change after insert or update or delete or truncate on agency_certificates
    for each statement execute function api_keys_notify_change();
