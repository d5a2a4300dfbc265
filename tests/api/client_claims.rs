//! The bills, deaths and claims commands as the insurer's and the city's clerks run them: the real `lindung` binary
//! against a real server.

use std::process::Stdio;

use tokio::io::AsyncReadExt;

use crate::{
    contributions::issue,
    coverage::pay,
    enrollments::active_cohort_between,
    helpers::{self, LINDUNG, TestApp, bogor_worker},
};

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(LINDUNG);
    command.args(args).env_remove("DATABASE_URL").env_remove("LINDUNG_KEY").env_remove("LINDUNG_SERVER");
    command
}

/// Runs `lindung ARGS --server <app> --key KEY`.
async fn lindung(app: &TestApp, key: &str, args: &[&str]) -> Run {
    let server = format!("http://{}", app.addr);
    let (ok, stdout, stderr) = helpers::lindung(&[args, &["--server", &server, "--key", key]].concat()).await;
    Run { ok, stdout, stderr }
}

/// Runs it and expects success.
async fn ok(app: &TestApp, key: &str, args: &[&str]) -> String {
    let run = lindung(app, key, args).await;
    assert!(run.ok, "lindung {args:?} failed: {}", run.stderr);
    run.stdout
}

#[tokio::test]
async fn bills_are_issued_listed_and_paid_and_paying_twice_records_one_payment() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..3, "2025-09", "2025-12").await;
    let (insurer, city) = (app.keys.insurer.as_str(), app.keys.bogor.as_str());
    let s = subsidy.as_str();

    let issued = ok(&app, insurer, &["bills", "issue", "--subsidy", s, "--month", "2025-09"]).await;
    assert!(issued.contains("for 2025-09: 3 workers, billed Rp50,400"), "{issued}");
    assert!(issued.contains("3 lines added"), "{issued}");
    let again = ok(&app, insurer, &["bills", "issue", "--subsidy", s, "--month", "2025-09"]).await;
    assert!(again.contains("no line added"), "issuing again changes nothing: {again}");
    ok(&app, insurer, &["bills", "issue", "--subsidy", s, "--month", "2025-10"]).await;

    let listed = ok(&app, city, &["bills", "list", "--subsidy", s]).await;
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 4, "{listed}");
    assert!(lines[0].starts_with("month") && lines[0].ends_with("status"), "{listed}");
    assert!(lines[1].starts_with("2025-09") && lines[1].contains("Rp50,400") && lines[1].ends_with("unpaid"));
    assert_eq!(lines[3], "credit: Rp0");

    // The city pays both months; the clerk sends the same payment again.
    let payment = ["bills", "pay", "--subsidy", s, "--amount", "100800", "--paid-on", "2025-10-10"];
    let payment = [&payment[..], &["--reference", "SP2D-2025-10-0001"]].concat();
    let first = ok(&app, city, &payment).await;
    let second = ok(&app, city, &payment).await;
    assert!(first.contains("of Rp100,800 on 2025-10-10"), "{first}");
    let id = |out: &str| out.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(id(&first), id(&second), "a resend answers the payment already recorded");
    let payments: i64 = sqlx::query_scalar("select count(*) from payments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(payments, 1);

    let september = ok(&app, city, &["bills", "list", "--subsidy", s, "--month", "2025-09"]).await;
    assert_eq!(september.lines().count(), 3, "{september}");
    assert!(september.lines().nth(1).unwrap().ends_with("Rp0  paid"), "{september}");
    let json = ok(&app, city, &["bills", "list", "--subsidy", s, "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let states: Vec<&str> = json["bills"].as_array().unwrap().iter().map(|b| b["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["BILL_STATE_PAID", "BILL_STATE_PAID"]);
    assert_eq!(json["credit"]["amount"], "0", "the resend was not counted twice");

    // Refusals: the server's, with the reason and both languages; and a malformed amount, before anything is sent.
    let refused = lindung(&app, city, &["bills", "issue", "--subsidy", s, "--month", "2025-11"]).await;
    assert!(!refused.ok);
    assert!(refused.stderr.contains("refused: ") && refused.stderr.contains("pesan:"), "{}", refused.stderr);
    let malformed = command(&["bills", "pay", "--subsidy", s, "--amount", "16.800,00", "--paid-on", "2025-10-10"])
        .args(["--reference", "X", "--server", "http://127.0.0.1:9", "--key", "x"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(!malformed.status.success());
    assert!(stderr.contains("refused: MONEY_FORMAT") && stderr.contains("pesan:"), "{stderr}");
    assert!(!stderr.contains("cannot reach"), "checked before connecting: {stderr}");
    app.stop().await;
}

#[tokio::test]
async fn a_death_is_reported_and_a_death_claim_filed_assessed_approved_and_paid() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..3, "2025-09", "2025-12").await;
    for month in ["2025-09", "2025-10"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "100800", "2025-10-10").await;
    let (insurer, city) = (app.keys.insurer.as_str(), app.keys.bogor.as_str());

    // The city reports one death; reporting it again changes nothing.
    let nik = bogor_worker(2).nik;
    let death = ["workers", "report-death", "--nik", &nik, "--date", "2025-10-25", "--certificate", "3271-KM-9"];
    let reported = ok(&app, city, &death).await;
    assert!(reported.starts_with("death of ************") && reported.contains("recorded (certificate"));
    assert!(reported.contains("ends after the month of death"), "{reported}");
    let again = ok(&app, city, &death).await;
    assert!(again.contains("was recorded already"), "{again}");

    // The insurer files the heirs' claim for another; the same command again answers the same claim.
    let nik = bogor_worker(0).nik;
    let file = [
        "claims",
        "file",
        "--nik",
        &nik,
        "--death-date",
        "2025-10-20",
        "--certificate",
        "3271-KM-1",
        "--heir-name",
        "Budi Santoso",
        "--heir-relationship",
        "spouse",
        "--bank",
        "BRI",
        "--account",
        "0123456789012",
        "--documents",
        "1,2,3,4,5,6,7,8",
    ];
    let filed = lindung(&app, insurer, &file).await;
    assert!(filed.ok, "{}", filed.stderr);
    let id = filed.stdout.trim().to_owned();
    assert!(filed.stderr.contains("status     filed") && filed.stderr.contains("8 present, none missing"));
    assert_eq!(ok(&app, insurer, &file).await.trim(), id, "a resend answers the claim already filed");

    let server = format!("http://{}", app.addr);
    let mut follower = command(&["claims", "follow", &id, "--interval", "100ms", "--server", &server])
        .args(["--key", insurer])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    let assessed = ok(&app, insurer, &["claims", "assess", &id]).await;
    assert!(assessed.contains("status     assessed Rp10,000,000"), "{assessed}");
    assert!(assessed.contains("R2.2  DEATH_BENEFIT  Rp10,000,000"), "{assessed}");
    let approved = ok(&app, insurer, &["claims", "approve", &id]).await;
    assert!(approved.contains("status     approved Rp10,000,000"), "{approved}");
    let paying = ["claims", "pay", &id, "--reference", "PAY-2026-0001", "--paid-on", "2026-01-05"];
    ok(&app, insurer, &paying).await;
    let shown = ok(&app, insurer, &["claims", "show", &id]).await;
    assert!(shown.contains("status     paid Rp10,000,000 on 2026-01-05, reference PAY-2026-0001"), "{shown}");
    assert!(shown.contains("heir       Budi Santoso (spouse), BRI *********9012"), "{shown}");
    let json = ok(&app, city, &["claims", "show", &id, "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["claim"]["status"], "CLAIM_STATUS_PAID");
    assert_eq!(json["claim"]["breakdown"]["total"]["amount"], "10000000");
    assert_eq!(json["claim"]["heirs"], serde_json::json!([]), "a funder does not see the heirs");

    // The follower saw the claim filed, then stopped once it was paid.
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), follower.wait()).await.unwrap().unwrap();
    assert!(status.success());
    let mut followed = String::new();
    follower.stdout.take().unwrap().read_to_string(&mut followed).await.unwrap();
    let followed: Vec<&str> = followed.lines().collect();
    assert!(followed.first().unwrap().ends_with("WIB  filed"), "{followed:?}");
    assert!(followed.last().unwrap().contains("WIB  paid Rp10,000,000"), "{followed:?}");

    let listed = ok(&app, insurer, &["claims", "list", "--status", "paid"]).await;
    assert!(listed.lines().nth(1).unwrap().starts_with(&id), "{listed}");
    assert_eq!(listed.lines().count(), 2, "{listed}");

    // Refused by the server: paid once, never approved again; refused before sending: a NIK too short.
    let refused = lindung(&app, insurer, &["claims", "approve", &id]).await;
    assert!(!refused.ok);
    assert!(refused.stderr.contains("refused: ") && refused.stderr.contains("pesan:"), "{}", refused.stderr);
    let mut bad = file;
    bad[3] = "12345";
    let local = command(&bad).args(["--server", "http://127.0.0.1:9", "--key", "x"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&local.stderr);
    assert!(!local.status.success());
    assert!(stderr.contains("refused: NIK_LENGTH") && stderr.contains("pesan:"), "{stderr}");
    app.stop().await;
}
