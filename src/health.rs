//! Health follows the store: a watcher probes PostgreSQL every second over its own connection (so a busy pool
//! never looks like a lost store) and, within a few seconds of losing it, reports every service NOT_SERVING through
//! `grpc.health.v1` and closes a gate that answers new calls UNAVAILABLE with `RetryInfo` at once, instead of each
//! waiting out the pool's acquire timeout. When the store answers again, health says SERVING and the gate opens.
//! For the embedded store its supervisor announces a postmaster's death, which counts as lost without waiting for a
//! probe (see [`crate::database::embedded`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use sqlx::{ConnectOptions, Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::sync::{oneshot, watch};
use tonic::server::NamedService;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    agency::grpc::AgencyGrpc,
    attestation::grpc::AttestationGrpc,
    audit::grpc::AuditGrpc,
    claim::grpc::ClaimGrpc,
    contribution::grpc::ContributionGrpc,
    coverage::grpc::CoverageGrpc,
    database::embedded,
    enrollment::grpc::EnrollmentGrpc,
    proto::v1::{
        agency_service_server::AgencyServiceServer, attestation_service_server::AttestationServiceServer,
        audit_service_server::AuditServiceServer, claim_service_server::ClaimServiceServer,
        contribution_service_server::ContributionServiceServer, coverage_service_server::CoverageServiceServer,
        enrollment_service_server::EnrollmentServiceServer, subsidy_service_server::SubsidyServiceServer,
        worker_service_server::WorkerServiceServer,
    },
    subsidy::grpc::SubsidyGrpc,
    worker::grpc::WorkerGrpc,
};

/// How often the store is probed.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe (connecting if need be, then `select 1`) may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Failed probes in a row that make the store lost (one failed probe already includes a fresh connection attempt).
pub const FAILURES_BEFORE_LOST: u32 = 2;

/// Every name health answers for: the whole server ("") and each of lindung's services.
const SERVICES: [&str; 10] = [
    "",
    <WorkerServiceServer<WorkerGrpc> as NamedService>::NAME,
    <AgencyServiceServer<AgencyGrpc> as NamedService>::NAME,
    <SubsidyServiceServer<SubsidyGrpc> as NamedService>::NAME,
    <EnrollmentServiceServer<EnrollmentGrpc> as NamedService>::NAME,
    <ContributionServiceServer<ContributionGrpc> as NamedService>::NAME,
    <CoverageServiceServer<CoverageGrpc> as NamedService>::NAME,
    <ClaimServiceServer<ClaimGrpc> as NamedService>::NAME,
    <AttestationServiceServer<AttestationGrpc> as NamedService>::NAME,
    <AuditServiceServer<AuditGrpc> as NamedService>::NAME,
];

/// The running watcher. [`StoreWatch::stop`] ends it (dropping it does too); stop it before reporting NOT_SERVING
/// for shutdown, so that it cannot report SERVING afterwards.
pub struct StoreWatch {
    gate: StoreGate,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts watching the store behind `pool`, reporting to `reporter`; the store counts as up at first.
pub fn watch_store(pool: &PgPool, reporter: HealthReporter) -> StoreWatch {
    let options = pool.connect_options().as_ref().clone().log_statements(tracing::log::LevelFilter::Off);
    let exits = options.get_socket().and_then(|dir| embedded::unexpected_exits(dir));
    let gate = StoreGate { down: Arc::new(AtomicBool::new(false)) };
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(watch(options, exits, reporter, gate.clone(), stopped));
    StoreWatch { gate, stop: Some(stop), task: Some(task) }
}

impl StoreWatch {
    /// The layer that answers new calls UNAVAILABLE while the store is down.
    pub fn gate(&self) -> StoreGate {
        self.gate.clone()
    }

    /// Ends the watcher and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

async fn watch(
    options: PgConnectOptions,
    mut exits: Option<watch::Receiver<u64>>,
    reporter: HealthReporter,
    gate: StoreGate,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut conn: Option<PgConnection> = None;
    let mut failures = 0;
    let mut ticker = tokio::time::interval(PROBE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let postmaster_died = async {
            match exits.as_mut() {
                Some(exits) => exits.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stopped => break,
            _ = ticker.tick() => {}
            died = postmaster_died => {
                if !died {
                    exits = None;
                    continue;
                }
                conn = None;
                if !gate.is_down() {
                    tracing::error!("store lost: the embedded PostgreSQL died; health NOT_SERVING");
                    report(&reporter, &gate, true).await;
                }
                failures = FAILURES_BEFORE_LOST;
                continue;
            }
        }
        let answered = tokio::select! {
            _ = &mut stopped => break,
            answered = probe(&options, &mut conn) => answered,
        };
        match answered {
            Ok(()) => {
                failures = 0;
                if gate.is_down() {
                    tracing::info!("store reachable again; health SERVING");
                    report(&reporter, &gate, false).await;
                }
            }
            Err(error) => {
                failures += 1;
                if failures >= FAILURES_BEFORE_LOST && !gate.is_down() {
                    tracing::error!(error = format!("{error:#}"), "store lost; health NOT_SERVING");
                    report(&reporter, &gate, true).await;
                } else {
                    tracing::debug!(error = format!("{error:#}"), failures, "store probe failed");
                }
            }
        }
    }
    if let Some(conn) = conn {
        let _ = tokio::time::timeout(PROBE_TIMEOUT, conn.close()).await;
    }
}

/// One probe: `select 1` on the watcher's connection, opening a fresh one if there is none or it broke.
async fn probe(options: &PgConnectOptions, conn: &mut Option<PgConnection>) -> anyhow::Result<()> {
    let attempt = async {
        if let Some(open) = conn.as_mut()
            && sqlx::query("select 1").execute(&mut *open).await.is_ok()
        {
            return Ok(());
        }
        *conn = None;
        let mut fresh = PgConnection::connect_with(options).await?;
        sqlx::query("select 1").execute(&mut fresh).await?;
        *conn = Some(fresh);
        anyhow::Ok(())
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(answer) => answer,
        Err(_) => {
            *conn = None;
            anyhow::bail!("no answer within {PROBE_TIMEOUT:?}")
        }
    }
}

async fn report(reporter: &HealthReporter, gate: &StoreGate, down: bool) {
    gate.down.store(down, Ordering::SeqCst);
    set_all(reporter, if down { ServingStatus::NotServing } else { ServingStatus::Serving }).await;
}

/// Reports `status` for the whole server and every lindung service: the one list of what health answers for.
pub async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    for service in SERVICES {
        reporter.set_service_status(service, status).await;
    }
}

/// A tower layer that answers every call to a lindung service UNAVAILABLE with `RetryInfo`, at once, while the
/// store is known down; health and reflection pass.
#[derive(Clone, Debug)]
pub struct StoreGate {
    down: Arc<AtomicBool>,
}

impl StoreGate {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

impl<S> tower::Layer<S> for StoreGate {
    type Service = Gated<S>;

    fn layer(&self, inner: S) -> Gated<S> {
        Gated { gate: self.clone(), inner }
    }
}

#[derive(Clone, Debug)]
pub struct Gated<S> {
    gate: StoreGate,
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for Gated<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::Either<futures::future::Ready<Result<S::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if self.gate.is_down() && request.uri().path().starts_with("/lindung.") {
            return futures::future::Either::Left(futures::future::ready(Ok(store_down().into_http())));
        }
        futures::future::Either::Right(self.inner.call(request))
    }
}

/// The answer to a call while the store is down (not logged per call: the watcher logged the loss once).
pub fn store_down() -> tonic::Status {
    use tonic_types::{ErrorDetails, StatusExt};
    tonic::Status::with_error_details(
        tonic::Code::Unavailable,
        "the store is unavailable",
        ErrorDetails::with_retry_info(Some(crate::error::RETRY_DELAY)),
    )
}
