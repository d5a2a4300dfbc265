//! SQL for the event feed: the outbox insert (in the change's transaction), the sequencer's one statement, the
//! subscribers' pages, the head, and the calendar's once-per-date insert.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor, PgPool, postgres::PgListener};
use uuid::Uuid;

use super::{CalendarFact, Event, Kind, NewEvent};
use crate::{month::Month, nik::Nik};

/// The channel a writer notifies in its transaction (delivered only if it commits): wakes the sequencer.
pub const OUTBOX_CHANNEL: &str = "lindung_outbox";
/// The channel the sequencer notifies with the new head: wakes every server's subscribers.
pub const FEED_CHANNEL: &str = "lindung_feed";

/// Writes `events` in one statement, in the caller's transaction, with their audience: the agency that made the
/// change (`actor`, when it is a government), the funder of the subsidy (found from the enrollment when not given),
/// the claim's funder, and for the events about a worker as such, every funder of the worker not rejected. Then
/// notifies the sequencer, which PostgreSQL delivers only when (and if) the transaction commits.
#[tracing::instrument(skip_all, fields(events = events.len()))]
pub async fn insert(conn: &mut PgConnection, actor: Option<Uuid>, events: &[NewEvent]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let kinds: Vec<String> = events.iter().map(|e| e.kind.code().to_owned()).collect();
    let subsidies: Vec<Option<Uuid>> = events.iter().map(|e| e.subsidy_id).collect();
    let enrollments: Vec<Option<Uuid>> = events.iter().map(|e| e.enrollment_id).collect();
    let bills: Vec<Option<Uuid>> = events.iter().map(|e| e.bill_id).collect();
    let payments: Vec<Option<Uuid>> = events.iter().map(|e| e.payment_id).collect();
    let claims: Vec<Option<Uuid>> = events.iter().map(|e| e.claim_id).collect();
    let months: Vec<Option<NaiveDate>> = events.iter().map(|e| e.month.map(Month::first_day)).collect();
    let niks: Vec<Option<String>> = events.iter().map(|e| e.kept_nik().map(|n| n.as_str().to_owned())).collect();
    sqlx::query!(
        r#"
        insert into feed_events (kind, subsidy_id, enrollment_id, bill_id, payment_id, claim_id, month, worker_nik,
                                 audience)
        select e.kind, coalesce(e.subsidy_id, en.subsidy_id), e.enrollment_id, e.bill_id, e.payment_id, e.claim_id,
               e.month, e.nik,
               array(select distinct a.id from (
                         select $9::uuid as id
                         union all
                         select s.funder_id from subsidies s where s.id = coalesce(e.subsidy_id, en.subsidy_id)
                         union all
                         select c.funder_id from claims c where c.id = e.claim_id
                         union all
                         select s.funder_id from enrollments w join subsidies s on s.id = w.subsidy_id
                         where w.worker_nik = e.nik and w.status <> 'rejected'
                     ) a where a.id is not null order by a.id)
        from unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::date[], $8::text[])
             with ordinality as e(kind, subsidy_id, enrollment_id, bill_id, payment_id, claim_id, month, nik, ord)
        left join enrollments en on en.id = e.enrollment_id
        order by e.ord
        "#,
        &kinds[..],
        &subsidies[..] as &[Option<Uuid>],
        &enrollments[..] as &[Option<Uuid>],
        &bills[..] as &[Option<Uuid>],
        &payments[..] as &[Option<Uuid>],
        &claims[..] as &[Option<Uuid>],
        &months[..] as &[Option<NaiveDate>],
        &niks[..] as &[Option<String>],
        actor as Option<Uuid>,
    )
    .execute(&mut *conn)
    .await?;
    notify_outbox(conn).await
}

async fn notify_outbox(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("select pg_notify($1, '')", OUTBOX_CHANNEL).execute(conn).await?;
    Ok(())
}

/// Gives the next committed, unsequenced events (at most `limit`, in id order) the positions after the head, and
/// notifies the new head, in one transaction. Answers the new head, or None when there was nothing to sequence.
/// Must run under the sequencer's lock: one sequencing transaction at a time is what keeps the feed without holes.
#[tracing::instrument(skip_all)]
pub async fn sequence(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Option<u64>> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let head = sqlx::query_scalar!(
        r#"
        with head as (select coalesce(max(position), 0) as h from feed_events),
             pending as (select p.id, row_number() over (order by p.id) as n
                         from (select id from feed_events where position is null order by id limit $1) p),
             done as (update feed_events f set position = head.h + pending.n
                      from head, pending where f.id = pending.id returning f.position)
        select max(position) from done
        "#,
        limit
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some(head) = head {
        sqlx::query!("select pg_notify($1, $2)", FEED_CHANNEL, head.to_string()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(head.map(|h| h as u64))
}

/// The highest position given so far (0 for an empty feed).
pub async fn head(executor: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let head = sqlx::query_scalar!(r#"select coalesce(max(position), 0) as "head!" from feed_events"#)
        .fetch_one(executor)
        .await?;
    Ok(head as u64)
}

/// Up to `limit` events with positions in (`after`, `upto`], in order: those whose audience names `viewer` (all when
/// None), of `kinds` (all when empty).
#[tracing::instrument(skip_all)]
pub async fn page(
    executor: impl PgExecutor<'_>,
    viewer: Option<Uuid>,
    after: u64,
    upto: u64,
    kinds: &[Kind],
    limit: i64,
) -> sqlx::Result<Vec<Event>> {
    let kinds: Vec<String> = kinds.iter().map(|k| k.code().to_owned()).collect();
    let rows = sqlx::query!(
        r#"select position as "position!", kind as "kind: Kind", occurred_at, subsidy_id, enrollment_id, bill_id,
                  payment_id, claim_id, month as "month: Month", worker_nik as "worker_nik: Nik", calendar_date
           from feed_events
           where position > $1 and position <= $2
             and ($3::uuid is null or $3 = any(audience))
             and (cardinality($4::text[]) = 0 or kind = any($4))
           order by position
           limit $5"#,
        i64::try_from(after).unwrap_or(i64::MAX),
        i64::try_from(upto).unwrap_or(i64::MAX),
        viewer as Option<Uuid>,
        &kinds[..],
        limit
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            position: r.position as u64,
            kind: r.kind,
            occurred_at: r.occurred_at,
            subsidy_id: r.subsidy_id,
            enrollment_id: r.enrollment_id,
            bill_id: r.bill_id,
            payment_id: r.payment_id,
            claim_id: r.claim_id,
            month: r.month,
            worker_nik: r.worker_nik,
            calendar_date: r.calendar_date,
        })
        .collect())
}

/// The subsidies that have bills: the only ones the calendar can find a warning or a lapse in.
pub async fn billed_subsidies(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!("select distinct subsidy_id from bills order by subsidy_id").fetch_all(executor).await
}

/// The last day the calendar has passed, if it ever ran.
pub async fn calendar_last_day(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar!("select last_day from feed_calendar").fetch_optional(executor).await
}

/// Records that the calendar has passed `day` (never moving back).
pub async fn set_calendar_last_day(executor: impl PgExecutor<'_>, day: NaiveDate) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into feed_calendar (last_day) values ($1)
         on conflict (singleton) do update set last_day = greatest(feed_calendar.last_day, excluded.last_day)",
        day
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Writes the calendar facts of `day`, each at most once (`feed_events_calendar_once`), for the subsidy's funder;
/// answers how many were new.
#[tracing::instrument(skip_all)]
pub async fn insert_calendar(
    conn: &mut PgConnection,
    day: NaiveDate,
    facts: &[(Uuid, CalendarFact)],
) -> sqlx::Result<u64> {
    if facts.is_empty() {
        return Ok(0);
    }
    let kinds: Vec<String> = facts.iter().map(|(_, f)| f.kind.code().to_owned()).collect();
    let subsidies: Vec<Uuid> = facts.iter().map(|(s, _)| *s).collect();
    let months: Vec<NaiveDate> = facts.iter().map(|(_, f)| f.month.first_day()).collect();
    let inserted = sqlx::query!(
        "insert into feed_events (kind, subsidy_id, month, calendar_date, audience)
         select f.kind, f.subsidy_id, f.month, $4, array[s.funder_id]
         from unnest($1::text[], $2::uuid[], $3::date[]) with ordinality as f(kind, subsidy_id, month, ord)
         join subsidies s on s.id = f.subsidy_id
         order by f.ord
         on conflict on constraint feed_events_calendar_once do nothing",
        &kinds[..],
        &subsidies[..],
        &months[..],
        day
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted > 0 {
        notify_outbox(conn).await?;
    }
    Ok(inserted)
}

/// A listener on the sequencer's head notifications.
pub async fn head_listener(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(FEED_CHANNEL).await?;
    Ok(listener)
}

/// The next head notified; None when the listener's connection was lost (it reconnects on the next call, and what
/// was notified meanwhile is lost: read the head again).
pub async fn next_head(listener: &mut PgListener) -> sqlx::Result<Option<Option<u64>>> {
    Ok(listener.try_recv().await?.map(|n| n.payload().parse().ok()))
}
