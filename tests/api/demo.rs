//! `lindung demo`: the Kota Bogor story replayed by the real binary, twice on a server of its own and once against a
//! running server, with the same figures every time.

use std::process::Command;

use crate::helpers::TestApp;

use crate::helpers::LINDUNG;

/// The summary lines of one run (the claim ids differ between runs; the figures must not).
fn run_demo(args: &[&str]) -> Vec<String> {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(LINDUNG)
        .args(["demo", "--seed", "1", "--exit"])
        .args(args)
        .env("DATABASE_URL", url)
        .env("LINDUNG_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let summary = &stdout[stdout.find("\nSummary").expect("a summary")..stdout.find("\nTry next").expect("commands")];
    summary
        .lines()
        .map(|l| if l.contains("claim ") { l[l.find("):").unwrap()..].to_owned() } else { l.to_owned() })
        .collect()
}

fn assert_the_story(summary: &[String]) {
    let text = summary.join("\n");
    assert!(text.contains("22,474 workers protected as of 2025-09-30"), "{text}");
    assert!(text.contains("Pemerintah Kota Bogor: 7,894 active enrollments, Rp132,619,200 a month"), "{text}");
    assert_eq!(text.matches("): Rp10,000,000 paid").count(), 2, "{text}");
    assert!(text.contains("DOUBLE_FUNDING: 25"), "{text}");
    // The city's list: four of its workers left off, two of the province's, one never registered.
    for class in ["ACTIVE: 7,890", "NOT_ON_LIST: 4", "FUNDED_BY_OTHER: 2", "NOT_REGISTERED: 1"] {
        assert!(text.contains(class), "{class} in {text}");
    }
}

#[test]
fn the_kota_bogor_demo_protects_22474_workers_and_pays_two_death_claims_the_same_every_run() {
    let first = run_demo(&["--listen", "127.0.0.1:0"]);
    assert_the_story(&first);
    assert_eq!(run_demo(&["--listen", "127.0.0.1:0"]), first);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_replays_the_same_story_against_a_running_server() {
    let app = TestApp::spawn().await;
    let server = format!("http://{}", app.addr);
    let keys = [&app.keys.bogor, &app.keys.jabar, &app.keys.insurer];
    let args: Vec<String> = ["--server", &server, "--city-key", keys[0], "--province-key", keys[1]]
        .into_iter()
        .chain(["--insurer-key", keys[2]])
        .map(str::to_owned)
        .collect();
    let summary = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_demo(&args)
    })
    .await
    .unwrap();
    assert_the_story(&summary);

    // Keys of the wrong kinds are refused before anything is sent.
    let swapped = ["--server", &server, "--city-key", keys[1], "--province-key", keys[0], "--insurer-key", keys[2]];
    let output = Command::new(LINDUNG).arg("demo").args(swapped).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("the city's key belongs to"), "{stderr}");
    app.stop().await;
}
