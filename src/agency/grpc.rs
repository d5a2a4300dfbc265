//! `lindung.v1.AgencyService`.

use tonic::{Request, Response, Status};

use super::{
    convert::{agency_to_proto, scope_to_proto},
    service,
};
use crate::{auth::Rpc, proto::v1 as pb, state::AppState};

#[derive(Debug, Clone)]
pub struct AgencyGrpc {
    state: AppState,
}

impl AgencyGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::agency_service_server::AgencyService for AgencyGrpc {
    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::WhoAmI).await?;
        let permissions = service::permissions(caller.agency.kind)
            .into_iter()
            .map(|(rpc, scope)| pb::Permission { method: rpc.method().to_owned(), scope: scope_to_proto(scope) as i32 })
            .collect();
        let response = pb::WhoAmIResponse { agency: Some(agency_to_proto(&caller.agency)), permissions };
        self.state.finish(&caller, Ok(response)).await
    }
}
