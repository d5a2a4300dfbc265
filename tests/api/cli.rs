//! The command line as an operator uses it: global options anywhere, errors without backtraces, plain logs in a
//! file or a pipe.

use std::process::{Command, Output};

use crate::helpers::LINDUNG;

fn lindung(args: &[&str]) -> Output {
    Command::new(LINDUNG)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("LINDUNG_DATA_DIR")
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn global_options_go_before_or_after_the_subcommand_and_errors_are_one_plain_message() {
    let data_dir = tempfile::Builder::new().prefix("lindung-cli-").tempdir_in("/tmp").unwrap();
    let dir = data_dir.path().to_str().unwrap();

    // Before the subcommand; the logs go to a pipe, so they carry no colour codes.
    let migrate = lindung(&["--data-dir", dir, "migrate"]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("area list loaded"));
    let logs = stderr(&migrate);
    assert!(!logs.is_empty(), "the logs go to stderr");
    assert!(!logs.contains('\u{1b}'), "ANSI escape codes in piped logs: {logs:?}");
    assert!(data_dir.path().join("postgres").exists(), "the store was made in --data-dir");

    // After the subcommand.
    let add = ["agency", "add", "--kind", "city", "--region", "32.71", "--name", "Pemerintah Kota Bogor"];
    let first = lindung(&[&add[..], &["--data-dir", dir]].concat());
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("lk_"));

    // A user error, with RUST_BACKTRACE=1 set: one line with its causes, exit status 1, no backtrace.
    let again = lindung(&[&["--data-dir", dir][..], &add].concat());
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    let message = stderr(&again);
    assert!(message.contains("error: "), "{message}");
    assert!(!message.to_lowercase().contains("backtrace"), "{message}");

    // A malformed option value is a user error too.
    let bad = lindung(&["agency", "add", "--kind", "city", "--region", "nowhere", "--name", "X", "--data-dir", dir]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(!stderr(&bad).to_lowercase().contains("backtrace"), "{}", stderr(&bad));
}
