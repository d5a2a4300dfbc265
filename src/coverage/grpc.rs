//! `lindung.v1.CoverageService`.

use tonic::{Request, Response, Status, Streaming};

use super::{convert, service};
use crate::{
    attestation,
    auth::Rpc,
    batch::{ResponseStream, answer_in_batches},
    error::Error,
    proto::v1 as pb,
    state::AppState,
};

#[derive(Debug, Clone)]
pub struct CoverageGrpc {
    state: AppState,
}

impl CoverageGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::coverage_service_server::CoverageService for CoverageGrpc {
    async fn verify_coverage(
        &self,
        request: Request<pb::VerifyCoverageRequest>,
    ) -> Result<Response<pb::VerifyCoverageResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::VerifyCoverage).await?;
        let request = request.into_inner();
        let result = async {
            // An invalid question is the call's INVALID_ARGUMENT, answered as a batch of one otherwise.
            let question = convert::question(&request)?;
            let answer = service::answer(&self.state, &caller, vec![Ok(question.clone())]).await?.pop();
            let answer =
                answer.ok_or_else(|| Error::internal(anyhow::anyhow!("a batch of one answered nothing")))??;
            let attestation = match request.attest {
                true => attestation::service::issue(&self.state, &caller, &question, &answer).await?,
                false => None,
            };
            let mut response = convert::answer_to_proto(request.client_ref, Ok(answer));
            response.attestation = attestation.unwrap_or_default();
            Ok(response)
        }
        .await;
        self.state.finish(&caller, result).await
    }

    type VerifyCoverageStreamStream = ResponseStream<pb::VerifyCoverageResponse>;

    async fn verify_coverage_stream(
        &self,
        request: Request<Streaming<pb::VerifyCoverageRequest>>,
    ) -> Result<Response<Self::VerifyCoverageStreamStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::VerifyCoverageStream).await?;
        let state = self.state.clone();
        let responses = answer_in_batches(request.into_inner(), move |_, rows: Vec<pb::VerifyCoverageRequest>| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                let questions = rows.iter().map(convert::question).collect();
                let answers = service::answer(&state, &caller, questions).await?;
                Ok(rows.into_iter().zip(answers).map(|(row, a)| convert::answer_to_proto(row.client_ref, a)).collect())
            }
        });
        Ok(Response::new(responses))
    }
}
