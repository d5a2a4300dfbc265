//! The subsidy use cases: creating and reading subsidies, and what other concepts ask of one (whether a caller may
//! see it, the benefit policy its participants are assessed under).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Stored, Subsidy, SubsidyInput, Usage, store};
use crate::{
    area,
    auth::{Caller, Scope},
    benefit,
    error::{Error, FieldViolation},
    money::Rupiah,
    state::AppState,
};

/// Where a page of subsidies starts: after the subsidy created at this time with this id (newest first).
pub type PageKey = (DateTime<Utc>, Uuid);

/// Creates a subsidy funded by the caller, or answers the one an earlier call with `request_id` created.
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, caller: &Caller, input: SubsidyInput, request_id: &str) -> Result<Stored, Error> {
    let subsidy = Subsidy::parse(input, Uuid::new_v4(), &caller.agency).map_err(refusal)?;
    let mut w = state.write(caller).await?;
    if !area::store::exists(&mut *w, &subsidy.area).await? {
        return Err(Error::invalid("subsidy.area_code", crate::msg!(AREA_UNKNOWN, area = subsidy.area.to_string())));
    }
    let id = store::insert(&mut w, &subsidy, request_id).await?;
    let row = store::get(&mut *w, id).await?.ok_or_else(|| Error::internal(anyhow::anyhow!("subsidy vanished")))?;
    w.commit().await?;
    stored(row)
}

/// The subsidy `id` if the caller may see it: its funder, or the insurer. Others are answered NOT_FOUND.
#[tracing::instrument(skip_all)]
pub async fn visible(state: &AppState, caller: &Caller, id: Uuid) -> Result<Stored, Error> {
    match store::get(&state.pool, id).await? {
        Some(row) if caller.scope == Scope::All || row.funder_id == caller.agency_id() => stored(row),
        _ => Err(Error::NotFound(crate::msg!(NO_SUBSIDY_IN_VIEW, id = id.to_string()))),
    }
}

/// A page of the subsidies the caller may see, newest first, from before `before`; with the key of the next page
/// when there is one.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    before: Option<PageKey>,
    limit: i64,
) -> Result<(Vec<Stored>, Option<PageKey>), Error> {
    let funder = (caller.scope != Scope::All).then_some(caller.agency_id());
    let mut rows = store::list(&state.pool, funder, before, limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| (r.created_at, r.id))
    } else {
        None
    };
    Ok((rows.into_iter().map(stored).collect::<Result<_, _>>()?, next))
}

/// How much of the subsidy `id` is used, if the caller may see it.
#[tracing::instrument(skip_all)]
pub async fn usage(state: &AppState, caller: &Caller, id: Uuid) -> Result<Usage, Error> {
    let subsidy = visible(state, caller, id).await?.subsidy;
    let usage = store::usage(&state.pool, subsidy.id).await?;
    let committed = Rupiah::new(usage.committed).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let active = u32::try_from(usage.active).unwrap_or(u32::MAX);
    let pending = u32::try_from(usage.pending).unwrap_or(u32::MAX);
    Ok(subsidy.usage(active, pending, committed))
}

/// The benefit policy of a subsidy: the JKK base is the declared-income tier, 100 × the JKK contribution (R1.1); the
/// R2.2 values are the subsidy's own settings (migration 0007); the rest are RULES.md's defaults.
#[tracing::instrument(skip_all)]
pub async fn benefit_policy(conn: &mut PgConnection, subsidy: Uuid) -> Result<benefit::Policy, Error> {
    benefit_policies(conn, &[subsidy])
        .await?
        .remove(&subsidy)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("subsidy {subsidy} vanished")))
}

/// The benefit policies of several subsidies, in one statement: the one place a subsidy's policy is built.
#[tracing::instrument(skip_all)]
pub async fn benefit_policies(
    conn: &mut PgConnection,
    subsidies: &[Uuid],
) -> Result<HashMap<Uuid, benefit::Policy>, Error> {
    store::policies(conn, subsidies).await?.into_iter().map(|row| Ok((row.id, policy_of(row)?))).collect()
}

fn policy_of(row: store::PolicyRow) -> Result<benefit::Policy, Error> {
    let base = row.jkk_monthly.times(100);
    let full_death_benefit_from = u32::try_from(row.full_death_benefit_from).map_err(Error::internal)?;
    Ok(benefit::Policy {
        base,
        full_death_benefit_from,
        early_death_benefit: row.early_death_benefit,
        ..benefit::Policy::default()
    })
}

fn stored(row: store::SubsidyRow) -> Result<Stored, Error> {
    row.into_stored().map_err(Error::Internal)
}

/// The answer to a subsidy that does not parse: an area outside the funder's own is a write outside its authority,
/// answered as every other one; anything else is an invalid argument under `subsidy`.
fn refusal(violations: Vec<FieldViolation>) -> Error {
    match violations.iter().find(|v| v.reason == "AREA_OUTSIDE_FUNDER") {
        Some(outside) => {
            Error::PermissionDenied(crate::msg!(OUTSIDE_AGENCY_AREA_SUBSIDY, detail = outside.message.clone()))
        }
        None => Error::InvalidArgument(violations.into_iter().map(|v| v.nested("subsidy")).collect()),
    }
}
