//! `lindung.v1.CoverageService`.

use std::collections::HashMap;

use chrono::NaiveDate;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use super::{Funding, NotCovered, store, verify};
use crate::{
    agency::AgencyKind,
    audit,
    auth::{Caller, Rpc},
    batch::{ResponseStream, answer_in_batches},
    clock::today,
    enrollment::ParticipantNumber,
    error::{Error, FieldViolation},
    month::Month,
    proto::convert::rupiah,
    proto::v1 as pb,
    state::AppState,
    worker::Nik,
};

/// Contribution months from which heirs may claim scholarships (R2.3).
const SCHOLARSHIP_FROM: u32 = 36;

#[derive(Debug, Clone)]
pub struct CoverageGrpc {
    state: AppState,
}

impl CoverageGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::coverage_service_server::CoverageService for CoverageGrpc {
    async fn verify_coverage(
        &self,
        request: Request<pb::VerifyCoverageRequest>,
    ) -> Result<Response<pb::VerifyCoverageResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::VerifyCoverage).await?;
        let result = check(&self.state, &caller, request.into_inner()).await;
        self.state.finish(&caller, result).await
    }

    type VerifyCoverageStreamStream = ResponseStream<pb::VerifyCoverageResponse>;

    async fn verify_coverage_stream(
        &self,
        request: Request<Streaming<pb::VerifyCoverageRequest>>,
    ) -> Result<Response<Self::VerifyCoverageStreamStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::VerifyCoverageStream).await?;
        let state = self.state.clone();
        let responses = answer_in_batches(request.into_inner(), move |_, rows: Vec<pb::VerifyCoverageRequest>| {
            let (state, caller) = (state.clone(), caller.clone());
            async move { check_batch(&state, &caller, rows).await }
        });
        Ok(Response::new(responses))
    }
}

/// A validated coverage question.
struct Question {
    nik: Option<Nik>,
    participant_number: Option<ParticipantNumber>,
    date: NaiveDate,
    programme: pb::Programme,
}

impl Question {
    fn parse(request: &pb::VerifyCoverageRequest) -> Result<Question, Error> {
        let mut violations = Vec::new();
        let nik = (!request.nik.is_empty()).then(|| Nik::parse(&request.nik));
        let number =
            (!request.participant_number.is_empty()).then(|| ParticipantNumber::parse(&request.participant_number));
        match (&nik, &number) {
            (None, None) | (Some(_), Some(_)) => violations.push(FieldViolation::new(
                "nik",
                "IDENTIFIER_REQUIRED",
                "give exactly one of nik and participant_number",
            )),
            _ => {}
        }
        if let Some(Err(e)) = &nik {
            violations.push(FieldViolation::new("nik", e.reason(), e.to_string()));
        }
        if let Some(Err(e)) = &number {
            violations.push(FieldViolation::new("participant_number", e.reason(), e.to_string()));
        }
        let date = crate::date::field("date", &request.date);
        if let Err(violation) = &date {
            violations.push(violation.clone());
        }
        let programme = match pb::Programme::try_from(request.programme) {
            Ok(p @ (pb::Programme::Jkk | pb::Programme::Jkm)) => Some(p),
            _ => {
                violations.push(FieldViolation::new(
                    "programme",
                    "REQUIRED",
                    "is required: PROGRAMME_JKK or PROGRAMME_JKM",
                ));
                None
            }
        };
        match (date, programme) {
            (Ok(date), Some(programme)) if violations.is_empty() => Ok(Question {
                nik: nik.and_then(Result::ok),
                participant_number: number.and_then(Result::ok),
                date,
                programme,
            }),
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

/// Answers a batch of the stream with a few statements whatever its size: the workers, their fundings and their
/// subsidies' ledgers are read once per batch, and one audit statement records every person looked up. A row that
/// is not a valid question is answered with its error; the stream goes on.
async fn check_batch(
    state: &AppState,
    caller: &Caller,
    rows: Vec<pb::VerifyCoverageRequest>,
) -> Result<Vec<pb::VerifyCoverageResponse>, Error> {
    let questions: Vec<Result<Question, Error>> = rows.iter().map(Question::parse).collect();
    let niks: Vec<String> =
        questions.iter().flatten().filter_map(|q| q.nik.as_ref()).map(|n| n.as_str().to_owned()).collect();
    let numbers: Vec<String> = questions
        .iter()
        .flatten()
        .filter_map(|q| q.participant_number.as_ref())
        .map(|n| n.as_str().to_owned())
        .collect();
    let mut conn = state.pool.acquire().await?;
    let workers = store::workers(&mut *conn, &niks, &numbers).await?;
    let by_nik: HashMap<&str, &store::WorkerRow> = workers.iter().map(|w| (w.nik.as_str(), w)).collect();
    let by_number: HashMap<&str, &store::WorkerRow> =
        workers.iter().filter_map(|w| Some((w.participant_number.as_deref()?, w))).collect();
    let all_niks: Vec<String> = workers.iter().map(|w| w.nik.clone()).collect();
    let fundings: HashMap<String, Vec<Funding>> = store::fundings(&mut *conn, &all_niks)
        .await?
        .into_iter()
        .map(|(nik, rows)| (nik, rows.iter().filter_map(super::service::funding_of).collect()))
        .collect();
    let mut subsidies: Vec<Uuid> = fundings.values().flatten().map(|f| f.subsidy_id).collect();
    subsidies.sort_unstable();
    subsidies.dedup();
    let ledgers = store::ledgers(&mut conn, &subsidies, today()).await.map_err(Error::Internal)?;
    let mut subjects = Vec::new();
    let answers = rows
        .into_iter()
        .zip(questions)
        .map(|(row, question)| {
            let question = match question {
                Ok(question) => question,
                Err(error) => {
                    return pb::VerifyCoverageResponse {
                        client_ref: row.client_ref,
                        error: error.to_string(),
                        ..Default::default()
                    };
                }
            };
            let worker = match (&question.nik, &question.participant_number) {
                (Some(nik), _) => by_nik.get(nik.as_str()),
                (None, Some(number)) => by_number.get(number.as_str()),
                (None, None) => None,
            };
            let Some(worker) = worker else {
                return answer(row.client_ref, Err(NotCovered::NotEnrolled), None);
            };
            let none = Vec::new();
            let fundings = fundings.get(&worker.nik).unwrap_or(&none);
            let verdict = verify(fundings, &|id| ledgers.get(&id).cloned(), worker.date_of_death, question.date);
            let entitled =
                caller.agency.kind == AgencyKind::Insurer || fundings.iter().any(|f| f.funder_id == caller.agency_id());
            subjects.extend(Nik::parse(&worker.nik).ok().map(|n| state.pseudonymizer.subject(&n)));
            answer(row.client_ref, verdict, entitled.then_some(question.programme))
        })
        .collect();
    audit::store::record(&mut *conn, caller.actor(), "OK", &subjects).await?;
    Ok(answers)
}

/// Answers one coverage question, as a batch of one: an invalid question is the call's INVALID_ARGUMENT.
async fn check(
    state: &AppState,
    caller: &Caller,
    request: pb::VerifyCoverageRequest,
) -> Result<pb::VerifyCoverageResponse, Error> {
    Question::parse(&request)?;
    let answer = check_batch(state, caller, vec![request]).await?.pop();
    answer.ok_or_else(|| Error::internal(anyhow::anyhow!("a batch of one answered nothing")))
}

fn answer(
    client_ref: String,
    verdict: Result<super::Covered, NotCovered>,
    details_for: Option<pb::Programme>,
) -> pb::VerifyCoverageResponse {
    match verdict {
        Ok(covered) => pb::VerifyCoverageResponse {
            covered: true,
            reason: pb::CoverageReason::Covered as i32,
            client_ref,
            details: details_for.map(|programme| pb::CoverageDetails {
                funder_kind: match covered.funder_kind {
                    AgencyKind::City => pb::AgencyKind::City,
                    AgencyKind::Province => pb::AgencyKind::Province,
                    AgencyKind::Insurer => pb::AgencyKind::Insurer,
                } as i32,
                subsidy_id: covered.subsidy_id.to_string(),
                protection_start: covered.protection_start.to_string(),
                paid_through: covered.paid_through.to_string(),
                contribution_months: covered.contribution_months,
                death_benefit: (programme == pb::Programme::Jkm).then(|| rupiah(covered.death_benefit)),
                scholarship_eligible: covered.contribution_months >= SCHOLARSHIP_FROM,
            }),
            error: String::new(),
        },
        Err(reason) => pb::VerifyCoverageResponse {
            covered: false,
            reason: reason_to_proto(reason) as i32,
            client_ref,
            details: None,
            error: String::new(),
        },
    }
}

pub fn reason_to_proto(reason: NotCovered) -> pb::CoverageReason {
    match reason {
        NotCovered::NotEnrolled => pb::CoverageReason::NotEnrolled,
        NotCovered::PendingRegistration => pb::CoverageReason::PendingRegistration,
        NotCovered::MonthUnpaid => pb::CoverageReason::MonthUnpaid,
        NotCovered::InArrearsWindow => pb::CoverageReason::InArrearsWindow,
        NotCovered::Lapsed => pb::CoverageReason::Lapsed,
        NotCovered::Ended => pb::CoverageReason::Ended,
        NotCovered::Deceased => pb::CoverageReason::Deceased,
    }
}

/// The arrears of a subsidy's ledger, for `GetArrears`; `months` limits them to one worker's billed months.
pub fn arrears(ledger: &super::Ledger, on: NaiveDate, months: Option<&[Month]>) -> pb::GetArrearsResponse {
    let unpaid: Vec<Month> =
        ledger.unpaid_run(on).into_iter().filter(|m| months.is_none_or(|only| only.contains(m))).collect();
    pb::GetArrearsResponse {
        warning: unpaid.len() >= super::WARN_AT,
        unpaid_months: unpaid.iter().map(Month::to_string).collect(),
        lapses: ledger
            .lapses
            .iter()
            .map(|(on, month)| pb::Lapse { lapsed_on: on.to_string(), month: month.to_string() })
            .collect(),
    }
}
