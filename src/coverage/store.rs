//! SQL for coverage: a worker's fundings, and what a subsidy's ledger is replayed from. Rows come out as domain
//! values (`Nik`, `Month`, `Rupiah`, `AgencyKind`, the enrollment `Status`, through `database/types.rs`).

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{agency::AgencyKind, enrollment::Status, money::Rupiah, month::Month, nik::Nik};

/// A worker a coverage question names, by NIK or participant number.
#[derive(Debug, Clone)]
pub struct WorkerRow {
    pub nik: Nik,
    pub participant_number: Option<String>,
    pub date_of_death: Option<NaiveDate>,
}

/// The workers named by any of `niks` or `participant_numbers`, in one statement.
#[tracing::instrument(skip_all)]
pub async fn workers(
    executor: impl PgExecutor<'_>,
    niks: &[String],
    participant_numbers: &[String],
) -> sqlx::Result<Vec<WorkerRow>> {
    sqlx::query_as!(
        WorkerRow,
        r#"select nik as "nik: Nik", participant_number, date_of_death from workers
           where nik = any($1) or participant_number = any($2)"#,
        niks,
        participant_numbers
    )
    .fetch_all(executor)
    .await
}

/// The worker with this NIK or participant number.
#[tracing::instrument(skip_all)]
pub async fn worker(
    executor: impl PgExecutor<'_>,
    nik: Option<&str>,
    participant_number: Option<&str>,
) -> sqlx::Result<Option<WorkerRow>> {
    let niks: Vec<String> = nik.map(str::to_owned).into_iter().collect();
    let numbers: Vec<String> = participant_number.map(str::to_owned).into_iter().collect();
    Ok(workers(executor, &niks, &numbers).await?.pop())
}

/// The fundings of several workers, by NIK, in one statement.
#[tracing::instrument(skip_all)]
pub async fn fundings(executor: impl PgExecutor<'_>, niks: &[String]) -> sqlx::Result<HashMap<Nik, Vec<FundingRow>>> {
    let rows = sqlx::query!(
        r#"select e.worker_nik as "worker_nik: Nik", e.subsidy_id, s.funder_id, a.kind as "funder_kind: AgencyKind",
                  e.status as "status: Status", e.first_month as "first_month: Month",
                  upper(e.months) as "end_month: Month", e.protection_start,
                  array(select b.month from bill_lines l join bills b on b.id = l.bill_id
                        where l.enrollment_id = e.id group by b.month having sum(l.jkk + l.jkm) > 0
                        order by b.month) as "billed_months!"
           from enrollments e join subsidies s on s.id = e.subsidy_id join agencies a on a.id = s.funder_id
           where e.worker_nik = any($1) and e.status <> 'rejected'
           order by e.worker_nik, e.first_month"#,
        niks
    )
    .fetch_all(executor)
    .await?;
    let mut out: HashMap<Nik, Vec<FundingRow>> = HashMap::new();
    for r in rows {
        out.entry(r.worker_nik).or_default().push(FundingRow {
            subsidy_id: r.subsidy_id,
            funder_id: r.funder_id,
            funder_kind: r.funder_kind,
            status: r.status,
            first_month: r.first_month,
            end_month: r.end_month,
            protection_start: r.protection_start,
            billed_months: r.billed_months.into_iter().map(Month::of).collect(),
        });
    }
    Ok(out)
}

/// One enrollment of a worker with the months it was billed for (net of adjustments).
#[derive(Debug, Clone)]
pub struct FundingRow {
    pub subsidy_id: Uuid,
    pub funder_id: Uuid,
    pub funder_kind: AgencyKind,
    pub status: Status,
    pub first_month: Month,
    pub end_month: Option<Month>,
    pub protection_start: Option<NaiveDate>,
    pub billed_months: Vec<Month>,
}

/// What a subsidy's ledger is replayed from: bills (month, billed), payments (date, amount), backdated months.
#[derive(Debug, Clone, Default)]
pub struct LedgerInput {
    pub bills: Vec<(Month, Rupiah)>,
    pub payments: Vec<(NaiveDate, Rupiah)>,
    pub backdated: Vec<Month>,
}

/// The ledger inputs of several subsidies, three statements whatever their number.
#[tracing::instrument(skip_all)]
pub async fn ledger_inputs(conn: &mut PgConnection, subsidies: &[Uuid]) -> sqlx::Result<HashMap<Uuid, LedgerInput>> {
    let mut inputs: HashMap<Uuid, LedgerInput> = subsidies.iter().map(|id| (*id, LedgerInput::default())).collect();
    let bills = sqlx::query!(
        r#"select subsidy_id, month as "month: Month", jkk + jkm as "billed!: Rupiah" from bills
           where subsidy_id = any($1)"#,
        subsidies
    )
    .fetch_all(&mut *conn)
    .await?;
    for bill in bills {
        inputs.entry(bill.subsidy_id).or_default().bills.push((bill.month, bill.billed));
    }
    let payments = sqlx::query!(
        r#"select subsidy_id, paid_on, amount as "amount: Rupiah" from payments where subsidy_id = any($1)"#,
        subsidies
    )
    .fetch_all(&mut *conn)
    .await?;
    for payment in payments {
        inputs.entry(payment.subsidy_id).or_default().payments.push((payment.paid_on, payment.amount));
    }
    let backdates = sqlx::query!(
        r#"select subsidy_id, month as "month: Month" from lapse_backdates where subsidy_id = any($1)"#,
        subsidies
    )
    .fetch_all(&mut *conn)
    .await?;
    for backdate in backdates {
        inputs.entry(backdate.subsidy_id).or_default().backdated.push(backdate.month);
    }
    Ok(inputs)
}

#[tracing::instrument(skip_all)]
pub async fn record_backdate(conn: &mut PgConnection, subsidy: Uuid, month: Month, by: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into lapse_backdates (subsidy_id, month, recorded_by) values ($1, $2, $3) on conflict do nothing",
        subsidy,
        month as _,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}
