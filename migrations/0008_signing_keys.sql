-- The server's Ed25519 public keys, by key id (RFC 7638 JWK thumbprint). A lindung process records its key here at
-- start; the keys stay after a rotation, so that checkpoints and attestations signed with an older key still verify.
create table signing_keys (
    kid text constraint signing_keys_pk primary key
        constraint signing_keys_kid_format check (kid ~ '^[A-Za-z0-9_-]{43}$'),
    public_key bytea not null constraint signing_keys_public_key_unique unique
        constraint signing_keys_public_key_length check (length(public_key) = 32),
    first_used_at timestamptz not null default now()
);
