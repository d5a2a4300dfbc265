//! Each agency's limits through the real server: over its rate a call is answered RESOURCE_EXHAUSTED at once with
//! when to come back (gRPC `RetryInfo`, HTTP `Retry-After` for the JSON face), and one agency's bulk streams take
//! no place of another agency's calls nor of its own unary ones.

use std::{num::NonZeroU32, time::Duration};

use lindung::{
    limits::{InFlight, LimitSettings},
    proto::v1 as pb,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{Bearer, TestApp, bogor_worker};

fn unlimited() -> LimitSettings {
    LimitSettings { calls_per_second: None, ..LimitSettings::default() }
}

#[tokio::test]
async fn an_agency_over_its_rate_is_told_when_to_come_back_and_another_agency_is_served() {
    let limits = LimitSettings {
        calls_per_second: NonZeroU32::new(2),
        burst: NonZeroU32::new(5).unwrap(),
        ..LimitSettings::default()
    };
    let app = TestApp::spawn_with_limits(limits).await;
    let mut bogor = app.agencies(&app.keys.bogor).await;
    for _ in 0..5 {
        bogor.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    }
    let refused = bogor.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("more than 2 calls a second"), "{}", refused.message());
    let details = refused.get_error_details();
    let retry = details.retry_info().and_then(|r| r.retry_delay).expect("RetryInfo");
    assert!(retry > Duration::ZERO && retry <= Duration::from_millis(500), "{retry:?}");
    assert_eq!(details.error_info().map(|e| e.reason.as_str()), Some("RATE_LIMITED"));
    assert_eq!(details.quota_failure().map(|q| q.violations[0].subject.as_str()), Some("agency"));

    // Another agency has its own allowance.
    app.agencies(&app.keys.jabar).await.who_am_i(pb::WhoAmIRequest {}).await.unwrap();

    // The JSON face says the same as HTTP does: 429 with Retry-After.
    let url = format!("http://{}/lindung.v1.AgencyService/WhoAmI", app.addr);
    let auth = format!("authorization: Bearer {}", app.keys.bogor);
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-i", "-H", "content-type: application/json", "-H", &auth, "--data-binary", "{}", &url])
        .output()
        .await
        .expect("curl runs");
    let answer = String::from_utf8_lossy(&output.stdout).to_lowercase();
    assert!(answer.starts_with("http/1.1 429"), "{answer}");
    assert!(answer.contains("\r\nretry-after: 1\r\n"), "{answer}");
    assert!(answer.contains("resource_exhausted"), "{answer}");

    // Waiting as told is enough.
    tokio::time::sleep(retry.max(Duration::from_millis(600))).await;
    bogor.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    app.stop().await;
}

/// A VerifyCoverageStream left open after its first answer: it holds its place in flight until `sender` drops.
async fn open_stream(
    app: &TestApp,
    key: &str,
) -> Result<
    (tokio::sync::mpsc::Sender<pb::VerifyCoverageRequest>, tonic::Streaming<pb::VerifyCoverageResponse>),
    tonic::Status,
> {
    let mut client =
        pb::coverage_service_client::CoverageServiceClient::with_interceptor(app.channel().await, Bearer::new(key));
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let check = pb::VerifyCoverageRequest {
        nik: bogor_worker(0).nik,
        date: "2025-09-20".into(),
        programme: pb::Programme::Jkk as i32,
        ..Default::default()
    };
    sender.send(check).await.unwrap();
    let mut answers = client.verify_coverage_stream(ReceiverStream::new(receiver)).await?.into_inner();
    answers.message().await?.expect("the first answer");
    Ok((sender, answers))
}

#[tokio::test]
async fn one_agencys_bulk_streams_take_no_place_of_its_unary_calls_nor_of_another_agencys() {
    let limits = LimitSettings { bulk: InFlight { running: 1, waiting: 0 }, ..unlimited() };
    let app = TestApp::spawn_with_limits(limits).await;
    let (held, _answers) = open_stream(&app, &app.keys.jabar).await.unwrap();

    // Its second bulk call is refused at once, naming the class and the limit.
    let refused = open_stream(&app, &app.keys.jabar).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("1 bulk calls in flight"), "{}", refused.message());
    assert!(refused.get_details_retry_info().is_some());

    // Its unary calls, and another agency's streams, are served meanwhile.
    app.agencies(&app.keys.jabar).await.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    let (other, _other_answers) = open_stream(&app, &app.keys.insurer).await.unwrap();
    drop(other);

    // Once its stream ends, the place is free again.
    drop(held);
    drop(_answers);
    let mut admitted = None;
    for _ in 0..50 {
        match open_stream(&app, &app.keys.jabar).await {
            Ok(stream) => {
                admitted = Some(stream);
                break;
            }
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(status) => panic!("{status:?}"),
        }
    }
    assert!(admitted.is_some(), "the place of the ended stream was not freed");
    app.stop().await;
}

#[tokio::test]
async fn calls_past_the_in_flight_limit_wait_their_turn_and_are_all_answered() {
    // Two unary calls in flight per agency, the rest queued: 40 concurrent calls all succeed.
    let limits = LimitSettings { unary: InFlight { running: 2, waiting: 64 }, ..unlimited() };
    let app = TestApp::spawn_with_limits(limits).await;
    let client = app.agencies(&app.keys.bogor).await;
    let calls = (0..40).map(|_| {
        let mut client = client.clone();
        tokio::spawn(async move { client.who_am_i(pb::WhoAmIRequest {}).await.map(|_| ()) })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    app.stop().await;
}
