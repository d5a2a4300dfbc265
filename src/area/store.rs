//! SQL for the Kemendagri area list: loading it from the copy kept in data/idn-area, and lookups.

use std::collections::HashSet;

use sqlx::{PgConnection, PgExecutor, PgPool};

use super::RegionCode;

/// Which edition of the area list this build carries (data/idn-area/SOURCE.md).
pub const EDITION: &str = "idn-area-data 4.0.1";

/// The CSV files, compiled into the binary so that a deployment needs nothing beside it.
const LEVELS: [(&str, &str, &str); 4] = [
    ("provinces", "code, name", include_str!("../../data/idn-area/provinces.csv")),
    ("regencies", "code, province_code, name", include_str!("../../data/idn-area/regencies.csv")),
    ("districts", "code, regency_code, name", include_str!("../../data/idn-area/districts.csv")),
    ("villages", "code, district_code, name", include_str!("../../data/idn-area/villages.csv")),
];

/// Loads the area list unless this edition is already loaded; answers whether it loaded.
///
/// Safe when several lindung processes start at once: an advisory lock lets one load while the others wait and
/// then find it done. Rows are upserted, so a newer edition updates names and adds codes; codes are never deleted
/// because workers may still refer to them.
#[tracing::instrument(skip_all)]
pub async fn ensure_loaded(pool: &PgPool) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtext('lindung.area_dataset'))").execute(&mut *tx).await?;
    let loaded = sqlx::query_scalar!("select edition from area_dataset").fetch_optional(&mut *tx).await?;
    if loaded.as_deref() == Some(EDITION) {
        return Ok(false);
    }
    for (table, columns, csv) in LEVELS {
        load_level(&mut tx, table, columns, csv).await?;
    }
    sqlx::query!(
        "insert into area_dataset (edition) values ($1)
         on conflict (singleton) do update set edition = excluded.edition, loaded_at = now()",
        EDITION
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// COPYs one CSV into a temporary table, then upserts it into `table` in one statement.
async fn load_level(conn: &mut PgConnection, table: &str, columns: &str, csv: &str) -> anyhow::Result<()> {
    let staging = format!("staging_{table}");
    // Table and column names come from the constant LEVELS above, never from input.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create temporary table {staging} (like {table} including defaults) on commit drop"
    )))
    .execute(&mut *conn)
    .await?;
    let mut copy =
        conn.copy_in_raw(&format!("copy {staging} ({columns}) from stdin with (format csv, header true)")).await?;
    copy.send(csv.as_bytes()).await?;
    copy.finish().await?;
    let updates: Vec<String> =
        columns.split(", ").filter(|c| *c != "code").map(|c| format!("{c} = excluded.{c}")).collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into {table} ({columns}) select {columns} from {staging}
         on conflict (code) do update set {}",
        updates.join(", ")
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which of `codes` are known villages.
#[tracing::instrument(skip_all)]
pub async fn known_villages(executor: impl PgExecutor<'_>, codes: &[&str]) -> sqlx::Result<HashSet<String>> {
    let codes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
    let found =
        sqlx::query_scalar!("select code from villages where code = any($1)", &codes[..]).fetch_all(executor).await?;
    Ok(found.into_iter().collect())
}

/// Which of `codes` are known districts (for NIK prefixes, R5.4).
#[tracing::instrument(skip_all)]
pub async fn known_districts(executor: impl PgExecutor<'_>, codes: &[&str]) -> sqlx::Result<HashSet<String>> {
    let codes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
    let found =
        sqlx::query_scalar!("select code from districts where code = any($1)", &codes[..]).fetch_all(executor).await?;
    Ok(found.into_iter().collect())
}

/// Whether an area code of any level exists.
#[tracing::instrument(skip_all)]
pub async fn exists(executor: impl PgExecutor<'_>, code: &RegionCode) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "select exists (
             select 1 from provinces where code = $1 union all select 1 from regencies where code = $1
             union all select 1 from districts where code = $1 union all select 1 from villages where code = $1
         ) as \"exists!\"",
        code.as_str()
    )
    .fetch_one(executor)
    .await?;
    Ok(found)
}
