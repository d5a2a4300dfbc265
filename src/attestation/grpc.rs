//! `lindung.v1.AttestationService`.

use tonic::{Request, Response, Status};

use super::{convert, service};
use crate::{
    auth::Rpc,
    error::{Error, FieldViolation},
    proto::v1 as pb,
    state::AppState,
};

#[derive(Debug, Clone)]
pub struct AttestationGrpc {
    state: AppState,
}

impl AttestationGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::attestation_service_server::AttestationService for AttestationGrpc {
    async fn list_signing_keys(
        &self,
        request: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListSigningKeys).await?;
        let result = async {
            let keys = service::keys(&self.state).await?;
            Ok(convert::keys_to_proto(&keys, self.state.signer.kid()))
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn check_attestation(
        &self,
        request: Request<pb::CheckAttestationRequest>,
    ) -> Result<Response<pb::CheckAttestationResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::CheckAttestation).await?;
        let token = request.into_inner().attestation;
        let result = async {
            if token.trim().is_empty() {
                return Err(Error::InvalidArgument(vec![FieldViolation::new(
                    "attestation",
                    crate::msg!(REQUIRED_ATTESTATION),
                )]));
            }
            Ok(convert::check_to_proto(service::check(&self.state, &caller, &token).await?))
        }
        .await;
        self.state.finish(&caller, result).await
    }
}
