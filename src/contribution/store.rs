//! SQL for bills and payments. Rows come out as domain values (`Month`, `Rupiah`, through `database/types.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::{money::Rupiah, month::Month};

/// Creates the bill of `subsidy` for `month` unless it exists, locks it, and brings its lines up to date: a line
/// for each enrollment registered and funded in that month, and for each one whose billed amount no longer matches
/// (ended since, or confirmed since), the difference as an adjustment. Answers the bill id and the lines added.
#[tracing::instrument(skip_all)]
pub async fn issue(
    conn: &mut PgConnection,
    subsidy: Uuid,
    month: NaiveDate,
    issued_by: Uuid,
) -> sqlx::Result<(Uuid, u64)> {
    let created = sqlx::query_scalar!(
        "insert into bills (id, subsidy_id, month, issued_by) values ($1, $2, $3, $4)
         on conflict (subsidy_id, month) do nothing returning id",
        Uuid::new_v4(),
        subsidy,
        month,
        issued_by
    )
    .fetch_optional(&mut *conn)
    .await?;
    let bill =
        sqlx::query_scalar!("select id from bills where subsidy_id = $1 and month = $2 for update", subsidy, month)
            .fetch_one(&mut *conn)
            .await?;
    let kind = if created.is_some() { "charge" } else { "adjustment" };
    let added = sqlx::query!(
        r#"
        with due as (
            select e.id as enrollment_id, s.jkk_monthly as jkk, s.jkm_monthly as jkm
            from enrollments e join subsidies s on s.id = e.subsidy_id
            where e.subsidy_id = $2 and e.participant_number is not null and e.status in ('active', 'ended')
              and e.months @> $3::date
        ),
        billed as (
            select enrollment_id, sum(jkk) as jkk, sum(jkm) as jkm from bill_lines where bill_id = $1
            group by enrollment_id
        )
        insert into bill_lines (bill_id, enrollment_id, kind, jkk, jkm)
        select $1, coalesce(d.enrollment_id, b.enrollment_id), $4,
               coalesce(d.jkk, 0) - coalesce(b.jkk, 0), coalesce(d.jkm, 0) - coalesce(b.jkm, 0)
        from due d full join billed b on b.enrollment_id = d.enrollment_id
        where coalesce(d.jkk, 0) <> coalesce(b.jkk, 0) or coalesce(d.jkm, 0) <> coalesce(b.jkm, 0)
        "#,
        bill,
        subsidy,
        month,
        kind
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    recount(conn, &[bill]).await?;
    Ok((bill, added))
}

/// Brings the totals kept on `bills` back in line with their lines.
async fn recount(conn: &mut PgConnection, bills: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query!(
        "update bills b set jkk = t.jkk, jkm = t.jkm, workers = t.workers, adjustments = t.adjustments
         from (select per.bill_id, coalesce(sum(per.jkk), 0) as jkk, coalesce(sum(per.jkm), 0) as jkm,
                      count(*) filter (where per.jkk + per.jkm > 0)::int as workers,
                      coalesce(sum(per.adjustments), 0)::int as adjustments
               from (select bill_id, sum(jkk) as jkk, sum(jkm) as jkm,
                            count(*) filter (where kind <> 'charge') as adjustments
                     from bill_lines where bill_id = any($1) group by bill_id, enrollment_id) per
               group by per.bill_id) t
         where b.id = t.bill_id",
        bills
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What a refund line gave back: the subsidy, the month and the amount.
#[derive(Debug, Clone)]
pub struct RefundRow {
    pub subsidy_id: Uuid,
    pub funder_id: Uuid,
    pub month: Month,
    pub amount: Rupiah,
}

/// Refunds what the worker's enrollments were billed for `from` (the month after a death) and later: one negative
/// `refund` line per enrollment and bill still owing for it (R1.8). Answers the refunds made.
#[tracing::instrument(skip_all)]
pub async fn refund_from(conn: &mut PgConnection, nik: &str, from: NaiveDate) -> sqlx::Result<Vec<RefundRow>> {
    let refunds = sqlx::query!(
        r#"with owed as (
               select l.bill_id, l.enrollment_id, sum(l.jkk) as jkk, sum(l.jkm) as jkm
               from bill_lines l join bills b on b.id = l.bill_id join enrollments e on e.id = l.enrollment_id
               where e.worker_nik = $1 and b.month >= $2
               group by l.bill_id, l.enrollment_id
               having sum(l.jkk) <> 0 or sum(l.jkm) <> 0
           ),
           added as (
               insert into bill_lines (bill_id, enrollment_id, kind, jkk, jkm)
               select bill_id, enrollment_id, 'refund', -jkk, -jkm from owed
               returning bill_id, jkk + jkm as amount
           )
           select a.bill_id as "bill_id!", b.subsidy_id, s.funder_id, b.month as "month: Month",
                  -a.amount as "amount!: Rupiah"
           from added a join bills b on b.id = a.bill_id join subsidies s on s.id = b.subsidy_id
           order by b.month"#,
        nik,
        from
    )
    .fetch_all(&mut *conn)
    .await?;
    let bills: Vec<Uuid> = refunds.iter().map(|r| r.bill_id).collect();
    recount(conn, &bills).await?;
    Ok(refunds
        .into_iter()
        .map(|r| RefundRow { subsidy_id: r.subsidy_id, funder_id: r.funder_id, month: r.month, amount: r.amount })
        .collect())
}

/// A read-only transaction on one snapshot, so that a subsidy's bills and the ledger replayed from them (a few
/// statements) see the same bills and payments.
#[tracing::instrument(skip_all)]
pub async fn snapshot(pool: &PgPool) -> sqlx::Result<Transaction<'static, Postgres>> {
    pool.begin_with("begin isolation level repeatable read, read only").await
}

/// A bill with its totals (what is paid of it comes from the subsidy's coverage ledger).
#[derive(Debug, Clone)]
pub struct BillRow {
    pub id: Uuid,
    pub subsidy_id: Uuid,
    pub month: Month,
    pub issued_at: DateTime<Utc>,
    pub jkk: Rupiah,
    pub jkm: Rupiah,
    pub workers: i64,
    pub adjustments: i64,
}

/// The bills of a subsidy, oldest month first.
#[tracing::instrument(skip_all)]
pub async fn bills(executor: impl PgExecutor<'_>, subsidy: Uuid) -> sqlx::Result<Vec<BillRow>> {
    sqlx::query_as!(
        BillRow,
        r#"select id, subsidy_id, month as "month: Month", issued_at, jkk as "jkk: Rupiah", jkm as "jkm: Rupiah",
                  workers::bigint as "workers!",
                  adjustments::bigint as "adjustments!"
           from bills where subsidy_id = $1 order by month"#,
        subsidy
    )
    .fetch_all(executor)
    .await
}

/// A recorded payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: Uuid,
    pub amount: Rupiah,
    pub paid_on: NaiveDate,
}

/// Records a payment unless its reference is already recorded for the subsidy; answers the payment stored under
/// that reference either way, and whether this call recorded it.
#[tracing::instrument(skip_all)]
pub async fn record_payment(
    conn: &mut PgConnection,
    subsidy: Uuid,
    amount: Decimal,
    paid_on: NaiveDate,
    reference: &str,
    by: Uuid,
) -> sqlx::Result<(PaymentRow, bool)> {
    let inserted = sqlx::query!(
        "insert into payments (id, subsidy_id, amount, paid_on, reference, recorded_by) values ($1, $2, $3, $4, $5, $6)
         on conflict (subsidy_id, reference) do nothing",
        Uuid::new_v4(),
        subsidy,
        amount,
        paid_on,
        reference,
        by
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let stored = sqlx::query_as!(
        PaymentRow,
        r#"select id, amount as "amount: Rupiah", paid_on from payments where subsidy_id = $1 and reference = $2"#,
        subsidy,
        reference
    )
    .fetch_one(conn)
    .await?;
    Ok((stored, inserted))
}
