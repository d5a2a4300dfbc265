//! The figures Prometheus scrapes from a real `lindung serve --metrics-listen`: each call counted once, under its
//! method, the status its client read and its agency, for gRPC, JSON and streams alike; the store's figures beside.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use lindung::proto::v1 as pb;
use tokio_stream::StreamExt;

use crate::{
    helpers::{Bearer, TestApp, bogor_worker},
    serve::{LINDUNG, Server, free_port, wait_until_serving},
};

async fn curl(args: &[&str]) -> String {
    let output = tokio::process::Command::new("curl").arg("-s").args(args).output().await.expect("curl runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The value of the sample named `name` whose labels include every one of `labels`.
fn sample(figures: &str, name: &str, labels: &[&str]) -> Option<f64> {
    figures
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn every_call_is_counted_once_under_its_method_status_and_agency_and_the_store_figures_are_there() {
    let app = TestApp::spawn().await;
    let dir = tempfile::Builder::new().prefix("lindung-metrics-").tempdir_in("/tmp").unwrap();
    let (listen, metrics) = (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    let mut serve = Command::new(LINDUNG);
    serve
        .args(["serve", "--listen", &listen, "--metrics-listen", &metrics, "--database-url", &app.database_url()])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::null());
    crate::helpers::serve_logs(&mut serve, true);
    let _server = Server(serve.spawn().unwrap());
    let url = format!("http://{listen}");
    wait_until_serving(&url, Duration::from_secs(60)).await;
    let channel = tonic::transport::Channel::from_shared(url.clone()).unwrap().connect().await.unwrap();

    let mut agencies =
        pb::agency_service_client::AgencyServiceClient::with_interceptor(channel.clone(), Bearer::new(&app.keys.bogor));
    agencies.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    agencies.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    let mut workers =
        pb::worker_service_client::WorkerServiceClient::with_interceptor(channel.clone(), Bearer::new(&app.keys.bogor));
    let refused = workers.get_worker(pb::GetWorkerRequest { nik: "123".into() }).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    // A stream of three checks is one call, counted when its last answer is sent.
    let mut coverage = pb::coverage_service_client::CoverageServiceClient::with_interceptor(
        channel.clone(),
        Bearer::new(&app.keys.insurer),
    );
    let checks = (0..3).map(|n| pb::VerifyCoverageRequest {
        nik: bogor_worker(n).nik,
        date: "2025-09-20".into(),
        programme: pb::Programme::Jkk as i32,
        ..Default::default()
    });
    let answers: Vec<_> =
        coverage.verify_coverage_stream(tokio_stream::iter(checks)).await.unwrap().into_inner().collect().await;
    assert_eq!(answers.len(), 3);
    // A JSON call, and a path that is no method.
    let auth = format!("authorization: Bearer {}", app.keys.jabar);
    let who = format!("{url}/lindung.v1.AgencyService/WhoAmI");
    curl(&["-H", "content-type: application/json", "-H", &auth, "--data-binary", "{}", &who]).await;
    let nowhere = format!("{url}/3271014505900001/Nope");
    curl(&["--http2-prior-knowledge", "-H", "content-type: application/grpc", "--data-binary", "", &nowhere]).await;

    let figures = curl(&[&format!("http://{metrics}/metrics")]).await;
    let count = |labels: &[&str]| sample(&figures, "rpc_server_call_duration_seconds_count", labels);
    let bogor = "lindung_agency=\"Pemerintah Kota Bogor\"";
    let method = |m: &str| format!("rpc_method=\"lindung.v1.{m}\"");
    let ok = "rpc_response_status_code=\"OK\"";
    assert_eq!(
        count(&[&method("AgencyService/WhoAmI"), ok, bogor, "rpc_system_name=\"grpc\""]),
        Some(2.0),
        "{figures}"
    );
    let invalid = "rpc_response_status_code=\"INVALID_ARGUMENT\"";
    assert_eq!(count(&[&method("WorkerService/GetWorker"), invalid, bogor]), Some(1.0), "{figures}");
    let insurer = "lindung_agency=\"BPJS Ketenagakerjaan\"";
    assert_eq!(count(&[&method("CoverageService/VerifyCoverageStream"), ok, insurer]), Some(1.0), "{figures}");
    let jabar = "lindung_agency=\"Pemerintah Provinsi Jawa Barat\"";
    assert_eq!(count(&[&method("AgencyService/WhoAmI"), ok, jabar]), Some(1.0), "{figures}");
    assert_eq!(count(&["rpc_method=\"_OTHER\"", "rpc_response_status_code=\"UNIMPLEMENTED\""]), Some(1.0), "{figures}");
    assert!(!figures.contains("3271014505900001"), "a path is never a label: {figures}");
    assert!(sample(&figures, "rpc_server_call_duration_seconds_bucket", &["le=\"0.005\""]).is_some(), "{figures}");

    for name in ["lindung_audit_unsealed_records", "lindung_feed_unsequenced_events", "db_client_connection_max"] {
        assert!(sample(&figures, name, &[]).is_some(), "{name}: {figures}");
    }
    assert!(sample(&figures, "db_client_connection_count", &["state=\"used\""]).is_some(), "{figures}");
    app.stop().await;
}
