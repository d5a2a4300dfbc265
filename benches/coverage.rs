//! The coverage benchmark: VerifyCoverage over 1,000,000 enrolled workers at 1, 16 and 64 concurrent callers,
//! beside a bare tonic handler doing one PostgreSQL primary-key lookup on the same data in the same run; the
//! stream's checks per second; and billing one month of 1,000,000 active enrollments.
//! Run with `cargo bench --bench coverage`; the figures go in docs/PERFORMANCE.md. `LINDUNG_BENCH_WORKERS` seeds
//! another number of workers (`LINDUNG_BENCH_WORKERS=100000` runs in a few minutes); everything else is the same.

use std::{sync::Arc, time::Instant};

mod support;

use lindung::{
    agency::AgencyKind,
    proto::v1::{
        self as pb,
        agency_service_client::AgencyServiceClient,
        agency_service_server::{AgencyService, AgencyServiceServer},
        contribution_service_client::ContributionServiceClient,
        coverage_service_client::CoverageServiceClient,
    },
};
use sqlx::PgPool;
use support::{Bench, bearer, percentile};
use tonic::{
    Request, Response, Status,
    service::interceptor::InterceptedService,
    transport::{Channel, Server},
};

/// The workers seeded unless `LINDUNG_BENCH_WORKERS` says otherwise.
const DEFAULT_WORKERS: i64 = 1_000_000;
const CALLS_PER_LEVEL: usize = 6_000;

/// The floor: a tonic handler that does one primary-key lookup and nothing else (no auth, no audit).
struct Bare {
    pool: PgPool,
}

#[tonic::async_trait]
impl AgencyService for Bare {
    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let nik = request.metadata().get("x-nik").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let found: Option<String> = sqlx::query_scalar("select nik from workers where nik = $1")
            .bind(nik)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let _ = found;
        Ok(Response::new(pb::WhoAmIResponse::default()))
    }
}

/// The n-th seeded NIK (the same expression as the seeding SQL).
fn nik(n: i64) -> String {
    format!("327101{:02}{:02}90{:04}", 41 + (n / 9999) % 28, 1 + (n / (9999 * 28)) % 12, n % 9999 + 1)
}

/// The number of workers to seed: `LINDUNG_BENCH_WORKERS`, or [`DEFAULT_WORKERS`].
fn workers() -> i64 {
    match std::env::var("LINDUNG_BENCH_WORKERS") {
        Ok(n) => n.replace(['_', ','], "").parse().expect("LINDUNG_BENCH_WORKERS is a number of workers"),
        Err(_) => DEFAULT_WORKERS,
    }
}

async fn seed(pool: &PgPool, province: uuid::Uuid, subsidy: uuid::Uuid, workers: i64) {
    let start = Instant::now();
    sqlx::query(
        "insert into workers (nik, full_name, birth_date, sex, domicile_village_code, occupation, decile,
                              decile_source, decile_as_of, flags, created_by, updated_by, participant_number)
         select n, 'Pekerja ' || i, make_date(1990, substr(n, 9, 2)::int, substr(n, 7, 2)::int - 40), 'female',
                '32.71.01.1001', 'trader', 2, 'DTSEN', '2025-07-01', '{}', $1, $1, '1' || lpad(i::text, 10, '0')
         from generate_series(0, $2 - 1) i,
              lateral (select '327101' || lpad((41 + (i / 9999) % 28)::text, 2, '0')
                              || lpad((1 + (i / (9999 * 28)) % 12)::text, 2, '0') || '90'
                              || lpad((i % 9999 + 1)::text, 4, '0') as n) g",
    )
    .bind(province)
    .bind(workers)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into subsidies (id, funder_id, name, legal_basis, area_code, first_month, last_month, quota,
                                budget_ceiling, jkk_monthly, jkm_monthly, max_decile, min_age, max_age,
                                max_decile_age_quarters, request_id)
         values ($1, $2, 'Bench', 'Keputusan', '32', '2025-09-01', '2025-12-01', $3, 1000000000000, 10000, 6800, 4, 15,
                 60, 2, 'bench')",
    )
    .bind(subsidy)
    .bind(province)
    .bind(workers as i32)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into enrollments (id, subsidy_id, worker_nik, first_month, months, status, participant_number,
                                  protection_start, request_id, created_by)
         select gen_random_uuid(), $1, nik, '2025-09-01', daterange('2025-09-01', '2026-01-01'), 'active',
                participant_number, '2025-09-01', 'bench-' || nik, $2
         from workers",
    )
    .bind(subsidy)
    .bind(province)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("analyze").execute(pool).await.unwrap();
    println!(
        "seeded {workers} workers and active enrollments in {:.1} s (setup, not measured)",
        start.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let bench = Bench::start(64).await;
    let (pool, channel) = (bench.pool.clone(), bench.channel.clone());
    let (province, province_key) =
        bench.add_agency("Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some("32")).await;
    let (_, insurer_key) = bench.add_agency("BPJS Ketenagakerjaan", AgencyKind::Insurer, None).await;
    let subsidy = uuid::Uuid::new_v4();
    let workers = workers();
    seed(&pool, province, subsidy, workers).await;

    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = bare_listener.local_addr().unwrap();
    let bare = tokio::spawn(
        Server::builder()
            .add_service(AgencyServiceServer::new(Bare { pool: pool.clone() }))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(bare_listener)),
    );
    let bare_channel = Channel::from_shared(format!("http://{bare_addr}")).unwrap().connect().await.unwrap();

    println!("lindung coverage benchmark: {workers} enrolled workers, server and embedded PostgreSQL (fsync on)");

    // Billing one month of every enrollment, and paying it.
    let start = Instant::now();
    let bill = ContributionServiceClient::new(InterceptedService::new(channel.clone(), bearer(&insurer_key)))
        .issue_bill(pb::IssueBillRequest { subsidy_id: subsidy.to_string(), month: "2025-09".into() })
        .await
        .unwrap()
        .into_inner();
    println!(
        "IssueBill for one month: {} lines, Rp{}, in {:.2} s",
        bill.lines_added,
        bill.bill.as_ref().unwrap().billed.as_ref().unwrap().amount,
        start.elapsed().as_secs_f64()
    );
    ContributionServiceClient::new(InterceptedService::new(channel.clone(), bearer(&province_key)))
        .record_payment(pb::RecordPaymentRequest {
            subsidy_id: subsidy.to_string(),
            amount: bill.bill.unwrap().billed,
            paid_on: "2025-09-10".into(),
            reference: "bench".into(),
        })
        .await
        .unwrap();

    println!("{:<34} {:>8} {:>10} {:>10} {:>10}", "concurrent callers", "calls", "calls/s", "p50", "p99");
    for callers in [1usize, 16, 64] {
        for (name, is_bare) in [("VerifyCoverage", false), ("bare handler, one PK lookup", true)] {
            let latencies = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(CALLS_PER_LEVEL)));
            let start = Instant::now();
            let mut tasks = Vec::new();
            for c in 0..callers {
                let (channel, bare_channel, latencies) = (channel.clone(), bare_channel.clone(), latencies.clone());
                let key = insurer_key.clone();
                tasks.push(tokio::spawn(async move {
                    let mut verify = CoverageServiceClient::new(InterceptedService::new(channel, bearer(&key)));
                    let mut floor = AgencyServiceClient::new(bare_channel);
                    let mut mine = Vec::new();
                    for i in 0..CALLS_PER_LEVEL / callers {
                        let n = ((c * 7919 + i * 104_729) as i64 * 31) % workers;
                        let t = Instant::now();
                        if is_bare {
                            let mut request = Request::new(pb::WhoAmIRequest {});
                            request.metadata_mut().insert("x-nik", nik(n).parse().unwrap());
                            floor.who_am_i(request).await.unwrap();
                        } else {
                            let reply = verify
                                .verify_coverage(pb::VerifyCoverageRequest {
                                    nik: nik(n),
                                    date: "2025-09-20".into(),
                                    programme: pb::Programme::Jkm as i32,
                                    ..Default::default()
                                })
                                .await
                                .unwrap()
                                .into_inner();
                            assert!(reply.covered, "{reply:?}");
                        }
                        mine.push(t.elapsed());
                    }
                    latencies.lock().await.extend(mine);
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            let took = start.elapsed();
            let mut times = latencies.lock().await.clone();
            times.sort();
            println!(
                "{:<34} {:>8} {:>10.0} {:>10.2?} {:>10.2?}",
                format!("{callers:>2} × {name}"),
                times.len(),
                times.len() as f64 / took.as_secs_f64(),
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    }

    // The stream: one client, checks answered in order.
    let checks = 20_000;
    let requests: Vec<_> = (0..checks)
        .map(|i| pb::VerifyCoverageRequest {
            nik: nik((i * 48_271) % workers),
            date: "2025-09-20".into(),
            programme: pb::Programme::Jkk as i32,
            ..Default::default()
        })
        .collect();
    let start = Instant::now();
    let mut replies = CoverageServiceClient::new(InterceptedService::new(channel.clone(), bearer(&insurer_key)))
        .verify_coverage_stream(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut answered = 0;
    while let Some(reply) = replies.message().await.unwrap() {
        assert!(reply.covered);
        answered += 1;
    }
    let took = start.elapsed();
    println!(
        "VerifyCoverageStream: {answered} checks in {:.2} s, {:.0} checks/s",
        took.as_secs_f64(),
        answered as f64 / took.as_secs_f64()
    );

    bare.abort();
    bench.finish().await;
}
