//! Messages a clerk can read: a refusal asked for with `accept-language: id` carries its Indonesian words in the
//! standard `google.rpc.LocalizedMessage` detail (and in each field violation's `localized_message`), over gRPC and
//! over JSON; without the header, or asking for another language, the words are English.

use lindung::proto::v1::{self as pb, coverage_service_client::CoverageServiceClient};
use tonic::{Code, Request};
use tonic_types::{RpcStatusExt, StatusExt};

use crate::helpers::{Bearer, TestApp};

fn bad_nik(language: Option<&str>) -> Request<pb::VerifyCoverageRequest> {
    let mut request = Request::new(pb::VerifyCoverageRequest {
        nik: "123".into(),
        date: "2025-10-20".into(),
        programme: pb::Programme::Jkk as i32,
        ..Default::default()
    });
    if let Some(language) = language {
        request.metadata_mut().insert("accept-language", language.parse().unwrap());
    }
    request
}

#[tokio::test]
async fn a_refusal_asked_for_in_indonesian_carries_the_indonesian_message() {
    let app = TestApp::spawn().await;
    let mut coverage = CoverageServiceClient::with_interceptor(app.channel().await, Bearer::new(&app.keys.bogor));

    let status = coverage.verify_coverage(bad_nik(Some("id-ID,id;q=0.9,en;q=0.5"))).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("must be exactly 16 digits"), "the status message stays English: {status:?}");
    let localized = status.get_details_localized_message().expect("a LocalizedMessage");
    assert_eq!(localized.locale, "id-ID");
    assert_eq!(localized.message, "nik: harus tepat 16 digit, tertulis 3");
    let violation = &status.get_details_bad_request().unwrap().field_violations[0];
    assert_eq!(violation.reason, "NIK_LENGTH");
    assert_eq!(violation.description, "must be exactly 16 digits, got 3");
    let in_field = violation.localized_message.as_ref().expect("the violation's localized message");
    assert_eq!((in_field.locale.as_str(), in_field.message.as_str()), ("id-ID", "harus tepat 16 digit, tertulis 3"));

    for language in [None, Some("fr-FR"), Some("id;q=0.1, en")] {
        let status = coverage.verify_coverage(bad_nik(language)).await.unwrap_err();
        let localized = status.get_details_localized_message().expect("a LocalizedMessage");
        assert_eq!(localized.locale, "en-US", "{language:?}");
        assert_eq!(localized.message, "nik: must be exactly 16 digits, got 3", "{language:?}");
    }

    // Before the caller is known: the key is refused in the caller's language too.
    let mut anonymous = CoverageServiceClient::new(app.channel().await);
    let status = anonymous.verify_coverage(bad_nik(Some("in"))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let localized = status.get_details_localized_message().expect("a LocalizedMessage");
    assert_eq!(localized.locale, "id-ID");
    assert!(localized.message.contains("tidak ada"), "{localized:?}");
    app.stop().await;
}

async fn curl_json(app: &TestApp, language: Option<&str>) -> serde_json::Value {
    let url = format!("http://{}/lindung.v1.CoverageService/VerifyCoverage", app.addr);
    let auth = format!("authorization: Bearer {}", app.keys.bogor);
    let header = language.map(|l| format!("accept-language: {l}"));
    let mut args = vec!["-s", "-H", "content-type: application/json", "-H", auth.as_str()];
    if let Some(header) = &header {
        args.extend(["-H", header.as_str()]);
    }
    let body = r#"{"nik":"123","date":"2025-10-20","programme":"PROGRAMME_JKK"}"#;
    args.extend(["--data-binary", body, url.as_str()]);
    let output = tokio::process::Command::new("curl").args(&args).output().await.expect("curl runs");
    serde_json::from_slice(&output.stdout).expect("a JSON error")
}

fn localized(body: &serde_json::Value) -> &serde_json::Value {
    let details = body["details"].as_array().expect("details");
    &details.iter().find(|d| d["type"] == "google.rpc.LocalizedMessage").expect("a LocalizedMessage")["debug"]
}

#[tokio::test]
async fn the_json_face_carries_the_localized_message_in_the_language_asked_for() {
    let app = TestApp::spawn().await;
    let body = curl_json(&app, Some("id")).await;
    assert_eq!(body["code"], "invalid_argument");
    assert!(body["message"].as_str().unwrap().contains("must be exactly 16 digits"), "{body}");
    assert_eq!(localized(&body)["locale"], "id-ID");
    assert_eq!(localized(&body)["message"], "nik: harus tepat 16 digit, tertulis 3");
    let bad_request = body["details"].as_array().unwrap().iter().find(|d| d["type"] == "google.rpc.BadRequest");
    let violation = &bad_request.expect("a BadRequest")["debug"]["fieldViolations"][0];
    assert_eq!(violation["localizedMessage"]["message"], "harus tepat 16 digit, tertulis 3");

    let body = curl_json(&app, None).await;
    assert_eq!(localized(&body)["locale"], "en-US");
    assert_eq!(localized(&body)["message"], "nik: must be exactly 16 digits, got 3");
    app.stop().await;
}

fn localized_of(status: &tonic_types::pb::Status) -> (String, String) {
    let localized = status.get_details_localized_message().expect("a LocalizedMessage");
    (localized.locale, localized.message)
}

fn in_language<T>(message: T, language: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("accept-language", language.parse().unwrap());
    request
}

#[tokio::test]
async fn a_resend_and_a_streamed_row_are_answered_in_the_language_of_their_call() {
    use crate::{
        enrollments::{create_subsidy_between, enrollments, submission},
        helpers::bogor_worker,
    };

    let app = TestApp::spawn().await;
    let mut worker = bogor_worker(1);
    worker.welfare.as_mut().unwrap().decile = 5;
    app.workers(&app.keys.bogor).await.upsert_worker(pb::UpsertWorkerRequest { worker: Some(worker) }).await.unwrap();
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", 10, "1000000000", "2025-09", "2025-12").await;
    let mut client = enrollments(&app, &app.keys.bogor).await;
    let indonesian = ("id-ID".to_owned(), "desil 5 di atas batas subsidi, 4".to_owned());
    let english = ("en-US".to_owned(), "decile 5 is above the subsidy's maximum 4".to_owned());

    let first = client.submit_enrollment(in_language(submission("r-1".into(), &city, 1), "id")).await.unwrap_err();
    assert_eq!(first.get_details_error_info().unwrap().reason, "DECILE_TOO_HIGH");
    assert_eq!(first.message(), english.1, "the status message stays English");
    let as_status = |s: &tonic::Status| tonic_types::pb::Status {
        code: s.code() as i32,
        message: s.message().to_owned(),
        details: Vec::new(),
    };
    let localized = first.get_details_localized_message().unwrap();
    assert_eq!((localized.locale, localized.message), indonesian.clone());

    // The resend is answered from what was kept, in the resend's language.
    let again = client.submit_enrollment(in_language(submission("r-1".into(), &city, 1), "en")).await.unwrap_err();
    assert_eq!(again.message(), first.message());
    let localized = again.get_details_localized_message().unwrap();
    assert_eq!((localized.locale, localized.message), english.clone(), "{:?}", as_status(&again));
    let again = client.submit_enrollment(in_language(submission("r-1".into(), &city, 1), "id")).await.unwrap_err();
    let localized = again.get_details_localized_message().unwrap();
    assert_eq!((localized.locale, localized.message), indonesian.clone());

    // A refused row of a stream carries the language of the stream's call.
    let rows = vec![pb::SubmitEnrollmentsRequest { submission: Some(submission("r-2".into(), &city, 1)) }];
    let mut replies = client
        .submit_enrollments(in_language(tokio_stream::iter(rows), "id-ID;q=0.9, en;q=0.1"))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.message().await.unwrap().expect("one answer");
    let Some(pb::submit_enrollments_response::Result::Error(status)) = reply.result else {
        panic!("refused: {reply:?}");
    };
    assert_eq!(localized_of(&status), indonesian);
    app.stop().await;
}
