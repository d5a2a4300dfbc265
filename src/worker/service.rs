//! The worker use cases that other concepts call: recording a death and its consequences.

use chrono::NaiveDate;

use super::store;
use crate::{
    error::{Error, Refusal},
    month::Month,
};

/// What recording a death did.
pub struct Death {
    pub recorded: store::DeathRow,
    /// Whether this call recorded it (false: it repeated the recorded report).
    pub now: bool,
    pub changed: Vec<crate::enrollment::store::Ended>,
    pub refunds: Vec<crate::contribution::store::RefundRow>,
}

/// Records a death with its consequences, in the caller's transaction: the worker deceased, every enrollment ended
/// after the month of death, what was billed for later months refunded (R1.8). Refused when another death is
/// recorded for the worker. Shared by ReportDeath and the filing of a death claim.
pub async fn record_death(
    conn: &mut sqlx::PgConnection,
    nik: &str,
    died: NaiveDate,
    certificate: &str,
    by: uuid::Uuid,
) -> Result<Death, Error> {
    let (recorded, now) = store::record_death(&mut *conn, nik, died, certificate, by).await?;
    if recorded.date_of_death != died || recorded.certificate_number != certificate {
        return Err(Error::Refused(vec![Refusal::new(
            "R2",
            "DEATH_ALREADY_REPORTED",
            format!(
                "a death on {} with another certificate or date is already recorded for this worker",
                recorded.date_of_death
            ),
        )]));
    }
    // A resend ends and refunds nothing more: the first report left nothing to end.
    let after = Month::of(died).next().first_day();
    let changed = crate::enrollment::store::end_after_death(&mut *conn, nik, after).await?;
    let refunds = crate::contribution::store::refund_from(conn, nik, after).await?;
    Ok(Death { recorded, now, changed, refunds })
}
