//! `lindung.v1.WorkerService`.

use tonic::{Request, Response, Status, Streaming};

use super::{
    convert::{self, PAGE_TAG},
    service,
};
use crate::{
    auth::Rpc,
    batch::{ResponseStream, answer_in_batches},
    clock::today,
    error::Error,
    nik::Nik,
    paging,
    proto::v1 as pb,
    state::AppState,
};

#[derive(Debug, Clone)]
pub struct WorkerGrpc {
    state: AppState,
}

impl WorkerGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::worker_service_server::WorkerService for WorkerGrpc {
    async fn upsert_worker(
        &self,
        request: Request<pb::UpsertWorkerRequest>,
    ) -> Result<Response<pb::UpsertWorkerResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::UpsertWorker).await?;
        let input = convert::from_proto(request.into_inner().worker.unwrap_or_default());
        let result = async {
            let (outcome, stored) = service::upsert_one(&self.state, &caller, today(), input).await?;
            Ok(pb::UpsertWorkerResponse {
                outcome: convert::outcome_to_proto(outcome) as i32,
                worker: Some(convert::to_proto(stored)),
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    type UpsertWorkersStream = ResponseStream<pb::UpsertWorkersResponse>;

    async fn upsert_workers(
        &self,
        request: Request<Streaming<pb::UpsertWorkersRequest>>,
    ) -> Result<Response<Self::UpsertWorkersStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::UpsertWorkers).await?;
        let state = self.state.clone();
        let responses = answer_in_batches(request.into_inner(), move |first, rows: Vec<pb::UpsertWorkersRequest>| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                let refs: Vec<String> = rows.iter().map(|r| r.client_ref.clone()).collect();
                let inputs = rows.into_iter().map(|r| convert::from_proto(r.worker.unwrap_or_default())).collect();
                let results = service::upsert(&state, &caller, today(), inputs, "worker").await?;
                Ok(results
                    .into_iter()
                    .zip(refs)
                    .zip(first..)
                    .map(|((result, client_ref), index)| convert::row_response(index, client_ref, result))
                    .collect())
            }
        });
        Ok(Response::new(responses))
    }

    async fn get_worker(
        &self,
        request: Request<pb::GetWorkerRequest>,
    ) -> Result<Response<pb::GetWorkerResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetWorker).await?;
        let nik = request.into_inner().nik;
        let result = async {
            let nik = Nik::parse(&nik).map_err(|e| Error::invalid("nik", e.message()))?;
            let stored = service::get(&self.state, &caller, &nik).await?;
            Ok(pb::GetWorkerResponse { worker: Some(convert::to_proto(stored)) })
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn report_death(
        &self,
        request: Request<pb::ReportDeathRequest>,
    ) -> Result<Response<pb::ReportDeathResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ReportDeath).await?;
        let request = request.into_inner();
        let result = async {
            let report = convert::death_report(&request)?;
            let reported = service::report_death(&self.state, &caller, report).await?;
            Ok(convert::reported_to_proto(reported))
        }
        .await;
        self.state.finish(&caller, result).await
    }

    async fn list_workers(
        &self,
        request: Request<pb::ListWorkersRequest>,
    ) -> Result<Response<pb::ListWorkersResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::ListWorkers).await?;
        let request = request.into_inner();
        let result = async {
            let filter = convert::list_filter(&request)?;
            let (rows, next) = service::list(&self.state, &caller, filter).await?;
            Ok(pb::ListWorkersResponse {
                workers: rows.into_iter().map(convert::to_proto).collect(),
                next_page_token: next.map(|nik| paging::token(PAGE_TAG, &nik)).unwrap_or_default(),
            })
        }
        .await;
        self.state.finish(&caller, result).await
    }
}
