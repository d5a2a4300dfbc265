//! SQL for enrollments. The invariants themselves (one funder per worker per month, quota and budget, the life
//! cycle) are in the schema: these statements are written so that the schema rarely has to say no.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{Conflict, EndReason, Enrollment, InsurerRefusal, Load, ParticipantNumber, Status, WorkerFacts};
use crate::{agency::AgencyKind, area::RegionCode, month::Month, nik::Nik, quarter::Quarter};

/// An enrollment to insert.
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub id: Uuid,
    pub subsidy_id: Uuid,
    pub worker_nik: Nik,
    pub first_month: Month,
    /// Exclusive.
    pub end_month: Month,
    pub request_id: String,
}

/// The answer given to a funder's request id: the enrollment made, or the refusal as it was answered (an encoded
/// `google.rpc.Status`, see `service::stored_refusal`).
#[derive(Debug, Clone)]
pub struct PriorAnswer {
    pub request_id: String,
    pub fingerprint: String,
    pub enrollment_id: Option<Uuid>,
    pub refusal: Option<Vec<u8>>,
}

/// A confirmation to write: the enrollment, its worker, the participant number and the protection start.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub id: Uuid,
    pub nik: Nik,
    pub number: ParticipantNumber,
    pub start: NaiveDate,
}

/// A refusal by the insurer to write.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub id: Uuid,
    pub reason: InsurerRefusal,
    pub detail: Option<String>,
}

fn texts(niks: &[Nik]) -> Vec<String> {
    niks.iter().map(|n| n.as_str().to_owned()).collect()
}

#[tracing::instrument(skip_all)]
pub async fn prior_answers(
    executor: impl PgExecutor<'_>,
    funder: Uuid,
    request_ids: &[String],
) -> sqlx::Result<Vec<PriorAnswer>> {
    sqlx::query_as!(
        PriorAnswer,
        "select request_id, fingerprint, enrollment_id, refusal from enrollment_requests
         where funder_id = $1 and request_id = any($2)",
        funder,
        request_ids
    )
    .fetch_all(executor)
    .await
}

/// What the eligibility rules need of the workers `niks`; a worker whose stored decile or village no longer
/// reads is left out, as if not registered.
#[tracing::instrument(skip_all)]
pub async fn worker_facts(executor: impl PgExecutor<'_>, niks: &[Nik]) -> sqlx::Result<Vec<(Nik, WorkerFacts)>> {
    let rows = sqlx::query!(
        r#"select nik as "nik: Nik", birth_date, date_of_death, decile, decile_as_of, domicile_village_code
           from workers where nik = any($1)"#,
        &texts(niks)
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let facts = WorkerFacts {
                birth_date: row.birth_date,
                date_of_death: row.date_of_death,
                decile: u8::try_from(row.decile).ok()?,
                decile_as_of: Quarter::from_date(row.decile_as_of),
                domicile: RegionCode::parse(&row.domicile_village_code).ok()?,
            };
            Some((row.nik, facts))
        })
        .collect())
}

/// For each (NIK, [from, to)) asked, one enrollment that already funds that worker in some of those months.
#[tracing::instrument(skip_all)]
pub async fn funding_conflicts(
    executor: impl PgExecutor<'_>,
    asked: &[(Nik, Month, Month)],
) -> sqlx::Result<Vec<(Nik, Conflict)>> {
    let niks: Vec<String> = asked.iter().map(|a| a.0.as_str().to_owned()).collect();
    let from: Vec<NaiveDate> = asked.iter().map(|a| a.1.first_day()).collect();
    let to: Vec<NaiveDate> = asked.iter().map(|a| a.2.first_day()).collect();
    let rows = sqlx::query!(
        r#"select distinct on (i.nik, i.lo) i.nik as "nik!: Nik", a.kind as "funder_kind: AgencyKind",
                  s.funder_id, e.subsidy_id, e.id as enrollment_id
           from unnest($1::text[], $2::date[], $3::date[]) as i(nik, lo, hi)
           join enrollments e on e.worker_nik = i.nik and e.status <> 'rejected'
                              and e.months && daterange(i.lo, i.hi)
           join subsidies s on s.id = e.subsidy_id
           join agencies a on a.id = s.funder_id
           order by i.nik, i.lo, e.created_at"#,
        &niks,
        &from,
        &to
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let conflict = Conflict {
                funder_id: r.funder_id,
                funder_kind: r.funder_kind,
                subsidy_id: r.subsidy_id,
                enrollment_id: r.enrollment_id,
            };
            (r.nik, conflict)
        })
        .collect())
}

/// Inserts the enrollments that do not collide with one already funding the same worker and month (the exclusion
/// constraint decides, after waiting for any concurrent writer); answers the ids inserted.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, rows: &[NewEnrollment], created_by: Uuid) -> sqlx::Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let subsidies: Vec<Uuid> = rows.iter().map(|r| r.subsidy_id).collect();
    let niks: Vec<String> = rows.iter().map(|r| r.worker_nik.as_str().to_owned()).collect();
    let firsts: Vec<NaiveDate> = rows.iter().map(|r| r.first_month.first_day()).collect();
    let ends: Vec<NaiveDate> = rows.iter().map(|r| r.end_month.first_day()).collect();
    let request_ids: Vec<String> = rows.iter().map(|r| r.request_id.clone()).collect();
    sqlx::query_scalar!(
        "insert into enrollments (id, subsidy_id, worker_nik, first_month, months, status, request_id, created_by)
         select id, subsidy_id, nik, first_month, daterange(first_month, end_month), 'pending', request_id, $7
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::date[], $5::date[], $6::text[])
              as i(id, subsidy_id, nik, first_month, end_month, request_id)
         on conflict do nothing
         returning id",
        &ids,
        &subsidies,
        &niks,
        &firsts,
        &ends,
        &request_ids,
        created_by
    )
    .fetch_all(conn)
    .await
}

/// Records the answer given to each request id (an enrollment, or an encoded refusal).
#[tracing::instrument(skip_all)]
pub async fn record_answers(conn: &mut PgConnection, funder: Uuid, answers: &[PriorAnswer]) -> sqlx::Result<()> {
    let request_ids: Vec<String> = answers.iter().map(|a| a.request_id.clone()).collect();
    let fingerprints: Vec<String> = answers.iter().map(|a| a.fingerprint.clone()).collect();
    let enrollments: Vec<Option<Uuid>> = answers.iter().map(|a| a.enrollment_id).collect();
    let refusals: Vec<Option<Vec<u8>>> = answers.iter().map(|a| a.refusal.clone()).collect();
    sqlx::query!(
        "insert into enrollment_requests (funder_id, request_id, fingerprint, enrollment_id, refusal)
         select $1, r, f, e, x from unnest($2::text[], $3::text[], $4::uuid[], $5::bytea[]) as i(r, f, e, x)
         on conflict do nothing",
        funder,
        &request_ids,
        &fingerprints,
        &enrollments as &[Option<Uuid>],
        &refusals as &[Option<Vec<u8>>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Places taken (pending or active) and money committed (funded months × contribution) of a subsidy.
#[tracing::instrument(skip_all)]
pub async fn load(executor: impl PgExecutor<'_>, subsidy: Uuid) -> sqlx::Result<Load> {
    let usage = crate::subsidy::store::usage(executor, subsidy).await?;
    Ok(Load { places: usage.active + usage.pending, committed: usage.committed })
}

#[tracing::instrument(skip_all)]
pub async fn get_many(executor: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<Enrollment>> {
    sqlx::query_as!(
        Enrollment,
        r#"select e.id, e.subsidy_id, s.funder_id, a.kind as "funder_kind: AgencyKind",
                  e.worker_nik as "worker_nik: Nik", e.first_month as "first_month: Month",
                  upper(e.months) as "end_month: Month", e.status as "status: Status",
                  e.participant_number as "participant_number: ParticipantNumber", e.protection_start,
                  e.rejection_reason as "rejection_reason: InsurerRefusal", e.rejection_detail,
                  e.end_reason as "end_reason: EndReason", e.request_id, e.created_at, e.updated_at
           from enrollments e join subsidies s on s.id = e.subsidy_id join agencies a on a.id = s.funder_id
           where e.id = any($1)"#,
        ids
    )
    .fetch_all(executor)
    .await
}

pub async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Enrollment>> {
    Ok(get_many(executor, &[id]).await?.pop())
}

/// Locks one enrollment for a state change and answers it.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Enrollment>> {
    Ok(lock_many(conn, &[id]).await?.pop())
}

/// Locks enrollments for state changes (in id order, so concurrent callers cannot deadlock) and answers them.
#[tracing::instrument(skip_all)]
pub async fn lock_many(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Enrollment>> {
    sqlx::query_as!(
        Enrollment,
        r#"select e.id, e.subsidy_id, s.funder_id, a.kind as "funder_kind: AgencyKind",
                  e.worker_nik as "worker_nik: Nik", e.first_month as "first_month: Month",
                  upper(e.months) as "end_month: Month", e.status as "status: Status",
                  e.participant_number as "participant_number: ParticipantNumber", e.protection_start,
                  e.rejection_reason as "rejection_reason: InsurerRefusal", e.rejection_detail,
                  e.end_reason as "end_reason: EndReason", e.request_id, e.created_at, e.updated_at
           from enrollments e join subsidies s on s.id = e.subsidy_id join agencies a on a.id = s.funder_id
           where e.id = any($1)
           order by e.id
           for update of e"#,
        ids
    )
    .fetch_all(conn)
    .await
}

/// The participant numbers of the workers `niks`, and the workers holding any of `numbers`.
#[tracing::instrument(skip_all)]
pub async fn participant_numbers(
    executor: impl PgExecutor<'_>,
    niks: &[Nik],
    numbers: &[ParticipantNumber],
) -> sqlx::Result<Vec<(Nik, Option<ParticipantNumber>)>> {
    let numbers: Vec<String> = numbers.iter().map(|n| n.as_str().to_owned()).collect();
    let rows = sqlx::query!(
        r#"select nik as "nik: Nik", participant_number as "participant_number: ParticipantNumber"
           from workers where nik = any($1) or participant_number = any($2)"#,
        &texts(niks),
        &numbers
    )
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(|r| (r.nik, r.participant_number)).collect())
}

/// Confirms enrollments and gives each worker their participant number.
#[tracing::instrument(skip_all)]
pub async fn confirm_many(conn: &mut PgConnection, confirms: &[Confirmation]) -> sqlx::Result<()> {
    if confirms.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = confirms.iter().map(|c| c.id).collect();
    let niks: Vec<String> = confirms.iter().map(|c| c.nik.as_str().to_owned()).collect();
    let numbers: Vec<String> = confirms.iter().map(|c| c.number.as_str().to_owned()).collect();
    let starts: Vec<NaiveDate> = confirms.iter().map(|c| c.start).collect();
    // workers_participant_number_unique has the last word if another transaction gave the number meanwhile.
    sqlx::query!(
        "update workers w set participant_number = i.number
         from unnest($1::text[], $2::text[]) as i(nik, number)
         where w.nik = i.nik and w.participant_number is null",
        &niks,
        &numbers
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update enrollments e set status = 'active', participant_number = i.number, protection_start = i.start
         from unnest($1::uuid[], $2::text[], $3::date[]) as i(id, number, start)
         where e.id = i.id",
        &ids,
        &numbers,
        &starts
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the insurer's refusals of enrollments.
#[tracing::instrument(skip_all)]
pub async fn refuse_many(conn: &mut PgConnection, refusals: &[Rejection]) -> sqlx::Result<()> {
    if refusals.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = refusals.iter().map(|r| r.id).collect();
    let reasons: Vec<String> = refusals.iter().map(|r| r.reason.as_str().to_owned()).collect();
    let details: Vec<Option<String>> = refusals.iter().map(|r| r.detail.clone()).collect();
    sqlx::query!(
        "update enrollments e set status = 'rejected', rejection_reason = i.reason, rejection_detail = i.detail
         from unnest($1::uuid[], $2::text[], $3::text[]) as i(id, reason, detail)
         where e.id = i.id",
        &ids,
        &reasons,
        &details as &[Option<String>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends an enrollment from `end_month` on: the months before it stay funded (and keep blocking other funders).
#[tracing::instrument(skip_all)]
pub async fn end(conn: &mut PgConnection, id: Uuid, end_month: Month, reason: EndReason) -> sqlx::Result<()> {
    sqlx::query!(
        "update enrollments
         set status = 'ended', end_reason = $3,
             months = case when $2 <= first_month then 'empty'::daterange
                           else daterange(first_month, least(upper(months), $2)) end
         where id = $1",
        id,
        end_month.first_day(),
        reason.as_str()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every enrollment of a worker from `from` (the month after their death) on, whatever its state: pending and
/// active ones become ENDED (died), ended ones only lose the months they would have funded after it. Answers the
/// enrollments changed.
#[tracing::instrument(skip_all)]
pub async fn end_after_death(conn: &mut PgConnection, nik: &str, from: NaiveDate) -> sqlx::Result<Vec<Ended>> {
    sqlx::query_as!(
        Ended,
        "update enrollments e
         set status = case when e.status in ('pending', 'active') then 'ended' else e.status end,
             end_reason = case when e.status in ('pending', 'active') then 'died' else e.end_reason end,
             months = case when $2 <= e.first_month then 'empty'::daterange
                           else daterange(e.first_month, least(upper(e.months), $2)) end
         from subsidies s
         where s.id = e.subsidy_id and e.worker_nik = $1 and e.status <> 'rejected'
           and (e.status in ('pending', 'active') or upper(e.months) > $2)
         returning e.id, s.funder_id",
        nik,
        from
    )
    .fetch_all(conn)
    .await
}

/// An enrollment a death changed, and whose it is.
#[derive(Debug, Clone)]
pub struct Ended {
    pub id: Uuid,
    pub funder_id: Uuid,
}

/// Filters of a list of enrollments; None means "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub funder: Option<Uuid>,
    pub subsidy: Option<Uuid>,
    pub status: Option<Status>,
    /// Funding this month.
    pub month: Option<Month>,
    /// A `LIKE` pattern on the worker's domicile village code.
    pub area_pattern: Option<String>,
    /// Only enrollments of these subsidies (the lapsed ones, for the LAPSED filter).
    pub subsidies_in: Option<Vec<Uuid>>,
    /// No enrollments of these subsidies (the lapsed ones, for the ACTIVE filter).
    pub subsidies_not_in: Vec<Uuid>,
}

/// The subsidies a list with `filter` can touch: those of its funder and subsidy, if given.
#[tracing::instrument(skip_all)]
pub async fn subsidies_of(executor: impl PgExecutor<'_>, filter: &Filter) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "select id from subsidies where ($1::uuid is null or funder_id = $1) and ($2::uuid is null or id = $2)",
        filter.funder,
        filter.subsidy
    )
    .fetch_all(executor)
    .await
}

/// A page of enrollments in (created_at, id) order, after `after`.
#[tracing::instrument(skip_all)]
pub async fn list(
    executor: impl PgExecutor<'_>,
    filter: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<Enrollment>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as!(
        Enrollment,
        r#"select e.id, e.subsidy_id, s.funder_id, a.kind as "funder_kind: AgencyKind",
                  e.worker_nik as "worker_nik: Nik", e.first_month as "first_month: Month",
                  upper(e.months) as "end_month: Month", e.status as "status: Status",
                  e.participant_number as "participant_number: ParticipantNumber", e.protection_start,
                  e.rejection_reason as "rejection_reason: InsurerRefusal", e.rejection_detail,
                  e.end_reason as "end_reason: EndReason", e.request_id, e.created_at, e.updated_at
           from enrollments e join subsidies s on s.id = e.subsidy_id join agencies a on a.id = s.funder_id
           where ($1::uuid is null or s.funder_id = $1)
             and ($2::uuid is null or e.subsidy_id = $2)
             and ($3::text is null or e.status = $3)
             and ($4::date is null or e.months @> $4)
             and ($5::text is null or exists (
                     select 1 from workers w where w.nik = e.worker_nik and w.domicile_village_code like $5))
             and ($6::timestamptz is null or (e.created_at, e.id) > ($6, $7))
             and ($9::uuid[] is null or e.subsidy_id = any($9))
             and not (e.subsidy_id = any($10))
           order by e.created_at, e.id
           limit $8"#,
        filter.funder,
        filter.subsidy,
        filter.status.map(Status::as_str),
        filter.month.map(Month::first_day),
        filter.area_pattern,
        after_at,
        after_id,
        limit,
        filter.subsidies_in.as_deref(),
        &filter.subsidies_not_in
    )
    .fetch_all(executor)
    .await
}

/// The workers `funder` funds or has funded: those of every enrollment in its subsidies that was not rejected.
pub async fn niks_funded_by(executor: impl PgExecutor<'_>, funder: Uuid) -> sqlx::Result<Vec<Nik>> {
    sqlx::query_scalar!(
        r#"select distinct e.worker_nik as "nik!: Nik"
           from enrollments e join subsidies s on s.id = e.subsidy_id
           where s.funder_id = $1 and e.status <> 'rejected'"#,
        funder,
    )
    .fetch_all(executor)
    .await
}

/// Whether `funder` funds or has funded the worker `nik` (an enrollment not rejected).
pub async fn funds(executor: impl PgExecutor<'_>, funder: Uuid, nik: &Nik) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (
             select 1 from enrollments e join subsidies s on s.id = e.subsidy_id
             where s.funder_id = $1 and e.worker_nik = $2 and e.status <> 'rejected'
           ) as "funds!""#,
        funder,
        nik as _,
    )
    .fetch_one(executor)
    .await
}
