//! SQL for claims and their payments. Rows come out as domain values (`Status`, `Event`, `Nik`, `Rupiah`,
//! `AgencyKind`, `Document`s, through the impls in `database/types.rs`); what is sealed stays sealed here.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{Document, Event, Status};
use crate::{agency::AgencyKind, money::Rupiah, nik::Nik, participant::ParticipantNumber};

/// A claim as stored, with its funder's kind and its payment.
#[derive(Debug, Clone)]
pub struct ClaimRow {
    pub id: Uuid,
    pub worker_nik: Nik,
    pub event: Event,
    pub event_date: NaiveDate,
    pub status: Status,
    pub subsidy_id: Option<Uuid>,
    pub funder_id: Option<Uuid>,
    pub funder_kind: Option<AgencyKind>,
    pub contribution_months: Option<i32>,
    pub accident_place: Option<String>,
    pub accident_cause: Option<String>,
    pub accident_at: Option<DateTime<Utc>>,
    pub notifier_name: Option<String>,
    pub notifier_phone: Option<String>,
    pub particulars: Vec<u8>,
    pub documents: Vec<Document>,
    pub complete_at: Option<DateTime<Utc>>,
    pub breakdown: Option<Vec<u8>>,
    pub total: Option<Rupiah>,
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
    pub worker_nik: Nik,
    pub event: Event,
    pub event_date: NaiveDate,
    pub status: Status,
    pub subsidy_id: Option<Uuid>,
    pub funder_id: Option<Uuid>,
    pub contribution_months: Option<i32>,
    pub accident_place: Option<String>,
    pub accident_cause: Option<String>,
    pub accident_at: Option<DateTime<Utc>>,
    pub notifier_name: Option<String>,
    pub notifier_phone: Option<String>,
    pub particulars: Vec<u8>,
    pub documents: Vec<Document>,
    pub complete: bool,
    pub request_id: String,
    pub filed_by: Uuid,
}

/// Inserts a claim unless the agency already used the request id; answers whether it inserted. A second death
/// claim for the worker fails on `claims_one_death_claim_per_worker`.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, claim: &NewClaim) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "insert into claims (id, worker_nik, event, event_date, status, subsidy_id, funder_id, contribution_months,
                             accident_place, accident_cause, accident_at, notifier_name, notifier_phone, particulars,
                             documents, complete_at, request_id, filed_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                 case when $16 then now() end, $17, $18)
         on conflict (filed_by, request_id) do nothing",
        claim.id,
        &claim.worker_nik as _,
        claim.event as _,
        claim.event_date,
        claim.status as _,
        claim.subsidy_id,
        claim.funder_id,
        claim.contribution_months,
        claim.accident_place,
        claim.accident_cause,
        claim.accident_at,
        claim.notifier_name,
        claim.notifier_phone,
        claim.particulars,
        &claim.documents[..] as _,
        claim.complete,
        claim.request_id,
        claim.filed_by
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// What the insurer's filing adds to a funder's notice.
#[derive(Debug, Clone)]
pub struct NoticeFiling {
    pub event: Event,
    pub subsidy_id: Uuid,
    pub funder_id: Uuid,
    pub contribution_months: i32,
    pub particulars: Vec<u8>,
    pub documents: Vec<Document>,
    pub complete: bool,
}

/// Completes a funder's notice into a filed claim (the insurer's filing). A second death claim for the worker
/// fails on `claims_one_death_claim_per_worker`.
#[tracing::instrument(skip_all)]
pub async fn file_notice(conn: &mut PgConnection, id: Uuid, filing: &NoticeFiling) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set status = $2, event = $3, subsidy_id = $4, funder_id = $5, contribution_months = $6,
                particulars = $7, documents = $8, complete_at = case when $9 then now() end
         where id = $1",
        id,
        Status::Filed as _,
        filing.event as _,
        filing.subsidy_id,
        filing.funder_id,
        filing.contribution_months,
        filing.particulars,
        &filing.documents[..] as _,
        filing.complete
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<ClaimRow>> {
    Ok(page(executor, &Filter { id: Some(id), ..Filter::default() }, None, 1).await?.pop())
}

/// The claim an agency filed under a request id.
#[tracing::instrument(skip_all)]
pub async fn by_request(executor: impl PgExecutor<'_>, filed_by: Uuid, request_id: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("select id from claims where filed_by = $1 and request_id = $2", filed_by, request_id)
        .fetch_optional(executor)
        .await
}

/// Locks a claim for a change of state.
#[tracing::instrument(skip_all)]
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!("select id from claims where id = $1 for update", id).fetch_optional(conn).await?.is_some())
}

/// Sets the documents present and whether the claim is complete (keeping when it first was).
#[tracing::instrument(skip_all)]
pub async fn set_documents(
    conn: &mut PgConnection,
    id: Uuid,
    documents: &[Document],
    complete: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set documents = $2,
                complete_at = case when $3 then coalesce(complete_at, now()) end
         where id = $1",
        id,
        documents as _,
        complete
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the sealed breakdown and its total; the claim is ASSESSED.
#[tracing::instrument(skip_all)]
pub async fn assess(conn: &mut PgConnection, id: Uuid, breakdown: &[u8], total: Rupiah) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set status = $2, breakdown = $3, total = $4, assessed_at = now() where id = $1",
        id,
        Status::Assessed as _,
        breakdown,
        total as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The insurer's decision: APPROVED, or REJECTED with its reason.
#[tracing::instrument(skip_all)]
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: Status,
    rejection_reason: Option<&str>,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update claims set status = $2, rejection_reason = $3, decided_by = $4, decided_at = now() where id = $1",
        id,
        status as _,
        rejection_reason,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the payment of a claim and marks it paid. A second payment of the claim fails on `claim_payments_pkey`,
/// a reused reference on `claim_payments_reference_unique`.
#[tracing::instrument(skip_all)]
pub async fn pay(
    conn: &mut PgConnection,
    id: Uuid,
    amount: Rupiah,
    reference: &str,
    paid_on: NaiveDate,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into claim_payments (claim_id, amount, reference, paid_on, recorded_by) values ($1, $2, $3, $4, $5)",
        id,
        amount as _,
        reference,
        paid_on,
        by
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("update claims set status = $2 where id = $1", id, Status::Paid as _).execute(conn).await?;
    Ok(())
}

/// Filters of a list of claims; None means "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<Uuid>,
    pub funder: Option<Uuid>,
    pub status: Option<Status>,
    pub worker_nik: Option<Nik>,
    /// Complete death claims, neither paid nor rejected, complete before this instant.
    pub complete_before: Option<DateTime<Utc>>,
}

/// Claims newest first, after `after` (created_at, id).
#[tracing::instrument(skip_all)]
pub async fn page(
    executor: impl PgExecutor<'_>,
    filter: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ClaimRow>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as!(
        ClaimRow,
        r#"select c.id, c.worker_nik as "worker_nik: Nik", c.event as "event: Event", c.event_date,
                  c.status as "status: Status", c.subsidy_id, c.funder_id, a.kind as "funder_kind?: AgencyKind",
                  c.contribution_months, c.accident_place, c.accident_cause, c.accident_at, c.notifier_name,
                  c.notifier_phone, c.particulars, c.documents as "documents: Vec<Document>", c.complete_at,
                  c.breakdown, c.total as "total: Rupiah",
                  c.rejection_reason, c.request_id, c.filed_by, c.created_at, c.updated_at,
                  p.reference as "payment_reference?", p.paid_on as "paid_on?"
           from claims c left join agencies a on a.id = c.funder_id left join claim_payments p on p.claim_id = c.id
           where ($1::uuid is null or c.id = $1)
             and ($2::uuid is null or c.funder_id = $2)
             and ($3::text is null or c.status = $3)
             and ($4::text is null or c.worker_nik = $4)
             and ($5::timestamptz is null or (
                     c.event = $9 and c.status <> all($10) and c.complete_at < $5))
             and ($6::timestamptz is null or (c.created_at, c.id) < ($6, $7))
           order by c.created_at desc, c.id desc
           limit $8"#,
        filter.id,
        filter.funder,
        filter.status as _,
        filter.worker_nik.as_ref() as _,
        filter.complete_before,
        after_at,
        after_id,
        limit,
        Event::Death as _,
        &[Status::Paid, Status::Rejected][..] as _
    )
    .fetch_all(executor)
    .await
}

/// A worker a claim names, with the death reported for them (date and certificate).
#[derive(Debug, Clone)]
pub struct WorkerRow {
    pub nik: Nik,
    pub death: Option<(NaiveDate, String)>,
}

/// The worker with this NIK or participant number.
#[tracing::instrument(skip_all)]
pub async fn worker(
    executor: impl PgExecutor<'_>,
    nik: Option<&Nik>,
    participant_number: Option<&ParticipantNumber>,
) -> sqlx::Result<Option<WorkerRow>> {
    let row = sqlx::query!(
        r#"select w.nik as "nik: Nik", d.date_of_death as "date_of_death?", d.certificate_number as "certificate_number?"
           from workers w left join deaths d on d.worker_nik = w.nik
           where w.nik = $1 or w.participant_number = $2"#,
        nik as _,
        participant_number.map(ParticipantNumber::as_str)
    )
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|r| WorkerRow { nik: r.nik, death: r.date_of_death.zip(r.certificate_number) }))
}

/// A claim's sealed values, as a re-seal reads and writes them.
#[derive(Debug, Clone)]
pub struct SealedValues {
    pub id: Uuid,
    pub particulars: Vec<u8>,
    pub breakdown: Option<Vec<u8>>,
    pub accident_place: Option<String>,
    pub accident_cause: Option<String>,
    pub notifier_name: Option<String>,
    pub notifier_phone: Option<String>,
}

/// Marks the transaction as a re-seal: the claims it rewrites keep their update time (migration 0017).
pub async fn mark_resealing(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query_scalar!("select set_config('lindung.resealing', 'on', true)").fetch_one(conn).await?;
    Ok(())
}

/// Locks the next `limit` claims after `after` (in id order) with a sealed value under another key than `current`
/// (or a text in clear). A claim a call holds is skipped, not waited for: the rotation comes back to it.
#[tracing::instrument(skip_all)]
pub async fn lock_to_reseal(
    conn: &mut PgConnection,
    current: &str,
    after: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<SealedValues>> {
    sqlx::query_as!(
        SealedValues,
        "select id, particulars, breakdown, accident_place, accident_cause, notifier_name, notifier_phone
         from claims
         where id > $2
           and $1 <> any (array[sealed_key_id(particulars), sealed_key_id(breakdown), sealed_key_id(accident_place),
                                sealed_key_id(accident_cause), sealed_key_id(notifier_name),
                                sealed_key_id(notifier_phone)])
         order by id
         limit $3
         for update skip locked",
        current,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Writes re-sealed values back, in one statement.
#[tracing::instrument(skip_all)]
pub async fn write_resealed(conn: &mut PgConnection, rows: &[SealedValues]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let particulars: Vec<Vec<u8>> = rows.iter().map(|r| r.particulars.clone()).collect();
    let breakdown: Vec<Option<Vec<u8>>> = rows.iter().map(|r| r.breakdown.clone()).collect();
    let text = |f: fn(&SealedValues) -> &Option<String>| -> Vec<Option<String>> {
        rows.iter().map(|r| f(r).clone()).collect()
    };
    Ok(sqlx::query!(
        "update claims c set particulars = r.particulars, breakdown = r.breakdown, accident_place = r.accident_place,
                accident_cause = r.accident_cause, notifier_name = r.notifier_name, notifier_phone = r.notifier_phone
         from unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::text[])
              as r(id, particulars, breakdown, accident_place, accident_cause, notifier_name, notifier_phone)
         where c.id = r.id",
        &ids,
        &particulars,
        &breakdown as &[Option<Vec<u8>>],
        &text(|r| &r.accident_place) as &[Option<String>],
        &text(|r| &r.accident_cause) as &[Option<String>],
        &text(|r| &r.notifier_name) as &[Option<String>],
        &text(|r| &r.notifier_phone) as &[Option<String>]
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Claims with a sealed value under another key than `current` (or a text in clear).
#[tracing::instrument(skip_all)]
pub async fn count_to_reseal(executor: impl PgExecutor<'_>, current: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from claims
           where $1 <> any (array[sealed_key_id(particulars), sealed_key_id(breakdown), sealed_key_id(accident_place),
                                  sealed_key_id(accident_cause), sealed_key_id(notifier_name),
                                  sealed_key_id(notifier_phone)])"#,
        current
    )
    .fetch_one(executor)
    .await
}

/// How many sealed values each key id seals (`clear`: texts stored before sealing), in one scan.
#[tracing::instrument(skip_all)]
pub async fn sealed_census(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"select k as "key_id!", count(*) as "values!"
           from claims,
                unnest(array[sealed_key_id(particulars), sealed_key_id(breakdown), sealed_key_id(accident_place),
                             sealed_key_id(accident_cause), sealed_key_id(notifier_name),
                             sealed_key_id(notifier_phone)]) as k
           where k is not null
           group by k
           order by k"#
    )
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key_id, r.values)).collect())
}
