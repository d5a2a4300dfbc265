//! `lindung.v1.ReconcileService`.

use futures::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::{convert, service};
use crate::{
    auth::{Caller, Rpc},
    batch::ResponseStream,
    error::Error,
    proto::v1 as pb,
    state::AppState,
    telemetry::spawn_in_span,
};

#[derive(Debug, Clone)]
pub struct ReconcileGrpc {
    state: AppState,
}

impl ReconcileGrpc {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl pb::reconcile_service_server::ReconcileService for ReconcileGrpc {
    type ReconcileStream = ResponseStream<pb::ReconcileResponse>;

    async fn reconcile(
        &self,
        request: Request<Streaming<pb::ReconcileRequest>>,
    ) -> Result<Response<Self::ReconcileStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::Reconcile).await?;
        let inbound = request.into_inner();
        let state = self.state.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(service::PAGE);
        spawn_in_span(async move {
            let (answers, mut received) = tokio::sync::mpsc::channel(service::PAGE);
            let forward = async {
                while let Some(answer) = received.recv().await {
                    if tx.send(Ok(convert::answer_to_proto(answer))).await.is_err() {
                        break; // the client went away
                    }
                }
            };
            let (result, ()) = tokio::join!(run(&state, &caller, inbound, answers), forward);
            if let Err(error) = result {
                let status = state.finish::<()>(&caller, Err(error)).await.err();
                let _ = tx.send(Err(status.unwrap_or_else(|| Status::internal("internal error")))).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_monthly_statement(
        &self,
        request: Request<pb::GetMonthlyStatementRequest>,
    ) -> Result<Response<pb::GetMonthlyStatementResponse>, Status> {
        let caller = self.state.authorize(&request, Rpc::GetMonthlyStatement).await?;
        let result = async {
            let (subsidy, month) = convert::statement_request(request.get_ref())?;
            let statement = service::statement(&self.state, &caller, subsidy, month).await?;
            Ok(convert::statement_to_proto(statement))
        }
        .await;
        self.state.finish(&caller, result).await
    }
}

/// Reads the first message (the start) and hands the rest, as list rows, to the service.
async fn run(
    state: &AppState,
    caller: &Caller,
    mut inbound: Streaming<pb::ReconcileRequest>,
    answers: tokio::sync::mpsc::Sender<service::Answer>,
) -> Result<(), Error> {
    let first = inbound.message().await.map_err(|status| broken(0, status))?;
    let start = convert::start(first)?;
    let rows = futures::stream::unfold((inbound, 1u64), |(mut inbound, index)| async move {
        match inbound.message().await {
            Ok(Some(message)) => Some((convert::row(index, message), (inbound, index + 1))),
            Ok(None) => None,
            Err(status) => Some((Err(broken(index, status)), (inbound, index + 1))),
        }
    })
    .boxed();
    service::reconcile(state, caller, start, rows, answers).await
}

/// The error that ends a reconciliation whose request stream broke at message `index`: the stream's own status
/// (an undecodable row keeps its field violations), saying that nothing was compared.
fn broken(index: u64, status: Status) -> Error {
    let mut rpc = <tonic_types::pb::Status as prost::Message>::decode(status.details()).unwrap_or_default();
    rpc.code = status.code() as i32;
    rpc.message = format!(
        "the request stream broke at message {index}; a list is compared only whole, resend it: {}",
        status.message()
    );
    Error::Replayed(rpc)
}
