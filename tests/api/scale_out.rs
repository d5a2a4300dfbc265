//! Several lindung processes on one database (issue: scale-out on PostgreSQL's own machinery): the invariants hold
//! because they live in the schema, whichever process a call reaches. Two real `lindung serve` processes share the
//! test's database and its keys; the same worker is submitted by the city to one and by the province to the other at
//! once, and the feed is read through both.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use lindung::proto::v1::{self as pb, feed_service_client::FeedServiceClient};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    enrollments::{create_subsidy_between, enrollments, register, submission},
    helpers::{Bearer, TestApp},
    serve::{LINDUNG, Server, free_port, wait_until_serving},
};

/// A `lindung serve` process on the test's database, with the deployment's shared pseudonym and signing keys.
pub(crate) async fn second_process(app: &TestApp, dir: &std::path::Path) -> (Server, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut serve = Command::new(LINDUNG);
    serve
        .args(["serve", "--listen", &listen, "--database-url", &app.database_url()])
        .arg("--data-dir")
        .arg(dir)
        .env("LINDUNG_PSEUDONYM_KEY", "07".repeat(32))
        .env("LINDUNG_SIGNING_KEY", "09".repeat(32))
        .env("LINDUNG_FEED_HEARTBEAT", "200ms")
        .stdout(Stdio::null());
    crate::helpers::serve_logs(&mut serve, true);
    let server = Server(serve.spawn().unwrap());
    let url = format!("http://{listen}");
    wait_until_serving(&url, Duration::from_secs(60)).await;
    (server, url)
}

pub(crate) async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(url.to_owned()).unwrap().connect().await.unwrap()
}

#[tokio::test]
async fn two_processes_on_one_database_fund_a_worker_once_and_serve_one_feed_order() {
    let app = TestApp::spawn().await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ((mut a, a_url), (mut b, b_url)) =
        tokio::join!(second_process(&app, a_dir.path()), second_process(&app, b_dir.path()));
    let rounds = 60u32;
    register(&app, 0..rounds).await;
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", 1000, "1000000000", "2025-09", "2025-12").await;
    let province = create_subsidy_between(&app, &app.keys.jabar, "32", 1000, "1000000000", "2025-09", "2025-12").await;
    let mut bogor = pb::enrollment_service_client::EnrollmentServiceClient::with_interceptor(
        channel(&a_url).await,
        Bearer::new(&app.keys.bogor),
    );
    let mut jabar = pb::enrollment_service_client::EnrollmentServiceClient::with_interceptor(
        channel(&b_url).await,
        Bearer::new(&app.keys.jabar),
    );
    for n in 0..rounds {
        let (x, y) = tokio::join!(
            bogor.submit_enrollment(submission(format!("bogor-{n}"), &city, n)),
            jabar.submit_enrollment(submission(format!("jabar-{n}"), &province, n)),
        );
        let outcomes = [x, y];
        assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "round {n}: {outcomes:?}");
        let refusal = outcomes.into_iter().find_map(Result::err).unwrap();
        assert_eq!(refusal.code(), Code::FailedPrecondition);
        assert_eq!(refusal.get_details_error_info().unwrap().reason, "DOUBLE_FUNDING");
    }
    // A resend through yet another server is answered as the first time, not funded again.
    let resent =
        enrollments(&app, &app.keys.bogor).await.submit_enrollment(submission("bogor-0".into(), &city, 0)).await;
    let open: i64 = sqlx::query_scalar("select count(*) from enrollments where status in ('pending', 'active')")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(open, i64::from(rounds), "{resent:?}");

    // Every event is sequenced once, whichever process wrote it: both processes serve the same order.
    for _ in 0..100 {
        let unsequenced: i64 = sqlx::query_scalar("select count(*) from feed_events where position is null")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if unsequenced == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let submitted: i64 = sqlx::query_scalar(
        "select count(*) from feed_events where kind = 'enrollment_submitted' and position is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(submitted, i64::from(rounds));
    let mut orders = Vec::new();
    for url in [&a_url, &b_url] {
        let mut feed = FeedServiceClient::with_interceptor(channel(url).await, Bearer::new(&app.keys.insurer));
        let request = pb::SubscribeRequest { after: 0, kinds: vec![pb::EventKind::EnrollmentSubmitted as i32] };
        let mut events = feed.subscribe(request).await.unwrap().into_inner();
        let mut seen = Vec::new();
        while (seen.len() as i64) < submitted {
            let message = tokio::time::timeout(Duration::from_secs(10), events.message()).await.unwrap().unwrap();
            if let Some(pb::subscribe_response::Message::Event(event)) = message.unwrap().message {
                seen.push((event.position, event.enrollment_id));
            }
        }
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "positions not increasing: {seen:?}");
        orders.push(seen);
    }
    assert_eq!(orders[0], orders[1]);
    a.terminate();
    b.terminate();
    app.stop().await;
}
