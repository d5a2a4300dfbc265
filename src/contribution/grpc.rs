//! `lindung.v1.ContributionService`.

use std::collections::HashMap;

use tonic::{Request, Response, Status};

use super::{BillState, Settlement, settlements, store};
use crate::{
    audit,
    auth::Rpc,
    clock::today,
    coverage,
    error::{Error, FieldViolation, Refusal},
    idempotency::parse_request_id,
    money::Rupiah,
    month::Month,
    proto::convert::rupiah,
    proto::v1 as pb,
    state::AppState,
    subsidy::grpc::visible,
    worker::Nik,
};

#[derive(Debug, Clone)]
pub struct ContributionGrpc {
    state: AppState,
}

impl ContributionGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::contribution_service_server::ContributionService for ContributionGrpc {
    async fn issue_bill(
        &self,
        request: Request<pb::IssueBillRequest>,
    ) -> Result<Response<pb::IssueBillResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::IssueBill).await?;
        let request = request.into_inner();
        let result = async {
            let month = Month::parse(&request.month).map_err(|e| Error::invalid("month", e.reason(), e.to_string()))?;
            let subsidy =
                visible(&self.state, &caller, &request.subsidy_id).await?.into_subsidy().map_err(Error::Internal)?;
            if !subsidy.funds(month) {
                return Err(Error::Refused(vec![Refusal::new(
                    "R1.5",
                    "MONTH_OUTSIDE_SUBSIDY",
                    format!("the subsidy funds {} to {}, not {month}", subsidy.first_month, subsidy.last_month),
                )]));
            }
            let mut tx = self.state.pool.begin().await?;
            let (bill, added) = store::issue(&mut tx, subsidy.id, month.first_day(), caller.agency_id()).await?;
            audit::store::record(&mut *tx, caller.actor(), "OK", &[]).await?;
            tx.commit().await?;
            let bills = bills_of(&self.state, subsidy.id).await?.0;
            let bill = bills
                .into_iter()
                .find(|b| b.id == bill.to_string())
                .ok_or_else(|| Error::internal(anyhow::anyhow!("bill vanished")))?;
            Ok(pb::IssueBillResponse { bill: Some(bill), lines_added: u32::try_from(added).unwrap_or(u32::MAX) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn record_payment(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Result<Response<pb::RecordPaymentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::RecordPayment).await?;
        let request = request.into_inner();
        let result = async {
            let (amount, paid_on, reference) = parse_payment(&request)?;
            let subsidy = visible(&self.state, &caller, &request.subsidy_id).await?;
            let mut tx = self.state.pool.begin().await?;
            let payment =
                store::record_payment(&mut tx, subsidy.id, amount.amount(), paid_on, &reference, caller.agency_id())
                    .await?;
            if payment.amount != amount.amount() || payment.paid_on != paid_on {
                return Err(Error::invalid(
                    "reference",
                    "REFERENCE_REUSED",
                    "was already recorded for a payment of another amount or date",
                ));
            }
            audit::store::record(&mut *tx, caller.actor(), "OK", &[]).await?;
            tx.commit().await?;
            let credit = bills_of(&self.state, subsidy.id).await?.1;
            Ok(pb::RecordPaymentResponse { payment_id: payment.id.to_string(), credit: Some(rupiah(credit)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn get_arrears(
        &self,
        request: Request<pb::GetArrearsRequest>,
    ) -> Result<Response<pb::GetArrearsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetArrears).await?;
        let request = request.into_inner();
        let result = async {
            let subsidy = visible(&self.state, &caller, &request.subsidy_id).await?;
            let worker = if request.worker_nik.is_empty() {
                None
            } else {
                Some(
                    Nik::parse(&request.worker_nik)
                        .map_err(|e| Error::invalid("worker_nik", e.reason(), e.to_string()))?,
                )
            };
            let mut conn = self.state.pool.acquire().await?;
            let ledgers = coverage::store::ledgers(&mut conn, &[subsidy.id], today()).await.map_err(Error::Internal)?;
            let ledger = ledgers.get(&subsidy.id).cloned().unwrap_or_default();
            let months = match &worker {
                None => None,
                Some(nik) => {
                    let fundings = coverage::store::fundings(&mut *conn, &[nik.as_str().to_owned()]).await?;
                    let months: Vec<Month> = fundings
                        .values()
                        .flatten()
                        .filter(|f| f.subsidy_id == subsidy.id)
                        .flat_map(|f| f.billed_months.iter().map(|m| Month::of(*m)))
                        .collect();
                    audit::store::record(&mut *conn, caller.actor(), "OK", &[self.state.pseudonymizer.subject(nik)])
                        .await?;
                    Some(months)
                }
            };
            Ok(coverage::grpc::arrears(&ledger, today(), months.as_deref()))
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn record_backdate(
        &self,
        request: Request<pb::RecordBackdateRequest>,
    ) -> Result<Response<pb::RecordBackdateResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::RecordBackdate).await?;
        let request = request.into_inner();
        let result = async {
            let month = Month::parse(&request.month).map_err(|e| Error::invalid("month", e.reason(), e.to_string()))?;
            let subsidy = visible(&self.state, &caller, &request.subsidy_id).await?;
            let mut tx = self.state.pool.begin().await?;
            coverage::store::record_backdate(&mut tx, subsidy.id, month.first_day(), caller.agency_id()).await?;
            audit::store::record(&mut *tx, caller.actor(), "OK", &[]).await?;
            let ledgers = coverage::store::ledgers(&mut tx, &[subsidy.id], today()).await.map_err(Error::Internal)?;
            tx.commit().await?;
            let ledger = ledgers.get(&subsidy.id).cloned().unwrap_or_default();
            Ok(pb::RecordBackdateResponse { arrears: Some(coverage::grpc::arrears(&ledger, today(), None)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_bills(
        &self,
        request: Request<pb::ListBillsRequest>,
    ) -> Result<Response<pb::ListBillsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListBills).await?;
        let subsidy_id = request.into_inner().subsidy_id;
        let result = async {
            let subsidy = visible(&self.state, &caller, &subsidy_id).await?;
            let (bills, credit) = bills_of(&self.state, subsidy.id).await?;
            Ok(pb::ListBillsResponse { bills, credit: Some(rupiah(credit)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

/// The bills of a subsidy as its coverage ledger settles them, and the credit left: one snapshot of the bills and
/// the ledger replayed from them, so that every bill reads paid, unpaid or written off exactly as `VerifyCoverage`
/// judges its month.
async fn bills_of(state: &AppState, subsidy: uuid::Uuid) -> Result<(Vec<pb::Bill>, Rupiah), Error> {
    let mut tx = store::snapshot(&state.pool).await?;
    let rows = store::bills(&mut *tx, subsidy).await?;
    let ledger = coverage::store::ledgers(&mut tx, &[subsidy], today())
        .await
        .map_err(Error::Internal)?
        .remove(&subsidy)
        .unwrap_or_default();
    tx.commit().await?;
    let settled: HashMap<Month, Settlement> = settlements(&ledger).collect();
    let bills = rows
        .iter()
        .map(|row| {
            let month = Month::of(row.month);
            let settled = settled.get(&month).ok_or_else(|| {
                Error::internal(anyhow::anyhow!("the ledger has no month {month} of bill {}", row.id))
            })?;
            let state = match settled.state {
                BillState::Unpaid => pb::BillState::Unpaid,
                BillState::PartiallyPaid => pb::BillState::PartiallyPaid,
                BillState::Paid => pb::BillState::Paid,
                BillState::WrittenOff => pb::BillState::WrittenOff,
            };
            Ok(pb::Bill {
                id: row.id.to_string(),
                subsidy_id: row.subsidy_id.to_string(),
                month: month.to_string(),
                workers: u32::try_from(row.workers).unwrap_or(u32::MAX),
                jkk: Some(rupiah(money(row.jkk)?)),
                jkm: Some(rupiah(money(row.jkm)?)),
                billed: Some(rupiah(settled.billed)),
                paid: Some(rupiah(settled.paid)),
                outstanding: Some(rupiah(settled.outstanding)),
                state: state as i32,
                adjustments: u32::try_from(row.adjustments).unwrap_or(u32::MAX),
                issue_time: Some(prost_types::Timestamp {
                    seconds: row.issued_at.timestamp(),
                    nanos: row.issued_at.timestamp_subsec_nanos() as i32,
                }),
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok((bills, ledger.credit))
}

fn money(amount: rust_decimal::Decimal) -> Result<Rupiah, Error> {
    Rupiah::new(amount).map_err(|e| Error::internal(anyhow::anyhow!("stored amount {amount}: {e}")))
}

fn parse_payment(request: &pb::RecordPaymentRequest) -> Result<(Rupiah, chrono::NaiveDate, String), Error> {
    let mut violations = Vec::new();
    let amount = match request.amount.as_ref().map(|r| Rupiah::parse(&r.amount)) {
        Some(Ok(amount)) if amount > Rupiah::ZERO => Some(amount),
        Some(Ok(_)) => {
            violations.push(FieldViolation::new("amount", "AMOUNT_POSITIVE", "must be more than zero"));
            None
        }
        Some(Err(e)) => {
            violations.push(FieldViolation::new("amount", e.reason(), e.to_string()));
            None
        }
        None => {
            violations.push(FieldViolation::new("amount", "REQUIRED", "is required"));
            None
        }
    };
    let paid_on = match crate::date::not_after("paid_on", &request.paid_on, today()) {
        Ok(date) => Some(date),
        Err(violation) => {
            violations.push(violation);
            None
        }
    };
    let reference = match parse_request_id(&request.reference, "reference") {
        Ok(reference) => Some(reference),
        Err(Error::InvalidArgument(v)) => {
            violations.extend(v);
            None
        }
        Err(other) => return Err(other),
    };
    match (amount, paid_on, reference) {
        (Some(amount), Some(paid_on), Some(reference)) => Ok((amount, paid_on, reference)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}
