//! SQL for reconciliation: the funder's list is staged in `reconcile_rows` (migration 0012) inside a transaction
//! that is never committed, and compared with workers, enrollments and subsidies a page at a time; and the
//! figures of a monthly statement. Rows come out as domain values.

use chrono::NaiveDate;
use sqlx::{Connection, PgConnection, PgExecutor, Postgres, Transaction};
use uuid::Uuid;

use crate::{
    agency::AgencyKind,
    enrollment::{InsurerRefusal, Status},
    money::Rupiah,
    month::Month,
    nik::Nik,
};

/// The reconciliation's transaction: one snapshot for the whole list, so every page is compared with the same
/// store. It stages the list and is dropped (rolled back) at the end, so the staged rows are never committed.
#[tracing::instrument(skip_all)]
pub async fn begin(conn: &mut PgConnection) -> sqlx::Result<Transaction<'_, Postgres>> {
    conn.begin_with("begin isolation level repeatable read").await
}

/// One list row to stage: its position, what was sent, and the NIK when it parsed.
#[derive(Debug, Clone)]
pub struct Staged {
    pub row_no: i32,
    pub nik_sent: String,
    pub full_name: String,
    pub first_month_sent: String,
    pub nik: Option<String>,
}

/// Stages a batch of rows in one statement.
#[tracing::instrument(skip_all)]
pub async fn stage(conn: &mut PgConnection, run: Uuid, rows: &[Staged]) -> sqlx::Result<()> {
    let row_nos: Vec<i32> = rows.iter().map(|r| r.row_no).collect();
    let bytes = |s: &String| s.as_bytes().to_vec();
    let niks_sent: Vec<Vec<u8>> = rows.iter().map(|r| bytes(&r.nik_sent)).collect();
    let names: Vec<Vec<u8>> = rows.iter().map(|r| bytes(&r.full_name)).collect();
    let months: Vec<Vec<u8>> = rows.iter().map(|r| bytes(&r.first_month_sent)).collect();
    let niks: Vec<Option<String>> = rows.iter().map(|r| r.nik.clone()).collect();
    sqlx::query!(
        "insert into reconcile_rows (run, row_no, nik_sent, full_name, first_month_sent, nik)
         select $1, * from unnest($2::int[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[])",
        run,
        &row_nos,
        &niks_sent,
        &names,
        &months,
        &niks as &[Option<String>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An enrollment of the reconciled subsidies, with the months it was billed for (net of adjustments).
#[derive(Debug, Clone)]
pub struct EnrollmentRow {
    pub id: Uuid,
    pub subsidy_id: Uuid,
    pub status: Status,
    pub first_month: Month,
    pub end_month: Option<Month>,
    pub protection_start: Option<NaiveDate>,
    pub rejection_reason: Option<InsurerRefusal>,
    pub billed_months: Vec<Month>,
}

/// A staged row with the store's side of it.
#[derive(Debug, Clone)]
pub struct RowFacts {
    pub row_no: i32,
    pub nik_sent: String,
    pub full_name: String,
    pub first_month_sent: String,
    /// The first row with the same NIK, when this one repeats it.
    pub first_row: Option<i32>,
    /// The registered name and date of death, when the NIK is registered.
    pub worker: Option<(String, Option<NaiveDate>)>,
    pub enrollment: Option<EnrollmentRow>,
    pub other_funder: Option<AgencyKind>,
}

/// The next page of staged rows after `after`, each with its registered worker, its enrollment in `subsidies`
/// (the one funding `month`, else the latest) and the kind of another funder (not `funder`) funding `month`.
#[tracing::instrument(skip_all)]
pub async fn rows_page(
    conn: &mut PgConnection,
    run: Uuid,
    subsidies: &[Uuid],
    funder: Uuid,
    month: Month,
    after: i32,
    limit: i64,
) -> sqlx::Result<Vec<RowFacts>> {
    let rows = sqlx::query!(
        r#"select r.row_no, r.nik_sent, r.full_name, r.first_month_sent,
                  (select min(d.row_no) from reconcile_rows d
                   where d.run = r.run and d.nik = r.nik and d.row_no < r.row_no) as first_row,
                  w.full_name as "registered_name?", w.date_of_death as "date_of_death?",
                  e.id as "enrollment_id?", e.subsidy_id as "subsidy_id?", e.status as "status?: Status",
                  e.first_month as "first_month?: Month", e.end_month as "end_month?: Month",
                  e.protection_start as "protection_start?",
                  e.rejection_reason as "rejection_reason?: InsurerRefusal", e.billed_months as "billed_months?",
                  o.kind as "other_funder?: AgencyKind"
           from reconcile_rows r
           left join workers w on w.nik = r.nik
           left join lateral (
               select e.id, e.subsidy_id, e.status, e.first_month, upper(e.months) as end_month, e.protection_start,
                      e.rejection_reason,
                      array(select b.month from bill_lines l join bills b on b.id = l.bill_id
                            where l.enrollment_id = e.id group by b.month having sum(l.jkk + l.jkm) > 0
                            order by b.month) as billed_months
               from enrollments e
               where e.worker_nik = r.nik and e.subsidy_id = any($2)
               order by (e.status <> 'rejected' and e.months @> $3::date) desc, e.created_at desc
               limit 1
           ) e on true
           left join lateral (
               select a.kind from enrollments x join subsidies s on s.id = x.subsidy_id
                      join agencies a on a.id = s.funder_id
               where x.worker_nik = r.nik and x.status <> 'rejected' and x.months @> $3::date
                 and s.funder_id <> $4
               limit 1
           ) o on true
           where r.run = $1 and r.row_no > $5
           order by r.row_no
           limit $6"#,
        run,
        subsidies,
        month.first_day(),
        funder,
        after,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let enrollment = match (r.enrollment_id, r.subsidy_id, r.status, r.first_month) {
                (Some(id), Some(subsidy_id), Some(status), Some(first_month)) => Some(EnrollmentRow {
                    id,
                    subsidy_id,
                    status,
                    first_month,
                    end_month: r.end_month,
                    protection_start: r.protection_start,
                    rejection_reason: r.rejection_reason,
                    billed_months: r.billed_months.unwrap_or_default().into_iter().map(Month::of).collect(),
                }),
                _ => None,
            };
            RowFacts {
                row_no: r.row_no,
                nik_sent: text(r.nik_sent),
                full_name: text(r.full_name),
                first_month_sent: text(r.first_month_sent),
                first_row: r.first_row,
                worker: r.registered_name.map(|name| (name, r.date_of_death)),
                enrollment,
                other_funder: r.other_funder,
            }
        })
        .collect())
}

/// What was staged from a `String`, as it was sent.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The next page (by NIK, after `after`) of enrollments of `subsidies` funding `month` whose worker is not on the
/// staged list; with `run` none, every such enrollment (a subsidy's cohort), with the worker's date of death.
#[tracing::instrument(skip_all)]
pub async fn funded_page(
    executor: impl PgExecutor<'_>,
    run: Option<Uuid>,
    subsidies: &[Uuid],
    month: Month,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<(Nik, EnrollmentRow, Option<NaiveDate>)>> {
    let rows = sqlx::query!(
        r#"select e.worker_nik as "nik: Nik", e.id, e.subsidy_id, e.status as "status: Status",
                  e.first_month as "first_month: Month", upper(e.months) as "end_month: Month",
                  e.protection_start, e.rejection_reason as "rejection_reason: InsurerRefusal",
                  w.date_of_death,
                  array(select b.month from bill_lines l join bills b on b.id = l.bill_id
                        where l.enrollment_id = e.id group by b.month having sum(l.jkk + l.jkm) > 0
                        order by b.month) as "billed_months!"
           from enrollments e join workers w on w.nik = e.worker_nik
           where e.subsidy_id = any($2) and e.status <> 'rejected' and e.months @> $3::date
             and ($1::uuid is null
                  or not exists (select 1 from reconcile_rows r where r.run = $1 and r.nik = e.worker_nik))
             and e.worker_nik > $4
           order by e.worker_nik
           limit $5"#,
        run,
        subsidies,
        month.first_day(),
        after,
        limit
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let enrollment = EnrollmentRow {
                id: r.id,
                subsidy_id: r.subsidy_id,
                status: r.status,
                first_month: r.first_month,
                end_month: r.end_month,
                protection_start: r.protection_start,
                rejection_reason: r.rejection_reason,
                billed_months: r.billed_months.into_iter().map(Month::of).collect(),
            };
            (r.nik, enrollment, r.date_of_death)
        })
        .collect())
}

/// A subsidy's claims in a month: those whose event happened in it, and those paid in it with their amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimFigures {
    pub events: i64,
    pub paid: i64,
    pub paid_amount: Rupiah,
}

#[tracing::instrument(skip_all)]
pub async fn claims(executor: impl PgExecutor<'_>, subsidy: Uuid, month: Month) -> sqlx::Result<ClaimFigures> {
    let r = sqlx::query!(
        r#"select count(*) filter (where c.event_date >= $2 and c.event_date < $3) as "events!",
                  count(p.claim_id) filter (where p.paid_on >= $2 and p.paid_on < $3) as "paid!",
                  coalesce(sum(p.amount) filter (where p.paid_on >= $2 and p.paid_on < $3), 0) as "amount!: Rupiah"
           from claims c left join claim_payments p on p.claim_id = c.id
           where c.subsidy_id = $1"#,
        subsidy,
        month.first_day(),
        month.next().first_day()
    )
    .fetch_one(executor)
    .await?;
    Ok(ClaimFigures { events: r.events, paid: r.paid, paid_amount: r.amount })
}
