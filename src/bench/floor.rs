//! The floors lindung is measured against, served by a process of their own like lindung's server: the same
//! `CoverageService` on the wire, answering with one primary-key lookup on the same `workers` table (no
//! authentication, no rules, no audit), or, with the `x-bench-floor: noop` header, with nothing at all.

use std::{net::SocketAddr, pin::Pin};

use futures::Stream;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tonic::{Request, Response, Status, Streaming};

use crate::proto::v1::{
    self as pb,
    coverage_service_server::{CoverageService, CoverageServiceServer},
};

/// The header that asks for the no-op floor.
pub const NOOP: &str = "x-bench-floor";

struct Floor {
    pool: PgPool,
}

#[tonic::async_trait]
impl CoverageService for Floor {
    async fn verify_coverage(
        &self,
        request: Request<pb::VerifyCoverageRequest>,
    ) -> Result<Response<pb::VerifyCoverageResponse>, Status> {
        if request.metadata().contains_key(NOOP) {
            return Ok(Response::new(pb::VerifyCoverageResponse::default()));
        }
        let nik = request.into_inner().nik;
        let found: Option<String> = sqlx::query_scalar("select nik from workers where nik = $1")
            .bind(nik)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(pb::VerifyCoverageResponse { covered: found.is_some(), ..Default::default() }))
    }

    type VerifyCoverageStreamStream =
        Pin<Box<dyn Stream<Item = Result<pb::VerifyCoverageResponse, Status>> + Send + 'static>>;

    async fn verify_coverage_stream(
        &self,
        _request: Request<Streaming<pb::VerifyCoverageRequest>>,
    ) -> Result<Response<Self::VerifyCoverageStreamStream>, Status> {
        Err(Status::unimplemented("the stream's floor is measured with sqlx directly"))
    }
}

/// Serves the floors on `addr` over `database_url`, with `max_connections` like lindung's pool, until stdin ends
/// (the benchmark that started this process holds it open).
pub async fn serve(addr: SocketAddr, database_url: &str, max_connections: u32) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new().max_connections(max_connections).connect(database_url).await?;
    let stdin_closed = async {
        let mut sink = tokio::io::sink();
        let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut sink).await;
    };
    tonic::transport::Server::builder()
        .add_service(CoverageServiceServer::new(Floor { pool }))
        .serve_with_shutdown(addr, stdin_closed)
        .await?;
    Ok(())
}
