//! Losing the store: health follows it, calls fail fast with UNAVAILABLE and RetryInfo while it is down, and lindung
//! answers again without an operator once it is back (the embedded store by its supervisor's restart).

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use lindung::{
    database::embedded::{EmbeddedOptions, EmbeddedPostgres},
    proto::v1 as pb,
};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_types::StatusExt;

use crate::{
    helpers::Bearer,
    serve::{LINDUNG, Server, free_port, wait_until_serving},
};

/// Starts `lindung serve` on `data_dir` (and `database_url`, if any), waits for SERVING, adds an agency and answers
/// the server, its URL and the agency's key.
async fn serve(data_dir: &Path, database_url: Option<&str>) -> (Server, String, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let env = |command: &mut Command| {
        command.env_remove("DATABASE_URL").env("LINDUNG_DATA_DIR", data_dir).env("RUST_LOG", "warn");
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
    };
    let mut serve = Command::new(LINDUNG);
    serve.args(["serve", "--listen", &listen]).stdout(Stdio::null());
    env(&mut serve);
    crate::helpers::serve_logs(&mut serve, false);
    let server = Server(serve.spawn().unwrap());
    let url = format!("http://{listen}");
    wait_until_serving(&url, Duration::from_secs(30)).await;

    let mut add = Command::new(LINDUNG);
    add.args(["agency", "add", "--kind", "city", "--region", "32.71", "--name", "Pemerintah Kota Bogor"]);
    env(&mut add);
    let output = add.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (server, url, String::from_utf8(output.stdout).unwrap().trim().to_owned())
}

async fn health(url: &str) -> Option<ServingStatus> {
    let channel = tonic::transport::Channel::from_shared(url.to_owned()).unwrap().connect().await.ok()?;
    let reply = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await.ok()?;
    Some(reply.into_inner().status())
}

/// Polls health until it says `wanted`; answers how long it took.
async fn wait_for_health(url: &str, wanted: ServingStatus, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if health(url).await == Some(wanted) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "health not {wanted:?} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn who_am_i(url: &str, key: &str) -> Result<pb::WhoAmIResponse, tonic::Status> {
    let channel = tonic::transport::Channel::from_shared(url.to_owned()).unwrap().connect().await.unwrap();
    let mut client = pb::agency_service_client::AgencyServiceClient::with_interceptor(channel, Bearer::new(key));
    client.who_am_i(pb::WhoAmIRequest {}).await.map(tonic::Response::into_inner)
}

async fn verify_coverage(url: &str, key: &str) -> Result<pb::VerifyCoverageResponse, tonic::Status> {
    let channel = tonic::transport::Channel::from_shared(url.to_owned()).unwrap().connect().await.unwrap();
    let mut client = pb::coverage_service_client::CoverageServiceClient::with_interceptor(channel, Bearer::new(key));
    let question = pb::VerifyCoverageRequest {
        nik: crate::helpers::bogor_worker(0).nik,
        date: "2025-09-20".into(),
        programme: pb::Programme::Jkm as i32,
        ..Default::default()
    };
    client.verify_coverage(question).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_killed_embedded_postgres_makes_health_not_serving_and_is_restarted_without_an_operator() {
    let data_dir = tempfile::Builder::new().prefix("lindung-loss-").tempdir_in("/tmp").unwrap();
    let (mut server, url, key) = serve(data_dir.path(), None).await;
    assert!(who_am_i(&url, &key).await.is_ok());

    let lock = std::fs::read_to_string(data_dir.path().join("postgres/pg/postmaster.pid")).unwrap();
    let postmaster: i32 = lock.lines().next().unwrap().trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(postmaster), nix::sys::signal::Signal::SIGKILL).unwrap();

    let lost = wait_for_health(&url, ServingStatus::NotServing, Duration::from_secs(5)).await;
    eprintln!("NOT_SERVING {lost:?} after SIGKILL of the postmaster");
    let back = wait_for_health(&url, ServingStatus::Serving, Duration::from_secs(30)).await;
    eprintln!("SERVING again {back:?} later");
    let me = who_am_i(&url, &key).await.expect("a real call answers after the restart");
    assert_eq!(me.agency.unwrap().region_code, "32.71");
    let restarted: i32 = std::fs::read_to_string(data_dir.path().join("postgres/pg/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(restarted, postmaster, "a new postmaster serves");
    assert!(server.terminate().success());
}

#[tokio::test]
async fn while_an_external_store_is_down_calls_fail_fast_with_retry_info_and_recover_when_it_is_back() {
    let store_dir = tempfile::Builder::new().prefix("lindung-ext-").tempdir_in("/tmp").unwrap();
    let data_dir = tempfile::Builder::new().prefix("lindung-data-").tempdir_in("/tmp").unwrap();
    let options = EmbeddedOptions { fsync: false, ..EmbeddedOptions::new(store_dir.path()) };
    let mut store = tokio::task::spawn_blocking({
        let options = options.clone();
        move || EmbeddedPostgres::start(options)
    })
    .await
    .unwrap()
    .unwrap();
    let database_url = format!("postgres:///postgres?host={}&user=postgres", store.socket_dir().display());
    let (mut server, url, key) = serve(data_dir.path(), Some(&database_url)).await;
    assert!(who_am_i(&url, &key).await.is_ok());
    assert!(!verify_coverage(&url, &key).await.unwrap().covered, "an unknown worker, answered and audited");

    let mut store = tokio::task::spawn_blocking(move || store.stop().map(|()| store)).await.unwrap().unwrap();
    // A read whose audit record cannot be committed is not answered, whether it meets the gate or the lost store.
    let read = verify_coverage(&url, &key).await.expect_err("no store, no audited read");
    assert_eq!(read.code(), tonic::Code::Unavailable, "{read:?}");
    let lost = wait_for_health(&url, ServingStatus::NotServing, Duration::from_secs(5)).await;
    eprintln!("NOT_SERVING {lost:?} after the external store stopped");

    let start = Instant::now();
    let refused = who_am_i(&url, &key).await.expect_err("no store, no answer");
    let took = start.elapsed();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.get_details_retry_info().is_some(), "RetryInfo: {refused:?}");
    // Well below the pool's 5 s acquire timeout, which is what every call waited before the gate.
    assert!(took < Duration::from_secs(2), "answered after {took:?}, not at once");

    drop(store.stop());
    let store = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(options)).await.unwrap().unwrap();
    wait_for_health(&url, ServingStatus::Serving, Duration::from_secs(10)).await;
    assert!(who_am_i(&url, &key).await.is_ok(), "answers again once the store is back");
    verify_coverage(&url, &key).await.expect("reads are audited again: the audit writer reconnects");
    assert!(server.terminate().success());
    drop(store);
}

/// Every connection of the pool carries the deployment's bounds: a statement that runs past `statement_timeout`
/// is cut off and answered UNAVAILABLE (retry later), and a transaction left idle is ended, so that a stuck client
/// holds no lock.
#[tokio::test]
async fn a_statement_past_the_timeout_is_cut_off_and_answered_unavailable() {
    use clap::Parser;
    let app = crate::helpers::TestApp::spawn().await;
    let url = app.database_url();
    let cli = lindung::config::Cli::try_parse_from([
        "lindung",
        "--database-url",
        &url,
        "--db-statement-timeout",
        "300ms",
        "migrate",
    ])
    .unwrap();
    let db = lindung::database::Database::open_for_command(&cli.store).await.unwrap();
    let bounds: (String, String) = sqlx::query_as(
        "select current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(bounds, ("300ms".to_owned(), "300ms".to_owned()));
    let error = sqlx::query("select pg_sleep(2)").execute(&db.pool).await.unwrap_err();
    let status = tonic::Status::from(lindung::error::Error::from(error));
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(status.get_details_retry_info().is_some());
    db.close().await;
    app.stop().await;
}

/// The embedded PostgreSQL killed (SIGKILL of the postmaster) in the middle of a 3,000-row enrollment stream:
/// lindung restarts it by itself, the client resends the stream by its request ids once health says SERVING, and
/// the subsidy ends with every row exactly once, the rows answered before the kill answered the same again.
#[tokio::test]
async fn the_store_killed_mid_stream_loses_and_duplicates_nothing_once_the_client_resends() {
    const ROWS: u32 = 3_000;
    let data_dir = tempfile::Builder::new().prefix("lindung-kill-").tempdir_in("/tmp").unwrap();
    let (mut server, url, key) = serve(data_dir.path(), None).await;
    let channel = tonic::transport::Channel::from_shared(url.clone()).unwrap().connect().await.unwrap();
    let workers = (0..ROWS)
        .map(|n| pb::UpsertWorkersRequest { worker: Some(crate::helpers::bogor_worker(n)), client_ref: String::new() });
    let mut registered =
        pb::worker_service_client::WorkerServiceClient::with_interceptor(channel.clone(), Bearer::new(&key))
            .upsert_workers(tokio_stream::iter(workers))
            .await
            .unwrap()
            .into_inner();
    while registered.message().await.unwrap().is_some() {}
    let subsidy = pb::Subsidy {
        name: "Iuran JKK-JKM pekerja rentan Kota Bogor".into(),
        legal_basis: "Keputusan Wali Kota Bogor No. 400.5/123/2025".into(),
        area_code: "32.71".into(),
        first_month: "2025-09".into(),
        last_month: "2025-12".into(),
        quota: ROWS,
        budget_ceiling: Some(pb::Rupiah { amount: "100000000000".into() }),
        ..Default::default()
    };
    let mut subsidies =
        pb::subsidy_service_client::SubsidyServiceClient::with_interceptor(channel.clone(), Bearer::new(&key));
    let city = subsidies
        .create_subsidy(pb::CreateSubsidyRequest { request_id: "kill-store".into(), subsidy: Some(subsidy) })
        .await
        .unwrap()
        .into_inner()
        .subsidy
        .unwrap()
        .id;
    let rows: Vec<pb::SubmitEnrollmentsRequest> = (0..ROWS)
        .map(|n| pb::SubmitEnrollmentsRequest {
            submission: Some(crate::enrollments::submission(format!("kill-store-{n}"), &city, n)),
        })
        .collect();
    let id = |answer: &pb::SubmitEnrollmentsResponse| match &answer.result {
        Some(pb::submit_enrollments_response::Result::Enrollment(e)) => e.id.clone(),
        other => panic!("not enrolled: {other:?}"),
    };

    let mut enrollments =
        pb::enrollment_service_client::EnrollmentServiceClient::with_interceptor(channel.clone(), Bearer::new(&key));
    let mut answers = enrollments.submit_enrollments(tokio_stream::iter(rows.clone())).await.unwrap().into_inner();
    let mut before = Vec::new();
    while before.len() < (ROWS / 3) as usize {
        before.push(id(&answers.message().await.unwrap().expect("an answer before the kill")));
    }
    let lock = std::fs::read_to_string(data_dir.path().join("postgres/pg/postmaster.pid")).unwrap();
    let postmaster: i32 = lock.lines().next().unwrap().trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(postmaster), nix::sys::signal::Signal::SIGKILL).unwrap();
    crate::faults::ends_broken(&mut answers, before.len(), ROWS as usize).await;

    wait_for_health(&url, ServingStatus::Serving, Duration::from_secs(60)).await;
    let mut resent = Vec::new();
    // The first call after the restart may still meet a connection of the dead store: a client retries UNAVAILABLE.
    for attempt in 0.. {
        match enrollments.submit_enrollments(tokio_stream::iter(rows.clone())).await {
            Ok(replies) => {
                let mut replies = replies.into_inner();
                resent.clear();
                let ended = loop {
                    match replies.message().await {
                        Ok(Some(answer)) => resent.push(id(&answer)),
                        Ok(None) => break Ok(()),
                        Err(status) => break Err(status),
                    }
                };
                match ended {
                    Ok(()) => break,
                    Err(status) if status.code() == tonic::Code::Unavailable && attempt < 20 => {}
                    Err(status) => panic!("{status:?}"),
                }
            }
            Err(status) if status.code() == tonic::Code::Unavailable && attempt < 20 => {}
            Err(status) => panic!("{status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(resent.len(), ROWS as usize);
    assert_eq!(resent[..before.len()], before[..], "the rows answered before the kill are answered the same");
    assert_eq!(resent.iter().collect::<std::collections::HashSet<_>>().len(), ROWS as usize);
    let usage = subsidies
        .get_subsidy_usage(pb::GetSubsidyUsageRequest { subsidy_id: city.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((usage.pending, usage.active, usage.quota_left), (ROWS, 0, 0), "{usage:?}");
    assert!(server.terminate().success());
}
