//! The claim use cases: each opens the unit of work (`state.write` … `commit`, or the audited read), takes the
//! locks, asks the rules in `mod.rs`, calls the stores and answers the claim as the caller may see it.
//!
//! Other concepts are asked through their services: the death through `worker::service::record_death` (the
//! function ReportDeath uses), coverage through `coverage::service::judge`, the benefit policy through
//! `subsidy::service::benefit_policy`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    AccidentNotice, Action, Assessment, Claim, Decision, Document, Event, Filing, Notice, NoticeRef, Particulars,
    Payment, Status, View, Viewer, Who, is_complete, jkk_claim_lapsed, overdue_before, refuse, sealed, store,
};
use crate::{
    agency::AgencyKind,
    auth::{Caller, Scope},
    benefit::{self, Claimed},
    clock::today,
    coverage::{self, Covered, NotCovered},
    error::{Error, Refusal},
    feed::{Kind, NewEvent},
    nik::Nik,
    paging::{self, Page},
    seal::Sealer,
    state::AppState,
    worker,
};

/// Files a claim (the insurer), or completes a funder's notice; a resend answers the claim it filed.
#[tracing::instrument(skip_all)]
pub async fn file_claim(state: &AppState, caller: &Caller, filing: Filing) -> Result<View, Error> {
    let mut w = state.write(caller).await?;
    crate::idempotency::lock(&mut w, caller.agency_id(), std::slice::from_ref(&filing.request_id)).await?;
    if let Some(id) = store::by_request(&mut *w, caller.agency_id(), &filing.request_id).await? {
        w.commit().await?;
        return answer(state, caller, id).await;
    }
    let worker = find_worker(&mut w, &filing.who).await?;
    let sealer = state.sealer();
    if let NoticeRef::Existing(notice) = filing.notice
        && locked(&mut w, &sealer, notice).await?.completes_notice(&worker.nik, filing.event)?
    {
        // A resend of the filing that completed this notice.
        w.commit().await?;
        return answer(state, caller, notice).await;
    }
    if filing.event.is_jkk() && jkk_claim_lapsed(filing.date, today()) {
        return Err(refused(refuse::jkk_lapsed(filing.date)));
    }
    if filing.event.is_death() {
        let certificate = match (&worker.death, &filing.death_certificate) {
            (Some((_, recorded)), _) => recorded.clone(),
            (None, Some(certificate)) => certificate.clone(),
            (None, None) => {
                return Err(Error::invalid("death_certificate_number", crate::msg!(REQUIRED_CERTIFICATE)));
            }
        };
        worker::service::record_death(&mut w, &worker.nik, filing.date, &certificate, caller.agency_id()).await?;
    }
    // Judged after the death is recorded, as VerifyCoverage would judge it now.
    let covered = covered_on(&mut w, &worker.nik, filing.date).await?;
    let particulars = sealed::seal_particulars(&sealer, &filing.particulars);
    let complete = filing.complete();
    let id = match filing.notice {
        NoticeRef::Existing(notice) => {
            let completion = store::NoticeFiling {
                event: filing.event,
                subsidy_id: covered.subsidy_id,
                funder_id: covered.funder_id,
                contribution_months: months(covered.contribution_months),
                particulars,
                documents: filing.documents,
                complete,
            };
            store::file_notice(&mut w, notice, &completion).await.map_err(one_death_claim)?;
            notice
        }
        NoticeRef::New(notice) => {
            let claim = store::NewClaim {
                id: Uuid::new_v4(),
                worker_nik: worker.nik.clone(),
                event: filing.event,
                event_date: filing.date,
                status: Status::Filed,
                subsidy_id: Some(covered.subsidy_id),
                funder_id: Some(covered.funder_id),
                contribution_months: Some(months(covered.contribution_months)),
                accident_place: notice.as_ref().map(|n| sealer.seal_text(&n.place)),
                accident_cause: notice.as_ref().map(|n| sealer.seal_text(&n.cause)),
                accident_at: notice.as_ref().map(|n| n.occurred_at),
                notifier_name: notice.as_ref().map(|n| sealer.seal_text(&n.notifier_name)),
                notifier_phone: notice.as_ref().map(|n| sealer.seal_text(&n.notifier_phone)),
                particulars,
                documents: filing.documents,
                complete,
                request_id: filing.request_id,
                filed_by: caller.agency_id(),
            };
            store::insert(&mut w, &claim).await.map_err(one_death_claim)?;
            claim.id
        }
    };
    w.touch(&worker.nik);
    w.emit(NewEvent::claim(Kind::ClaimFiled, id, Some(covered.subsidy_id)));
    w.commit().await?;
    answer(state, caller, id).await
}

/// A funder's notice of a work accident of a worker it funds (R3.7); a resend answers the notice it gave.
#[tracing::instrument(skip_all)]
pub async fn file_accident_notice(state: &AppState, caller: &Caller, notice: AccidentNotice) -> Result<View, Error> {
    let mut w = state.write(caller).await?;
    crate::idempotency::lock(&mut w, caller.agency_id(), std::slice::from_ref(&notice.request_id)).await?;
    if let Some(id) = store::by_request(&mut *w, caller.agency_id(), &notice.request_id).await? {
        w.commit().await?;
        return answer(state, caller, id).await;
    }
    let worker = find_worker(&mut w, &notice.who).await?;
    if !worker::store::funded_by(&mut *w, worker.nik.as_str(), caller.agency_id()).await? {
        return Err(not_funded());
    }
    if jkk_claim_lapsed(notice.date, today()) {
        return Err(refused(refuse::jkk_lapsed(notice.date)));
    }
    let sealer = state.sealer();
    let Notice { place, cause, occurred_at, notifier_name, notifier_phone } = &notice.notice;
    let claim = store::NewClaim {
        id: Uuid::new_v4(),
        worker_nik: worker.nik.clone(),
        event: Event::Accident,
        event_date: notice.date,
        status: Status::Notice,
        subsidy_id: None,
        funder_id: Some(caller.agency_id()),
        contribution_months: None,
        // Personal data (R6.3): sealed like the heirs' particulars.
        accident_place: Some(sealer.seal_text(place)),
        accident_cause: Some(sealer.seal_text(cause)),
        accident_at: Some(*occurred_at),
        notifier_name: Some(sealer.seal_text(notifier_name)),
        notifier_phone: Some(sealer.seal_text(notifier_phone)),
        particulars: sealed::seal_particulars(&sealer, &Particulars::default()),
        documents: Vec::new(),
        complete: false,
        request_id: notice.request_id,
        filed_by: caller.agency_id(),
    };
    store::insert(&mut w, &claim).await?;
    w.touch(&worker.nik);
    w.emit(NewEvent::claim(Kind::ClaimFiled, claim.id, None));
    w.commit().await?;
    answer(state, caller, claim.id).await
}

/// Marks further documents of the R2.6 checklist as present.
#[tracing::instrument(skip_all)]
pub async fn add_documents(state: &AppState, caller: &Caller, id: Uuid, added: Vec<Document>) -> Result<View, Error> {
    let mut w = state.write(caller).await?;
    let claim = locked(&mut w, &state.sealer(), id).await?;
    claim.status.permits(Action::AddDocuments).map_err(refused)?;
    let mut present = claim.documents.clone();
    present.extend(added);
    present.sort();
    present.dedup();
    let complete = is_complete(claim.event, claim.particulars.spouse_is_heir(), &present);
    store::set_documents(&mut w, id, &present, complete).await?;
    w.touch(&claim.worker_nik);
    w.commit().await?;
    answer(state, caller, id).await
}

/// Assesses a claim with the calculator, on the contribution period as it stands now.
#[tracing::instrument(skip_all)]
pub async fn assess(state: &AppState, caller: &Caller, id: Uuid) -> Result<View, Error> {
    let mut w = state.write(caller).await?;
    let sealer = state.sealer();
    let claim = locked(&mut w, &sealer, id).await?;
    claim.status.permits(Action::Assess).map_err(refused)?;
    // Judged again: arrears paid since the filing may have restored the month (R1.6).
    let covered = covered_on(&mut w, &claim.worker_nik, claim.event_date).await?;
    let claimed = claim.particulars.claimed(claim.event);
    let assessment = assessment(&mut w, &covered, &claimed, claim.event_date).await?;
    store::assess(&mut w, id, &sealed::seal_assessment(&sealer, &assessment), assessment.total).await?;
    w.touch(&claim.worker_nik);
    w.emit(NewEvent::claim(Kind::ClaimAssessed, id, claim.subsidy_id));
    w.commit().await?;
    answer(state, caller, id).await
}

/// Approves or rejects a claim.
#[tracing::instrument(skip_all)]
pub async fn decide(state: &AppState, caller: &Caller, id: Uuid, decision: Decision) -> Result<View, Error> {
    let mut w = state.write(caller).await?;
    let claim = locked(&mut w, &state.sealer(), id).await?;
    claim.status.permits(decision.action()).map_err(refused)?;
    let (to, reason) = match &decision {
        Decision::Approve => (Status::Approved, None),
        Decision::Reject(reason) => (Status::Rejected, Some(reason.as_str())),
    };
    store::decide(&mut w, id, to, reason, caller.agency_id()).await?;
    w.touch(&claim.worker_nik);
    w.emit(NewEvent::claim(Kind::ClaimDecided, id, claim.subsidy_id));
    w.commit().await?;
    answer(state, caller, id).await
}

/// Records the payment of an approved claim; a resend of the recorded payment answers it again.
#[tracing::instrument(skip_all)]
pub async fn pay(state: &AppState, caller: &Caller, id: Uuid, payment: Payment) -> Result<View, Error> {
    let mut w = state.write(caller).await?;
    let claim = locked(&mut w, &state.sealer(), id).await?;
    if claim.pays(&payment.reference).map_err(refused)? {
        w.commit().await?;
        return answer(state, caller, id).await;
    }
    let total = claim.total.ok_or_else(|| Error::internal(anyhow::anyhow!("an approved claim has no total")))?;
    store::pay(&mut w, id, total, &payment.reference, payment.paid_on, caller.agency_id()).await.map_err(|e| {
        match constraint(&e) {
            Some("claim_payments_pkey") => refused(refuse::already_paid()),
            Some("claim_payments_reference_unique") => Error::invalid("reference", crate::msg!(REFERENCE_REUSED_CLAIM)),
            _ => Error::from(e),
        }
    })?;
    w.touch(&claim.worker_nik);
    w.emit(NewEvent::claim(Kind::ClaimPaid, id, claim.subsidy_id));
    w.commit().await?;
    answer(state, caller, id).await
}

/// One claim in the caller's view (an audited read).
#[tracing::instrument(skip_all)]
pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> Result<View, Error> {
    let mut r = state.read(caller).await?;
    let row = store::get(&mut *r, id).await?;
    let view = visible(state, caller, id, row)?;
    r.touch(&view.claim.worker_nik);
    r.finish().await?;
    Ok(view)
}

/// Which claims to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub worker_nik: Option<Nik>,
    /// Complete JKM claims unpaid after their deadline (R2.6) only.
    pub overdue_only: bool,
}

/// The tag of ListClaims page tokens.
pub const PAGE_TAG: &str = "c1";

/// Claims in the caller's view, newest first (an audited read).
#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    query: ListQuery,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Page<View>, Error> {
    let today = today();
    let filter = store::Filter {
        id: None,
        funder: (caller.scope != Scope::All).then(|| caller.agency_id()),
        status: query.status,
        worker_nik: query.worker_nik,
        complete_before: query.overdue_only.then(|| overdue_before(today)),
    };
    let mut r = state.read(caller).await?;
    let rows = store::page(&mut *r, &filter, after, limit + 1).await?;
    let page = Page::of(rows, limit, |row| paging::time_token(PAGE_TAG, row.created_at, row.id));
    r.touch_all(page.items.iter().map(|row| &row.worker_nik));
    r.finish().await?;
    let sealer = state.sealer();
    let viewer = viewer(caller);
    let items = page
        .items
        .into_iter()
        .map(|row| Ok(open(&sealer, row)?.seen_by(viewer, today)))
        .collect::<Result<_, Error>>()?;
    Ok(Page { items, next_page_token: page.next_page_token })
}

/// What EstimateBenefit answers.
pub enum Estimate {
    Covered(Assessment),
    NotCovered(NotCovered),
}

/// What would be due if `claimed` happened on `date` to the worker (an audited read).
#[tracing::instrument(skip_all)]
pub async fn estimate(
    state: &AppState,
    caller: &Caller,
    who: Who,
    date: NaiveDate,
    claimed: Claimed,
) -> Result<Estimate, Error> {
    let mut r = state.read(caller).await?;
    let worker = find_worker(&mut r, &who).await?;
    if caller.scope != Scope::All && !worker::store::funded_by(&mut *r, worker.nik.as_str(), caller.agency_id()).await?
    {
        return Err(not_funded());
    }
    let verdict = judged(&mut r, &worker.nik, date).await?;
    r.touch(&worker.nik);
    let estimate = match verdict {
        Err(reason) => Estimate::NotCovered(reason),
        Ok(covered) => Estimate::Covered(assessment(&mut r, &covered, &claimed, date).await?),
    };
    r.finish().await?;
    Ok(estimate)
}

fn refused(refusal: Refusal) -> Error {
    Error::Refused(vec![refusal])
}

fn not_funded() -> Error {
    Error::NotFound(crate::msg!(NO_WORKER_IDENTIFIED_FUNDED))
}

fn viewer(caller: &Caller) -> Viewer {
    Viewer { agency: caller.agency_id(), insurer: caller.agency.kind == AgencyKind::Insurer }
}

/// The claim as the caller may see it; NOT_FOUND outside the caller's view.
async fn answer(state: &AppState, caller: &Caller, id: Uuid) -> Result<View, Error> {
    let row = store::get(&state.pool, id).await?;
    visible(state, caller, id, row)
}

fn visible(state: &AppState, caller: &Caller, id: Uuid, row: Option<store::ClaimRow>) -> Result<View, Error> {
    match row {
        Some(row) if caller.scope == Scope::All || row.funder_id == Some(caller.agency_id()) => {
            Ok(open(&state.sealer(), row)?.seen_by(viewer(caller), today()))
        }
        _ => Err(Error::NotFound(crate::msg!(NO_CLAIM_IN_VIEW, id = id.to_string()))),
    }
}

/// A stored claim with its sealed parts opened.
fn open(sealer: &Sealer, row: store::ClaimRow) -> Result<Claim, Error> {
    let unseal = |text: &Option<String>| -> Result<String, Error> {
        text.as_deref().map_or(Ok(String::new()), |t| sealer.open_text(t).map_err(Error::internal))
    };
    let notice = match row.accident_at {
        Some(occurred_at) => Some(Notice {
            place: unseal(&row.accident_place)?,
            cause: unseal(&row.accident_cause)?,
            occurred_at,
            notifier_name: unseal(&row.notifier_name)?,
            notifier_phone: unseal(&row.notifier_phone)?,
        }),
        None => None,
    };
    let particulars = sealed::open_particulars(sealer, &row.particulars, row.event).map_err(Error::Internal)?;
    let assessment =
        row.breakdown.as_deref().map(|b| sealed::open_assessment(sealer, b)).transpose().map_err(Error::Internal)?;
    Ok(Claim {
        id: row.id,
        worker_nik: row.worker_nik,
        status: row.status,
        event: row.event,
        event_date: row.event_date,
        subsidy_id: row.subsidy_id,
        funder_id: row.funder_id,
        funder_kind: row.funder_kind,
        notice,
        particulars,
        documents: row.documents,
        complete_at: row.complete_at,
        assessment,
        total: row.total,
        rejection_reason: row.rejection_reason,
        payment: row.payment_reference.zip(row.paid_on).map(|(reference, paid_on)| Payment { reference, paid_on }),
        request_id: row.request_id,
        filed_by: row.filed_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A claim locked for a change of state until the transaction ends.
async fn locked(conn: &mut PgConnection, sealer: &Sealer, id: Uuid) -> Result<Claim, Error> {
    if !store::lock(&mut *conn, id).await? {
        return Err(Error::NotFound(crate::msg!(NO_CLAIM, id = id.to_string())));
    }
    let row = store::get(conn, id).await?.ok_or_else(|| Error::NotFound(crate::msg!(NO_CLAIM, id = id.to_string())))?;
    open(sealer, row)
}

async fn find_worker(conn: &mut PgConnection, who: &Who) -> Result<store::WorkerRow, Error> {
    let (nik, number) = match who {
        Who::Nik(nik) => (Some(nik), None),
        Who::Number(number) => (None, Some(number)),
    };
    store::worker(conn, nik, number).await?.ok_or_else(|| Error::NotFound(crate::msg!(NO_WORKER_IDENTIFIED)))
}

/// The one coverage judgement of the worker on `date`, as VerifyCoverage makes it.
async fn judged(conn: &mut PgConnection, nik: &Nik, date: NaiveDate) -> Result<Result<Covered, NotCovered>, Error> {
    let Some(row) = coverage::store::worker(&mut *conn, Some(nik.as_str()), None).await? else {
        return Err(Error::NotFound(crate::msg!(NO_WORKER_IDENTIFIED)));
    };
    let (verdict, _) = coverage::service::judge(conn, &row, date).await?;
    Ok(verdict)
}

/// Coverage on the event date; a claim without it is refused with the reason.
async fn covered_on(conn: &mut PgConnection, nik: &Nik, date: NaiveDate) -> Result<Covered, Error> {
    judged(conn, nik, date).await?.map_err(|reason| refused(refuse::not_covered(reason, date)))
}

/// What the calculator answers for `claimed` under the policy of the subsidy that covered the worker.
async fn assessment(
    conn: &mut PgConnection,
    covered: &Covered,
    claimed: &Claimed,
    date: NaiveDate,
) -> Result<Assessment, Error> {
    let policy = crate::subsidy::service::benefit_policy(conn, covered.subsidy_id).await?;
    let breakdown = benefit::assess(&policy, claimed, date, covered.contribution_months);
    Ok(Assessment::of(&breakdown, covered.contribution_months))
}

fn one_death_claim(error: sqlx::Error) -> Error {
    match constraint(&error) {
        Some("claims_one_death_claim_per_worker") => refused(refuse::death_already_claimed()),
        _ => Error::from(error),
    }
}

fn constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(e) => e.constraint(),
        _ => None,
    }
}

fn months(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
