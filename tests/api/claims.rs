//! Deaths and claims end to end: the Kota Bogor deaths, the full death benefit, scholarships, a work-accident death,
//! refunds after a death, what a funder sees, and the database refusing a second death claim or a second payment.

use lindung::proto::v1::{
    self as pb, claim_service_client::ClaimServiceClient, coverage_service_client::CoverageServiceClient,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    contributions::{contributions, issue},
    coverage::pay,
    enrollments::{active_cohort_between, enrollments},
    helpers::{Authed, Bearer, TestApp, bogor_worker},
};

pub async fn claims(app: &TestApp, key: &str) -> ClaimServiceClient<Authed> {
    ClaimServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

fn spouse() -> pb::Heir {
    pb::Heir {
        full_name: "Budi Santoso".into(),
        nik: String::new(),
        relationship: pb::Relationship::Spouse as i32,
        bank_name: "BRI".into(),
        bank_account: "0123456789012".into(),
    }
}

fn all_documents() -> Vec<i32> {
    (1..=8).collect()
}

pub fn death(n: u32, date: &str, children: Vec<pb::Child>) -> pb::FileClaimRequest {
    pb::FileClaimRequest {
        request_id: format!("claim-{n}"),
        worker_nik: bogor_worker(n).nik,
        event: Some(pb::Event {
            kind: pb::ClaimEvent::Death as i32,
            date: date.into(),
            children,
            accident_costs: None,
        }),
        heirs: vec![spouse()],
        documents: all_documents(),
        death_certificate_number: format!("3271-KM-{n}"),
        ..Default::default()
    }
}

/// Files, assesses, approves and pays a claim; answers the paid claim.
pub async fn settle(app: &TestApp, request: pb::FileClaimRequest) -> pb::Claim {
    let mut client = claims(app, &app.keys.insurer).await;
    let filed = client.file_claim(request).await.unwrap().into_inner().claim.unwrap();
    assert_eq!(filed.status(), pb::ClaimStatus::Filed);
    let id = filed.id.clone();
    let assessed = client.assess_claim(pb::AssessClaimRequest { claim_id: id.clone() }).await.unwrap().into_inner();
    assert_eq!(assessed.claim.unwrap().status(), pb::ClaimStatus::Assessed);
    client
        .decide_claim(pb::DecideClaimRequest { claim_id: id.clone(), approve: true, rejection_reason: String::new() })
        .await
        .unwrap();
    let paid = client
        .pay_claim(pb::PayClaimRequest {
            claim_id: id.clone(),
            reference: format!("PAY-{id}"),
            paid_on: "2026-01-05".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(paid.status(), pb::ClaimStatus::Paid);
    paid
}

fn lines(claim: &pb::Claim) -> Vec<(String, String, String)> {
    claim
        .breakdown
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .map(|l| (l.rule.clone(), l.item.clone(), l.amount.as_ref().unwrap().amount.clone()))
        .collect()
}

fn total(claim: &pb::Claim) -> String {
    claim.breakdown.as_ref().unwrap().total.as_ref().unwrap().amount.clone()
}

fn line(rule: &str, item: &str, amount: &str) -> (String, String, String) {
    (rule.into(), item.into(), amount.into())
}

#[tokio::test]
async fn the_kota_bogor_deaths_pay_10_million_under_3_paid_months_and_42_million_from_4() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..3, "2025-09", "2025-12").await;
    for month in ["2025-09", "2025-10", "2025-11", "2025-12"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "100800", "2025-10-10").await; // September and October for all three

    // Two workers die in their second paid month.
    for n in [0, 1] {
        let claim = settle(&app, death(n, "2025-10-20", vec![])).await;
        assert_eq!(lines(&claim), vec![line("R2.2", "DEATH_BENEFIT", "10000000")]);
        assert_eq!((total(&claim), claim.breakdown.unwrap().contribution_months), ("10000000".into(), 2));
    }
    // Their November and December lines were refunded, so the rest of the cohort pays 16,800 a month.
    let bills = contributions(&app, &app.keys.bogor)
        .await
        .list_bills(pb::ListBillsRequest { subsidy_id: subsidy.clone() })
        .await
        .unwrap()
        .into_inner()
        .bills;
    let billed: Vec<&str> = bills.iter().map(|b| b.billed.as_ref().unwrap().amount.as_str()).collect();
    assert_eq!(billed, ["50400", "50400", "16800", "16800"]);
    pay(&app, &subsidy, "33600", "2025-12-10").await;

    // The third has 4 paid months when she dies in December: the full benefit in its three parts.
    let claim = settle(&app, death(2, "2025-12-20", vec![])).await;
    assert_eq!(
        lines(&claim),
        vec![
            line("R2.1", "LUMP_SUM", "20000000"),
            line("R2.1", "PERIODIC", "12000000"),
            line("R2.1", "FUNERAL", "10000000")
        ]
    );
    assert_eq!((total(&claim), claim.breakdown.unwrap().contribution_months), ("42000000".into(), 4));
    app.stop().await;
}

#[tokio::test]
async fn thirty_six_paid_months_add_a_scholarship_for_each_of_two_children() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2023-01", "2026-12").await;
    let mut month = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    for _ in 0..36 {
        issue(&app, &subsidy, &month.format("%Y-%m").to_string()).await;
        month = month.checked_add_months(chrono::Months::new(1)).unwrap();
    }
    pay(&app, &subsidy, "604800", "2023-01-10").await; // 36 months prepaid (R1.5)
    let children = vec![
        pb::Child { birth_date: "2020-12-01".into(), level: pb::EducationLevel::PreschoolPrimary as i32 },
        pb::Child { birth_date: "2009-06-01".into(), level: pb::EducationLevel::SeniorSecondary as i32 },
    ];
    let claim = settle(&app, death(0, "2025-12-20", children)).await;
    let breakdown = claim.breakdown.clone().unwrap();
    assert_eq!(breakdown.contribution_months, 36);
    let scholarship: Vec<_> = lines(&claim).into_iter().filter(|l| l.1 == "SCHOLARSHIP").collect();
    assert_eq!(scholarship, vec![line("R2.4", "SCHOLARSHIP", "85500000"), line("R2.4", "SCHOLARSHIP", "66000000")]);
    assert_eq!(total(&claim), "193500000");
    // The schedule of R2.4, year by year: the 5-year-old from pre-school to university, the 16-year-old from her
    // second year of senior secondary school, both stopping at 23.
    let years = |child: usize| -> Vec<(u32, String)> {
        breakdown.scholarships[child].years.iter().map(|y| (y.age, y.amount.as_ref().unwrap().amount.clone())).collect()
    };
    let younger: Vec<(u32, String)> = (5..=22)
        .map(|age| {
            let amount = match age {
                5..=11 => "1500000",
                12..=14 => "2000000",
                15..=17 => "3000000",
                _ => "12000000",
            };
            (age, amount.to_owned())
        })
        .collect();
    assert_eq!(years(0), younger);
    let older: Vec<(u32, String)> =
        (16..=22).map(|age| (age, if age < 18 { "3000000" } else { "12000000" }.to_owned())).collect();
    assert_eq!(years(1), older);
    app.stop().await;
}

#[tokio::test]
async fn a_work_accident_death_at_the_1_million_tier_pays_70_million_plus_scholarship() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2025-09", "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "16800", "2025-09-10").await;
    let request = pb::FileClaimRequest {
        event: Some(pb::Event {
            kind: pb::ClaimEvent::AccidentDeath as i32,
            date: "2025-09-20".into(),
            children: vec![pb::Child {
                birth_date: "2012-03-01".into(),
                level: pb::EducationLevel::JuniorSecondary as i32,
            }],
            accident_costs: None,
        }),
        notice: Some(pb::AccidentNotice {
            place: "Pasar Bogor, Jl. Suryakencana".into(),
            cause: "fell from scaffolding".into(),
            occurred_at: Some(prost_types::Timestamp { seconds: 1_758_340_800, nanos: 0 }), // 2025-09-20 11:00 WIB
            notifier_name: "Dinas Tenaga Kerja Kota Bogor".into(),
            notifier_phone: "0251-8321075".into(),
        }),
        ..death(0, "2025-09-20", vec![])
    };
    let claim = settle(&app, request).await;
    let without_scholarship: Vec<_> = lines(&claim).into_iter().filter(|l| l.1 != "SCHOLARSHIP").collect();
    assert_eq!(
        without_scholarship,
        vec![
            line("R3.5", "ACCIDENT_DEATH", "48000000"),
            line("R3.5", "FUNERAL", "10000000"),
            line("R3.5", "PERIODIC", "12000000")
        ]
    );
    // One paid month: no minimum contribution period for the scholarship of a work-accident death.
    let scholarship: Vec<_> = lines(&claim).into_iter().filter(|l| l.1 == "SCHOLARSHIP").collect();
    assert_eq!(scholarship.len(), 1);
    assert_ne!(scholarship[0].2, "0");
    app.stop().await;
}

#[tokio::test]
async fn a_reported_death_ends_the_enrollment_and_refunds_later_months_as_credit() {
    let app = TestApp::spawn().await;
    let (subsidy, ids) = active_cohort_between(&app, 0..2, "2025-09", "2025-12").await;
    for month in ["2025-09", "2025-10", "2025-11", "2025-12"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "134400", "2025-09-10").await; // four months for both, prepaid
    let report = pb::ReportDeathRequest {
        worker_nik: bogor_worker(0).nik,
        date_of_death: "2025-10-03".into(),
        certificate_number: "3271-KM-0001".into(),
    };
    let reported = app.workers(&app.keys.bogor).await.report_death(report.clone()).await.unwrap().into_inner();
    assert!(reported.recorded_now);
    assert_eq!(reported.changed_enrollment_ids, vec![ids[0].clone()]);
    let refunds: Vec<(&str, &str)> =
        reported.refunds.iter().map(|r| (r.month.as_str(), r.amount.as_ref().unwrap().amount.as_str())).collect();
    assert_eq!(refunds, [("2025-11", "16800"), ("2025-12", "16800")]);

    // The two months come back as credit; the enrollment ended after October, because she died.
    let listed = contributions(&app, &app.keys.bogor)
        .await
        .list_bills(pb::ListBillsRequest { subsidy_id: subsidy.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.credit.unwrap().amount, "33600");
    let ended = enrollments(&app, &app.keys.bogor)
        .await
        .get_enrollment(pb::GetEnrollmentRequest { enrollment_id: ids[0].clone() })
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    assert_eq!(
        (ended.status(), ended.end_reason(), ended.end_month.as_str()),
        (pb::EnrollmentStatus::Ended, pb::EndReason::Died, "2025-11")
    );
    let verdict = CoverageServiceClient::with_interceptor(app.channel().await, Bearer::new(&app.keys.insurer))
        .verify_coverage(pb::VerifyCoverageRequest {
            nik: bogor_worker(0).nik,
            date: "2025-10-20".into(),
            programme: pb::Programme::Jkm as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(verdict.reason(), pb::CoverageReason::Deceased);

    // The same report again changes nothing; another date is refused.
    let again = app.workers(&app.keys.bogor).await.report_death(report.clone()).await.unwrap().into_inner();
    assert!(!again.recorded_now && again.changed_enrollment_ids.is_empty() && again.refunds.is_empty());
    let other = pb::ReportDeathRequest { date_of_death: "2025-10-04".into(), ..report.clone() };
    let refused = app.workers(&app.keys.insurer).await.report_death(other).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(refused.get_error_details().error_info().unwrap().reason, "DEATH_ALREADY_REPORTED");
    // A government that does not fund her cannot report it.
    let stranger = app.workers(&app.keys.jakarta).await.report_death(report).await.unwrap_err();
    assert_eq!(stranger.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn a_funder_follows_its_workers_claims_without_the_heirs_personal_data() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2025-09", "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "16800", "2025-09-10").await;
    let children =
        vec![pb::Child { birth_date: "2015-01-01".into(), level: pb::EducationLevel::PreschoolPrimary as i32 }];
    let paid = settle(&app, death(0, "2025-09-20", children)).await;
    assert_eq!(paid.heirs.len(), 1, "the insurer sees the heirs");

    let seen = claims(&app, &app.keys.bogor)
        .await
        .get_claim(pb::GetClaimRequest { claim_id: paid.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!((seen.status(), total(&seen)), (pb::ClaimStatus::Paid, "10000000".to_owned()));
    let breakdown = seen.breakdown.clone().unwrap();
    assert!(seen.heirs.is_empty() && seen.children.is_empty() && breakdown.scholarships.is_empty());
    // The scholarship line (refused under 36 months) says nothing of the child to the funder.
    let about_children: Vec<&str> =
        breakdown.lines.iter().filter(|l| l.item == "SCHOLARSHIP").map(|l| l.explanation.as_str()).collect();
    assert!(!about_children.is_empty() && about_children.iter().all(|e| e.contains("withheld")), "{about_children:?}");
    let listed = claims(&app, &app.keys.bogor).await.list_claims(pb::ListClaimsRequest::default()).await.unwrap();
    assert_eq!(listed.into_inner().claims.len(), 1);

    // Jawa Barat does not fund her: no such claim in its view.
    let other = claims(&app, &app.keys.jabar)
        .await
        .get_claim(pb::GetClaimRequest { claim_id: paid.id.clone() })
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let listed = claims(&app, &app.keys.jabar).await.list_claims(pb::ListClaimsRequest::default()).await.unwrap();
    assert!(listed.into_inner().claims.is_empty());

    // Nothing of the heirs reaches the database in clear.
    let stored: Vec<u8> = sqlx::query_scalar("select particulars from claims").fetch_one(&app.pool).await.unwrap();
    assert!(!stored.windows(13).any(|w| w == b"0123456789012"));
    app.stop().await;
}

#[tokio::test]
async fn a_second_death_claim_or_a_second_payment_racing_from_two_clients_is_refused() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2025-09", "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "16800", "2025-09-10").await;

    let (mut a, mut b) = (claims(&app, &app.keys.insurer).await, claims(&app, &app.keys.insurer).await);
    let first = death(0, "2025-09-20", vec![]);
    let second = pb::FileClaimRequest { request_id: "claim-0-again".into(), ..first.clone() };
    let (x, y) = tokio::join!(a.file_claim(first), b.file_claim(second));
    let (filed, refused) = match (x, y) {
        (Ok(ok), Err(e)) | (Err(e), Ok(ok)) => (ok.into_inner().claim.unwrap(), e),
        other => panic!("exactly one filing must win: {other:?}"),
    };
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(refused.get_error_details().error_info().unwrap().reason, "DEATH_ALREADY_CLAIMED");

    let id = filed.id;
    a.assess_claim(pb::AssessClaimRequest { claim_id: id.clone() }).await.unwrap();
    a.decide_claim(pb::DecideClaimRequest { claim_id: id.clone(), approve: true, rejection_reason: String::new() })
        .await
        .unwrap();
    let pay = |reference: &str| pb::PayClaimRequest {
        claim_id: id.clone(),
        reference: reference.into(),
        paid_on: "2025-10-01".into(),
    };
    let (x, y) = tokio::join!(a.pay_claim(pay("PAY-A")), b.pay_claim(pay("PAY-B")));
    let refused = match (x, y) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("exactly one payment must win: {other:?}"),
    };
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(refused.get_error_details().error_info().unwrap().reason, "CLAIM_ALREADY_PAID");
    let payments: i64 = sqlx::query_scalar("select count(*) from claim_payments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(payments, 1);
    app.stop().await;
}

#[tokio::test]
async fn claims_are_checked_against_coverage_the_heir_order_and_the_jkk_time_limit() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..2, "2025-09", "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    issue(&app, &subsidy, "2025-10").await;
    pay(&app, &subsidy, "33600", "2025-09-10").await; // September only
    let mut client = claims(&app, &app.keys.insurer).await;

    // October unpaid: not covered on the day of death.
    let refused = client.file_claim(death(0, "2025-10-20", vec![])).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let info = refused.get_error_details().error_info().unwrap().clone();
    assert_eq!((info.reason.as_str(), info.metadata["coverage_reason"].as_str()), ("NOT_COVERED", "MONTH_UNPAID"));

    // A parent named beside a spouse is out of the order of R2.5.
    let parent = pb::Heir { relationship: pb::Relationship::Parent as i32, ..spouse() };
    let request = pb::FileClaimRequest { heirs: vec![spouse(), parent], ..death(1, "2025-09-20", vec![]) };
    let invalid = client.file_claim(request).await.unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let violations = invalid.get_error_details().bad_request().unwrap().field_violations.clone();
    assert_eq!((violations[0].field.as_str(), violations[0].reason.as_str()), ("heirs[1].relationship", "HEIR_ORDER"));

    // A work accident more than 5 years ago can no longer be claimed (R3.8).
    let notice = pb::FileAccidentNoticeRequest {
        request_id: "notice-1".into(),
        worker_nik: bogor_worker(1).nik,
        accident_date: "2020-01-10".into(),
        notice: Some(pb::AccidentNotice {
            place: "Jl. Pajajaran".into(),
            cause: "hit by a motorbike while delivering".into(),
            occurred_at: Some(prost_types::Timestamp { seconds: 1_578_625_200, nanos: 0 }),
            notifier_name: "Kelurahan Baranangsiang".into(),
            notifier_phone: "0812-1111-2222".into(),
        }),
        participant_number: String::new(),
    };
    let lapsed = claims(&app, &app.keys.bogor).await.file_accident_notice(notice.clone()).await.unwrap_err();
    assert_eq!(lapsed.get_error_details().error_info().unwrap().reason, "JKK_CLAIM_LAPSED");

    // A recent accident: the city gives notice, the insurer files the claim from it and assesses the costs.
    let mut recent = pb::FileAccidentNoticeRequest { accident_date: "2025-09-15".into(), ..notice.clone() };
    let stale = claims(&app, &app.keys.bogor).await.file_accident_notice(recent.clone()).await.unwrap_err();
    let violation = stale.get_error_details().bad_request().unwrap().field_violations[0].clone();
    assert_eq!((violation.field.as_str(), violation.reason.as_str()), ("notice.occurred_at", "DATE_MISMATCH"));
    recent.notice.as_mut().unwrap().occurred_at = Some(prost_types::Timestamp { seconds: 1_757_905_200, nanos: 0 });
    let noticed = claims(&app, &app.keys.bogor).await.file_accident_notice(recent).await.unwrap().into_inner();
    let notice_id = noticed.claim.unwrap().id;
    // The notice is personal data: sealed at rest, shown in clear to the caller.
    let stored: (String, String, String, String) = sqlx::query_as(
        "select accident_place, accident_cause, notifier_name, notifier_phone from claims where id = $1::uuid",
    )
    .bind(&notice_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    for (column, clear) in
        [(&stored.0, "Pajajaran"), (&stored.1, "motorbike"), (&stored.2, "Baranangsiang"), (&stored.3, "1111")]
    {
        assert!(column.starts_with("sealed:v2:") && !column.contains(clear), "{column}");
    }
    let shown = claims(&app, &app.keys.bogor)
        .await
        .get_claim(pb::GetClaimRequest { claim_id: notice_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap()
        .notice
        .unwrap();
    assert_eq!((shown.place.as_str(), shown.notifier_name.as_str()), ("Jl. Pajajaran", "Kelurahan Baranangsiang"));
    let costs = pb::AccidentCosts {
        medical: Some(pb::Rupiah { amount: "3250000".into() }),
        transport: vec![pb::TransportCost {
            mode: pb::Transport::Land as i32,
            amount: Some(pb::Rupiah { amount: "6000000".into() }),
        }],
        unable_from: "2025-09-16".into(),
        unable_to: "2025-09-25".into(),
        ..Default::default()
    };
    let filing = pb::FileClaimRequest {
        request_id: "claim-accident-1".into(),
        worker_nik: bogor_worker(1).nik,
        event: Some(pb::Event {
            kind: pb::ClaimEvent::Accident as i32,
            date: "2025-09-15".into(),
            children: vec![],
            accident_costs: Some(costs),
        }),
        notice_id: notice_id.clone(),
        ..Default::default()
    };
    let filed = client.file_claim(filing.clone()).await.unwrap().into_inner().claim.unwrap();
    assert_eq!((filed.id.as_str(), filed.status()), (notice_id.as_str(), pb::ClaimStatus::Filed));
    let resent = client.file_claim(filing).await.unwrap().into_inner().claim.unwrap();
    assert_eq!(resent.id, filed.id, "a resend answers the same claim");
    let assessed = client.assess_claim(pb::AssessClaimRequest { claim_id: notice_id }).await.unwrap().into_inner();
    let claim = assessed.claim.unwrap();
    assert_eq!(
        lines(&claim),
        vec![
            line("R3.1", "MEDICAL", "3250000"),
            line("R3.2", "TRANSPORT_LAND", "5000000"),
            line("R3.3", "TEMPORARY_INABILITY", "333333.33")
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn complete_jkm_claims_unpaid_after_3_working_days_are_listed_as_overdue() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..2, "2025-09", "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "33600", "2025-09-10").await;
    let mut client = claims(&app, &app.keys.insurer).await;
    let complete = client.file_claim(death(0, "2025-09-20", vec![])).await.unwrap().into_inner().claim.unwrap();
    let incomplete = pb::FileClaimRequest { documents: vec![1, 2, 3], ..death(1, "2025-09-21", vec![]) };
    let incomplete = client.file_claim(incomplete).await.unwrap().into_inner().claim.unwrap();
    assert!(incomplete.complete_time.is_none() && !incomplete.missing_documents.is_empty());

    // The first became complete ten days ago (moved back in the store: the clock cannot be).
    sqlx::query("update claims set complete_at = now() - interval '10 days' where id = $1::uuid")
        .bind(&complete.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let overdue = client
        .list_claims(pb::ListClaimsRequest { overdue_only: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .claims;
    assert_eq!(overdue.iter().map(|c| (c.id.as_str(), c.overdue)).collect::<Vec<_>>(), [(complete.id.as_str(), true)]);

    // The missing documents arrive: complete now, so not yet overdue.
    let added = client
        .add_claim_documents(pb::AddClaimDocumentsRequest {
            claim_id: incomplete.id.clone(),
            documents: all_documents(),
        })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert!(added.complete_time.is_some() && added.missing_documents.is_empty() && !added.overdue);
    app.stop().await;
}

#[tokio::test]
async fn estimate_benefit_answers_what_would_be_due_on_a_date() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2025-09", "2025-12").await;
    for month in ["2025-09", "2025-10", "2025-11"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "50400", "2025-09-10").await;
    let estimate = |date: &str| pb::EstimateBenefitRequest {
        worker_nik: bogor_worker(0).nik,
        participant_number: String::new(),
        event: Some(pb::Event { kind: pb::ClaimEvent::Death as i32, date: date.into(), ..Default::default() }),
    };
    // The city plans its budget: in October (2 paid months) Rp10,000,000, in November (3) Rp42,000,000.
    let mut city = claims(&app, &app.keys.bogor).await;
    let october = city.estimate_benefit(estimate("2025-10-20")).await.unwrap().into_inner();
    let november = city.estimate_benefit(estimate("2025-11-20")).await.unwrap().into_inner();
    let total = |r: &pb::EstimateBenefitResponse| r.breakdown.as_ref().unwrap().total.as_ref().unwrap().amount.clone();
    assert_eq!((total(&october), total(&november)), ("10000000".to_owned(), "42000000".to_owned()));
    // December is not billed yet: not covered, and why.
    let december = city.estimate_benefit(estimate("2025-12-20")).await.unwrap().into_inner();
    assert_eq!((december.covered, december.not_covered_reason.as_str()), (false, "MONTH_UNPAID"));
    // Nothing was recorded: an estimate is not a claim.
    let deaths: i64 = sqlx::query_scalar("select count(*) from deaths").fetch_one(&app.pool).await.unwrap();
    assert_eq!(deaths, 0);
    // Jakarta does not fund her.
    let other = claims(&app, &app.keys.jakarta).await.estimate_benefit(estimate("2025-10-20")).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn the_claim_life_cycle_refuses_skipped_steps_and_names_bad_fields() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2025-09", "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "16800", "2025-09-10").await;
    let mut client = claims(&app, &app.keys.insurer).await;

    // Every bad field is named at once.
    let bad = pb::FileClaimRequest {
        request_id: String::new(),
        worker_nik: "32710".into(),
        event: Some(pb::Event { kind: pb::ClaimEvent::Death as i32, date: "2025-02-30".into(), ..Default::default() }),
        heirs: vec![],
        ..Default::default()
    };
    let invalid = client.file_claim(bad).await.unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        invalid.get_error_details().bad_request().unwrap().field_violations.iter().map(|v| v.field.clone()).collect();
    for field in ["request_id", "worker_nik", "event.date", "heirs"] {
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
    }

    let filed = client.file_claim(death(0, "2025-09-20", vec![])).await.unwrap().into_inner().claim.unwrap();
    let again = client.file_claim(death(0, "2025-09-20", vec![])).await.unwrap().into_inner().claim.unwrap();
    assert_eq!(again.id, filed.id, "a resent filing answers the same claim");
    let approve = pb::DecideClaimRequest { claim_id: filed.id.clone(), approve: true, rejection_reason: String::new() };
    let early = client.decide_claim(approve).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "a claim is assessed before it is approved");
    assert_eq!(early.get_error_details().error_info().unwrap().reason, "CLAIM_STATUS");
    let pay_early = client
        .pay_claim(pb::PayClaimRequest {
            claim_id: filed.id.clone(),
            reference: "PAY-1".into(),
            paid_on: "2025-10-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(pay_early.code(), Code::FailedPrecondition);
    let no_reason =
        pb::DecideClaimRequest { claim_id: filed.id.clone(), approve: false, rejection_reason: String::new() };
    assert_eq!(client.decide_claim(no_reason).await.unwrap_err().code(), Code::InvalidArgument);
    let reject = pb::DecideClaimRequest {
        claim_id: filed.id.clone(),
        approve: false,
        rejection_reason: "DOCUMENTS_INVALID".into(),
    };
    let rejected = client.decide_claim(reject).await.unwrap().into_inner().claim.unwrap();
    assert_eq!(
        (rejected.status(), rejected.rejection_reason.as_str()),
        (pb::ClaimStatus::Rejected, "DOCUMENTS_INVALID")
    );
    // Rejected, the worker's death may be claimed again.
    let refiled = pb::FileClaimRequest { request_id: "claim-0-refiled".into(), ..death(0, "2025-09-20", vec![]) };
    assert_eq!(client.file_claim(refiled).await.unwrap().into_inner().claim.unwrap().status(), pb::ClaimStatus::Filed);
    // A city may not file claims.
    let city = claims(&app, &app.keys.bogor).await.file_claim(death(0, "2025-09-20", vec![])).await.unwrap_err();
    assert_eq!(city.code(), Code::PermissionDenied);
    app.stop().await;
}
