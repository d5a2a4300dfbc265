//! `lindung reconcile`: a funder's list compared with the shared truth over `ReconcileService.Reconcile`, one stream
//! for the whole list (a list is compared only whole: the missing workers are those not on it). It changes nothing,
//! so a re-run is always safe.

use futures::StreamExt;

use super::{
    Refusal,
    report::{self, Line},
    sheet::{self, Column, Sheet},
};
use crate::{
    config::ReconcileArgs,
    messages::{Arg, Locale, Message},
    month::Month,
    msg,
    proto::v1::{
        self as pb, reconcile_request::Item as In, reconcile_response::Item as Out,
        reconcile_service_client::ReconcileServiceClient,
    },
    reconcile::{ListRow, parse_row},
};

const NIK: usize = 0;
const NAME: usize = 1;
const FIRST_MONTH: usize = 2;

/// The columns of a funder's list, in the order of the constants above; the aliases are listed in README.
pub const COLUMNS: &[Column] = &[
    sheet::NIK,
    Column { required: false, ..sheet::FULL_NAME },
    Column {
        name: "first month",
        aliases: &["bulanpertama", "bulanmulai", "mulaibulan", "firstmonth", "startmonth"],
        required: false,
    },
];

/// A row of the file: its line in the spreadsheet, and the list row sent for it.
struct Entry {
    row: usize,
    list: ListRow,
}

pub async fn reconcile(args: ReconcileArgs) -> anyhow::Result<()> {
    if let Some(month) = &args.month {
        Month::parse(month).map_err(|e| anyhow::anyhow!("--month {month}: {}", e.message().english()))?;
    }
    let sheet = Sheet::read(&args.sheet.file, COLUMNS)?;
    let entries: Vec<Entry> = sheet
        .rows
        .iter()
        .map(|row| {
            let list = ListRow {
                nik: sheet::nik(sheet.cell(row, NIK)),
                full_name: sheet.cell(row, NAME).to_owned(),
                first_month: month(sheet.cell(row, FIRST_MONTH)),
            };
            Entry { row: row.number, list }
        })
        .collect();
    let bar = report::progress(entries.len(), if args.sheet.dry_run { "checking" } else { "reconciling" });
    let path = report::result_path(&args.sheet.file, args.sheet.result.as_deref());
    if args.sheet.dry_run {
        let lines: Vec<Line> = entries
            .iter()
            .map(|e| {
                bar.inc(1);
                match parse_row(&e.list).violations.as_slice() {
                    [] => Line::new(e.row, &e.list.nik, "valid", None),
                    violations => Line::new(e.row, &e.list.nik, "refused", Some(Refusal::from_violations(violations))),
                }
            })
            .collect();
        bar.finish_and_clear();
        let files = written(report::write(&path, &lines, sheet.is_xlsx)?);
        eprintln!("dry run, nothing sent: {}; result in {files}", report::summary(&lines));
        return Ok(());
    }
    let mut client = ReconcileServiceClient::new(super::connect(&args.sheet.server).await?)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    let result = send(&mut client, &args, &entries, &bar).await;
    bar.finish_and_clear();
    match result {
        Ok((lines, summary)) => {
            let files = written(report::write(&path, &lines, sheet.is_xlsx)?);
            eprintln!("reconciled {}: {} rows; result in {files}", summary.month, summary.rows);
            for count in summary.counts.iter().filter(|c| c.count > 0) {
                eprintln!("  {:<16} {}", class_name(count.class()), count.count);
            }
            eprintln!(
                "  {} names and {} first months differ from the store",
                summary.name_mismatches, summary.first_month_mismatches
            );
            Ok(())
        }
        Err(status) => {
            let refusal = Refusal::from_call(&status);
            let lines: Vec<Line> =
                entries.iter().map(|e| Line::new(e.row, &e.list.nik, "not sent", Some(refusal.clone()))).collect();
            let files = written(report::write(&path, &lines, sheet.is_xlsx)?);
            eprintln!("nothing compared; result in {files}");
            Err(anyhow::Error::new(status).context("the server refused the reconciliation"))
        }
    }
}

fn written(files: Vec<std::path::PathBuf>) -> String {
    files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" and ")
}

/// Streams the start and every row; answers a line per difference, in the server's order (the rows in list
/// order, then the funded workers missing from the list), and the summary.
async fn send(
    client: &mut ReconcileServiceClient<super::Authed>,
    args: &ReconcileArgs,
    entries: &[Entry],
    bar: &indicatif::ProgressBar,
) -> Result<(Vec<Line>, pb::ReconcileSummary), tonic::Status> {
    let start =
        pb::ReconcileStart { subsidy_ids: args.subsidies.clone(), month: args.month.clone().unwrap_or_default() };
    let rows = entries.iter().map(|e| {
        let row = pb::ListRow {
            nik: e.list.nik.clone(),
            full_name: e.list.full_name.clone(),
            first_month: e.list.first_month.clone(),
        };
        pb::ReconcileRequest { item: Some(In::Row(row)) }
    });
    let messages: Vec<pb::ReconcileRequest> =
        std::iter::once(pb::ReconcileRequest { item: Some(In::Start(start)) }).chain(rows).collect();
    let mut responses = client.reconcile(futures::stream::iter(messages)).await?.into_inner();
    let mut lines = Vec::with_capacity(entries.len());
    while let Some(response) = responses.next().await {
        match response?.item {
            Some(Out::Difference(d)) => {
                if d.row > 0 {
                    bar.inc(1);
                }
                lines.push(line(&d, entries));
            }
            Some(Out::Summary(summary)) => return Ok((lines, summary)),
            None => {}
        }
    }
    Err(tonic::Status::data_loss(format!("the answer ended without its summary after {} lines", lines.len())))
}

/// One difference as the clerk reads it: the class as the outcome, the sub-codes (why not covered, why refused,
/// which rule, which field differs) as the reason, and the details in both languages.
fn line(d: &pb::Difference, entries: &[Entry]) -> Line {
    use pb::DifferenceClass as C;
    // A row's position on the list (from 1) as its line in the spreadsheet.
    let entry = |position: u64| (position as usize).checked_sub(1).and_then(|i| entries.get(i));
    let first = || month_arg(&d.enrollment_first_month);
    let mut reasons: Vec<String> = Vec::new();
    let mut messages: Vec<Message> = Vec::new();
    match d.class() {
        C::Active => {
            messages.push(msg!(DIFFERENCE_ACTIVE, first = first()));
            if !d.not_covered_reason.is_empty() {
                reasons.push(d.not_covered_reason.clone());
                messages.push(msg!(DIFFERENCE_NOT_COVERED_YET, reason = &d.not_covered_reason));
            }
        }
        C::Pending => messages.push(msg!(DIFFERENCE_PENDING, first = first())),
        C::Refused => {
            let reason = d.rejection_reason().as_str_name().trim_start_matches("INSURER_REFUSAL_").to_owned();
            messages.push(msg!(DIFFERENCE_REFUSED, reason = &reason));
            reasons.push(reason);
        }
        C::Ended => messages.push(msg!(DIFFERENCE_ENDED)),
        C::Lapsed => messages.push(msg!(DIFFERENCE_LAPSED)),
        C::Deceased => messages.push(msg!(DIFFERENCE_DECEASED)),
        C::NotOnList => messages.push(msg!(DIFFERENCE_NOT_ON_LIST, first = first())),
        C::FundedByOther => {
            let funder = match d.other_funder_kind() {
                pb::AgencyKind::Province => msg!(FUNDER_PROVINCE),
                pb::AgencyKind::Insurer => msg!(FUNDER_INSURER),
                _ => msg!(FUNDER_CITY),
            };
            messages.push(msg!(DIFFERENCE_FUNDED_BY_OTHER, funder = funder));
        }
        C::NotRegistered => messages.push(msg!(DIFFERENCE_NOT_REGISTERED)),
        C::NotEnrolled => messages.push(msg!(DIFFERENCE_NOT_ENROLLED)),
        C::InvalidRow => {
            // The wire carries the English words; the same rule read here gives them in both languages.
            let local = entry(d.row).map(|e| parse_row(&e.list).violations).unwrap_or_default();
            let refusal = if local.is_empty() {
                let parts: Vec<String> =
                    d.violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect();
                let reasons: Vec<&str> = d.violations.iter().map(|v| v.reason.as_str()).collect();
                Refusal { reason: reasons.join(", "), message_en: parts.join("; "), message_id: parts.join("; ") }
            } else {
                Refusal::from_violations(&local)
            };
            let row = entry(d.row).map_or(0, |e| e.row);
            return Line::new(row, &d.nik, class_name(C::InvalidRow), Some(refusal));
        }
        C::DuplicateRow => {
            let first_row = entry(d.first_row).map_or(d.first_row as usize, |e| e.row);
            messages.push(msg!(DIFFERENCE_DUPLICATE_ROW, row = first_row.to_string()));
        }
        C::Unspecified => {}
    }
    if d.name_mismatch {
        reasons.push("NAME_MISMATCH".into());
        messages.push(msg!(DIFFERENCE_NAME_MISMATCH));
    }
    if d.first_month_mismatch {
        reasons.push("FIRST_MONTH_MISMATCH".into());
        messages.push(msg!(DIFFERENCE_FIRST_MONTH_MISMATCH, first = first()));
    }
    let words = |locale: Locale| messages.iter().map(|m| m.render(locale)).collect::<Vec<_>>().join("; ");
    let refusal = Refusal { reason: reasons.join(", "), message_en: words(Locale::En), message_id: words(Locale::Id) };
    let row = entry(d.row).map_or(0, |e| e.row);
    Line::new(row, &d.nik, class_name(d.class()), Some(refusal))
}

/// `ACTIVE`, `NOT_ON_LIST`, …: the class without the enum's prefix.
fn class_name(class: pb::DifferenceClass) -> &'static str {
    class.as_str_name().trim_start_matches("DIFFERENCE_CLASS_")
}

fn month_arg(text: &str) -> Arg {
    Month::parse(text).map_or_else(|_| Arg::from(text), Arg::from)
}

/// A first month as clerks write it (`2025-09`, `09/2025`, `9-2025`, or a date of the month) as `YYYY-MM`; anything
/// else unchanged, for the rules to judge.
fn month(text: &str) -> String {
    let date = sheet::date(text);
    let parts: Vec<&str> = date.split(['/', '-', '.']).collect();
    match parts.as_slice() {
        [y, m, _] if y.len() == 4 && m.len() == 2 => format!("{y}-{m}"),
        [m, y] if y.len() == 4 && m.len() <= 2 => format!("{y}-{m:0>2}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_months_are_read_as_clerks_write_them() {
        for (input, expected) in [
            ("2025-09", "2025-09"),
            ("09/2025", "2025-09"),
            ("9-2025", "2025-09"),
            ("01/09/2025", "2025-09"),
            ("2025-09-01", "2025-09"),
            ("", ""),
            ("September", "September"),
        ] {
            assert_eq!(month(input), expected, "{input}");
        }
    }

    #[test]
    fn a_difference_reads_as_its_class_its_sub_codes_and_its_details_in_both_languages() {
        let entries: Vec<Entry> = (0..3)
            .map(|i| Entry { row: i + 2, list: ListRow { nik: format!("327101450590000{i}"), ..Default::default() } })
            .collect();
        let active = pb::Difference {
            row: 1,
            class: pb::DifferenceClass::Active as i32,
            nik: "3271014505900001".into(),
            enrollment_first_month: "2025-09".into(),
            not_covered_reason: "MONTH_UNPAID".into(),
            name_mismatch: true,
            ..Default::default()
        };
        let l = line(&active, &entries);
        assert_eq!((l.row, l.outcome.as_str(), l.reason.as_str()), (2, "ACTIVE", "MONTH_UNPAID, NAME_MISMATCH"));
        assert_eq!(
            l.message_id,
            "terdaftar sejak September 2025 dan aktif; bulan itu belum terlindungi (MONTH_UNPAID); nama berbeda dengan \
             nama terdaftar"
        );
        let duplicate = pb::Difference {
            row: 3,
            class: pb::DifferenceClass::DuplicateRow as i32,
            first_row: 1,
            ..Default::default()
        };
        assert_eq!(line(&duplicate, &entries).message_en, "the NIK is on the list already, at row 2");
        let missing = pb::Difference {
            row: 0,
            class: pb::DifferenceClass::NotOnList as i32,
            nik: "3271014505909999".into(),
            ..Default::default()
        };
        let l = line(&missing, &entries);
        assert_eq!((l.row, l.outcome.as_str(), l.nik.as_str()), (0, "NOT_ON_LIST", "************9999"));
    }
}
