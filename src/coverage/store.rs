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

/// Everything a batch of coverage questions is judged on, read in one statement: the workers, their fundings, and
/// once per subsidy funding them its ledger inputs and benefit settings.
#[derive(Debug, Default)]
pub struct CoverageInputs {
    pub workers: Vec<WorkerRow>,
    pub fundings: HashMap<Nik, Vec<FundingRow>>,
    pub ledgers: HashMap<Uuid, LedgerInput>,
    pub policies: HashMap<Uuid, crate::subsidy::store::PolicyRow>,
}

/// The workers named by any of `niks` or `participant_numbers` with everything [`CoverageInputs`] holds, in one
/// statement: a row per worker and funding (a worker without fundings has one row without), the subsidy's bills,
/// payments and backdates (what [`ledger_inputs`] reads) on the first row of each subsidy only.
#[tracing::instrument(skip_all)]
pub async fn coverage_inputs(
    executor: impl PgExecutor<'_>,
    niks: &[String],
    participant_numbers: &[String],
) -> sqlx::Result<CoverageInputs> {
    let rows = sqlx::query!(
        r#"with found as (
               select w.nik, w.participant_number, w.date_of_death, f.*,
                      f.subsidy_id is not null
                        and row_number() over (partition by f.subsidy_id order by w.nik, f.first_month) = 1
                        as first_of_subsidy
               from workers w
               left join lateral (
                   select e.subsidy_id, s.funder_id, a.kind as funder_kind, e.status, e.first_month,
                          upper(e.months) as end_month, e.protection_start,
                          array(select b.month from bill_lines l join bills b on b.id = l.bill_id
                                where l.enrollment_id = e.id group by b.month having sum(l.jkk + l.jkm) > 0
                                order by b.month) as billed_months,
                          s.jkk_monthly, s.full_death_benefit_from, s.early_death_benefit
                   from enrollments e join subsidies s on s.id = e.subsidy_id join agencies a on a.id = s.funder_id
                   where e.worker_nik = w.nik and e.status <> 'rejected'
               ) f on true
               where w.nik = any($1) or w.participant_number = any($2)
           )
           select found.nik as "nik!: Nik", found.participant_number, found.date_of_death,
                  found.subsidy_id as "subsidy_id?", found.funder_id as "funder_id?",
                  found.funder_kind as "funder_kind?: AgencyKind", found.status as "status?: Status",
                  found.first_month as "first_month?: Month", found.end_month as "end_month?: Month",
                  found.protection_start as "protection_start?", found.billed_months as "billed_months?: Vec<Month>",
                  found.jkk_monthly as "jkk_monthly?: Rupiah", found.full_death_benefit_from as "full_death_benefit_from?",
                  found.early_death_benefit as "early_death_benefit?: Rupiah",
                  b.months as "bill_months?: Vec<Month>", b.billed as "bill_amounts?: Vec<Rupiah>",
                  p.dates as "paid_on?: Vec<NaiveDate>", p.amounts as "paid?: Vec<Rupiah>",
                  d.months as "backdated?: Vec<Month>"
           from found
           left join lateral (select array_agg(month) as months, array_agg(jkk + jkm) as billed from bills
                              where subsidy_id = found.subsidy_id and found.first_of_subsidy) b on true
           left join lateral (select array_agg(paid_on) as dates, array_agg(amount) as amounts from payments
                              where subsidy_id = found.subsidy_id and found.first_of_subsidy) p on true
           left join lateral (select array_agg(month) as months from lapse_backdates
                              where subsidy_id = found.subsidy_id and found.first_of_subsidy) d on true
           order by found.nik, found.first_month"#,
        niks,
        participant_numbers
    )
    .fetch_all(executor)
    .await?;
    let mut inputs = CoverageInputs::default();
    for r in rows {
        if inputs.workers.last().is_none_or(|w| w.nik != r.nik) {
            inputs.workers.push(WorkerRow {
                nik: r.nik.clone(),
                participant_number: r.participant_number,
                date_of_death: r.date_of_death,
            });
        }
        let (Some(subsidy_id), Some(funder_id), Some(funder_kind), Some(status), Some(first_month)) =
            (r.subsidy_id, r.funder_id, r.funder_kind, r.status, r.first_month)
        else {
            continue;
        };
        inputs.fundings.entry(r.nik).or_default().push(FundingRow {
            subsidy_id,
            funder_id,
            funder_kind,
            status,
            first_month,
            end_month: r.end_month,
            protection_start: r.protection_start,
            billed_months: r.billed_months.unwrap_or_default(),
        });
        let ledger = inputs.ledgers.entry(subsidy_id).or_default();
        // Aggregated without an order (the replay sorts): the two arrays of one aggregate row are aligned.
        if let (Some(months), Some(amounts)) = (r.bill_months, r.bill_amounts) {
            ledger.bills.extend(months.into_iter().zip(amounts));
        }
        if let (Some(dates), Some(amounts)) = (r.paid_on, r.paid) {
            ledger.payments.extend(dates.into_iter().zip(amounts));
        }
        ledger.backdated.extend(r.backdated.unwrap_or_default());
        if let (Some(jkk_monthly), Some(full_death_benefit_from), Some(early_death_benefit)) =
            (r.jkk_monthly, r.full_death_benefit_from, r.early_death_benefit)
        {
            inputs.policies.entry(subsidy_id).or_insert(crate::subsidy::store::PolicyRow {
                id: subsidy_id,
                jkk_monthly,
                full_death_benefit_from,
                early_death_benefit,
            });
        }
    }
    Ok(inputs)
}
