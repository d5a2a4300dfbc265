//! Figures for operators, exported for Prometheus on their own port (`serve --metrics-listen`): every call's
//! duration by method, status and agency — OpenTelemetry's `rpc.server.call.duration` with its stable attributes,
//! in Prometheus's naming (`rpc_server_call_duration_seconds`, labels `rpc_system_name`, `rpc_method`,
//! `rpc_response_status_code`, plus `lindung_agency`) — the store pool's connections in use and idle, and how far the
//! audit sealer and the feed sequencer are behind.
//!
//! A call is timed from its request to the end of its response body, which for a stream is its last answer; its
//! status is the one the client reads (trailers, or the headers of a trailers-only answer). A stream dropped before
//! its end counts as CANCELLED. Unknown paths are counted under `_OTHER`, so a client cannot grow the label set.
//! Without `--metrics-listen` nothing is recorded (the `metrics` facade has no recorder).

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use sqlx::PgPool;
use tower::{Layer, Service};

/// The call-duration histogram's name in Prometheus's naming of OpenTelemetry's `rpc.server.call.duration`.
pub const CALL_DURATION: &str = "rpc_server_call_duration_seconds";

/// Buckets of the call-duration histogram, in seconds: OpenTelemetry's advice for `rpc.server.call.duration`.
const CALL_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0, 300.0];

/// Installs the Prometheus recorder and its HTTP listener on `listen` (any path answers the figures). Once per
/// process, inside the runtime.
pub fn install(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(listen)
        .set_buckets_for_metric(metrics_exporter_prometheus::Matcher::Full(CALL_DURATION.into()), CALL_BUCKETS)?
        .install()?;
    metrics::describe_histogram!(CALL_DURATION, metrics::Unit::Seconds, "Duration of the calls lindung served");
    metrics::describe_gauge!("db_client_connection_count", "Store connections of the pool, by state");
    metrics::describe_gauge!("db_client_connection_max", "Most store connections the pool opens");
    metrics::describe_gauge!("lindung_audit_unsealed_records", "Committed audit records not yet sealed in the chain");
    metrics::describe_gauge!("lindung_audit_seal_lag_seconds", "Age of the oldest audit record not yet sealed");
    metrics::describe_gauge!("lindung_feed_unsequenced_events", "Committed feed events not yet given a position");
    metrics::describe_gauge!("lindung_feed_lag_seconds", "Age of the oldest feed event not yet given a position");
    Ok(())
}

/// Samples the store's figures every `every`, for as long as the server runs. A failed sample (store down) is
/// skipped; health says the rest.
pub async fn sample_store(pool: PgPool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let idle = pool.num_idle() as f64;
        metrics::gauge!("db_client_connection_count", "state" => "idle").set(idle);
        metrics::gauge!("db_client_connection_count", "state" => "used").set(f64::from(pool.size()) - idle);
        metrics::gauge!("db_client_connection_max").set(f64::from(pool.options().get_max_connections()));
        match lags(&pool).await {
            Ok(lags) => {
                metrics::gauge!("lindung_audit_unsealed_records").set(lags.audit_unsealed as f64);
                metrics::gauge!("lindung_audit_seal_lag_seconds").set(lags.audit_lag.unwrap_or(0.0));
                metrics::gauge!("lindung_feed_unsequenced_events").set(lags.feed_unsequenced as f64);
                metrics::gauge!("lindung_feed_lag_seconds").set(lags.feed_lag.unwrap_or(0.0));
            }
            Err(error) => tracing::debug!(%error, "store figures not sampled"),
        }
    }
}

struct Lags {
    audit_unsealed: i64,
    audit_lag: Option<f64>,
    feed_unsequenced: i64,
    feed_lag: Option<f64>,
}

/// Both backlogs in one statement, each from its partial index of rows still waiting.
async fn lags(pool: &PgPool) -> sqlx::Result<Lags> {
    sqlx::query_as!(
        Lags,
        r#"select (select count(*) from audit_log where seq is null) as "audit_unsealed!",
                  (select extract(epoch from now() - min(at))::float8 from audit_log where seq is null) as audit_lag,
                  (select count(*) from feed_events where position is null) as "feed_unsequenced!",
                  (select extract(epoch from now() - min(occurred_at))::float8 from feed_events
                    where position is null) as feed_lag"#
    )
    .fetch_one(pool)
    .await
}

/// The agency of a call, told by authentication ([`crate::state::AppState::authorize`]) to the meter, which put an
/// empty one in the request's extensions.
#[derive(Debug, Clone, Default)]
pub struct CallAgency(Arc<OnceLock<String>>);

impl CallAgency {
    pub fn set(&self, agency: &str) {
        let _ = self.0.set(agency.to_owned());
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct MeterLayer;

impl<S> Layer<S> for MeterLayer {
    type Service = Meter<S>;
    fn layer(&self, inner: S) -> Meter<S> {
        Meter { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Meter<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for Meter<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
{
    type Response = Response<Metered<R>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Metered<R>>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let agency = CallAgency::default();
        request.extensions_mut().insert(agency.clone());
        let mut call =
            Call { started: Instant::now(), method: method_label(request.uri().path()), agency, status: None };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            call.status = grpc_status(response.headers());
            Ok(response.map(|inner| Metered { inner, call }))
        })
    }
}

/// The method as `rpc.method` names it (`lindung.v1.CoverageService/VerifyCoverage`), or `_OTHER` for a path that
/// is no method lindung serves: a client's path is never a label nor logged as it came (it could hold anything).
pub fn method_label(path: &str) -> &'static str {
    static KNOWN: OnceLock<std::collections::HashMap<String, &'static str>> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let names = crate::connect::DESCRIPTORS
            .services()
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .map(|method| format!("{}/{}", method.parent_service().full_name(), method.name()))
            .chain(["grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch"].map(String::from));
        names.map(|name| (format!("/{name}"), &*Box::leak(name.into_boxed_str()))).collect()
    });
    if path.starts_with("/grpc.reflection.") {
        return "grpc.reflection/ServerReflectionInfo";
    }
    known.get(path).copied().unwrap_or("_OTHER")
}

fn grpc_status(headers: &HeaderMap) -> Option<tonic::Code> {
    let value = headers.get("grpc-status")?.to_str().ok()?.parse::<i32>().ok()?;
    Some(tonic::Code::from(value))
}

/// One call being timed; recorded when its response body is dropped, which hyper does once the body ended or the
/// client went away.
struct Call {
    started: Instant,
    method: &'static str,
    agency: CallAgency,
    /// What the client was told: from the headers, then the trailers; none yet while a stream runs.
    status: Option<tonic::Code>,
}

impl Drop for Call {
    fn drop(&mut self) {
        let status = crate::error::outcome_name(self.status.unwrap_or(tonic::Code::Cancelled));
        let agency = self.agency.0.get().cloned().unwrap_or_default();
        metrics::histogram!(
            CALL_DURATION,
            "rpc_system_name" => "grpc",
            "rpc_method" => self.method,
            "rpc_response_status_code" => status,
            "lindung_agency" => agency,
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}

pin_project_lite::pin_project! {
    /// A response body that tells its [`Call`] the status in its trailers.
    pub struct Metered<B> {
        #[pin]
        inner: B,
        call: Call,
    }
}

impl<B: Body> Body for Metered<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.call.status = Some(code);
                }
            }
            Poll::Ready(Some(Err(_))) => this.call.status = Some(tonic::Code::Internal),
            // Ended without a status: not a gRPC answer (an HTTP error of the layers outside the services).
            Poll::Ready(None) if this.call.status.is_none() => this.call.status = Some(tonic::Code::Ok),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_is_labelled_by_its_full_name_and_an_unknown_path_as_other() {
        assert_eq!(
            method_label("/lindung.v1.CoverageService/VerifyCoverage"),
            "lindung.v1.CoverageService/VerifyCoverage"
        );
        assert_eq!(method_label("/grpc.health.v1.Health/Check"), "grpc.health.v1.Health/Check");
        assert_eq!(method_label("/lindung.v1.CoverageService/Nope"), "_OTHER");
        assert_eq!(method_label("/3271014505900001"), "_OTHER");
    }
}
