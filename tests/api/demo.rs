//! `lindung demo`: the Kota Bogor story replayed by the real binary, twice, with the same figures.

use std::process::Command;

const LINDUNG: &str = env!("CARGO_BIN_EXE_lindung");

/// The summary lines of one run (the claim ids differ between runs; the figures must not).
fn run_demo() -> Vec<String> {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(LINDUNG)
        .args(["demo", "--seed", "1", "--exit", "--listen", "127.0.0.1:0"])
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

#[test]
fn the_kota_bogor_demo_protects_22474_workers_and_pays_two_death_claims_the_same_every_run() {
    let first = run_demo();
    let text = first.join("\n");
    assert!(text.contains("22474 workers protected as of 2025-09-30"), "{text}");
    assert!(text.contains("Pemerintah Kota Bogor: 7894 active enrollments, Rp132,619,200 a month"), "{text}");
    assert_eq!(text.matches("): Rp10,000,000 paid").count(), 2, "{text}");
    assert!(text.contains("DOUBLE_FUNDING: 25"), "{text}");
    assert_eq!(run_demo(), first);
}
