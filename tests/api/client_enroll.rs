//! The enrollment commands as the clerks run them: the real `lindung` binary against a real server. The city
//! enrolls a spreadsheet of NIKs into its subsidy, the insurer exports what is pending, fills in its decisions and
//! sends them back; every step re-run changes nothing.

use lindung::proto::v1 as pb;

use crate::{
    enrollments::{create_subsidy_between, enrollments, register, submission, submit_all},
    helpers::{TestApp, bogor_worker, lindung, result_file},
};

/// The rows of a result CSV: (line number, masked NIK, outcome, reason, message, pesan).
fn result(path: &std::path::Path) -> Vec<(usize, String, String, String, String, String)> {
    result_file(path).into_iter().map(|l| (l.row, l.nik, l.outcome, l.reason, l.message, l.pesan)).collect()
}

/// (line, outcome, reason) of every result line.
fn outcomes(path: &std::path::Path) -> Vec<(usize, String, String)> {
    result(path).into_iter().map(|l| (l.0, l.2, l.3)).collect()
}

fn expect(lines: &[(usize, &str, &str)]) -> Vec<(usize, String, String)> {
    lines.iter().map(|(l, o, r)| (*l, o.to_string(), r.to_string())).collect()
}

async fn enrollment_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from enrollments").fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn a_city_enrolls_a_spreadsheet_and_the_insurer_decides_it_from_the_exported_file() {
    let app = TestApp::spawn().await;
    let server = format!("http://{}", app.addr);
    let (city_key, insurer_key) = (app.keys.bogor.as_str(), app.keys.insurer.as_str());
    register(&app, 0..6).await;
    let city = create_subsidy_between(&app, city_key, "32.71", 100, "1000000000", "2025-09", "2025-12").await;
    // The province funds worker 5 already: the city's row for them is double funding.
    let province = create_subsidy_between(&app, &app.keys.jabar, "32", 100, "1000000000", "2025-09", "2025-12").await;
    let funded = submit_all(&app, &app.keys.jabar, vec![submission("jabar-5".into(), &province, 5)]).await;
    assert!(matches!(funded[0].result, Some(pb::submit_enrollments_response::Result::Enrollment(_))));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("peserta.csv");
    let nik = |n: u32| bogor_worker(n).nik;
    let spaced = {
        let n = nik(2);
        format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..])
    };
    let csv = format!(
        "No. KTP;Bulan Mulai\n{};\n{};10/2025\n{spaced};\n32710145059;\n{};\n{};\n",
        nik(0),
        nik(1),
        bogor_worker(100).nik,
        nik(5)
    );
    std::fs::write(&file, csv).unwrap();
    let file = file.to_str().unwrap();
    let result_path = dir.path().join("peserta.result.csv");
    let submit = ["enrollments", "submit", file, "--subsidy", &city, "--first-month", "2025-09"];

    // A dry run reads every row with the server's own parsers, and enrolls no one.
    let (ok, _, stderr) = lindung(&[&submit[..], &["--dry-run"][..]].concat()).await;
    assert!(ok, "{stderr}");
    let valid = expect(&[(2, "valid", ""), (3, "valid", ""), (4, "valid", ""), (5, "refused", "NIK_LENGTH")]);
    assert_eq!(outcomes(&result_path)[..4], valid[..]);
    assert_eq!(outcomes(&result_path)[4..], expect(&[(6, "valid", ""), (7, "valid", "")])[..]);
    assert_eq!(enrollment_count(&app).await, 1, "a dry run changes nothing");

    let with_server = [&submit[..], &["--server", &server, "--key", city_key][..]].concat();
    let (ok, _, stderr) = lindung(&with_server).await;
    assert!(ok, "{stderr}");
    let first = result(&result_path);
    let enrolled = expect(&[
        (2, "accepted", ""),
        (3, "accepted", ""),
        (4, "accepted", ""),
        (5, "refused", "NIK_LENGTH"),
        (6, "refused", "WORKER_NOT_REGISTERED"),
        (7, "refused", "DOUBLE_FUNDING"),
    ]);
    assert_eq!(outcomes(&result_path), enrolled);
    assert_eq!(first[0].1, format!("************{}", &nik(0)[12..]), "the NIK is masked");
    assert!(first[0].4.starts_with("enrollment ") && first[0].4.ends_with("(pending)"), "{:?}", first[0]);
    let double = &first[5];
    assert!(double.5.starts_with("sudah didanai"), "the refusal in Bahasa Indonesia too: {double:?}");
    assert_eq!(enrollment_count(&app).await, 4);

    // A re-run resends the same request ids: the server answers as the first time, and enrolls no one twice.
    let (ok, _, stderr) = lindung(&with_server).await;
    assert!(ok, "{stderr}");
    assert_eq!(result(&result_path), first);
    assert_eq!(enrollment_count(&app).await, 4);

    // The insurer exports the pending enrollments (the province's too), with the workers' names.
    let pending_path = dir.path().join("pending.csv");
    let pending = pending_path.to_str().unwrap();
    let (ok, _, stderr) =
        lindung(&["enrollments", "pending", "--out", pending, "--server", &server, "--key", insurer_key]).await;
    assert!(ok, "{stderr}");
    let mut reader = csv::Reader::from_path(&pending_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..3], ["enrollment id", "NIK", "name"]);
    let mut rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    assert_eq!(rows.len(), 4);
    let worker_of = |row: &[String]| (0..6).find(|n| nik(*n) == row[1]).unwrap();
    for row in &mut rows {
        let n = worker_of(row);
        assert_eq!(row[2], bogor_worker(n).full_name);
        // Worker 0 and 1 confirmed (1 from October, its first month), 2 refused, the province's 5 left for later.
        match n {
            0 => row[6..9].clone_from_slice(&["terima".into(), "10000000000".into(), "01/09/2025".into()]),
            1 => row[6..9].clone_from_slice(&["Confirm".into(), "10000000001".into(), "2025-10-01".into()]),
            2 => row[6..10].clone_from_slice(&["tolak".into(), "".into(), "".into(), "NIK tidak ditemukan".into()]),
            _ => {}
        }
    }
    rows.sort_by_key(|row| worker_of(row));
    let mut writer = csv::Writer::from_path(&pending_path).unwrap();
    writer.write_record(&header).unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
    let decided_path = dir.path().join("pending.result.csv");
    let decisions = expect(&[(2, "confirmed", ""), (3, "confirmed", ""), (4, "rejected", ""), (5, "skipped", "")]);

    let (ok, _, stderr) = lindung(&["enrollments", "decide", pending, "--dry-run"]).await;
    assert!(ok, "{stderr}");
    let checked = expect(&[(2, "valid", ""), (3, "valid", ""), (4, "valid", ""), (5, "skipped", "")]);
    assert_eq!(outcomes(&decided_path), checked);

    let decide = ["enrollments", "decide", pending, "--server", &server, "--key", insurer_key];
    let (ok, _, stderr) = lindung(&decide).await;
    assert!(ok, "{stderr}");
    assert_eq!(outcomes(&decided_path), decisions);
    let mut insurer = enrollments(&app, insurer_key).await;
    for (row, (status, number)) in rows.iter().zip([
        (pb::EnrollmentStatus::Active, "10000000000"),
        (pb::EnrollmentStatus::Active, "10000000001"),
        (pb::EnrollmentStatus::Rejected, ""),
        (pb::EnrollmentStatus::Pending, ""),
    ]) {
        let request = pb::GetEnrollmentRequest { enrollment_id: row[0].clone() };
        let e = insurer.get_enrollment(request).await.unwrap().into_inner().enrollment.unwrap();
        assert_eq!((e.status(), e.participant_number.as_str()), (status, number), "{row:?}");
        if status == pb::EnrollmentStatus::Rejected {
            assert_eq!(e.rejection_reason(), pb::InsurerRefusal::NikNotFound);
        }
    }

    // Deciding the same file again changes nothing and reads the same.
    let (ok, _, stderr) = lindung(&decide).await;
    assert!(ok, "{stderr}");
    assert_eq!(outcomes(&decided_path), decisions);
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_enrollments_file_gets_one_clear_error_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daftar.csv");
    std::fs::write(&file, "nama,bulan mulai\nSiti,2025-09\n").unwrap();
    let file = file.to_str().unwrap();
    // No server listens there: each file is refused before any connection is tried.
    let server = ["--server", "http://127.0.0.1:9", "--key", "x"];
    let subsidy = "0196a7c0-0000-7000-8000-000000000001";
    let (ok, _, stderr) =
        lindung(&[&["enrollments", "submit", file, "--subsidy", subsidy][..], &server[..]].concat()).await;
    assert!(!ok && stderr.contains("no column for NIK"), "{stderr}");
    assert!(!stderr.contains("cannot reach"), "{stderr}");
    let (ok, _, stderr) = lindung(&[&["enrollments", "decide", file][..], &server[..]].concat()).await;
    assert!(!ok && stderr.contains("no column for enrollment id") && stderr.contains("decision (e.g."), "{stderr}");
    std::fs::write(dir.path().join("niks.csv"), "nik\n3271014505900001\n").unwrap();
    let niks = dir.path().join("niks.csv");
    let args = ["enrollments", "submit", niks.to_str().unwrap(), "--subsidy", subsidy];
    let (ok, _, stderr) = lindung(&[&args[..], &server[..]].concat()).await;
    assert!(!ok && stderr.contains("no --first-month"), "{stderr}");
    let (ok, _, stderr) = lindung(&[&args[..3], &["--subsidy", "kota-bogor"][..], &server[..]].concat()).await;
    assert!(!ok && stderr.contains("is not a subsidy id"), "{stderr}");
}
