//! The event feed over a real socket: resuming after a killed subscriber, commits finishing out of order, rolled-back
//! changes, who sees what, heartbeats, and the calendar's lapses.

use std::time::Duration;

use lindung::proto::v1::{
    self as pb, feed_service_client::FeedServiceClient, subscribe_response::Message,
    subsidy_service_client::SubsidyServiceClient,
};
use sqlx::{Connection, PgConnection};
use tonic::{Code, Streaming};

use crate::{
    contributions::issue,
    coverage::pay,
    enrollments::{active_cohort, active_cohort_until, enrollments},
    helpers::{Authed, Bearer, TestApp, bogor_worker},
};

/// Generous: a message that does not come within this is a failure, never a measurement.
const PATIENCE: Duration = Duration::from_secs(60);

async fn feed(app: &TestApp, key: &str) -> FeedServiceClient<Authed> {
    FeedServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

pub async fn subscribe(
    app: &TestApp,
    key: &str,
    after: u64,
    kinds: &[pb::EventKind],
) -> Streaming<pb::SubscribeResponse> {
    let request = pb::SubscribeRequest { after, kinds: kinds.iter().map(|k| *k as i32).collect() };
    feed(app, key).await.subscribe(request).await.unwrap().into_inner()
}

async fn next(stream: &mut Streaming<pb::SubscribeResponse>) -> Message {
    let message = tokio::time::timeout(PATIENCE, stream.message()).await.expect("the feed went silent");
    message.unwrap().expect("the feed ended").message.expect("a message")
}

/// The next event, past any heartbeats.
async fn next_event(stream: &mut Streaming<pb::SubscribeResponse>) -> pb::FeedEvent {
    loop {
        if let Message::Event(event) = next(stream).await {
            return event;
        }
    }
}

/// Every event up to the first heartbeat whose head is at least `head`.
pub async fn events_through(stream: &mut Streaming<pb::SubscribeResponse>, head: u64) -> Vec<pb::FeedEvent> {
    let mut events = Vec::new();
    loop {
        match next(stream).await {
            Message::Event(event) => events.push(event),
            Message::Heartbeat(beat) if beat.head >= head => return events,
            Message::Heartbeat(_) => {}
        }
    }
}

/// The number of events written so far: positions are dense, so the head reaches it once all are sequenced.
pub async fn written(app: &TestApp) -> u64 {
    let count: i64 = sqlx::query_scalar("select count(*) from feed_events").fetch_one(&app.pool).await.unwrap();
    count as u64
}

fn positions(events: &[pb::FeedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.position).collect()
}

/// An outbox row written as a writer writes one, in the transaction `conn` has open: the event and the notification
/// that wakes the sequencer (delivered only on commit).
async fn outbox_row(conn: &mut PgConnection, claim: uuid::Uuid) -> i64 {
    let id: i64 = sqlx::query_scalar("insert into feed_events (kind, claim_id) values ('claim_paid', $1) returning id")
        .bind(claim)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    sqlx::query("select pg_notify('lindung_outbox', '')").execute(&mut *conn).await.unwrap();
    id
}

async fn raw_connection(app: &TestApp) -> PgConnection {
    PgConnection::connect_with(&app.pool.connect_options()).await.unwrap()
}

#[tokio::test]
async fn a_subscriber_killed_mid_stream_resumes_from_its_last_position_and_gets_every_later_event_once_in_order() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort(&app, 3).await;
    let mut first = subscribe(&app, &app.keys.insurer, 0, &[]).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next_event(&mut first).await);
    }
    drop(first);
    // Changes made while no one listens.
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "50400", "2025-09-10").await;
    let last = seen.last().unwrap().position;
    let mut resumed = subscribe(&app, &app.keys.insurer, last, &[]).await;
    let head = written(&app).await;
    seen.extend(events_through(&mut resumed, head).await);

    assert_eq!(positions(&seen), (1..=head).collect::<Vec<u64>>(), "every event once, in order");
    let mut replay = subscribe(&app, &app.keys.insurer, 0, &[]).await;
    assert_eq!(events_through(&mut replay, head).await, seen, "the same events as a replay from the start");
    let kinds: Vec<pb::EventKind> = seen.iter().map(|e| e.kind()).collect();
    use pb::EventKind::*;
    assert_eq!(kinds.iter().filter(|k| **k == WorkerRegistered).count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == EnrollmentSubmitted).count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == EnrollmentConfirmed).count(), 3);
    assert_eq!(&kinds[kinds.len() - 2..], [BillIssued, PaymentRecorded]);
    // Events carry ids; the NIK only where the event is about the worker as such.
    assert!(seen.iter().all(|e| e.worker_nik.is_empty() == (e.kind() != WorkerRegistered)), "{seen:?}");
    app.stop().await;
}

#[tokio::test]
async fn commits_that_finish_out_of_order_skip_no_event() {
    let app = TestApp::spawn().await;
    let mut stream = subscribe(&app, &app.keys.insurer, 0, &[]).await;
    assert_eq!(events_through(&mut stream, 0).await, vec![]);

    // The first writer takes its row (and its id) first, but commits last.
    let (early, late) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let mut slow = raw_connection(&app).await;
    let mut slow_tx = slow.begin().await.unwrap();
    let slow_id = outbox_row(&mut slow_tx, early).await;
    let mut quick = raw_connection(&app).await;
    let mut quick_tx = quick.begin().await.unwrap();
    let quick_id = outbox_row(&mut quick_tx, late).await;
    assert!(slow_id < quick_id);
    quick_tx.commit().await.unwrap();

    let first = next_event(&mut stream).await;
    assert_eq!(first.claim_id, late.to_string());
    slow_tx.commit().await.unwrap();
    let second = next_event(&mut stream).await;
    assert_eq!(second.claim_id, early.to_string(), "the event committed last is delivered, not skipped");
    assert!(first.position < second.position);

    // A subscriber that resumes after the first sees the second; one from the start sees both, in the same order.
    let mut resumed = subscribe(&app, &app.keys.insurer, first.position, &[]).await;
    assert_eq!(next_event(&mut resumed).await, second);
    let mut replay = subscribe(&app, &app.keys.insurer, 0, &[]).await;
    assert_eq!(events_through(&mut replay, 2).await, vec![first, second]);
    app.stop().await;
}

#[tokio::test]
async fn the_events_of_a_rolled_back_transaction_are_never_delivered() {
    let app = TestApp::spawn().await;
    let (_, ids) = active_cohort(&app, 1).await;
    let mut stream = subscribe(&app, &app.keys.bogor, 0, &[]).await;
    let before = events_through(&mut stream, written(&app).await).await;

    // A hand-over ends the enrollment, then its admission to an unknown subsidy is refused: all of it rolls back.
    let refused = enrollments(&app, &app.keys.bogor)
        .await
        .hand_over_enrollment(pb::HandOverEnrollmentRequest {
            request_id: "hand-over-1".into(),
            enrollment_id: ids[0].clone(),
            target_subsidy_id: uuid::Uuid::new_v4().to_string(),
            month: "2025-10".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    // And a writer that rolls back its own outbox row.
    let mut conn = raw_connection(&app).await;
    let mut tx = conn.begin().await.unwrap();
    let rolled_back = uuid::Uuid::new_v4();
    outbox_row(&mut tx, rolled_back).await;
    tx.rollback().await.unwrap();

    enrollments(&app, &app.keys.bogor)
        .await
        .end_enrollment(pb::EndEnrollmentRequest {
            enrollment_id: ids[0].clone(),
            end_month: "2025-11".into(),
            reason: pb::EndReason::FundingStopped as i32,
        })
        .await
        .unwrap();
    let after = events_through(&mut stream, written(&app).await).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!((after[0].kind(), after[0].enrollment_id.as_str()), (pb::EventKind::EnrollmentEnded, ids[0].as_str()));
    let mut replay = subscribe(&app, &app.keys.insurer, 0, &[]).await;
    let all = events_through(&mut replay, written(&app).await).await;
    assert!(
        all.iter().all(|e| e.kind() != pb::EventKind::EnrollmentHandedOver && e.claim_id != rolled_back.to_string())
    );
    assert!(before.len() >= 2, "the city saw its submission and its confirmation: {before:?}");
    app.stop().await;
}

async fn create_subsidy(app: &TestApp, key: &str, request_id: &str) -> String {
    let subsidy = pb::Subsidy {
        name: "Iuran pekerja rentan".into(),
        legal_basis: "Peraturan Gubernur Jawa Barat No. 12/2025".into(),
        area_code: "32.71".into(),
        first_month: "2025-09".into(),
        last_month: "2025-12".into(),
        quota: 10,
        budget_ceiling: Some(pb::Rupiah { amount: "100000000".into() }),
        ..Default::default()
    };
    let request = pb::CreateSubsidyRequest { request_id: request_id.into(), subsidy: Some(subsidy) };
    let mut client = SubsidyServiceClient::with_interceptor(app.channel().await, Bearer::new(key));
    client.create_subsidy(request).await.unwrap().into_inner().subsidy.unwrap().id
}

/// Worker `n` registered by the agency `key`, enrolled in its subsidy and confirmed; answers the enrollment id.
async fn funded_by(app: &TestApp, key: &str, subsidy: &str, n: u32) -> String {
    app.workers(key).await.upsert_worker(pb::UpsertWorkerRequest { worker: Some(bogor_worker(n)) }).await.unwrap();
    let submitted = enrollments(app, key)
        .await
        .submit_enrollment(pb::SubmitEnrollmentRequest {
            request_id: format!("enroll-{n}"),
            subsidy_id: subsidy.into(),
            worker_nik: bogor_worker(n).nik,
            first_month: "2025-09".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    enrollments(app, &app.keys.insurer)
        .await
        .confirm_enrollment(pb::ConfirmEnrollmentRequest {
            enrollment_id: submitted.id.clone(),
            participant_number: format!("{}", 20_000_000_000u64 + u64::from(n)),
            protection_start: "2025-09-01".into(),
        })
        .await
        .unwrap();
    submitted.id
}

#[tokio::test]
async fn a_city_never_sees_an_event_about_a_worker_only_the_province_funds() {
    let app = TestApp::spawn().await;
    // Worker 0 lives in Kota Bogor but is registered and funded by the province only; worker 1 is the city's.
    let province = create_subsidy(&app, &app.keys.jabar, "province-subsidy").await;
    let provinces_enrollment = funded_by(&app, &app.keys.jabar, &province, 0).await;
    let city = create_subsidy(&app, &app.keys.bogor, "city-subsidy").await;
    let citys_enrollment = funded_by(&app, &app.keys.bogor, &city, 1).await;
    issue(&app, &province, "2025-09").await;
    issue(&app, &city, "2025-09").await;
    app.workers(&app.keys.jabar)
        .await
        .report_death(pb::ReportDeathRequest {
            worker_nik: bogor_worker(0).nik,
            date_of_death: "2025-09-20".into(),
            certificate_number: "AKTA-KEMATIAN-0001".into(),
        })
        .await
        .unwrap();
    let head = written(&app).await;

    let about_the_province = |e: &pb::FeedEvent| {
        e.worker_nik == bogor_worker(0).nik || e.subsidy_id == province || e.enrollment_id == provinces_enrollment
    };
    let mut citys = subscribe(&app, &app.keys.bogor, 0, &[]).await;
    let seen = events_through(&mut citys, head).await;
    assert!(!seen.iter().any(about_the_province), "{seen:?}");
    use pb::EventKind::*;
    let kinds: Vec<pb::EventKind> = seen.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [WorkerRegistered, EnrollmentSubmitted, EnrollmentConfirmed, BillIssued], "{seen:?}");
    assert_eq!(seen[1].enrollment_id, citys_enrollment);

    let mut provinces = subscribe(&app, &app.keys.jabar, 0, &[]).await;
    let seen = events_through(&mut provinces, head).await;
    let kinds: Vec<pb::EventKind> = seen.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [WorkerRegistered, EnrollmentSubmitted, EnrollmentConfirmed, BillIssued, DeathReported, EnrollmentEnded],
        "{seen:?}"
    );
    assert!(seen.iter().all(about_the_province));
    // Another city sees none of it.
    let mut others = subscribe(&app, &app.keys.kabupaten_bogor, 0, &[]).await;
    assert_eq!(events_through(&mut others, head).await, vec![]);
    app.stop().await;
}

#[tokio::test]
async fn heartbeats_carry_the_head_and_a_subscriber_resumes_from_one() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort(&app, 2).await;
    let head = written(&app).await;
    // Kabupaten Bogor sees none of Kota Bogor's events, yet learns how far the feed has got.
    let mut stream = subscribe(&app, &app.keys.kabupaten_bogor, 0, &[]).await;
    let resume_from = loop {
        match next(&mut stream).await {
            Message::Heartbeat(beat) if beat.head == head => break beat.head,
            Message::Heartbeat(beat) => assert!(beat.head < head),
            Message::Event(event) => panic!("an event of another government: {event:?}"),
        }
    };
    // Heartbeats keep coming while nothing happens.
    for _ in 0..2 {
        assert_eq!(next(&mut stream).await, Message::Heartbeat(pb::Heartbeat { head }));
    }
    // The insurer, resuming from the head, receives only what comes after it.
    issue(&app, &subsidy, "2025-09").await;
    let mut insurer = subscribe(&app, &app.keys.insurer, resume_from, &[pb::EventKind::BillIssued]).await;
    let later = next_event(&mut insurer).await;
    assert_eq!(
        (later.position, later.kind(), later.subsidy_id.as_str()),
        (head + 1, pb::EventKind::BillIssued, subsidy.as_str())
    );
    assert_eq!(later.month, "2025-09");
    app.stop().await;
}

/// The calendar's pass, run for `day` as the server runs it for today.
async fn calendar_pass(app: &TestApp, day: &str) -> u64 {
    let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    lindung::feed::service::calendar_pass(&mut conn, day).await.unwrap()
}

#[tokio::test]
async fn the_calendar_emits_the_arrears_warning_and_the_lapse_once_on_their_days() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 1, "2026-12").await;
    for month in ["2025-09", "2025-10", "2025-11"] {
        issue(&app, &subsidy, month).await;
    }
    assert_eq!(calendar_pass(&app, "2025-10-15").await, 0);
    assert_eq!(calendar_pass(&app, "2025-10-16").await, 1, "the warning");
    assert_eq!(calendar_pass(&app, "2025-10-16").await, 0, "once, however often the pass runs");
    assert_eq!(calendar_pass(&app, "2025-11-16").await, 1, "the lapse");
    assert_eq!(calendar_pass(&app, "2025-11-16").await, 0);

    use pb::EventKind::*;
    let mut stream = subscribe(&app, &app.keys.bogor, 0, &[ArrearsWarning, Lapse]).await;
    let seen = events_through(&mut stream, written(&app).await).await;
    let facts: Vec<(pb::EventKind, &str, &str, &str)> =
        seen.iter().map(|e| (e.kind(), e.subsidy_id.as_str(), e.month.as_str(), e.date.as_str())).collect();
    assert_eq!(
        facts,
        [
            (ArrearsWarning, subsidy.as_str(), "2025-10", "2025-10-16"),
            (Lapse, subsidy.as_str(), "2025-11", "2025-11-16")
        ]
    );
    let mut others = subscribe(&app, &app.keys.jabar, 0, &[ArrearsWarning, Lapse]).await;
    assert_eq!(events_through(&mut others, written(&app).await).await, vec![]);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_kind_is_an_invalid_argument_naming_it() {
    let app = TestApp::spawn().await;
    let request = pb::SubscribeRequest { after: 0, kinds: vec![pb::EventKind::Lapse as i32, 0] };
    let status = feed(&app, &app.keys.bogor).await.subscribe(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    use tonic_types::StatusExt;
    let field = status.get_details_bad_request().unwrap().field_violations[0].field.clone();
    assert_eq!(field, "kinds[1]");
    app.stop().await;
}
