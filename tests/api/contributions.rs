//! Monthly bills and payments.

use lindung::proto::v1::{self as pb, contribution_service_client::ContributionServiceClient};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{Authed, Bearer, TestApp};

pub async fn contributions(app: &TestApp, key: &str) -> ContributionServiceClient<Authed> {
    ContributionServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

pub async fn issue(app: &TestApp, subsidy: &str, month: &str) -> pb::IssueBillResponse {
    contributions(app, &app.keys.insurer)
        .await
        .issue_bill(pb::IssueBillRequest { subsidy_id: subsidy.into(), month: month.into() })
        .await
        .unwrap()
        .into_inner()
}

fn amount(r: &Option<pb::Rupiah>) -> &str {
    r.as_ref().map(|r| r.amount.as_str()).unwrap_or("")
}

async fn pay(
    app: &TestApp,
    subsidy: &str,
    amount: &str,
    reference: &str,
) -> Result<pb::RecordPaymentResponse, tonic::Status> {
    contributions(app, &app.keys.bogor)
        .await
        .record_payment(pb::RecordPaymentRequest {
            subsidy_id: subsidy.into(),
            amount: Some(pb::Rupiah { amount: amount.into() }),
            paid_on: "2025-09-10".into(),
            reference: reference.into(),
        })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn a_bill_has_a_line_per_active_enrollment_and_a_reissue_only_adjusts() {
    let app = TestApp::spawn().await;
    let (subsidy, ids) = crate::enrollments::active_cohort(&app, 3).await;

    let first = issue(&app, &subsidy, "2025-09").await;
    let bill = first.bill.unwrap();
    assert_eq!(first.lines_added, 3);
    assert_eq!(
        (bill.workers, amount(&bill.jkk), amount(&bill.jkm), amount(&bill.billed)),
        (3, "30000", "20400", "50400")
    );
    assert_eq!(bill.state(), pb::BillState::Unpaid);

    let again = issue(&app, &subsidy, "2025-09").await;
    assert_eq!(again.lines_added, 0, "re-issuing with no change adds nothing");

    // One worker's funding ends before September: the re-issue adds one negative adjustment.
    crate::enrollments::enrollments(&app, &app.keys.bogor)
        .await
        .end_enrollment(pb::EndEnrollmentRequest {
            enrollment_id: ids[0].clone(),
            end_month: "2025-09".into(),
            reason: pb::EndReason::MovedAway as i32,
        })
        .await
        .unwrap();
    let adjusted = issue(&app, &subsidy, "2025-09").await;
    let bill = adjusted.bill.unwrap();
    assert_eq!(adjusted.lines_added, 1);
    assert_eq!((bill.workers, amount(&bill.billed), bill.adjustments), (2, "33600", 1));

    let outside = contributions(&app, &app.keys.insurer)
        .await
        .issue_bill(pb::IssueBillRequest { subsidy_id: subsidy.clone(), month: "2026-01".into() })
        .await
        .unwrap_err();
    assert_eq!(outside.get_details_error_info().unwrap().reason, "MONTH_OUTSIDE_SUBSIDY");
    app.stop().await;
}

#[tokio::test]
async fn payments_go_to_the_oldest_bills_and_the_rest_is_credit() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = crate::enrollments::active_cohort(&app, 2).await;
    issue(&app, &subsidy, "2025-09").await;
    issue(&app, &subsidy, "2025-10").await;

    let paid = pay(&app, &subsidy, "40000", "TRF-001").await.unwrap();
    assert_eq!(amount(&paid.credit), "0");
    let resent = pay(&app, &subsidy, "40000", "TRF-001").await.unwrap();
    assert_eq!(resent.payment_id, paid.payment_id, "a resent payment is recorded once");
    let reused = pay(&app, &subsidy, "1000", "TRF-001").await.unwrap_err();
    assert_eq!(reused.get_details_bad_request().unwrap().field_violations[0].reason, "REFERENCE_REUSED");

    let list = contributions(&app, &app.keys.bogor)
        .await
        .list_bills(pb::ListBillsRequest { subsidy_id: subsidy.clone() })
        .await
        .unwrap()
        .into_inner();
    let states: Vec<(String, pb::BillState, String, String)> = list
        .bills
        .iter()
        .map(|b| (b.month.clone(), b.state(), amount(&b.paid).to_owned(), amount(&b.outstanding).to_owned()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("2025-09".to_owned(), pb::BillState::Paid, "33600".to_owned(), "0".to_owned()),
            ("2025-10".to_owned(), pb::BillState::PartiallyPaid, "6400".to_owned(), "27200".to_owned()),
        ]
    );

    // Prepayment: more than every bill issued so far becomes credit.
    let paid = pay(&app, &subsidy, "60000", "TRF-002").await.unwrap();
    assert_eq!(amount(&paid.credit), "32800");

    let bad = pay(&app, &subsidy, "-5", "").await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        bad.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["amount", "reference"]);
    app.stop().await;
}

#[tokio::test]
async fn only_the_insurer_bills_and_only_the_funder_pays() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = crate::enrollments::active_cohort(&app, 1).await;
    let status = contributions(&app, &app.keys.bogor)
        .await
        .issue_bill(pb::IssueBillRequest { subsidy_id: subsidy.clone(), month: "2025-09".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = contributions(&app, &app.keys.jabar)
        .await
        .record_payment(pb::RecordPaymentRequest {
            subsidy_id: subsidy,
            amount: Some(pb::Rupiah { amount: "16800".into() }),
            paid_on: "2025-09-10".into(),
            reference: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "a province pays only its own subsidies");
    app.stop().await;
}
