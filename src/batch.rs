//! Streams of rows answered row by row, decided in batches: the shape shared by every bulk RPC
//! (`UpsertWorkers`, `SubmitEnrollments`, `DecideEnrollments`, `VerifyCoverageStream`).
//!
//! Rows are gathered into batches of up to [`BATCH_SIZE`], or whatever arrived within [`BATCH_WAIT`], so a bulk
//! client gets set-based statements and a slow client still gets prompt answers. A bad row is answered in its
//! place and never fails the stream; a failing store ends it with that status, and because every bulk RPC is
//! idempotent the client simply resends the whole stream.
//!
//! The request stream is read by a task of its own while a batch is decided, into a buffer of [`READ_AHEAD`] rows.
//! An ordinary gRPC client (grpcio, grpc-go, grpcurl) sends each message in its own small HTTP/2 DATA frame, and
//! h2 closes a connection that leaves too many small frames unread (`ENHANCE_YOUR_CALM`, `too_many_data_frames`):
//! reading on keeps h2's buffer near empty. When the decisions fall behind and the buffer is full, the reader
//! stops; h2 then holds at most one stream window of data, the client is held back by HTTP/2 flow control, and
//! the windows in `app.rs` are sized so that a stalled window of small frames stays inside h2's budget.
//!
//! A stream that cannot be read to its end (an undecodable message, a reset) is answered up to the last good row
//! and then ends with that error, never with OK: a client that sees OK has had an answer for every row it sent.

use std::{future::Future, pin::Pin, time::Duration};

use futures::{FutureExt, Stream};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Status, Streaming};

use crate::{
    error::Error,
    telemetry::{panic_message, spawn_in_span},
};

/// Rows decided per transaction.
pub const BATCH_SIZE: usize = 500;
/// A partial batch is decided after this long without new rows.
pub const BATCH_WAIT: Duration = Duration::from_millis(20);

/// A stream of responses as tonic serves it.
pub type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Rows read ahead of the batch being decided: two batches, so the next one is ready when a decision ends.
pub const READ_AHEAD: usize = 2 * BATCH_SIZE;

/// Answers `inbound` batch by batch with `decide`, which gets the index of the batch's first row and the rows, and
/// returns one response per row, in order.
pub fn answer_in_batches<Req, Resp, F, Fut>(inbound: Streaming<Req>, decide: F) -> ResponseStream<Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: Fn(u64, Vec<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<Resp>, Error>> + Send,
{
    let rows = read_ahead(inbound);
    let (tx, rx) = tokio::sync::mpsc::channel(2 * BATCH_SIZE);
    spawn_in_span(async move {
        let chunks = rows.chunks_timeout(BATCH_SIZE, BATCH_WAIT);
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
            if count > 0 {
                // A panic (a bug) must not end the stream as if it were complete: the client is told INTERNAL,
                // the batch's transaction is dropped (rolled back), and a resend of the stream is safe.
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
            }
            index += count;
            if let Some(status) = broken {
                tracing::info!(code = ?status.code(), row = index, "client stream broke");
                let _ = tx.send(Err(broken_at(index, status))).await;
                return;
            }
        }
    });
    Box::pin(ReceiverStream::new(rx))
}

/// Reads `inbound` on its own task into a bounded buffer, so that h2's receive buffer is drained while a batch
/// is decided; the reader waits (and flow control holds the client back) only when the buffer is full. The
/// stream's first error is its last item.
fn read_ahead<Req: Send + 'static>(mut inbound: Streaming<Req>) -> ReceiverStream<Result<Req, Status>> {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    spawn_in_span(async move {
        loop {
            let item = inbound.message().await.transpose();
            let Some(item) = item else { return };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return; // the decisions ended (an error was answered), or the stream broke
            }
        }
    });
    ReceiverStream::new(rx)
}

/// The status that ends a stream broken at row `index`: the stream's own error, telling the client which rows
/// were answered. An undecodable row keeps its INVALID_ARGUMENT and field violations; the message says where.
fn broken_at(index: u64, status: Status) -> Status {
    let message = format!(
        "the request stream broke at row {index} (rows before it were answered; resend from there): {}",
        status.message()
    );
    Status::with_details(status.code(), message, status.details().to_vec().into())
}
