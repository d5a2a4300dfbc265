//! The registry of workers over the wire: validation, idempotent upserts, the streaming upsert, reads and lists.

use std::collections::HashSet;

use lindung::proto::v1::{self as pb, upsert_workers_response::Result as RowResult};
use tonic::Code;
use tonic_types::{RpcStatusExt, StatusExt};

use crate::helpers::{TestApp, bogor_worker};

fn upsert(worker: pb::Worker) -> pb::UpsertWorkerRequest {
    pb::UpsertWorkerRequest { worker: Some(worker) }
}

/// The (field, reason) pairs of an INVALID_ARGUMENT answer.
fn violations(status: &tonic::Status) -> Vec<(String, String)> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad_request = status.get_details_bad_request().expect("a google.rpc.BadRequest");
    bad_request.field_violations.into_iter().map(|v| (v.field, v.reason)).collect()
}

#[tokio::test]
async fn a_new_worker_is_created_then_an_identical_resend_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut client = app.workers(&app.keys.bogor).await;
    let worker = bogor_worker(1);

    let first = client.upsert_worker(upsert(worker.clone())).await.unwrap().into_inner();
    assert_eq!(first.outcome(), pb::UpsertOutcome::Created);
    let stored = first.worker.unwrap();
    assert_eq!(stored.phone, "+6281234567890", "phones are stored in E.164");
    assert!(stored.warnings.is_empty(), "{:?}", stored.warnings);

    let second = client.upsert_worker(upsert(worker.clone())).await.unwrap().into_inner();
    assert_eq!(second.outcome(), pb::UpsertOutcome::Unchanged);
    assert_eq!(second.worker.unwrap().record, stored.record, "provenance untouched by an identical resend");

    let moved = pb::Worker { domicile_village_code: "32.71.01.1002".into(), ..worker };
    let third = client.upsert_worker(upsert(moved)).await.unwrap().into_inner();
    assert_eq!(third.outcome(), pb::UpsertOutcome::Updated);
    assert_eq!(third.worker.unwrap().domicile_village_code, "32.71.01.1002");
    app.stop().await;
}

#[tokio::test]
async fn every_validation_rule_names_its_field_and_reason() {
    let app = TestApp::spawn().await;
    let mut client = app.workers(&app.keys.bogor).await;
    let base = bogor_worker(1);
    let cases: Vec<(pb::Worker, &str, &str)> = vec![
        (pb::Worker { nik: "327101550590000".into(), ..base.clone() }, "worker.nik", "NIK_LENGTH"),
        (pb::Worker { nik: "32710155059O0001".into(), ..base.clone() }, "worker.nik", "NIK_NOT_DIGITS"),
        (pb::Worker { nik: "3270015505900001".into(), ..base.clone() }, "worker.nik", "NIK_REGENCY"),
        (pb::Worker { nik: "3271013505900001".into(), ..base.clone() }, "worker.nik", "NIK_BIRTH_DAY"),
        (pb::Worker { nik: "3271015513900001".into(), ..base.clone() }, "worker.nik", "NIK_BIRTH_MONTH"),
        (pb::Worker { nik: "3271017002900001".into(), ..base.clone() }, "worker.nik", "NIK_BIRTH_DATE"),
        (pb::Worker { nik: "3271015505900000".into(), ..base.clone() }, "worker.nik", "NIK_SERIAL"),
        (pb::Worker { full_name: "  ".into(), ..base.clone() }, "worker.full_name", "REQUIRED"),
        (pb::Worker { birth_date: "15-05-1990".into(), ..base.clone() }, "worker.birth_date", "DATE_FORMAT"),
        (pb::Worker { birth_date: "2999-01-01".into(), ..base.clone() }, "worker.birth_date", "DATE_IN_FUTURE"),
        (pb::Worker { sex: 0, ..base.clone() }, "worker.sex", "REQUIRED"),
        (
            pb::Worker { domicile_village_code: "32.71.01".into(), ..base.clone() },
            "worker.domicile_village_code",
            "AREA_CODE_LEVEL",
        ),
        (
            pb::Worker { domicile_village_code: "32.71.01.9999".into(), ..base.clone() },
            "worker.domicile_village_code",
            "AREA_UNKNOWN",
        ),
        (pb::Worker { occupation: 0, ..base.clone() }, "worker.occupation", "REQUIRED"),
        (
            pb::Worker { occupation: pb::Occupation::Other as i32, ..base.clone() },
            "worker.occupation_detail",
            "OCCUPATION_DETAIL_REQUIRED",
        ),
        (pb::Worker { welfare: None, ..base.clone() }, "worker.welfare.decile", "DECILE_RANGE"),
        (
            pb::Worker { welfare: Some(pb::Welfare { decile: 11, ..base.welfare.clone().unwrap() }), ..base.clone() },
            "worker.welfare.decile",
            "DECILE_RANGE",
        ),
        (
            pb::Worker {
                welfare: Some(pb::Welfare { as_of_quarter: "2025-Q5".into(), ..base.welfare.clone().unwrap() }),
                ..base.clone()
            },
            "worker.welfare.as_of_quarter",
            "QUARTER_FORMAT",
        ),
        (
            pb::Worker {
                welfare: Some(pb::Welfare { as_of_quarter: "2999-Q1".into(), ..base.welfare.clone().unwrap() }),
                ..base.clone()
            },
            "worker.welfare.as_of_quarter",
            "QUARTER_IN_FUTURE",
        ),
        (pb::Worker { phone: "12345".into(), ..base.clone() }, "worker.phone", "PHONE_FORMAT"),
        (
            pb::Worker { date_of_death: "1980-01-01".into(), ..base.clone() },
            "worker.date_of_death",
            "DEATH_BEFORE_BIRTH",
        ),
    ];
    for (worker, field, reason) in cases {
        let status = client.upsert_worker(upsert(worker)).await.unwrap_err();
        let found = violations(&status);
        assert!(
            found.iter().any(|(f, r)| f == field && r == reason),
            "expected {field} {reason}, got {found:?} ({})",
            status.message()
        );
    }
    let count: i64 = sqlx::query_scalar("select count(*) from workers").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0, "nothing invalid is stored");
    app.stop().await;
}

#[tokio::test]
async fn all_violations_of_a_worker_are_reported_at_once_with_a_readable_message() {
    let app = TestApp::spawn().await;
    let worker = pb::Worker {
        nik: "3271013505900001".into(),
        full_name: String::new(),
        domicile_village_code: "32.71.01.9999".into(),
        ..bogor_worker(1)
    };
    let status = app.workers(&app.keys.bogor).await.upsert_worker(upsert(worker)).await.unwrap_err();
    let fields: HashSet<String> = violations(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        HashSet::from(["worker.nik".into(), "worker.full_name".into(), "worker.domicile_village_code".into()])
    );
    assert!(
        status.message().contains("day of birth 35 is not valid (01–31, or 41–71 for women)"),
        "{}",
        status.message()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_nik_that_disagrees_with_the_stated_data_is_flagged_not_rejected() {
    let app = TestApp::spawn().await;
    let worker = pb::Worker { birth_date: "1991-05-15".into(), sex: pb::Sex::Male as i32, ..bogor_worker(1) };
    let reply = app.workers(&app.keys.bogor).await.upsert_worker(upsert(worker)).await.unwrap().into_inner();
    let codes: HashSet<String> = reply.worker.unwrap().warnings.into_iter().map(|w| w.code).collect();
    assert_eq!(codes, HashSet::from(["NIK_BIRTH_DATE_MISMATCH".into(), "NIK_SEX_MISMATCH".into()]));
    app.stop().await;
}

#[tokio::test]
async fn a_nik_issued_in_an_unknown_district_is_a_warning() {
    let app = TestApp::spawn().await;
    // District 99 of Kota Bogor does not exist (old codes survive splits, R5.4): stored, with a warning.
    let mut worker = bogor_worker(1);
    worker.nik.replace_range(4..6, "99");
    let reply = app.workers(&app.keys.bogor).await.upsert_worker(upsert(worker)).await.unwrap().into_inner();
    assert_eq!(reply.outcome(), pb::UpsertOutcome::Created);
    let codes: Vec<String> = reply.worker.unwrap().warnings.into_iter().map(|w| w.code).collect();
    assert_eq!(codes, vec!["NIK_PREFIX_UNKNOWN".to_owned()]);
    app.stop().await;
}

#[tokio::test]
async fn a_city_cannot_take_over_a_worker_registered_in_another_area() {
    let app = TestApp::spawn().await;
    let worker = bogor_worker(1);
    app.workers(&app.keys.bogor).await.upsert_worker(upsert(worker.clone())).await.unwrap();
    let moved = pb::Worker { domicile_village_code: "32.01.01.1001".into(), ..worker.clone() };
    let status = app.workers(&app.keys.kabupaten_bogor).await.upsert_worker(upsert(moved.clone())).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.get_details_error_info().unwrap().reason, "WORKER_REGISTERED_ELSEWHERE");
    // The province governs both and records the move.
    let reply = app.workers(&app.keys.jabar).await.upsert_worker(upsert(moved)).await.unwrap().into_inner();
    assert_eq!(reply.outcome(), pb::UpsertOutcome::Updated);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_of_mixed_rows_answers_each_row_in_order_and_stores_only_the_valid_ones() {
    let app = TestApp::spawn().await;
    let mut rows = Vec::new();
    for n in 0..10u32 {
        let mut worker = bogor_worker(n);
        if n % 3 == 1 {
            worker.nik = "123".into();
        }
        if n == 5 {
            worker.domicile_village_code = "31.71.01.1001".into(); // Jakarta: outside Kota Bogor
        }
        rows.push(pb::UpsertWorkersRequest { worker: Some(worker), client_ref: format!("row-{n}") });
    }
    let mut replies =
        app.workers(&app.keys.bogor).await.upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
    let mut answers = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        answers.push(reply);
    }
    assert_eq!(answers.len(), 10);
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer.index, n as u64);
        assert_eq!(answer.client_ref, format!("row-{n}"));
        match (n % 3 == 1, n == 5, &answer.result) {
            (true, _, Some(RowResult::Error(status))) => {
                assert_eq!(status.code, Code::InvalidArgument as i32);
                let bad = status.get_details_bad_request().unwrap();
                assert_eq!(bad.field_violations[0].field, "worker.nik");
                assert_eq!(bad.field_violations[0].reason, "NIK_LENGTH");
            }
            (false, true, Some(RowResult::Error(status))) => assert_eq!(status.code, Code::PermissionDenied as i32),
            (false, false, Some(RowResult::Outcome(o))) => assert_eq!(*o, pb::UpsertOutcome::Created as i32),
            other => panic!("row {n}: unexpected {other:?}"),
        }
    }
    let count: i64 = sqlx::query_scalar("select count(*) from workers").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 6);
    app.stop().await;
}

#[tokio::test]
async fn the_same_nik_twice_in_one_stream_is_stored_in_order() {
    let app = TestApp::spawn().await;
    let first = bogor_worker(1);
    let second = pb::Worker { full_name: "Siti Rahmawati binti Ahmad".into(), ..first.clone() };
    let rows = [first, second].map(|w| pb::UpsertWorkersRequest { worker: Some(w), client_ref: String::new() });
    let mut replies =
        app.workers(&app.keys.bogor).await.upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
    let mut outcomes = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        outcomes.push(reply.result);
    }
    assert_eq!(
        outcomes,
        vec![
            Some(RowResult::Outcome(pb::UpsertOutcome::Created as i32)),
            Some(RowResult::Outcome(pb::UpsertOutcome::Updated as i32))
        ]
    );
    let name: String = sqlx::query_scalar("select full_name from workers").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name, "Siti Rahmawati binti Ahmad");
    app.stop().await;
}

/// Acceptance: the whole Kota Bogor and Jawa Barat cohort, 3% of rows invalid, streamed twice.
#[tokio::test]
async fn streaming_22474_workers_with_3_percent_invalid_stores_exactly_the_valid_ones_and_a_resend_changes_nothing() {
    let app = TestApp::spawn().await;
    let total = 22_474u32;
    let rows: Vec<pb::UpsertWorkersRequest> = (0..total)
        .map(|n| {
            let mut worker = bogor_worker(n);
            // Every 33rd row (3%) is invalid in one of three ways.
            if n % 33 == 7 {
                match n % 3 {
                    0 => worker.nik.replace_range(6..8, "35"),
                    1 => worker.domicile_village_code = "32.71.01.9999".into(),
                    _ => worker.welfare = None,
                }
            }
            pb::UpsertWorkersRequest { worker: Some(worker), client_ref: n.to_string() }
        })
        .collect();
    let invalid = (0..total).filter(|n| n % 33 == 7).count();
    assert!((invalid as f64 / total as f64 - 0.03).abs() < 0.001);

    let send = |rows: Vec<pb::UpsertWorkersRequest>| {
        let app = &app;
        async move {
            let mut client = app.workers(&app.keys.bogor).await;
            let mut replies = client.upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
            let mut answers = Vec::new();
            while let Some(reply) = replies.message().await.unwrap() {
                answers.push(reply);
            }
            answers
        }
    };

    let first = send(rows.clone()).await;
    assert_eq!(first.len(), total as usize);
    let errors: Vec<&pb::UpsertWorkersResponse> =
        first.iter().filter(|a| matches!(a.result, Some(RowResult::Error(_)))).collect();
    assert_eq!(errors.len(), invalid);
    for answer in &errors {
        let Some(RowResult::Error(status)) = &answer.result else { unreachable!() };
        assert_eq!(status.code, Code::InvalidArgument as i32);
        assert!(!status.get_details_bad_request().unwrap().field_violations.is_empty());
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from workers").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored as usize, total as usize - invalid);
    let snapshot: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("select nik, updated_at from workers order by nik").fetch_all(&app.pool).await.unwrap();

    let second = send(rows).await;
    assert_eq!(second.len(), total as usize);
    assert!(second.iter().all(|a| match &a.result {
        Some(RowResult::Outcome(o)) => *o == pb::UpsertOutcome::Unchanged as i32,
        Some(RowResult::Error(_)) => true,
        None => false,
    }));
    let after: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("select nik, updated_at from workers order by nik").fetch_all(&app.pool).await.unwrap();
    assert_eq!(snapshot, after, "the second run changed nothing");
    app.stop().await;
}

#[tokio::test]
async fn workers_are_listed_by_area_and_decile_in_pages() {
    let app = TestApp::spawn().await;
    let mut client = app.workers(&app.keys.jabar).await;
    for n in 0..25u32 {
        let mut worker = bogor_worker(n);
        worker.welfare.as_mut().unwrap().decile = if n < 10 { 1 } else { 5 };
        if n >= 20 {
            worker.domicile_village_code = "32.01.01.1001".into(); // Kabupaten Bogor
        }
        client.upsert_worker(upsert(worker)).await.unwrap();
    }
    let list = |area: &str, max_decile: u32, page_token: String| pb::ListWorkersRequest {
        area_code: area.into(),
        max_decile,
        page: Some(pb::PageRequest { page_size: 8, page_token }),
    };

    let mut niks = Vec::new();
    let mut token = String::new();
    loop {
        let page = client.list_workers(list("32.71", 0, token)).await.unwrap().into_inner();
        assert!(page.workers.len() <= 8);
        niks.extend(page.workers.into_iter().map(|w| w.nik));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(niks.len(), 20);
    assert!(niks.windows(2).all(|w| w[0] < w[1]), "ordered by NIK, no repeats");

    let poorest = client.list_workers(list("32.71", 1, String::new())).await.unwrap().into_inner();
    assert_eq!(poorest.workers.len(), 8);
    let kabupaten = client.list_workers(list("32.01", 0, String::new())).await.unwrap().into_inner();
    assert_eq!(kabupaten.workers.len(), 5);

    let status = client.list_workers(list("32.7", 0, String::new())).await.unwrap_err();
    assert_eq!(violations(&status)[0].0, "area_code");
    let status = client.list_workers(list("", 11, "not-a-token".into())).await.unwrap_err();
    let fields: HashSet<String> = violations(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, HashSet::from(["max_decile".into(), "page.page_token".into()]));
    app.stop().await;
}

#[tokio::test]
async fn every_lookup_of_a_worker_is_audited_without_the_nik_in_clear() {
    let app = TestApp::spawn().await;
    let worker = bogor_worker(1);
    app.workers(&app.keys.bogor).await.upsert_worker(upsert(worker.clone())).await.unwrap();
    app.workers(&app.keys.insurer).await.get_worker(pb::GetWorkerRequest { nik: worker.nik.clone() }).await.unwrap();

    let rows: Vec<(String, String, Option<Vec<u8>>)> =
        sqlx::query_as("select method, outcome, subject_hash from audit_log order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let methods: Vec<&str> = rows.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(methods, ["/lindung.v1.WorkerService/UpsertWorker", "/lindung.v1.WorkerService/GetWorker"]);
    assert!(rows.iter().all(|(_, outcome, _)| outcome == "OK"));
    let subjects: HashSet<Vec<u8>> = rows.into_iter().filter_map(|(_, _, s)| s).collect();
    assert_eq!(subjects.len(), 1, "the same person is the same subject");

    let dump: String =
        sqlx::query_scalar("select string_agg(t::text, ' ') from audit_log t").fetch_one(&app.pool).await.unwrap();
    assert!(!dump.contains(&worker.nik));

    let refused = app.workers(&app.keys.insurer).await.upsert_worker(upsert(worker)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let outcome: String = sqlx::query_scalar("select outcome from audit_log order by id desc limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(outcome, "PERMISSION_DENIED");

    let tamper = sqlx::query("delete from audit_log").execute(&app.pool).await;
    assert!(tamper.is_err(), "the audit log is append-only");
    app.stop().await;
}
