//! Streams of rows answered row by row, decided in batches: the shape shared by every bulk RPC
//! (`UpsertWorkers`, `SubmitEnrollments`, `DecideEnrollments`).
//!
//! Rows are gathered into batches of up to [`BATCH_SIZE`], or whatever arrived within [`BATCH_WAIT`], so a bulk
//! client gets set-based statements and a slow client still gets prompt answers. A bad row is answered in its
//! place and never fails the stream; a failing store ends it with that status, and because every bulk RPC is
//! idempotent the client simply resends the whole stream.

use std::{future::Future, pin::Pin, time::Duration};

use futures::{FutureExt, Stream};
use tokio_stream::StreamExt;
use tonic::{Status, Streaming};

use crate::{
    app::{panic_message, spawn_in_span},
    error::Error,
};

/// Rows decided per transaction.
pub const BATCH_SIZE: usize = 500;
/// A partial batch is decided after this long without new rows.
pub const BATCH_WAIT: Duration = Duration::from_millis(20);

/// A stream of responses as tonic serves it.
pub type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Answers `inbound` batch by batch with `decide`, which gets the index of the batch's first row and the rows, and
/// returns one response per row, in order.
pub fn answer_in_batches<Req, Resp, F, Fut>(inbound: Streaming<Req>, decide: F) -> ResponseStream<Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: Fn(u64, Vec<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<Resp>, Error>> + Send,
{
    let (tx, rx) = tokio::sync::mpsc::channel(2 * BATCH_SIZE);
    spawn_in_span(async move {
        let chunks = inbound.chunks_timeout(BATCH_SIZE, BATCH_WAIT);
        tokio::pin!(chunks);
        let mut index: u64 = 0;
        while let Some(chunk) = chunks.next().await {
            let mut rows = Vec::with_capacity(chunk.len());
            let mut broken = None;
            for item in chunk {
                match item {
                    Ok(row) => rows.push(row),
                    Err(status) => {
                        broken = Some(status);
                        break;
                    }
                }
            }
            let count = rows.len() as u64;
            // A panic (a bug) must not end the stream as if it were complete: the client is told INTERNAL, the
            // batch's transaction is dropped (rolled back), and a resend of the stream is safe.
            let decided = match std::panic::AssertUnwindSafe(decide(index, rows)).catch_unwind().await {
                Ok(decided) => decided,
                Err(panic) => {
                    tracing::error!(panic = %panic_message(panic.as_ref()), "a batch handler panicked");
                    let _ = tx.send(Err(Status::internal("internal error"))).await;
                    return;
                }
            };
            match decided {
                Ok(responses) => {
                    for response in responses {
                        if tx.send(Ok(response)).await.is_err() {
                            return; // the client went away; what is decided stays decided
                        }
                    }
                }
                Err(error) => {
                    let _ = tx.send(Err(Status::from(error))).await;
                    return;
                }
            }
            index += count;
            if let Some(status) = broken {
                tracing::info!(code = ?status.code(), "client stream ended with an error");
                return;
            }
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}
