//! Reading a clerk's spreadsheet: CSV or XLSX (the first sheet) by extension, a header row whose column names are
//! matched loosely (case, spaces and punctuation ignored, English and Indonesian names), every cell as text.

use std::path::Path;

use anyhow::{Context, bail};
use calamine::{Data, Reader};
use sha2::Digest;

/// One column a command reads: its name in messages, the header names it is known by (already normalised, see
/// [`normalise`]), and whether a file without it is refused before anything is sent.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// The NIK column, by the names clerks give it: every command's file has one.
pub const NIK: Column =
    Column { name: "NIK", aliases: &["nik", "noktp", "nikktp", "nomorktp", "nomorindukkependudukan"], required: true };

/// The full-name column.
pub const FULL_NAME: Column =
    Column { name: "full name", aliases: &["nama", "namalengkap", "fullname", "name"], required: true };

/// A file read whole: the columns found and the rows, each with its line number in the file (the header is 1).
#[derive(Debug)]
pub struct Sheet {
    /// For each wanted column, its position in the file, if any.
    positions: Vec<Option<usize>>,
    pub rows: Vec<Row>,
    /// Whether the file was XLSX (the result is then written as XLSX too).
    pub is_xlsx: bool,
    /// SHA-256 of the file's bytes: with a row number, it names the row's request, so that a re-run of the same file
    /// resends the same requests and the server answers them as before instead of acting twice.
    digest: [u8; 32],
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The row's line number as the clerk sees it in the spreadsheet.
    pub number: usize,
    cells: Vec<String>,
}

/// A header name without case, spaces or punctuation: `No. KTP` and `no_ktp` are both `noktp`.
pub fn normalise(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

impl Sheet {
    /// Reads `path` and finds `columns` in its header row; a missing required column or an unreadable file is one
    /// error naming what is wrong.
    pub fn read(path: &Path, columns: &[Column]) -> anyhow::Result<Sheet> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Sheet::from_bytes(path, &bytes, columns)
    }

    /// Reads a file's `bytes` as [`Sheet::read`] does; `path` only gives the format (by its extension) and names the
    /// file in errors. The digest is of these same bytes, so it names exactly the rows that were read.
    pub fn from_bytes(path: &Path, bytes: &[u8], columns: &[Column]) -> anyhow::Result<Sheet> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        let (is_xlsx, mut lines) = match extension.as_str() {
            "csv" => (false, read_csv(path, bytes)?),
            "xlsx" | "xlsm" => (true, read_xlsx(path, bytes)?),
            _ => bail!("{}: the file must be .csv or .xlsx", path.display()),
        };
        let digest = sha2::Sha256::digest(bytes).into();
        let Some(header_at) = lines.iter().position(|line| line.iter().any(|c| !c.trim().is_empty())) else {
            bail!("{}: the file is empty: it needs a header row and at least one row", path.display());
        };
        let rest = lines.split_off(header_at + 1);
        let header: Vec<String> = lines.pop().unwrap_or_default().iter().map(|h| normalise(h)).collect();
        let positions: Vec<Option<usize>> =
            columns.iter().map(|c| header.iter().position(|h| c.aliases.contains(&h.as_str()))).collect();
        let missing: Vec<String> = columns
            .iter()
            .zip(&positions)
            .filter(|(c, at)| c.required && at.is_none())
            .map(|(c, _)| format!("{} (e.g. {:?})", c.name, c.aliases[0]))
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}: no column for {}; the header row is line {} (names are matched without case, spaces or \
                 punctuation; see README, \"From a spreadsheet\")",
                path.display(),
                missing.join(", "),
                header_at + 1
            );
        }
        let rows = rest
            .into_iter()
            .enumerate()
            .map(|(i, cells)| Row { number: header_at + 2 + i, cells })
            .filter(|row| row.cells.iter().any(|c| !c.trim().is_empty()))
            .collect();
        Ok(Sheet { positions, rows, is_xlsx, digest })
    }

    /// The cell of `row` in the `column`-th wanted column, trimmed; blank when the file has no such column.
    pub fn cell<'a>(&self, row: &'a Row, column: usize) -> &'a str {
        self.positions[column].and_then(|at| row.cells.get(at)).map_or("", |c| c.trim())
    }

    /// The request id of `row` for a command acting in `scope` (e.g. `enroll/<subsidy id>`): the same file, scope and
    /// row give the same id on every run, so a re-run after a failure half-way (or by mistake) is answered by the
    /// server as the first run was. A changed file gives new ids; the rules then refuse what was already done.
    pub fn request_id(&self, scope: &str, row: &Row) -> String {
        let mut hash = sha2::Sha256::new();
        hash.update(scope.as_bytes());
        hash.update([0]);
        hash.update(self.digest);
        let key = hex::encode(&hash.finalize()[..12]);
        format!("file-{key}-row-{}", row.number)
    }

    /// Whether the file has the `column`-th wanted column.
    pub fn has(&self, column: usize) -> bool {
        self.positions[column].is_some()
    }
}

/// A NIK as typed, without the spaces, dots and dashes clerks group its digits with.
pub fn nik(text: &str) -> String {
    text.replace([' ', '.', '-'], "")
}

/// `31/12/1990` or `31-12-1990` (day first, as written in Indonesia) as `1990-12-31`; anything else unchanged.
pub fn date(text: &str) -> String {
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    match parts.as_slice() {
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => text.to_owned(),
    }
}

fn read_csv(path: &Path, bytes: &[u8]) -> anyhow::Result<Vec<Vec<String>>> {
    // Excel saves CSV with `;` in Indonesian locales: take whichever separator the first line uses more.
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |sep| first.iter().filter(|b| **b == sep).count();
    let delimiter = if count(b';') > count(b',') { b';' } else { b',' };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(bytes);
    reader
        .records()
        .map(|record| {
            let record = record.with_context(|| format!("{} is not a readable CSV file", path.display()))?;
            Ok(record.iter().map(str::to_owned).collect())
        })
        .collect()
}

/// Excel's own limits: a reference beyond them is not a cell of a file Excel wrote.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;

/// The most cells (empty ones before a row's last cell included) a file may spread its rows over: far above any
/// clerk's list (100,000 workers of 20 columns), far below what would exhaust memory.
const MAX_CELLS: usize = 10_000_000;

fn read_xlsx(path: &Path, bytes: &[u8]) -> anyhow::Result<Vec<Vec<String>>> {
    let unreadable = || format!("{} is not a readable XLSX file", path.display());
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).with_context(unreadable)?;
    let name = workbook.sheet_names().first().cloned().with_context(|| format!("{} has no sheet", path.display()))?;
    // Cell by cell, not as calamine's `Range`: a range is dense from the first cell to the last, so two cells at A1
    // and XFD1048576 of a file of a few hundred bytes would be 17 billion cells.
    let mut cells = workbook.worksheet_cells_reader(&name).with_context(unreadable)?;
    // Rows and columns before a row's first cell stay empty, so that line numbers and columns match Excel's.
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut spread = 0;
    while let Some(cell) = cells.next_cell().with_context(unreadable)? {
        let (row, column) = cell.get_position();
        if row >= MAX_ROWS || column >= MAX_COLUMNS {
            bail!("{}: a cell lies beyond Excel's last row or column", path.display());
        }
        let (row, column) = (row as usize, column as usize);
        if lines.len() <= row {
            lines.resize_with(row + 1, Vec::new);
        }
        let line = &mut lines[row];
        if line.len() <= column {
            spread += column + 1 - line.len();
            if spread > MAX_CELLS {
                bail!("{}: the sheet spreads over more than {MAX_CELLS} cells", path.display());
            }
            line.resize(column + 1, String::new());
        }
        line[column] = text(&Data::from(cell.get_value().clone()));
    }
    Ok(lines)
}

/// A cell as the clerk sees it: whole numbers without `.0` (a NIK typed as a number), dates as `YYYY-MM-DD`.
fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            // Excel's serial day 0 is 1899-12-30 (its 1900 leap-year bug included).
            let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("a valid date");
            // A serial beyond any calendar (the file's to choose) is shown as written, not a panic.
            let days = chrono::Duration::try_days(d.as_f64().floor() as i64);
            days.and_then(|days| epoch.checked_add_signed(days)).map_or_else(|| d.to_string(), |d| d.to_string())
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column { name: "NIK", aliases: &["nik", "noktp"], required: true },
        Column { name: "phone", aliases: &["nohp"], required: false },
    ];

    #[test]
    fn headers_are_matched_without_case_spaces_or_punctuation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        std::fs::write(&path, "\u{feff}No. KTP;Nama\n3271014505900001;Siti\n;\n3271014505900002;Ani\n").unwrap();
        let sheet = Sheet::read(&path, COLUMNS).unwrap();
        assert!(!sheet.is_xlsx && !sheet.has(1));
        let cells: Vec<(usize, &str)> = sheet.rows.iter().map(|r| (r.number, sheet.cell(r, 0))).collect();
        assert_eq!(cells, [(2, "3271014505900001"), (4, "3271014505900002")]);
    }

    #[test]
    fn a_file_without_a_required_column_is_refused_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        std::fs::write(&path, "nama,no hp\nSiti,0812\n").unwrap();
        let error = Sheet::read(&path, COLUMNS).unwrap_err().to_string();
        assert!(error.contains("no column for NIK"), "{error}");
        let other = dir.path().join("w.txt");
        std::fs::write(&other, "nik\n1\n").unwrap();
        assert!(Sheet::read(&other, COLUMNS).unwrap_err().to_string().contains(".csv or .xlsx"));
    }

    #[test]
    fn an_xlsx_file_with_cells_far_apart_is_read_cell_by_cell_not_as_one_dense_range() {
        // A1 and XFD1048576 in a file of a few kilobytes: as one range, 17 billion cells (found by `fuzz/`, `sheet`).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "nik").unwrap();
        sheet.write_string(1, 0, "3271014505900001").unwrap();
        sheet.write_string(1_048_575, 16_383, "last").unwrap();
        book.save(&path).unwrap();
        let read = Sheet::read(&path, COLUMNS).unwrap();
        let rows: Vec<(usize, &str)> = read.rows.iter().map(|r| (r.number, read.cell(r, 0))).collect();
        assert_eq!(rows, [(2, "3271014505900001"), (1_048_576, "")]);
        assert_eq!(read.rows[1].cells.last().map(String::as_str), Some("last"));
    }

    #[test]
    fn a_date_cell_is_shown_as_a_date_or_as_written_when_no_calendar_has_it() {
        // 1e300 days after 1899-12-30 (found by `fuzz/`, `sheet`): no date, and more days than a `Duration` holds.
        use calamine::ExcelDateTimeType::DateTime;
        let date = |serial: f64| text(&Data::DateTime(calamine::ExcelDateTime::new(serial, DateTime, false)));
        assert_eq!(date(32998.0), "1990-05-05");
        assert_eq!(date(32998.75), "1990-05-05");
        for serial in [1e300, -1e300, 1e15, f64::INFINITY, f64::NAN] {
            assert!(!date(serial).is_empty(), "{serial}");
        }
    }

    #[test]
    fn a_rows_request_id_is_the_same_on_every_run_of_the_same_file_and_scope() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        std::fs::write(&path, "nik\n3271014505900001\n3271014505900002\n").unwrap();
        let first = Sheet::read(&path, COLUMNS).unwrap();
        let again = Sheet::read(&path, COLUMNS).unwrap();
        let id = first.request_id("enroll/a", &first.rows[0]);
        assert_eq!(id, again.request_id("enroll/a", &again.rows[0]));
        assert!(id.starts_with("file-") && id.ends_with("-row-2") && id.len() <= 100, "{id}");
        assert_ne!(id, first.request_id("enroll/a", &first.rows[1]));
        assert_ne!(id, first.request_id("enroll/b", &first.rows[0]));
        std::fs::write(&path, "nik\n3271014505900009\n").unwrap();
        let changed = Sheet::read(&path, COLUMNS).unwrap();
        assert_ne!(id, changed.request_id("enroll/a", &changed.rows[0]));
    }
}
