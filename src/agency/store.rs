//! SQL for agencies and API keys. Rows come out as [`Agency`] values (the kind through `database/types.rs`); a
//! stored agency that no longer makes one is a decoding error.

use std::time::Duration;

use sqlx::{
    Acquire, Connection, PgConnection, PgExecutor, PgPool,
    postgres::{PgListener, PgPoolOptions},
};
use uuid::Uuid;

use super::{Agency, AgencyKind};
use crate::area::RegionCode;

/// An agency row as stored; turned into an [`Agency`] by [`AgencyRow::into_agency`].
struct AgencyRow {
    id: Uuid,
    name: String,
    kind: AgencyKind,
    province_code: Option<String>,
    regency_code: Option<String>,
}

impl AgencyRow {
    fn into_agency(self) -> sqlx::Result<Agency> {
        let decoding = |e: &dyn std::fmt::Display| sqlx::Error::Decode(format!("a stored agency: {e}").into());
        let region = self
            .regency_code
            .or(self.province_code)
            .map(|code| RegionCode::parse(&code))
            .transpose()
            .map_err(|e| decoding(&e))?;
        Agency::new(self.id, &self.name, self.kind, region).map_err(|e| decoding(&e))
    }
}

/// Stores an agency. A taken name fails on `agencies_name_unique`, a region outside the Kemendagri list on
/// `agencies_province_fk` / `agencies_regency_fk` (see `agency::service::add`).
#[tracing::instrument(skip_all)]
pub async fn insert_agency(conn: &mut PgConnection, agency: &Agency) -> sqlx::Result<()> {
    let region = agency.region.as_ref().map(RegionCode::as_str);
    let (province, regency) = match agency.kind {
        AgencyKind::City => {
            (agency.region.as_ref().map(|r| r.province().as_str().to_owned()), region.map(str::to_owned))
        }
        AgencyKind::Province => (region.map(str::to_owned), None),
        AgencyKind::Insurer => (None, None),
    };
    sqlx::query!(
        "insert into agencies (id, kind, name, province_code, regency_code) values ($1, $2, $3, $4, $5)",
        agency.id,
        agency.kind as _,
        agency.name,
        province,
        regency,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn insert_api_key(
    executor: impl PgExecutor<'_>,
    agency_id: Uuid,
    hash: &[u8; 32],
    prefix: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into api_keys (agency_id, key_hash, key_prefix) values ($1, $2, $3)",
        agency_id,
        &hash[..],
        prefix
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// The agency owning an unrevoked key with this hash.
#[tracing::instrument(skip_all)]
pub async fn find_by_key_hash(executor: impl PgExecutor<'_>, hash: &[u8; 32]) -> sqlx::Result<Option<Agency>> {
    let row = sqlx::query_as!(
        AgencyRow,
        r#"select a.id, a.name, a.kind as "kind: AgencyKind", a.province_code, a.regency_code
         from api_keys k join agencies a on a.id = k.agency_id
         where k.key_hash = $1 and k.revoked_at is null"#,
        &hash[..],
    )
    .fetch_optional(executor)
    .await?;
    row.map(AgencyRow::into_agency).transpose()
}

/// The channel every change to a key or an agency is notified on (migration 0014).
pub const KEYS_CHANNEL: &str = "lindung_api_keys";

/// The `application_name` of the key listener's connection, as `pg_stat_activity` shows it.
pub const KEYS_LISTENER_NAME: &str = "lindung key cache";

/// The key listener's own pool, with the settings of `pool` and named [`KEYS_LISTENER_NAME`]: the listener holds its
/// connection for good, which would otherwise be one fewer for the calls. Two connections, so that the listener can
/// reconnect while a connection it gave up as unanswering is still being let go. Connects when used.
pub fn keys_listener_pool(pool: &PgPool) -> PgPool {
    let options = pool.connect_options().as_ref().clone().application_name(KEYS_LISTENER_NAME);
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options)
}

/// A listener on [`KEYS_CHANNEL`] that does not reconnect by itself: a lost connection is answered at once by
/// [`next_key_change`], so that the cache is put aside before a notification can be missed.
pub async fn keys_listener(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(KEYS_CHANNEL).await?;
    Ok(listener)
}

/// Waits for the next change notified: true, or false when the listener's connection was lost (the listener is then
/// to be dropped).
pub async fn next_key_change(listener: &mut PgListener) -> sqlx::Result<bool> {
    Ok(listener.try_recv().await?.is_some())
}

/// A round trip on the listener's connection (notifications that arrive meanwhile are kept for
/// [`next_key_change`]).
pub async fn ping_key_listener(listener: &mut PgListener) -> sqlx::Result<()> {
    listener.acquire().await?.ping().await
}

#[tracing::instrument(skip_all)]
pub async fn find_by_name(executor: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<Agency>> {
    let row = sqlx::query_as!(
        AgencyRow,
        r#"select id, name, kind as "kind: AgencyKind", province_code, regency_code from agencies where name = $1"#,
        name,
    )
    .fetch_optional(executor)
    .await?;
    row.map(AgencyRow::into_agency).transpose()
}

/// Revokes the unrevoked keys starting with `prefix`; answers how many.
#[tracing::instrument(skip_all)]
pub async fn revoke_keys(executor: impl PgExecutor<'_>, prefix: &str) -> sqlx::Result<u64> {
    // A whole key given as the prefix is cut to the stored prefix length, so `--key-prefix` accepts either.
    let result = sqlx::query!(
        "update api_keys set revoked_at = now()
         where revoked_at is null and key_prefix = left($1, length(key_prefix))",
        prefix,
    )
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}

/// One line per agency and key, for `lindung agency list`.
pub struct AgencyListing {
    pub agency: Agency,
    pub key_prefix: Option<String>,
    pub key_revoked: bool,
}

#[tracing::instrument(skip_all)]
pub async fn list(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<AgencyListing>> {
    let rows = sqlx::query!(
        r#"select a.id, a.name, a.kind as "kind: AgencyKind", a.province_code, a.regency_code,
                  k.key_prefix as "key_prefix?", (k.revoked_at is not null) as "key_revoked!"
           from agencies a left join api_keys k on k.agency_id = a.id
           order by a.name, k.created_at"#,
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|r| {
            let agency = AgencyRow {
                id: r.id,
                name: r.name,
                kind: r.kind,
                province_code: r.province_code,
                regency_code: r.regency_code,
            }
            .into_agency()?;
            Ok(AgencyListing { agency, key_prefix: r.key_prefix, key_revoked: r.key_revoked })
        })
        .collect()
}

/// A client certificate recorded for an agency (migration 0016).
pub struct NewCertificate<'a> {
    pub agency_id: Uuid,
    pub spki_sha256: &'a [u8; 32],
    pub subject: &'a str,
    pub not_after: chrono::DateTime<chrono::Utc>,
}

/// Records a certificate's public key for its agency. Reissuing for a recorded key fails on `agency_certificates_pkey`.
#[tracing::instrument(skip_all)]
pub async fn insert_certificate(executor: impl PgExecutor<'_>, certificate: &NewCertificate<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into agency_certificates (spki_sha256, agency_id, subject, not_after) values ($1, $2, $3, $4)",
        &certificate.spki_sha256[..],
        certificate.agency_id,
        certificate.subject,
        certificate.not_after,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// The agency an unrevoked, unexpired certificate with this SPKI hash was issued to.
#[tracing::instrument(skip_all)]
pub async fn find_by_certificate(
    executor: impl PgExecutor<'_>,
    spki_sha256: &[u8; 32],
) -> sqlx::Result<Option<Agency>> {
    let row = sqlx::query_as!(
        AgencyRow,
        r#"select a.id, a.name, a.kind as "kind: AgencyKind", a.province_code, a.regency_code
         from agency_certificates c join agencies a on a.id = c.agency_id
         where c.spki_sha256 = $1 and c.revoked_at is null and c.not_after > now()"#,
        &spki_sha256[..],
    )
    .fetch_optional(executor)
    .await?;
    row.map(AgencyRow::into_agency).transpose()
}

/// Revokes the unrevoked certificate with this SPKI hash, or every one of `agency_id`; answers how many.
#[tracing::instrument(skip_all)]
pub async fn revoke_certificates(
    executor: impl PgExecutor<'_>,
    spki_sha256: Option<&[u8]>,
    agency_id: Option<Uuid>,
) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "update agency_certificates set revoked_at = now()
         where revoked_at is null and ($1::bytea is null or spki_sha256 = $1) and ($2::uuid is null or agency_id = $2)
           and ($1::bytea is not null or $2::uuid is not null)",
        spki_sha256,
        agency_id,
    )
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}
