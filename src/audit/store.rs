//! SQL for the audit log. Callers pass the transaction of the change they audit, so the record and the change
//! commit or roll back together.

use sqlx::PgExecutor;

use super::{Actor, Subject};

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
        "insert into audit_log (agency_id, method, request_id, outcome, subject_hash)
         select $1, $2, $3, $4, s.h
         from (select unnest($5::bytea[]) as h union all select null where cardinality($5::bytea[]) = 0) s",
        actor.agency_id,
        actor.method,
        actor.request_id,
        outcome,
        &hashes[..],
    )
    .execute(executor)
    .await?;
    Ok(())
}
