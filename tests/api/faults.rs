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
    // The broken stream ends with an error, never OK short of rows.
    let mut after = 0;
    let broken = loop {
        match answers.message().await {
            Ok(Some(_)) => after += 1,
            Ok(None) => panic!("the stream ended OK after {} of {ROWS} rows", before.len() + after),
            Err(status) => break status,
        }
    };
    assert!(before.len() + after < ROWS as usize, "the kill came too late: {broken:?}");

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
