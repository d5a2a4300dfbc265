//! What a command leaves for the clerk: a progress bar while a bulk command runs and a per-row result file after;
//! a table on the terminal for what a list command answers.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// One row's result as the clerk reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The row's line number in the input file.
    pub row: usize,
    /// Masked but for its last 4 digits.
    pub nik: String,
    /// e.g. `created`, `unchanged`, `valid`, `refused`.
    pub outcome: String,
    pub reason: String,
    pub message_en: String,
    pub message_id: String,
}

impl Line {
    /// Row `row`'s line: its NIK masked, its outcome, and why when it was refused (or warned).
    pub fn new(row: usize, nik: &str, outcome: &str, refusal: Option<super::Refusal>) -> Line {
        let refusal = refusal.unwrap_or_default();
        Line {
            row,
            nik: super::masked(nik),
            outcome: outcome.to_owned(),
            reason: refusal.reason,
            message_en: refusal.message_en,
            message_id: refusal.message_id,
        }
    }
}

/// One row of a bulk command as it is sent: its line in the file, its NIK (for the result line) and the request.
pub struct Entry<R> {
    pub row: usize,
    pub nik: String,
    pub request: R,
}

/// Rows per stream: a failure loses at most one batch, which a re-run sends again.
pub const BATCH: usize = 1_000;

/// Sends `entries` batch by batch, one stream each; on a failed call, the rows not answered are marked `not sent`
/// and the error is given back beside the lines.
pub async fn in_batches<R>(
    entries: &[Entry<R>],
    mut send: impl AsyncFnMut(&[Entry<R>]) -> Result<Vec<Line>, tonic::Status>,
) -> (Vec<Line>, Option<anyhow::Error>) {
    let mut lines = Vec::with_capacity(entries.len());
    for batch in entries.chunks(BATCH) {
        match send(batch).await {
            Ok(answered) => lines.extend(answered),
            Err(error) => {
                let refusal = super::Refusal::from_call(&error);
                for e in &entries[lines.len()..] {
                    lines.push(Line::new(e.row, &e.nik, "not sent", Some(refusal.clone())));
                }
                return (lines, Some(anyhow::Error::new(error).context("the server refused the call")));
            }
        }
    }
    (lines, None)
}

/// A dry run: each entry judged by `check` (the server's own parsers: why it would be refused, if it would), as a
/// `valid` or `refused` line; the bar moves on for each.
pub fn dry_run<R>(
    entries: &[Entry<R>],
    bar: &ProgressBar,
    check: impl Fn(&Entry<R>) -> Option<super::Refusal>,
) -> Vec<Line> {
    entries
        .iter()
        .map(|e| {
            bar.inc(1);
            let refusal = check(e);
            Line::new(e.row, &e.nik, if refusal.is_some() { "refused" } else { "valid" }, refusal)
        })
        .collect()
}

/// A stream that ends before answering every row lost the rest: the batch failed.
pub fn answered_all(lines: &[Line], sent: usize) -> Result<(), tonic::Status> {
    if lines.len() == sent {
        Ok(())
    } else {
        Err(tonic::Status::data_loss(format!("the server answered {} of {sent} rows", lines.len())))
    }
}

/// Writes the result file and the closing line (`done` names what a real run did); a failed call is the command's
/// error, and a re-run of the same file resumes it.
pub fn finish(
    args: &crate::config::SheetArgs,
    xlsx: bool,
    lines: &[Line],
    failure: Option<anyhow::Error>,
    done: &str,
) -> anyhow::Result<()> {
    let path = result_path(&args.file, args.result.as_deref());
    let files = write(&path, lines, xlsx)?;
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let what = if args.dry_run { "dry run, nothing sent" } else { done };
    eprintln!("{what}: {}; result in {}", summary(lines), files.join(" and "));
    match failure {
        Some(error) => Err(error.context("the command stopped; re-run the same file to send the rest")),
        None => Ok(()),
    }
}

const HEADER: [&str; 6] = ["row", "nik", "outcome", "reason", "message", "pesan"];

/// The result file's path: `--result`, else `<input>.result.csv` beside the input.
pub fn result_path(input: &Path, given: Option<&Path>) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| {
        let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        input.with_file_name(format!("{stem}.result.csv"))
    })
}

/// Writes the CSV at `path` (with a `.csv` extension), and the same as XLSX beside it when `xlsx`; answers the files.
pub fn write(path: &Path, lines: &[Line], xlsx: bool) -> anyhow::Result<Vec<PathBuf>> {
    let csv_path = path.with_extension("csv");
    let mut writer =
        csv::Writer::from_path(&csv_path).with_context(|| format!("cannot write {}", csv_path.display()))?;
    writer.write_record(HEADER)?;
    for l in lines {
        writer.write_record([&l.row.to_string(), &l.nik, &l.outcome, &l.reason, &l.message_en, &l.message_id])?;
    }
    writer.flush()?;
    let mut written = vec![csv_path];
    if xlsx {
        let xlsx_path = path.with_extension("xlsx");
        write_xlsx(&xlsx_path, lines).with_context(|| format!("cannot write {}", xlsx_path.display()))?;
        written.push(xlsx_path);
    }
    Ok(written)
}

fn write_xlsx(path: &Path, lines: &[Line]) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, l.row as f64)?;
        for (c, text) in [&l.nik, &l.outcome, &l.reason, &l.message_en, &l.message_id].into_iter().enumerate() {
            sheet.write_string(r, c as u16 + 1, text)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    book.save(path)
}

/// A progress bar with rate and ETA on stderr, hidden when stderr is not a terminal (a log file, a pipe).
pub fn progress(rows: usize, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows as u64);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows, {per_sec}, ETA {eta}")
        .expect("a valid template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// The closing line: how many rows ended how.
pub fn summary(lines: &[Line]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for l in lines {
        *counts.entry(l.outcome.as_str()).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(outcome, n)| format!("{n} {outcome}")).collect();
    format!("{} rows: {}", lines.len(), parts.join(", "))
}

/// A table for the terminal: a header line, then a line per row, each column as wide as its widest cell; the
/// columns numbered in `right` (amounts, counts) are aligned right.
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| if right.contains(&c) { format!("{cell:>w$}") } else { format!("{cell:<w$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_its_columns_and_aligns_amounts_right() {
        let rows = vec![
            vec!["2025-09".to_owned(), "Rp132,619,200".to_owned(), "paid".to_owned()],
            vec!["2025-10".to_owned(), "Rp16,800".to_owned(), "unpaid".to_owned()],
        ];
        assert_eq!(
            table(&["month", "billed", "status"], &rows, &[1]),
            "month           billed  status\n2025-09  Rp132,619,200  paid\n2025-10       Rp16,800  unpaid\n"
        );
    }

    #[test]
    fn the_result_is_csv_and_xlsx_when_the_input_was_xlsx() {
        let dir = tempfile::tempdir().unwrap();
        let path = result_path(&dir.path().join("pekerja.xlsx"), None);
        assert_eq!(path.file_name().unwrap(), "pekerja.result.csv");
        let line = Line {
            row: 2,
            nik: "************0001".into(),
            outcome: "refused".into(),
            reason: "NIK_LENGTH".into(),
            message_en: "too short".into(),
            message_id: "terlalu pendek".into(),
        };
        let written = write(&path, std::slice::from_ref(&line), true).unwrap();
        assert_eq!(written.len(), 2);
        let text = std::fs::read_to_string(&written[0]).unwrap();
        assert_eq!(
            text,
            "row,nik,outcome,reason,message,pesan\n2,************0001,refused,NIK_LENGTH,too short,terlalu pendek\n"
        );
        let sheet = super::super::sheet::Sheet::read(
            &written[1],
            &[super::super::sheet::Column { name: "pesan", aliases: &["pesan"], required: true }],
        )
        .unwrap();
        assert_eq!(sheet.cell(&sheet.rows[0], 0), "terlalu pendek");
        assert_eq!(summary(&[line]), "1 rows: 1 refused");
    }
}
