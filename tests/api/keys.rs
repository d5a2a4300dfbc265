//! Data keys that rotate: claims sealed under the derived key still open once a new key is configured, `lindung keys
//! rotate` (the real binary) re-seals every value under the new key while a server answers, a second rotation
//! changes nothing, and once the old key leaves the ring everything still opens. A value under a key missing from
//! the ring is a clear error, never a panic nor personal data in an answer.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use lindung::{
    proto::v1 as pb,
    seal::{DataKey, KeyId, Sealer},
};
use tonic::Code;

use crate::{
    claims::{claims, death, settle},
    contributions::issue,
    coverage::pay,
    enrollments::active_cohort_between,
    helpers::{PSEUDONYM_KEY, TestApp, lindung},
};

const NEW_KEY: [u8; 32] = [0xa1; 32];

fn derived() -> DataKey {
    lindung::audit::Pseudonymizer::new(PSEUDONYM_KEY).data_key()
}

/// Every claim as the insurer reads it, one by one through GetClaim, in id order.
async fn every_claim(app: &TestApp) -> Vec<pb::Claim> {
    let mut client = claims(app, &app.keys.insurer).await;
    let listed = client.list_claims(pb::ListClaimsRequest::default()).await.unwrap().into_inner().claims;
    let mut read = Vec::new();
    for claim in listed {
        let got = client.get_claim(pb::GetClaimRequest { claim_id: claim.id.clone() }).await.unwrap();
        let got = got.into_inner().claim.unwrap();
        assert_eq!(got, claim, "GetClaim and ListClaims agree");
        read.push(got);
    }
    read.sort_by(|a, b| a.id.cmp(&b.id));
    read
}

/// The key id of every sealed value stored (`clear` for a text in clear), sorted, as migration 0017 reads them.
async fn stored_key_ids(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select k from claims, unnest(array[sealed_key_id(particulars), sealed_key_id(breakdown),
                sealed_key_id(accident_place), sealed_key_id(accident_cause), sealed_key_id(notifier_name),
                sealed_key_id(notifier_phone)]) k where k is not null order by k",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// `lindung keys <command>` on the test's database with the test server's pseudonym key and these data keys.
async fn keys(app: &TestApp, command: &str, data_keys: &[&str]) -> (bool, String, String) {
    let url = app.database_url();
    let pseudonym = hex::encode(PSEUDONYM_KEY);
    let mut args = vec!["--database-url", &url, "keys", command, "--pseudonym-key", &pseudonym];
    args.extend_from_slice(data_keys);
    lindung(&args).await
}

/// Claims of every shape: paid death claims with children (particulars and breakdown), a work-accident death with
/// its notice (sealed texts), a filed claim not assessed yet (no breakdown).
async fn claims_of_every_shape(app: &TestApp) {
    let (subsidy, _) = active_cohort_between(app, 0..6, "2025-09", "2025-12").await;
    issue(app, &subsidy, "2025-09").await;
    pay(app, &subsidy, "100800", "2025-09-10").await;
    let child =
        || vec![pb::Child { birth_date: "2015-01-01".into(), level: pb::EducationLevel::PreschoolPrimary as i32 }];
    for n in 0..3 {
        settle(app, death(n, "2025-09-20", child())).await;
    }
    let accident = pb::FileClaimRequest {
        event: Some(pb::Event {
            kind: pb::ClaimEvent::AccidentDeath as i32,
            date: "2025-09-20".into(),
            children: child(),
            accident_costs: None,
        }),
        notice: Some(pb::AccidentNotice {
            place: "Pasar Bogor, Jl. Suryakencana".into(),
            cause: "fell from scaffolding".into(),
            occurred_at: Some(prost_types::Timestamp { seconds: 1_758_340_800, nanos: 0 }),
            notifier_name: "Dinas Tenaga Kerja Kota Bogor".into(),
            notifier_phone: "0251-8321075".into(),
        }),
        ..death(3, "2025-09-20", vec![])
    };
    settle(app, accident).await;
    let mut client = claims(app, &app.keys.insurer).await;
    client.file_claim(death(4, "2025-09-21", child())).await.unwrap();
}

#[tokio::test]
async fn a_rotation_reseals_every_value_under_the_new_key_while_the_server_answers_and_the_old_key_can_go() {
    let mut app = TestApp::spawn().await;
    claims_of_every_shape(&app).await;
    // As older builds left them: a value without a key id, a notice in clear, a text of the `sealed:v1:` layout.
    sqlx::query(
        "update claims set particulars = substring(particulars from 6), accident_cause = 'fell from scaffolding',
                notifier_name = 'sealed:v1:' || split_part(notifier_name, ':', 4)
         where accident_at is not null",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let before = every_claim(&app).await;
    assert_eq!(before.len(), 5);
    let stored = stored_key_ids(&app).await;
    assert_eq!(stored.iter().filter(|k| *k == "clear").count(), 1);
    let v1: i64 = sqlx::query_scalar("select count(*) from claims where notifier_name like 'sealed:v1:%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(v1, 1);
    assert!(stored.iter().all(|k| k == "clear" || k == "00000000"), "{stored:?}");

    // The new key is configured as current, the derived one as previous: everything still opens.
    let new_key = hex::encode(NEW_KEY);
    let new_id = DataKey::new(NEW_KEY).id().to_string();
    let ring = ["--data-key", new_key.as_str(), "--previous-data-keys", "derived"];
    app.restart_with_data_keys(Sealer::ring(DataKey::new(NEW_KEY), vec![derived()]).unwrap()).await;
    assert_eq!(every_claim(&app).await, before);
    let (ok, status, stderr) = keys(&app, "status", &ring).await;
    assert!(ok, "{stderr}");
    assert!(status.contains(&format!("{new_id}\tcurrent\t0\n")), "{status}");
    assert!(status.contains("00000000\tprevious\t") && status.contains("run `lindung keys rotate`"), "{status}");

    // A server answers all through the rotation, which goes 2 claims per transaction.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let reader = {
        let (stop, answered) = (stop.clone(), answered.clone());
        let mut client = claims(&app, &app.keys.insurer).await;
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let listed = client.list_claims(pb::ListClaimsRequest::default()).await.expect("ListClaims answers");
                assert_eq!(listed.into_inner().claims.len(), 5);
                answered.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // A call holds one claim for a second: the rotation skips it, and its next pass comes back for it.
    let mut held = app.pool.begin().await.unwrap();
    sqlx::query("select id from claims where id = $1 for update")
        .bind(uuid::Uuid::parse_str(&before[0].id).unwrap())
        .execute(&mut *held)
        .await
        .unwrap();
    let holder = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        held.rollback().await.unwrap();
    });
    let started = std::time::Instant::now();
    let rotate = [&ring[..], &["--batch-size", "2"]].concat();
    let (ok, out, stderr) = keys(&app, "rotate", &rotate).await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    reader.await.unwrap();
    holder.await.unwrap();
    assert!(
        took >= std::time::Duration::from_millis(900),
        "the rotation ended only once the held claim was free: {took:?}"
    );
    assert!(ok, "{stderr}");
    // 5 particulars, 4 breakdowns, 4 notice texts.
    assert_eq!(out.trim(), format!("re-sealed 13 values in 5 claims under data key {new_id}"));
    assert!(answered.load(Ordering::Relaxed) > 0, "the server answered during the rotation");

    // Every value is under the new key, and every claim reads back as it was, its update time included.
    let stored = stored_key_ids(&app).await;
    assert_eq!(stored.len(), 13);
    assert!(stored.iter().all(|k| *k == new_id), "{stored:?}");
    assert_eq!(every_claim(&app).await, before);
    let clear: i64 = sqlx::query_scalar("select count(*) from claims where accident_cause like '%scaffolding%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(clear, 0, "the notice kept in clear is sealed now");

    // A second rotation re-seals nothing.
    let (ok, out, stderr) = keys(&app, "rotate", &ring).await;
    assert!(ok, "{stderr}");
    assert_eq!(out.trim(), format!("re-sealed 0 values in 0 claims under data key {new_id}"));
    let (_, status, _) = keys(&app, "status", &ring).await;
    assert!(status.contains(&format!("{new_id}\tcurrent\t13\n")) && status.contains("00000000\tprevious\t0\n"));
    assert!(status.contains("the previous keys may be dropped"), "{status}");

    // The derived key dropped from the ring: everything opens, and a new claim is sealed under the new key.
    app.restart_with_data_keys(Sealer::new(DataKey::new(NEW_KEY))).await;
    assert_eq!(every_claim(&app).await, before);
    claims(&app, &app.keys.insurer).await.file_claim(death(5, "2025-09-22", vec![])).await.unwrap();
    assert!(stored_key_ids(&app).await.iter().all(|k| *k == new_id));
    let (ok, status, stderr) = keys(&app, "status", &["--data-key", &new_key]).await;
    assert!(ok, "{stderr}");
    assert_eq!(status.lines().next(), Some(format!("{new_id}\tcurrent\t14").as_str()), "{status}");
    app.stop().await;
}

#[tokio::test]
async fn a_value_under_a_key_missing_from_the_ring_is_a_clear_error_and_the_server_keeps_serving() {
    let mut app = TestApp::spawn().await;
    app.restart_with_data_keys(Sealer::new(DataKey::new(NEW_KEY))).await;
    claims_of_every_shape(&app).await;
    let id = every_claim(&app).await[0].id.clone();

    // Back to the derived key alone, as a server whose configuration lost the data key.
    app.restart_with_data_keys(lindung::audit::Pseudonymizer::new(PSEUDONYM_KEY).sealer()).await;
    let refused =
        claims(&app, &app.keys.insurer).await.get_claim(pb::GetClaimRequest { claim_id: id }).await.unwrap_err();
    assert_eq!(refused.code(), Code::Internal);
    for personal in ["Budi", "0123456789012", "Suryakencana", "0251"] {
        assert!(!refused.message().contains(personal), "{}", refused.message());
    }
    // The server still answers what needs no sealed value.
    let workers = app.workers(&app.keys.bogor).await.list_workers(pb::ListWorkersRequest::default()).await;
    assert!(workers.is_ok(), "{workers:?}");

    // The status names the missing key; a rotation stops with its id and changes nothing.
    let (ok, status, stderr) = keys(&app, "status", &[]).await;
    assert!(ok, "{stderr}");
    let missing = DataKey::new(NEW_KEY).id();
    assert!(status.contains(&format!("{missing}\tmissing\t")), "{status}");
    let (ok, _, stderr) = keys(&app, "rotate", &[]).await;
    assert!(!ok);
    assert!(
        stderr.contains(&format!("under data key {missing}")) && stderr.contains("--previous-data-keys"),
        "{stderr}"
    );
    assert!(!stderr.contains("Budi") && !stderr.contains("panicked"), "{stderr}");
    assert!(stored_key_ids(&app).await.iter().all(|k| KeyId::parse(k) == Some(missing)));

    // A malformed key is refused without being shown.
    let (ok, _, stderr) = keys(&app, "status", &["--data-key", "00112233445566778899"]).await;
    assert!(!ok && stderr.contains("64 hex digits") && !stderr.contains("00112233445566778899"), "{stderr}");
    app.stop().await;
}
