//! `lindung.v1.ClaimService`: authorize, convert ([`super::convert`]), call the use case ([`super::service`]),
//! convert back.

use tonic::{Request, Response, Status};

use super::{
    convert,
    service::{self, Estimate, PAGE_TAG},
};
use crate::{auth::Rpc, paging, proto::v1 as pb, state::AppState, validate::parse_id};

#[derive(Debug, Clone)]
pub struct ClaimGrpc {
    state: AppState,
}

impl ClaimGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::claim_service_server::ClaimService for ClaimGrpc {
    async fn file_claim(
        &self,
        request: Request<pb::FileClaimRequest>,
    ) -> Result<Response<pb::FileClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::FileClaim).await?;
        let request = request.into_inner();
        let result = async {
            let filing = convert::filing(&request)?;
            let claim = service::file_claim(&self.state, &caller, filing).await?;
            Ok(pb::FileClaimResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn file_accident_notice(
        &self,
        request: Request<pb::FileAccidentNoticeRequest>,
    ) -> Result<Response<pb::FileAccidentNoticeResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::FileAccidentNotice).await?;
        let request = request.into_inner();
        let result = async {
            let notice = convert::accident_notice(&request)?;
            let claim = service::file_accident_notice(&self.state, &caller, notice).await?;
            Ok(pb::FileAccidentNoticeResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn add_claim_documents(
        &self,
        request: Request<pb::AddClaimDocumentsRequest>,
    ) -> Result<Response<pb::AddClaimDocumentsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::AddClaimDocuments).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let added = convert::documents(&request.documents)?;
            let claim = service::add_documents(&self.state, &caller, id, added).await?;
            Ok(pb::AddClaimDocumentsResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn assess_claim(
        &self,
        request: Request<pb::AssessClaimRequest>,
    ) -> Result<Response<pb::AssessClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::AssessClaim).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let claim = service::assess(&self.state, &caller, id).await?;
            Ok(pb::AssessClaimResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn decide_claim(
        &self,
        request: Request<pb::DecideClaimRequest>,
    ) -> Result<Response<pb::DecideClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::DecideClaim).await?;
        let request = request.into_inner();
        let result = async {
            let (id, decision) = convert::decision(&request)?;
            let claim = service::decide(&self.state, &caller, id, decision).await?;
            Ok(pb::DecideClaimResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn pay_claim(&self, request: Request<pb::PayClaimRequest>) -> Result<Response<pb::PayClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::PayClaim).await?;
        let request = request.into_inner();
        let result = async {
            let (id, payment) = convert::payment(&request)?;
            let claim = service::pay(&self.state, &caller, id, payment).await?;
            Ok(pb::PayClaimResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn get_claim(&self, request: Request<pb::GetClaimRequest>) -> Result<Response<pb::GetClaimResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetClaim).await?;
        let request = request.into_inner();
        let result = async {
            let id = parse_id(&request.claim_id, "claim_id")?;
            let claim = service::get(&self.state, &caller, id).await?;
            Ok(pb::GetClaimResponse { claim: Some(convert::claim(claim)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_claims(
        &self,
        request: Request<pb::ListClaimsRequest>,
    ) -> Result<Response<pb::ListClaimsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListClaims).await?;
        let request = request.into_inner();
        let result = async {
            let query = convert::list_query(&request)?;
            let page = request.page.unwrap_or_default();
            let after = paging::after_time(PAGE_TAG, &page)?;
            let listed = service::list(&self.state, &caller, query, after, paging::limit(&page)).await?;
            Ok(pb::ListClaimsResponse {
                claims: listed.items.into_iter().map(convert::claim).collect(),
                next_page_token: listed.next_page_token,
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn estimate_benefit(
        &self,
        request: Request<pb::EstimateBenefitRequest>,
    ) -> Result<Response<pb::EstimateBenefitResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::EstimateBenefit).await?;
        let request = request.into_inner();
        let result = async {
            let (who, date, claimed) = convert::estimate(&request)?;
            Ok(match service::estimate(&self.state, &caller, who, date, claimed).await? {
                Estimate::Covered(assessment) => pb::EstimateBenefitResponse {
                    covered: true,
                    not_covered_reason: String::new(),
                    breakdown: Some(convert::breakdown(&assessment)),
                },
                Estimate::NotCovered(reason) => pb::EstimateBenefitResponse {
                    covered: false,
                    not_covered_reason: reason.code().to_owned(),
                    breakdown: None,
                },
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}
