//! The audit chain benchmark: what sealing costs the write path, and how long `lindung audit verify`'s check takes
//! over a long chain. Run with `cargo bench --bench audit` (`AUDIT_RECORDS=100000` for a shorter chain); the
//! figures go in docs/PERFORMANCE.md.
//!
//! 1. Bulk enrollment (SubmitEnrollments streams of Kota Bogor workers) in six runs, alternating the sealer off and
//!    on (off, on, off, …), each run starting with nothing left to seal: throughput with chaining on beside off.
//! 2. A chain of AUDIT_RECORDS records (1,000,000 by default) seeded set-based with generate_series, sealed by the
//!    sealer's own code, checkpointed, then verified exactly as `lindung audit verify` does.

use std::time::{Duration, Instant};

#[allow(dead_code, reason = "the other benchmarks' helpers")]
mod support;

use lindung::{
    agency::AgencyKind,
    audit::service::{self as audit, Checkpointing, Sealing},
    background::Tasks,
    proto::v1::{
        self as pb, enrollment_service_client::EnrollmentServiceClient, subsidy_service_client::SubsidyServiceClient,
        worker_service_client::WorkerServiceClient,
    },
};
use sqlx::{Connection, PgConnection};
use support::{Bench, bearer};
use tonic::service::interceptor::InterceptedService;

/// Workers per enrollment run.
const RUN: u32 = 5_000;
const RUNS: u32 = 6;

fn worker(n: u32) -> pb::Worker {
    let day = (n / 9999) % 28 + 1;
    let serial = n % 9999 + 1;
    pb::Worker {
        nik: format!("327101{:02}0590{serial:04}", day + 40),
        full_name: format!("Siti Rahmawati {n}"),
        birth_date: format!("1990-05-{day:02}"),
        sex: pb::Sex::Female as i32,
        domicile_village_code: "32.71.01.1001".into(),
        occupation: pb::Occupation::Tailor as i32,
        welfare: Some(pb::Welfare { decile: 2, source: "DTSEN".into(), as_of_quarter: "2025-Q3".into() }),
        phone: "0812-3456-7890".into(),
        ..Default::default()
    }
}

fn rate(rows: u64, took: Duration) -> f64 {
    rows as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let records: i64 = std::env::var("AUDIT_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    // The server runs without the chain tasks; the benchmark starts and stops the very same sealer itself.
    let bench = Bench::start_with(20, None).await;
    let channel = bench.channel.clone();
    let (_, bogor) = bench.add_agency("Pemerintah Kota Bogor", AgencyKind::City, Some("32.71")).await;
    let (_, jabar) = bench.add_agency("Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some("32")).await;
    let mut conn = PgConnection::connect_with(&bench.pool.connect_options()).await.unwrap();
    println!("lindung audit chain benchmark: server and PostgreSQL (embedded, fsync on) on this machine");

    let rows: Vec<_> = (0..RUN * RUNS)
        .map(|n| pb::UpsertWorkersRequest { worker: Some(worker(n)), client_ref: String::new() })
        .collect();
    let workers = WorkerServiceClient::new(InterceptedService::new(channel.clone(), bearer(&jabar)));
    let mut replies = workers.clone().upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
    while replies.message().await.unwrap().is_some() {}

    // 1. Enrollment throughput, the sealer off and on, alternating.
    let mut subsidies = SubsidyServiceClient::new(InterceptedService::new(channel.clone(), bearer(&bogor)));
    let enrollments = EnrollmentServiceClient::new(InterceptedService::new(channel.clone(), bearer(&bogor)));
    let mut figures: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for run in 0..RUNS {
        let sealing = run % 2 == 1;
        audit::seal_pending(&mut conn, 10_000).await.unwrap();
        let subsidy = subsidies
            .create_subsidy(pb::CreateSubsidyRequest {
                request_id: format!("bench-audit-{run}"),
                subsidy: Some(pb::Subsidy {
                    name: format!("Iuran pekerja rentan, run {run}"),
                    legal_basis: "Keputusan".into(),
                    area_code: "32.71".into(),
                    first_month: "2025-09".into(),
                    last_month: "2025-12".into(),
                    quota: RUN,
                    budget_ceiling: Some(pb::Rupiah { amount: "10000000000".into() }),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .subsidy
            .unwrap()
            .id;
        let mut tasks = Tasks::new();
        if sealing {
            tasks.spawn(&bench.state, Sealing { every: Duration::from_secs(1), batch: 10_000 });
            tasks.spawn(&bench.state, Checkpointing { every: Duration::from_secs(60) });
        }
        let rows: Vec<_> = (run * RUN..(run + 1) * RUN)
            .map(|n| pb::SubmitEnrollmentsRequest {
                submission: Some(pb::SubmitEnrollmentRequest {
                    request_id: format!("run-{run}-{n}"),
                    subsidy_id: subsidy.clone(),
                    worker_nik: worker(n).nik,
                    first_month: "2025-09".into(),
                }),
            })
            .collect();
        let start = Instant::now();
        let mut replies = enrollments.clone().submit_enrollments(tokio_stream::iter(rows)).await.unwrap().into_inner();
        let mut answered = 0;
        while replies.message().await.unwrap().is_some() {
            answered += 1;
        }
        let took = start.elapsed();
        tasks.stop().await;
        assert_eq!(answered, RUN);
        let per_second = rate(u64::from(RUN), took);
        figures[usize::from(sealing)].push(per_second);
        println!(
            "SubmitEnrollments stream, {RUN} rows, sealer {:<3} {:>8.2} s {:>9.0} rows/s",
            if sealing { "on" } else { "off" },
            took.as_secs_f64(),
            per_second
        );
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (off, on) = (mean(&figures[0]), mean(&figures[1]));
    println!(
        "enrollment throughput: sealer off {off:.0} rows/s, on {on:.0} rows/s: on is {:.0} % of off",
        on / off * 100.0
    );

    // 2. A long chain: seeded set-based, sealed by the sealer's code, checkpointed, verified.
    audit::seal_pending(&mut conn, 10_000).await.unwrap();
    let start = Instant::now();
    sqlx::query(
        "insert into audit_log (at, agency_id, method, request_id, outcome, subject_hash)
         select now() - make_interval(secs => $1 - g), (select id from agencies order by name limit 1),
                '/lindung.v1.WorkerService/GetWorker', 'seed-' || g, 'OK',
                sha256(convert_to('subject ' || (g % 50000), 'UTF8'))
         from generate_series(1, $1::bigint) g",
    )
    .bind(records)
    .execute(&mut conn)
    .await
    .unwrap();
    println!("seeded {records} audit records (generate_series) in {:.2} s", start.elapsed().as_secs_f64());
    let start = Instant::now();
    let sealed = audit::seal_pending(&mut conn, 10_000).await.unwrap();
    let took = start.elapsed();
    println!(
        "sealed {sealed} records in batches of 10,000 in {:.2} s ({:.0} records/s)",
        took.as_secs_f64(),
        rate(sealed, took)
    );
    audit::checkpoint(&bench.state, &mut conn).await.unwrap();
    let start = Instant::now();
    let report = audit::verify(&bench.pool, None).await.unwrap().expect("the untouched chain verifies");
    let took = start.elapsed();
    println!(
        "verified {} records in {} batches, {} checkpoints, in {:.2} s ({:.0} records/s)",
        report.summary.records,
        report.summary.batches,
        report.summary.checkpoints,
        took.as_secs_f64(),
        rate(report.summary.records, took)
    );
    conn.close().await.unwrap();
    bench.finish().await;
}
