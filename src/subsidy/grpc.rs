//! `lindung.v1.SubsidyService`.

use tonic::{Request, Response, Status};

use super::{convert, service};
use crate::{auth::Rpc, idempotency::parse_request_id, paging, proto::v1 as pb, state::AppState, validate::parse_id};

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
            let input = convert::from_proto(request.subsidy.unwrap_or_default());
            let stored = service::create(&self.state, &caller, input, &request_id).await?;
            Ok(pb::CreateSubsidyResponse { subsidy: Some(convert::to_proto(&stored)) })
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
            let stored = service::visible(&self.state, &caller, parse_id(&id, "subsidy_id")?).await?;
            Ok(pb::GetSubsidyResponse { subsidy: Some(convert::to_proto(&stored)) })
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
            let (stored, next) = service::list(&self.state, &caller, before, paging::limit(&page)).await?;
            Ok(pb::ListSubsidiesResponse {
                subsidies: stored.iter().map(convert::to_proto).collect(),
                next_page_token: next.map(|(at, id)| paging::time_token(PAGE_TAG, at, id)).unwrap_or_default(),
            })
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
            let id = parse_id(&id, "subsidy_id")?;
            let usage = service::usage(&self.state, &caller, id).await?;
            Ok(convert::usage_to_proto(id, &usage))
        }
        .await;
        self.state.finish(&caller, result).await
    }
}
