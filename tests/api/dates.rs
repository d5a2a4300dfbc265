//! Every date field of every RPC goes through the one strict date parser: an arbitrary malformed or out-of-range
//! date is INVALID_ARGUMENT naming the field, never a panic or INTERNAL, and a bad row of a stream fails only its
//! own row.

use lindung::proto::v1::{
    self as pb, claim_service_client::ClaimServiceClient, contribution_service_client::ContributionServiceClient,
    coverage_service_client::CoverageServiceClient, enrollment_service_client::EnrollmentServiceClient,
};
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::TestRunner,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{Bearer, TestApp, bogor_worker};

/// The dates the issue reported, and others at the edges of the parser.
const FIXED: [&str; 12] = [
    "1899-12-31",
    "0001-01-01",
    "+10000-01-01",
    "-2025-01-01",
    "3000-01-01",
    "9999-12-31",
    "2025-9-1",
    "2025-02-29",
    "2025-09-15T00:00:00Z",
    "",
    "20250915",
    "2025-09-15\u{0}",
];

/// `count` arbitrary date-like strings that the parser must refuse: signed, long or short years, any month and day.
fn arbitrary_bad_dates(count: usize) -> Vec<String> {
    let strategy = "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}|\\PC{0,12}"
        .prop_filter("refused by the parser", |s| lindung::date::parse(s).is_err());
    let mut runner = TestRunner::deterministic();
    (0..count).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect()
}

fn assert_names(field: &str, date: &str, result: Result<impl std::fmt::Debug, tonic::Status>) {
    let status = result.expect_err(&format!("{field} = {date:?} was accepted"));
    assert_eq!(status.code(), Code::InvalidArgument, "{field} = {date:?}: {status:?}");
    let violations = status.get_details_bad_request().expect("field violations").field_violations;
    assert!(violations.iter().any(|v| v.field == field), "{field} = {date:?}: {violations:?}");
}

#[tokio::test]
async fn every_date_field_refuses_any_malformed_or_out_of_range_date_by_name() {
    let app = TestApp::spawn().await;
    let insurer = Bearer::new(&app.keys.insurer);
    let city = Bearer::new(&app.keys.bogor);
    let mut coverage = CoverageServiceClient::with_interceptor(app.channel().await, insurer.clone());
    let mut claims = ClaimServiceClient::with_interceptor(app.channel().await, insurer.clone());
    let mut enrollments = EnrollmentServiceClient::with_interceptor(app.channel().await, insurer.clone());
    let mut contributions = ContributionServiceClient::with_interceptor(app.channel().await, city.clone());
    let mut workers = app.workers(&app.keys.insurer).await;
    let mut city_workers = app.workers(&app.keys.bogor).await;
    let nik = bogor_worker(0).nik;
    let id = uuid::Uuid::new_v4().to_string();

    let dates: Vec<String> = FIXED.iter().map(|d| (*d).to_owned()).chain(arbitrary_bad_dates(40)).collect();
    for date in &dates {
        let date = date.clone();
        let check = pb::VerifyCoverageRequest {
            nik: nik.clone(),
            date: date.clone(),
            programme: pb::Programme::Jkk as i32,
            ..Default::default()
        };
        assert_names("date", &date, coverage.verify_coverage(check.clone()).await);

        let event =
            |date: &str| pb::Event { kind: pb::ClaimEvent::Death as i32, date: date.into(), ..Default::default() };
        let estimate =
            pb::EstimateBenefitRequest { worker_nik: nik.clone(), event: Some(event(&date)), ..Default::default() };
        assert_names("event.date", &date, claims.estimate_benefit(estimate).await);

        let notice = pb::FileAccidentNoticeRequest {
            request_id: "notice-1".into(),
            worker_nik: nik.clone(),
            accident_date: date.clone(),
            ..Default::default()
        };
        let mut city_claims = ClaimServiceClient::with_interceptor(app.channel().await, city.clone());
        assert_names("accident_date", &date, city_claims.file_accident_notice(notice).await);

        let pay = pb::PayClaimRequest { claim_id: id.clone(), reference: "PAY-1".into(), paid_on: date.clone() };
        assert_names("paid_on", &date, claims.pay_claim(pay).await);

        let confirm = pb::ConfirmEnrollmentRequest {
            enrollment_id: id.clone(),
            participant_number: "25090000001".into(),
            protection_start: date.clone(),
        };
        assert_names("protection_start", &date, enrollments.confirm_enrollment(confirm).await);

        let payment = pb::RecordPaymentRequest {
            subsidy_id: id.clone(),
            amount: Some(pb::Rupiah { amount: "16800".into() }),
            paid_on: date.clone(),
            reference: "SP2D-1".into(),
        };
        assert_names("paid_on", &date, contributions.record_payment(payment).await);

        let death = pb::ReportDeathRequest {
            worker_nik: nik.clone(),
            date_of_death: date.clone(),
            certificate_number: "KM-1".into(),
        };
        assert_names("date_of_death", &date, workers.report_death(death).await);

        if !date.is_empty() {
            // An empty birth date is REQUIRED, an empty date of death means alive: both are answered elsewhere.
            let worker = pb::Worker { birth_date: date.clone(), ..bogor_worker(0) };
            let upsert = pb::UpsertWorkerRequest { worker: Some(worker) };
            assert_names("worker.birth_date", &date, city_workers.upsert_worker(upsert).await);
            let worker = pb::Worker { date_of_death: date.clone(), ..bogor_worker(0) };
            let upsert = pb::UpsertWorkerRequest { worker: Some(worker) };
            assert_names("worker.date_of_death", &date, city_workers.upsert_worker(upsert).await);
        }

        // In the stream a bad date fails its own row; the rows around it are answered and the stream ends OK.
        let good = pb::VerifyCoverageRequest { date: "2025-09-20".into(), ..check.clone() };
        let rows = vec![good.clone(), pb::VerifyCoverageRequest { client_ref: "bad".into(), ..check }, good];
        let mut answers = coverage.verify_coverage_stream(tokio_stream::iter(rows)).await.unwrap().into_inner();
        let mut seen = Vec::new();
        while let Some(answer) = answers.message().await.unwrap_or_else(|s| panic!("{date:?}: the stream ended {s:?}"))
        {
            seen.push(answer);
        }
        assert_eq!(seen.len(), 3, "{date:?}");
        assert!(seen[1].error.contains("date"), "{date:?}: {:?}", seen[1]);
        assert!(seen[0].error.is_empty() && seen[2].error.is_empty(), "{date:?}: {seen:?}");
    }
    app.stop().await;
}
