//! `lindung.v1.ClaimService`: protobuf <-> domain conversion and the handlers.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Document, Event, Relationship, Status as ClaimStatus, check_heirs, missing_documents, overdue, store};
use crate::{
    agency::AgencyKind,
    audit,
    auth::{Caller, Rpc, Scope},
    benefit::{self, Claimed},
    clock::today,
    coverage::{self, NotCovered},
    enrollment::ParticipantNumber,
    error::{Error, FieldViolation, Refusal},
    idempotency::parse_request_id,
    money::Rupiah,
    paging,
    proto::convert::rupiah,
    proto::v1 as pb,
    state::AppState,
    validate::parse_id,
    worker::{self, Nik, Phone},
};

/// The tag of ListClaims page tokens.
const PAGE_TAG: &str = "c1";

#[derive(Debug, Clone)]
pub struct ClaimGrpc {
    state: AppState,
}

impl ClaimGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// What is sealed at rest with a claim: the personal particulars, as the client sent them (protobuf, so that
/// fields added later still open).
#[derive(Clone, PartialEq, Message)]
struct Particulars {
    #[prost(message, repeated, tag = "1")]
    heirs: Vec<pb::Heir>,
    #[prost(message, repeated, tag = "2")]
    children: Vec<pb::Child>,
    #[prost(message, optional, tag = "3")]
    accident_costs: Option<pb::AccidentCosts>,
}

#[tonic::async_trait]
impl pb::claim_service_server::ClaimService for ClaimGrpc {
    async fn file_claim(
        &self,
        request: Request<pb::FileClaimRequest>,
    ) -> Result<Response<pb::FileClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::FileClaim).await?;
        let request = request.into_inner();
        let result = async {
            let filing = Filing::parse(&request)?;
            let mut tx = self.state.pool.begin().await?;
            lock_request(&mut tx, caller.agency_id(), &filing.request_id).await?;
            if let Some(id) = store::by_request(&mut *tx, caller.agency_id(), &filing.request_id).await? {
                tx.commit().await?;
                return self.answer(&caller, id).await;
            }
            let worker = find_worker(&mut tx, &filing.who).await?;
            let nik = Nik::parse(&worker.nik).map_err(|e| Error::internal(anyhow::anyhow!("stored NIK: {e}")))?;
            if let NoticeRef::Existing(notice) = filing.notice
                && notice_already_filed(&mut tx, notice, &worker.nik, filing.event).await?
            {
                // A resend of the filing that completed this notice.
                tx.commit().await?;
                return self.answer(&caller, notice).await;
            }
            if filing.event.is_jkk() && super::jkk_claim_lapsed(filing.date, today()) {
                return Err(jkk_lapsed(filing.date));
            }
            if filing.event.is_death() {
                let certificate = match (&worker.death, &filing.death_certificate) {
                    (Some((_, recorded)), _) => recorded.clone(),
                    (None, Some(certificate)) => certificate.clone(),
                    (None, None) => {
                        return Err(Error::invalid(
                            "death_certificate_number",
                            "REQUIRED",
                            "is required when the death was not reported yet",
                        ));
                    }
                };
                worker::service::record_death(&mut tx, nik.as_str(), filing.date, &certificate, caller.agency_id())
                    .await?;
            }
            let covered = covered_on(&mut tx, &worker.nik, filing.date).await?;
            let particulars = Particulars {
                heirs: request.heirs.clone(),
                children: request.event.as_ref().map(|e| e.children.clone()).unwrap_or_default(),
                accident_costs: request.event.as_ref().and_then(|e| e.accident_costs.clone()),
            };
            let sealer = self.state.pseudonymizer.sealer();
            let sealed = sealer.seal(&particulars.encode_to_vec());
            let complete = filing.event.is_death()
                && missing_documents(filing.event, filing.spouse_is_heir, &filing.documents).is_empty();
            let documents: Vec<String> = filing.documents.iter().map(|d| d.code().to_owned()).collect();
            let id = match filing.notice {
                NoticeRef::Existing(notice) => {
                    store::file_notice(
                        &mut tx,
                        notice,
                        filing.event.code(),
                        covered.subsidy_id,
                        covered.funder_id,
                        months(covered.contribution_months),
                        &sealed,
                        &documents,
                        complete,
                    )
                    .await
                    .map_err(one_death_claim)?;
                    notice
                }
                NoticeRef::New(notice) => {
                    let claim = store::NewClaim {
                        id: Uuid::new_v4(),
                        worker_nik: worker.nik.clone(),
                        event: filing.event.code(),
                        event_date: filing.date,
                        status: ClaimStatus::Filed.code(),
                        subsidy_id: Some(covered.subsidy_id),
                        funder_id: Some(covered.funder_id),
                        contribution_months: Some(months(covered.contribution_months)),
                        accident_place: notice.as_ref().map(|n| sealer.seal_text(&n.place)),
                        accident_cause: notice.as_ref().map(|n| sealer.seal_text(&n.cause)),
                        accident_at: notice.as_ref().map(|n| n.occurred_at),
                        notifier_name: notice.as_ref().map(|n| sealer.seal_text(&n.notifier_name)),
                        notifier_phone: notice.as_ref().map(|n| sealer.seal_text(&n.notifier_phone)),
                        particulars: sealed,
                        documents,
                        complete,
                        request_id: filing.request_id.clone(),
                        filed_by: caller.agency_id(),
                    };
                    store::insert(&mut tx, &claim).await.map_err(one_death_claim)?;
                    claim.id
                }
            };
            audit::store::record(&mut *tx, caller.actor(), "OK", &[self.state.pseudonymizer.subject(&nik)]).await?;
            tx.commit().await?;
            self.answer(&caller, id).await
        }
        .await
        .map(|claim| pb::FileClaimResponse { claim: Some(claim) });
        self.state.finish(&caller, result).await
    }

    async fn file_accident_notice(
        &self,
        request: Request<pb::FileAccidentNoticeRequest>,
    ) -> Result<Response<pb::FileAccidentNoticeResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::FileAccidentNotice).await?;
        let request = request.into_inner();
        let result = async {
            let mut violations = Vec::new();
            let request_id = collect(&mut violations, parse_request_id(&request.request_id, "request_id"));
            let who = collect(&mut violations, identifier(&request.worker_nik, &request.participant_number));
            let date = collect(&mut violations, parse_date(&request.accident_date, "accident_date"));
            let notice = match &request.notice {
                Some(notice) => collect(&mut violations, Notice::parse(notice, "notice")),
                None => {
                    violations.push(FieldViolation::new("notice", "REQUIRED", "is required (R3.7)"));
                    None
                }
            };
            if let (Some(date), Some(notice)) = (date, &notice) {
                check_notice_day(&mut violations, notice, date, "notice.occurred_at");
            }
            let (Some(request_id), Some(who), Some(date), Some(notice)) = (request_id, who, date, notice) else {
                return Err(Error::InvalidArgument(violations));
            };
            if !violations.is_empty() {
                return Err(Error::InvalidArgument(violations));
            }
            let mut tx = self.state.pool.begin().await?;
            lock_request(&mut tx, caller.agency_id(), &request_id).await?;
            if let Some(id) = store::by_request(&mut *tx, caller.agency_id(), &request_id).await? {
                tx.commit().await?;
                return self.answer(&caller, id).await;
            }
            let worker = find_worker(&mut tx, &who).await?;
            if !worker::store::funded_by(&mut *tx, &worker.nik, caller.agency_id()).await? {
                return Err(Error::NotFound("no worker with this identifier among the workers you fund".to_owned()));
            }
            if super::jkk_claim_lapsed(date, today()) {
                return Err(jkk_lapsed(date));
            }
            let sealer = self.state.pseudonymizer.sealer();
            let claim = store::NewClaim {
                id: Uuid::new_v4(),
                worker_nik: worker.nik.clone(),
                event: Event::Accident.code(),
                event_date: date,
                status: ClaimStatus::Notice.code(),
                subsidy_id: None,
                funder_id: Some(caller.agency_id()),
                contribution_months: None,
                // Personal data (R6.3): sealed like the heirs' particulars.
                accident_place: Some(sealer.seal_text(&notice.place)),
                accident_cause: Some(sealer.seal_text(&notice.cause)),
                accident_at: Some(notice.occurred_at),
                notifier_name: Some(sealer.seal_text(&notice.notifier_name)),
                notifier_phone: Some(sealer.seal_text(&notice.notifier_phone)),
                particulars: self.state.pseudonymizer.sealer().seal(&Particulars::default().encode_to_vec()),
                documents: Vec::new(),
                complete: false,
                request_id,
                filed_by: caller.agency_id(),
            };
            store::insert(&mut tx, &claim).await?;
            let subject = Nik::parse(&worker.nik).map(|n| self.state.pseudonymizer.subject(&n));
            audit::store::record(&mut *tx, caller.actor(), "OK", subject.ok().as_slice()).await?;
            tx.commit().await?;
            self.answer(&caller, claim.id).await
        }
        .await
        .map(|claim| pb::FileAccidentNoticeResponse { claim: Some(claim) });
        self.state.finish(&caller, result).await
    }

    async fn add_claim_documents(
        &self,
        request: Request<pb::AddClaimDocumentsRequest>,
    ) -> Result<Response<pb::AddClaimDocumentsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::AddClaimDocuments).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let added = parse_documents(&request.documents)?;
            let mut tx = self.state.pool.begin().await?;
            let row = locked(&mut tx, id).await?;
            let status = status_of(&row)?;
            if matches!(status, ClaimStatus::Paid | ClaimStatus::Rejected) {
                return Err(wrong_status(status, "add documents to"));
            }
            let mut present = documents_of(&row);
            present.extend(added);
            present.sort();
            present.dedup();
            let event = event_of(&row)?;
            let particulars = self.open_particulars(&row)?;
            let complete =
                event.is_death() && missing_documents(event, spouse_is_heir(&particulars), &present).is_empty();
            let codes: Vec<String> = present.iter().map(|d| d.code().to_owned()).collect();
            store::set_documents(&mut tx, id, &codes, complete).await?;
            self.audit(&mut tx, &caller, &row.worker_nik).await?;
            tx.commit().await?;
            self.answer(&caller, id).await
        }
        .await
        .map(|claim| pb::AddClaimDocumentsResponse { claim: Some(claim) });
        self.state.finish(&caller, result).await
    }

    async fn assess_claim(
        &self,
        request: Request<pb::AssessClaimRequest>,
    ) -> Result<Response<pb::AssessClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::AssessClaim).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let mut tx = self.state.pool.begin().await?;
            let row = locked(&mut tx, id).await?;
            let status = status_of(&row)?;
            if !matches!(status, ClaimStatus::Filed | ClaimStatus::Assessed) {
                return Err(wrong_status(status, "assess"));
            }
            let event = event_of(&row)?;
            let particulars = self.open_particulars(&row)?;
            let claimed = claimed(event, &particulars.children, particulars.accident_costs.as_ref())
                .map_err(Error::InvalidArgument)?;
            // Judged again: arrears paid since the filing may have restored the month (R1.6).
            let covered = covered_on(&mut tx, &row.worker_nik, row.event_date).await?;
            let policy = crate::subsidy::service::benefit_policy(&mut tx, covered.subsidy_id).await?;
            let assessed = benefit::assess(&policy, &claimed, row.event_date, covered.contribution_months);
            let breakdown = breakdown_to_proto(&assessed, covered.contribution_months);
            let sealed = self.state.pseudonymizer.sealer().seal(&breakdown.encode_to_vec());
            store::assess(&mut tx, id, &sealed, assessed.total().amount()).await?;
            self.audit(&mut tx, &caller, &row.worker_nik).await?;
            tx.commit().await?;
            self.answer(&caller, id).await
        }
        .await
        .map(|claim| pb::AssessClaimResponse { claim: Some(claim) });
        self.state.finish(&caller, result).await
    }

    async fn decide_claim(
        &self,
        request: Request<pb::DecideClaimRequest>,
    ) -> Result<Response<pb::DecideClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::DecideClaim).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let reason = request.rejection_reason.trim();
            let reason_ok = !reason.is_empty()
                && reason.len() <= 50
                && reason.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            match (request.approve, reason.is_empty()) {
                (true, false) => {
                    return Err(Error::invalid("rejection_reason", "NOT_WITH_APPROVAL", "must be empty to approve"));
                }
                (false, _) if !reason_ok => {
                    return Err(Error::invalid(
                        "rejection_reason",
                        "REASON_CODE_FORMAT",
                        "is required to reject: an upper-case code like NOT_WORK_RELATED (1–50 of A-Z, 0-9, _)",
                    ));
                }
                _ => {}
            }
            let mut tx = self.state.pool.begin().await?;
            let row = locked(&mut tx, id).await?;
            let status = status_of(&row)?;
            let (to, reason) = if request.approve {
                if status != ClaimStatus::Assessed {
                    return Err(wrong_status(status, "approve"));
                }
                (ClaimStatus::Approved, None)
            } else {
                if matches!(status, ClaimStatus::Paid | ClaimStatus::Rejected) {
                    return Err(wrong_status(status, "reject"));
                }
                (ClaimStatus::Rejected, Some(reason))
            };
            store::decide(&mut tx, id, to.code(), reason, caller.agency_id()).await?;
            self.audit(&mut tx, &caller, &row.worker_nik).await?;
            tx.commit().await?;
            self.answer(&caller, id).await
        }
        .await
        .map(|claim| pb::DecideClaimResponse { claim: Some(claim) });
        self.state.finish(&caller, result).await
    }

    async fn pay_claim(&self, request: Request<pb::PayClaimRequest>) -> Result<Response<pb::PayClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::PayClaim).await?;
        let request = request.into_inner();
        let result = async {
            let mut violations = Vec::new();
            let id = collect(&mut violations, parse_id(&request.claim_id, "claim_id"));
            let reference = collect(&mut violations, parse_request_id(&request.reference, "reference"));
            let paid_on = collect(&mut violations, parse_date(&request.paid_on, "paid_on"));
            let (Some(id), Some(reference), Some(paid_on)) = (id, reference, paid_on) else {
                return Err(Error::InvalidArgument(violations));
            };
            let mut tx = self.state.pool.begin().await?;
            let row = locked(&mut tx, id).await?;
            match status_of(&row)? {
                ClaimStatus::Paid if row.payment_reference.as_deref() == Some(reference.as_str()) => {
                    // A resend of the payment that was recorded.
                    tx.commit().await?;
                    return self.answer(&caller, id).await;
                }
                ClaimStatus::Paid => {
                    return Err(Error::Refused(vec![Refusal::new(
                        "R2.6",
                        "CLAIM_ALREADY_PAID",
                        format!("the claim was paid on {} under another reference", row.paid_on.unwrap_or_default()),
                    )]));
                }
                ClaimStatus::Approved => {}
                other => return Err(wrong_status(other, "pay")),
            }
            let total = row.total.ok_or_else(|| Error::internal(anyhow::anyhow!("an approved claim has no total")))?;
            store::pay(&mut tx, id, total, &reference, paid_on, caller.agency_id()).await.map_err(
                |e| match constraint(&e) {
                    Some("claim_payments_pkey") => {
                        Error::Refused(vec![Refusal::new("R2.6", "CLAIM_ALREADY_PAID", "the claim is already paid")])
                    }
                    Some("claim_payments_reference_unique") => {
                        Error::invalid("reference", "REFERENCE_REUSED", "was already used for another claim's payment")
                    }
                    _ => Error::from(e),
                },
            )?;
            self.audit(&mut tx, &caller, &row.worker_nik).await?;
            tx.commit().await?;
            self.answer(&caller, id).await
        }
        .await
        .map(|claim| pb::PayClaimResponse { claim: Some(claim) });
        self.state.finish(&caller, result).await
    }

    async fn get_claim(&self, request: Request<pb::GetClaimRequest>) -> Result<Response<pb::GetClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetClaim).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let claim = self.answer(&caller, id).await?;
            let mut conn = self.state.pool.acquire().await?;
            self.audit(&mut conn, &caller, &claim.worker_nik).await?;
            Ok(pb::GetClaimResponse { claim: Some(claim) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_claims(
        &self,
        request: Request<pb::ListClaimsRequest>,
    ) -> Result<Response<pb::ListClaimsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListClaims).await?;
        let request = request.into_inner();
        let result = async {
            let mut filter = store::Filter::default();
            let mut violations = Vec::new();
            filter.status = match pb::ClaimStatus::try_from(request.status) {
                Ok(pb::ClaimStatus::Unspecified) => None,
                Ok(status) => Some(status_from_proto(status).code().to_owned()),
                Err(_) => {
                    violations.push(FieldViolation::new("status", "ENUM_UNKNOWN", "is not a ClaimStatus"));
                    None
                }
            };
            if !request.worker_nik.is_empty() {
                match Nik::parse(&request.worker_nik) {
                    Ok(nik) => filter.worker_nik = Some(nik.as_str().to_owned()),
                    Err(e) => violations.push(FieldViolation::new("worker_nik", e.reason(), e.to_string())),
                }
            }
            if !violations.is_empty() {
                return Err(Error::InvalidArgument(violations));
            }
            if request.overdue_only {
                filter.complete_before = Some(overdue_before(today()));
            }
            if caller.scope != Scope::All {
                filter.funder = Some(caller.agency_id());
            }
            let page = request.page.unwrap_or_default();
            let after = paging::after_time(PAGE_TAG, &page)?;
            let limit = paging::limit(&page);
            let mut rows = store::page(&self.state.pool, &filter, after, limit + 1).await?;
            let next_page_token = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| paging::time_token(PAGE_TAG, r.created_at, r.id)).unwrap_or_default()
            } else {
                String::new()
            };
            let subjects: Vec<audit::Subject> = rows
                .iter()
                .filter_map(|r| Nik::parse(&r.worker_nik).ok())
                .map(|nik| self.state.pseudonymizer.subject(&nik))
                .collect();
            audit::store::record(&self.state.pool, caller.actor(), "OK", &subjects).await?;
            let claims = rows.iter().map(|row| self.to_proto(&caller, row)).collect::<Result<_, _>>()?;
            Ok(pb::ListClaimsResponse { claims, next_page_token })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn estimate_benefit(
        &self,
        request: Request<pb::EstimateBenefitRequest>,
    ) -> Result<Response<pb::EstimateBenefitResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::EstimateBenefit).await?;
        let request = request.into_inner();
        let result = async {
            let mut violations = Vec::new();
            let who = collect(&mut violations, identifier(&request.worker_nik, &request.participant_number));
            let event = match &request.event {
                Some(event) => collect(&mut violations, parse_event(event).map_err(|e| nest(e, "event"))),
                None => {
                    violations.push(FieldViolation::new("event", "REQUIRED", "is required"));
                    None
                }
            };
            let (Some(who), Some((_, date, claimed))) = (who, event) else {
                return Err(Error::InvalidArgument(violations));
            };
            let mut conn = self.state.pool.acquire().await?;
            let worker = find_worker(&mut conn, &who).await?;
            if caller.scope != Scope::All
                && !worker::store::funded_by(&mut *conn, &worker.nik, caller.agency_id()).await?
            {
                return Err(Error::NotFound("no worker with this identifier among the workers you fund".to_owned()));
            }
            let (verdict, _) = coverage::service::judge(&mut conn, &worker.row, date).await?;
            self.audit(&mut conn, &caller, &worker.nik).await?;
            let covered = match verdict {
                Ok(covered) => covered,
                Err(reason) => {
                    return Ok(pb::EstimateBenefitResponse {
                        covered: false,
                        not_covered_reason: reason.code().to_owned(),
                        breakdown: None,
                    });
                }
            };
            let policy = crate::subsidy::service::benefit_policy(&mut conn, covered.subsidy_id).await?;
            let assessed = benefit::assess(&policy, &claimed, date, covered.contribution_months);
            Ok(pb::EstimateBenefitResponse {
                covered: true,
                not_covered_reason: String::new(),
                breakdown: Some(breakdown_to_proto(&assessed, covered.contribution_months)),
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

impl ClaimGrpc {
    /// The claim as the caller may see it; NOT_FOUND outside the caller's view.
    async fn answer(&self, caller: &Caller, id: Uuid) -> Result<pb::Claim, Error> {
        let row = store::get(&self.state.pool, id).await?;
        match row {
            Some(row) if caller.scope == Scope::All || row.funder_id == Some(caller.agency_id()) => {
                self.to_proto(caller, &row)
            }
            _ => Err(Error::NotFound(format!("no claim {id} in your view"))),
        }
    }

    async fn audit(&self, conn: &mut PgConnection, caller: &Caller, nik: &str) -> Result<(), Error> {
        let subject = Nik::parse(nik).map(|n| self.state.pseudonymizer.subject(&n));
        audit::store::record(conn, caller.actor(), "OK", subject.ok().as_slice()).await?;
        Ok(())
    }

    fn open_particulars(&self, row: &store::ClaimRow) -> Result<Particulars, Error> {
        let plain = self.state.pseudonymizer.sealer().open(&row.particulars).map_err(Error::internal)?;
        Particulars::decode(plain.as_slice()).map_err(Error::internal)
    }

    /// A stored claim on the wire: heirs, children, medical costs and scholarship schedules for the insurer only
    /// (R6.3); a funder sees status, amounts and rules.
    fn to_proto(&self, caller: &Caller, row: &store::ClaimRow) -> Result<pb::Claim, Error> {
        let insurer = caller.agency.kind == AgencyKind::Insurer;
        let status = status_of(row)?;
        let event = event_of(row)?;
        let particulars = self.open_particulars(row)?;
        let present = documents_of(row);
        let missing = missing_documents(event, spouse_is_heir(&particulars), &present);
        let breakdown = match &row.breakdown {
            Some(sealed) => {
                let plain = self.state.pseudonymizer.sealer().open(sealed).map_err(Error::internal)?;
                let mut breakdown = pb::Breakdown::decode(plain.as_slice()).map_err(Error::internal)?;
                if !insurer {
                    breakdown.scholarships.clear();
                    for line in
                        breakdown.lines.iter_mut().filter(|l| l.item == benefit::Item::Scholarship { child: 0 }.code())
                    {
                        line.explanation = "scholarship for a child of the worker (details withheld, R6.3)".to_owned();
                    }
                }
                Some(breakdown)
            }
            None => None,
        };
        let open = !matches!(status, ClaimStatus::Paid | ClaimStatus::Rejected);
        let is_overdue =
            event == Event::Death && open && row.complete_at.is_some_and(|at| overdue(wib_date(at), today()));
        let sealer = self.state.pseudonymizer.sealer();
        let unseal = |text: &Option<String>| -> Result<String, Error> {
            text.as_deref().map_or(Ok(String::new()), |t| sealer.open_text(t).map_err(Error::internal))
        };
        let notice = match row.accident_at {
            Some(at) => Some(pb::AccidentNotice {
                place: unseal(&row.accident_place)?,
                cause: unseal(&row.accident_cause)?,
                occurred_at: Some(timestamp(at)),
                notifier_name: unseal(&row.notifier_name)?,
                notifier_phone: if insurer || row.filed_by == caller.agency_id() {
                    unseal(&row.notifier_phone)?
                } else {
                    String::new()
                },
            }),
            None => None,
        };
        let kind = match row.funder_kind.as_deref().and_then(AgencyKind::from_code) {
            Some(AgencyKind::City) => pb::AgencyKind::City,
            Some(AgencyKind::Province) => pb::AgencyKind::Province,
            Some(AgencyKind::Insurer) => pb::AgencyKind::Insurer,
            None => pb::AgencyKind::Unspecified,
        };
        Ok(pb::Claim {
            id: row.id.to_string(),
            worker_nik: row.worker_nik.clone(),
            status: status_to_proto(status) as i32,
            event: event_to_proto(event) as i32,
            event_date: row.event_date.to_string(),
            subsidy_id: row.subsidy_id.map(|s| s.to_string()).unwrap_or_default(),
            funder_kind: kind as i32,
            breakdown,
            documents: present.iter().map(|d| document_to_proto(*d) as i32).collect(),
            missing_documents: missing.iter().map(|d| document_to_proto(*d) as i32).collect(),
            complete_time: row.complete_at.map(timestamp),
            overdue: is_overdue,
            rejection_reason: row.rejection_reason.clone().unwrap_or_default(),
            payment_reference: row.payment_reference.clone().unwrap_or_default(),
            paid_on: row.paid_on.map(|d| d.to_string()).unwrap_or_default(),
            heirs: if insurer { particulars.heirs } else { Vec::new() },
            children: if insurer { particulars.children } else { Vec::new() },
            notice,
            accident_costs: if insurer { particulars.accident_costs } else { None },
            request_id: if row.filed_by == caller.agency_id() { row.request_id.clone() } else { String::new() },
            create_time: Some(timestamp(row.created_at)),
            update_time: Some(timestamp(row.updated_at)),
        })
    }
}

/// How a request names a worker.
enum Who {
    Nik(Nik),
    Number(ParticipantNumber),
}

fn identifier(nik: &str, number: &str) -> Result<Who, Error> {
    match (nik.is_empty(), number.is_empty()) {
        (false, true) => {
            Nik::parse(nik).map(Who::Nik).map_err(|e| Error::invalid("worker_nik", e.reason(), e.to_string()))
        }
        (true, false) => ParticipantNumber::parse(number)
            .map(Who::Number)
            .map_err(|e| Error::invalid("participant_number", e.reason(), e.to_string())),
        _ => Err(Error::invalid(
            "worker_nik",
            "IDENTIFIER_REQUIRED",
            "give exactly one of worker_nik and participant_number",
        )),
    }
}

/// A worker a claim is about, with the death reported for them.
struct FoundWorker {
    nik: String,
    row: coverage::store::WorkerRow,
    death: Option<(NaiveDate, String)>,
}

async fn find_worker(conn: &mut PgConnection, who: &Who) -> Result<FoundWorker, Error> {
    let (nik, number) = match who {
        Who::Nik(nik) => (Some(nik.as_str()), None),
        Who::Number(number) => (None, Some(number.as_str())),
    };
    let Some(row) = coverage::store::worker(&mut *conn, nik, number).await? else {
        return Err(Error::NotFound("no worker with this identifier".to_owned()));
    };
    let death = worker::store::death(conn, &row.nik).await?.map(|d| (d.date_of_death, d.certificate_number));
    Ok(FoundWorker { nik: row.nik.clone(), row, death })
}

/// Coverage on the event date, as VerifyCoverage judges it; a claim without it is refused with the reason.
async fn covered_on(conn: &mut PgConnection, nik: &str, date: NaiveDate) -> Result<coverage::Covered, Error> {
    let Some(row) = coverage::store::worker(&mut *conn, Some(nik), None).await? else {
        return Err(Error::NotFound("no worker with this identifier".to_owned()));
    };
    let (verdict, _) = coverage::service::judge(conn, &row, date).await?;
    verdict.map_err(|reason| not_covered(reason, date))
}

fn not_covered(reason: NotCovered, date: NaiveDate) -> Error {
    let mut refusal =
        Refusal::new("R1.5", "NOT_COVERED", format!("the worker was not covered on {date}: {}", reason.code()));
    refusal.details.push(("coverage_reason", reason.code().to_owned()));
    Error::Refused(vec![refusal])
}

fn jkk_lapsed(date: NaiveDate) -> Error {
    Error::Refused(vec![Refusal::new(
        "R3.8",
        "JKK_CLAIM_LAPSED",
        format!("the right to claim JKK for an accident on {date} lapsed 5 years after it"),
    )])
}

fn wrong_status(status: ClaimStatus, action: &str) -> Error {
    Error::Refused(vec![Refusal::new(
        "R2.6",
        "CLAIM_STATUS",
        format!("cannot {action} a claim that is {}", status.code().to_uppercase()),
    )])
}

fn one_death_claim(error: sqlx::Error) -> Error {
    match constraint(&error) {
        Some("claims_one_death_claim_per_worker") => Error::Refused(vec![Refusal::new(
            "R2",
            "DEATH_ALREADY_CLAIMED",
            "a death claim for this worker is already filed (the death benefit is paid once)",
        )]),
        _ => Error::from(error),
    }
}

fn constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(e) => e.constraint(),
        _ => None,
    }
}

/// Serialises filings under one request id: the second waits, then finds the first's claim.
async fn lock_request(conn: &mut PgConnection, agency: Uuid, request_id: &str) -> Result<(), Error> {
    crate::idempotency::lock(conn, agency, &[request_id.to_owned()]).await?;
    Ok(())
}

async fn locked(conn: &mut PgConnection, id: Uuid) -> Result<store::ClaimRow, Error> {
    if !store::lock(&mut *conn, id).await? {
        return Err(Error::NotFound(format!("no claim {id}")));
    }
    store::get(conn, id).await?.ok_or_else(|| Error::NotFound(format!("no claim {id}")))
}

/// Checks that a notice can be completed by a filing of `event` for the same worker; answers whether it already
/// was (a resend).
async fn notice_already_filed(conn: &mut PgConnection, notice: Uuid, nik: &str, event: Event) -> Result<bool, Error> {
    let row = locked(conn, notice).await?;
    if row.worker_nik != nik || !event.is_jkk() {
        return Err(Error::invalid("notice_id", "NOTICE_MISMATCH", "is a notice about another worker or event"));
    }
    match status_of(&row)? {
        ClaimStatus::Notice => Ok(false),
        ClaimStatus::Filed if row.event == event.code() => Ok(true),
        other => Err(wrong_status(other, "file from the notice of")),
    }
}

fn months(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The instant before which a complete JKM claim, still unpaid today, is overdue: the start (WIB) of the day after
/// the latest completion day whose deadline has passed.
fn overdue_before(today: NaiveDate) -> DateTime<Utc> {
    let mut day = today;
    while !overdue(day, today) {
        day = day.pred_opt().expect("dates go back");
    }
    let next = day.succ_opt().expect("dates go on");
    crate::clock::WIB
        .from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("WIB has no gaps")
        .with_timezone(&Utc)
}

fn wib_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&crate::clock::WIB).date_naive()
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// A validated FileClaim.
struct Filing {
    request_id: String,
    who: Who,
    event: Event,
    date: NaiveDate,
    documents: Vec<Document>,
    spouse_is_heir: bool,
    notice: NoticeRef,
    death_certificate: Option<String>,
}

enum NoticeRef {
    /// A funder's notice this filing completes.
    Existing(Uuid),
    /// The notice fields given with the filing (accidents), or none (JKM).
    New(Option<Notice>),
}

impl Filing {
    fn parse(request: &pb::FileClaimRequest) -> Result<Filing, Error> {
        let mut violations = Vec::new();
        let request_id = collect(&mut violations, parse_request_id(&request.request_id, "request_id"));
        let who = collect(&mut violations, identifier(&request.worker_nik, &request.participant_number));
        let event = match &request.event {
            Some(event) => collect(&mut violations, parse_event(event).map_err(|e| nest(e, "event"))),
            None => {
                violations.push(FieldViolation::new("event", "REQUIRED", "is required"));
                None
            }
        };
        let documents = collect(&mut violations, parse_documents(&request.documents)).unwrap_or_default();
        let relationships = collect(&mut violations, parse_heirs(&request.heirs)).unwrap_or_default();
        // From the request itself, so that the heirs are checked even when the event has other faults.
        let kind = request.event.as_ref().and_then(|e| event_kind(e.kind));
        if kind.is_some_and(Event::is_death) {
            match check_heirs(&relationships) {
                Ok(()) => {}
                Err(e @ super::HeirsError::Missing) => {
                    violations.push(FieldViolation::new("heirs", "HEIRS_REQUIRED", e.to_string()));
                }
                Err(e @ super::HeirsError::OutOfOrder { .. }) => {
                    let super::HeirsError::OutOfOrder { positions, .. } = &e else { unreachable!() };
                    for i in positions {
                        violations.push(FieldViolation::new(
                            format!("heirs[{i}].relationship"),
                            "HEIR_ORDER",
                            format!("R2.5: {e}"),
                        ));
                    }
                }
            }
        } else if !request.heirs.is_empty() {
            violations.push(FieldViolation::new("heirs", "NOT_FOR_EVENT", "are named only for a death"));
        }
        let notice = if !request.notice_id.is_empty() {
            collect(&mut violations, parse_id(&request.notice_id, "notice_id")).map(NoticeRef::Existing)
        } else if let Some(notice) = &request.notice {
            collect(&mut violations, Notice::parse(notice, "notice")).map(|n| NoticeRef::New(Some(n)))
        } else if kind.is_some_and(Event::is_jkk) {
            violations.push(FieldViolation::new("notice", "REQUIRED", "is required for a work accident (R3.7)"));
            None
        } else {
            Some(NoticeRef::New(None))
        };
        if let (Some(NoticeRef::New(Some(notice))), Some((_, date, _))) = (&notice, &event) {
            check_notice_day(&mut violations, notice, *date, "notice.occurred_at");
        }
        let certificate = request.death_certificate_number.trim();
        let death_certificate = if certificate.is_empty() {
            None
        } else if certificate.chars().count() > 100 || certificate.chars().any(char::is_control) {
            violations.push(FieldViolation::new(
                "death_certificate_number",
                "CERTIFICATE_FORMAT",
                "must be 1–100 printable characters",
            ));
            None
        } else {
            Some(certificate.to_owned())
        };
        match (request_id, who, event, notice) {
            (Some(request_id), Some(who), Some((event, date, _)), Some(notice)) if violations.is_empty() => {
                Ok(Filing {
                    request_id,
                    who,
                    event,
                    date,
                    documents,
                    spouse_is_heir: relationships.contains(&Relationship::Spouse),
                    notice,
                    death_certificate,
                })
            }
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

/// The accident happened on the event's day (in WIB, where the calendar of lindung runs).
fn check_notice_day(violations: &mut Vec<FieldViolation>, notice: &Notice, date: NaiveDate, field: &str) {
    if wib_date(notice.occurred_at) != date {
        violations.push(FieldViolation::new(
            field,
            "DATE_MISMATCH",
            format!("must fall on the accident date {date} (WIB)"),
        ));
    }
}

/// A validated accident notice (R3.7).
struct Notice {
    place: String,
    cause: String,
    occurred_at: DateTime<Utc>,
    notifier_name: String,
    notifier_phone: String,
}

impl Notice {
    fn parse(notice: &pb::AccidentNotice, prefix: &str) -> Result<Notice, Error> {
        let mut violations = Vec::new();
        let mut text = |value: &str, field: &str| {
            let value = value.trim();
            if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
                violations.push(FieldViolation::new(
                    format!("{prefix}.{field}"),
                    "TEXT_FORMAT",
                    "is required: 1–200 printable characters (R3.7)",
                ));
            }
            value.to_owned()
        };
        let place = text(&notice.place, "place");
        let cause = text(&notice.cause, "cause");
        let notifier_name = text(&notice.notifier_name, "notifier_name");
        let phone = Phone::parse(&notice.notifier_phone)
            .map_err(|e| {
                violations.push(FieldViolation::new(format!("{prefix}.notifier_phone"), "PHONE_FORMAT", e.to_string()))
            })
            .ok();
        let occurred_at = match &notice.occurred_at {
            Some(ts) => match Utc.timestamp_opt(ts.seconds, ts.nanos.max(0) as u32).single() {
                Some(at) if at <= Utc::now() => Some(at),
                _ => {
                    violations.push(FieldViolation::new(
                        format!("{prefix}.occurred_at"),
                        "TIME_INVALID",
                        "must be a valid time, not in the future",
                    ));
                    None
                }
            },
            None => {
                violations.push(FieldViolation::new(format!("{prefix}.occurred_at"), "REQUIRED", "is required (R3.7)"));
                None
            }
        };
        match (phone, occurred_at) {
            (Some(phone), Some(occurred_at)) if violations.is_empty() => {
                Ok(Notice { place, cause, occurred_at, notifier_name, notifier_phone: phone.as_str().to_owned() })
            }
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

fn parse_event(event: &pb::Event) -> Result<(Event, NaiveDate, Claimed), Error> {
    let mut violations = Vec::new();
    let kind = event_kind(event.kind);
    if kind.is_none() {
        violations.push(FieldViolation::new("kind", "REQUIRED", "is required: a ClaimEvent"));
    }
    let date = collect(&mut violations, parse_date(&event.date, "date"));
    if kind == Some(Event::Accident) && event.accident_costs.is_none() {
        violations.push(FieldViolation::new("accident_costs", "REQUIRED", "is required for an accident"));
    }
    let claimed = kind.and_then(|kind| match claimed(kind, &event.children, event.accident_costs.as_ref()) {
        Ok(claimed) => Some(claimed),
        Err(v) => {
            violations.extend(v);
            None
        }
    });
    match (kind, date, claimed) {
        (Some(kind), Some(date), Some(claimed)) if violations.is_empty() => Ok((kind, date, claimed)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

fn event_kind(kind: i32) -> Option<Event> {
    match pb::ClaimEvent::try_from(kind) {
        Ok(pb::ClaimEvent::Death) => Some(Event::Death),
        Ok(pb::ClaimEvent::Accident) => Some(Event::Accident),
        Ok(pb::ClaimEvent::AccidentDeath) => Some(Event::AccidentDeath),
        _ => None,
    }
}

/// What the calculator is asked, from the particulars of a claim.
fn claimed(
    event: Event,
    children: &[pb::Child],
    costs: Option<&pb::AccidentCosts>,
) -> Result<Claimed, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut parsed = Vec::new();
    for (i, child) in children.iter().enumerate() {
        let birth_date = collect(&mut violations, parse_date(&child.birth_date, &format!("children[{i}].birth_date")));
        let level = match pb::EducationLevel::try_from(child.level) {
            Ok(pb::EducationLevel::PreschoolPrimary) => Some(benefit::Level::PreschoolPrimary),
            Ok(pb::EducationLevel::JuniorSecondary) => Some(benefit::Level::JuniorSecondary),
            Ok(pb::EducationLevel::SeniorSecondary) => Some(benefit::Level::SeniorSecondary),
            Ok(pb::EducationLevel::Higher) => Some(benefit::Level::Higher),
            _ => {
                violations.push(FieldViolation::new(
                    format!("children[{i}].level"),
                    "REQUIRED",
                    "is required: an EducationLevel",
                ));
                None
            }
        };
        if let (Some(birth_date), Some(level)) = (birth_date, level) {
            parsed.push(benefit::Child { birth_date, level });
        }
    }
    let claimed = match event {
        Event::Death => Claimed::Death { children: parsed },
        Event::AccidentDeath => Claimed::AccidentDeath { children: parsed },
        Event::Accident => {
            if !children.is_empty() {
                violations.push(FieldViolation::new("children", "NOT_FOR_EVENT", "are named only for a death"));
            }
            let costs = costs.cloned().unwrap_or_default();
            Claimed::Accident(collect(&mut violations, accident_claim(&costs)).unwrap_or_default())
        }
    };
    if violations.is_empty() { Ok(claimed) } else { Err(violations) }
}

fn accident_claim(costs: &pb::AccidentCosts) -> Result<benefit::AccidentClaim, Error> {
    let mut violations = Vec::new();
    let amount = |violations: &mut Vec<FieldViolation>, value: &Option<pb::Rupiah>, field: String| match value {
        None => Rupiah::ZERO,
        Some(r) => Rupiah::parse(&r.amount)
            .map_err(|e| {
                violations.push(FieldViolation::new(format!("accident_costs.{field}"), e.reason(), e.to_string()))
            })
            .unwrap_or_default(),
    };
    let medical = amount(&mut violations, &costs.medical, "medical".to_owned());
    let home_care = costs.home_care.as_ref().map(|_| amount(&mut violations, &costs.home_care, "home_care".to_owned()));
    let mut transport = Vec::new();
    for (i, cost) in costs.transport.iter().enumerate() {
        let value = amount(&mut violations, &cost.amount, format!("transport[{i}].amount"));
        let mode = match pb::Transport::try_from(cost.mode) {
            Ok(pb::Transport::Land) => Some(benefit::Transport::Land),
            Ok(pb::Transport::Sea) => Some(benefit::Transport::Sea),
            Ok(pb::Transport::Air) => Some(benefit::Transport::Air),
            _ => None,
        };
        match mode {
            Some(mode) => transport.push((mode, value)),
            None => violations.push(FieldViolation::new(
                format!("accident_costs.transport[{i}].mode"),
                "REQUIRED",
                "is required: a Transport",
            )),
        }
    }
    let inability = match (costs.unable_from.is_empty(), costs.unable_to.is_empty()) {
        (true, true) => None,
        _ => {
            let from = collect(&mut violations, parse_date(&costs.unable_from, "accident_costs.unable_from"));
            let to = collect(&mut violations, parse_date(&costs.unable_to, "accident_costs.unable_to"));
            match (from, to) {
                // Five years (R3.8) bounds any claimable period, and so every amount computed from it.
                (Some(from), Some(to)) if to.signed_duration_since(from).num_days() > 5 * 366 => {
                    violations.push(FieldViolation::new(
                        "accident_costs.unable_to",
                        "PERIOD_TOO_LONG",
                        "the period of inability to work is at most 5 years (R3.8)",
                    ));
                    None
                }
                (Some(from), Some(to)) if from <= to => Some((from, to)),
                (Some(_), Some(_)) => {
                    violations.push(FieldViolation::new(
                        "accident_costs.unable_to",
                        "RANGE_ORDER",
                        "must not be before unable_from",
                    ));
                    None
                }
                _ => None,
            }
        }
    };
    let disability = match (costs.total_disability, costs.partial_disability_percent.trim()) {
        (false, "") => None,
        (true, "") => Some(benefit::Disability::Total),
        (true, _) => {
            violations.push(FieldViolation::new(
                "accident_costs.partial_disability_percent",
                "EXCLUSIVE",
                "must be empty when total_disability is set",
            ));
            None
        }
        (false, percent) => match percent.parse::<Decimal>() {
            Ok(p) if p > Decimal::ZERO && p < Decimal::from(100) && p.scale() <= 2 => {
                Some(benefit::Disability::Partial { percent: p })
            }
            _ => {
                violations.push(FieldViolation::new(
                    "accident_costs.partial_disability_percent",
                    "PERCENT_RANGE",
                    "must be a percentage above 0 and below 100, like 12.5",
                ));
                None
            }
        },
    };
    if violations.is_empty() {
        Ok(benefit::AccidentClaim {
            medical,
            home_care,
            home_care_days: costs.home_care_days,
            transport,
            inability,
            disability,
        })
    } else {
        Err(Error::InvalidArgument(violations))
    }
}

fn parse_heirs(heirs: &[pb::Heir]) -> Result<Vec<Relationship>, Error> {
    let mut violations = Vec::new();
    let mut relationships = Vec::new();
    for (i, heir) in heirs.iter().enumerate() {
        let name = heir.full_name.trim();
        if name.is_empty() || name.chars().count() > 150 || name.chars().any(char::is_control) {
            violations.push(FieldViolation::new(
                format!("heirs[{i}].full_name"),
                "TEXT_FORMAT",
                "is required: 1–150 printable characters",
            ));
        }
        if !heir.nik.is_empty()
            && let Err(e) = Nik::parse(&heir.nik)
        {
            violations.push(FieldViolation::new(format!("heirs[{i}].nik"), e.reason(), e.to_string()));
        }
        let account_ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= 100 && !s.chars().any(char::is_control);
        if !account_ok(&heir.bank_name) || !account_ok(&heir.bank_account) {
            violations.push(FieldViolation::new(
                format!("heirs[{i}].bank_account"),
                "BANK_ACCOUNT_REQUIRED",
                "the bank name and account where the benefit is paid are required (R2.6)",
            ));
        }
        let relationship = match pb::Relationship::try_from(heir.relationship) {
            Ok(pb::Relationship::Spouse) => Some(Relationship::Spouse),
            Ok(pb::Relationship::Child) => Some(Relationship::Child),
            Ok(pb::Relationship::Parent) => Some(Relationship::Parent),
            Ok(pb::Relationship::Grandparent) => Some(Relationship::Grandparent),
            Ok(pb::Relationship::Grandchild) => Some(Relationship::Grandchild),
            Ok(pb::Relationship::Sibling) => Some(Relationship::Sibling),
            Ok(pb::Relationship::ParentInLaw) => Some(Relationship::ParentInLaw),
            Ok(pb::Relationship::WillBeneficiary) => Some(Relationship::WillBeneficiary),
            _ => None,
        };
        match relationship {
            Some(r) => relationships.push(r),
            None => violations.push(FieldViolation::new(
                format!("heirs[{i}].relationship"),
                "REQUIRED",
                "is required: a Relationship (R2.5)",
            )),
        }
    }
    if violations.is_empty() { Ok(relationships) } else { Err(Error::InvalidArgument(violations)) }
}

fn parse_documents(documents: &[i32]) -> Result<Vec<Document>, Error> {
    let mut violations = Vec::new();
    let mut parsed = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        match pb::ClaimDocument::try_from(*document).ok().and_then(document_from_proto) {
            Some(d) => parsed.push(d),
            None => violations.push(FieldViolation::new(
                format!("documents[{i}]"),
                "ENUM_UNKNOWN",
                "is not a ClaimDocument",
            )),
        }
    }
    parsed.sort();
    parsed.dedup();
    if violations.is_empty() { Ok(parsed) } else { Err(Error::InvalidArgument(violations)) }
}

/// A date that must have happened already (an event, a birth, a payment).
fn parse_date(value: &str, field: &str) -> Result<NaiveDate, Error> {
    crate::date::not_after(field, value, today()).map_err(|v| Error::InvalidArgument(vec![v]))
}

/// Keeps a value, or moves its field violations into `violations`, so that one answer names every bad field. The
/// parsers it wraps fail only with INVALID_ARGUMENT; anything else would be a bug, kept as an unnamed violation.
fn collect<T>(violations: &mut Vec<FieldViolation>, result: Result<T, Error>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::InvalidArgument(v)) => {
            violations.extend(v);
            None
        }
        Err(other) => {
            violations.push(FieldViolation::new("", "INVALID", other.to_string()));
            None
        }
    }
}

fn nest(error: Error, prefix: &str) -> Error {
    match error {
        Error::InvalidArgument(v) => Error::InvalidArgument(v.into_iter().map(|v| v.nested(prefix)).collect()),
        other => other,
    }
}

fn spouse_is_heir(particulars: &Particulars) -> bool {
    particulars.heirs.iter().any(|h| h.relationship == pb::Relationship::Spouse as i32)
}

fn documents_of(row: &store::ClaimRow) -> Vec<Document> {
    row.documents.iter().filter_map(|d| Document::from_code(d)).collect()
}

fn status_of(row: &store::ClaimRow) -> Result<ClaimStatus, Error> {
    ClaimStatus::from_code(&row.status)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("claim {} has an unknown status", row.id)))
}

fn event_of(row: &store::ClaimRow) -> Result<Event, Error> {
    Event::from_code(&row.event)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("claim {} has an unknown event", row.id)))
}

pub fn breakdown_to_proto(breakdown: &benefit::Breakdown, contribution_months: u32) -> pb::Breakdown {
    pb::Breakdown {
        lines: breakdown
            .lines
            .iter()
            .map(|line| pb::BenefitLine {
                rule: line.rule.to_owned(),
                item: line.item.code().to_owned(),
                amount: Some(rupiah(line.amount)),
                explanation: line.explanation.clone(),
            })
            .collect(),
        total: Some(rupiah(breakdown.total())),
        contribution_months,
        scholarships: breakdown
            .scholarships
            .iter()
            .map(|schedule| pb::ScholarshipSchedule {
                child: u32::try_from(schedule.child).unwrap_or(u32::MAX),
                years: schedule
                    .years
                    .iter()
                    .map(|year| pb::ScholarshipYear {
                        from: year.from.to_string(),
                        age: year.age,
                        level: level_to_proto(year.level) as i32,
                        amount: Some(rupiah(year.amount)),
                    })
                    .collect(),
                total: Some(rupiah(schedule.total)),
            })
            .collect(),
    }
}

fn level_to_proto(level: benefit::Level) -> pb::EducationLevel {
    match level {
        benefit::Level::PreschoolPrimary => pb::EducationLevel::PreschoolPrimary,
        benefit::Level::JuniorSecondary => pb::EducationLevel::JuniorSecondary,
        benefit::Level::SeniorSecondary => pb::EducationLevel::SeniorSecondary,
        benefit::Level::Higher => pb::EducationLevel::Higher,
    }
}

fn status_to_proto(status: ClaimStatus) -> pb::ClaimStatus {
    match status {
        ClaimStatus::Notice => pb::ClaimStatus::Notice,
        ClaimStatus::Filed => pb::ClaimStatus::Filed,
        ClaimStatus::Assessed => pb::ClaimStatus::Assessed,
        ClaimStatus::Approved => pb::ClaimStatus::Approved,
        ClaimStatus::Rejected => pb::ClaimStatus::Rejected,
        ClaimStatus::Paid => pb::ClaimStatus::Paid,
    }
}

fn status_from_proto(status: pb::ClaimStatus) -> ClaimStatus {
    match status {
        pb::ClaimStatus::Unspecified | pb::ClaimStatus::Notice => ClaimStatus::Notice,
        pb::ClaimStatus::Filed => ClaimStatus::Filed,
        pb::ClaimStatus::Assessed => ClaimStatus::Assessed,
        pb::ClaimStatus::Approved => ClaimStatus::Approved,
        pb::ClaimStatus::Rejected => ClaimStatus::Rejected,
        pb::ClaimStatus::Paid => ClaimStatus::Paid,
    }
}

fn event_to_proto(event: Event) -> pb::ClaimEvent {
    match event {
        Event::Death => pb::ClaimEvent::Death,
        Event::Accident => pb::ClaimEvent::Accident,
        Event::AccidentDeath => pb::ClaimEvent::AccidentDeath,
    }
}

fn document_to_proto(document: Document) -> pb::ClaimDocument {
    match document {
        Document::ParticipantCard => pb::ClaimDocument::ParticipantCard,
        Document::ParticipantIdCard => pb::ClaimDocument::ParticipantIdCard,
        Document::HeirIdCard => pb::ClaimDocument::HeirIdCard,
        Document::DeathCertificate => pb::ClaimDocument::DeathCertificate,
        Document::FamilyCard => pb::ClaimDocument::FamilyCard,
        Document::HeirCertificate => pb::ClaimDocument::HeirCertificate,
        Document::MarriageBook => pb::ClaimDocument::MarriageBook,
        Document::HeirBankAccount => pb::ClaimDocument::HeirBankAccount,
    }
}

fn document_from_proto(document: pb::ClaimDocument) -> Option<Document> {
    Some(match document {
        pb::ClaimDocument::Unspecified => return None,
        pb::ClaimDocument::ParticipantCard => Document::ParticipantCard,
        pb::ClaimDocument::ParticipantIdCard => Document::ParticipantIdCard,
        pb::ClaimDocument::HeirIdCard => Document::HeirIdCard,
        pb::ClaimDocument::DeathCertificate => Document::DeathCertificate,
        pb::ClaimDocument::FamilyCard => Document::FamilyCard,
        pb::ClaimDocument::HeirCertificate => Document::HeirCertificate,
        pb::ClaimDocument::MarriageBook => Document::MarriageBook,
        pb::ClaimDocument::HeirBankAccount => Document::HeirBankAccount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::payment_deadline;

    #[test]
    fn overdue_claims_are_those_complete_before_the_cutoff() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // On Friday 2025-11-07 a claim complete on Monday 11-03 (deadline Thursday) is overdue, one complete on
        // Tuesday 11-04 (deadline Friday) is not.
        let cutoff = overdue_before(d("2025-11-07"));
        assert_eq!(wib_date(cutoff), d("2025-11-04"));
        assert!(overdue(d("2025-11-03"), d("2025-11-07")) && !overdue(d("2025-11-04"), d("2025-11-07")));
        assert_eq!(payment_deadline(d("2025-11-04")), d("2025-11-07"));
    }
}
