//! Coverage month by month: bills, late payments, arrears, lapse, a new membership, backdating, and who learns what.

use lindung::proto::v1::{self as pb, coverage_service_client::CoverageServiceClient};
use tonic::Code;

use crate::{
    contributions::{contributions, issue},
    enrollments::{active_cohort_until, enrollments},
    helpers::{Authed, Bearer, TestApp, bogor_worker},
};

async fn coverage(app: &TestApp, key: &str) -> CoverageServiceClient<Authed> {
    CoverageServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

/// The city pays `amount` to `subsidy` on `paid_on` (one transfer per date and amount).
pub async fn pay(app: &TestApp, subsidy: &str, amount: &str, paid_on: &str) {
    contributions(app, &app.keys.bogor)
        .await
        .record_payment(pb::RecordPaymentRequest {
            subsidy_id: subsidy.into(),
            amount: Some(pb::Rupiah { amount: amount.into() }),
            paid_on: paid_on.into(),
            reference: format!("TRF-{paid_on}-{amount}"),
        })
        .await
        .unwrap();
}

/// (covered, reason, contribution months if the caller may see them) of worker 0 on `date`.
async fn verify(app: &TestApp, key: &str, date: &str) -> (bool, pb::CoverageReason, Option<u32>) {
    let reply = coverage(app, key)
        .await
        .verify_coverage(pb::VerifyCoverageRequest {
            nik: bogor_worker(0).nik,
            date: date.into(),
            programme: pb::Programme::Jkm as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (reply.covered, reply.reason(), reply.details.map(|d| d.contribution_months))
}

async fn arrears(app: &TestApp, subsidy: &str) -> pb::GetArrearsResponse {
    contributions(app, &app.keys.bogor)
        .await
        .get_arrears(pb::GetArrearsRequest { subsidy_id: subsidy.into(), worker_nik: String::new() })
        .await
        .unwrap()
        .into_inner()
}

/// The enrollment's status as the funder reads it, with the lapse date.
async fn status(app: &TestApp, id: &str) -> (pb::EnrollmentStatus, String) {
    let enrollment = enrollments(app, &app.keys.bogor)
        .await
        .get_enrollment(pb::GetEnrollmentRequest { enrollment_id: id.into() })
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    (enrollment.status(), enrollment.lapsed_on)
}

async fn listed(app: &TestApp, status: pb::EnrollmentStatus) -> Vec<String> {
    let request = pb::ListEnrollmentsRequest { status: status as i32, ..Default::default() };
    let reply = enrollments(app, &app.keys.bogor).await.list_enrollments(request).await.unwrap().into_inner();
    reply.enrollments.into_iter().map(|e| e.id).collect()
}

/// Each bill of `subsidy` with its state, checked against what `VerifyCoverage` answers for worker 0 on the 20th of
/// its month (after the due date): a paid bill is a covered month, a written-off bill a lapsed one, and a bill still
/// payable a month not covered.
async fn bills_agree_with_coverage(app: &TestApp, subsidy: &str) -> Vec<(String, pb::BillState)> {
    use pb::{BillState as B, CoverageReason::*};
    let bills = contributions(app, &app.keys.bogor)
        .await
        .list_bills(pb::ListBillsRequest { subsidy_id: subsidy.into() })
        .await
        .unwrap()
        .into_inner()
        .bills;
    let mut states = Vec::new();
    for bill in bills {
        let (covered, reason, _) = verify(app, &app.keys.bogor, &format!("{}-20", bill.month)).await;
        let agrees = match bill.state() {
            B::Paid => covered,
            B::WrittenOff => reason == Lapsed,
            B::Unpaid | B::PartiallyPaid => matches!(reason, MonthUnpaid | InArrearsWindow | Lapsed),
            B::Unspecified => false,
        };
        assert!(agrees, "bill {} is {:?} but coverage answers {reason:?}", bill.month, bill.state());
        let (billed, paid, outstanding) = (amount(&bill.billed), amount(&bill.paid), amount(&bill.outstanding));
        match bill.state() {
            B::Paid => assert_eq!((paid, outstanding), (billed, 0), "{}", bill.month),
            B::WrittenOff => assert_eq!(outstanding, 0, "{}: a written-off month is not owed", bill.month),
            _ => assert_eq!(paid + outstanding, billed, "{}", bill.month),
        }
        states.push((bill.month.clone(), bill.state()));
    }
    states
}

fn amount(r: &Option<pb::Rupiah>) -> u64 {
    r.as_ref().unwrap().amount.parse().unwrap()
}

fn months(states: &[(&str, pb::BillState)]) -> Vec<(String, pb::BillState)> {
    states.iter().map(|&(m, s)| (m.to_owned(), s)).collect()
}

#[tokio::test]
async fn bills_and_coverage_agree_on_the_months_a_lapse_wrote_off_and_the_payment_after_it() {
    use pb::{BillState::*, CoverageReason::*};
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 1, "2026-12").await;
    for month in ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"] {
        issue(&app, &subsidy, month).await;
    }
    for paid_on in ["2025-09-10", "2025-10-10", "2025-12-05", "2026-03-10"] {
        pay(&app, &subsidy, "16800", paid_on).await;
    }
    assert_eq!(verify(&app, &app.keys.bogor, "2025-12-20").await, (false, Lapsed, None));
    assert_eq!(verify(&app, &app.keys.bogor, "2026-03-20").await, (true, Covered, Some(1)));
    // The March payment paid March, not December: December to February were written off at the lapse of 16 February.
    assert_eq!(
        bills_agree_with_coverage(&app, &subsidy).await,
        months(&[
            ("2025-09", Paid),
            ("2025-10", Paid),
            ("2025-11", Paid),
            ("2025-12", WrittenOff),
            ("2026-01", WrittenOff),
            ("2026-02", WrittenOff),
            ("2026-03", Paid),
        ])
    );
    let listed = contributions(&app, &app.keys.bogor)
        .await
        .list_bills(pb::ListBillsRequest { subsidy_id: subsidy.clone() })
        .await
        .unwrap()
        .into_inner();
    let december = &listed.bills[3];
    assert_eq!((amount(&december.paid), amount(&december.outstanding)), (0, 0));
    assert_eq!(amount(&listed.credit), 0);
    app.stop().await;
}

#[tokio::test]
async fn coverage_follows_payments_month_by_month_through_arrears_lapse_and_a_new_membership() {
    use pb::{BillState, CoverageReason::*};
    let app = TestApp::spawn().await;
    let (subsidy, ids) = active_cohort_until(&app, 1, "2026-12").await;
    for month in ["2025-09", "2025-10", "2025-11"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "16800", "2025-09-10").await;
    pay(&app, &subsidy, "16800", "2025-10-10").await;
    assert_eq!(verify(&app, &app.keys.bogor, "2025-10-20").await, (true, Covered, Some(2)));
    assert_eq!(verify(&app, &app.keys.bogor, "2025-11-20").await, (false, MonthUnpaid, None));
    assert_eq!(
        bills_agree_with_coverage(&app, &subsidy).await,
        months(&[("2025-09", BillState::Paid), ("2025-10", BillState::Paid), ("2025-11", BillState::Unpaid)])
    );

    // November paid late, within the window: covered again, the contribution period unbroken.
    pay(&app, &subsidy, "16800", "2025-12-05").await;
    assert_eq!(verify(&app, &app.keys.bogor, "2025-11-20").await, (true, Covered, Some(3)));

    // December and January unpaid: the funder is warned.
    issue(&app, &subsidy, "2025-12").await;
    issue(&app, &subsidy, "2026-01").await;
    let warned = arrears(&app, &subsidy).await;
    assert_eq!((warned.unpaid_months, warned.warning), (vec!["2025-12".to_owned(), "2026-01".to_owned()], true));
    assert_eq!(verify(&app, &app.keys.bogor, "2026-01-20").await, (false, InArrearsWindow, None));
    let states = bills_agree_with_coverage(&app, &subsidy).await;
    assert_eq!(
        states[2..],
        months(&[("2025-11", BillState::Paid), ("2025-12", BillState::Unpaid), ("2026-01", BillState::Unpaid)])
    );

    // February unpaid too: on 16 February the membership lapsed.
    issue(&app, &subsidy, "2026-02").await;
    let lapsed = arrears(&app, &subsidy).await;
    assert_eq!(lapsed.lapses.len(), 1);
    assert_eq!((lapsed.lapses[0].lapsed_on.as_str(), lapsed.lapses[0].month.as_str()), ("2026-02-16", "2026-02"));
    assert_eq!(verify(&app, &app.keys.bogor, "2026-02-20").await, (false, Lapsed, None));
    assert_eq!(status(&app, &ids[0]).await, (pb::EnrollmentStatus::Lapsed, "2026-02-16".to_owned()));
    assert_eq!(listed(&app, pb::EnrollmentStatus::Lapsed).await, ids);
    assert!(listed(&app, pb::EnrollmentStatus::Active).await.is_empty());
    let states = bills_agree_with_coverage(&app, &subsidy).await;
    assert_eq!(
        states[3..],
        months(&[
            ("2025-12", BillState::WrittenOff),
            ("2026-01", BillState::WrittenOff),
            ("2026-02", BillState::WrittenOff)
        ])
    );

    // A March payment starts a new membership: contribution period 1, so the lower death benefit.
    issue(&app, &subsidy, "2026-03").await;
    pay(&app, &subsidy, "16800", "2026-03-10").await;
    assert_eq!(verify(&app, &app.keys.bogor, "2026-03-20").await, (true, Covered, Some(1)));
    assert_eq!(status(&app, &ids[0]).await, (pb::EnrollmentStatus::Active, String::new()));
    assert_eq!(listed(&app, pb::EnrollmentStatus::Active).await, ids);
    let reply = coverage(&app, &app.keys.insurer)
        .await
        .verify_coverage(pb::VerifyCoverageRequest {
            participant_number: format!("{}", 10_000_000_000u64 + bogor_worker(0).nik[6..].parse::<u64>().unwrap()),
            date: "2026-03-20".into(),
            programme: pb::Programme::Jkm as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.details.unwrap().death_benefit.unwrap().amount, "10000000");
    assert_eq!(bills_agree_with_coverage(&app, &subsidy).await[6], ("2026-03".to_owned(), BillState::Paid));
    app.stop().await;
}

#[tokio::test]
async fn a_backdated_lapse_keeps_the_membership_when_the_arrears_are_paid() {
    use pb::{BillState::*, CoverageReason::*};
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 1, "2026-12").await;
    for month in ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "50400", "2025-11-10").await; // September to November
    assert_eq!(arrears(&app, &subsidy).await.lapses.len(), 1, "December to February lapsed");
    let states = bills_agree_with_coverage(&app, &subsidy).await;
    assert_eq!(
        states[3..],
        months(&[("2025-12", WrittenOff), ("2026-01", WrittenOff), ("2026-02", WrittenOff), ("2026-03", Unpaid)])
    );

    let corrected = contributions(&app, &app.keys.insurer)
        .await
        .record_backdate(pb::RecordBackdateRequest { subsidy_id: subsidy.clone(), month: "2026-02".into() })
        .await
        .unwrap()
        .into_inner()
        .arrears
        .unwrap();
    assert!(corrected.lapses.is_empty() || corrected.lapses[0].month != "2026-02");
    // December to March paid on 10 March: continuous from September.
    pay(&app, &subsidy, "67200", "2026-03-10").await;
    assert_eq!(verify(&app, &app.keys.bogor, "2026-03-20").await, (true, Covered, Some(7)));
    let states = bills_agree_with_coverage(&app, &subsidy).await;
    assert!(
        states.iter().all(|(_, state)| *state == Paid),
        "the backdate made the written-off months payable: {states:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_government_that_does_not_fund_the_worker_learns_only_covered_or_not() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 1, "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "16800", "2025-09-10").await;
    // The funder and the insurer see the details; Jawa Barat and Jakarta, which do not fund her, only the answer.
    for (key, details) in
        [(&app.keys.bogor, true), (&app.keys.insurer, true), (&app.keys.jabar, false), (&app.keys.jakarta, false)]
    {
        let (covered, reason, months) = verify(&app, key, "2025-09-20").await;
        assert_eq!((covered, reason, months.is_some()), (true, pb::CoverageReason::Covered, details));
    }
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where method = '/lindung.v1.CoverageService/VerifyCoverage' and subject_hash is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 4, "every lookup is audited");
    assert_eq!(bills_agree_with_coverage(&app, &subsidy).await, months(&[("2025-09", pb::BillState::Paid)]));
    app.stop().await;
}

#[tokio::test]
async fn coverage_is_checked_over_a_stream_in_order() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 3, "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "50400", "2025-09-10").await;
    let mut requests: Vec<pb::VerifyCoverageRequest> = (0..3)
        .flat_map(|n| {
            ["2025-09-20", "2025-10-20"].map(|date| pb::VerifyCoverageRequest {
                nik: bogor_worker(n).nik,
                date: date.into(),
                programme: pb::Programme::Jkk as i32,
                client_ref: format!("{n}/{date}"),
                ..Default::default()
            })
        })
        .collect();
    requests.push(pb::VerifyCoverageRequest { nik: "123".into(), client_ref: "bad".into(), ..Default::default() });
    let mut replies = coverage(&app, &app.keys.insurer)
        .await
        .verify_coverage_stream(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut answers = Vec::new();
    let mut refused = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        answers.push((reply.client_ref.clone(), reply.covered, reply.reason(), !reply.error.is_empty()));
        refused.extend(reply.error_status);
    }
    assert_eq!(answers.len(), 7);
    // The refused row carries the unary call's status: INVALID_ARGUMENT naming the field and the rule.
    let [status] = &refused[..] else { panic!("one refused row: {refused:?}") };
    assert_eq!(status.code, tonic::Code::InvalidArgument as i32);
    let bad = status.details.iter().find(|d| d.type_url.ends_with("google.rpc.BadRequest")).expect("a BadRequest");
    let bad = <tonic_types::pb::BadRequest as prost::Message>::decode(&bad.value[..]).unwrap();
    assert!(bad.field_violations.iter().any(|v| v.field == "nik" && v.reason == "NIK_LENGTH"), "{bad:?}");
    for (i, (client_ref, covered, reason, error)) in answers.iter().take(6).enumerate() {
        assert_eq!(client_ref, &format!("{}/{}", i / 2, if i % 2 == 0 { "2025-09-20" } else { "2025-10-20" }));
        assert_eq!(*covered, i % 2 == 0, "{client_ref}");
        assert_eq!(*reason, if i % 2 == 0 { pb::CoverageReason::Covered } else { pb::CoverageReason::MonthUnpaid });
        assert!(!error);
    }
    assert_eq!(answers[6].0, "bad");
    assert!(answers[6].3, "an invalid row is answered in its place");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log
         where method = '/lindung.v1.CoverageService/VerifyCoverageStream' and subject_hash is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 6, "every lookup of a person is audited, batch by batch");

    let status = coverage(&app, &app.keys.insurer)
        .await
        .verify_coverage(pb::VerifyCoverageRequest { nik: "123".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bills_agree_with_coverage(&app, &subsidy).await, months(&[("2025-09", pb::BillState::Paid)]));
    app.stop().await;
}

/// A VerifyCoverage call about worker `n` with the request id `request_id`.
async fn verify_as(
    mut client: CoverageServiceClient<Authed>,
    n: u32,
    request_id: String,
) -> Result<pb::VerifyCoverageResponse, tonic::Status> {
    let mut request = tonic::Request::new(pb::VerifyCoverageRequest {
        nik: bogor_worker(n).nik,
        date: "2025-09-20".into(),
        programme: pb::Programme::Jkm as i32,
        ..Default::default()
    });
    request.metadata_mut().insert("x-request-id", request_id.parse().unwrap());
    client.verify_coverage(request).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn many_concurrent_coverage_checks_are_all_answered_and_each_has_its_audit_record() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 8, "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "134400", "2025-09-10").await;
    // Over one connection, as a front office's system would call.
    let client = coverage(&app, &app.keys.insurer).await;
    let calls = 200u32;
    let replies =
        futures::future::join_all((0..calls).map(|i| verify_as(client.clone(), i % 8, format!("concurrent-{i}"))))
            .await;
    for reply in &replies {
        assert!(reply.as_ref().is_ok_and(|r| r.covered), "{reply:?}");
    }
    // Each call's record names the worker it looked up, under its own request id: none lost, none merged.
    let records: Vec<(String, Vec<u8>, i64)> = sqlx::query_as(
        "select request_id, subject_hash, xmin::text::bigint from audit_log
         where method = '/lindung.v1.CoverageService/VerifyCoverage' and outcome = 'OK' order by request_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(records.len(), calls as usize);
    let subjects: std::collections::HashMap<u32, Vec<u8>> =
        (0..8).map(|n| (n, subject(&bogor_worker(n).nik))).collect();
    for i in 0..calls {
        let id = format!("concurrent-{i}");
        let mine: Vec<_> = records.iter().filter(|r| r.0 == id).collect();
        assert_eq!(mine.len(), 1, "one record for {id}");
        assert_eq!(mine[0].1, subjects[&(i % 8)], "{id} names the worker it asked about");
    }
    let commits: std::collections::HashSet<i64> = records.iter().map(|r| r.2).collect();
    eprintln!("{calls} concurrent reads audited in {} commits", commits.len());
    app.stop().await;
}

#[tokio::test]
async fn a_read_whose_audit_record_cannot_be_written_is_not_answered() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 1, "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "16800", "2025-09-10").await;
    let client = coverage(&app, &app.keys.insurer).await;
    assert!(verify_as(client.clone(), 0, "before".into()).await.unwrap().covered);

    // The store refuses the record of one read (its request id), as it would any record it cannot take.
    sqlx::query("alter table audit_log add constraint test_refuses_lost check (request_id <> 'lost') not valid")
        .execute(&app.pool)
        .await
        .unwrap();
    // Asked beside other reads, whose records may share its commit: only it is refused.
    let ids = std::iter::once("lost".to_owned()).chain((0..20).map(|i| format!("beside-{i}")));
    let mut replies = futures::future::join_all(ids.map(|id| verify_as(client.clone(), 0, id))).await.into_iter();
    let refused = replies.next().unwrap().expect_err("no audit record, no answer");
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    assert!(replies.all(|reply| reply.is_ok_and(|r| r.covered)), "the reads beside it are answered");

    assert!(verify_as(client, 0, "after".into()).await.unwrap().covered);
    let audited: Vec<(String, String)> = sqlx::query_as(
        "select request_id, outcome from audit_log where method = '/lindung.v1.CoverageService/VerifyCoverage'
         and request_id not like 'beside-%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let audited: Vec<(&str, &str)> = audited.iter().map(|(r, o)| (r.as_str(), o.as_str())).collect();
    // The refused read left no record (nor could its refusal's be written: that is logged).
    assert_eq!(audited, [("before", "OK"), ("after", "OK")]);
    app.stop().await;
}

/// The audit log's subject of `nik` under the test servers' pseudonym key.
fn subject(nik: &str) -> Vec<u8> {
    lindung::audit::Pseudonymizer::new([7; 32]).subject(&lindung::nik::Nik::parse(nik).unwrap()).0.to_vec()
}
