//! Accepted connections, before HTTP/2 sees them: `TCP_NODELAY`, a bound on how many are open at once, and a
//! deadline for the HTTP/2 preface.
//!
//! Without the deadline a peer that connects and sends nothing holds a socket (a file descriptor) for ever; without
//! the bound, enough of them exhaust the process's descriptors and no agency can connect. A connection over the
//! bound is closed at once (the client sees UNAVAILABLE and retries) rather than left waiting in the backlog.
//!
//! With TLS ([`crate::tls::ServerTls`]) each connection's handshake runs in a task of its own, within the same
//! deadline as the preface, so that a slow peer does not hold up the accepts of others; the client certificate the
//! handshake verified reaches every call as [`PeerInfo`] in its extensions.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::stream::BoxStream;
use rustls::pki_types::CertificateDer;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, Sleep},
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

/// The accepted connections of `listener`, each guarded by `limits`, over TLS when `tls` is given.
pub fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
    tls: Option<crate::tls::ServerTls>,
) -> BoxStream<'static, io::Result<Guarded>> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let accepted = TcpListenerStream::new(listener).filter_map(move |accepted| {
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
        Some((stream, permit, Instant::now() + limits.handshake_timeout))
    });
    let Some(tls) = tls else {
        return Box::pin(
            accepted.map(|(stream, permit, deadline)| Ok(Guarded::new(Transport::Plain(stream), permit, deadline))),
        );
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        tokio::pin!(accepted);
        while let Some((stream, permit, deadline)) = accepted.next().await {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
            let sender = sender.clone();
            tokio::spawn(async move {
                match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let _ = sender.send(Ok(Guarded::new(Transport::Tls(Box::new(stream)), permit, deadline))).await;
                    }
                    // A refused client certificate, an old protocol version, a plaintext peer: that peer's concern.
                    Ok(Err(error)) => tracing::info!(%error, "TLS handshake refused"),
                    Err(_) => tracing::info!("no TLS handshake in time; connection closed"),
                }
            });
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))
}

/// An accepted connection, in the clear or over TLS.
enum Transport {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// Who is at the other end of a call's connection, in the call's extensions.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub tcp: TcpConnectInfo,
    /// The client's certificate chain as the TLS handshake verified it against the deployment CA (its end entity
    /// first); None in the clear or when the client sent none.
    pub client_certificates: Option<Arc<Vec<CertificateDer<'static>>>>,
}

impl PeerInfo {
    /// The verified end-entity certificate of the client, if any.
    pub fn client_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.client_certificates.as_ref().and_then(|chain| chain.first())
    }
}

/// An accepted connection that holds its place under the connection limit, and fails its reads if the peer has not
/// sent the HTTP/2 preface in time.
pub struct Guarded {
    stream: Transport,
    _permit: OwnedSemaphorePermit,
    preface: Option<PrefaceDeadline>,
}

impl Guarded {
    fn new(stream: Transport, permit: OwnedSemaphorePermit, deadline: Instant) -> Guarded {
        Guarded {
            stream,
            _permit: permit,
            preface: Some(PrefaceDeadline {
                sleep: Box::pin(tokio::time::sleep_until(deadline)),
                remaining: PREFACE_LEN,
            }),
        }
    }
}

struct PrefaceDeadline {
    sleep: Pin<Box<Sleep>>,
    /// Bytes of the preface not yet received.
    remaining: usize,
}

/// Forwards an I/O call to whichever stream the connection is.
macro_rules! forward {
    ($self:expr, $stream:ident => $call:expr) => {
        match $self {
            Transport::Plain($stream) => $call,
            Transport::Tls($stream) => $call,
        }
    };
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = forward!(&mut this.stream, s => Pin::new(s).poll_read(cx, buf));
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
        forward!(&mut self.get_mut().stream, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        forward!(&mut self.get_mut().stream, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        forward!(&self.stream, s => s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(&mut self.get_mut().stream, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(&mut self.get_mut().stream, s => Pin::new(s).poll_shutdown(cx))
    }
}

impl Connected for Guarded {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        match &self.stream {
            Transport::Plain(stream) => PeerInfo { tcp: stream.connect_info(), client_certificates: None },
            Transport::Tls(stream) => {
                let (tcp, session) = stream.get_ref();
                let chain = session.peer_certificates().map(|certs| Arc::new(certs.to_vec()));
                PeerInfo { tcp: tcp.connect_info(), client_certificates: chain }
            }
        }
    }
}
