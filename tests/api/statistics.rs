//! A bulk load leaves the store fit for the next query: the tables it changed are analyzed within seconds, by
//! lindung (`last_analyze`), not a minute later by autovacuum (`last_autoanalyze`).

use std::time::{Duration, Instant};

use crate::helpers::{TestApp, bogor_worker};
use lindung::proto::v1 as pb;

#[tokio::test]
async fn the_tables_a_bulk_stream_changed_are_analyzed_within_seconds() {
    let app = TestApp::spawn().await;
    let rows: Vec<pb::UpsertWorkersRequest> = (0..5_000)
        .map(|n| pb::UpsertWorkersRequest { worker: Some(bogor_worker(n)), client_ref: n.to_string() })
        .collect();
    let mut replies =
        app.workers(&app.keys.bogor).await.upsert_workers(tokio_stream::iter(rows)).await.unwrap().into_inner();
    let mut answered = 0;
    while replies.message().await.unwrap().is_some() {
        answered += 1;
    }
    assert_eq!(answered, 5_000);

    let started = Instant::now();
    loop {
        let (estimate, analyzed): (f32, bool) = sqlx::query_as(
            "select c.reltuples, s.last_analyze is not null
             from pg_class c join pg_stat_user_tables s on s.relid = c.oid
             where c.relname = 'workers' and s.schemaname = current_schema()",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if analyzed {
            assert_eq!(estimate, 5_000.0, "the planner's row estimate after ANALYZE");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "workers not analyzed 30 s after the load");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
