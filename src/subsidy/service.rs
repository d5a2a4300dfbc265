//! The subsidy use cases other concepts call: the benefit policy a subsidy's participants are assessed under.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::store;
use crate::{benefit, error::Error, money::Rupiah};

/// The benefit policy of a subsidy: the JKK base is the declared-income tier, 100 × the JKK contribution (R1.1).
pub async fn benefit_policy(conn: &mut PgConnection, subsidy: Uuid) -> Result<benefit::Policy, Error> {
    let row = store::get(&mut *conn, subsidy)
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("subsidy {subsidy} vanished")))?;
    let base = Rupiah::new(row.jkk_monthly * Decimal::from(100)).map_err(Error::internal)?;
    Ok(benefit::Policy { base, ..benefit::Policy::default() })
}
