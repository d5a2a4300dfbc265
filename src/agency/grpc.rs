//! `lindung.v1.AgencyService`.

use tonic::{Request, Response, Status};

use super::{Agency, AgencyKind};
use crate::{
    auth::{self, Rpc, Scope},
    proto::v1 as pb,
    state::AppState,
};

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
        let kind = caller.agency.kind;
        let permissions = auth::TABLE
            .iter()
            .filter_map(|(rpc, _)| auth::scope(kind, *rpc).map(|scope| (rpc, scope)))
            .map(|(rpc, scope)| pb::Permission { method: rpc.method().to_owned(), scope: scope_to_proto(scope) as i32 })
            .collect();
        let response = pb::WhoAmIResponse { agency: Some(agency_to_proto(&caller.agency)), permissions };
        self.state.finish(&caller, Ok(response)).await
    }
}

pub fn agency_to_proto(agency: &Agency) -> pb::Agency {
    pb::Agency {
        id: agency.id.to_string(),
        name: agency.name.clone(),
        kind: kind_to_proto(agency.kind) as i32,
        region_code: agency.region.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
    }
}

fn kind_to_proto(kind: AgencyKind) -> pb::AgencyKind {
    match kind {
        AgencyKind::City => pb::AgencyKind::City,
        AgencyKind::Province => pb::AgencyKind::Province,
        AgencyKind::Insurer => pb::AgencyKind::Insurer,
    }
}

fn scope_to_proto(scope: Scope) -> pb::Scope {
    match scope {
        Scope::OwnAgency => pb::Scope::Self_,
        Scope::OwnArea => pb::Scope::OwnArea,
        Scope::All => pb::Scope::All,
    }
}
