//! SQL for subsidies. Rows come out as domain values (`AgencyKind`, `Month`, `Rupiah`, through
//! `database/types.rs`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{Contribution, Eligibility, Subsidy};
use crate::{agency::AgencyKind, area::RegionCode, money::Rupiah, month::Month};

/// A subsidy row with its funder's kind; [`SubsidyRow::into_subsidy`] makes the domain value.
#[derive(Debug, Clone)]
pub struct SubsidyRow {
    pub id: Uuid,
    pub funder_id: Uuid,
    pub funder_kind: AgencyKind,
    pub funder_name: String,
    pub funder_region: Option<String>,
    pub name: String,
    pub legal_basis: String,
    pub area_code: String,
    pub first_month: Month,
    pub last_month: Month,
    pub quota: i32,
    pub budget_ceiling: Rupiah,
    pub jkk_monthly: Rupiah,
    pub jkm_monthly: Rupiah,
    pub max_decile: i16,
    pub min_age: i16,
    pub max_age: i16,
    pub max_decile_age_quarters: i16,
    pub created_at: DateTime<Utc>,
}

impl SubsidyRow {
    /// The subsidy with its funder and creation time.
    pub fn into_stored(self) -> anyhow::Result<super::Stored> {
        let subsidy = self.into_subsidy()?;
        let funder = crate::agency::Agency {
            id: self.funder_id,
            name: self.funder_name,
            kind: subsidy.funder_kind,
            region: self.funder_region.as_deref().and_then(|r| RegionCode::parse(r).ok()),
        };
        Ok(super::Stored { subsidy, funder, created_at: self.created_at })
    }

    pub fn into_subsidy(&self) -> anyhow::Result<Subsidy> {
        Ok(Subsidy {
            id: self.id,
            funder_id: self.funder_id,
            funder_kind: self.funder_kind,
            name: self.name.clone(),
            legal_basis: self.legal_basis.clone(),
            area: RegionCode::parse(&self.area_code)?,
            first_month: self.first_month,
            last_month: self.last_month,
            quota: u32::try_from(self.quota)?,
            budget_ceiling: self.budget_ceiling,
            contribution: Contribution { jkk: self.jkk_monthly, jkm: self.jkm_monthly },
            eligibility: Eligibility {
                max_decile: u8::try_from(self.max_decile)?,
                min_age: u8::try_from(self.min_age)?,
                max_age: u8::try_from(self.max_age)?,
                max_decile_age_quarters: u8::try_from(self.max_decile_age_quarters)?,
            },
        })
    }
}

/// Stores a new subsidy unless this funder already sent `request_id`; answers the id of the subsidy created by
/// that request either way.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, subsidy: &Subsidy, request_id: &str) -> sqlx::Result<Uuid> {
    let inserted = sqlx::query_scalar!(
        "insert into subsidies (id, funder_id, name, legal_basis, area_code, first_month, last_month, quota,
                                budget_ceiling, jkk_monthly, jkm_monthly, max_decile, min_age, max_age,
                                max_decile_age_quarters, request_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         on conflict (funder_id, request_id) do nothing
         returning id",
        subsidy.id,
        subsidy.funder_id,
        subsidy.name,
        subsidy.legal_basis,
        subsidy.area.as_str(),
        subsidy.first_month.first_day(),
        subsidy.last_month.first_day(),
        i32::try_from(subsidy.quota).unwrap_or(i32::MAX),
        subsidy.budget_ceiling.amount(),
        subsidy.contribution.jkk.amount(),
        subsidy.contribution.jkm.amount(),
        i16::from(subsidy.eligibility.max_decile),
        i16::from(subsidy.eligibility.min_age),
        i16::from(subsidy.eligibility.max_age),
        i16::from(subsidy.eligibility.max_decile_age_quarters),
        request_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok(id),
        None => {
            sqlx::query_scalar!(
                "select id from subsidies where funder_id = $1 and request_id = $2",
                subsidy.funder_id,
                request_id
            )
            .fetch_one(&mut *conn)
            .await
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<SubsidyRow>> {
    sqlx::query_as!(
        SubsidyRow,
        r#"select s.id, s.funder_id, a.kind as "funder_kind: AgencyKind", a.name as funder_name,
                  coalesce(a.regency_code, a.province_code) as funder_region,
                  s.name, s.legal_basis, s.area_code, s.first_month as "first_month: Month",
                  s.last_month as "last_month: Month", s.quota, s.budget_ceiling as "budget_ceiling: Rupiah",
                  s.jkk_monthly as "jkk_monthly: Rupiah", s.jkm_monthly as "jkm_monthly: Rupiah", s.max_decile,
                  s.min_age, s.max_age, s.max_decile_age_quarters, s.created_at
           from subsidies s join agencies a on a.id = s.funder_id
           where s.id = $1"#,
        id
    )
    .fetch_optional(executor)
    .await
}

/// Locks the given subsidies (in id order, so concurrent callers cannot deadlock) until the transaction ends and
/// answers them: enrollments into a subsidy are decided one transaction at a time.
#[tracing::instrument(skip_all)]
pub async fn lock(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<SubsidyRow>> {
    sqlx::query_as!(
        SubsidyRow,
        r#"select s.id, s.funder_id, a.kind as "funder_kind: AgencyKind", a.name as funder_name,
                  coalesce(a.regency_code, a.province_code) as funder_region,
                  s.name, s.legal_basis, s.area_code, s.first_month as "first_month: Month",
                  s.last_month as "last_month: Month", s.quota, s.budget_ceiling as "budget_ceiling: Rupiah",
                  s.jkk_monthly as "jkk_monthly: Rupiah", s.jkm_monthly as "jkm_monthly: Rupiah", s.max_decile,
                  s.min_age, s.max_age, s.max_decile_age_quarters, s.created_at
           from subsidies s join agencies a on a.id = s.funder_id
           where s.id = any($1)
           order by s.id
           for update of s"#,
        ids
    )
    .fetch_all(conn)
    .await
}

/// A page of subsidies, newest first; `funder` limits it to one funder's.
#[tracing::instrument(skip_all)]
pub async fn list(
    executor: impl PgExecutor<'_>,
    funder: Option<Uuid>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<SubsidyRow>> {
    let (before_at, before_id) = before.unzip();
    sqlx::query_as!(
        SubsidyRow,
        r#"select s.id, s.funder_id, a.kind as "funder_kind: AgencyKind", a.name as funder_name,
                  coalesce(a.regency_code, a.province_code) as funder_region,
                  s.name, s.legal_basis, s.area_code, s.first_month as "first_month: Month",
                  s.last_month as "last_month: Month", s.quota, s.budget_ceiling as "budget_ceiling: Rupiah",
                  s.jkk_monthly as "jkk_monthly: Rupiah", s.jkm_monthly as "jkm_monthly: Rupiah", s.max_decile,
                  s.min_age, s.max_age, s.max_decile_age_quarters, s.created_at
           from subsidies s join agencies a on a.id = s.funder_id
           where ($1::uuid is null or s.funder_id = $1)
             and ($2::timestamptz is null or (s.created_at, s.id) < ($2, $3))
           order by s.created_at desc, s.id desc
           limit $4"#,
        funder,
        before_at,
        before_id,
        limit
    )
    .fetch_all(executor)
    .await
}

/// How much of a subsidy is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub active: i64,
    pub pending: i64,
    /// Every funded month of every enrollment that is not rejected, times the monthly contribution.
    pub committed: Decimal,
}

#[tracing::instrument(skip_all)]
pub async fn usage(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Usage> {
    let row = sqlx::query!(
        r#"select count(*) filter (where e.status = 'active') as "active!",
                  count(*) filter (where e.status = 'pending') as "pending!",
                  coalesce(sum(
                      ((extract(year from upper(e.months)) * 12 + extract(month from upper(e.months)))
                       - (extract(year from lower(e.months)) * 12 + extract(month from lower(e.months))))
                      * (s.jkk_monthly + s.jkm_monthly)
                  ) filter (where e.status <> 'rejected' and not isempty(e.months)), 0) as "committed!"
           from subsidies s left join enrollments e on e.subsidy_id = s.id
           where s.id = $1"#,
        id
    )
    .fetch_one(executor)
    .await?;
    Ok(Usage { active: row.active, pending: row.pending, committed: row.committed })
}

/// What a subsidy's benefit policy is built from (see `subsidy::service::benefit_policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub id: Uuid,
    pub jkk_monthly: Rupiah,
    pub full_death_benefit_from: i32,
    pub early_death_benefit: Rupiah,
}

/// The benefit settings of `ids`, in one statement.
#[tracing::instrument(skip_all)]
pub async fn policies(executor: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<PolicyRow>> {
    sqlx::query_as!(
        PolicyRow,
        r#"select id, jkk_monthly as "jkk_monthly: Rupiah", full_death_benefit_from,
                  early_death_benefit as "early_death_benefit: Rupiah"
           from subsidies where id = any($1)"#,
        ids
    )
    .fetch_all(executor)
    .await
}
