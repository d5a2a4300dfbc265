//! The exchange benchmark: the real server on 127.0.0.1 over lindung's own PostgreSQL (fsync on), driven through
//! the generated clients, printing what it measures. Run with `cargo bench --bench exchange`; the figures go in
//! docs/PERFORMANCE.md.

use std::time::{Duration, Instant};

mod support;

use lindung::{
    agency::AgencyKind,
    proto::v1::{
        self as pb, contribution_service_client::ContributionServiceClient,
        enrollment_service_client::EnrollmentServiceClient, subsidy_service_client::SubsidyServiceClient,
        worker_service_client::WorkerServiceClient,
    },
};
use support::{Bench, bearer, percentile};
use tonic::service::interceptor::InterceptedService;

const CITY: u32 = 7_894;
const PROVINCE: u32 = 14_580;

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

fn report(what: &str, rows: u32, took: Duration) {
    println!(
        "{what:<58} {rows:>7} rows {:>8.2} s {:>9.0} rows/s",
        took.as_secs_f64(),
        f64::from(rows) / took.as_secs_f64()
    );
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::main]
async fn main() {
    let bench = Bench::start(20).await;
    let channel = bench.channel.clone();
    let (_, bogor) = bench.add_agency("Pemerintah Kota Bogor", AgencyKind::City, Some("32.71")).await;
    let (_, jabar) = bench.add_agency("Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some("32")).await;
    let (_, insurer) = bench.add_agency("BPJS Ketenagakerjaan", AgencyKind::Insurer, None).await;
    let workers = |key: &str| WorkerServiceClient::new(InterceptedService::new(channel.clone(), bearer(key)));
    let enrollments = |key: &str| EnrollmentServiceClient::new(InterceptedService::new(channel.clone(), bearer(key)));
    let subsidies = |key: &str| SubsidyServiceClient::new(InterceptedService::new(channel.clone(), bearer(key)));

    println!("lindung exchange benchmark: server and PostgreSQL (embedded, fsync on) on this machine");
    let total = CITY + PROVINCE;

    // Registry: the whole cohort in one stream, then the same stream again (nothing to change).
    for pass in ["UpsertWorkers stream, 22,474 new workers", "UpsertWorkers stream, same 22,474 again (unchanged)"] {
        let rows: Vec<_> = (0..total)
            .map(|n| pb::UpsertWorkersRequest { worker: Some(worker(n)), client_ref: String::new() })
            .collect();
        let start = Instant::now();
        let mut replies = workers(&jabar).upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
        let mut answered = 0;
        while replies.message().await.unwrap().is_some() {
            answered += 1;
        }
        assert_eq!(answered, total);
        report(pass, total, start.elapsed());
    }

    // Enrollment: both cohorts.
    let mut ids = Vec::new();
    for (key, area, range, quota) in [(&bogor, "32.71", 0..CITY, CITY), (&jabar, "32", CITY..total, PROVINCE)] {
        let subsidy = subsidies(key)
            .create_subsidy(pb::CreateSubsidyRequest {
                request_id: format!("bench-{area}"),
                subsidy: Some(pb::Subsidy {
                    name: format!("Iuran pekerja rentan {area}"),
                    legal_basis: "Keputusan".into(),
                    area_code: area.into(),
                    first_month: "2025-09".into(),
                    last_month: "2025-12".into(),
                    quota,
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
        ids.push(subsidy.clone());
        let count = range.len() as u32;
        let rows: Vec<_> = range
            .map(|n| pb::SubmitEnrollmentsRequest {
                submission: Some(pb::SubmitEnrollmentRequest {
                    request_id: format!("{area}-{n}"),
                    subsidy_id: subsidy.clone(),
                    worker_nik: worker(n).nik,
                    first_month: "2025-09".into(),
                }),
            })
            .collect();
        for pass in ["", " (resent whole)"] {
            let start = Instant::now();
            let mut replies =
                enrollments(key).submit_enrollments(tokio_stream::iter(rows.clone())).await.unwrap().into_inner();
            let mut accepted = 0;
            while let Some(reply) = replies.message().await.unwrap() {
                if matches!(reply.result, Some(pb::submit_enrollments_response::Result::Enrollment(_))) {
                    accepted += 1;
                }
            }
            assert_eq!(accepted, count);
            report(&format!("SubmitEnrollments stream, {area}{pass}"), count, start.elapsed());
        }
    }

    // The insurer: read the pending ones as a stream, confirm them over DecideEnrollments.
    let start = Instant::now();
    let mut pending = enrollments(&insurer)
        .stream_pending_enrollments(pb::StreamPendingEnrollmentsRequest {})
        .await
        .unwrap()
        .into_inner();
    let mut decisions = Vec::new();
    while let Some(e) = pending.message().await.unwrap() {
        decisions.push(pb::DecideEnrollmentsRequest {
            decision: Some(pb::decide_enrollments_request::Decision::Confirm(pb::ConfirmEnrollmentRequest {
                participant_number: format!("1{}", &e.worker_nik[6..]),
                enrollment_id: e.id,
                protection_start: "2025-09-01".into(),
            })),
        });
    }
    report("StreamPendingEnrollments", decisions.len() as u32, start.elapsed());
    let start = Instant::now();
    let count = decisions.len() as u32;
    let mut replies =
        enrollments(&insurer).decide_enrollments(tokio_stream::iter(decisions)).await.unwrap().into_inner();
    while replies.message().await.unwrap().is_some() {}
    report("DecideEnrollments stream (confirm all)", count, start.elapsed());

    // Billing: one month of each cohort, set-based.
    for (subsidy, count, name) in
        [(&ids[0], CITY, "IssueBill, Kota Bogor 2025-09"), (&ids[1], PROVINCE, "IssueBill, Jawa Barat 2025-09")]
    {
        let mut client = ContributionServiceClient::new(InterceptedService::new(channel.clone(), bearer(&insurer)));
        let start = Instant::now();
        let bill = client
            .issue_bill(pb::IssueBillRequest { subsidy_id: subsidy.clone(), month: "2025-09".into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(bill.lines_added, count);
        report(
            &format!("{name} ({} lines, Rp{})", bill.lines_added, bill.bill.unwrap().billed.unwrap().amount),
            count,
            start.elapsed(),
        );
    }

    // Unary latency, one caller: GetWorker (key lookup + worker by NIK + audit insert) beside WhoAmI (key lookup).
    for (name, which) in [("GetWorker", 0), ("AgencyService.WhoAmI", 1)] {
        let mut client = workers(&insurer);
        let mut agency = lindung::proto::v1::agency_service_client::AgencyServiceClient::new(InterceptedService::new(
            channel.clone(),
            bearer(&insurer),
        ));
        let mut times = Vec::with_capacity(2000);
        let start = Instant::now();
        for n in 0..2000u32 {
            let t = Instant::now();
            if which == 0 {
                client.get_worker(pb::GetWorkerRequest { nik: worker(n * 7 % total).nik }).await.unwrap();
            } else {
                agency.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
            }
            times.push(t.elapsed());
        }
        let took = start.elapsed();
        times.sort();
        println!(
            "{name:<58} {:>7} calls {:>8.2} s {:>9.0} calls/s  p50 {:?} p99 {:?}",
            2000,
            took.as_secs_f64(),
            2000.0 / took.as_secs_f64(),
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }

    let usage = subsidies(&bogor)
        .get_subsidy_usage(pb::GetSubsidyUsageRequest { subsidy_id: ids[0].clone() })
        .await
        .unwrap()
        .into_inner();
    println!("Kota Bogor: {} active, monthly commitment Rp{}", usage.active, usage.monthly_commitment.unwrap().amount);
    println!("peak resident memory of the benchmark process (client and server): {:.0} MiB", peak_rss_mib());

    bench.finish().await;
}
