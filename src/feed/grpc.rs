//! `lindung.v1.FeedService`: one task per subscriber, which replays from its position and then waits on the head.

use std::time::Duration;

use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

use super::{
    Kind, convert,
    service::{self, Head},
};
use crate::{auth::Caller, auth::Rpc, batch::ResponseStream, proto::v1 as pb, state::AppState};

#[derive(Debug, Clone)]
pub struct FeedGrpc {
    state: AppState,
    head: Head,
    heartbeat: Duration,
}

impl FeedGrpc {
    pub fn new(state: AppState, head: Head, heartbeat: Duration) -> Self {
        Self { state, head, heartbeat }
    }
}

type Sender = mpsc::Sender<Result<pb::SubscribeResponse, Status>>;

#[tonic::async_trait]
impl pb::feed_service_server::FeedService for FeedGrpc {
    type SubscribeStream = ResponseStream<pb::SubscribeResponse>;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let caller = self.state.authorize(&request, Rpc::Subscribe).await?;
        let request = request.into_inner();
        let kinds = match convert::kinds(&request.kinds) {
            Ok(kinds) => kinds,
            Err(error) => return self.state.finish(&caller, Err(error)).await,
        };
        // Few messages are held for a slow subscriber: it is read from the store again as it catches up, so it
        // never holds up a writer (or anyone else).
        let (tx, rx) = mpsc::channel(64);
        let (state, mut head, heartbeat) = (self.state.clone(), self.head.clone(), self.heartbeat);
        crate::telemetry::spawn_in_span(async move {
            let mut last = request.after;
            let mut beat = tokio::time::interval(heartbeat);
            beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let upto = *head.borrow_and_update();
                if catch_up(&state, &caller, &mut last, upto, &kinds, &tx).await.is_err() {
                    return;
                }
                tokio::select! {
                    changed = head.changed() => if changed.is_err() {
                        let stopping = Status::unavailable("the server is stopping; subscribe again after the last position received");
                        let _ = tx.send(Err(stopping)).await;
                        return;
                    },
                    _ = beat.tick() => {
                        // Caught up first, so that the heartbeat's head is the head now.
                        let upto = *head.borrow_and_update();
                        if catch_up(&state, &caller, &mut last, upto, &kinds, &tx).await.is_err()
                            || tx.send(Ok(convert::heartbeat(upto))).await.is_err()
                        {
                            return;
                        }
                    },
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}

/// Sends every event the caller may see after `last` up to `upto`, page by page, moving `last` on. Err when the
/// stream is over (the client left, or an error was sent).
async fn catch_up(
    state: &AppState,
    caller: &Caller,
    last: &mut u64,
    upto: u64,
    kinds: &[Kind],
    tx: &Sender,
) -> Result<(), ()> {
    while *last < upto {
        let events = match service::page(state, caller, *last, upto, kinds).await {
            Ok(events) => events,
            Err(error) => {
                let _ = tx.send(Err(Status::from(error))).await;
                return Err(());
            }
        };
        let full = events.len() as i64 == service::PAGE;
        for event in &events {
            tx.send(Ok(convert::event_to_proto(event))).await.map_err(|_| ())?;
            *last = event.position;
        }
        if !full {
            *last = upto;
        }
    }
    Ok(())
}
