//! The contribution use cases: issuing bills, recording payments, and reading bills and arrears, each for a
//! subsidy the caller may see.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Bill, Payment, Settlement, billable, settlements, store};
use crate::{
    auth::Caller,
    coverage::{self, Arrears},
    error::Error,
    feed::NewEvent,
    money::Rupiah,
    month::Month,
    nik::Nik,
    state::AppState,
    subsidy,
};

/// Issues (or brings up to date) the bill of `month`; answers it and the lines added.
#[tracing::instrument(skip_all)]
pub async fn issue_bill(state: &AppState, caller: &Caller, subsidy: Uuid, month: Month) -> Result<(Bill, u64), Error> {
    let subsidy = subsidy::service::visible(state, caller, subsidy).await?.subsidy;
    billable(&subsidy, month)?;
    let mut w = state.write(caller).await?;
    let (bill, added) = store::issue(&mut w, subsidy.id, month.first_day(), caller.agency_id()).await?;
    // A re-issue that added no line changed nothing to tell.
    if added > 0 {
        w.emit(NewEvent::bill_issued(bill, subsidy.id, month));
    }
    w.commit().await?;
    let bill = bills_of(state, subsidy.id)
        .await?
        .0
        .into_iter()
        .find(|b| b.id == bill)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("bill vanished")))?;
    Ok((bill, added))
}

/// Records a payment (a resend with the same reference records nothing); answers its id and the subsidy's credit.
#[tracing::instrument(skip_all)]
pub async fn record_payment(
    state: &AppState,
    caller: &Caller,
    subsidy: Uuid,
    payment: Payment,
) -> Result<(Uuid, Rupiah), Error> {
    let subsidy = subsidy::service::visible(state, caller, subsidy).await?.subsidy;
    let mut w = state.write(caller).await?;
    let (stored, recorded_now) = store::record_payment(
        &mut w,
        subsidy.id,
        payment.amount.amount(),
        payment.paid_on,
        &payment.reference,
        caller.agency_id(),
    )
    .await?;
    if stored.amount != payment.amount || stored.paid_on != payment.paid_on {
        return Err(Error::invalid("reference", crate::msg!(REFERENCE_REUSED)));
    }
    if recorded_now {
        w.emit(NewEvent::payment_recorded(stored.id, subsidy.id));
    }
    w.commit().await?;
    let credit = bills_of(state, subsidy.id).await?.1;
    Ok((stored.id, credit))
}

/// The arrears of a subsidy; with `worker`, limited to that worker's billed months (and the look-up audited).
/// `worker` is the parsed question, whose error is answered only once the subsidy is found visible.
#[tracing::instrument(skip_all)]
pub async fn arrears(
    state: &AppState,
    caller: &Caller,
    subsidy: Uuid,
    worker: Result<Option<Nik>, Error>,
) -> Result<Arrears, Error> {
    let subsidy = subsidy::service::visible(state, caller, subsidy).await?.subsidy;
    match worker? {
        None => {
            let mut conn = state.pool.acquire().await?;
            coverage::service::arrears(&mut conn, subsidy.id, None).await
        }
        Some(nik) => {
            let mut read = state.read(caller).await?;
            let arrears = coverage::service::arrears(&mut read, subsidy.id, Some(&nik)).await?;
            read.touch(&nik);
            read.finish().await?;
            Ok(arrears)
        }
    }
}

/// Records the insurer's correction that `month` did not lapse; answers the arrears after it.
#[tracing::instrument(skip_all)]
pub async fn record_backdate(state: &AppState, caller: &Caller, subsidy: Uuid, month: Month) -> Result<Arrears, Error> {
    let subsidy = subsidy::service::visible(state, caller, subsidy).await?.subsidy;
    let mut w = state.write(caller).await?;
    let arrears = coverage::service::record_backdate(&mut w, subsidy.id, month, caller.agency_id()).await?;
    w.commit().await?;
    Ok(arrears)
}

/// The bills of a subsidy the caller may see, and its credit.
#[tracing::instrument(skip_all)]
pub async fn bills(state: &AppState, caller: &Caller, subsidy: Uuid) -> Result<(Vec<Bill>, Rupiah), Error> {
    let subsidy = subsidy::service::visible(state, caller, subsidy).await?.subsidy;
    bills_of(state, subsidy.id).await
}

/// The bills of a subsidy as its coverage ledger settles them, and the credit left: one snapshot of the bills and
/// the ledger replayed from them, so that every bill reads paid, unpaid or written off exactly as `VerifyCoverage`
/// judges its month.
async fn bills_of(state: &AppState, subsidy: Uuid) -> Result<(Vec<Bill>, Rupiah), Error> {
    let mut tx = store::snapshot(&state.pool).await?;
    let rows = store::bills(&mut *tx, subsidy).await?;
    let ledger = coverage::service::ledger(&mut tx, subsidy).await?;
    tx.commit().await?;
    let settled: HashMap<Month, Settlement> = settlements(&ledger).collect();
    let bills = rows
        .into_iter()
        .map(|row| {
            let month = row.month;
            let settlement = *settled.get(&month).ok_or_else(|| {
                Error::internal(anyhow::anyhow!("the ledger has no month {month} of bill {}", row.id))
            })?;
            Ok(Bill {
                id: row.id,
                subsidy_id: row.subsidy_id,
                month,
                workers: u32::try_from(row.workers).unwrap_or(u32::MAX),
                jkk: row.jkk,
                jkm: row.jkm,
                settlement,
                adjustments: u32::try_from(row.adjustments).unwrap_or(u32::MAX),
                issued_at: row.issued_at,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok((bills, ledger.credit))
}
