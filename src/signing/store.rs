//! The public keys lindung has signed with, kept so that what an older key signed still verifies after a rotation.

use sqlx::PgExecutor;

use super::PublicKey;

/// Records `key` as one of the deployment's keys (once; a restart with the same key changes nothing).
pub async fn register(executor: impl PgExecutor<'_>, key: &PublicKey) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into signing_keys (kid, public_key) values ($1, $2) on conflict (kid) do nothing",
        key.kid,
        &key.bytes[..],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Every key the deployment has used, oldest first.
pub async fn all(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<PublicKey>> {
    let rows =
        sqlx::query!("select public_key from signing_keys order by first_used_at, kid").fetch_all(executor).await?;
    Ok(rows
        .into_iter()
        // The length is a constraint of the table.
        .filter_map(|row| <[u8; 32]>::try_from(row.public_key.as_slice()).ok())
        .map(PublicKey::new)
        .collect())
}
