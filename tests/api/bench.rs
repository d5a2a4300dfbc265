//! `lindung bench --smoke`: the benchmark program runs end to end on a tiny store (its figures are not checked:
//! nothing here asserts a duration; docs/PERFORMANCE.md has the real runs).

use crate::helpers::lindung;

#[tokio::test]
async fn the_benchmark_program_measures_every_figure_beside_its_floor() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.md");
    let (ok, stdout, stderr) = lindung(&["bench", "--smoke", "--out", out.to_str().unwrap()]).await;
    assert!(ok, "lindung bench --smoke failed:\n{stdout}\n{stderr}");
    let report = std::fs::read_to_string(&out).unwrap();
    assert_eq!(report.trim(), stdout.lines().filter(|l| !l.contains(" INFO ")).collect::<Vec<_>>().join("\n").trim());
    for measure in [
        "IssueBill, one month, 2000 lines",
        "VerifyCoverage, 1 callers: calls/s",
        "VerifyCoverage, 16 callers: p50 / p99 / p999",
        "no-op handler, 64 callers (ceiling)",
        "VerifyCoverageStream, 1000 checks",
        "SubmitEnrollments, 500 new workers",
        "3 feed subscribers following",
        "feed subscriber during the load",
        "windows after the load",
        "peak RSS",
    ] {
        assert!(report.contains(measure), "no {measure:?} in\n{report}");
    }
}
