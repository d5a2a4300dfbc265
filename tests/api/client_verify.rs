//! The client commands that read rather than change: `coverage verify`, `reconcile` and `feed follow`, the real
//! `lindung` binary against a real server.

use std::collections::BTreeMap;

use lindung::{proto::v1 as pb, signing::Signer};

use crate::{
    audit_chain::{audit_client, sealed_and_checkpointed},
    contributions::issue,
    coverage::pay,
    enrollments::{active_cohort_until, confirm_all_pending, create_subsidy_between, register, submission, submit_all},
    feed::{events_through, subscribe, written},
    helpers::{ResultLine, TestApp, bogor_worker, lindung, result_file},
};

/// (row, outcome, reason) of every line.
fn outcomes(lines: &[ResultLine]) -> Vec<(usize, &str, &str)> {
    lines.iter().map(|l| (l.row, l.outcome.as_str(), l.reason.as_str())).collect()
}

fn masked(nik: &str) -> String {
    format!("************{}", &nik[12..])
}

#[tokio::test]
async fn verifying_a_list_of_niks_says_who_is_covered_and_why_the_others_are_not() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_until(&app, 2, "2025-12").await;
    issue(&app, &subsidy, "2025-09").await;
    pay(&app, &subsidy, "33600", "2025-09-10").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cek.csv");
    let (w0, w1, unknown) = (bogor_worker(0).nik, bogor_worker(1).nik, bogor_worker(5).nik);
    // Row 3 asks about October, whose bill is not issued; row 5 is not a NIK.
    std::fs::write(&file, format!("No. KTP;Tanggal\n{w0};\n{w1};20/10/2025\n{unknown};\n12345;\n")).unwrap();
    let file = file.to_str().unwrap();
    let result_path = dir.path().join("cek.result.csv");
    let (server, key) = (format!("http://{}", app.addr), app.keys.bogor.clone());
    let args = ["coverage", "verify", file, "--date", "2025-09-20", "--server", &server, "--key", &key];

    let (ok, _, stderr) = lindung(&[&args[..], &["--dry-run"]].concat()).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("dry run, nothing sent: 4 rows: 1 refused, 3 valid"), "{stderr}");
    let checked = result_file(&result_path);
    assert_eq!(
        outcomes(&checked),
        [(2, "valid", ""), (3, "valid", ""), (4, "valid", ""), (5, "refused", "NIK_LENGTH")]
    );

    let (ok, _, stderr) = lindung(&args).await;
    assert!(ok, "{stderr}");
    let verified = result_file(&result_path);
    assert_eq!(
        outcomes(&verified),
        [
            (2, "covered", "COVERED"),
            (3, "not covered", "MONTH_UNPAID"),
            (4, "not covered", "NOT_ENROLLED"),
            (5, "refused", "NIK_LENGTH")
        ]
    );
    assert_eq!(verified[0].nik, masked(&w0));
    assert_eq!(verified[0].message, "protected on 2025-09-20: paid through 2025-09, contribution months: 1");
    assert_eq!(verified[1].pesan, "tidak terlindungi pada 20 Oktober 2025: iuran bulan itu belum dibayar");
    assert!(verified[3].message.contains("16 digits") && verified[3].pesan.contains("16 digit"), "{:?}", verified[3]);
    assert!(stderr.contains("verified: 4 rows: 1 covered, 2 not covered, 1 refused"), "{stderr}");
    app.stop().await;
}

#[tokio::test]
async fn reconciling_a_list_gives_each_row_its_class_then_the_funded_workers_missing_from_it() {
    let app = TestApp::spawn().await;
    let (city, _) = active_cohort_until(&app, 3, "2025-12").await;
    // Worker 3 is registered but not enrolled; worker 4 is funded by the province.
    register(&app, 3..5).await;
    let province = create_subsidy_between(&app, &app.keys.jabar, "32", 10, "10000000", "2025-09", "2025-12").await;
    submit_all(&app, &app.keys.jabar, vec![submission("j-4".into(), &province, 4)]).await;
    confirm_all_pending(&app).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daftar.csv");
    let w = |n: u32| bogor_worker(n);
    let list = [
        format!("{},{},09/2025", w(0).nik, w(0).full_name),
        format!("{},Siti Aminah,2025-09", w(1).nik),
        format!("{},{},", w(3).nik, w(3).full_name),
        format!("{},{},", w(4).nik, w(4).full_name),
        format!("{},,", w(9).nik),
        "12345,,".to_owned(),
        format!("{},,", w(0).nik),
    ];
    std::fs::write(&file, format!("NIK,Nama,Bulan Pertama\n{}\n", list.join("\n"))).unwrap();
    let file = file.to_str().unwrap();
    let result_path = dir.path().join("daftar.result.csv");
    let (server, key) = (format!("http://{}", app.addr), app.keys.bogor.clone());
    let args = ["reconcile", file, "--subsidy", &city, "--month", "2025-09", "--server", &server, "--key", &key];

    let (ok, _, stderr) = lindung(&[&args[..], &["--dry-run"]].concat()).await;
    assert!(ok, "{stderr}");
    let checked = result_file(&result_path);
    let refused: Vec<_> = outcomes(&checked).into_iter().filter(|l| l.1 != "valid").collect();
    assert_eq!(refused, [(7, "refused", "NIK_LENGTH")]);

    let (ok, _, stderr) = lindung(&args).await;
    assert!(ok, "{stderr}");
    let lines = result_file(&result_path);
    assert_eq!(
        outcomes(&lines),
        [
            (2, "ACTIVE", "MONTH_UNPAID"),
            (3, "ACTIVE", "MONTH_UNPAID, NAME_MISMATCH"),
            (4, "NOT_ENROLLED", ""),
            (5, "FUNDED_BY_OTHER", ""),
            (6, "NOT_REGISTERED", ""),
            (7, "INVALID_ROW", "NIK_LENGTH"),
            (8, "DUPLICATE_ROW", ""),
            (0, "NOT_ON_LIST", ""),
        ]
    );
    assert_eq!(lines[3].message, "funded in the month by a province government");
    assert_eq!(lines[6].pesan, "NIK sudah ada dalam daftar, pada baris 2");
    assert_eq!(lines[7].nik, masked(&w(2).nik), "the missing worker's NIK is masked too");
    let counts: BTreeMap<&str, &str> = stderr
        .lines()
        .filter_map(|l| l.trim().split_once(char::is_whitespace))
        .map(|(class, n)| (class, n.trim()))
        .filter(|(class, _)| class.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    let expected = [
        ("ACTIVE", "2"),
        ("DUPLICATE_ROW", "1"),
        ("FUNDED_BY_OTHER", "1"),
        ("INVALID_ROW", "1"),
        ("NOT_ENROLLED", "1"),
        ("NOT_ON_LIST", "1"),
        ("NOT_REGISTERED", "1"),
    ];
    assert_eq!(counts, BTreeMap::from(expected), "{stderr}");
    assert!(stderr.contains("reconciled 2025-09: 7 rows"), "{stderr}");
    app.stop().await;
}

/// Waits until every event written so far has its position.
async fn sequenced(app: &TestApp) -> u64 {
    let head = written(app).await;
    events_through(&mut subscribe(app, &app.keys.insurer, 0, &[]).await, head).await;
    head
}

/// The events `lindung feed follow` printed: (position, kind, worker NIK).
fn printed(stdout: &str) -> Vec<(u64, String, String)> {
    stdout
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |field: &str| event[field].as_str().unwrap_or_default().to_owned();
            (text("position").parse().unwrap(), text("kind"), text("workerNik"))
        })
        .collect()
}

#[tokio::test]
async fn following_the_feed_twice_with_a_position_file_prints_only_the_new_events_the_second_time() {
    let app = TestApp::spawn().await;
    register(&app, 0..2).await;
    let head = sequenced(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let position = dir.path().join("feed.position");
    let (server, key) = (format!("http://{}", app.addr), app.keys.insurer.clone());
    let args = [
        "feed",
        "follow",
        "--position",
        position.to_str().unwrap(),
        "--until-caught-up",
        "--server",
        &server,
        "--key",
        &key,
    ];

    let (ok, stdout, stderr) = lindung(&args).await;
    assert!(ok, "{stderr}");
    let first = printed(&stdout);
    assert_eq!(first.iter().map(|e| e.0).collect::<Vec<_>>(), (1..=head).collect::<Vec<_>>());
    assert!(first.iter().all(|e| e.1 == "EVENT_KIND_WORKER_REGISTERED"), "{first:?}");
    assert_eq!(std::fs::read_to_string(&position).unwrap().trim(), head.to_string());

    register(&app, 2..3).await;
    let now = sequenced(&app).await;
    assert_eq!(now, head + 1);
    let (ok, stdout, stderr) = lindung(&args).await;
    assert!(ok, "{stderr}");
    assert_eq!(printed(&stdout), [(now, "EVENT_KIND_WORKER_REGISTERED".to_owned(), bogor_worker(2).nik)]);
    assert_eq!(std::fs::read_to_string(&position).unwrap().trim(), now.to_string());

    // Caught up: a third run prints nothing.
    let (ok, stdout, stderr) = lindung(&args).await;
    assert!(ok && stdout.is_empty(), "{stdout}{stderr}");
    app.stop().await;
}

#[tokio::test]
async fn an_audit_records_proof_is_checked_on_the_clients_side_against_the_checkpoints_key() {
    let app = TestApp::spawn().await;
    active_cohort_until(&app, 1, "2025-12").await;
    sealed_and_checkpointed(&app).await;
    let own = audit_client(&app, &app.keys.bogor)
        .await
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let record = own.records.last().unwrap();
    let (server, key, id) = (format!("http://{}", app.addr), app.keys.bogor.clone(), record.id.to_string());
    let args = ["audit", "prove", "--id", &id, "--server", &server, "--key", &key];

    let (ok, stdout, stderr) = lindung(&args).await;
    assert!(ok, "{stderr}");
    let seq = record.seq.unwrap();
    assert!(stdout.starts_with(&format!("record seq {seq} (id {id}, {}", record.method)), "{stdout}");
    assert!(stdout.contains("is in the audit chain"), "{stdout}");

    // The same record by its position, trusting only the key given.
    let public = hex::encode(Signer::new([9; 32]).public_key().bytes);
    let (seq, other) = (seq.to_string(), hex::encode(Signer::new([8; 32]).public_key().bytes));
    let by_position = ["audit", "prove", "--position", &seq, "--server", &server, "--key", &key];
    let (ok, _, stderr) = lindung(&[&by_position[..], &["--public-key", &public]].concat()).await;
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = lindung(&[&by_position[..], &["--public-key", &other]].concat()).await;
    assert!(!ok && stderr.contains("the proof does not hold"), "{stderr}");
    app.stop().await;
}
