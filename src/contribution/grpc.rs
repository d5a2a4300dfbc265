//! `lindung.v1.ContributionService`.

use tonic::{Request, Response, Status};

use super::{Bill, BillState, Payment, service};
use crate::{
    auth::Rpc,
    clock::today,
    coverage::convert::arrears_to_proto,
    error::{Error, FieldViolation},
    idempotency::parse_request_id,
    money::Rupiah,
    month::Month,
    nik::Nik,
    proto::{
        convert::{rupiah, timestamp},
        v1 as pb,
    },
    state::AppState,
    validate::parse_id,
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
            let month = month(&request.month)?;
            let subsidy = parse_id(&request.subsidy_id, "subsidy_id")?;
            let (bill, added) = service::issue_bill(&self.state, &caller, subsidy, month).await?;
            Ok(pb::IssueBillResponse {
                bill: Some(bill_to_proto(&bill)),
                lines_added: u32::try_from(added).unwrap_or(u32::MAX),
            })
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
            let payment = parse_payment(&request)?;
            let subsidy = parse_id(&request.subsidy_id, "subsidy_id")?;
            let (id, credit) = service::record_payment(&self.state, &caller, subsidy, payment).await?;
            Ok(pb::RecordPaymentResponse { payment_id: id.to_string(), credit: Some(rupiah(credit)) })
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
            let subsidy = parse_id(&request.subsidy_id, "subsidy_id")?;
            let worker = if request.worker_nik.is_empty() {
                Ok(None)
            } else {
                Nik::parse(&request.worker_nik).map(Some).map_err(|e| Error::invalid("worker_nik", e.message()))
            };
            let arrears = service::arrears(&self.state, &caller, subsidy, worker).await?;
            Ok(arrears_to_proto(&arrears))
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
            let month = month(&request.month)?;
            let subsidy = parse_id(&request.subsidy_id, "subsidy_id")?;
            let arrears = service::record_backdate(&self.state, &caller, subsidy, month).await?;
            Ok(pb::RecordBackdateResponse { arrears: Some(arrears_to_proto(&arrears)) })
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
            let subsidy = parse_id(&subsidy_id, "subsidy_id")?;
            let (bills, credit) = service::bills(&self.state, &caller, subsidy).await?;
            Ok(pb::ListBillsResponse { bills: bills.iter().map(bill_to_proto).collect(), credit: Some(rupiah(credit)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

/// The `month` field; also the client's check before it sends (`lindung bills`).
pub fn month(value: &str) -> Result<Month, Error> {
    Month::parse(value).map_err(|e| Error::invalid("month", e.message()))
}

fn bill_to_proto(bill: &Bill) -> pb::Bill {
    let settled = &bill.settlement;
    let state = match settled.state {
        BillState::Unpaid => pb::BillState::Unpaid,
        BillState::PartiallyPaid => pb::BillState::PartiallyPaid,
        BillState::Paid => pb::BillState::Paid,
        BillState::WrittenOff => pb::BillState::WrittenOff,
    };
    pb::Bill {
        id: bill.id.to_string(),
        subsidy_id: bill.subsidy_id.to_string(),
        month: bill.month.to_string(),
        workers: bill.workers,
        jkk: Some(rupiah(bill.jkk)),
        jkm: Some(rupiah(bill.jkm)),
        billed: Some(rupiah(settled.billed)),
        paid: Some(rupiah(settled.paid)),
        outstanding: Some(rupiah(settled.outstanding)),
        state: state as i32,
        adjustments: bill.adjustments,
        issue_time: Some(timestamp(bill.issued_at)),
    }
}

/// A RecordPayment request, every bad field named; also the client's check before it sends (`lindung bills pay`).
pub fn parse_payment(request: &pb::RecordPaymentRequest) -> Result<Payment, Error> {
    let mut violations = Vec::new();
    let amount = match request.amount.as_ref().map(|r| Rupiah::parse(&r.amount)) {
        Some(Ok(amount)) if amount > Rupiah::ZERO => Some(amount),
        Some(Ok(_)) => {
            violations.push(FieldViolation::new("amount", crate::msg!(AMOUNT_POSITIVE)));
            None
        }
        Some(Err(e)) => {
            violations.push(FieldViolation::new("amount", e.message()));
            None
        }
        None => {
            violations.push(FieldViolation::new("amount", crate::msg!(REQUIRED)));
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
        (Some(amount), Some(paid_on), Some(reference)) => Ok(Payment { amount, paid_on, reference }),
        _ => Err(Error::InvalidArgument(violations)),
    }
}
