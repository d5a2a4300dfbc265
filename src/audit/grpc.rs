//! `lindung.v1.AuditService`.

use tonic::{Request, Response, Status};

use super::{convert, service};
use crate::{auth::Rpc, proto::v1 as pb, state::AppState};

#[derive(Debug, Clone)]
pub struct AuditGrpc {
    state: AppState,
}

impl AuditGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::audit_service_server::AuditService for AuditGrpc {
    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListAuditRecords).await?;
        let request = request.into_inner();
        let result = async {
            let listing = convert::listing(request.time_range.as_ref(), request.page.as_ref())?;
            let page = service::list_own(&self.state, &caller, &listing).await?;
            Ok(pb::ListAuditRecordsResponse {
                records: page.items.iter().map(convert::entry_to_proto).collect(),
                next_page_token: page.next_page_token,
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_worker_access(
        &self,
        request: Request<pb::ListWorkerAccessRequest>,
    ) -> Result<Response<pb::ListWorkerAccessResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListWorkerAccess).await?;
        let request = request.into_inner();
        let result = async {
            let listing = convert::listing(request.time_range.as_ref(), request.page.as_ref())?;
            let page = service::worker_access(&self.state, &caller, &listing).await?;
            Ok(pb::ListWorkerAccessResponse {
                accesses: page
                    .items
                    .iter()
                    .map(|access| pb::WorkerAccess {
                        worker_nik: access.nik.as_str().to_owned(),
                        record: Some(convert::entry_to_proto(&access.entry)),
                    })
                    .collect(),
                next_page_token: page.next_page_token,
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn subject_access_report(
        &self,
        request: Request<pb::SubjectAccessReportRequest>,
    ) -> Result<Response<pb::SubjectAccessReportResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::SubjectAccessReport).await?;
        let request = request.into_inner();
        let result = async {
            let nik = convert::nik(&request.nik)?;
            let listing = convert::listing(request.time_range.as_ref(), request.page.as_ref())?;
            let page = service::subject_access_report(&self.state, &caller, &nik, &listing).await?;
            Ok(pb::SubjectAccessReportResponse {
                worker_nik: nik.as_str().to_owned(),
                records: page.items.iter().map(convert::entry_to_proto).collect(),
                next_page_token: page.next_page_token,
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetInclusionProof).await?;
        let request = request.into_inner();
        let result = async {
            let key = convert::record_key(&request)?;
            let (entry, proof) = service::inclusion_proof(&self.state, &caller, key).await?;
            Ok(convert::proof_to_proto(&entry, &proof))
        }
        .await;
        self.state.finish(&caller, result).await
    }
}
