//! SQL for the registry of workers. Rows come out as domain values (`Nik`, `Sex`, `Occupation`, `Flag`s, `Month`,
//! through `database/types.rs`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{Flag, Occupation, Worker};
use crate::{
    month::Month,
    nik::{Nik, Sex},
};

/// What an upsert did to one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    /// The stored worker already had exactly these values: nothing was written.
    Unchanged,
}

/// A worker as stored, with its provenance: what reads answer.
#[derive(Debug, Clone)]
pub struct StoredWorker {
    pub nik: Nik,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub domicile_village_code: String,
    pub occupation: Occupation,
    pub occupation_detail: Option<String>,
    pub decile: i16,
    pub decile_source: String,
    pub decile_as_of: Month,
    pub phone: Option<String>,
    pub date_of_death: Option<NaiveDate>,
    pub flags: Vec<Flag>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// The current domicile of those of `niks` that are registered, locking their rows until the transaction ends so
/// that an area check made on them still holds when the upsert runs.
#[tracing::instrument(skip_all)]
pub async fn lock_domiciles(conn: &mut PgConnection, niks: &[&str]) -> sqlx::Result<HashMap<String, String>> {
    let niks: Vec<String> = niks.iter().map(|n| (*n).to_owned()).collect();
    let rows = sqlx::query!(
        "select nik, domicile_village_code from workers where nik = any($1) order by nik for update",
        &niks[..]
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.nik, r.domicile_village_code)).collect())
}

/// Creates or replaces `workers` in one statement and answers each one's outcome, in the same order.
/// The NIKs must be distinct (PostgreSQL cannot upsert one row twice in a statement).
#[tracing::instrument(skip_all)]
pub async fn upsert(conn: &mut PgConnection, workers: &[Worker], by: Uuid) -> sqlx::Result<Vec<Outcome>> {
    let mut nik = Vec::with_capacity(workers.len());
    let mut full_name = Vec::with_capacity(workers.len());
    let mut birth_date = Vec::with_capacity(workers.len());
    let mut sex = Vec::with_capacity(workers.len());
    let mut village = Vec::with_capacity(workers.len());
    let mut occupation = Vec::with_capacity(workers.len());
    let mut occupation_detail = Vec::with_capacity(workers.len());
    let mut decile = Vec::with_capacity(workers.len());
    let mut decile_source = Vec::with_capacity(workers.len());
    let mut decile_as_of = Vec::with_capacity(workers.len());
    let mut phone = Vec::with_capacity(workers.len());
    let mut date_of_death = Vec::with_capacity(workers.len());
    let mut flags = Vec::with_capacity(workers.len());
    for w in workers {
        nik.push(w.nik.as_str().to_owned());
        full_name.push(w.full_name.as_str().to_owned());
        birth_date.push(w.birth_date);
        sex.push(w.sex.as_str().to_owned());
        village.push(w.domicile.as_str().to_owned());
        occupation.push(w.occupation.as_str().to_owned());
        occupation_detail.push(w.occupation_detail.clone());
        decile.push(i16::from(w.welfare.decile.get()));
        decile_source.push(w.welfare.source.clone());
        decile_as_of.push(w.welfare.as_of.first_day());
        phone.push(w.phone.as_ref().map(|p| p.as_str().to_owned()));
        date_of_death.push(w.date_of_death);
        // Flags travel as one comma-separated string per worker: unnest cannot take a ragged text[][].
        flags.push(w.flags.iter().map(|f| f.code()).collect::<Vec<_>>().join(","));
    }
    let rows = sqlx::query!(
        r#"
        with input as (
            select * from unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[], $7::text[],
                                 $8::int2[], $9::text[], $10::date[], $11::text[], $12::date[], $13::text[])
                with ordinality as t(nik, full_name, birth_date, sex, domicile_village_code, occupation,
                                     occupation_detail, decile, decile_source, decile_as_of, phone, date_of_death,
                                     flags, ord)
        ),
        upserted as (
            insert into workers as w (nik, full_name, birth_date, sex, domicile_village_code, occupation,
                                      occupation_detail, decile, decile_source, decile_as_of, phone, date_of_death,
                                      flags, created_by, updated_by)
            select nik, full_name, birth_date, sex, domicile_village_code, occupation, occupation_detail, decile,
                   decile_source, decile_as_of, phone, date_of_death, string_to_array(flags, ','), $14, $14
            from input
            on conflict (nik) do update set
                full_name = excluded.full_name, birth_date = excluded.birth_date, sex = excluded.sex,
                domicile_village_code = excluded.domicile_village_code, occupation = excluded.occupation,
                occupation_detail = excluded.occupation_detail, decile = excluded.decile,
                decile_source = excluded.decile_source, decile_as_of = excluded.decile_as_of, phone = excluded.phone,
                date_of_death = excluded.date_of_death, flags = excluded.flags,
                updated_by = excluded.updated_by, updated_at = now()
            -- An identical resend writes nothing: no new row version, no changed provenance.
            where (w.full_name, w.birth_date, w.sex, w.domicile_village_code, w.occupation, w.occupation_detail,
                   w.decile, w.decile_source, w.decile_as_of, w.phone, w.date_of_death, w.flags)
                  is distinct from
                  (excluded.full_name, excluded.birth_date, excluded.sex, excluded.domicile_village_code,
                   excluded.occupation, excluded.occupation_detail, excluded.decile, excluded.decile_source,
                   excluded.decile_as_of, excluded.phone, excluded.date_of_death, excluded.flags)
            returning w.nik, (w.xmax = 0) as inserted
        )
        select u.inserted as "inserted?" from input i left join upserted u on u.nik = i.nik order by i.ord
        "#,
        &nik[..],
        &full_name[..],
        &birth_date[..],
        &sex[..],
        &village[..],
        &occupation[..],
        &occupation_detail[..] as &[Option<String>],
        &decile[..],
        &decile_source[..],
        &decile_as_of[..],
        &phone[..] as &[Option<String>],
        &date_of_death[..] as &[Option<NaiveDate>],
        &flags[..],
        by,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| match r.inserted {
            Some(true) => Outcome::Created,
            Some(false) => Outcome::Updated,
            None => Outcome::Unchanged,
        })
        .collect())
}

#[tracing::instrument(skip_all)]
pub async fn get(executor: impl PgExecutor<'_>, nik: &str) -> sqlx::Result<Option<StoredWorker>> {
    sqlx::query_as!(
        StoredWorker,
        r#"select nik as "nik: Nik", full_name, birth_date, sex as "sex: Sex", domicile_village_code,
                  occupation as "occupation: Occupation", occupation_detail, decile, decile_source,
                  decile_as_of as "decile_as_of: Month", phone, date_of_death, flags as "flags: Vec<Flag>",
                  created_by, created_at, updated_by, updated_at
           from workers where nik = $1"#,
        nik
    )
    .fetch_optional(executor)
    .await
}

/// A page of workers domiciled in areas matching `area_pattern` (a `LIKE` pattern on village codes), ordered by
/// NIK and starting after `after_nik`.
#[tracing::instrument(skip_all)]
pub async fn list(
    executor: impl PgExecutor<'_>,
    area_pattern: &str,
    max_decile: Option<i16>,
    after_nik: &str,
    limit: i64,
) -> sqlx::Result<Vec<StoredWorker>> {
    sqlx::query_as!(
        StoredWorker,
        r#"select nik as "nik: Nik", full_name, birth_date, sex as "sex: Sex", domicile_village_code,
                  occupation as "occupation: Occupation", occupation_detail, decile, decile_source,
                  decile_as_of as "decile_as_of: Month", phone, date_of_death, flags as "flags: Vec<Flag>",
                  created_by, created_at, updated_by, updated_at
           from workers
           where domicile_village_code like $1 and ($2::int2 is null or decile <= $2) and nik > $3
           order by nik
           limit $4"#,
        area_pattern,
        max_decile,
        after_nik,
        limit
    )
    .fetch_all(executor)
    .await
}

/// A recorded death report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathRow {
    pub date_of_death: NaiveDate,
    pub certificate_number: String,
}

/// Records a death unless one is recorded for the worker, marking the worker deceased; answers the recorded report
/// and whether this call made it. Racing reports queue on the primary key: one inserts, the other finds it.
#[tracing::instrument(skip_all)]
pub async fn record_death(
    conn: &mut PgConnection,
    nik: &str,
    date_of_death: NaiveDate,
    certificate_number: &str,
    by: Uuid,
) -> sqlx::Result<(DeathRow, bool)> {
    let inserted = sqlx::query!(
        "insert into deaths (worker_nik, date_of_death, certificate_number, reported_by) values ($1, $2, $3, $4)
         on conflict (worker_nik) do nothing",
        nik,
        date_of_death,
        certificate_number,
        by
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query!(
            "update workers set date_of_death = $2, updated_by = $3, updated_at = now() where nik = $1",
            nik,
            date_of_death,
            by
        )
        .execute(&mut *conn)
        .await?;
    }
    let row =
        sqlx::query_as!(DeathRow, "select date_of_death, certificate_number from deaths where worker_nik = $1", nik)
            .fetch_one(conn)
            .await?;
    Ok((row, inserted))
}

/// The death reported for a worker, if any.
#[tracing::instrument(skip_all)]
pub async fn death(executor: impl PgExecutor<'_>, nik: &str) -> sqlx::Result<Option<DeathRow>> {
    sqlx::query_as!(DeathRow, "select date_of_death, certificate_number from deaths where worker_nik = $1", nik)
        .fetch_optional(executor)
        .await
}

/// Whether `funder` funds or funded the worker (an enrollment in one of its subsidies that was not rejected).
#[tracing::instrument(skip_all)]
pub async fn funded_by(executor: impl PgExecutor<'_>, nik: &str, funder: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from enrollments e join subsidies s on s.id = e.subsidy_id
                         where e.worker_nik = $1 and s.funder_id = $2 and e.status <> 'rejected') as "funded!""#,
        nik,
        funder
    )
    .fetch_one(executor)
    .await
}
