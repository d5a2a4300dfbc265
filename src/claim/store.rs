//! SQL for claims and their payments.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A claim as stored, with its funder's kind and its payment.
#[derive(Debug, Clone)]
pub struct ClaimRow {
    pub id: Uuid,
    pub worker_nik: String,
    pub event: String,
    pub event_date: NaiveDate,
    pub status: String,
    pub subsidy_id: Option<Uuid>,
    pub funder_id: Option<Uuid>,
    pub funder_kind: Option<String>,
    pub contribution_months: Option<i32>,
    pub accident_place: Option<String>,
    pub accident_cause: Option<String>,
    pub accident_at: Option<DateTime<Utc>>,
    pub notifier_name: Option<String>,
    pub notifier_phone: Option<String>,
    pub particulars: Vec<u8>,
    pub documents: Vec<String>,
    pub complete_at: Option<DateTime<Utc>>,
    pub breakdown: Option<Vec<u8>>,
    pub total: Option<Decimal>,
    pub rejection_reason: Option<String>,
    pub request_id: String,
    pub filed_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub payment_reference: Option<String>,
    pub paid_on: Option<NaiveDate>,
}

/// A claim to insert.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub id: Uuid,
    pub worker_nik: String,
    pub event: &'static str,
    pub event_date: NaiveDate,
    pub status: &'static str,
    pub subsidy_id: Option<Uuid>,
    pub funder_id: Option<Uuid>,
    pub contribution_months: Option<i32>,
    pub accident_place: Option<String>,
    pub accident_cause: Option<String>,
    pub accident_at: Option<DateTime<Utc>>,
    pub notifier_name: Option<String>,
    pub notifier_phone: Option<String>,
    pub particulars: Vec<u8>,
    pub documents: Vec<String>,
    pub complete: bool,
    pub request_id: String,
    pub filed_by: Uuid,
}

/// Inserts a claim unless the agency already used the request id; answers whether it inserted. A second death
/// claim for the worker fails on `claims_one_death_claim_per_worker`.
pub async fn insert(conn: &mut PgConnection, claim: &NewClaim) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "insert into claims (id, worker_nik, event, event_date, status, subsidy_id, funder_id, contribution_months,
                             accident_place, accident_cause, accident_at, notifier_name, notifier_phone, particulars,
                             documents, complete_at, request_id, filed_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                 case when $16 then now() end, $17, $18)
         on conflict (filed_by, request_id) do nothing",
        claim.id,
        claim.worker_nik,
        claim.event,
        claim.event_date,
        claim.status,
        claim.subsidy_id,
        claim.funder_id,
        claim.contribution_months,
        claim.accident_place,
        claim.accident_cause,
        claim.accident_at,
        claim.notifier_name,
        claim.notifier_phone,
        claim.particulars,
        &claim.documents,
        claim.complete,
        claim.request_id,
        claim.filed_by
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Completes a funder's notice into a filed claim (the insurer's filing).
#[allow(clippy::too_many_arguments)]
pub async fn file_notice(
    conn: &mut PgConnection,
    id: Uuid,
    event: &str,
    subsidy_id: Uuid,
    funder_id: Uuid,
    contribution_months: i32,
    particulars: &[u8],
    documents: &[String],
    complete: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set status = 'filed', event = $2, subsidy_id = $3, funder_id = $4, contribution_months = $5,
                particulars = $6, documents = $7, complete_at = case when $8 then now() end
         where id = $1",
        id,
        event,
        subsidy_id,
        funder_id,
        contribution_months,
        particulars,
        documents,
        complete
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<ClaimRow>> {
    Ok(page(executor, &Filter { id: Some(id), ..Filter::default() }, None, 1).await?.pop())
}

/// The claim an agency filed under a request id.
pub async fn by_request(executor: impl PgExecutor<'_>, filed_by: Uuid, request_id: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("select id from claims where filed_by = $1 and request_id = $2", filed_by, request_id)
        .fetch_optional(executor)
        .await
}

/// Locks a claim for a change of state.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!("select id from claims where id = $1 for update", id).fetch_optional(conn).await?.is_some())
}

pub async fn set_documents(
    conn: &mut PgConnection,
    id: Uuid,
    documents: &[String],
    complete: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set documents = $2,
                complete_at = case when $3 then coalesce(complete_at, now()) end
         where id = $1",
        id,
        documents,
        complete
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn assess(conn: &mut PgConnection, id: Uuid, breakdown: &[u8], total: Decimal) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set status = 'assessed', breakdown = $2, total = $3, assessed_at = now() where id = $1",
        id,
        breakdown,
        total
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    rejection_reason: Option<&str>,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set status = $2, rejection_reason = $3, decided_by = $4, decided_at = now() where id = $1",
        id,
        status,
        rejection_reason,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the payment of a claim and marks it paid. A second payment of the claim fails on `claim_payments_pkey`,
/// a reused reference on `claim_payments_reference_unique`.
pub async fn pay(
    conn: &mut PgConnection,
    id: Uuid,
    amount: Decimal,
    reference: &str,
    paid_on: NaiveDate,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into claim_payments (claim_id, amount, reference, paid_on, recorded_by) values ($1, $2, $3, $4, $5)",
        id,
        amount,
        reference,
        paid_on,
        by
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("update claims set status = 'paid' where id = $1", id).execute(conn).await?;
    Ok(())
}

/// Filters of a list of claims; None means "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<Uuid>,
    pub funder: Option<Uuid>,
    pub status: Option<String>,
    pub worker_nik: Option<String>,
    /// Complete death claims, neither paid nor rejected, complete before this instant.
    pub complete_before: Option<DateTime<Utc>>,
}

/// Claims newest first, after `after` (created_at, id).
pub async fn page(
    executor: impl PgExecutor<'_>,
    filter: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ClaimRow>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as!(
        ClaimRow,
        r#"select c.id, c.worker_nik, c.event, c.event_date, c.status, c.subsidy_id, c.funder_id,
                  a.kind as "funder_kind?", c.contribution_months, c.accident_place, c.accident_cause, c.accident_at,
                  c.notifier_name, c.notifier_phone, c.particulars, c.documents, c.complete_at, c.breakdown, c.total,
                  c.rejection_reason, c.request_id, c.filed_by, c.created_at, c.updated_at,
                  p.reference as "payment_reference?", p.paid_on as "paid_on?"
           from claims c left join agencies a on a.id = c.funder_id left join claim_payments p on p.claim_id = c.id
           where ($1::uuid is null or c.id = $1)
             and ($2::uuid is null or c.funder_id = $2)
             and ($3::text is null or c.status = $3)
             and ($4::text is null or c.worker_nik = $4)
             and ($5::timestamptz is null or (
                     c.event = 'death' and c.status not in ('paid', 'rejected') and c.complete_at < $5))
             and ($6::timestamptz is null or (c.created_at, c.id) < ($6, $7))
           order by c.created_at desc, c.id desc
           limit $8"#,
        filter.id,
        filter.funder,
        filter.status,
        filter.worker_nik,
        filter.complete_before,
        after_at,
        after_id,
        limit
    )
    .fetch_all(executor)
    .await
}
