//! Fit statistics after bulk work. The planner chooses by the statistics of each table; a table loaded in one go
//! (22,474 enrollments in a few seconds) still has the statistics of an empty one until it is analyzed, and
//! autovacuum looks only once a minute (`autovacuum_naptime`), so for that minute a coverage check plans a
//! sequential scan and runs ten times slower. This pass analyzes, within seconds of the commit, every table of
//! lindung's schema changed by more than [`THRESHOLD`] rows plus [`SCALE`] of its size since it was last analyzed.
//! Autovacuum stays on for the rest (vacuuming, and deployments that run no lindung process).

use std::time::Duration;

use sqlx::PgConnection;

use crate::{background, state::AppState};

/// Rows changed before a table is analyzed, beyond [`SCALE`] of its rows: a single call's changes never trigger it.
pub const THRESHOLD: i64 = 1_000;
/// The share of a table's rows that must change: a large table is not re-analyzed for every batch.
pub const SCALE: f64 = 0.1;

/// The pass, once per deployment.
pub struct Analyzer {
    pub every: Duration,
}

impl background::Task for Analyzer {
    const NAME: &'static str = "statistics";
    const LOCK: i64 = i64::from_be_bytes(*b"lnd.stat");

    fn every(&self) -> Duration {
        self.every
    }

    async fn run(&mut self, _state: &AppState, conn: &mut PgConnection) -> anyhow::Result<()> {
        analyze_changed(conn).await?;
        Ok(())
    }
}

/// Analyzes the tables of the current schema changed beyond the threshold; answers their names. The counts come
/// from PostgreSQL's cumulative statistics, which backends report within a second or so of a commit.
pub async fn analyze_changed(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    let tables = sqlx::query_scalar!(
        r#"select format('%I.%I', s.schemaname, s.relname) as "name!"
           from pg_stat_user_tables s join pg_class c on c.oid = s.relid
           where s.schemaname = current_schema()
             and s.n_mod_since_analyze > $1::bigint + $2::float8 * greatest(c.reltuples, 0)
           order by s.relname"#,
        THRESHOLD,
        SCALE
    )
    .fetch_all(&mut *conn)
    .await?;
    if !tables.is_empty() {
        // The names were quoted by `format('%I')` above, from the catalogue: nothing of a caller's is in them.
        sqlx::query(sqlx::AssertSqlSafe(format!("analyze {}", tables.join(", ")))).execute(&mut *conn).await?;
        tracing::info!(tables = %tables.join(", "), "analyzed after bulk changes");
    }
    Ok(tables)
}
