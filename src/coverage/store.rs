//! SQL for coverage: a worker's fundings, and what a subsidy's ledger is replayed from.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A worker a coverage question names, by NIK or participant number.
#[derive(Debug, Clone)]
pub struct WorkerRow {
    pub nik: String,
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
        "select nik, participant_number, date_of_death from workers
         where nik = any($1) or participant_number = any($2)",
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
pub async fn fundings(
    executor: impl PgExecutor<'_>,
    niks: &[String],
) -> sqlx::Result<HashMap<String, Vec<FundingRow>>> {
    let rows = sqlx::query!(
        r#"select e.worker_nik, e.subsidy_id, s.funder_id, a.kind as funder_kind, e.status, e.first_month,
                  upper(e.months) as end_month, e.protection_start,
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
    let mut out: HashMap<String, Vec<FundingRow>> = HashMap::new();
    for r in rows {
        out.entry(r.worker_nik).or_default().push(FundingRow {
            subsidy_id: r.subsidy_id,
            funder_id: r.funder_id,
            funder_kind: r.funder_kind,
            status: r.status,
            first_month: r.first_month,
            end_month: r.end_month,
            protection_start: r.protection_start,
            billed_months: r.billed_months,
        });
    }
    Ok(out)
}

/// One enrollment of a worker with the months it was billed for (net of adjustments).
#[derive(Debug, Clone)]
pub struct FundingRow {
    pub subsidy_id: Uuid,
    pub funder_id: Uuid,
    pub funder_kind: String,
    pub status: String,
    pub first_month: NaiveDate,
    pub end_month: Option<NaiveDate>,
    pub protection_start: Option<NaiveDate>,
    pub billed_months: Vec<NaiveDate>,
}

/// What a subsidy's ledger is replayed from: bills (month, billed), payments (date, amount), backdated months.
#[derive(Debug, Clone, Default)]
pub struct LedgerInput {
    pub bills: Vec<(NaiveDate, Decimal)>,
    pub payments: Vec<(NaiveDate, Decimal)>,
    pub backdated: Vec<NaiveDate>,
}

/// The ledger inputs of several subsidies, three statements whatever their number.
#[tracing::instrument(skip_all)]
pub async fn ledger_inputs(conn: &mut PgConnection, subsidies: &[Uuid]) -> sqlx::Result<HashMap<Uuid, LedgerInput>> {
    let mut inputs: HashMap<Uuid, LedgerInput> = subsidies.iter().map(|id| (*id, LedgerInput::default())).collect();
    let bills = sqlx::query!(
        r#"select subsidy_id, month, jkk + jkm as "billed!" from bills where subsidy_id = any($1)"#,
        subsidies
    )
    .fetch_all(&mut *conn)
    .await?;
    for bill in bills {
        inputs.entry(bill.subsidy_id).or_default().bills.push((bill.month, bill.billed));
    }
    let payments =
        sqlx::query!("select subsidy_id, paid_on, amount from payments where subsidy_id = any($1)", subsidies)
            .fetch_all(&mut *conn)
            .await?;
    for payment in payments {
        inputs.entry(payment.subsidy_id).or_default().payments.push((payment.paid_on, payment.amount));
    }
    let backdates = sqlx::query!("select subsidy_id, month from lapse_backdates where subsidy_id = any($1)", subsidies)
        .fetch_all(&mut *conn)
        .await?;
    for backdate in backdates {
        inputs.entry(backdate.subsidy_id).or_default().backdated.push(backdate.month);
    }
    Ok(inputs)
}

#[tracing::instrument(skip_all)]
pub async fn record_backdate(conn: &mut PgConnection, subsidy: Uuid, month: NaiveDate, by: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into lapse_backdates (subsidy_id, month, recorded_by) values ($1, $2, $3) on conflict do nothing",
        subsidy,
        month,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The replayed ledgers of `subsidies` as of `today`.
#[tracing::instrument(skip_all)]
pub async fn ledgers(
    conn: &mut PgConnection,
    subsidies: &[Uuid],
    today: NaiveDate,
) -> anyhow::Result<HashMap<Uuid, super::Ledger>> {
    use crate::{money::Rupiah, month::Month};
    let mut out = HashMap::new();
    for (id, input) in ledger_inputs(conn, subsidies).await? {
        let bills = input
            .bills
            .iter()
            .map(|(month, billed)| Ok((Month::of(*month), Rupiah::new(*billed)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let payments = input
            .payments
            .iter()
            .map(|(date, amount)| Ok((*date, Rupiah::new(*amount)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let backdated: Vec<Month> = input.backdated.iter().map(|m| Month::of(*m)).collect();
        out.insert(id, super::ledger(&bills, &payments, &backdated, today));
    }
    Ok(out)
}
