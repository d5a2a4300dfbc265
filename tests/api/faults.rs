//! Faults survived: a `lindung serve` killed with SIGKILL in the middle of an enrollment stream, and restarted. The
//! client resends the whole stream by its request ids; the store ends with every row exactly once, the rows
//! answered before the kill answered the same again, and the audit chain intact.

use lindung::proto::v1::{self as pb, enrollment_service_client::EnrollmentServiceClient};

use crate::{
    audit_chain::{sealed_and_checkpointed, text, verify},
    enrollments::{create_subsidy_between, register, submission},
    helpers::{Bearer, TestApp},
    scale_out::{channel, second_process},
};

/// Rows of the stream; the kill comes after a third of them are answered.
const ROWS: u32 = 3_000;

fn enrollment_id(answer: &pb::SubmitEnrollmentsResponse) -> &str {
    match &answer.result {
        Some(pb::submit_enrollments_response::Result::Enrollment(e)) => &e.id,
        other => panic!("not enrolled: {other:?}"),
    }
}

/// Reads what is left of a stream that a kill broke after `answered` of `rows` answers: it must end with an error,
/// never OK short of rows, and before its last row.
pub async fn ends_broken<T>(answers: &mut tonic::Streaming<T>, answered: usize, rows: usize) {
    let mut after = 0;
    let broken = loop {
        match answers.message().await {
            Ok(Some(_)) => after += 1,
            Ok(None) => panic!("the stream ended OK after {} of {rows} rows", answered + after),
            Err(status) => break status,
        }
    };
    assert!(answered + after < rows, "the kill came too late: {broken:?}");
}

#[tokio::test]
async fn a_server_killed_mid_stream_loses_and_duplicates_nothing_once_the_client_resends() {
    let app = TestApp::spawn().await;
    register(&app, 0..ROWS).await;
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", ROWS, "100000000000", "2025-09", "2025-12").await;
    let rows: Vec<pb::SubmitEnrollmentsRequest> = (0..ROWS)
        .map(|n| pb::SubmitEnrollmentsRequest { submission: Some(submission(format!("kill-{n}"), &city, n)) })
        .collect();

    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut first, url) = second_process(&app, first_dir.path()).await;
    let mut client = EnrollmentServiceClient::with_interceptor(channel(&url).await, Bearer::new(&app.keys.bogor));
    let mut answers = client.submit_enrollments(tokio_stream::iter(rows.clone())).await.unwrap().into_inner();
    let mut before = Vec::new();
    while before.len() < (ROWS / 3) as usize {
        before.push(answers.message().await.unwrap().expect("an answer before the kill"));
    }
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    crate::faults::ends_broken(&mut answers, before.len(), ROWS as usize).await;

    // Another process takes over; the client resends everything.
    let (_second, url) = second_process(&app, second_dir.path()).await;
    let mut client = EnrollmentServiceClient::with_interceptor(channel(&url).await, Bearer::new(&app.keys.bogor));
    let mut replies = client.submit_enrollments(tokio_stream::iter(rows)).await.unwrap().into_inner();
    let mut resent = Vec::new();
    while let Some(answer) = replies.message().await.unwrap() {
        resent.push(answer);
    }
    assert_eq!(resent.len(), ROWS as usize);
    for (n, (first, again)) in before.iter().zip(&resent).enumerate() {
        assert_eq!(enrollment_id(first), enrollment_id(again), "row {n} was answered before the kill");
    }
    let ids: std::collections::HashSet<&str> = resent.iter().map(enrollment_id).collect();
    assert_eq!(ids.len(), ROWS as usize);

    let (enrollments, workers, requests): (i64, i64, i64) = sqlx::query_as(
        "select count(*), count(distinct worker_nik),
                (select count(*) from enrollment_requests r where r.enrollment_id in
                    (select id from enrollments where subsidy_id = $1::uuid))
         from enrollments where subsidy_id = $1::uuid",
    )
    .bind(&city)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((enrollments, workers, requests), (ROWS as i64, ROWS as i64, ROWS as i64));

    sealed_and_checkpointed(&app).await;
    let verified = verify(&app);
    assert!(verified.status.success(), "{}", text(&verified));
    app.stop().await;
}

/// The server's sessions on the test's database other than this one's, by state (`idle`, `active`, `idle in
/// transaction`, …), and the locks they hold on relations.
async fn sessions(app: &TestApp) -> (Vec<String>, i64) {
    let states: Vec<String> = sqlx::query_scalar(
        "select coalesce(state, '') || case when state <> 'idle' then ': ' || application_name || ': ' || left(query, 200) else '' end
         from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let locks: i64 = sqlx::query_scalar(
        "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where a.datname = current_database() and a.pid <> pg_backend_pid() and l.locktype = 'relation'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (states, locks)
}

/// Waits until no session of the server is in a transaction or holds a lock; answers what it saw last.
async fn settled(app: &TestApp) -> (Vec<String>, i64) {
    let mut seen = sessions(app).await;
    for _ in 0..100 {
        if seen.1 == 0 && seen.0.iter().all(|state| state == "idle") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        seen = sessions(app).await;
    }
    seen
}

#[tokio::test]
async fn a_client_that_stops_reading_or_goes_away_mid_stream_leaves_no_transaction_open_nor_lock_held() {
    let app = TestApp::spawn().await;
    register(&app, 0..2_000).await;
    let city =
        create_subsidy_between(&app, &app.keys.bogor, "32.71", 2_000, "100000000000", "2025-09", "2025-12").await;

    // A client that sends and never reads: the server's answers fill the flow-control window and it stops reading
    // ahead; nothing it holds meanwhile is a transaction.
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let channel = channel(&format!("http://{}", app.addr)).await;
    let mut client = EnrollmentServiceClient::with_interceptor(channel, Bearer::new(&app.keys.bogor));
    let call = tokio::spawn(async move {
        client.submit_enrollments(tokio_stream::wrappers::ReceiverStream::new(receiver)).await.map(|r| r.into_inner())
    });
    let feeding = tokio::spawn(async move {
        for n in 0..2_000 {
            let row = pb::SubmitEnrollmentsRequest { submission: Some(submission(format!("stall-{n}"), &city, n)) };
            if sender.send(row).await.is_err() {
                return n;
            }
        }
        2_000
    });
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (states, locks) = settled(&app).await;
    assert!(
        states.iter().all(|s| s == "idle") && locks == 0,
        "while the client does not read: {states:?}, {locks} locks"
    );

    // It goes away without a word: its stream is dropped, and still nothing is left open.
    call.abort();
    feeding.abort();
    let (states, locks) = settled(&app).await;
    assert!(states.iter().all(|s| s == "idle") && locks == 0, "after the client left: {states:?}, {locks} locks");
    // The server serves the next client as before.
    app.agencies(&app.keys.bogor).await.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    app.stop().await;
}
