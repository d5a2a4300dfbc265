//! The worker use cases: registering workers (one or a batch), reading them, and recording a death with its
//! consequences (which claims share).

use std::collections::HashSet;

use chrono::NaiveDate;
use uuid::Uuid;

use super::{DeathReport, Flag, ListFilter, Refund, Reported, Worker, WorkerInput, store};
use crate::{
    area::{self, AreaLevel, RegionCode},
    auth::{Caller, Scope},
    error::{Error, FieldViolation, Refusal},
    feed::{Kind, NewEvent},
    month::Month,
    nik::Nik,
    state::{AppState, Write},
};

pub use super::store::{Outcome, StoredWorker};

/// What became of one row of an upsert.
#[derive(Debug)]
pub enum Upserted {
    Stored { outcome: Outcome, flags: Vec<Flag> },
    Refused(Error),
}

/// Registers or updates one worker; answers what was done and the worker as stored.
#[tracing::instrument(skip_all)]
pub async fn upsert_one(
    state: &AppState,
    caller: &Caller,
    today: NaiveDate,
    input: WorkerInput,
) -> Result<(Outcome, StoredWorker), Error> {
    let nik = input.nik.clone();
    let mut results = upsert(state, caller, today, vec![input], "worker").await?;
    match results.pop() {
        Some(Upserted::Stored { outcome, .. }) => {
            let stored = store::get(&state.pool, &nik)
                .await?
                .ok_or_else(|| Error::internal(anyhow::anyhow!("worker vanished right after its upsert")))?;
            Ok((outcome, stored))
        }
        Some(Upserted::Refused(error)) => Err(error),
        None => Err(Error::internal(anyhow::anyhow!("a batch of one answered nothing"))),
    }
}

/// Validates and stores a batch of workers in one transaction, answering one result per input, in order; the
/// field paths of a row's violations are placed under `field_prefix`. Only a failure of the store itself fails the
/// whole batch.
#[tracing::instrument(skip_all)]
pub async fn upsert(
    state: &AppState,
    caller: &Caller,
    today: NaiveDate,
    inputs: Vec<WorkerInput>,
    field_prefix: &str,
) -> Result<Vec<Upserted>, Error> {
    let village_codes: Vec<String> = inputs.iter().map(|w| w.domicile_village_code.clone()).collect();
    let parsed: Vec<Result<Worker, Vec<FieldViolation>>> =
        inputs.into_iter().map(|w| Worker::parse(w, today)).collect();

    let mut w = state.write(caller).await?;
    // R5.4: an unknown domicile village is an error, an unknown NIK district only a warning.
    let shaped: Vec<&str> = village_codes
        .iter()
        .filter(|c| RegionCode::parse_at(c, AreaLevel::Village).is_ok())
        .map(String::as_str)
        .collect();
    let known_villages = area::store::known_villages(&mut *w, &shaped).await?;
    let districts: Vec<String> =
        parsed.iter().filter_map(|p| p.as_ref().ok()).map(|w| w.nik.district_code().as_str().to_owned()).collect();
    let district_refs: Vec<&str> = districts.iter().map(String::as_str).collect();
    let known_districts = area::store::known_districts(&mut *w, &district_refs).await?;

    let mut results: Vec<Option<Upserted>> = Vec::with_capacity(parsed.len());
    let mut accepted: Vec<(usize, Worker)> = Vec::new();
    for (i, (parsed, village)) in parsed.into_iter().zip(&village_codes).enumerate() {
        let unknown_village = shaped.contains(&village.as_str()) && !known_villages.contains(village);
        let unknown_village = unknown_village.then(|| {
            FieldViolation::new(
                "domicile_village_code",
                crate::msg!(AREA_UNKNOWN_VILLAGE, village = village.to_string()),
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
        results.push(refusal.map(Upserted::Refused));
    }

    let mut stored_any = false;
    for group in distinct_groups(accepted) {
        let niks: Vec<&str> = group.iter().map(|(_, w)| w.nik.as_str()).collect();
        let domiciles = store::lock_domiciles(&mut w, &niks).await?;
        let mut writable = Vec::with_capacity(group.len());
        for (i, worker) in group {
            match domiciles.get(worker.nik.as_str()) {
                Some(current) if !covers_village(caller, current) => {
                    results[i] =
                        Some(Upserted::Refused(Error::PermissionDenied(crate::msg!(WORKER_REGISTERED_ELSEWHERE))));
                }
                _ => writable.push((i, worker)),
            }
        }
        // Sorted by NIK, concurrent batches lock rows in the same order and cannot deadlock each other.
        writable.sort_by(|a, b| a.1.nik.as_str().cmp(b.1.nik.as_str()));
        let workers: Vec<Worker> = writable.iter().map(|(_, w)| w.clone()).collect();
        let outcomes = store::upsert(&mut w, &workers, caller.agency_id()).await?;
        for ((i, worker), outcome) in writable.into_iter().zip(outcomes) {
            w.touch(&worker.nik);
            match outcome {
                Outcome::Created => w.emit(NewEvent::worker(Kind::WorkerRegistered, &worker.nik)),
                Outcome::Updated => w.emit(NewEvent::worker(Kind::WorkerChanged, &worker.nik)),
                Outcome::Unchanged => {}
            }
            stored_any = true;
            results[i] = Some(Upserted::Stored { outcome, flags: worker.flags });
        }
    }
    // A batch that stored nothing changed nothing: its refusals are answered (and audited) row by row.
    if stored_any {
        w.commit().await?;
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Upserted::Refused(Error::internal(anyhow::anyhow!("row left without a result")))))
        .collect())
}

/// The worker `nik`, if in the caller's view; the look-up is audited.
#[tracing::instrument(skip_all)]
pub async fn get(state: &AppState, caller: &Caller, nik: &Nik) -> Result<StoredWorker, Error> {
    let mut read = state.read(caller).await?;
    let visible = match store::get(&mut *read, nik.as_str()).await? {
        Some(w) if covers_village(caller, &w.domicile_village_code) => w,
        // A worker outside the caller's view is answered as absent: existence is personal data too.
        _ => return Err(Error::NotFound(crate::msg!(NO_WORKER_IN_VIEW))),
    };
    read.touch(nik);
    read.finish().await?;
    Ok(visible)
}

/// A page of the workers in the caller's view matching `filter`, by NIK; with the last NIK of the page when there
/// is a next one. Every worker answered is audited.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: ListFilter,
) -> Result<(Vec<StoredWorker>, Option<String>), Error> {
    let area = filter.area.or_else(|| caller.view().cloned());
    if let Some(area) = &area
        && !caller.covers(area)
    {
        return Err(outside_area(caller, area));
    }
    let pattern = area.map_or_else(|| "%".to_owned(), |a| a.village_pattern());
    let mut read = state.read(caller).await?;
    let mut rows = store::list(&mut *read, &pattern, filter.max_decile, &filter.after_nik, filter.limit + 1).await?;
    let next = if rows.len() as i64 > filter.limit {
        rows.truncate(filter.limit as usize);
        rows.last().map(|w| w.nik.as_str().to_owned())
    } else {
        None
    };
    for row in &rows {
        read.touch(&row.nik);
    }
    read.finish().await?;
    Ok((rows, next))
}

/// Records a death reported by the caller, who must fund (or have funded) the worker unless it is the insurer;
/// answers what was recorded and what the caller may learn of its consequences.
#[tracing::instrument(skip_all)]
pub async fn report_death(state: &AppState, caller: &Caller, report: DeathReport) -> Result<Reported, Error> {
    let DeathReport { nik, date_of_death: died, certificate_number: certificate } = report;
    let mut w = state.write(caller).await?;
    let worker = store::get(&mut *w, nik.as_str()).await?;
    let visible = match &worker {
        Some(_) if caller.scope == Scope::All => true,
        Some(_) => store::funded_by(&mut *w, nik.as_str(), caller.agency_id()).await?,
        None => false,
    };
    let worker = match worker {
        Some(worker) if visible => worker,
        _ => return Err(Error::NotFound(crate::msg!(NO_WORKER_FUNDED))),
    };
    if died < worker.birth_date {
        return Err(Error::invalid("date_of_death", crate::msg!(DEATH_BEFORE_BIRTH)));
    }
    let Death { recorded, now, changed, refunds } =
        record_death(&mut w, &nik, died, &certificate, caller.agency_id()).await?;
    w.touch(&nik);
    w.commit().await?;
    // Each caller learns only of its own enrollments and refunds (the insurer of all).
    let mine = |funder: Uuid| caller.scope == Scope::All || funder == caller.agency_id();
    let refunds = refunds
        .into_iter()
        .filter(|refund| mine(refund.funder_id))
        .map(|refund| Refund { subsidy_id: refund.subsidy_id, month: refund.month, amount: refund.amount })
        .collect();
    Ok(Reported {
        date_of_death: recorded.date_of_death,
        certificate_number: recorded.certificate_number,
        recorded_now: now,
        changed_enrollments: changed.iter().filter(|e| mine(e.funder_id)).map(|e| e.id).collect(),
        refunds,
    })
}

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
/// recorded for the worker. Shared by ReportDeath and the filing of a death claim. A death recorded now is an
/// event of the feed, and so is each enrollment it ended.
#[tracing::instrument(skip_all)]
pub async fn record_death(
    w: &mut Write,
    nik: &Nik,
    died: NaiveDate,
    certificate: &str,
    by: Uuid,
) -> Result<Death, Error> {
    let (recorded, now) = store::record_death(w, nik.as_str(), died, certificate, by).await?;
    if recorded.date_of_death != died || recorded.certificate_number != certificate {
        return Err(Error::Refused(vec![Refusal::new(
            "R2",
            crate::msg!(DEATH_ALREADY_REPORTED, date = recorded.date_of_death),
        )]));
    }
    // A resend ends and refunds nothing more: the first report left nothing to end.
    let after = Month::of(died).next().first_day();
    let changed = crate::enrollment::store::end_after_death(w, nik.as_str(), after).await?;
    let refunds = crate::contribution::store::refund_from(w, nik.as_str(), after).await?;
    if now {
        w.emit(NewEvent::worker(Kind::DeathReported, nik));
    }
    w.emit_all(changed.iter().map(|e| NewEvent::enrollment(Kind::EnrollmentEnded, e.id, None)));
    Ok(Death { recorded, now, changed, refunds })
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
    Error::PermissionDenied(crate::msg!(
        OUTSIDE_AGENCY_AREA,
        village = area.as_str(),
        agency = caller.agency.name.as_str(),
        region = region
    ))
}

fn covers_village(caller: &Caller, village: &str) -> bool {
    RegionCode::parse(village).is_ok_and(|code| caller.covers(&code))
}
