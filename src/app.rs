//! Builds the gRPC server from its parts and runs it until shutdown.
//!
//! The server is stateless between requests: everything it knows is in PostgreSQL, so several lindung processes can
//! serve one database.

use std::{future::Future, net::SocketAddr, time::Duration};

use http::HeaderName;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tower_http::{
    catch_panic::CatchPanicLayer,
    propagate_header::PropagateHeaderLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnFailure, TraceLayer},
};
use tracing::Level;

use crate::{
    agency::grpc::AgencyGrpc,
    attestation::grpc::AttestationGrpc,
    audit::{
        grpc::AuditGrpc,
        service::{ChainSettings, Checkpointing, Sealing},
    },
    background,
    claim::grpc::ClaimGrpc,
    connect,
    contribution::grpc::ContributionGrpc,
    coverage::grpc::CoverageGrpc,
    enrollment::grpc::EnrollmentGrpc,
    feed::{self, grpc::FeedGrpc},
    health,
    listener::{self, ConnectionLimits},
    proto::{
        self,
        v1::{
            agency_service_server::AgencyServiceServer, attestation_service_server::AttestationServiceServer,
            audit_service_server::AuditServiceServer, claim_service_server::ClaimServiceServer,
            contribution_service_server::ContributionServiceServer, coverage_service_server::CoverageServiceServer,
            enrollment_service_server::EnrollmentServiceServer, feed_service_server::FeedServiceServer,
            reconcile_service_server::ReconcileServiceServer, subsidy_service_server::SubsidyServiceServer,
            worker_service_server::WorkerServiceServer,
        },
    },
    reconcile::grpc::ReconcileGrpc,
    signing,
    state::AppState,
    subsidy::grpc::SubsidyGrpc,
    timing::ServerTimingLayer,
    worker::grpc::WorkerGrpc,
};

/// Server settings that do not come from the store.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub max_message_bytes: usize,
    pub default_timeout: Duration,
    pub shutdown_grace: Duration,
    /// The period of the event feed's heartbeats.
    pub feed_heartbeat: Duration,
    /// Connections open at once, and the time each has to send the HTTP/2 preface.
    pub connections: ConnectionLimits,
    /// How the audit chain is sealed and checkpointed; None runs neither task (only the benchmark that measures
    /// what sealing costs turns it off).
    pub audit_chain: Option<ChainSettings>,
    /// lindung's own TLS (server certificate, and the client CA for mutual TLS); None: plaintext.
    pub tls: Option<crate::tls::ServerTls>,
}

/// HTTP/2 receive windows, set deliberately rather than left to hyper's 1 MiB defaults.
///
/// h2 closes a connection (GOAWAY `ENHANCE_YOUR_CALM`, `too_many_data_frames`) when the DATA frames it holds unread
/// cost more bookkeeping than a budget of half the connection window: a frame of `s` bytes costs `256 - s`. Ordinary
/// clients send each small message in its own frame (a coverage check is ~40 bytes), and a bulk stream stops being
/// read while its decisions are behind (`batch.rs`), so what h2 may hold for one stream is bounded by the stream
/// window: 32 KiB of 40-byte frames cost ~177 KiB of the 2 MiB budget that a 4 MiB connection window gives. An
/// unpaced client may so keep about ten stalled bulk streams on one connection, which is far more than any agency
/// runs; throughput does not suffer (32 KiB a round trip is ~1.6 MB/s at 20 ms).
pub const STREAM_WINDOW: u32 = 32 * 1024;
/// See [`STREAM_WINDOW`].
pub const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;
/// Concurrent calls per connection (hyper's default is 200): with the windows above, what one connection may make
/// the server hold is bounded.
pub const MAX_CONCURRENT_STREAMS: u32 = 100;

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    state: AppState,
    settings: ServerSettings,
}

impl App {
    /// Binds the listener (port 0 picks a free port, as the tests do).
    pub async fn build(listen: SocketAddr, state: AppState, settings: ServerSettings) -> anyhow::Result<App> {
        signing::store::register(&state.pool, state.signer.public_key()).await?;
        let listener = TcpListener::bind(listen).await?;
        Ok(App { listener, state, settings })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then reports NOT_SERVING, stops accepting calls and lets in-flight calls
    /// finish within the grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let App { listener, state, settings } = self;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health::set_all(&health_reporter, ServingStatus::Serving).await;
        let store_watch = health::watch_store(&state.pool, health_reporter.clone());
        let mut tasks = background::Tasks::new();
        if let Some(chain) = settings.audit_chain {
            tasks.spawn(&state, Sealing { every: chain.seal_every, batch: chain.seal_batch });
            tasks.spawn(&state, Checkpointing { every: chain.checkpoint_every });
        }
        // The feed: the sequencer and the calendar run once per deployment; each process follows the head.
        tasks.spawn(&state, feed::service::Sequencer { every: Duration::from_secs(1) });
        tasks.spawn(&state, feed::service::Calendar { every: Duration::from_secs(300) });
        let head_watch = feed::service::HeadWatch::start(&state, Duration::from_secs(5));
        let key_watch = state.key_cache.watch(&state.pool);
        // Reads' and refusals' audit records, group-committed; stopped after the last call has been answered.
        let audit_writer = state.audit_writer.start(&state.pool);
        tasks.spawn(&state, crate::database::statistics::Analyzer { every: Duration::from_secs(2) });

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // google.rpc error details, so that grpcurl can decode BadRequest, ErrorInfo and the rest.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;

        let max = settings.max_message_bytes;
        let workers = WorkerServiceServer::new(WorkerGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let agencies = AgencyServiceServer::new(AgencyGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let subsidies = SubsidyServiceServer::new(SubsidyGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let enrollments = EnrollmentServiceServer::new(EnrollmentGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let contributions = ContributionServiceServer::new(ContributionGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let coverage = CoverageServiceServer::new(CoverageGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let claims = ClaimServiceServer::new(ClaimGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let attestations = AttestationServiceServer::new(AttestationGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let audit = AuditServiceServer::new(AuditGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let feed = FeedServiceServer::new(FeedGrpc::new(state.clone(), head_watch.head(), settings.feed_heartbeat))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let reconcile = ReconcileServiceServer::new(ReconcileGrpc::new(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);

        let layers = tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(PropagateRequestIdLayer::x_request_id())
            // A client's own correlation id comes back as it was sent (and is in the span and the audit trail).
            .layer(PropagateHeaderLayer::new(HeaderName::from_static("x-correlation-id")))
            .layer(ServerTimingLayer)
            // The caller's language, before anything can answer (an unauthenticated call, a JSON call).
            .layer(crate::locale::LocaleLayer)
            // A JSON call becomes the gRPC call it stands for before the trace, the handlers and the store gate see
            // it, so they treat both alike; gRPC-Web likewise, for browsers.
            .layer(connect::JsonLayer::new(max))
            .layer(tonic_web::GrpcWebLayer::new())
            // Every call timed with the status its client reads, gRPC, JSON and gRPC-Web alike.
            .layer(crate::meter::MeterLayer)
            // A non-OK status is the client's business far more often than a fault of lindung (internal errors are
            // logged where they are mapped, in error.rs), so refusals are logged at INFO, not ERROR.
            .layer(
                TraceLayer::new_for_grpc()
                    .make_span_with(rpc_span)
                    .on_failure(DefaultOnFailure::new().level(Level::INFO)),
            )
            // Inside the trace and request-id layers, so the span and the request id are there when a handler
            // panics.
            .layer(CatchPanicLayer::custom(panic_to_status))
            // Innermost: while the store is known down, lindung's calls are answered UNAVAILABLE at once (health
            // and reflection pass).
            .layer(store_watch.gate());

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let reporter = health_reporter.clone();
        tokio::spawn(async move {
            shutdown.await;
            store_watch.stop().await;
            tasks.stop().await;
            // Ends every subscription (UNAVAILABLE, to be resumed), which would otherwise outlive the grace period.
            head_watch.stop().await;
            key_watch.stop().await;
            tracing::info!("shutting down: health NOT_SERVING, finishing in-flight calls");
            health::set_all(&reporter, ServingStatus::NotServing).await;
            let _ = stop_tx.send(());
            let _ = stopping_tx.send(());
        });

        let addr = listener.local_addr()?;
        match &settings.tls {
            Some(tls) => {
                let files = tls.files();
                let client_certificates = match (&files.client_ca, files.client_cert_required) {
                    (None, _) => "not asked for",
                    (Some(_), false) => "verified when sent (API keys accepted too)",
                    (Some(_), true) => "required (API keys disabled)",
                };
                tls.reload_on_sighup();
                tracing::info!(%addr, tls = "TLS 1.3", client_certificates, "lindung serving; SIGHUP re-reads the TLS files");
            }
            None if addr.ip().is_loopback() => {
                tracing::info!(%addr, "lindung serving in PLAINTEXT on a loopback address (development only: give --tls-cert and --tls-key for TLS)")
            }
            None => {
                tracing::warn!(%addr, "lindung serving in PLAINTEXT beyond loopback (--insecure-plaintext): development only")
            }
        }
        let incoming = listener::incoming(listener, settings.connections, settings.tls.clone());
        let server = Server::builder()
            // HTTP/1.1 for the JSON face and gRPC-Web; gRPC itself is HTTP/2 as ever.
            .accept_http1(true)
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
            // Applies when the client sends no grpc-timeout; a client's own deadline is honoured as sent.
            .timeout(settings.default_timeout)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(layers)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(agencies)
            .add_service(workers)
            .add_service(subsidies)
            .add_service(enrollments)
            .add_service(contributions)
            .add_service(coverage)
            .add_service(claims)
            .add_service(attestations)
            .add_service(audit)
            .add_service(feed)
            .add_service(reconcile)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            });
        tokio::pin!(server);
        let ended = tokio::select! {
            result = &mut server => Some(result),
            _ = stopping_rx => None,
        };
        let served = match ended {
            Some(result) => result,
            // Stopping: in-flight calls get the grace period, then the remaining connections are dropped.
            None => match tokio::time::timeout(settings.shutdown_grace, server).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(grace = ?settings.shutdown_grace, "grace period over; dropping unfinished calls");
                    Ok(())
                }
            },
        };
        audit_writer.stop().await;
        Ok(served?)
    }
}

/// One span per call: method, request id and (recorded after authentication) the agency. Never a NIK or a key.
/// A handler that panicked answers INTERNAL, as any other fault does, instead of resetting the stream; the panic
/// (a bug) is logged with the request's span.
fn panic_to_status(panic: Box<dyn std::any::Any + Send + 'static>) -> http::Response<tonic::body::Body> {
    tracing::error!(panic = %crate::telemetry::panic_message(panic.as_ref()), "a handler panicked");
    tonic::Status::internal("internal error").into_http()
}

fn rpc_span<B>(request: &http::Request<B>) -> tracing::Span {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!(
        "rpc",
        method = crate::meter::method_label(request.uri().path()),
        request_id = %header("x-request-id"),
        correlation_id = %header("x-correlation-id"),
        agency = tracing::field::Empty
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_handler_answers_internal() {
        let response = panic_to_status(Box::new("index out of bounds"));
        assert_eq!(response.status(), http::StatusCode::OK, "gRPC carries its status in the headers");
        assert_eq!(response.headers()["grpc-status"], "13");
        assert_eq!(response.headers()["content-type"], "application/grpc");
    }
}
