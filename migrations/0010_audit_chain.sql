-- The audit chain: audit records are sealed after they commit, in order and in batches, into a hash chain whose
-- head is signed at intervals (docs/ARCHITECTURE.md, "The audit chain").
--
-- The write path is unchanged: a call inserts its audit rows with `seq` and `leaf` null, in its own transaction.
-- One sealer (a singleton background task) later gives the committed rows consecutive positions (`seq`) and their
-- leaf hashes, and records each batch's Merkle root and chain value; a singleton checkpointer signs the head.

alter table audit_log
    -- The record's position in the chain, 0, 1, 2 … with no gap; null until sealed.
    add column seq bigint constraint audit_log_seq_unique unique constraint audit_log_seq_not_negative check (seq >= 0),
    -- SHA-256 of 0x00 and the record's canonical encoding (src/audit/chain.rs), seq included.
    add column leaf bytea constraint audit_log_leaf_length check (length(leaf) = 32),
    add constraint audit_log_sealed_whole check ((seq is null) = (leaf is null));

-- What the sealer reads every pass: the committed rows not sealed yet, in id order.
create index audit_log_unsealed on audit_log (id) where seq is null;

-- One row per sealed batch: records seq first_seq..=last_seq, the root of their Merkle tree (RFC 6962 hashing) and
-- chain = SHA-256(0x02 || previous chain || root || first_seq || last_seq), the chain before batch 0 being 32 zero
-- bytes.
create table audit_batches (
    batch bigint constraint audit_batches_pk primary key constraint audit_batches_batch_not_negative check (batch >= 0),
    first_seq bigint not null,
    last_seq bigint not null,
    root bytea not null constraint audit_batches_root_length check (length(root) = 32),
    chain bytea not null constraint audit_batches_chain_length check (length(chain) = 32),
    sealed_at timestamptz not null default now(),
    constraint audit_batches_range check (0 <= first_seq and first_seq <= last_seq),
    constraint audit_batches_first_seq_unique unique (first_seq)
);

-- The chain head as signed by the server's key at a fixed interval: (batch, chain, signed_at) under `kid`.
create table audit_checkpoints (
    id bigint generated always as identity constraint audit_checkpoints_pk primary key,
    batch bigint not null constraint audit_checkpoints_batch_fk references audit_batches,
    -- The last seq of that batch: the size of the log the checkpoint covers, signed with it.
    last_seq bigint not null,
    chain bytea not null constraint audit_checkpoints_chain_length check (length(chain) = 32),
    signed_at timestamptz not null,
    kid text not null constraint audit_checkpoints_kid_fk references signing_keys,
    signature bytea not null constraint audit_checkpoints_signature_length check (length(signature) = 64)
);

create index audit_checkpoints_batch on audit_checkpoints (batch);

-- The statement trigger of 0001 forbade every UPDATE, sealing included. Its row-level successor allows exactly one
-- update: setting seq and leaf on a row that has neither, leaving every other column as it was. The condition is
-- the trigger's WHEN clause, so sealing a row costs no PL/pgSQL call; only a refused change reaches the function.
drop trigger audit_log_append_only on audit_log;

create trigger audit_log_append_only before update on audit_log
    for each row
    when (not (
        old.seq is null and old.leaf is null and new.seq is not null and new.leaf is not null
        and (new.id, new.at, new.agency_id, new.method, new.request_id, new.outcome, new.subject_hash)
            is not distinct from (old.id, old.at, old.agency_id, old.method, old.request_id, old.outcome, old.subject_hash)
    ))
    execute function audit_log_append_only();

create trigger audit_log_no_delete before delete on audit_log
    for each statement execute function audit_log_append_only();

-- Batches and checkpoints are append-only, and none of the three tables may be truncated.
create function audit_chain_append_only() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_batches_append_only before update or delete on audit_batches
    for each statement execute function audit_chain_append_only();
create trigger audit_checkpoints_append_only before update or delete on audit_checkpoints
    for each statement execute function audit_chain_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_chain_append_only();
create trigger audit_batches_no_truncate before truncate on audit_batches
    for each statement execute function audit_chain_append_only();
create trigger audit_checkpoints_no_truncate before truncate on audit_checkpoints
    for each statement execute function audit_chain_append_only();
