//! Reconciliation of a funder's own list against the store, and the monthly statement (R6.2).

use lindung::proto::v1::{
    self as pb, reconcile_request::Item as In, reconcile_response::Item as Out,
    reconcile_service_client::ReconcileServiceClient, submit_enrollments_response::Result as Row,
};
use tonic::Code;

use crate::{
    contributions::issue,
    coverage::pay,
    enrollments::{confirm_all_pending, create_subsidy_between, enrollments, register, submission, submit_all},
    helpers::{Authed, Bearer, TestApp, bogor_worker},
};

async fn reconciler(app: &TestApp, key: &str) -> ReconcileServiceClient<Authed> {
    ReconcileServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

fn list_row(nik: String, full_name: String, first_month: &str) -> pb::ReconcileRequest {
    pb::ReconcileRequest { item: Some(In::Row(pb::ListRow { nik, full_name, first_month: first_month.into() })) }
}

/// Streams the start and `rows`; answers the differences and the summary, or the call's status.
async fn reconcile(
    app: &TestApp,
    key: &str,
    subsidies: &[&str],
    month: &str,
    rows: Vec<pb::ReconcileRequest>,
) -> Result<(Vec<pb::Difference>, pb::ReconcileSummary), tonic::Status> {
    let start = pb::ReconcileRequest {
        item: Some(In::Start(pb::ReconcileStart {
            subsidy_ids: subsidies.iter().map(|s| s.to_string()).collect(),
            month: month.into(),
        })),
    };
    let messages: Vec<_> = std::iter::once(start).chain(rows).collect();
    let mut replies = reconciler(app, key).await.reconcile(tokio_stream::iter(messages)).await?.into_inner();
    let (mut differences, mut summary) = (Vec::new(), None);
    while let Some(reply) = replies.message().await? {
        match reply.item {
            Some(Out::Difference(d)) => {
                assert!(summary.is_none(), "a difference after the summary");
                differences.push(d);
            }
            Some(Out::Summary(s)) => summary = Some(s),
            None => panic!("an empty answer"),
        }
    }
    Ok((differences, summary.expect("the answer ends with a summary")))
}

fn ids(answers: Vec<pb::SubmitEnrollmentsResponse>) -> Vec<String> {
    answers
        .into_iter()
        .map(|a| match a.result {
            Some(Row::Enrollment(e)) => e.id,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn name(n: u32) -> String {
    bogor_worker(n).full_name
}

/// The city's cohort and the planted workers, by their `bogor_worker` numbers.
const CITY: std::ops::Range<u32> = 0..7_867;
const NOT_ON_LIST: std::ops::Range<u32> = 0..5;
const ENDED: std::ops::Range<u32> = 100..105;
const DECEASED: std::ops::Range<u32> = 200..205;
const PENDING: std::ops::Range<u32> = 7_867..7_872;
const REFUSED: std::ops::Range<u32> = 7_872..7_877;
const LAPSED: std::ops::Range<u32> = 7_877..7_882;
const OTHER: std::ops::Range<u32> = 7_882..7_887;
const NOT_ENROLLED: std::ops::Range<u32> = 7_887..7_890;
const NOT_REGISTERED: std::ops::Range<u32> = 9_000..9_005;

/// Acceptance: Kota Bogor's 7,894-row list with 50 planted differences of every class.
#[tokio::test]
async fn reconciling_the_citys_list_reports_exactly_the_50_planted_differences_and_the_counts() {
    use pb::DifferenceClass as C;
    let app = TestApp::spawn().await;
    register(&app, 0..NOT_ENROLLED.end).await;
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", 8_000, "600000000", "2025-09", "2025-12").await;
    // An earlier city programme whose July to September bills were never paid: its members lapsed in September.
    let pilot = create_subsidy_between(&app, &app.keys.bogor, "32.71", 10, "10000000", "2025-07", "2025-12").await;
    let province = create_subsidy_between(&app, &app.keys.jabar, "32", 10, "10000000", "2025-09", "2025-12").await;

    let cohort =
        ids(submit_all(&app, &app.keys.bogor, CITY.map(|n| submission(format!("c-{n}"), &city, n)).collect()).await);
    let pilot_rows = LAPSED
        .map(|n| pb::SubmitEnrollmentRequest {
            first_month: "2025-07".into(),
            ..submission(format!("p-{n}"), &pilot, n)
        })
        .collect();
    ids(submit_all(&app, &app.keys.bogor, pilot_rows).await);
    ids(submit_all(&app, &app.keys.jabar, OTHER.map(|n| submission(format!("j-{n}"), &province, n)).collect()).await);
    assert_eq!(confirm_all_pending(&app).await, CITY.len() + LAPSED.len() + OTHER.len());
    // Submitted after the insurer's round: five still pending, five refused.
    let later = PENDING.chain(REFUSED).map(|n| submission(format!("c-{n}"), &city, n)).collect();
    let later = ids(submit_all(&app, &app.keys.bogor, later).await);
    let mut insurer = enrollments(&app, &app.keys.insurer).await;
    for id in &later[PENDING.len()..] {
        let refusal = pb::RefuseEnrollmentRequest {
            enrollment_id: id.clone(),
            reason: pb::InsurerRefusal::Age as i32,
            detail: String::new(),
        };
        insurer.refuse_enrollment(refusal).await.unwrap();
    }
    let mut city_enrollments = enrollments(&app, &app.keys.bogor).await;
    for n in ENDED {
        let end = pb::EndEnrollmentRequest {
            enrollment_id: cohort[n as usize].clone(),
            end_month: "2025-09".into(),
            reason: pb::EndReason::MovedAway as i32,
        };
        city_enrollments.end_enrollment(end).await.unwrap();
    }
    let mut workers = app.workers(&app.keys.bogor).await;
    for n in DECEASED {
        let death = pb::ReportDeathRequest {
            worker_nik: bogor_worker(n).nik,
            date_of_death: "2025-09-10".into(),
            certificate_number: format!("3271-KM-{n:04}"),
        };
        workers.report_death(death).await.unwrap();
    }
    for month in ["2025-07", "2025-08", "2025-09"] {
        issue(&app, &pilot, month).await;
    }

    // The list: the cohort but five, two names and one first month that differ, and the planted rows spread
    // through it.
    let mut rows: Vec<pb::ReconcileRequest> = CITY
        .filter(|n| !NOT_ON_LIST.contains(n))
        .map(|n| match n {
            300 | 301 => list_row(bogor_worker(n).nik, "Siti Aminah".into(), "2025-09"),
            302 => list_row(bogor_worker(n).nik, name(n), "2025-10"),
            _ => list_row(bogor_worker(n).nik, name(n), "2025-09"),
        })
        .collect();
    let mut planted: Vec<pb::ReconcileRequest> = PENDING
        .chain(REFUSED)
        .chain(LAPSED)
        .chain(OTHER)
        .chain(NOT_ENROLLED)
        .chain(NOT_REGISTERED)
        .map(|n| list_row(bogor_worker(n).nik, String::new(), ""))
        .collect();
    planted.push(list_row("12345".into(), String::new(), ""));
    planted.push(list_row("32710145059000AB".into(), String::new(), ""));
    planted.push(list_row(bogor_worker(10).nik, name(10), ""));
    planted.push(list_row(bogor_worker(11).nik, String::new(), ""));
    for (i, row) in planted.into_iter().enumerate() {
        rows.insert(1 + (i * 251) % rows.len(), row);
    }
    // The repeats come after their first rows.
    let repeats: Vec<_> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(&r.item, Some(In::Row(row)) if row.nik == bogor_worker(10).nik || row.nik == bogor_worker(11).nik))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(repeats.len(), 4);
    assert_eq!(rows.len(), 7_894);

    let (differences, summary) = reconcile(&app, &app.keys.bogor, &[&city, &pilot], "2025-09", rows).await.unwrap();

    let mut expected: Vec<(String, C, bool, bool)> = Vec::new();
    let mut plant = |range: std::ops::Range<u32>, class: C| {
        expected.extend(range.map(|n| (bogor_worker(n).nik, class, false, false)));
    };
    plant(NOT_ON_LIST, C::NotOnList);
    plant(ENDED, C::Ended);
    plant(DECEASED, C::Deceased);
    plant(PENDING, C::Pending);
    plant(REFUSED, C::Refused);
    plant(LAPSED, C::Lapsed);
    plant(OTHER, C::FundedByOther);
    plant(NOT_ENROLLED, C::NotEnrolled);
    plant(NOT_REGISTERED, C::NotRegistered);
    expected.push(("12345".into(), C::InvalidRow, false, false));
    expected.push(("32710145059000AB".into(), C::InvalidRow, false, false));
    expected.push((bogor_worker(10).nik, C::DuplicateRow, false, false));
    expected.push((bogor_worker(11).nik, C::DuplicateRow, false, false));
    expected.push((bogor_worker(300).nik, C::Active, true, false));
    expected.push((bogor_worker(301).nik, C::Active, true, false));
    expected.push((bogor_worker(302).nik, C::Active, false, true));
    expected.sort();
    assert_eq!(expected.len(), 50);
    let mut got: Vec<(String, C, bool, bool)> = differences
        .iter()
        .filter(|d| d.class() != C::Active || d.name_mismatch || d.first_month_mismatch)
        .map(|d| (d.nik.clone(), d.class(), d.name_mismatch, d.first_month_mismatch))
        .collect();
    got.sort();
    assert_eq!(got, expected);

    // One answer per row, in list order, then the funded workers missing from it.
    assert_eq!(differences.len(), 7_894 + NOT_ON_LIST.len());
    let rows: Vec<u64> = differences.iter().map(|d| d.row).collect();
    assert_eq!(rows[..7_894], (1..=7_894).collect::<Vec<u64>>());
    assert!(rows[7_894..].iter().all(|r| *r == 0));

    let counts: Vec<(C, u64)> = summary.counts.iter().map(|c| (c.class(), c.count)).collect();
    assert_eq!(
        counts,
        [
            (C::Active, 7_852),
            (C::Pending, 5),
            (C::Refused, 5),
            (C::Ended, 5),
            (C::Lapsed, 5),
            (C::Deceased, 5),
            (C::NotOnList, 5),
            (C::FundedByOther, 5),
            (C::NotRegistered, 5),
            (C::NotEnrolled, 3),
            (C::InvalidRow, 2),
            (C::DuplicateRow, 2),
        ]
    );
    assert_eq!((summary.rows, summary.name_mismatches, summary.first_month_mismatches), (7_894, 2, 1));
    assert_eq!(summary.month, "2025-09");

    // What each class carries.
    for d in &differences {
        match d.class() {
            C::Refused => assert_eq!(d.rejection_reason(), pb::InsurerRefusal::Age),
            // The other government's kind, nothing else about it.
            C::FundedByOther => {
                assert_eq!(d.other_funder_kind(), pb::AgencyKind::Province);
                assert!(d.enrollment_id.is_empty() && d.subsidy_id.is_empty());
            }
            C::Lapsed => assert_eq!(d.subsidy_id, pilot),
            C::NotOnList => assert_eq!(
                (d.subsidy_id.as_str(), d.enrollment_status()),
                (city.as_str(), pb::EnrollmentStatus::Active)
            ),
            C::InvalidRow => {
                let fields: Vec<(&str, &str)> =
                    d.violations.iter().map(|v| (v.field.as_str(), v.reason.as_str())).collect();
                assert!(matches!(fields[..], [("nik", "NIK_LENGTH" | "NIK_NOT_DIGITS")]), "{fields:?}");
            }
            C::DuplicateRow => {
                let first = &differences[d.first_row as usize - 1];
                assert_eq!((first.nik.as_str(), first.class()), (d.nik.as_str(), C::Active));
                assert!(d.first_row < d.row);
            }
            // Confirmed, the September contribution not billed yet.
            C::Active => assert_eq!(d.not_covered_reason, "MONTH_UNPAID"),
            _ => {}
        }
    }

    // Every NIK looked up is audited: each valid row once, and the workers missing from the list.
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where method = '/lindung.v1.ReconcileService/Reconcile' and subject_hash is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 7_894 - 4 + 5);
    // Nothing of the list stays in the store.
    let staged: i64 = sqlx::query_scalar("select count(*) from reconcile_rows").fetch_one(&app.pool).await.unwrap();
    assert_eq!(staged, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_foreign_agency_cannot_reconcile_and_a_bad_start_or_row_is_answered_clearly() {
    let app = TestApp::spawn().await;
    register(&app, 0..3).await;
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", 10, "10000000", "2025-09", "2025-12").await;
    submit_all(&app, &app.keys.bogor, (0..3).map(|n| submission(format!("c-{n}"), &city, n)).collect()).await;
    let rows = || vec![list_row(bogor_worker(0).nik, String::new(), "")];

    // Another government's subsidy is not in its view; the insurer sees every subsidy.
    for key in [&app.keys.jakarta, &app.keys.kabupaten_bogor, &app.keys.jabar] {
        let refused = reconcile(&app, key, &[&city], "2025-09", rows()).await.unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    }
    let (differences, _) = reconcile(&app, &app.keys.insurer, &[&city], "2025-09", rows()).await.unwrap();
    assert_eq!(differences[0].class(), pb::DifferenceClass::Pending);

    // A bad start is the call's INVALID_ARGUMENT, naming the field.
    let bad = reconcile(&app, &app.keys.bogor, &["not-an-id"], "2025-9", rows()).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let fields: Vec<String> = tonic_types::StatusExt::get_details_bad_request(&bad)
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["start.subsidy_ids[0]", "start.month"]);

    // A bad row is answered in its place with every broken rule; the rows after it are answered as usual.
    let rows = vec![
        list_row("3271014505900001x".into(), "\u{0}".into(), "2025-13"),
        list_row(bogor_worker(1).nik, String::new(), ""),
    ];
    let (differences, summary) = reconcile(&app, &app.keys.bogor, &[&city], "2025-09", rows).await.unwrap();
    let bad = &differences[0];
    assert_eq!((bad.row, bad.class()), (1, pb::DifferenceClass::InvalidRow));
    let fields: Vec<&str> = bad.violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["nik", "full_name", "first_month"]);
    assert_eq!((differences[1].row, differences[1].class()), (2, pb::DifferenceClass::Pending));
    // Workers 0 and 2 are pending in the subsidy and missing from this list.
    assert_eq!(differences.len(), 4);
    assert_eq!(summary.rows, 2);
    app.stop().await;
}

async fn statement(
    app: &TestApp,
    key: &str,
    subsidy: &str,
    month: &str,
) -> Result<pb::GetMonthlyStatementResponse, tonic::Status> {
    reconciler(app, key)
        .await
        .get_monthly_statement(pb::GetMonthlyStatementRequest { subsidy_id: subsidy.into(), month: month.into() })
        .await
        .map(|r| r.into_inner())
}

fn amount(r: &Option<pb::Rupiah>) -> &str {
    r.as_ref().map(|r| r.amount.as_str()).unwrap_or("")
}

/// Acceptance: Kota Bogor's statement for September 2025 once all 7,894 are confirmed.
#[tokio::test]
async fn the_statement_for_kota_bogor_for_2025_09_shows_7894_active_and_rp132619200_billed() {
    let app = TestApp::spawn().await;
    register(&app, 0..7_894).await;
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", 7_894, "600000000", "2025-09", "2025-12").await;
    submit_all(&app, &app.keys.bogor, (0..7_894).map(|n| submission(format!("c-{n}"), &city, n)).collect()).await;
    assert_eq!(confirm_all_pending(&app).await, 7_894);
    issue(&app, &city, "2025-09").await;

    let reply = statement(&app, &app.keys.bogor, &city, "2025-09").await.unwrap();
    let s = reply.statement.unwrap();
    assert_eq!((s.active_participants, s.pending, s.billed_workers, s.bill_issued), (7_894, 0, 7_894, true));
    assert_eq!(
        (amount(&s.billed), amount(&s.paid), amount(&s.outstanding), amount(&s.written_off)),
        ("132619200", "0", "132619200", "0")
    );
    assert_eq!((s.lapsed, s.nearing_lapse, s.deaths, s.claims, s.claims_paid), (0, 0, 0, 0, 0));
    assert_eq!(s.unpaid_months, ["2025-09"]);
    assert!(reply.csv.contains("\nactive_participants,7894\n"), "{}", reply.csv);
    assert!(reply.csv.contains("\nbilled,132619200\n"), "{}", reply.csv);

    // Paid on time: nothing outstanding, paid through September.
    pay(&app, &city, "132619200", "2025-09-10").await;
    let s = statement(&app, &app.keys.insurer, &city, "2025-09").await.unwrap().statement.unwrap();
    assert_eq!((amount(&s.paid), amount(&s.outstanding), s.paid_through.as_str()), ("132619200", "0", "2025-09"));
    assert!(s.unpaid_months.is_empty());

    // Others' subsidies are not in a government's view; a month the subsidy does not fund is refused.
    let foreign = statement(&app, &app.keys.jakarta, &city, "2025-09").await.unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound);
    let outside = statement(&app, &app.keys.bogor, &city, "2026-01").await.unwrap_err();
    assert_eq!(outside.code(), Code::FailedPrecondition);
    app.stop().await;
}
