//! `lindung.v1.EnrollmentService`: funders submit, the insurer decides.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use prost::Message;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use super::{EndReason, InsurerRefusal, ParticipantNumber, WorkerFacts, store};
use crate::{
    agency::AgencyKind,
    area::RegionCode,
    audit,
    auth::{Caller, Rpc, Scope},
    batch::{BATCH_SIZE, ResponseStream, answer_in_batches},
    clock::today,
    coverage, enrollment,
    error::{Error, FieldViolation, Refusal, to_rpc_status},
    month::Month,
    paging,
    proto::v1 as pb,
    state::AppState,
    subsidy::{self, Subsidy},
    validate::parse_id,
    worker::{Nik, Quarter},
};

/// The tag of enrollment page tokens, keyed by (creation time, id).
const PAGE_TAG: &str = "e1";

/// The answer to one submission: the enrollment, or the status refusing it (kept encoded for resends).
type Answer = Result<store::EnrollmentRow, tonic_types::pb::Status>;

#[derive(Debug, Clone)]
pub struct EnrollmentGrpc {
    state: AppState,
}

impl EnrollmentGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::enrollment_service_server::EnrollmentService for EnrollmentGrpc {
    async fn submit_enrollment(
        &self,
        request: Request<pb::SubmitEnrollmentRequest>,
    ) -> Result<Response<pb::SubmitEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::SubmitEnrollment).await?;
        let answers =
            submit_batch(&self.state, &caller, vec![request.into_inner()], None).await.map_err(Status::from)?;
        match answers.into_iter().next() {
            Some(Ok(row)) => Ok(Response::new(pb::SubmitEnrollmentResponse { enrollment: Some(to_proto(&row)) })),
            Some(Err(status)) => Err(from_rpc_status(status)),
            None => Err(Error::internal(anyhow::anyhow!("a batch of one answered nothing")).into()),
        }
    }

    type SubmitEnrollmentsStream = ResponseStream<pb::SubmitEnrollmentsResponse>;

    async fn submit_enrollments(
        &self,
        request: Request<Streaming<pb::SubmitEnrollmentsRequest>>,
    ) -> Result<Response<Self::SubmitEnrollmentsStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::SubmitEnrollments).await?;
        let state = self.state.clone();
        let responses =
            answer_in_batches(request.into_inner(), move |first, rows: Vec<pb::SubmitEnrollmentsRequest>| {
                let (state, caller) = (state.clone(), caller.clone());
                async move {
                    let rows: Vec<pb::SubmitEnrollmentRequest> =
                        rows.into_iter().map(|r| r.submission.unwrap_or_default()).collect();
                    let request_ids: Vec<String> = rows.iter().map(|r| r.request_id.clone()).collect();
                    let answers = submit_batch(&state, &caller, rows, Some("submission")).await?;
                    Ok(answers
                        .into_iter()
                        .zip(request_ids)
                        .zip(first..)
                        .map(|((answer, request_id), index)| {
                            let result = match answer {
                                Ok(row) => pb::submit_enrollments_response::Result::Enrollment(to_proto(&row)),
                                Err(status) => pb::submit_enrollments_response::Result::Error(status),
                            };
                            pb::SubmitEnrollmentsResponse { index, request_id, result: Some(result) }
                        })
                        .collect())
                }
            });
        Ok(Response::new(responses))
    }

    async fn end_enrollment(
        &self,
        request: Request<pb::EndEnrollmentRequest>,
    ) -> Result<Response<pb::EndEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::EndEnrollment).await?;
        let request = request.into_inner();
        let result = async {
            let (id, end_month, reason) = parse_end(&request)?;
            let mut tx = self.state.pool.begin().await?;
            let row = lock_own(&mut tx, &caller, id).await?;
            end_locked(&mut tx, &row, end_month, reason).await?;
            self.audit_one(&mut tx, &caller, &row.worker_nik).await?;
            let row = store::get(&mut *tx, id).await?.ok_or_else(vanished)?;
            tx.commit().await?;
            Ok(pb::EndEnrollmentResponse { enrollment: Some(to_proto(&row)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn hand_over_enrollment(
        &self,
        request: Request<pb::HandOverEnrollmentRequest>,
    ) -> Result<Response<pb::HandOverEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::HandOverEnrollment).await?;
        let request = request.into_inner();
        let result = async {
            // Every field is checked before anything is read, the resend path included.
            let request_id = crate::idempotency::parse_request_id(&request.request_id, "request_id")?;
            let id = parse_id(&request.enrollment_id, "enrollment_id")?;
            parse_id(&request.target_subsidy_id, "target_subsidy_id")?;
            let month = Month::parse(&request.month).map_err(|e| Error::invalid("month", e.reason(), e.to_string()))?;
            let mut tx = self.state.pool.begin().await?;
            let row = lock_own(&mut tx, &caller, id).await?;
            if row.status == enrollment::Status::Ended.as_str() && row.end_reason.as_deref() == Some("handed_over") {
                // A resend of a hand-over already made answers what it made; under another request id, the
                // enrollment was handed over already and this is a second, refused hand-over.
                let Some(started) = prior_enrollment(&mut tx, &caller, &request_id).await? else {
                    return Err(Error::Refused(vec![Refusal::new(
                        "R6.1",
                        "ENROLLMENT_ALREADY_HANDED_OVER",
                        "the enrollment was already handed over under another request id",
                    )]));
                };
                tx.commit().await?;
                return Ok(pb::HandOverEnrollmentResponse {
                    ended: Some(to_proto(&row)),
                    started: Some(to_proto(&started)),
                });
            }
            end_locked(&mut tx, &row, month, EndReason::HandedOver).await?;
            let submission = pb::SubmitEnrollmentRequest {
                request_id,
                subsidy_id: request.target_subsidy_id.clone(),
                worker_nik: row.worker_nik.clone(),
                first_month: month.to_string(),
            };
            let mut answers =
                decide(&mut tx, &self.state, &caller, vec![submission], None, Ownership::AnyFunder).await?;
            match answers.pop() {
                Some(Ok(started)) => {
                    let ended = store::get(&mut *tx, id).await?.ok_or_else(vanished)?;
                    tx.commit().await?;
                    Ok(pb::HandOverEnrollmentResponse {
                        ended: Some(to_proto(&ended)),
                        started: Some(to_proto(&started)),
                    })
                }
                // Nothing changes: the transaction rolls back and the refusal is answered as it is.
                Some(Err(status)) => Err(Error::Replayed(status)),
                None => Err(vanished()),
            }
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn confirm_enrollment(
        &self,
        request: Request<pb::ConfirmEnrollmentRequest>,
    ) -> Result<Response<pb::ConfirmEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ConfirmEnrollment).await?;
        let decision = Decision::parse_confirm(&request.into_inner(), "");
        let result = decide_one(&self.state, &caller, decision).await;
        let result = result.map(|row| pb::ConfirmEnrollmentResponse { enrollment: Some(to_proto(&row)) });
        self.state.finish(&caller, result).await
    }

    async fn refuse_enrollment(
        &self,
        request: Request<pb::RefuseEnrollmentRequest>,
    ) -> Result<Response<pb::RefuseEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::RefuseEnrollment).await?;
        let decision = Decision::parse_refuse(&request.into_inner(), "");
        let result = decide_one(&self.state, &caller, decision).await;
        let result = result.map(|row| pb::RefuseEnrollmentResponse { enrollment: Some(to_proto(&row)) });
        self.state.finish(&caller, result).await
    }

    type DecideEnrollmentsStream = ResponseStream<pb::DecideEnrollmentsResponse>;

    async fn decide_enrollments(
        &self,
        request: Request<Streaming<pb::DecideEnrollmentsRequest>>,
    ) -> Result<Response<Self::DecideEnrollmentsStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::DecideEnrollments).await?;
        let state = self.state.clone();
        let responses = answer_in_batches(request.into_inner(), move |first, decisions| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                let decisions = decisions.into_iter().map(Decision::parse).collect();
                let results = decide_batch(&state, &caller, decisions).await?;
                Ok(results
                    .into_iter()
                    .zip(first..)
                    .map(|(result, index)| {
                        let result = match result {
                            Ok(row) => pb::decide_enrollments_response::Result::Enrollment(to_proto(&row)),
                            Err(error) => pb::decide_enrollments_response::Result::Error(to_rpc_status(error)),
                        };
                        pb::DecideEnrollmentsResponse { index, result: Some(result) }
                    })
                    .collect())
            }
        });
        Ok(Response::new(responses))
    }

    async fn list_pending_enrollments(
        &self,
        request: Request<pb::ListPendingEnrollmentsRequest>,
    ) -> Result<Response<pb::ListPendingEnrollmentsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListPendingEnrollments).await?;
        let page = request.into_inner().page.unwrap_or_default();
        let filter =
            store::Filter { status: Some(enrollment::Status::Pending.as_str().to_owned()), ..Default::default() };
        let result = list_page(&self.state, &caller, &filter, &page).await;
        let result = result
            .map(|(enrollments, next_page_token)| pb::ListPendingEnrollmentsResponse { enrollments, next_page_token });
        self.state.finish(&caller, result).await
    }

    type StreamPendingEnrollmentsStream = ResponseStream<pb::Enrollment>;

    async fn stream_pending_enrollments(
        &self,
        request: Request<pb::StreamPendingEnrollmentsRequest>,
    ) -> Result<Response<Self::StreamPendingEnrollmentsStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::StreamPendingEnrollments).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(BATCH_SIZE);
        let state = self.state.clone();
        crate::telemetry::spawn_in_span(async move {
            let filter =
                store::Filter { status: Some(enrollment::Status::Pending.as_str().to_owned()), ..Default::default() };
            let mut after = None;
            loop {
                let rows = match store::list(&state.pool, &filter, after, BATCH_SIZE as i64).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        let _ = tx.send(Err(Status::from(Error::from(e)))).await;
                        return;
                    }
                };
                let subjects = subjects(&state, rows.iter().map(|r| r.worker_nik.as_str()));
                if let Err(e) = audit::store::record(&state.pool, caller.actor(), "OK", &subjects).await {
                    let _ = tx.send(Err(Status::from(Error::from(e)))).await;
                    return;
                }
                after = rows.last().map(|r| (r.created_at, r.id));
                let done = rows.len() < BATCH_SIZE;
                for row in &rows {
                    if tx.send(Ok(to_proto(row))).await.is_err() {
                        return;
                    }
                }
                if done {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn get_enrollment(
        &self,
        request: Request<pb::GetEnrollmentRequest>,
    ) -> Result<Response<pb::GetEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetEnrollment).await?;
        let id = request.into_inner().enrollment_id;
        let result = async {
            let id = parse_id(&id, "enrollment_id")?;
            let row = match store::get(&self.state.pool, id).await? {
                Some(row) if caller.scope == Scope::All || row.funder_id == caller.agency_id() => row,
                _ => return Err(Error::NotFound(format!("no enrollment {id} in your view"))),
            };
            let subjects = subjects(&self.state, [row.worker_nik.as_str()]);
            audit::store::record(&self.state.pool, caller.actor(), "OK", &subjects).await?;
            let active = (row.status == "active").then_some(row.subsidy_id);
            let lapses = lapses(&self.state, active.as_slice()).await?;
            Ok(pb::GetEnrollmentResponse { enrollment: Some(with_lapse(to_proto(&row), &lapses)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_enrollments(
        &self,
        request: Request<pb::ListEnrollmentsRequest>,
    ) -> Result<Response<pb::ListEnrollmentsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListEnrollments).await?;
        let request = request.into_inner();
        let result = async {
            let filter = parse_filter(&request)?;
            let page = request.page.unwrap_or_default();
            let (enrollments, next_page_token) = list_page(&self.state, &caller, &filter, &page).await?;
            Ok(pb::ListEnrollmentsResponse { enrollments, next_page_token })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

impl EnrollmentGrpc {
    async fn audit_one(&self, conn: &mut PgConnection, caller: &Caller, nik: &str) -> Result<(), Error> {
        let subjects = subjects(&self.state, [nik]);
        audit::store::record(&mut *conn, caller.actor(), "OK", &subjects).await?;
        Ok(())
    }
}

/// A submission that passed validation.
#[derive(Debug, Clone)]
struct Submission {
    request_id: String,
    subsidy_id: Uuid,
    nik: Nik,
    first_month: Month,
    /// Tells a resend from another request reusing the id; a hash, so no NIK is stored with it in clear.
    fingerprint: String,
}

impl Submission {
    fn parse(request: &pb::SubmitEnrollmentRequest, prefix: Option<&str>) -> Result<Submission, Error> {
        let mut violations = Vec::new();
        let request_id = match crate::idempotency::parse_request_id(&request.request_id, "request_id") {
            Ok(id) => id,
            Err(Error::InvalidArgument(v)) => {
                violations.extend(v);
                String::new()
            }
            Err(other) => return Err(other),
        };
        let subsidy_id = Uuid::parse_str(&request.subsidy_id).map_err(|_| {
            FieldViolation::new("subsidy_id", "ID_FORMAT", "must be the id (UUID) of one of your subsidies")
        });
        let nik =
            Nik::parse(&request.worker_nik).map_err(|e| FieldViolation::new("worker_nik", e.reason(), e.to_string()));
        let first_month = Month::parse(&request.first_month)
            .map_err(|e| FieldViolation::new("first_month", e.reason(), e.to_string()));
        violations.extend(subsidy_id.as_ref().err().cloned());
        violations.extend(nik.as_ref().err().cloned());
        violations.extend(first_month.as_ref().err().cloned());
        if !violations.is_empty() {
            let violations = match prefix {
                Some(prefix) => violations.into_iter().map(|v| v.nested(prefix)).collect(),
                None => violations,
            };
            return Err(Error::InvalidArgument(violations));
        }
        let (subsidy_id, nik, first_month) =
            (subsidy_id.unwrap_or_default(), nik.map_err(|_| ()), first_month.map_err(|_| ()));
        let (Ok(nik), Ok(first_month)) = (nik, first_month) else {
            return Err(Error::internal(anyhow::anyhow!("validated fields failed to parse")));
        };
        let fingerprint =
            hex::encode(Sha256::digest(format!("{subsidy_id}|{}|{first_month}", nik.as_str()).as_bytes()));
        Ok(Submission { request_id, subsidy_id, nik, first_month, fingerprint })
    }
}

/// Validates and decides a batch of submissions, one transaction per run of distinct request ids; answers one
/// result per input, in order. Only a failure of the store fails the batch.
async fn submit_batch(
    state: &AppState,
    caller: &Caller,
    requests: Vec<pb::SubmitEnrollmentRequest>,
    prefix: Option<&str>,
) -> Result<Vec<Answer>, Error> {
    let mut answers: Vec<Option<Answer>> = Vec::with_capacity(requests.len());
    let mut groups: Vec<Vec<(usize, pb::SubmitEnrollmentRequest)>> = vec![Vec::new()];
    let mut seen = HashSet::new();
    for (i, request) in requests.into_iter().enumerate() {
        answers.push(None);
        // A request id sent twice in one batch is decided after the first, so the second gets its answer.
        if !seen.insert(request.request_id.clone()) {
            seen.clear();
            seen.insert(request.request_id.clone());
            groups.push(Vec::new());
        }
        groups.last_mut().expect("there is always a group").push((i, request));
    }
    for group in groups.into_iter().filter(|g| !g.is_empty()) {
        let (indexes, requests): (Vec<usize>, Vec<_>) = group.into_iter().unzip();
        let mut tx = state.pool.begin().await?;
        let decided = decide(&mut tx, state, caller, requests, prefix, Ownership::Caller).await?;
        tx.commit().await?;
        for (i, answer) in indexes.into_iter().zip(decided) {
            answers[i] = Some(answer);
        }
    }
    Ok(answers.into_iter().map(|a| a.unwrap_or_else(|| Err(to_rpc_status(vanished())))).collect())
}

/// Whose subsidies a submission may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ownership {
    /// The caller's own (submissions).
    Caller,
    /// Any funder's (the receiving side of a hand-over).
    AnyFunder,
}

/// Decides submissions with distinct request ids inside the caller's transaction: every rule, then double funding,
/// quota and budget under the subsidies' locks, then one insert; each answer is recorded for resends.
async fn decide(
    conn: &mut PgConnection,
    state: &AppState,
    caller: &Caller,
    requests: Vec<pb::SubmitEnrollmentRequest>,
    prefix: Option<&str>,
    ownership: Ownership,
) -> Result<Vec<Answer>, Error> {
    let funder = caller.agency_id();
    let mut answers: Vec<Option<Answer>> = vec![None; requests.len()];
    let mut fresh: Vec<(usize, Submission)> = Vec::new();
    let mut parsed = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        match Submission::parse(request, prefix) {
            Ok(s) => parsed.push((i, s)),
            Err(error) => answers[i] = Some(Err(to_rpc_status(error))),
        }
    }

    // Resends: the original answer, whatever changed since.
    let request_ids: Vec<String> = parsed.iter().map(|(_, s)| s.request_id.clone()).collect();
    crate::idempotency::lock(conn, funder, &request_ids).await?;
    let prior: HashMap<String, store::PriorAnswer> = store::prior_answers(&mut *conn, funder, &request_ids)
        .await?
        .into_iter()
        .map(|p| (p.request_id.clone(), p))
        .collect();
    let mut replayed: Vec<(usize, Uuid)> = Vec::new();
    for (i, submission) in parsed {
        match prior.get(&submission.request_id) {
            Some(p) if p.fingerprint != submission.fingerprint => {
                let field = prefix.map_or("request_id".to_owned(), |p| format!("{p}.request_id"));
                let error = Error::invalid(field, "REQUEST_ID_REUSED", "was already used for a different submission");
                answers[i] = Some(Err(to_rpc_status(error)));
            }
            Some(store::PriorAnswer { enrollment_id: Some(id), .. }) => replayed.push((i, *id)),
            Some(store::PriorAnswer { refusal: Some(bytes), .. }) => {
                let status = tonic_types::pb::Status::decode(bytes.as_slice()).map_err(Error::internal)?;
                answers[i] = Some(Err(status));
            }
            _ => fresh.push((i, submission)),
        }
    }

    // The subsidies, locked: decisions on one subsidy are taken one transaction at a time.
    let subsidy_ids: Vec<Uuid> = fresh.iter().map(|(_, s)| s.subsidy_id).collect::<HashSet<_>>().into_iter().collect();
    let mut subsidies: HashMap<Uuid, Subsidy> = HashMap::new();
    for row in subsidy::store::lock(conn, &subsidy_ids).await? {
        let mine = row.funder_id == funder;
        if ownership == Ownership::AnyFunder || mine {
            subsidies.insert(row.id, row.into_subsidy().map_err(Error::Internal)?);
        }
    }
    let niks: Vec<String> = fresh.iter().map(|(_, s)| s.nik.as_str().to_owned()).collect();
    let facts: HashMap<String, WorkerFacts> = store::worker_facts(&mut *conn, &niks)
        .await?
        .into_iter()
        .filter_map(|f| Some((f.nik.clone(), facts_of(&f)?)))
        .collect();

    let conflicts =
        conflicts_of(conn, fresh.iter().filter_map(|(_, s)| Some((s, subsidies.get(&s.subsidy_id)?)))).await?;
    let mut load: HashMap<Uuid, (i64, Decimal)> = HashMap::new();
    for id in subsidies.keys() {
        load.insert(*id, store::load(&mut *conn, *id).await?);
    }

    let mut refused: Vec<(usize, Submission, Vec<Refusal>)> = Vec::new();
    let mut accepted: Vec<(usize, Submission, store::NewEnrollment)> = Vec::new();
    for (i, submission) in fresh {
        let Some(subsidy) = subsidies.get(&submission.subsidy_id) else {
            let field = prefix.map_or("subsidy_id".to_owned(), |p| format!("{p}.subsidy_id"));
            let error = match ownership {
                Ownership::Caller => {
                    Error::NotFound(format!("no subsidy {} of yours ({field})", submission.subsidy_id))
                }
                Ownership::AnyFunder => Error::NotFound(format!("no subsidy {} ({field})", submission.subsidy_id)),
            };
            answers[i] = Some(Err(to_rpc_status(error)));
            continue;
        };
        let worker = facts.get(submission.nik.as_str());
        let mut refusals = enrollment::check(subsidy, worker, submission.first_month);
        // Who else funds a worker is told only about workers of the subsidy's own area.
        let in_area = worker.is_some_and(|w| subsidy.area.contains(&w.domicile));
        if let Some(conflict) = conflicts.get(&(submission.nik.as_str().to_owned(), submission.first_month))
            && in_area
        {
            refusals.push(conflict.clone());
        }
        if refusals.is_empty() {
            let months = enrollment::funded_months(subsidy, submission.first_month);
            let cost = enrollment::commitment(subsidy, months).amount();
            let (places, committed) = load.get_mut(&subsidy.id).expect("every locked subsidy has its load");
            if *places >= i64::from(subsidy.quota) {
                refusals.push(Refusal::quota_exhausted(subsidy.quota));
            } else if *committed + cost > subsidy.budget_ceiling.amount() {
                refusals.push(Refusal::budget_exhausted(subsidy.budget_ceiling));
            } else {
                *places += 1;
                *committed += cost;
                let new = store::NewEnrollment {
                    id: Uuid::new_v4(),
                    subsidy_id: subsidy.id,
                    worker_nik: submission.nik.as_str().to_owned(),
                    first_month: submission.first_month.first_day(),
                    end_month: subsidy.last_month.next().first_day(),
                    request_id: submission.request_id.clone(),
                };
                accepted.push((i, submission, new));
                continue;
            }
        }
        refused.push((i, submission, refusals));
    }

    // The exclusion constraint has the last word: a row another transaction (or an earlier row of this batch)
    // got to first is not inserted, and is refused for double funding like any other.
    let new_rows: Vec<store::NewEnrollment> = accepted.iter().map(|(_, _, n)| n.clone()).collect();
    let inserted: HashSet<Uuid> = store::insert(conn, &new_rows, funder).await?.into_iter().collect();
    let (accepted, lost): (Vec<_>, Vec<_>) = accepted.into_iter().partition(|(_, _, n)| inserted.contains(&n.id));
    if !lost.is_empty() {
        let late =
            conflicts_of(conn, lost.iter().filter_map(|(_, s, _)| Some((s, subsidies.get(&s.subsidy_id)?)))).await?;
        for (i, submission, _) in lost {
            let key = (submission.nik.as_str().to_owned(), submission.first_month);
            let refusal = late.get(&key).cloned().unwrap_or_else(|| {
                Refusal::new("R1.9", "DOUBLE_FUNDING", "already funded for an overlapping month by another enrollment")
            });
            refused.push((i, submission, vec![refusal]));
        }
    }

    let mut records = Vec::with_capacity(accepted.len() + refused.len());
    for (_, submission, new) in &accepted {
        records.push(store::PriorAnswer {
            request_id: submission.request_id.clone(),
            fingerprint: submission.fingerprint.clone(),
            enrollment_id: Some(new.id),
            refusal: None,
        });
    }
    let mut refused_subjects = Vec::new();
    for (i, submission, refusals) in refused {
        let status = to_rpc_status(Error::Refused(refusals));
        records.push(store::PriorAnswer {
            request_id: submission.request_id.clone(),
            fingerprint: submission.fingerprint.clone(),
            enrollment_id: None,
            refusal: Some(status.encode_to_vec()),
        });
        refused_subjects.push(state.pseudonymizer.subject(&submission.nik));
        answers[i] = Some(Err(status));
    }
    store::record_answers(conn, funder, &records).await?;
    let accepted_subjects: Vec<_> = accepted.iter().map(|(_, s, _)| state.pseudonymizer.subject(&s.nik)).collect();
    if !accepted_subjects.is_empty() {
        audit::store::record(&mut *conn, caller.actor(), "OK", &accepted_subjects).await?;
    }
    if !refused_subjects.is_empty() {
        audit::store::record(&mut *conn, caller.actor(), "FAILED_PRECONDITION", &refused_subjects).await?;
    }

    let ids: Vec<Uuid> = accepted.iter().map(|(_, _, n)| n.id).chain(replayed.iter().map(|(_, id)| *id)).collect();
    let rows: HashMap<Uuid, store::EnrollmentRow> =
        store::get_many(&mut *conn, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    for (i, id) in accepted.iter().map(|(i, _, n)| (*i, n.id)).chain(replayed) {
        answers[i] = Some(rows.get(&id).cloned().ok_or_else(|| to_rpc_status(vanished())));
    }
    Ok(answers.into_iter().map(|a| a.unwrap_or_else(|| Err(to_rpc_status(vanished())))).collect())
}

/// The double-funding refusal of each submission that overlaps an enrollment already funding its worker.
async fn conflicts_of<'a>(
    conn: &mut PgConnection,
    submissions: impl Iterator<Item = (&'a Submission, &'a Subsidy)>,
) -> Result<HashMap<(String, Month), Refusal>, Error> {
    let (mut niks, mut from, mut to) = (Vec::new(), Vec::new(), Vec::new());
    let mut firsts = HashMap::new();
    // A first month past the subsidy's last funds nothing (and is refused by the rules), so it conflicts with nothing.
    for (submission, subsidy) in submissions.filter(|(s, subsidy)| s.first_month <= subsidy.last_month) {
        niks.push(submission.nik.as_str().to_owned());
        from.push(submission.first_month.first_day());
        to.push(subsidy.last_month.next().first_day());
        let key = (submission.nik.as_str().to_owned(), submission.first_month.first_day());
        firsts.insert(key, (submission.first_month, subsidy.funder_id));
    }
    if niks.is_empty() {
        return Ok(HashMap::new());
    }
    let found = store::funding_conflicts(&mut *conn, &niks, &from, &to).await?;
    let mut out = HashMap::new();
    for conflict in &found {
        let kind = AgencyKind::from_code(&conflict.funder_kind).unwrap_or(AgencyKind::City);
        // The conflict query answers one row per asked (NIK, first month); match it back by NIK.
        for ((nik, _), (month, funder)) in firsts.iter().filter(|((nik, _), _)| *nik == conflict.nik) {
            let refusal = if conflict.funder_id == *funder {
                Refusal::already_enrolled_by_you(conflict.enrollment_id, conflict.subsidy_id)
            } else {
                Refusal::double_funding(kind, conflict.subsidy_id)
            };
            out.insert((nik.clone(), *month), refusal);
        }
    }
    Ok(out)
}

fn facts_of(row: &store::FactsRow) -> Option<WorkerFacts> {
    Some(WorkerFacts {
        birth_date: row.birth_date,
        date_of_death: row.date_of_death,
        decile: u8::try_from(row.decile).ok()?,
        decile_as_of: Quarter::from_date(row.decile_as_of),
        domicile: RegionCode::parse(&row.domicile_village_code).ok()?,
    })
}

/// The submission a funder made under `request_id`, if any.
async fn prior_enrollment(
    conn: &mut PgConnection,
    caller: &Caller,
    request_id: &str,
) -> Result<Option<store::EnrollmentRow>, Error> {
    let prior = store::prior_answers(&mut *conn, caller.agency_id(), &[request_id.to_owned()]).await?;
    match prior.into_iter().next().and_then(|p| p.enrollment_id) {
        Some(id) => Ok(store::get(&mut *conn, id).await?),
        None => Ok(None),
    }
}

/// The caller's enrollment `id`, locked; NOT_FOUND when it is not the caller's.
async fn lock_own(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<store::EnrollmentRow, Error> {
    match store::lock(conn, id).await? {
        Some(row) if row.funder_id == caller.agency_id() => Ok(row),
        _ => Err(Error::NotFound(format!("no enrollment {id} of yours"))),
    }
}

fn parse_end(request: &pb::EndEnrollmentRequest) -> Result<(Uuid, Month, EndReason), Error> {
    let mut violations = Vec::new();
    let id = Uuid::parse_str(&request.enrollment_id)
        .map_err(|_| FieldViolation::new("enrollment_id", "ID_FORMAT", "must be an enrollment id (UUID)"));
    let month =
        Month::parse(&request.end_month).map_err(|e| FieldViolation::new("end_month", e.reason(), e.to_string()));
    let reason = match pb::EndReason::try_from(request.reason) {
        Ok(pb::EndReason::FundingStopped) => Ok(EndReason::FundingStopped),
        Ok(pb::EndReason::MovedAway) => Ok(EndReason::MovedAway),
        Ok(pb::EndReason::Died) => Ok(EndReason::Died),
        Ok(pb::EndReason::Other) => Ok(EndReason::Other),
        Ok(pb::EndReason::HandedOver) => Err(FieldViolation::new(
            "reason",
            "END_REASON_RESERVED",
            "END_REASON_HANDED_OVER is set by HandOverEnrollment",
        )),
        _ => Err(FieldViolation::new("reason", "REQUIRED", "is required")),
    };
    violations.extend(id.as_ref().err().cloned());
    violations.extend(month.as_ref().err().cloned());
    violations.extend(reason.as_ref().err().cloned());
    match (id, month, reason) {
        (Ok(id), Ok(month), Ok(reason)) => Ok((id, month, reason)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// Ends a locked enrollment from `end_month`, if the life cycle allows.
async fn end_locked(
    conn: &mut PgConnection,
    row: &store::EnrollmentRow,
    end_month: Month,
    reason: EndReason,
) -> Result<(), Error> {
    let status =
        enrollment::Status::from_code(&row.status).ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status")))?;
    if !status.can_become(enrollment::Status::Ended) {
        return Err(Error::Refused(vec![Refusal::new(
            "R6.1",
            "ENROLLMENT_NOT_OPEN",
            format!("the enrollment is {}; only a pending or active one can end", row.status),
        )]));
    }
    store::end(conn, row.id, end_month.first_day(), reason.as_str()).await?;
    Ok(())
}

/// One decision of the insurer, validated.
#[derive(Debug, Clone)]
enum Decision {
    Confirm { id: Uuid, number: ParticipantNumber, start: chrono::NaiveDate },
    Refuse { id: Uuid, reason: InsurerRefusal, detail: Option<String> },
}

impl Decision {
    fn id(&self) -> Uuid {
        match self {
            Decision::Confirm { id, .. } | Decision::Refuse { id, .. } => *id,
        }
    }

    fn parse(request: pb::DecideEnrollmentsRequest) -> Result<Decision, Error> {
        use pb::decide_enrollments_request::Decision as Wire;
        match request.decision {
            Some(Wire::Confirm(c)) => Decision::parse_confirm(&c, "confirm."),
            Some(Wire::Refuse(r)) => Decision::parse_refuse(&r, "refuse."),
            None => Err(Error::invalid("decision", "REQUIRED", "is required: confirm or refuse")),
        }
    }

    fn parse_confirm(request: &pb::ConfirmEnrollmentRequest, prefix: &str) -> Result<Decision, Error> {
        let id = Uuid::parse_str(&request.enrollment_id).map_err(|_| {
            FieldViolation::new(format!("{prefix}enrollment_id"), "ID_FORMAT", "must be an enrollment id (UUID)")
        });
        let number = ParticipantNumber::parse(&request.participant_number)
            .map_err(|e| FieldViolation::new(format!("{prefix}participant_number"), e.reason(), e.to_string()));
        let start = crate::date::field(&format!("{prefix}protection_start"), &request.protection_start);
        match (id, number, start) {
            (Ok(id), Ok(number), Ok(start)) => Ok(Decision::Confirm { id, number, start }),
            (id, number, start) => {
                Err(Error::InvalidArgument([id.err(), number.err(), start.err()].into_iter().flatten().collect()))
            }
        }
    }

    fn parse_refuse(request: &pb::RefuseEnrollmentRequest, prefix: &str) -> Result<Decision, Error> {
        let mut violations = Vec::new();
        let id = Uuid::parse_str(&request.enrollment_id).map_err(|_| {
            FieldViolation::new(format!("{prefix}enrollment_id"), "ID_FORMAT", "must be an enrollment id (UUID)")
        });
        let reason = match pb::InsurerRefusal::try_from(request.reason) {
            Ok(pb::InsurerRefusal::AlreadyActiveElsewhere) => Ok(InsurerRefusal::AlreadyActiveElsewhere),
            Ok(pb::InsurerRefusal::DeceasedPerCivilRegistry) => Ok(InsurerRefusal::DeceasedPerCivilRegistry),
            Ok(pb::InsurerRefusal::NikNotFound) => Ok(InsurerRefusal::NikNotFound),
            Ok(pb::InsurerRefusal::Age) => Ok(InsurerRefusal::Age),
            Ok(pb::InsurerRefusal::Other) => Ok(InsurerRefusal::Other),
            _ => Err(FieldViolation::new(format!("{prefix}reason"), "REQUIRED", "is required")),
        };
        let detail = request.detail.trim();
        if detail.chars().count() > 500 {
            violations.push(FieldViolation::new(
                format!("{prefix}detail"),
                "DETAIL_LENGTH",
                "must be at most 500 characters",
            ));
        }
        if matches!(reason, Ok(InsurerRefusal::Other)) && detail.is_empty() {
            violations.push(FieldViolation::new(
                format!("{prefix}detail"),
                "REQUIRED",
                "is required when the reason is INSURER_REFUSAL_OTHER",
            ));
        }
        violations.extend(id.as_ref().err().cloned());
        violations.extend(reason.as_ref().err().cloned());
        match (id, reason) {
            (Ok(id), Ok(reason)) if violations.is_empty() => {
                Ok(Decision::Refuse { id, reason, detail: (!detail.is_empty()).then(|| detail.to_owned()) })
            }
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

/// Takes a batch of the insurer's decisions in one transaction, set-based: the enrollments are locked at once,
/// each decision is judged in order against the state the earlier ones left, and the accepted ones are written with
/// one statement per kind. Answers one result per decision, in order; a refused decision leaves the others standing.
async fn decide_batch(
    state: &AppState,
    caller: &Caller,
    decisions: Vec<Result<Decision, Error>>,
) -> Result<Vec<Result<store::EnrollmentRow, Error>>, Error> {
    let mut tx = state.pool.begin().await?;
    let ids: Vec<Uuid> = decisions.iter().filter_map(|d| d.as_ref().ok()).map(Decision::id).collect();
    let mut rows: HashMap<Uuid, store::EnrollmentRow> =
        store::lock_many(&mut tx, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    // Who holds which participant number: the workers decided on, and the holders of the numbers given.
    let niks: Vec<String> = rows.values().map(|r| r.worker_nik.clone()).collect();
    let numbers: Vec<String> = decisions
        .iter()
        .filter_map(|d| match d {
            Ok(Decision::Confirm { number, .. }) => Some(number.as_str().to_owned()),
            _ => None,
        })
        .collect();
    let mut number_of: HashMap<String, Option<String>> = HashMap::new();
    let mut holder_of: HashMap<String, String> = HashMap::new();
    for (nik, number) in store::participant_numbers(&mut *tx, &niks, &numbers).await? {
        if let Some(number) = &number {
            holder_of.insert(number.clone(), nik.clone());
        }
        number_of.insert(nik, number);
    }

    let mut confirms: Vec<(Uuid, String, String, chrono::NaiveDate)> = Vec::new();
    let mut refusals: Vec<(Uuid, &'static str, Option<String>)> = Vec::new();
    let mut decided: Vec<Result<Uuid, Error>> = Vec::with_capacity(decisions.len());
    for decision in decisions {
        let decision = match decision {
            Ok(d) => d,
            Err(e) => {
                decided.push(Err(e));
                continue;
            }
        };
        let Some(row) = rows.get_mut(&decision.id()) else {
            decided.push(Err(Error::NotFound(format!("no enrollment {}", decision.id()))));
            continue;
        };
        let pending = row.status == enrollment::Status::Pending.as_str();
        let not_pending = |verb: &str| {
            Error::Refused(vec![Refusal::new(
                "R6.1",
                "ENROLLMENT_NOT_PENDING",
                format!("the enrollment is {}; only a pending one can be {verb}", row.status),
            )])
        };
        let outcome = match &decision {
            Decision::Confirm { number, start, .. } => {
                let same =
                    row.participant_number.as_deref() == Some(number.as_str()) && row.protection_start == Some(*start);
                let holder = holder_of.get(number.as_str());
                let current = number_of.get(&row.worker_nik).cloned().flatten();
                if row.status == enrollment::Status::Active.as_str() && same {
                    Ok(()) // a resent confirmation
                } else if !pending {
                    Err(not_pending("confirmed"))
                } else if *start < row.first_month {
                    Err(Error::Refused(vec![Refusal::new(
                        "R6.1",
                        "PROTECTION_BEFORE_FUNDING",
                        format!("protection cannot start before the first funded month {}", Month::of(row.first_month)),
                    )]))
                } else if holder.is_some_and(|nik| *nik != row.worker_nik)
                    || current.as_deref().is_some_and(|n| n != number.as_str())
                {
                    Err(Error::Refused(vec![Refusal::new(
                        "R5.5",
                        "PARTICIPANT_NUMBER_CONFLICT",
                        "the participant number belongs to another worker, or this worker already has a different one",
                    )]))
                } else {
                    holder_of.insert(number.as_str().to_owned(), row.worker_nik.clone());
                    number_of.insert(row.worker_nik.clone(), Some(number.as_str().to_owned()));
                    confirms.push((row.id, row.worker_nik.clone(), number.as_str().to_owned(), *start));
                    row.status = enrollment::Status::Active.as_str().to_owned();
                    row.participant_number = Some(number.as_str().to_owned());
                    row.protection_start = Some(*start);
                    Ok(())
                }
            }
            Decision::Refuse { reason, detail, .. } => {
                if row.status == enrollment::Status::Rejected.as_str()
                    && row.rejection_reason.as_deref() == Some(reason.as_str())
                {
                    Ok(()) // a resent refusal
                } else if !pending {
                    Err(not_pending("refused"))
                } else {
                    refusals.push((row.id, reason.as_str(), detail.clone()));
                    row.status = enrollment::Status::Rejected.as_str().to_owned();
                    row.rejection_reason = Some(reason.as_str().to_owned());
                    Ok(())
                }
            }
        };
        decided.push(outcome.map(|()| row.id));
    }

    store::confirm_many(&mut tx, &confirms).await?;
    store::refuse_many(&mut tx, &refusals).await?;
    let touched = confirms
        .iter()
        .map(|c| c.1.as_str())
        .chain(refusals.iter().filter_map(|r| rows.get(&r.0)).map(|r| r.worker_nik.as_str()));
    let subjects = subjects(state, touched);
    if !subjects.is_empty() {
        audit::store::record(&mut *tx, caller.actor(), "OK", &subjects).await?;
    }
    let written: Vec<Uuid> = decided.iter().filter_map(|d| d.as_ref().ok().copied()).collect();
    let fresh: HashMap<Uuid, store::EnrollmentRow> =
        store::get_many(&mut *tx, &written).await?.into_iter().map(|r| (r.id, r)).collect();
    tx.commit().await?;
    Ok(decided.into_iter().map(|d| d.and_then(|id| fresh.get(&id).cloned().ok_or_else(vanished))).collect())
}

/// One decision taken alone, for the unary RPCs.
async fn decide_one(
    state: &AppState,
    caller: &Caller,
    decision: Result<Decision, Error>,
) -> Result<store::EnrollmentRow, Error> {
    decide_batch(state, caller, vec![decision]).await?.pop().unwrap_or_else(|| Err(vanished()))
}

fn parse_filter(request: &pb::ListEnrollmentsRequest) -> Result<store::Filter, Error> {
    let mut violations = Vec::new();
    let mut filter = store::Filter::default();
    if !request.subsidy_id.is_empty() {
        match Uuid::parse_str(&request.subsidy_id) {
            Ok(id) => filter.subsidy = Some(id),
            Err(_) => violations.push(FieldViolation::new("subsidy_id", "ID_FORMAT", "must be a subsidy id (UUID)")),
        }
    }
    filter.status = match pb::EnrollmentStatus::try_from(request.status) {
        Ok(pb::EnrollmentStatus::Unspecified) => None,
        Ok(pb::EnrollmentStatus::Pending) => Some("pending".to_owned()),
        Ok(pb::EnrollmentStatus::Active) => Some("active".to_owned()),
        Ok(pb::EnrollmentStatus::Rejected) => Some("rejected".to_owned()),
        Ok(pb::EnrollmentStatus::Ended) => Some("ended".to_owned()),
        // Resolved against the ledgers in `list_page`.
        Ok(pb::EnrollmentStatus::Lapsed) => Some(LAPSED.to_owned()),
        Err(_) => {
            violations.push(FieldViolation::new("status", "ENUM_UNKNOWN", "is not an EnrollmentStatus"));
            None
        }
    };
    if !request.month.is_empty() {
        match Month::parse(&request.month) {
            Ok(month) => filter.month = Some(month.first_day()),
            Err(e) => violations.push(FieldViolation::new("month", e.reason(), e.to_string())),
        }
    }
    if !request.area_code.is_empty() {
        match RegionCode::parse(&request.area_code) {
            Ok(area) => filter.area_pattern = Some(area.village_pattern()),
            Err(e) => violations.push(FieldViolation::new("area_code", e.reason(), e.to_string())),
        }
    }
    if violations.is_empty() { Ok(filter) } else { Err(Error::InvalidArgument(violations)) }
}

/// One page of the enrollments the caller may see.
async fn list_page(
    state: &AppState,
    caller: &Caller,
    filter: &store::Filter,
    page: &pb::PageRequest,
) -> Result<(Vec<pb::Enrollment>, String), Error> {
    let mut filter = filter.clone();
    if caller.scope != Scope::All {
        filter.funder = Some(caller.agency_id());
    }
    let after = paging::after_time(PAGE_TAG, page)?;
    let limit = paging::limit(page);
    // LAPSED is not stored: it is an active enrollment of a subsidy whose ledger is lapsed now.
    if let Some(status @ ("active" | LAPSED)) = filter.status.as_deref() {
        let lapsed: Vec<Uuid> =
            lapses(state, &store::subsidies_of(&state.pool, &filter).await?).await?.into_keys().collect();
        if status == LAPSED {
            filter.subsidies_in = Some(lapsed);
        } else {
            filter.subsidies_not_in = lapsed;
        }
        filter.status = Some("active".to_owned());
    }
    let mut rows = store::list(&state.pool, &filter, after, limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| paging::time_token(PAGE_TAG, r.created_at, r.id)).unwrap_or_default()
    } else {
        String::new()
    };
    let subjects = subjects(state, rows.iter().map(|r| r.worker_nik.as_str()));
    audit::store::record(&state.pool, caller.actor(), "OK", &subjects).await?;
    let mut subsidies: Vec<Uuid> = rows.iter().filter(|r| r.status == "active").map(|r| r.subsidy_id).collect();
    subsidies.sort_unstable();
    subsidies.dedup();
    let lapses = lapses(state, &subsidies).await?;
    Ok((rows.iter().map(|row| with_lapse(to_proto(row), &lapses)).collect(), next))
}

/// The filter value standing for the derived LAPSED status.
const LAPSED: &str = "lapsed";

/// The subsidies among `subsidies` whose membership is lapsed today, with the date it lapsed.
async fn lapses(state: &AppState, subsidies: &[Uuid]) -> Result<HashMap<Uuid, NaiveDate>, Error> {
    if subsidies.is_empty() {
        return Ok(HashMap::new());
    }
    let mut conn = state.pool.acquire().await?;
    let ledgers = coverage::store::ledgers(&mut conn, subsidies, today()).await.map_err(Error::Internal)?;
    Ok(ledgers.into_iter().filter_map(|(id, ledger)| Some((id, ledger.lapsed_on()?))).collect())
}

/// Shows an active enrollment of a lapsed subsidy as LAPSED.
fn with_lapse(mut enrollment: pb::Enrollment, lapses: &HashMap<Uuid, NaiveDate>) -> pb::Enrollment {
    let lapsed = Uuid::parse_str(&enrollment.subsidy_id).ok().and_then(|id| lapses.get(&id));
    if let Some(on) = lapsed
        && enrollment.status == pb::EnrollmentStatus::Active as i32
    {
        enrollment.status = pb::EnrollmentStatus::Lapsed as i32;
        enrollment.lapsed_on = on.to_string();
    }
    enrollment
}

fn subjects<'a>(state: &AppState, niks: impl IntoIterator<Item = &'a str>) -> Vec<audit::Subject> {
    niks.into_iter().filter_map(|n| Nik::parse(n).ok()).map(|nik| state.pseudonymizer.subject(&nik)).collect()
}

fn vanished() -> Error {
    Error::internal(anyhow::anyhow!("an enrollment vanished inside its own transaction"))
}

/// A stored `google.rpc.Status` as the status of a unary call.
fn from_rpc_status(status: tonic_types::pb::Status) -> Status {
    let code = tonic::Code::from(status.code);
    let message = status.message.clone();
    Status::with_details(code, message, status.encode_to_vec().into())
}

pub fn to_proto(row: &store::EnrollmentRow) -> pb::Enrollment {
    let status = match enrollment::Status::from_code(&row.status) {
        Some(enrollment::Status::Pending) => pb::EnrollmentStatus::Pending,
        Some(enrollment::Status::Active) => pb::EnrollmentStatus::Active,
        Some(enrollment::Status::Rejected) => pb::EnrollmentStatus::Rejected,
        Some(enrollment::Status::Ended) => pb::EnrollmentStatus::Ended,
        None => pb::EnrollmentStatus::Unspecified,
    };
    let rejection = match row.rejection_reason.as_deref().and_then(InsurerRefusal::from_code) {
        Some(InsurerRefusal::AlreadyActiveElsewhere) => pb::InsurerRefusal::AlreadyActiveElsewhere,
        Some(InsurerRefusal::DeceasedPerCivilRegistry) => pb::InsurerRefusal::DeceasedPerCivilRegistry,
        Some(InsurerRefusal::NikNotFound) => pb::InsurerRefusal::NikNotFound,
        Some(InsurerRefusal::Age) => pb::InsurerRefusal::Age,
        Some(InsurerRefusal::Other) => pb::InsurerRefusal::Other,
        None => pb::InsurerRefusal::Unspecified,
    };
    let end_reason = match row.end_reason.as_deref().and_then(EndReason::from_code) {
        Some(EndReason::FundingStopped) => pb::EndReason::FundingStopped,
        Some(EndReason::MovedAway) => pb::EndReason::MovedAway,
        Some(EndReason::Died) => pb::EndReason::Died,
        Some(EndReason::HandedOver) => pb::EndReason::HandedOver,
        Some(EndReason::Other) => pb::EndReason::Other,
        None => pb::EndReason::Unspecified,
    };
    let kind = match AgencyKind::from_code(&row.funder_kind) {
        Some(AgencyKind::City) => pb::AgencyKind::City,
        Some(AgencyKind::Province) => pb::AgencyKind::Province,
        Some(AgencyKind::Insurer) => pb::AgencyKind::Insurer,
        None => pb::AgencyKind::Unspecified,
    };
    let timestamp = |at: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    };
    pb::Enrollment {
        id: row.id.to_string(),
        subsidy_id: row.subsidy_id.to_string(),
        funder_kind: kind as i32,
        worker_nik: row.worker_nik.clone(),
        first_month: Month::of(row.first_month).to_string(),
        end_month: row
            .end_month
            .map(|d| Month::of(d).to_string())
            .unwrap_or_else(|| Month::of(row.first_month).to_string()),
        status: status as i32,
        participant_number: row.participant_number.clone().unwrap_or_default(),
        protection_start: row.protection_start.map(|d| d.to_string()).unwrap_or_default(),
        rejection_reason: rejection as i32,
        rejection_detail: row.rejection_detail.clone().unwrap_or_default(),
        end_reason: end_reason as i32,
        request_id: row.request_id.clone(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        lapsed_on: String::new(),
    }
}
