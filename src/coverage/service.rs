//! The coverage use cases: the one judgement of whether a worker was covered on a date, which VerifyCoverage and
//! claims share.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Covered, Funding, NotCovered, store, verify};
use crate::{agency::AgencyKind, clock::today, error::Error, month::Month};

/// The verdict on a worker on `date`, with their fundings: the one coverage judgement, shared with claims.
pub async fn judge(
    conn: &mut sqlx::PgConnection,
    worker: &store::WorkerRow,
    date: NaiveDate,
) -> Result<(Result<Covered, NotCovered>, Vec<Funding>), Error> {
    let rows = store::fundings(&mut *conn, std::slice::from_ref(&worker.nik)).await?;
    let fundings: Vec<Funding> = rows.values().flatten().filter_map(funding_of).collect();
    let subsidies: Vec<Uuid> = fundings.iter().map(|f| f.subsidy_id).collect();
    let ledgers = store::ledgers(conn, &subsidies, today()).await.map_err(Error::Internal)?;
    let verdict = verify(&fundings, &|id| ledgers.get(&id).cloned(), worker.date_of_death, date);
    Ok((verdict, fundings))
}

/// A funding row as the coverage rules know it; None for a funder kind this build does not know.
pub fn funding_of(row: &store::FundingRow) -> Option<Funding> {
    Some(Funding {
        subsidy_id: row.subsidy_id,
        funder_kind: AgencyKind::from_code(&row.funder_kind)?,
        funder_id: row.funder_id,
        status: row.status.clone(),
        first_month: Month::of(row.first_month),
        end_month: row.end_month.map(Month::of),
        protection_start: row.protection_start,
        billed_months: row.billed_months.iter().map(|m| Month::of(*m)).collect(),
    })
}
