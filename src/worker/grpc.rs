//! `lindung.v1.WorkerService`: protobuf <-> domain conversion and the handlers.

use std::collections::HashSet;

use chrono::NaiveDate;
use tonic::{Request, Response, Status, Streaming};

use super::{Flag, Occupation, Sex, Worker, WorkerInput, store};
use crate::{
    area::{self, AreaLevel, RegionCode},
    audit,
    auth::{Caller, Rpc, Scope},
    batch::{ResponseStream, answer_in_batches},
    clock::today,
    error::{Error, FieldViolation, to_rpc_status},
    money::Rupiah,
    month::Month,
    paging,
    proto::v1 as pb,
    state::AppState,
};

/// The tag of ListWorkers page tokens, whose key is the last NIK of a page.
const PAGE_TAG: &str = "w1";

#[derive(Debug, Clone)]
pub struct WorkerGrpc {
    state: AppState,
}

impl WorkerGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::worker_service_server::WorkerService for WorkerGrpc {
    async fn upsert_worker(
        &self,
        request: Request<pb::UpsertWorkerRequest>,
    ) -> Result<Response<pb::UpsertWorkerResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::UpsertWorker).await?;
        let input = request.into_inner().worker.unwrap_or_default();
        let result = async {
            let mut results = upsert_batch(&self.state, &caller, today(), vec![input.clone()], "worker").await?;
            match results.pop() {
                Some(RowResult::Stored { outcome, flags }) => {
                    let stored = store::get(&self.state.pool, &input.nik)
                        .await?
                        .ok_or_else(|| Error::internal(anyhow::anyhow!("worker vanished right after its upsert")))?;
                    let _ = flags;
                    Ok(pb::UpsertWorkerResponse {
                        outcome: outcome_to_proto(outcome) as i32,
                        worker: Some(to_proto(stored)),
                    })
                }
                Some(RowResult::Refused(error)) => Err(error),
                None => Err(Error::internal(anyhow::anyhow!("a batch of one answered nothing"))),
            }
        }
        .await;
        self.state.finish(&caller, result).await
    }

    type UpsertWorkersStream = ResponseStream<pb::UpsertWorkersResponse>;

    async fn upsert_workers(
        &self,
        request: Request<Streaming<pb::UpsertWorkersRequest>>,
    ) -> Result<Response<Self::UpsertWorkersStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::UpsertWorkers).await?;
        let state = self.state.clone();
        let responses = answer_in_batches(request.into_inner(), move |first, rows: Vec<pb::UpsertWorkersRequest>| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                let refs: Vec<String> = rows.iter().map(|r| r.client_ref.clone()).collect();
                let workers: Vec<pb::Worker> = rows.into_iter().map(|r| r.worker.unwrap_or_default()).collect();
                let results = upsert_batch(&state, &caller, today(), workers, "worker").await?;
                Ok(results
                    .into_iter()
                    .zip(refs)
                    .zip(first..)
                    .map(|((result, client_ref), index)| row_response(index, client_ref, result))
                    .collect())
            }
        });
        Ok(Response::new(responses))
    }

    async fn get_worker(
        &self,
        request: Request<pb::GetWorkerRequest>,
    ) -> Result<Response<pb::GetWorkerResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetWorker).await?;
        let nik = request.into_inner().nik;
        let result = async {
            let nik = super::Nik::parse(&nik).map_err(|e| Error::invalid("nik", e.reason(), e.to_string()))?;
            let visible = match store::get(&self.state.pool, nik.as_str()).await? {
                Some(w) if covers_village(&caller, &w.domicile_village_code) => w,
                // A worker outside the caller's view is answered as absent: existence is personal data too.
                _ => return Err(Error::NotFound("no worker with this NIK in your view".to_owned())),
            };
            let subject = self.state.pseudonymizer.subject(&nik);
            audit::store::record(&self.state.pool, caller.actor(), "OK", &[subject]).await?;
            Ok(pb::GetWorkerResponse { worker: Some(to_proto(visible)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn report_death(
        &self,
        request: Request<pb::ReportDeathRequest>,
    ) -> Result<Response<pb::ReportDeathResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ReportDeath).await?;
        let request = request.into_inner();
        let result = async {
            let (nik, died, certificate) = parse_death(&request)?;
            let mut tx = self.state.pool.begin().await?;
            let worker = store::get(&mut *tx, nik.as_str()).await?;
            let visible = match &worker {
                Some(_) if caller.scope == Scope::All => true,
                Some(_) => store::funded_by(&mut *tx, nik.as_str(), caller.agency_id()).await?,
                None => false,
            };
            let worker = match worker {
                Some(worker) if visible => worker,
                _ => return Err(Error::NotFound("no worker with this NIK among the workers you fund".to_owned())),
            };
            if died < worker.birth_date {
                return Err(Error::invalid("date_of_death", "DEATH_BEFORE_BIRTH", "must not be before the birth date"));
            }
            let super::service::Death { recorded, now, changed, refunds } =
                super::service::record_death(&mut tx, nik.as_str(), died, &certificate, caller.agency_id()).await?;
            let subject = self.state.pseudonymizer.subject(&nik);
            audit::store::record(&mut *tx, caller.actor(), "OK", &[subject]).await?;
            tx.commit().await?;
            let shown = refunds
                .into_iter()
                .filter(|refund| caller.scope == Scope::All || refund.funder_id == caller.agency_id())
                .map(|refund| {
                    let amount = Rupiah::new(refund.amount)
                        .map_err(|e| Error::internal(anyhow::anyhow!("refund of {}: {e}", refund.amount)))?;
                    Ok(pb::Refund {
                        subsidy_id: refund.subsidy_id.to_string(),
                        month: Month::of(refund.month).to_string(),
                        amount: Some(crate::proto::convert::rupiah(amount)),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            Ok(pb::ReportDeathResponse {
                date_of_death: recorded.date_of_death.to_string(),
                certificate_number: recorded.certificate_number,
                recorded_now: now,
                // Each caller learns only of its own enrollments (the insurer of all).
                changed_enrollment_ids: changed
                    .iter()
                    .filter(|e| caller.scope == Scope::All || e.funder_id == caller.agency_id())
                    .map(|e| e.id.to_string())
                    .collect(),
                refunds: shown,
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_workers(
        &self,
        request: Request<pb::ListWorkersRequest>,
    ) -> Result<Response<pb::ListWorkersResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListWorkers).await?;
        let request = request.into_inner();
        let result = async {
            let query = ListQuery::parse(&caller, &request)?;
            let mut rows =
                store::list(&self.state.pool, &query.area_pattern, query.max_decile, &query.after_nik, query.limit + 1)
                    .await?;
            let next_page_token = if rows.len() as i64 > query.limit {
                rows.truncate(query.limit as usize);
                rows.last().map(|w| paging::token(PAGE_TAG, &w.nik)).unwrap_or_default()
            } else {
                String::new()
            };
            let subjects: Vec<_> = rows
                .iter()
                .filter_map(|w| super::Nik::parse(&w.nik).ok())
                .map(|nik| self.state.pseudonymizer.subject(&nik))
                .collect();
            audit::store::record(&self.state.pool, caller.actor(), "OK", &subjects).await?;
            Ok(pb::ListWorkersResponse { workers: rows.into_iter().map(to_proto).collect(), next_page_token })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

/// What became of one row of an upsert.
#[derive(Debug)]
enum RowResult {
    Stored { outcome: store::Outcome, flags: Vec<Flag> },
    Refused(Error),
}

/// Validates and stores a batch of workers in one transaction, answering one result per input, in order.
/// Only a failure of the store itself fails the whole batch.
async fn upsert_batch(
    state: &AppState,
    caller: &Caller,
    today: NaiveDate,
    inputs: Vec<pb::Worker>,
    field_prefix: &str,
) -> Result<Vec<RowResult>, Error> {
    let village_codes: Vec<String> = inputs.iter().map(|w| w.domicile_village_code.clone()).collect();
    let parsed: Vec<Result<Worker, Vec<FieldViolation>>> =
        inputs.into_iter().map(|w| Worker::parse(from_proto(w), today)).collect();

    let mut tx = state.pool.begin().await?;
    // R5.4: an unknown domicile village is an error, an unknown NIK district only a warning.
    let shaped: Vec<&str> = village_codes
        .iter()
        .filter(|c| RegionCode::parse_at(c, AreaLevel::Village).is_ok())
        .map(String::as_str)
        .collect();
    let known_villages = area::store::known_villages(&mut *tx, &shaped).await?;
    let districts: Vec<String> =
        parsed.iter().filter_map(|p| p.as_ref().ok()).map(|w| w.nik.district_code().as_str().to_owned()).collect();
    let district_refs: Vec<&str> = districts.iter().map(String::as_str).collect();
    let known_districts = area::store::known_districts(&mut *tx, &district_refs).await?;

    let mut results: Vec<Option<RowResult>> = Vec::with_capacity(parsed.len());
    let mut accepted: Vec<(usize, Worker)> = Vec::new();
    for (i, (parsed, village)) in parsed.into_iter().zip(&village_codes).enumerate() {
        let unknown_village = shaped.contains(&village.as_str()) && !known_villages.contains(village);
        let unknown_village = unknown_village.then(|| {
            FieldViolation::new(
                "domicile_village_code",
                "AREA_UNKNOWN",
                format!("village {village} is not in the Kemendagri area list"),
            )
        });
        let refusal = match parsed {
            Err(mut violations) => {
                violations.extend(unknown_village);
                Some(invalid(violations, field_prefix))
            }
            Ok(_) if unknown_village.is_some() => Some(invalid(unknown_village.into_iter().collect(), field_prefix)),
            Ok(worker) if !caller.covers(&worker.domicile) => Some(outside_area(caller, &worker.domicile)),
            Ok(mut worker) => {
                if !known_districts.contains(worker.nik.district_code().as_str()) {
                    worker.flags.push(Flag::NikPrefixUnknown);
                }
                accepted.push((i, worker));
                None
            }
        };
        results.push(refusal.map(RowResult::Refused));
    }

    let mut subjects = Vec::with_capacity(accepted.len());
    for group in distinct_groups(accepted) {
        let niks: Vec<&str> = group.iter().map(|(_, w)| w.nik.as_str()).collect();
        let domiciles = store::lock_domiciles(&mut tx, &niks).await?;
        let mut writable = Vec::with_capacity(group.len());
        for (i, worker) in group {
            match domiciles.get(worker.nik.as_str()) {
                Some(current) if !covers_village(caller, current) => {
                    results[i] = Some(RowResult::Refused(Error::PermissionDenied {
                        reason: "WORKER_REGISTERED_ELSEWHERE",
                        message: "this worker is registered as domiciled outside your area; a move between areas is \
                                  recorded by an agency that governs both"
                            .to_owned(),
                    }));
                }
                _ => writable.push((i, worker)),
            }
        }
        // Sorted by NIK, concurrent batches lock rows in the same order and cannot deadlock each other.
        writable.sort_by(|a, b| a.1.nik.as_str().cmp(b.1.nik.as_str()));
        let workers: Vec<Worker> = writable.iter().map(|(_, w)| w.clone()).collect();
        let outcomes = store::upsert(&mut tx, &workers, caller.agency_id()).await?;
        for ((i, worker), outcome) in writable.into_iter().zip(outcomes) {
            subjects.push(state.pseudonymizer.subject(&worker.nik));
            results[i] = Some(RowResult::Stored { outcome, flags: worker.flags });
        }
    }
    if !subjects.is_empty() {
        audit::store::record(&mut *tx, caller.actor(), "OK", &subjects).await?;
    }
    tx.commit().await?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| RowResult::Refused(Error::internal(anyhow::anyhow!("row left without a result")))))
        .collect())
}

/// Splits workers into consecutive groups with distinct NIKs: a NIK sent twice in one batch is stored twice, in
/// order, so the later row wins as it would have over two calls.
fn distinct_groups(workers: Vec<(usize, Worker)>) -> Vec<Vec<(usize, Worker)>> {
    let mut groups: Vec<Vec<(usize, Worker)>> = vec![Vec::new()];
    let mut seen = HashSet::new();
    for (i, worker) in workers {
        if !seen.insert(worker.nik.as_str().to_owned()) {
            seen.clear();
            seen.insert(worker.nik.as_str().to_owned());
            groups.push(Vec::new());
        }
        groups.last_mut().expect("there is always a group").push((i, worker));
    }
    groups.retain(|g| !g.is_empty());
    groups
}

fn invalid(violations: Vec<FieldViolation>, prefix: &str) -> Error {
    Error::InvalidArgument(violations.into_iter().map(|v| v.nested(prefix)).collect())
}

fn outside_area(caller: &Caller, area: &RegionCode) -> Error {
    let region = caller.agency.region.as_ref().map_or("none", RegionCode::as_str);
    Error::PermissionDenied {
        reason: "OUTSIDE_AGENCY_AREA",
        message: format!("village {area} is outside the area of {} ({region})", caller.agency.name),
    }
}

fn covers_village(caller: &Caller, village: &str) -> bool {
    RegionCode::parse(village).is_ok_and(|code| caller.covers(&code))
}

fn row_response(index: u64, client_ref: String, result: RowResult) -> pb::UpsertWorkersResponse {
    match result {
        RowResult::Stored { outcome, flags } => pb::UpsertWorkersResponse {
            index,
            client_ref,
            result: Some(pb::upsert_workers_response::Result::Outcome(outcome_to_proto(outcome) as i32)),
            warnings: flags.iter().map(|f| warning(*f)).collect(),
        },
        RowResult::Refused(error) => pb::UpsertWorkersResponse {
            index,
            client_ref,
            result: Some(pb::upsert_workers_response::Result::Error(to_rpc_status(error))),
            warnings: Vec::new(),
        },
    }
}

/// The parsed filters of a ListWorkers call.
struct ListQuery {
    area_pattern: String,
    max_decile: Option<i16>,
    after_nik: String,
    limit: i64,
}

impl ListQuery {
    fn parse(caller: &Caller, request: &pb::ListWorkersRequest) -> Result<ListQuery, Error> {
        let mut violations = Vec::new();
        let area = if request.area_code.is_empty() {
            caller.view().cloned()
        } else {
            match RegionCode::parse(&request.area_code) {
                Ok(area) => Some(area),
                Err(e) => {
                    violations.push(FieldViolation::new("area_code", e.reason(), e.to_string()));
                    None
                }
            }
        };
        let max_decile = match request.max_decile {
            0 => None,
            d @ 1..=10 => Some(d as i16),
            d => {
                violations.push(FieldViolation::new(
                    "max_decile",
                    "DECILE_RANGE",
                    format!("decile {d} is not valid (1–10, or 0 for no limit)"),
                ));
                None
            }
        };
        let page = request.page.clone().unwrap_or_default();
        let after_nik = if page.page_token.is_empty() {
            String::new()
        } else {
            match paging::key(PAGE_TAG, &page.page_token).filter(|nik| super::Nik::parse(nik).is_ok()) {
                Some(nik) => nik,
                None => {
                    if let Error::InvalidArgument(v) = paging::invalid_token() {
                        violations.extend(v);
                    }
                    String::new()
                }
            }
        };
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        if let Some(area) = &area
            && !caller.covers(area)
        {
            return Err(outside_area(caller, area));
        }
        Ok(ListQuery {
            area_pattern: area.map_or_else(|| "%".to_owned(), |a| a.village_pattern()),
            max_decile,
            after_nik,
            limit: paging::limit(&page),
        })
    }
}

fn from_proto(worker: pb::Worker) -> WorkerInput {
    let welfare = worker.welfare.unwrap_or_default();
    WorkerInput {
        sex: match pb::Sex::try_from(worker.sex) {
            Ok(pb::Sex::Male) => Some(Sex::Male),
            Ok(pb::Sex::Female) => Some(Sex::Female),
            _ => None,
        },
        occupation: match pb::Occupation::try_from(worker.occupation) {
            Ok(pb::Occupation::Trader) => Some(Occupation::Trader),
            Ok(pb::Occupation::Construction) => Some(Occupation::Construction),
            Ok(pb::Occupation::Tailor) => Some(Occupation::Tailor),
            Ok(pb::Occupation::Driver) => Some(Occupation::Driver),
            Ok(pb::Occupation::Farmer) => Some(Occupation::Farmer),
            Ok(pb::Occupation::Fisher) => Some(Occupation::Fisher),
            Ok(pb::Occupation::Domestic) => Some(Occupation::Domestic),
            Ok(pb::Occupation::Other) => Some(Occupation::Other),
            Ok(pb::Occupation::Unspecified) | Err(_) => None,
        },
        nik: worker.nik,
        full_name: worker.full_name,
        birth_date: worker.birth_date,
        domicile_village_code: worker.domicile_village_code,
        occupation_detail: worker.occupation_detail,
        decile: welfare.decile,
        decile_source: welfare.source,
        decile_as_of_quarter: welfare.as_of_quarter,
        phone: worker.phone,
        date_of_death: worker.date_of_death,
    }
}

fn parse_death(request: &pb::ReportDeathRequest) -> Result<(super::Nik, NaiveDate, String), Error> {
    let mut violations = Vec::new();
    let nik = super::Nik::parse(&request.worker_nik)
        .map_err(|e| violations.push(FieldViolation::new("worker_nik", e.reason(), e.to_string())))
        .ok();
    let died = match crate::date::not_after("date_of_death", &request.date_of_death, today()) {
        Ok(date) => Some(date),
        Err(violation) => {
            violations.push(violation);
            None
        }
    };
    let certificate = request.certificate_number.trim();
    if certificate.is_empty() || certificate.chars().count() > 100 || certificate.chars().any(char::is_control) {
        violations.push(FieldViolation::new(
            "certificate_number",
            "CERTIFICATE_FORMAT",
            "must be the death certificate number: 1–100 printable characters",
        ));
    }
    match (nik, died) {
        (Some(nik), Some(died)) if violations.is_empty() => Ok((nik, died, certificate.to_owned())),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

fn to_proto(w: store::StoredWorker) -> pb::Worker {
    let sex = match w.sex.as_str() {
        "male" => pb::Sex::Male,
        "female" => pb::Sex::Female,
        _ => pb::Sex::Unspecified,
    };
    let occupation = match Occupation::from_code(&w.occupation) {
        Some(Occupation::Trader) => pb::Occupation::Trader,
        Some(Occupation::Construction) => pb::Occupation::Construction,
        Some(Occupation::Tailor) => pb::Occupation::Tailor,
        Some(Occupation::Driver) => pb::Occupation::Driver,
        Some(Occupation::Farmer) => pb::Occupation::Farmer,
        Some(Occupation::Fisher) => pb::Occupation::Fisher,
        Some(Occupation::Domestic) => pb::Occupation::Domestic,
        Some(Occupation::Other) => pb::Occupation::Other,
        None => pb::Occupation::Unspecified,
    };
    pb::Worker {
        nik: w.nik,
        full_name: w.full_name,
        birth_date: w.birth_date.to_string(),
        sex: sex as i32,
        domicile_village_code: w.domicile_village_code,
        occupation: occupation as i32,
        occupation_detail: w.occupation_detail.unwrap_or_default(),
        welfare: Some(pb::Welfare {
            decile: u32::try_from(w.decile).unwrap_or_default(),
            source: w.decile_source,
            as_of_quarter: super::Quarter::from_date(w.decile_as_of).to_string(),
        }),
        phone: w.phone.unwrap_or_default(),
        date_of_death: w.date_of_death.map(|d| d.to_string()).unwrap_or_default(),
        warnings: w.flags.iter().filter_map(|f| Flag::from_code(f)).map(warning).collect(),
        record: Some(pb::RecordInfo {
            created_by_agency_id: w.created_by.to_string(),
            create_time: Some(timestamp(w.created_at)),
            updated_by_agency_id: w.updated_by.to_string(),
            update_time: Some(timestamp(w.updated_at)),
        }),
    }
}

fn warning(flag: Flag) -> pb::Warning {
    let field = match flag {
        Flag::NikBirthDateMismatch => "worker.birth_date",
        Flag::NikSexMismatch => "worker.sex",
        Flag::NikPrefixUnknown => "worker.nik",
    };
    pb::Warning { code: flag.code().to_owned(), field: field.to_owned(), message: flag.description().to_owned() }
}

fn outcome_to_proto(outcome: store::Outcome) -> pb::UpsertOutcome {
    match outcome {
        store::Outcome::Created => pb::UpsertOutcome::Created,
        store::Outcome::Updated => pb::UpsertOutcome::Updated,
        store::Outcome::Unchanged => pb::UpsertOutcome::Unchanged,
    }
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}
