//! The API keys a server lets in from memory: no query for a key it has found valid, and a revocation honoured
//! within moments, even one made while its listener was away.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use lindung::{agency::store::KEYS_LISTENER_NAME, proto::v1 as pb};
use sqlx::Connection;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::TestApp;

const LINDUNG: &str = env!("CARGO_BIN_EXE_lindung");

/// How long a revocation may take to be honoured here; the cache's own delay is one NOTIFY's delivery.
const REVOCATION_LIMIT: Duration = Duration::from_secs(2);

async fn who_am_i(app: &TestApp, key: &str) -> Result<pb::WhoAmIResponse, tonic::Status> {
    app.agencies(key).await.who_am_i(pb::WhoAmIRequest {}).await.map(tonic::Response::into_inner)
}

/// Waits until the server's key listener listens, on a connection other than `not` (a killed one); answers the
/// listener's backend pid.
async fn listening(app: &TestApp, not: Option<i32>) -> i32 {
    let start = Instant::now();
    loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "select pid from pg_stat_activity
             where datname = current_database() and application_name = $1 and pid is distinct from $2",
        )
        .bind(KEYS_LISTENER_NAME)
        .bind(not)
        .fetch_optional(&app.pool)
        .await
        .unwrap();
        // The cache is put aside before a new connection is made, so once there is one, "live" is about it.
        if let Some(pid) = pid
            && app.key_cache.is_live()
        {
            return pid;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "the key listener does not listen");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Calls WhoAmI `calls` times with `key` while another session holds `api_keys` locked, so that any look-up of a key
/// in the store would wait: the calls all answer only if none queries the store.
async fn calls_without_the_store(app: &TestApp, key: &str, calls: usize) {
    let mut locker = sqlx::PgConnection::connect(&app.database_url()).await.unwrap();
    let mut tx = locker.begin().await.unwrap();
    sqlx::query("lock table api_keys in access exclusive mode").execute(&mut *tx).await.unwrap();
    let mut client = app.agencies(key).await;
    let all = async {
        for _ in 0..calls {
            client.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(10), all).await.expect("a call looked its key up in the store");
    tx.rollback().await.unwrap();
}

/// Waits until `key` is refused as unknown, within [`REVOCATION_LIMIT`]; then asserts it stays refused.
async fn refused_soon_and_for_good(app: &TestApp, key: &str) {
    let start = Instant::now();
    loop {
        match who_am_i(app, key).await {
            Ok(_) => assert!(start.elapsed() < REVOCATION_LIMIT, "a revoked key is still let in"),
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                assert_eq!(status.get_details_error_info().unwrap().reason, "API_KEY_UNKNOWN");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..20 {
        assert_eq!(who_am_i(app, key).await.unwrap_err().code(), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn a_valid_key_is_let_in_without_a_query_and_refused_once_the_cli_revokes_it() {
    let app = TestApp::spawn().await;
    listening(&app, None).await;
    who_am_i(&app, &app.keys.bogor).await.unwrap();
    calls_without_the_store(&app, &app.keys.bogor, 50).await;

    let revoke = Command::new(LINDUNG)
        .args(["agency", "revoke-key", "--key-prefix", &app.keys.bogor])
        .env("DATABASE_URL", app.database_url())
        .env_remove("LINDUNG_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    refused_soon_and_for_good(&app, &app.keys.bogor).await;

    // The other agencies' keys are looked up again once, then let in from memory as before.
    who_am_i(&app, &app.keys.jabar).await.unwrap();
    calls_without_the_store(&app, &app.keys.jabar, 10).await;
    app.stop().await;
}

#[tokio::test]
async fn a_key_revoked_while_the_listener_is_away_is_refused_and_the_cache_is_used_again_after() {
    let app = TestApp::spawn().await;
    let first = listening(&app, None).await;
    who_am_i(&app, &app.keys.bogor).await.unwrap();
    calls_without_the_store(&app, &app.keys.bogor, 5).await;

    // The listener's connection is gone (waited for) before the revocation commits: its NOTIFY reaches no listener
    // of this server unless a new one already listens.
    let mut tx = app.pool.begin().await.unwrap();
    let terminated: bool =
        sqlx::query_scalar("select pg_terminate_backend($1, 5000)").bind(first).fetch_one(&mut *tx).await.unwrap();
    assert!(terminated);
    assert_eq!(lindung::agency::store::revoke_keys(&mut *tx, &app.keys.bogor).await.unwrap(), 1);
    tx.commit().await.unwrap();
    refused_soon_and_for_good(&app, &app.keys.bogor).await;

    listening(&app, Some(first)).await;
    who_am_i(&app, &app.keys.jabar).await.unwrap();
    calls_without_the_store(&app, &app.keys.jabar, 10).await;
    app.stop().await;
}
