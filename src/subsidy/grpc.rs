//! `lindung.v1.SubsidyService`.

use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Subsidy, SubsidyInput, store};
use crate::{
    agency::grpc::agency_to_proto,
    area, audit,
    auth::{Caller, Rpc, Scope},
    error::Error,
    idempotency::parse_request_id,
    money::Rupiah,
    paging,
    proto::{convert::rupiah, v1 as pb},
    state::AppState,
    validate::parse_id,
};

/// The tag of subsidy page tokens, keyed by (creation time, id), newest first.
const PAGE_TAG: &str = "s1";

#[derive(Debug, Clone)]
pub struct SubsidyGrpc {
    state: AppState,
}

impl SubsidyGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::subsidy_service_server::SubsidyService for SubsidyGrpc {
    async fn create_subsidy(
        &self,
        request: Request<pb::CreateSubsidyRequest>,
    ) -> Result<Response<pb::CreateSubsidyResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::CreateSubsidy).await?;
        let request = request.into_inner();
        let result = async {
            let request_id = parse_request_id(&request.request_id, "request_id")?;
            let input = from_proto(request.subsidy.unwrap_or_default());
            let subsidy = Subsidy::parse(input, Uuid::new_v4(), &caller.agency).map_err(|violations| {
                // An area outside the funder's own is a write outside its authority, answered as every other one.
                match violations.iter().find(|v| v.reason == "AREA_OUTSIDE_FUNDER") {
                    Some(outside) => Error::PermissionDenied {
                        reason: "OUTSIDE_AGENCY_AREA",
                        message: format!("subsidy.area_code: {}", outside.description),
                    },
                    None => Error::InvalidArgument(violations.into_iter().map(|v| v.nested("subsidy")).collect()),
                }
            })?;
            let mut tx = self.state.pool.begin().await?;
            if !area::store::exists(&mut *tx, &subsidy.area).await? {
                return Err(Error::invalid(
                    "subsidy.area_code",
                    "AREA_UNKNOWN",
                    format!("area {} is not in the Kemendagri area list", subsidy.area),
                ));
            }
            let id = store::insert(&mut tx, &subsidy, &request_id).await?;
            audit::store::record(&mut *tx, caller.actor(), "OK", &[]).await?;
            let row =
                store::get(&mut *tx, id).await?.ok_or_else(|| Error::internal(anyhow::anyhow!("subsidy vanished")))?;
            tx.commit().await?;
            Ok(pb::CreateSubsidyResponse { subsidy: Some(to_proto(&row)?) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn get_subsidy(
        &self,
        request: Request<pb::GetSubsidyRequest>,
    ) -> Result<Response<pb::GetSubsidyResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetSubsidy).await?;
        let id = request.into_inner().subsidy_id;
        let result = async {
            let row = visible(&self.state, &caller, &id).await?;
            Ok(pb::GetSubsidyResponse { subsidy: Some(to_proto(&row)?) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_subsidies(
        &self,
        request: Request<pb::ListSubsidiesRequest>,
    ) -> Result<Response<pb::ListSubsidiesResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListSubsidies).await?;
        let page = request.into_inner().page.unwrap_or_default();
        let result = async {
            let before = paging::after_time(PAGE_TAG, &page)?;
            let limit = paging::limit(&page);
            let funder = (caller.scope != Scope::All).then_some(caller.agency_id());
            let mut rows = store::list(&self.state.pool, funder, before, limit + 1).await?;
            let next_page_token = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| paging::time_token(PAGE_TAG, r.created_at, r.id)).unwrap_or_default()
            } else {
                String::new()
            };
            let subsidies = rows.iter().map(to_proto).collect::<Result<_, _>>()?;
            Ok(pb::ListSubsidiesResponse { subsidies, next_page_token })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn get_subsidy_usage(
        &self,
        request: Request<pb::GetSubsidyUsageRequest>,
    ) -> Result<Response<pb::GetSubsidyUsageResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetSubsidyUsage).await?;
        let id = request.into_inner().subsidy_id;
        let result = async {
            let row = visible(&self.state, &caller, &id).await?;
            let subsidy = row.into_subsidy().map_err(Error::Internal)?;
            let usage = store::usage(&self.state.pool, subsidy.id).await?;
            let committed = Rupiah::new(usage.committed).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
            let active = u32::try_from(usage.active).unwrap_or(u32::MAX);
            let pending = u32::try_from(usage.pending).unwrap_or(u32::MAX);
            Ok(pb::GetSubsidyUsageResponse {
                subsidy_id: subsidy.id.to_string(),
                active,
                pending,
                quota_left: subsidy.quota.saturating_sub(active.saturating_add(pending)),
                budget_committed: Some(rupiah(committed)),
                budget_left: Some(rupiah(subsidy.budget_ceiling.checked_sub(committed).unwrap_or(Rupiah::ZERO))),
                monthly_commitment: Some(rupiah(subsidy.contribution.total().times(u64::from(active)))),
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

/// The subsidy `id` if the caller may see it: its funder, or the insurer. Others are answered NOT_FOUND.
pub async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<store::SubsidyRow, Error> {
    let id = parse_id(id, "subsidy_id")?;
    match store::get(&state.pool, id).await? {
        Some(row) if caller.scope == Scope::All || row.funder_id == caller.agency_id() => Ok(row),
        _ => Err(Error::NotFound(format!("no subsidy {id} in your view"))),
    }
}

fn from_proto(subsidy: pb::Subsidy) -> SubsidyInput {
    let contribution = subsidy.contribution.unwrap_or_default();
    let eligibility = subsidy.eligibility.unwrap_or_default();
    SubsidyInput {
        name: subsidy.name,
        legal_basis: subsidy.legal_basis,
        area_code: subsidy.area_code,
        first_month: subsidy.first_month,
        last_month: subsidy.last_month,
        quota: subsidy.quota,
        budget_ceiling: subsidy.budget_ceiling.map(|r| r.amount).unwrap_or_default(),
        jkk: contribution.jkk.map(|r| r.amount).unwrap_or_default(),
        jkm: contribution.jkm.map(|r| r.amount).unwrap_or_default(),
        max_decile: eligibility.max_decile,
        min_age: eligibility.min_age,
        max_age: eligibility.max_age,
        max_decile_age_quarters: eligibility.max_decile_age_quarters,
    }
}

pub fn to_proto(row: &store::SubsidyRow) -> Result<pb::Subsidy, Error> {
    let subsidy = row.into_subsidy().map_err(Error::Internal)?;
    let funder = crate::agency::Agency {
        id: row.funder_id,
        name: row.funder_name.clone(),
        kind: subsidy.funder_kind,
        region: row.funder_region.as_deref().and_then(|r| crate::area::RegionCode::parse(r).ok()),
    };
    Ok(pb::Subsidy {
        id: subsidy.id.to_string(),
        funder: Some(agency_to_proto(&funder)),
        name: subsidy.name.clone(),
        legal_basis: subsidy.legal_basis.clone(),
        area_code: subsidy.area.as_str().to_owned(),
        first_month: subsidy.first_month.to_string(),
        last_month: subsidy.last_month.to_string(),
        quota: subsidy.quota,
        budget_ceiling: Some(rupiah(subsidy.budget_ceiling)),
        contribution: Some(pb::Contribution {
            jkk: Some(rupiah(subsidy.contribution.jkk)),
            jkm: Some(rupiah(subsidy.contribution.jkm)),
            total: Some(rupiah(subsidy.contribution.total())),
        }),
        eligibility: Some(pb::Eligibility {
            max_decile: u32::from(subsidy.eligibility.max_decile),
            min_age: u32::from(subsidy.eligibility.min_age),
            max_age: u32::from(subsidy.eligibility.max_age),
            max_decile_age_quarters: u32::from(subsidy.eligibility.max_decile_age_quarters),
        }),
        create_time: Some(prost_types::Timestamp {
            seconds: row.created_at.timestamp(),
            nanos: row.created_at.timestamp_subsec_nanos() as i32,
        }),
    })
}
