//! `lindung.v1.EnrollmentService`: funders submit, the insurer decides. Each RPC authorizes, converts
//! ([`super::convert`]), calls [`super::service`] and converts back.

use tonic::{Request, Response, Status, Streaming};

use super::{convert, service};
use crate::{
    auth::Rpc,
    batch::{BATCH_SIZE, ResponseStream, answer_in_batches},
    error::{Error, to_rpc_status},
    proto::v1 as pb,
    state::AppState,
};

#[derive(Debug, Clone)]
pub struct EnrollmentGrpc {
    state: AppState,
}

impl EnrollmentGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::enrollment_service_server::EnrollmentService for EnrollmentGrpc {
    async fn submit_enrollment(
        &self,
        request: Request<pb::SubmitEnrollmentRequest>,
    ) -> Result<Response<pb::SubmitEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::SubmitEnrollment).await?;
        // A submission's answer, refusals included, is audited with the submission itself (by the service).
        let received = vec![convert::received(&request.into_inner(), None)];
        let answers = service::submit(&self.state, &caller, received, None).await.map_err(Status::from)?;
        match answers.into_iter().next() {
            Some(Ok(row)) => {
                Ok(Response::new(pb::SubmitEnrollmentResponse { enrollment: Some(convert::to_proto(&row)) }))
            }
            Some(Err(error)) => Err(error.into()),
            None => Err(Error::internal(anyhow::anyhow!("a batch of one answered nothing")).into()),
        }
    }

    type SubmitEnrollmentsStream = ResponseStream<pb::SubmitEnrollmentsResponse>;

    async fn submit_enrollments(
        &self,
        request: Request<Streaming<pb::SubmitEnrollmentsRequest>>,
    ) -> Result<Response<Self::SubmitEnrollmentsStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::SubmitEnrollments).await?;
        let state = self.state.clone();
        let responses =
            answer_in_batches(request.into_inner(), move |first, rows: Vec<pb::SubmitEnrollmentsRequest>| {
                let (state, caller) = (state.clone(), caller.clone());
                async move {
                    let rows: Vec<pb::SubmitEnrollmentRequest> =
                        rows.into_iter().map(|r| r.submission.unwrap_or_default()).collect();
                    let request_ids: Vec<String> = rows.iter().map(|r| r.request_id.clone()).collect();
                    let received = rows.iter().map(|r| convert::received(r, Some("submission"))).collect();
                    let answers = service::submit(&state, &caller, received, Some("submission")).await?;
                    Ok(answers
                        .into_iter()
                        .zip(request_ids)
                        .zip(first..)
                        .map(|((answer, request_id), index)| {
                            let result = match answer {
                                Ok(row) => pb::submit_enrollments_response::Result::Enrollment(convert::to_proto(&row)),
                                Err(error) => pb::submit_enrollments_response::Result::Error(to_rpc_status(error)),
                            };
                            pb::SubmitEnrollmentsResponse { index, request_id, result: Some(result) }
                        })
                        .collect())
                }
            });
        Ok(Response::new(responses))
    }

    async fn end_enrollment(
        &self,
        request: Request<pb::EndEnrollmentRequest>,
    ) -> Result<Response<pb::EndEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::EndEnrollment).await?;
        let request = request.into_inner();
        let result = async {
            let (id, end_month, reason) = convert::end(&request)?;
            let row = service::end(&self.state, &caller, id, end_month, reason).await?;
            Ok(pb::EndEnrollmentResponse { enrollment: Some(convert::to_proto(&row)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn hand_over_enrollment(
        &self,
        request: Request<pb::HandOverEnrollmentRequest>,
    ) -> Result<Response<pb::HandOverEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::HandOverEnrollment).await?;
        let request = request.into_inner();
        let result = async {
            let asked = convert::hand_over(&request)?;
            let made = service::hand_over(&self.state, &caller, asked).await?;
            Ok(pb::HandOverEnrollmentResponse {
                ended: Some(convert::to_proto(&made.ended)),
                started: Some(convert::to_proto(&made.started)),
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn confirm_enrollment(
        &self,
        request: Request<pb::ConfirmEnrollmentRequest>,
    ) -> Result<Response<pb::ConfirmEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ConfirmEnrollment).await?;
        let decision = convert::confirm(&request.into_inner(), "");
        let result = service::decide_one(&self.state, &caller, decision).await;
        let result = result.map(|row| pb::ConfirmEnrollmentResponse { enrollment: Some(convert::to_proto(&row)) });
        self.state.finish(&caller, result).await
    }

    async fn refuse_enrollment(
        &self,
        request: Request<pb::RefuseEnrollmentRequest>,
    ) -> Result<Response<pb::RefuseEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::RefuseEnrollment).await?;
        let decision = convert::refuse(&request.into_inner(), "");
        let result = service::decide_one(&self.state, &caller, decision).await;
        let result = result.map(|row| pb::RefuseEnrollmentResponse { enrollment: Some(convert::to_proto(&row)) });
        self.state.finish(&caller, result).await
    }

    type DecideEnrollmentsStream = ResponseStream<pb::DecideEnrollmentsResponse>;

    async fn decide_enrollments(
        &self,
        request: Request<Streaming<pb::DecideEnrollmentsRequest>>,
    ) -> Result<Response<Self::DecideEnrollmentsStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::DecideEnrollments).await?;
        let state = self.state.clone();
        let responses = answer_in_batches(request.into_inner(), move |first, decisions| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                let decisions = decisions.into_iter().map(convert::decision).collect();
                let results = service::decide(&state, &caller, decisions).await?;
                Ok(results
                    .into_iter()
                    .zip(first..)
                    .map(|(result, index)| {
                        let result = match result {
                            Ok(row) => pb::decide_enrollments_response::Result::Enrollment(convert::to_proto(&row)),
                            Err(error) => pb::decide_enrollments_response::Result::Error(to_rpc_status(error)),
                        };
                        pb::DecideEnrollmentsResponse { index, result: Some(result) }
                    })
                    .collect())
            }
        });
        Ok(Response::new(responses))
    }

    async fn list_pending_enrollments(
        &self,
        request: Request<pb::ListPendingEnrollmentsRequest>,
    ) -> Result<Response<pb::ListPendingEnrollmentsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListPendingEnrollments).await?;
        let page = request.into_inner().page.unwrap_or_default();
        let result = async {
            let page = convert::page(&page)?;
            let listing = service::list(&self.state, &caller, &convert::pending(), page).await?;
            let (enrollments, next_page_token) = convert::listing(listing);
            Ok(pb::ListPendingEnrollmentsResponse { enrollments, next_page_token })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    type StreamPendingEnrollmentsStream = ResponseStream<pb::Enrollment>;

    async fn stream_pending_enrollments(
        &self,
        request: Request<pb::StreamPendingEnrollmentsRequest>,
    ) -> Result<Response<Self::StreamPendingEnrollmentsStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::StreamPendingEnrollments).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(BATCH_SIZE);
        let state = self.state.clone();
        crate::telemetry::spawn_in_span(async move {
            let mut after = None;
            loop {
                let rows = match service::pending_page(&state, &caller, after, BATCH_SIZE as i64).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        let _ = tx.send(Err(Status::from(e))).await;
                        return;
                    }
                };
                after = rows.last().map(|r| (r.created_at, r.id));
                let done = rows.len() < BATCH_SIZE;
                for row in &rows {
                    if tx.send(Ok(convert::to_proto(row))).await.is_err() {
                        return;
                    }
                }
                if done {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn get_enrollment(
        &self,
        request: Request<pb::GetEnrollmentRequest>,
    ) -> Result<Response<pb::GetEnrollmentResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetEnrollment).await?;
        let id = request.into_inner().enrollment_id;
        let result = async {
            let id = crate::validate::parse_id(&id, "enrollment_id")?;
            let view = service::get(&self.state, &caller, id).await?;
            Ok(pb::GetEnrollmentResponse { enrollment: Some(convert::view(&view)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_enrollments(
        &self,
        request: Request<pb::ListEnrollmentsRequest>,
    ) -> Result<Response<pb::ListEnrollmentsResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListEnrollments).await?;
        let request = request.into_inner();
        let result = async {
            let filter = convert::filter(&request)?;
            let page = convert::page(&request.page.unwrap_or_default())?;
            let listing = service::list(&self.state, &caller, &filter, page).await?;
            let (enrollments, next_page_token) = convert::listing(listing);
            Ok(pb::ListEnrollmentsResponse { enrollments, next_page_token })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}
