//! The reconciliation use cases: comparing a funder's list with the store, and a subsidy's monthly statement.

use futures::{Stream, StreamExt};
use tokio::sync::mpsc::Sender;
use uuid::Uuid;

use super::{
    Difference, EnrollmentFacts, Facts, ListRow, Statement, Summary, WorkerFacts, classify, parse_row, participants,
    reference_date, store,
};
use crate::{
    agency::AgencyKind,
    auth::Caller,
    clock::today,
    contribution,
    coverage::{self, Funding, Ledger},
    error::Error,
    money::Rupiah,
    month::Month,
    nik::Nik,
    state::AppState,
    subsidy::{self, Subsidy},
};

/// Rows staged per statement, and answered per page: what the service holds of a list at once.
pub const PAGE: usize = 1_000;

/// What a reconciliation is about: the subsidies (of one funder) the list covers, and the month considered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub subsidy_ids: Vec<Uuid>,
    /// None: the current month.
    pub month: Option<Month>,
}

/// One message of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Difference(Box<Difference>),
    Summary(Summary),
}

/// Compares the funder's list, row by row as `rows` yields it, with the store, and sends the answer to `out`: one
/// difference per row in list order, one per funded worker missing from the list, then the summary. The list is
/// staged a page at a time in the reconciliation's own transaction and compared a page at a time, so the service
/// holds no more than a page of it. Every valid NIK looked up is audited, once the answer is sent.
#[tracing::instrument(skip_all)]
pub async fn reconcile<S>(
    state: &AppState,
    caller: &Caller,
    start: Start,
    rows: S,
    out: Sender<Answer>,
) -> Result<(), Error>
where
    S: Stream<Item = Result<ListRow, Error>> + Send,
{
    let mut subsidies: Vec<Subsidy> = Vec::with_capacity(start.subsidy_ids.len());
    for id in &start.subsidy_ids {
        subsidies.push(subsidy::service::visible(state, caller, *id).await?.subsidy);
    }
    let Some(first) = subsidies.first() else {
        return Err(Error::invalid("start.subsidy_ids", crate::msg!(REQUIRED_SUBSIDIES)));
    };
    let (funder, funder_kind) = (first.funder_id, first.funder_kind);
    if subsidies.iter().any(|s| s.funder_id != funder) {
        return Err(Error::invalid("start.subsidy_ids", crate::msg!(SUBSIDIES_OF_ONE_FUNDER)));
    }
    let today = today();
    let month = start.month.unwrap_or_else(|| Month::of(today));
    let ids: Vec<Uuid> = subsidies.iter().map(|s| s.id).collect();
    let scope = Scope { ids, funder, funder_kind, month, on: reference_date(month, today) };

    let mut read = state.read(caller).await?;
    let mut looked_up: Vec<Nik> = Vec::new();
    let result = compare(&mut read, &scope, rows, &out, &mut looked_up).await;
    for nik in &looked_up {
        read.look_up(nik);
    }
    read.finish().await?;
    result
}

struct Scope {
    ids: Vec<Uuid>,
    funder: Uuid,
    funder_kind: AgencyKind,
    month: Month,
    on: chrono::NaiveDate,
}

async fn compare<S>(
    conn: &mut sqlx::PgConnection,
    scope: &Scope,
    rows: S,
    out: &Sender<Answer>,
    looked_up: &mut Vec<Nik>,
) -> Result<(), Error>
where
    S: Stream<Item = Result<ListRow, Error>> + Send,
{
    let mut tx = store::begin(conn).await?;
    let run = Uuid::new_v4();
    let mut staged = 0i32;
    let mut rows = std::pin::pin!(rows.chunks(PAGE));
    while let Some(chunk) = rows.next().await {
        let mut batch = Vec::with_capacity(chunk.len());
        let mut broken = None;
        for row in chunk {
            match row {
                Ok(row) => {
                    staged += 1;
                    let nik = parse_row(&row).nik.map(|n| n.as_str().to_owned());
                    batch.push(store::Staged {
                        row_no: staged,
                        nik_sent: row.nik,
                        full_name: row.full_name,
                        first_month_sent: row.first_month,
                        nik,
                    });
                }
                Err(error) => {
                    broken = Some(error);
                    break;
                }
            }
        }
        store::stage(&mut tx, run, &batch).await?;
        if let Some(error) = broken {
            // Not the whole list: no answer at all rather than one that looks complete.
            return Err(error);
        }
    }

    let ledgers = coverage::service::ledgers(&mut tx, &scope.ids, today()).await?;
    let mut summary = Summary { month: Some(scope.month), ..Summary::default() };
    let send = |difference: Difference, summary: &mut Summary| {
        summary.count(&difference);
        out.send(Answer::Difference(Box::new(difference)))
    };

    let mut after = 0;
    loop {
        let page = store::rows_page(&mut tx, run, &scope.ids, scope.funder, scope.month, after, PAGE as i64).await?;
        let Some(last) = page.last() else { break };
        after = last.row_no;
        for row in page {
            let sent = ListRow { nik: row.nik_sent, full_name: row.full_name, first_month: row.first_month_sent };
            let parsed = parse_row(&sent);
            let facts = Facts {
                duplicate_of: row.first_row.map(|r| r as u64),
                worker: row.worker.map(|(full_name, date_of_death)| WorkerFacts { full_name, date_of_death }),
                enrollment: row.enrollment.map(|e| enrollment_facts(e, scope)),
                other_funder: row.other_funder,
            };
            let ledger = facts.enrollment.as_ref().and_then(|e| ledgers.get(&e.funding.subsidy_id));
            let difference = classify(row.row_no as u64, &sent, &parsed, &facts, scope.month, scope.on, ledger);
            if facts.duplicate_of.is_none()
                && let Some(nik) = parsed.nik
            {
                looked_up.push(nik);
            }
            if send(difference, &mut summary).await.is_err() {
                return Ok(()); // the client went away
            }
        }
    }

    let mut after = String::new();
    loop {
        let page = store::funded_page(&mut *tx, Some(run), &scope.ids, scope.month, &after, PAGE as i64).await?;
        let Some(last) = page.last() else { break };
        after = last.0.as_str().to_owned();
        for (nik, enrollment, _) in page {
            let difference = Difference::not_on_list(&nik, &enrollment_facts(enrollment, scope));
            looked_up.push(nik);
            if send(difference, &mut summary).await.is_err() {
                return Ok(());
            }
        }
    }
    // The transaction is dropped, not committed: the staged list is rolled back.
    drop(tx);
    let _ = out.send(Answer::Summary(summary)).await;
    Ok(())
}

fn enrollment_facts(row: store::EnrollmentRow, scope: &Scope) -> EnrollmentFacts {
    EnrollmentFacts {
        id: row.id,
        rejection_reason: row.rejection_reason,
        funding: Funding {
            subsidy_id: row.subsidy_id,
            funder_kind: scope.funder_kind,
            funder_id: scope.funder,
            status: row.status,
            first_month: row.first_month,
            end_month: row.end_month,
            protection_start: row.protection_start,
            billed_months: row.billed_months,
        },
    }
}

/// The statement of `subsidy` for `month` (R6.2): participants judged by the coverage rule on the month's
/// reference date, money as the subsidy's ledger settles the month's bill, deaths and claims. Counts only: no one
/// is looked up by name, so nothing personal is audited.
#[tracing::instrument(skip_all)]
pub async fn statement(state: &AppState, caller: &Caller, subsidy: Uuid, month: Month) -> Result<Statement, Error> {
    let subsidy = subsidy::service::visible(state, caller, subsidy).await?.subsidy;
    contribution::billable(&subsidy, month)?;
    let (bills, _credit) = contribution::service::bills(state, caller, subsidy.id).await?;
    let today = today();
    let on = reference_date(month, today);
    let mut conn = state.pool.acquire().await?;
    let ledger: Ledger = coverage::service::ledger(&mut conn, subsidy.id).await?;
    let mut cohort = Vec::new();
    let mut after = String::new();
    loop {
        let page = store::funded_page(&mut *conn, None, &[subsidy.id], month, &after, PAGE as i64).await?;
        let Some(last) = page.last() else { break };
        after = last.0.as_str().to_owned();
        let scope =
            Scope { ids: vec![subsidy.id], funder: subsidy.funder_id, funder_kind: subsidy.funder_kind, month, on };
        cohort.extend(page.into_iter().map(|(_, e, died)| (enrollment_facts(e, &scope).funding, died)));
    }
    let (active, nearing_lapse, lapsed) = participants(&cohort, &ledger, on);
    let pending = cohort.iter().filter(|(f, _)| f.status == crate::enrollment::Status::Pending).count();
    let deaths = cohort.iter().filter(|(_, died)| died.is_some_and(|d| Month::of(d) == month)).count();
    let claims = store::claims(&mut *conn, subsidy.id, month).await?;
    let bill = bills.iter().find(|b| b.month == month);
    let arrears = ledger.arrears(on, None);
    let paid_through = ledger.months.iter().filter(|m| m.paid_on.is_some()).map(|m| m.month).max();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let settlement = bill.map(|b| b.settlement);
    Ok(Statement {
        subsidy_id: subsidy.id,
        subsidy_name: subsidy.name.clone(),
        month,
        active,
        pending: count(pending),
        bill_issued: bill.is_some(),
        billed_workers: bill.map_or(0, |b| b.workers),
        billed: settlement.map_or(Rupiah::ZERO, |s| s.billed),
        paid: settlement.map_or(Rupiah::ZERO, |s| s.paid),
        outstanding: settlement.map_or(Rupiah::ZERO, |s| s.outstanding),
        written_off: settlement.map_or(Rupiah::ZERO, |s| s.written_off),
        paid_through,
        arrears_warning: arrears.warning,
        unpaid_months: arrears.unpaid_months,
        nearing_lapse,
        lapsed,
        deaths: count(deaths),
        claims: u32::try_from(claims.events).unwrap_or(u32::MAX),
        claims_paid: u32::try_from(claims.paid).unwrap_or(u32::MAX),
        claims_paid_amount: claims.paid_amount,
    })
}
