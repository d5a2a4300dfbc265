//! Accepted connections, before HTTP/2 sees them: `TCP_NODELAY`, a bound on how many are open at once, and a
//! deadline for the HTTP/2 preface.
//!
//! Without the deadline a peer that connects and sends nothing holds a socket (a file descriptor) for ever; without
//! the bound, enough of them exhaust the process's descriptors and no agency can connect. A connection over the
//! bound is closed at once (the client sees UNAVAILABLE and retries) rather than left waiting in the backlog.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::Stream;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Sleep,
};
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// The client connection preface of HTTP/2 (RFC 9113 §3.4): what a peer must send before anything else.
const PREFACE_LEN: usize = 24;

/// Limits on accepted connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once; more are closed as they arrive.
    pub max_connections: usize,
    /// Time from accept to a complete HTTP/2 preface.
    pub handshake_timeout: Duration,
}

/// The accepted connections of `listener`, each guarded by `limits`.
pub fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
) -> impl Stream<Item = io::Result<Guarded>> + Send + 'static {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    TcpListenerStream::new(listener).filter_map(move |accepted| {
        let stream = match accepted {
            Ok(stream) => stream,
            Err(error) => {
                // EMFILE and the like: this connection is lost, the listener goes on.
                tracing::warn!(%error, "could not accept a connection");
                return None;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(max = limits.max_connections, "connection limit reached; closing a new connection");
            return None;
        };
        // Small gRPC frames must leave at once: Nagle's algorithm would hold them for the peer's delayed ACK
        // (40 ms a call). `Server::tcp_nodelay` applies only to listeners tonic binds itself.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        Some(Ok(Guarded {
            stream,
            _permit: permit,
            preface: Some(PrefaceDeadline {
                sleep: Box::pin(tokio::time::sleep(limits.handshake_timeout)),
                remaining: PREFACE_LEN,
            }),
        }))
    })
}

/// An accepted connection that holds its place under the connection limit, and fails its reads if the peer has not
/// sent the HTTP/2 preface in time.
pub struct Guarded {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    preface: Option<PrefaceDeadline>,
}

struct PrefaceDeadline {
    sleep: Pin<Box<Sleep>>,
    /// Bytes of the preface not yet received.
    remaining: usize,
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Some(deadline) = &mut this.preface {
            let read = buf.filled().len() - before;
            deadline.remaining = deadline.remaining.saturating_sub(read);
            if deadline.remaining == 0 || (read == 0 && polled.is_ready()) {
                this.preface = None; // complete, or the peer closed: nothing left to time
            } else if deadline.sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "no HTTP/2 preface in time")));
            }
        }
        polled
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

impl Connected for Guarded {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}
