//! The record of issued attestations: which worker each one names.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::nik::Nik;

/// An issued attestation as recorded.
#[derive(Debug, Clone)]
pub struct Issued {
    pub id: Uuid,
    pub worker_nik: Nik,
    pub kid: String,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
    pub valid_until: NaiveDate,
}

/// Records an attestation lindung has just signed.
pub async fn insert(executor: impl PgExecutor<'_>, issued: &Issued) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into attestations (id, worker_nik, kid, issued_by, issued_at, valid_until)
         values ($1, $2, $3, $4, $5, $6)",
        issued.id,
        issued.worker_nik.as_str(),
        issued.kid,
        issued.issued_by,
        issued.issued_at,
        issued.valid_until,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// The attestation issued under `id`, if lindung issued it.
pub async fn find(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Issued>> {
    sqlx::query_as!(
        Issued,
        r#"select id, worker_nik as "worker_nik: Nik", kid, issued_by, issued_at, valid_until
           from attestations where id = $1"#,
        id
    )
    .fetch_optional(executor)
    .await
}
