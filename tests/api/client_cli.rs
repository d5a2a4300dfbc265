//! The client commands as a clerk runs them: the real `lindung` binary against a real server, with a spreadsheet.

use std::collections::BTreeSet;

use crate::helpers::{TestApp, bogor_worker, lindung, result_file};

/// Writes `rows` workers of Kota Bogor as an XLSX file the way a social-affairs office would, with Indonesian
/// headers, and answers the line numbers of the planted invalid rows: those the rules catch without the store,
/// and those only the server can catch (a village not in the area list).
fn workbook(path: &std::path::Path, rows: u32) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header =
        ["No. KTP", "Nama Lengkap", "Tanggal Lahir", "Jenis Kelamin", "Kode Desa", "Pekerjaan", "Desil", "No HP"];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let (mut local, mut server_only) = (BTreeSet::new(), BTreeSet::new());
    for n in 0..rows {
        let w = bogor_worker(n);
        let line = n as usize + 2;
        let (mut nik, mut name, mut village, mut decile) =
            (w.nik.clone(), w.full_name.clone(), w.domicile_village_code, 2.0);
        match (n % 1_117 == 5).then_some(n / 1_117 % 4) {
            Some(0) => nik.truncate(15),
            Some(1) => name.clear(),
            Some(2) => decile = 11.0,
            Some(_) => village = "32.71.01.1099".into(),
            None => {}
        }
        match (n % 1_117 == 5).then_some(n / 1_117 % 4) {
            Some(0..=2) => local.insert(line),
            Some(_) => server_only.insert(line),
            None => false,
        };
        let (y, m, d) = (&w.birth_date[..4], &w.birth_date[5..7], &w.birth_date[8..]);
        let r = n + 1;
        sheet.write_string(r, 0, &nik).unwrap();
        sheet.write_string(r, 1, &name).unwrap();
        sheet.write_string(r, 2, format!("{d}/{m}/{y}")).unwrap();
        sheet.write_string(r, 3, "P").unwrap();
        sheet.write_string(r, 4, &village).unwrap();
        sheet.write_string(r, 5, "Penjahit").unwrap();
        sheet.write_number(r, 6, decile).unwrap();
        sheet.write_string(r, 7, &w.phone).unwrap();
    }
    book.save(path).unwrap();
    (local, server_only)
}

/// The rows of a result CSV: (line number, masked NIK, outcome, reason).
fn result(path: &std::path::Path) -> Vec<(usize, String, String, String)> {
    result_file(path).into_iter().map(|l| (l.row, l.nik, l.outcome, l.reason)).collect()
}

fn refused(lines: &[(usize, String, String, String)]) -> BTreeSet<usize> {
    lines.iter().filter(|l| l.2 == "refused").map(|l| l.0).collect()
}

async fn workers(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from workers").fetch_one(&app.pool).await.unwrap()
}

async fn import_a_spreadsheet(rows: u32) {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pekerja.xlsx");
    let (local, server_only) = workbook(&file, rows);
    let file = file.to_str().unwrap();
    let server = format!("http://{}", app.addr);
    let key = app.keys.bogor.as_str();
    let result_path = dir.path().join("pekerja.result.csv");

    // A dry run checks every row with lindung's own rules and changes nothing.
    let (ok, _, stderr) = lindung(&["workers", "import", file, "--dry-run"]).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains(&format!("dry run, nothing sent: {rows} rows")), "{stderr}");
    let checked = result(&result_path);
    assert_eq!(checked.len(), rows as usize);
    assert_eq!(refused(&checked), local, "the dry run refuses exactly the rows the rules catch without the store");
    assert_eq!(workers(&app).await, 0, "a dry run changes nothing in the store");

    // The import refuses exactly the invalid rows, and says why in both columns.
    let (ok, _, stderr) = lindung(&["workers", "import", file, "--server", &server, "--key", key]).await;
    assert!(ok, "{stderr}");
    let imported = result(&result_path);
    let planted: BTreeSet<usize> = local.union(&server_only).copied().collect();
    assert_eq!(refused(&imported), planted);
    assert!(imported.iter().all(|l| l.2 == "refused" || l.2 == "created"), "{:?}", &imported[..3]);
    assert!(imported.iter().filter(|l| l.2 == "refused").all(|l| !l.3.is_empty()), "every refusal has a reason");
    let (first, second) = (bogor_worker(0).nik, &imported[0].1);
    assert_eq!(second, &format!("************{}", &first[12..]), "the NIK is masked but for its last 4 digits");
    assert!(dir.path().join("pekerja.result.xlsx").exists(), "an XLSX input gets an XLSX result too");
    assert_eq!(workers(&app).await, i64::from(rows) - planted.len() as i64);

    // Re-running the same file is safe: nothing changes.
    let (ok, _, stderr) = lindung(&["workers", "import", file, "--server", &server, "--key", key]).await;
    assert!(ok, "{stderr}");
    let again = result(&result_path);
    assert_eq!(refused(&again), planted);
    assert!(again.iter().all(|l| l.2 == "refused" || l.2 == "unchanged"));
    assert_eq!(workers(&app).await, i64::from(rows) - planted.len() as i64);
    app.stop().await;
}

/// The figure: 22,474 rows, imported three times (a dry run, the import, a re-run).
#[tokio::test]
async fn importing_22474_workers_refuses_exactly_the_invalid_rows_and_a_dry_run_changes_nothing() {
    import_a_spreadsheet(22_474).await;
}

#[tokio::test]
async fn a_wrong_file_gets_one_clear_error_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daftar.csv");
    std::fs::write(&file, "nama,no hp\nSiti,0812\n").unwrap();
    // No server listens there: the file is refused before any connection is tried.
    let (ok, _, stderr) =
        lindung(&["workers", "import", file.to_str().unwrap(), "--server", "http://127.0.0.1:9", "--key", "x"]).await;
    assert!(!ok);
    assert!(stderr.contains("no column for NIK"), "{stderr}");
    assert!(!stderr.contains("cannot reach"), "{stderr}");
}
