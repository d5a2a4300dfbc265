//! Subsidies and the enrollment exchange, end to end: the Kota Bogor scenario, double funding under concurrency,
//! quota under concurrency, resends, and the insurer's decisions.

use std::collections::HashSet;

use lindung::proto::v1::{
    self as pb, enrollment_service_client::EnrollmentServiceClient, submit_enrollments_response::Result as Row,
    subsidy_service_client::SubsidyServiceClient,
};
use tonic::Code;
use tonic_types::{RpcStatusExt, StatusExt};

use crate::helpers::{Authed, TestApp, bogor_worker};

async fn subsidies(app: &TestApp, key: &str) -> SubsidyServiceClient<Authed> {
    SubsidyServiceClient::with_interceptor(app.channel().await, crate::helpers::Bearer::new(key))
}

pub async fn enrollments(app: &TestApp, key: &str) -> EnrollmentServiceClient<Authed> {
    EnrollmentServiceClient::with_interceptor(app.channel().await, crate::helpers::Bearer::new(key))
}

/// Creates a subsidy from 2025-09 to 2025-12 over `area` with the default contribution and eligibility.
async fn create_subsidy(app: &TestApp, key: &str, area: &str, quota: u32, budget: &str) -> String {
    create_subsidy_until(app, key, area, quota, budget, "2025-12").await
}

/// Creates a subsidy from 2025-09 to `last_month` over `area`.
async fn create_subsidy_until(
    app: &TestApp,
    key: &str,
    area: &str,
    quota: u32,
    budget: &str,
    last_month: &str,
) -> String {
    create_subsidy_between(app, key, area, quota, budget, "2025-09", last_month).await
}

/// Creates a subsidy from `first_month` to `last_month` over `area`.
pub async fn create_subsidy_between(
    app: &TestApp,
    key: &str,
    area: &str,
    quota: u32,
    budget: &str,
    first_month: &str,
    last_month: &str,
) -> String {
    let subsidy = pb::Subsidy {
        name: format!("Iuran pekerja rentan {area}"),
        legal_basis: "Keputusan Wali Kota Bogor No. 400.5/123/2025".into(),
        area_code: area.into(),
        first_month: first_month.into(),
        last_month: last_month.into(),
        quota,
        budget_ceiling: Some(pb::Rupiah { amount: budget.into() }),
        ..Default::default()
    };
    let request = pb::CreateSubsidyRequest {
        request_id: format!("subsidy-{area}-{quota}-{first_month}-{last_month}"),
        subsidy: Some(subsidy),
    };
    subsidies(app, key).await.create_subsidy(request).await.unwrap().into_inner().subsidy.unwrap().id
}

/// A Kota Bogor subsidy (2025-09..2025-12) with `n` workers enrolled and confirmed; answers the subsidy and the
/// enrollment ids.
pub async fn active_cohort(app: &TestApp, n: u32) -> (String, Vec<String>) {
    active_cohort_until(app, n, "2025-12").await
}

/// The same, with a subsidy funding 2025-09 to `last_month`.
pub async fn active_cohort_until(app: &TestApp, n: u32, last_month: &str) -> (String, Vec<String>) {
    active_cohort_between(app, 0..n, "2025-09", last_month).await
}

/// Workers `range` enrolled and confirmed in a Kota Bogor subsidy funding `first_month` to `last_month`.
pub async fn active_cohort_between(
    app: &TestApp,
    range: std::ops::Range<u32>,
    first_month: &str,
    last_month: &str,
) -> (String, Vec<String>) {
    let n = range.len() as u32;
    register(app, range.clone()).await;
    let city = create_subsidy_between(app, &app.keys.bogor, "32.71", 100, "1000000000", first_month, last_month).await;
    let rows = range
        .map(|i| pb::SubmitEnrollmentRequest {
            first_month: first_month.into(),
            ..submission(format!("c-{i}"), &city, i)
        })
        .collect();
    let answers = submit_all(app, &app.keys.bogor, rows).await;
    assert_eq!(confirm_all_pending(app).await, n as usize);
    let ids = answers
        .into_iter()
        .map(|a| match a.result {
            Some(Row::Enrollment(e)) => e.id,
            other => panic!("{other:?}"),
        })
        .collect();
    (city, ids)
}

/// Registers workers `range` (see `bogor_worker`) through the province, which governs all of them.
pub async fn register(app: &TestApp, range: std::ops::Range<u32>) {
    let rows: Vec<pb::UpsertWorkersRequest> =
        range.map(|n| pb::UpsertWorkersRequest { worker: Some(bogor_worker(n)), client_ref: String::new() }).collect();
    let mut replies =
        app.workers(&app.keys.jabar).await.upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
    while let Some(reply) = replies.message().await.unwrap() {
        assert!(matches!(reply.result, Some(pb::upsert_workers_response::Result::Outcome(_))), "{reply:?}");
    }
}

pub fn submission(request_id: String, subsidy: &str, n: u32) -> pb::SubmitEnrollmentRequest {
    pb::SubmitEnrollmentRequest {
        request_id,
        subsidy_id: subsidy.into(),
        worker_nik: bogor_worker(n).nik,
        first_month: "2025-09".into(),
    }
}

/// Streams `submissions` and answers the responses.
pub async fn submit_all(
    app: &TestApp,
    key: &str,
    submissions: Vec<pb::SubmitEnrollmentRequest>,
) -> Vec<pb::SubmitEnrollmentsResponse> {
    let rows = submissions.into_iter().map(|s| pb::SubmitEnrollmentsRequest { submission: Some(s) });
    let mut replies = enrollments(app, key)
        .await
        .submit_enrollments(tokio_stream::iter(rows.collect::<Vec<_>>()))
        .await
        .unwrap()
        .into_inner();
    let mut answers = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        answers.push(reply);
    }
    answers
}

fn reason_of(status: &tonic_types::pb::Status) -> String {
    status.get_details_error_info().map(|i| i.reason).unwrap_or_default()
}

/// Confirms every pending enrollment, reading them as the insurer's stream and answering over DecideEnrollments.
pub async fn confirm_all_pending(app: &TestApp) -> usize {
    let mut insurer = enrollments(app, &app.keys.insurer).await;
    let mut pending =
        insurer.stream_pending_enrollments(pb::StreamPendingEnrollmentsRequest {}).await.unwrap().into_inner();
    let mut decisions = Vec::new();
    while let Some(enrollment) = pending.message().await.unwrap() {
        // Day, month, year and serial of the NIK: distinct for every test worker.
        let serial: u64 = enrollment.worker_nik[6..].parse().unwrap();
        decisions.push(pb::DecideEnrollmentsRequest {
            decision: Some(pb::decide_enrollments_request::Decision::Confirm(pb::ConfirmEnrollmentRequest {
                enrollment_id: enrollment.id,
                participant_number: format!("{}", 10_000_000_000u64 + serial),
                protection_start: "2025-09-01".into(),
            })),
        });
    }
    let count = decisions.len();
    let mut replies = insurer.decide_enrollments(tokio_stream::iter(decisions)).await.unwrap().into_inner();
    let mut confirmed = 0;
    while let Some(reply) = replies.message().await.unwrap() {
        match reply.result {
            Some(pb::decide_enrollments_response::Result::Enrollment(e)) => {
                assert_eq!(e.status(), pb::EnrollmentStatus::Active);
                confirmed += 1;
            }
            other => panic!("confirmation refused: {other:?}"),
        }
    }
    assert_eq!(confirmed, count);
    count
}

async fn usage(app: &TestApp, key: &str, subsidy: &str) -> pb::GetSubsidyUsageResponse {
    subsidies(app, key)
        .await
        .get_subsidy_usage(pb::GetSubsidyUsageRequest { subsidy_id: subsidy.into() })
        .await
        .unwrap()
        .into_inner()
}

/// Acceptance: the Kota Bogor scenario at full size.
#[tokio::test]
async fn kota_bogor_and_jawa_barat_enroll_22474_workers_with_no_one_funded_twice() {
    let app = TestApp::spawn().await;
    let (city_quota, province_quota) = (7_894u32, 14_580u32);
    let total = city_quota + province_quota;
    register(&app, 0..total + 40).await;
    // Workers total..total+20 are too well-off for the subsidies (decile 5).
    let mut rich: Vec<pb::UpsertWorkersRequest> = Vec::new();
    for n in total..total + 20 {
        let mut worker = bogor_worker(n);
        worker.welfare.as_mut().unwrap().decile = 5;
        rich.push(pb::UpsertWorkersRequest { worker: Some(worker), client_ref: String::new() });
    }
    let mut replies =
        app.workers(&app.keys.jabar).await.upsert_workers(tokio_stream::iter(rich)).await.unwrap().into_inner();
    while replies.message().await.unwrap().is_some() {}

    let city = create_subsidy(&app, &app.keys.bogor, "32.71", city_quota, "600000000").await;
    let province = create_subsidy(&app, &app.keys.jabar, "32", province_quota, "1000000000").await;

    // The province's cohort: workers city_quota..total, plus planted invalid rows.
    let mut province_rows: Vec<_> =
        (city_quota..total).map(|n| submission(format!("jabar-{n}"), &province, n)).collect();
    province_rows.push(pb::SubmitEnrollmentRequest {
        worker_nik: "3271019999990001".into(),
        ..submission("jabar-unknown".into(), &province, 0)
    });
    province_rows.push(pb::SubmitEnrollmentRequest {
        first_month: "2025-13".into(),
        ..submission("jabar-bad-month".into(), &province, 1)
    });
    let answers = submit_all(&app, &app.keys.jabar, province_rows).await;
    assert_eq!(answers.len(), province_quota as usize + 2);
    assert_eq!(
        answers.iter().filter(|a| matches!(a.result, Some(Row::Enrollment(_)))).count(),
        province_quota as usize
    );

    // The city's cohort: its own workers, 20 that are too well-off, and 30 already funded by the province.
    let mut city_rows: Vec<_> = (0..city_quota).map(|n| submission(format!("bogor-{n}"), &city, n)).collect();
    city_rows.extend((total..total + 20).map(|n| submission(format!("bogor-rich-{n}"), &city, n)));
    city_rows.extend((city_quota..city_quota + 30).map(|n| submission(format!("bogor-overlap-{n}"), &city, n)));
    let answers = submit_all(&app, &app.keys.bogor, city_rows).await;
    let refused: Vec<String> = answers
        .iter()
        .filter_map(|a| match &a.result {
            Some(Row::Error(status)) => Some(reason_of(status)),
            _ => None,
        })
        .collect();
    assert_eq!(refused.iter().filter(|r| *r == "DECILE_TOO_HIGH").count(), 20);
    assert_eq!(refused.iter().filter(|r| *r == "DOUBLE_FUNDING").count(), 30);
    assert_eq!(refused.len(), 50);
    for answer in &answers {
        if let Some(Row::Error(status)) = &answer.result
            && reason_of(status) == "DOUBLE_FUNDING"
        {
            let info = status.get_details_error_info().unwrap();
            assert_eq!(info.metadata.get("funder_kind").map(String::as_str), Some("AGENCY_KIND_PROVINCE"));
            assert_eq!(info.metadata.get("subsidy_id"), Some(&province));
        }
    }

    assert_eq!(confirm_all_pending(&app).await, total as usize);
    let city_usage = usage(&app, &app.keys.bogor, &city).await;
    let province_usage = usage(&app, &app.keys.jabar, &province).await;
    assert_eq!((city_usage.active, city_usage.pending, city_usage.quota_left), (city_quota, 0, 0));
    assert_eq!((province_usage.active, province_usage.pending, province_usage.quota_left), (province_quota, 0, 0));
    assert_eq!(city_usage.active + province_usage.active, 22_474);
    assert_eq!(city_usage.monthly_commitment.unwrap().amount, "132619200");
    assert_eq!(province_usage.monthly_commitment.unwrap().amount, "244944000");
    // The city's September bill: one line per active enrollment, exact to the rupiah.
    let bill = crate::contributions::issue(&app, &city, "2025-09").await.bill.unwrap();
    assert_eq!(bill.workers, city_quota);
    let amounts = [bill.jkk, bill.jkm, bill.billed].map(|r| r.unwrap().amount);
    assert_eq!(amounts, ["78940000", "53679200", "132619200"].map(String::from));
    // Four funded months each.
    assert_eq!(city_usage.budget_committed.unwrap().amount, "530476800");
    assert_eq!(city_usage.budget_left.unwrap().amount, "69523200");
    app.stop().await;
}

#[tokio::test]
async fn the_same_worker_submitted_by_city_and_province_at_once_is_funded_once_every_time() {
    let app = TestApp::spawn().await;
    let rounds = 200u32;
    register(&app, 0..rounds).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 1000, "1000000000").await;
    let province = create_subsidy(&app, &app.keys.jabar, "32", 1000, "1000000000").await;
    let mut bogor = enrollments(&app, &app.keys.bogor).await;
    let mut jabar = enrollments(&app, &app.keys.jabar).await;
    for n in 0..rounds {
        let (a, b) = tokio::join!(
            bogor.submit_enrollment(submission(format!("bogor-{n}"), &city, n)),
            jabar.submit_enrollment(submission(format!("jabar-{n}"), &province, n)),
        );
        let outcomes = [a, b];
        let accepted = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(accepted, 1, "round {n}: {outcomes:?}");
        let refusal = outcomes.into_iter().find_map(Result::err).unwrap();
        assert_eq!(refusal.code(), Code::FailedPrecondition);
        assert_eq!(refusal.get_details_error_info().unwrap().reason, "DOUBLE_FUNDING");
    }
    let open: i64 = sqlx::query_scalar("select count(*) from enrollments where status in ('pending', 'active')")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(open, i64::from(rounds));
    app.stop().await;
}

#[tokio::test]
async fn two_concurrent_streams_against_100_places_get_exactly_100_accepted() {
    let app = TestApp::spawn().await;
    register(&app, 0..160).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 100, "1000000000").await;
    let first: Vec<_> = (0..80).map(|n| submission(format!("a-{n}"), &city, n)).collect();
    let second: Vec<_> = (80..160).map(|n| submission(format!("b-{n}"), &city, n)).collect();
    let (a, b) = tokio::join!(submit_all(&app, &app.keys.bogor, first), submit_all(&app, &app.keys.bogor, second));
    let accepted = a.iter().chain(&b).filter(|r| matches!(r.result, Some(Row::Enrollment(_)))).count();
    assert_eq!(accepted, 100);
    let exhausted = a
        .iter()
        .chain(&b)
        .filter(|r| matches!(&r.result, Some(Row::Error(s)) if reason_of(s) == "QUOTA_EXHAUSTED"))
        .count();
    assert_eq!(exhausted, 60);
    assert_eq!(usage(&app, &app.keys.bogor, &city).await.quota_left, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_interrupted_halfway_and_resent_whole_has_no_duplicate_and_no_loss() {
    let app = TestApp::spawn().await;
    register(&app, 0..1000).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 5000, "1000000000").await;
    let rows: Vec<_> = (0..1000).map(|n| submission(format!("bogor-{n}"), &city, n)).collect();

    // Send half, read a few answers, then drop the connection.
    {
        let (tx, rx) = tokio::sync::mpsc::channel(1000);
        for row in rows.iter().take(500) {
            tx.send(pb::SubmitEnrollmentsRequest { submission: Some(row.clone()) }).await.unwrap();
        }
        let mut client = enrollments(&app, &app.keys.bogor).await;
        let mut replies =
            client.submit_enrollments(tokio_stream::wrappers::ReceiverStream::new(rx)).await.unwrap().into_inner();
        for _ in 0..10 {
            replies.message().await.unwrap().unwrap();
        }
        drop(tx);
    }

    let answers = submit_all(&app, &app.keys.bogor, rows).await;
    assert_eq!(answers.len(), 1000);
    let ids: HashSet<String> = answers
        .iter()
        .map(|a| match &a.result {
            Some(Row::Enrollment(e)) => e.id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 1000);
    let stored: i64 = sqlx::query_scalar("select count(*) from enrollments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 1000);
    let distinct: i64 =
        sqlx::query_scalar("select count(distinct worker_nik) from enrollments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(distinct, 1000);
    app.stop().await;
}

#[tokio::test]
async fn a_resent_request_gets_its_original_answer_even_after_the_world_changed() {
    let app = TestApp::spawn().await;
    let mut worker = bogor_worker(1);
    worker.welfare.as_mut().unwrap().decile = 5;
    app.workers(&app.keys.bogor)
        .await
        .upsert_worker(pb::UpsertWorkerRequest { worker: Some(worker.clone()) })
        .await
        .unwrap();
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000000000").await;
    let mut client = enrollments(&app, &app.keys.bogor).await;

    let first = client.submit_enrollment(submission("r-1".into(), &city, 1)).await.unwrap_err();
    assert_eq!(first.get_details_error_info().unwrap().reason, "DECILE_TOO_HIGH");

    worker.welfare.as_mut().unwrap().decile = 2;
    app.workers(&app.keys.bogor).await.upsert_worker(pb::UpsertWorkerRequest { worker: Some(worker) }).await.unwrap();
    let again = client.submit_enrollment(submission("r-1".into(), &city, 1)).await.unwrap_err();
    assert_eq!(again.code(), first.code());
    assert_eq!(again.message(), first.message());
    assert_eq!(again.details(), first.details());

    let accepted = client.submit_enrollment(submission("r-2".into(), &city, 1)).await.unwrap().into_inner();
    let resent = client.submit_enrollment(submission("r-2".into(), &city, 1)).await.unwrap().into_inner();
    assert_eq!(accepted.enrollment.unwrap().id, resent.enrollment.unwrap().id);

    let reused = client.submit_enrollment(submission("r-2".into(), &city, 2)).await.unwrap_err();
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(reused.get_details_bad_request().unwrap().field_violations[0].reason, "REQUEST_ID_REUSED");
    app.stop().await;
}

#[tokio::test]
async fn a_refusal_lists_every_rule_that_failed() {
    let app = TestApp::spawn().await;
    let mut worker = bogor_worker(1);
    worker.welfare = Some(pb::Welfare { decile: 6, source: "DTSEN".into(), as_of_quarter: "2024-Q1".into() });
    worker.birth_date = "1950-05-01".into();
    worker.nik = format!("{}{}", &worker.nik[..10], "500001");
    app.workers(&app.keys.bogor).await.upsert_worker(pb::UpsertWorkerRequest { worker: Some(worker) }).await.unwrap();
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000000000").await;
    let status = enrollments(&app, &app.keys.bogor)
        .await
        .submit_enrollment(pb::SubmitEnrollmentRequest {
            request_id: "r".into(),
            subsidy_id: city.clone(),
            worker_nik: format!("{}{}", &bogor_worker(1).nik[..10], "500001"),
            first_month: "2025-09".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let violations = status.get_details_precondition_failure().unwrap().violations;
    let found: Vec<(String, String)> = violations.into_iter().map(|v| (v.r#type, v.subject)).collect();
    assert_eq!(
        found,
        vec![
            ("R4.1".to_owned(), "DECILE_TOO_HIGH".to_owned()),
            ("R4.1".to_owned(), "DECILE_STALE".to_owned()),
            ("R4.2".to_owned(), "AGE_OUTSIDE_RANGE".to_owned()),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_submissions_name_their_fields() {
    let app = TestApp::spawn().await;
    let status = enrollments(&app, &app.keys.bogor)
        .await
        .submit_enrollment(pb::SubmitEnrollmentRequest {
            request_id: String::new(),
            subsidy_id: "nope".into(),
            worker_nik: "123".into(),
            first_month: "2025-9".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: HashSet<String> =
        status.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, HashSet::from(["request_id", "subsidy_id", "worker_nik", "first_month"].map(String::from)));
    app.stop().await;
}

#[tokio::test]
async fn ending_an_enrollment_frees_the_following_months_and_a_hand_over_is_atomic() {
    let app = TestApp::spawn().await;
    register(&app, 0..2).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000000000").await;
    let province = create_subsidy(&app, &app.keys.jabar, "32", 10, "1000000000").await;
    let mut bogor = enrollments(&app, &app.keys.bogor).await;
    let mut jabar = enrollments(&app, &app.keys.jabar).await;

    let first =
        bogor.submit_enrollment(submission("e-0".into(), &city, 0)).await.unwrap().into_inner().enrollment.unwrap();
    // The city submitting her again under a new request id is told it funds her already, not that another
    // government does.
    let twice = bogor.submit_enrollment(submission("e-0-again".into(), &city, 0)).await.unwrap_err();
    let info = twice.get_details_error_info().unwrap();
    assert_eq!(info.reason, "ALREADY_ENROLLED_BY_YOU", "{twice:?}");
    assert_eq!(info.metadata.get("enrollment_id"), Some(&first.id));
    let ended = bogor
        .end_enrollment(pb::EndEnrollmentRequest {
            enrollment_id: first.id.clone(),
            end_month: "2025-11".into(),
            reason: pb::EndReason::MovedAway as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    assert_eq!((ended.status(), ended.end_month.as_str()), (pb::EnrollmentStatus::Ended, "2025-11"));
    // September and October stay the city's; November on is free.
    let early = jabar
        .submit_enrollment(pb::SubmitEnrollmentRequest {
            first_month: "2025-10".into(),
            ..submission("j-0".into(), &province, 0)
        })
        .await
        .unwrap_err();
    assert_eq!(early.get_details_error_info().unwrap().reason, "DOUBLE_FUNDING");
    jabar
        .submit_enrollment(pb::SubmitEnrollmentRequest {
            first_month: "2025-11".into(),
            ..submission("j-1".into(), &province, 0)
        })
        .await
        .unwrap();

    // Hand-over: the city's enrollment ends and the province's starts, in one step.
    let second =
        bogor.submit_enrollment(submission("e-1".into(), &city, 1)).await.unwrap().into_inner().enrollment.unwrap();
    let handed = bogor
        .hand_over_enrollment(pb::HandOverEnrollmentRequest {
            request_id: "h-1".into(),
            enrollment_id: second.id.clone(),
            target_subsidy_id: province.clone(),
            month: "2025-10".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let (ended, started) = (handed.ended.unwrap(), handed.started.unwrap());
    assert_eq!((ended.status(), ended.end_month.as_str()), (pb::EnrollmentStatus::Ended, "2025-10"));
    assert_eq!((started.status(), started.first_month.as_str()), (pb::EnrollmentStatus::Pending, "2025-10"));
    assert_eq!(started.subsidy_id, province);

    // Resent, it answers what it made; with a request id that is not valid, INVALID_ARGUMENT (never INTERNAL);
    // under another request id, a second hand-over is refused.
    let resend = |request_id: &str| pb::HandOverEnrollmentRequest {
        request_id: request_id.into(),
        enrollment_id: second.id.clone(),
        target_subsidy_id: province.clone(),
        month: "2025-10".into(),
    };
    let again = bogor.hand_over_enrollment(resend("h-1")).await.unwrap().into_inner();
    assert_eq!(again.started.unwrap().id, started.id);
    let malformed = bogor.hand_over_enrollment(resend("a\u{0}b")).await.unwrap_err();
    assert_eq!(malformed.code(), tonic::Code::InvalidArgument, "{malformed:?}");
    assert_eq!(malformed.get_details_bad_request().unwrap().field_violations[0].field, "request_id");
    let other = bogor.hand_over_enrollment(resend("h-other")).await.unwrap_err();
    assert_eq!(other.get_details_error_info().unwrap().reason, "ENROLLMENT_ALREADY_HANDED_OVER", "{other:?}");

    // A hand-over that the target refuses changes nothing.
    let third = {
        register(&app, 2..3).await;
        bogor.submit_enrollment(submission("e-2".into(), &city, 2)).await.unwrap().into_inner().enrollment.unwrap()
    };
    let refused = bogor
        .hand_over_enrollment(pb::HandOverEnrollmentRequest {
            request_id: "h-2".into(),
            enrollment_id: third.id.clone(),
            target_subsidy_id: province.clone(),
            month: "2026-02".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.get_details_error_info().unwrap().reason, "MONTH_OUTSIDE_SUBSIDY");
    let still = bogor.get_enrollment(pb::GetEnrollmentRequest { enrollment_id: third.id }).await.unwrap().into_inner();
    assert_eq!(still.enrollment.unwrap().status(), pb::EnrollmentStatus::Pending);
    app.stop().await;
}

#[tokio::test]
async fn the_insurer_confirms_or_refuses_and_a_refusal_frees_the_months() {
    let app = TestApp::spawn().await;
    register(&app, 0..2).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000000000").await;
    let mut bogor = enrollments(&app, &app.keys.bogor).await;
    let mut insurer = enrollments(&app, &app.keys.insurer).await;
    let a = bogor.submit_enrollment(submission("a".into(), &city, 0)).await.unwrap().into_inner().enrollment.unwrap();
    let b = bogor.submit_enrollment(submission("b".into(), &city, 1)).await.unwrap().into_inner().enrollment.unwrap();

    let pending =
        insurer.list_pending_enrollments(pb::ListPendingEnrollmentsRequest::default()).await.unwrap().into_inner();
    assert_eq!(pending.enrollments.len(), 2);

    let confirm = pb::ConfirmEnrollmentRequest {
        enrollment_id: a.id.clone(),
        participant_number: "12345678901".into(),
        protection_start: "2025-09-01".into(),
    };
    let active = insurer.confirm_enrollment(confirm.clone()).await.unwrap().into_inner().enrollment.unwrap();
    assert_eq!((active.status(), active.participant_number.as_str()), (pb::EnrollmentStatus::Active, "12345678901"));
    insurer.confirm_enrollment(confirm).await.expect("a resent confirmation is a no-op");

    // The participant number belongs to worker 0; it cannot be given to worker 1.
    let taken = insurer
        .confirm_enrollment(pb::ConfirmEnrollmentRequest {
            enrollment_id: b.id.clone(),
            participant_number: "12345678901".into(),
            protection_start: "2025-09-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(taken.get_details_error_info().unwrap().reason, "PARTICIPANT_NUMBER_CONFLICT");

    let rejected = insurer
        .refuse_enrollment(pb::RefuseEnrollmentRequest {
            enrollment_id: b.id.clone(),
            reason: pb::InsurerRefusal::AlreadyActiveElsewhere as i32,
            detail: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    assert_eq!(rejected.status(), pb::EnrollmentStatus::Rejected);
    let again = insurer
        .confirm_enrollment(pb::ConfirmEnrollmentRequest {
            enrollment_id: b.id,
            participant_number: "12345678902".into(),
            protection_start: "2025-09-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.get_details_error_info().unwrap().reason, "ENROLLMENT_NOT_PENDING");
    // The rejected months are free: the worker can be submitted again.
    bogor.submit_enrollment(submission("b-again".into(), &city, 1)).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn each_agency_acts_only_on_what_is_its_own() {
    let app = TestApp::spawn().await;
    register(&app, 0..1).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000000000").await;

    // Another government cannot see, use or enroll into the city's subsidy.
    let status = subsidies(&app, &app.keys.kabupaten_bogor)
        .await
        .get_subsidy(pb::GetSubsidyRequest { subsidy_id: city.clone() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status =
        enrollments(&app, &app.keys.jabar).await.submit_enrollment(submission("x".into(), &city, 0)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // The insurer cannot fund; funders cannot decide.
    let status = enrollments(&app, &app.keys.insurer)
        .await
        .submit_enrollment(submission("x".into(), &city, 0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = enrollments(&app, &app.keys.bogor)
        .await
        .list_pending_enrollments(pb::ListPendingEnrollmentsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // A city cannot create a subsidy for another area.
    let status = subsidies(&app, &app.keys.kabupaten_bogor)
        .await
        .create_subsidy(pb::CreateSubsidyRequest {
            request_id: "s".into(),
            subsidy: Some(pb::Subsidy {
                name: "x".into(),
                legal_basis: "y".into(),
                area_code: "32.71".into(),
                first_month: "2025-09".into(),
                last_month: "2025-12".into(),
                quota: 1,
                budget_ceiling: Some(pb::Rupiah { amount: "1".into() }),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    assert_eq!(status.get_details_error_info().unwrap().reason, "OUTSIDE_AGENCY_AREA");
    // The insurer sees every subsidy; the city only its own.
    let all = subsidies(&app, &app.keys.insurer)
        .await
        .list_subsidies(pb::ListSubsidiesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.subsidies.len(), 1);
    let none = subsidies(&app, &app.keys.jabar)
        .await
        .list_subsidies(pb::ListSubsidiesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(none.subsidies.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn creating_a_subsidy_twice_with_one_request_id_creates_it_once() {
    let app = TestApp::spawn().await;
    let a = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000").await;
    let b = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000").await;
    assert_eq!(a, b);
    let subsidy = subsidies(&app, &app.keys.bogor)
        .await
        .get_subsidy(pb::GetSubsidyRequest { subsidy_id: a })
        .await
        .unwrap()
        .into_inner()
        .subsidy
        .unwrap();
    let contribution = subsidy.contribution.unwrap();
    assert_eq!(
        (contribution.jkk.unwrap().amount, contribution.jkm.unwrap().amount, contribution.total.unwrap().amount),
        ("10000".to_owned(), "6800".to_owned(), "16800".to_owned())
    );
    assert_eq!(subsidy.eligibility.unwrap().max_decile, 4);
    app.stop().await;
}

#[tokio::test]
async fn one_batch_of_decisions_cannot_give_one_participant_number_to_two_workers() {
    let app = TestApp::spawn().await;
    register(&app, 0..2).await;
    let city = create_subsidy(&app, &app.keys.bogor, "32.71", 10, "1000000000").await;
    let mut bogor = enrollments(&app, &app.keys.bogor).await;
    let a = bogor.submit_enrollment(submission("a".into(), &city, 0)).await.unwrap().into_inner().enrollment.unwrap();
    let b = bogor.submit_enrollment(submission("b".into(), &city, 1)).await.unwrap().into_inner().enrollment.unwrap();
    let confirm = |id: String| pb::DecideEnrollmentsRequest {
        decision: Some(pb::decide_enrollments_request::Decision::Confirm(pb::ConfirmEnrollmentRequest {
            enrollment_id: id,
            participant_number: "12345678901".into(),
            protection_start: "2025-09-01".into(),
        })),
    };
    let mut replies = enrollments(&app, &app.keys.insurer)
        .await
        .decide_enrollments(tokio_stream::iter([confirm(a.id), confirm(b.id), confirm("nope".into())]))
        .await
        .unwrap()
        .into_inner();
    let mut results = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        results.push(match reply.result {
            Some(pb::decide_enrollments_response::Result::Enrollment(e)) => format!("{:?}", e.status()),
            Some(pb::decide_enrollments_response::Result::Error(s)) => {
                s.get_details_error_info().map(|i| i.reason).unwrap_or_else(|| format!("code {}", s.code))
            }
            None => "nothing".into(),
        });
    }
    assert_eq!(results, ["Active", "PARTICIPANT_NUMBER_CONFLICT", "code 3"]);
    app.stop().await;
}

#[tokio::test]
async fn a_reported_death_tells_each_funder_only_of_its_own_enrollments() {
    let app = TestApp::spawn().await;
    register(&app, 0..1).await;
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", 10, "1000000000", "2025-09", "2025-10").await;
    let province = create_subsidy_between(&app, &app.keys.jabar, "32", 10, "1000000000", "2025-11", "2025-12").await;
    let by_city = enrollments(&app, &app.keys.bogor)
        .await
        .submit_enrollment(submission("city-0".into(), &city, 0))
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    let by_province = enrollments(&app, &app.keys.jabar)
        .await
        .submit_enrollment(pb::SubmitEnrollmentRequest {
            first_month: "2025-11".into(),
            ..submission("province-0".into(), &province, 0)
        })
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    let report = pb::ReportDeathRequest {
        worker_nik: bogor_worker(0).nik,
        date_of_death: "2025-09-15".into(),
        certificate_number: "3271-KM-0009".into(),
    };
    let reported = app.workers(&app.keys.jabar).await.report_death(report).await.unwrap().into_inner();
    assert!(reported.recorded_now);
    // Both enrollments ended; the province is told of its own only.
    assert_eq!(reported.changed_enrollment_ids, vec![by_province.id.clone()]);
    let city_view = enrollments(&app, &app.keys.bogor)
        .await
        .get_enrollment(pb::GetEnrollmentRequest { enrollment_id: by_city.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(city_view.enrollment.unwrap().status(), pb::EnrollmentStatus::Ended);
    app.stop().await;
}
