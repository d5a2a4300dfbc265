//! SQL for the audit log and its chain. Callers of [`record`] pass the transaction of the change they audit, so the
//! record and the change commit or roll back together; the sealer's and the verifier's statements are set-based
//! (one update per batch, keyset pages for the verifier).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{
    Actor, Entry, NewRecord, Subject,
    chain::{Batch, Checkpoint, Hash, Record, Sealed},
};
use crate::agency::AgencyKind;

/// Records one call: one row per subject it touched, or a single row without a subject.
pub async fn record(
    executor: impl PgExecutor<'_>,
    actor: Actor<'_>,
    outcome: &str,
    subjects: &[Subject],
) -> sqlx::Result<()> {
    let hashes: Vec<Vec<u8>> = subjects.iter().map(|s| s.0.to_vec()).collect();
    // One statement whatever the number of subjects: unnest gives a row per hash, or one row of NULL for none.
    sqlx::query!(
        "insert into audit_log (agency_id, method, request_id, correlation_id, outcome, subject_hash)
         select $1, $2, $3, $4, $5, s.h
         from (select unnest($6::bytea[]) as h union all select null where cardinality($6::bytea[]) = 0) s",
        actor.agency_id,
        actor.method,
        actor.request_id,
        actor.correlation_id,
        outcome,
        &hashes[..],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Records several calls in one statement (the audit writer's batch): each record's rows in turn, one per subject
/// or a single row without one, so the ids follow the order of `records`.
pub async fn record_all(executor: impl PgExecutor<'_>, records: &[&NewRecord]) -> sqlx::Result<()> {
    let rows: usize = records.iter().map(|r| r.subjects.len().max(1)).sum();
    let mut agencies = Vec::with_capacity(rows);
    let mut methods = Vec::with_capacity(rows);
    let mut request_ids = Vec::with_capacity(rows);
    let mut correlation_ids = Vec::with_capacity(rows);
    let mut outcomes = Vec::with_capacity(rows);
    let mut hashes: Vec<Option<Vec<u8>>> = Vec::with_capacity(rows);
    for record in records {
        let subjects = record.subjects.iter().map(|s| Some(s.0.to_vec()));
        let subjects: Vec<Option<Vec<u8>>> = if record.subjects.is_empty() { vec![None] } else { subjects.collect() };
        for hash in subjects {
            agencies.push(record.agency_id);
            methods.push(record.method.as_str());
            request_ids.push(record.request_id.as_str());
            correlation_ids.push(record.correlation_id.as_deref());
            outcomes.push(record.outcome);
            hashes.push(hash);
        }
    }
    sqlx::query!(
        "insert into audit_log (agency_id, method, request_id, correlation_id, outcome, subject_hash)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])",
        &agencies[..],
        &methods[..] as &[&str],
        &request_ids[..] as &[&str],
        &correlation_ids[..] as &[Option<&str>],
        &outcomes[..] as &[&str],
        &hashes[..] as &[Option<Vec<u8>>],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// A stored hash; the length is a constraint of the tables.
fn hash(bytes: Vec<u8>) -> sqlx::Result<Hash> {
    Hash::try_from(bytes.as_slice()).map_err(|_| sqlx::Error::Decode("a stored hash is not 32 bytes long".into()))
}

fn subject(bytes: Option<Vec<u8>>) -> sqlx::Result<Option<Subject>> {
    bytes.map(|b| hash(b).map(Subject)).transpose()
}

/// The last sealed batch, if any.
pub async fn head(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<Batch>> {
    let row =
        sqlx::query!("select batch, first_seq, last_seq, root, chain from audit_batches order by batch desc limit 1")
            .fetch_optional(executor)
            .await?;
    row.map(|r| {
        Ok(Batch {
            batch: r.batch,
            first_seq: r.first_seq,
            last_seq: r.last_seq,
            root: hash(r.root)?,
            chain: hash(r.chain)?,
        })
    })
    .transpose()
}

/// Up to `limit` committed records not sealed yet, in id order.
pub async fn unsealed(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Record>> {
    let rows = sqlx::query!(
        "select id, at, agency_id, method, request_id, correlation_id, outcome, subject_hash
         from audit_log where seq is null order by id limit $1",
        limit,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Record {
                id: r.id,
                at: r.at,
                agency_id: r.agency_id,
                method: r.method,
                request_id: r.request_id,
                correlation_id: r.correlation_id,
                outcome: r.outcome,
                subject: subject(r.subject_hash)?,
            })
        })
        .collect()
}

/// Writes a batch: each record's position and leaf, and the batch row. The caller's transaction makes it one step.
pub async fn seal(conn: &mut PgConnection, sealed: &[Sealed], batch: &Batch) -> sqlx::Result<u64> {
    let ids: Vec<i64> = sealed.iter().map(|s| s.record.id).collect();
    let seqs: Vec<i64> = sealed.iter().map(|s| s.seq).collect();
    let leaves: Vec<Vec<u8>> = sealed.iter().map(|s| s.leaf.to_vec()).collect();
    let updated = sqlx::query!(
        "update audit_log set seq = u.seq, leaf = u.leaf
         from unnest($1::bigint[], $2::bigint[], $3::bytea[]) as u(id, seq, leaf)
         where audit_log.id = u.id and audit_log.seq is null",
        &ids[..],
        &seqs[..],
        &leaves[..],
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query!(
        "insert into audit_batches (batch, first_seq, last_seq, root, chain) values ($1, $2, $3, $4, $5)",
        batch.batch,
        batch.first_seq,
        batch.last_seq,
        &batch.root[..],
        &batch.chain[..],
    )
    .execute(conn)
    .await?;
    Ok(updated)
}

/// The batch of the newest checkpoint, if any.
pub async fn last_checkpointed_batch(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select max(batch) from audit_checkpoints").fetch_one(executor).await
}

pub async fn insert_checkpoint(executor: impl PgExecutor<'_>, checkpoint: &Checkpoint) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into audit_checkpoints (batch, last_seq, chain, signed_at, kid, signature)
         values ($1, $2, $3, $4, $5, $6)",
        checkpoint.batch,
        checkpoint.last_seq,
        &checkpoint.chain[..],
        checkpoint.signed_at,
        checkpoint.kid,
        &checkpoint.signature[..],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Up to `limit` sealed records after position `after`, in seq order (a keyset page of the chain).
pub async fn sealed_page(executor: impl PgExecutor<'_>, after: i64, limit: i64) -> sqlx::Result<Vec<Sealed>> {
    let rows = sqlx::query!(
        r#"select seq as "seq!", leaf as "leaf!", id, at, agency_id, method, request_id, correlation_id, outcome,
                  subject_hash
         from audit_log where seq > $1 order by seq limit $2"#,
        after,
        limit,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Sealed {
                seq: r.seq,
                leaf: hash(r.leaf)?,
                record: Record {
                    id: r.id,
                    at: r.at,
                    agency_id: r.agency_id,
                    method: r.method,
                    request_id: r.request_id,
                    correlation_id: r.correlation_id,
                    outcome: r.outcome,
                    subject: subject(r.subject_hash)?,
                },
            })
        })
        .collect()
}

/// Up to `limit` batches after batch `after`, in order.
pub async fn batches_page(executor: impl PgExecutor<'_>, after: i64, limit: i64) -> sqlx::Result<Vec<Batch>> {
    let rows = sqlx::query!(
        "select batch, first_seq, last_seq, root, chain from audit_batches where batch > $1 order by batch limit $2",
        after,
        limit,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(|r| read_batch(r.batch, r.first_seq, r.last_seq, r.root, r.chain)).collect()
}

/// The checkpoints of batches `from..=to`, by batch then id.
pub async fn checkpoints(executor: impl PgExecutor<'_>, from: i64, to: i64) -> sqlx::Result<Vec<Checkpoint>> {
    let rows = sqlx::query!(
        "select id, batch, last_seq, chain, signed_at, kid, signature
         from audit_checkpoints where batch between $1 and $2 order by batch, id",
        from,
        to,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Checkpoint {
                id: r.id,
                batch: r.batch,
                last_seq: r.last_seq,
                chain: hash(r.chain)?,
                signed_at: r.signed_at,
                kid: r.kid,
                signature: r.signature,
            })
        })
        .collect()
}

/// A checkpoint naming a batch that does not exist (the foreign key forbids it, but verify trusts nothing).
pub async fn checkpoint_without_batch(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<(i64, i64)>> {
    let row = sqlx::query!(
        "select c.id, c.batch from audit_checkpoints c
         where not exists (select 1 from audit_batches b where b.batch = c.batch) order by c.id limit 1"
    )
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|r| (r.id, r.batch)))
}

/// Records not sealed yet.
pub async fn unsealed_count(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from audit_log where seq is null"#).fetch_one(executor).await
}

/// Which records a listing reads.
pub enum Filter<'a> {
    /// The calls of one agency.
    Agency(uuid::Uuid),
    /// The records about any of these subjects.
    Subjects(&'a [Subject]),
}

/// A page of records, newest first, in `[from, to)`, after the keyset `after` (at, id).
pub async fn list(
    executor: impl PgExecutor<'_>,
    filter: Filter<'_>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<Entry>> {
    let (agency, subjects): (Option<uuid::Uuid>, Option<Vec<Vec<u8>>>) = match filter {
        Filter::Agency(id) => (Some(id), None),
        Filter::Subjects(subjects) => (None, Some(subjects.iter().map(|s| s.0.to_vec()).collect())),
    };
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query!(
        r#"select l.id, l.at, l.agency_id, l.method, l.request_id, l.correlation_id, l.outcome, l.subject_hash,
                  l.seq,
                  a.name as "agency_name?", a.kind as "agency_kind?: AgencyKind"
         from audit_log l left join agencies a on a.id = l.agency_id
         where ($1::uuid is null or l.agency_id = $1)
           and ($2::bytea[] is null or l.subject_hash = any($2))
           and ($3::timestamptz is null or l.at >= $3)
           and ($4::timestamptz is null or l.at < $4)
           and ($5::timestamptz is null or (l.at, l.id) < ($5, $6))
         order by l.at desc, l.id desc
         limit $7"#,
        agency,
        subjects.as_deref(),
        from,
        to,
        after_at,
        after_id,
        limit,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Entry {
                seq: r.seq,
                agency: r.agency_name.zip(r.agency_kind),
                record: Record {
                    id: r.id,
                    at: r.at,
                    agency_id: r.agency_id,
                    method: r.method,
                    request_id: r.request_id,
                    correlation_id: r.correlation_id,
                    outcome: r.outcome,
                    subject: subject(r.subject_hash)?,
                },
            })
        })
        .collect()
}

/// One record by its seq or by its id, with its leaf when sealed.
pub async fn get(
    executor: impl PgExecutor<'_>,
    seq: Option<i64>,
    id: Option<i64>,
) -> sqlx::Result<Option<(Entry, Option<Hash>)>> {
    let row = sqlx::query!(
        r#"select l.id, l.at, l.agency_id, l.method, l.request_id, l.correlation_id, l.outcome, l.subject_hash,
                  l.seq, l.leaf,
                  a.name as "agency_name?", a.kind as "agency_kind?: AgencyKind"
         from audit_log l left join agencies a on a.id = l.agency_id
         where l.seq = $1 or l.id = $2"#,
        seq,
        id,
    )
    .fetch_optional(executor)
    .await?;
    row.map(|r| {
        let entry = Entry {
            seq: r.seq,
            agency: r.agency_name.zip(r.agency_kind),
            record: Record {
                id: r.id,
                at: r.at,
                agency_id: r.agency_id,
                method: r.method,
                request_id: r.request_id,
                correlation_id: r.correlation_id,
                outcome: r.outcome,
                subject: subject(r.subject_hash)?,
            },
        };
        Ok((entry, r.leaf.map(hash).transpose()?))
    })
    .transpose()
}

/// The batch holding position `seq`.
pub async fn batch_of(executor: impl PgExecutor<'_>, seq: i64) -> sqlx::Result<Option<Batch>> {
    let row = sqlx::query!(
        "select batch, first_seq, last_seq, root, chain from audit_batches
         where first_seq <= $1 order by first_seq desc limit 1",
        seq,
    )
    .fetch_optional(executor)
    .await?;
    row.filter(|r| r.last_seq >= seq).map(|r| read_batch(r.batch, r.first_seq, r.last_seq, r.root, r.chain)).transpose()
}

/// The leaves of positions `first..=last`, in order.
pub async fn leaves(executor: impl PgExecutor<'_>, first: i64, last: i64) -> sqlx::Result<Vec<Hash>> {
    let rows = sqlx::query_scalar!(
        r#"select leaf as "leaf!" from audit_log where seq between $1 and $2 order by seq"#,
        first,
        last
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(hash).collect()
}

/// Batches `from..=to`, in order.
pub async fn batches(executor: impl PgExecutor<'_>, from: i64, to: i64) -> sqlx::Result<Vec<Batch>> {
    let rows = sqlx::query!(
        "select batch, first_seq, last_seq, root, chain from audit_batches where batch between $1 and $2 order by batch",
        from,
        to,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(|r| read_batch(r.batch, r.first_seq, r.last_seq, r.root, r.chain)).collect()
}

/// The first checkpoint at or after batch `batch`.
pub async fn checkpoint_covering(executor: impl PgExecutor<'_>, batch: i64) -> sqlx::Result<Option<Checkpoint>> {
    let row = sqlx::query!(
        "select id, batch, last_seq, chain, signed_at, kid, signature
         from audit_checkpoints where batch >= $1 order by batch, id limit 1",
        batch,
    )
    .fetch_optional(executor)
    .await?;
    row.map(|r| {
        Ok(Checkpoint {
            id: r.id,
            batch: r.batch,
            last_seq: r.last_seq,
            chain: hash(r.chain)?,
            signed_at: r.signed_at,
            kid: r.kid,
            signature: r.signature,
        })
    })
    .transpose()
}

/// A batch row as read; the hash lengths are constraints of the table.
fn read_batch(batch: i64, first_seq: i64, last_seq: i64, root: Vec<u8>, chain: Vec<u8>) -> sqlx::Result<Batch> {
    Ok(Batch { batch, first_seq, last_seq, root: hash(root)?, chain: hash(chain)? })
}
