//! `lindung enrollments …`: the enrollment exchange from a spreadsheet. A funder enrolls the NIKs of a file into its
//! subsidy (`submit`, over `SubmitEnrollments`); the insurer exports what awaits it (`pending`), fills in its
//! decisions and sends them back (`decide`, over `DecideEnrollments`). Both bulk commands are safe to re-run: a
//! submission keeps its request id, and the same decision taken again changes nothing.

use std::path::Path;

use anyhow::Context;
use futures::StreamExt;

use super::{
    Authed, Refusal,
    report::{self, Entry, Line, answered_all, in_batches},
    sheet::{self, Column, Sheet, date, nik, normalise},
};
use crate::{
    config::{EnrollmentsCommand, PendingArgs, SheetArgs, SubmitArgs},
    enrollment::convert,
    month::Month,
    proto::v1::{
        self as pb, decide_enrollments_request::Decision, decide_enrollments_response::Result as Decided,
        enrollment_service_client::EnrollmentServiceClient, submit_enrollments_response::Result as Submitted,
        worker_service_client::WorkerServiceClient,
    },
};

/// Names read at once for the pending export.
const NAME_LOOKUPS: usize = 8;

const NIK: usize = 0;
const FIRST_MONTH: usize = 1;

/// The columns of a submission file; the aliases are listed in README.
pub const SUBMIT_COLUMNS: &[Column] = &[
    sheet::NIK,
    Column {
        name: "first month",
        aliases: &["bulanmulai", "mulaibulan", "bulanpertama", "bulanawal", "firstmonth", "startmonth"],
        required: false,
    },
];

const ID: usize = 0;
const DECIDE_NIK: usize = 1;
const DECISION: usize = 2;
const NUMBER: usize = 3;
const START: usize = 4;
const REASON: usize = 5;
const DETAIL: usize = 6;

/// The columns of a decisions file, in the order of the constants above; `enrollments pending` writes them.
pub const DECIDE_COLUMNS: &[Column] = &[
    Column { name: "enrollment id", aliases: &["enrollmentid", "idpendaftaran", "id"], required: true },
    Column { required: false, ..sheet::NIK },
    Column { name: "decision", aliases: &["decision", "keputusan"], required: true },
    Column {
        name: "participant number",
        aliases: &["participantnumber", "nomorpeserta", "nopeserta", "kpj", "nokpj", "nomorkpj"],
        required: false,
    },
    Column {
        name: "protection start",
        aliases: &["protectionstart", "mulaiperlindungan", "tanggalmulaiperlindungan", "tmtperlindungan"],
        required: false,
    },
    Column { name: "refusal reason", aliases: &["refusalreason", "alasanpenolakan", "alasan"], required: false },
    Column {
        name: "refusal detail",
        aliases: &["refusaldetail", "keteranganpenolakan", "keterangan", "detail"],
        required: false,
    },
];

/// The header of the pending export: what the insurer reads, then the decision columns it fills in, whose names
/// [`DECIDE_COLUMNS`] knows.
const PENDING_HEADER: [&str; 11] = [
    "enrollment id",
    "NIK",
    "name",
    "funder",
    "subsidy",
    "first month",
    "decision",
    "participant number",
    "protection start",
    "refusal reason",
    "refusal detail",
];

pub async fn run(command: EnrollmentsCommand) -> anyhow::Result<()> {
    match command {
        EnrollmentsCommand::Submit(args) => submit(args).await,
        EnrollmentsCommand::Pending(args) => pending(args).await,
        EnrollmentsCommand::Decide(args) => decide(args).await,
    }
}

async fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let file = &args.sheet;
    let sheet = Sheet::read(&file.file, SUBMIT_COLUMNS)?;
    let subsidy = uuid::Uuid::parse_str(args.subsidy.trim())
        .with_context(|| format!("--subsidy {:?} is not a subsidy id", args.subsidy))?;
    if let Some(given) = &args.first_month {
        Month::parse(given).map_err(|e| anyhow::anyhow!("--first-month {given:?} {}", e.message().english()))?;
    }
    anyhow::ensure!(
        args.first_month.is_some() || sheet.has(FIRST_MONTH),
        "{}: no column for the first month (e.g. \"bulan mulai\") and no --first-month: give one of them",
        file.file.display()
    );
    let scope = format!("enroll/{subsidy}");
    let entries: Vec<Entry<pb::SubmitEnrollmentRequest>> = sheet
        .rows
        .iter()
        .map(|row| {
            let first_month = match sheet.cell(row, FIRST_MONTH) {
                "" => args.first_month.clone().unwrap_or_default(),
                given => month(given),
            };
            let nik = nik(sheet.cell(row, NIK));
            let request = pb::SubmitEnrollmentRequest {
                request_id: sheet.request_id(&scope, row),
                subsidy_id: subsidy.to_string(),
                worker_nik: nik.clone(),
                first_month,
            };
            Entry { row: row.number, nik, request }
        })
        .collect();
    let bar = report::progress(entries.len(), if file.dry_run { "checking" } else { "enrolling" });
    let (lines, failure) = if file.dry_run {
        // The server's own reading of a submission: NIK, month, subsidy id and request id.
        let check = |e: &Entry<pb::SubmitEnrollmentRequest>| {
            convert::received(&e.request, Some("submission")).submission.err().map(Refusal::from_error)
        };
        (report::dry_run(&entries, &bar, check), None)
    } else {
        let mut client = enrollment_client(&file.server).await?;
        in_batches(&entries, async |batch| submit_batch(&mut client, batch, &bar).await).await
    };
    bar.finish_and_clear();
    report::finish(file, sheet.is_xlsx, &lines, failure, "enrolled")
}

async fn submit_batch(
    client: &mut EnrollmentServiceClient<Authed>,
    batch: &[Entry<pb::SubmitEnrollmentRequest>],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Line>, tonic::Status> {
    let requests: Vec<pb::SubmitEnrollmentsRequest> =
        batch.iter().map(|e| pb::SubmitEnrollmentsRequest { submission: Some(e.request.clone()) }).collect();
    let mut responses = client.submit_enrollments(futures::stream::iter(requests)).await?.into_inner();
    let mut lines = Vec::with_capacity(batch.len());
    while let Some(response) = responses.next().await {
        let response = response?;
        let Some(entry) = batch.get(response.index as usize) else { continue };
        lines.push(match &response.result {
            Some(Submitted::Enrollment(e)) => Line::new(entry.row, &entry.nik, "accepted", Some(enrolled(e))),
            Some(Submitted::Error(status)) => {
                Line::new(entry.row, &entry.nik, "refused", Some(Refusal::from_status(status)))
            }
            None => Line::new(entry.row, &entry.nik, "unknown", None),
        });
        bar.inc(1);
    }
    answered_all(&lines, batch.len())?;
    Ok(lines)
}

/// An accepted row's words: the enrollment made (or found again, on a re-run) and its status now.
fn enrolled(enrollment: &pb::Enrollment) -> Refusal {
    let status = enrollment.status().as_str_name().trim_start_matches("ENROLLMENT_STATUS_").to_ascii_lowercase();
    Refusal {
        reason: String::new(),
        message_en: format!("enrollment {} ({status})", enrollment.id),
        message_id: format!("pendaftaran {} ({status})", enrollment.id),
    }
}

async fn pending(args: PendingArgs) -> anyhow::Result<()> {
    let out = &args.out;
    let xlsx = match out.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase().as_str() {
        "xlsx" => true,
        "csv" => false,
        _ => anyhow::bail!("--out {}: the file must be .csv or .xlsx", out.display()),
    };
    let channel = super::connect(&args.server).await?;
    let mut enrollments = EnrollmentServiceClient::new(channel.clone()).max_decoding_message_size(usize::MAX);
    let mut stream = enrollments
        .stream_pending_enrollments(pb::StreamPendingEnrollmentsRequest {})
        .await
        .context("the server refused the call")?
        .into_inner();
    let mut pending = Vec::new();
    while let Some(enrollment) = stream.next().await {
        pending.push(enrollment.context("the pending enrollments stopped half-way; nothing was written")?);
    }
    // The enrollment carries no name; the worker's record does, for the insurer to check against its own.
    let bar = report::progress(pending.len(), "reading names");
    let workers = WorkerServiceClient::new(channel);
    let names: Vec<String> = futures::stream::iter(&pending)
        .map(|e| {
            let (mut workers, nik, bar) = (workers.clone(), e.worker_nik.clone(), &bar);
            async move {
                let found = workers.get_worker(pb::GetWorkerRequest { nik }).await;
                bar.inc(1);
                found.ok().and_then(|r| r.into_inner().worker).map(|w| w.full_name).unwrap_or_default()
            }
        })
        .buffered(NAME_LOOKUPS)
        .collect()
        .await;
    bar.finish_and_clear();
    let rows: Vec<[String; PENDING_HEADER.len()]> = pending
        .iter()
        .zip(names)
        .map(|(e, name)| {
            let funder = e.funder_kind().as_str_name().trim_start_matches("AGENCY_KIND_").to_ascii_lowercase();
            let blank = String::new;
            [
                e.id.clone(),
                e.worker_nik.clone(),
                name,
                funder,
                e.subsidy_id.clone(),
                e.first_month.clone(),
                blank(),
                blank(),
                blank(),
                blank(),
                blank(),
            ]
        })
        .collect();
    if xlsx {
        write_xlsx(out, &rows).with_context(|| format!("cannot write {}", out.display()))?;
    } else {
        write_csv(out, &rows).with_context(|| format!("cannot write {}", out.display()))?;
    }
    eprintln!(
        "{} pending enrollments in {}; fill in the decision columns, then run `lindung enrollments decide {}`",
        rows.len(),
        out.display(),
        out.display()
    );
    Ok(())
}

fn write_csv(path: &Path, rows: &[[String; PENDING_HEADER.len()]]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(PENDING_HEADER)?;
    for row in rows {
        writer.write_record(row)?;
    }
    writer.flush()?;
    Ok(())
}

/// Every cell as text, so that a NIK stays 16 digits and an id is not read as a number.
fn write_xlsx(path: &Path, rows: &[[String; PENDING_HEADER.len()]]) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    for (c, name) in PENDING_HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        sheet.set_column_format(c as u16, &text)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, cell)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    book.save(path)
}

/// What to do with one row of a decisions file.
enum Verdict {
    /// No decision yet: left for a later run.
    Skip,
    Send(pb::DecideEnrollmentsRequest),
    /// Not a decision lindung can read: refused here, not sent.
    Unreadable(Refusal),
}

async fn decide(args: SheetArgs) -> anyhow::Result<()> {
    let sheet = Sheet::read(&args.file, DECIDE_COLUMNS)?;
    let mut lines = Vec::with_capacity(sheet.rows.len());
    let mut entries = Vec::new();
    for row in &sheet.rows {
        let nik = nik(sheet.cell(row, DECIDE_NIK));
        match verdict(|c| sheet.cell(row, c)) {
            Verdict::Skip => lines.push(Line::new(row.number, &nik, "skipped", None)),
            Verdict::Unreadable(refusal) => lines.push(Line::new(row.number, &nik, "refused", Some(refusal))),
            Verdict::Send(request) => entries.push(Entry { row: row.number, nik, request }),
        }
    }
    let bar = report::progress(entries.len(), if args.dry_run { "checking" } else { "deciding" });
    let failure = if args.dry_run {
        // The server's own reading of a decision: enrollment id, participant number, date, refusal reason.
        let check = |e: &Entry<pb::DecideEnrollmentsRequest>| {
            convert::decision(e.request.clone()).err().map(Refusal::from_error)
        };
        lines.extend(report::dry_run(&entries, &bar, check));
        None
    } else {
        let mut client = enrollment_client(&args.server).await?;
        let (sent, failure) = in_batches(&entries, async |batch| decide_batch(&mut client, batch, &bar).await).await;
        lines.extend(sent);
        failure
    };
    bar.finish_and_clear();
    lines.sort_by_key(|l| l.row);
    report::finish(&args, sheet.is_xlsx, &lines, failure, "decided")
}

/// A row's decision as the RPC's; values are mapped from what clerks write (`terima`, `tolak`, `31/12/2025`,
/// `meninggal`), and anything else is passed on as written, for the rules to judge.
fn verdict<'a>(cell: impl Fn(usize) -> &'a str) -> Verdict {
    let enrollment_id = cell(ID).to_owned();
    let decision = match normalise(cell(DECISION)).as_str() {
        "" => return Verdict::Skip,
        "confirm" | "confirmed" | "terima" | "diterima" | "setuju" | "disetujui" | "ya" | "y" | "yes" => {
            Decision::Confirm(pb::ConfirmEnrollmentRequest {
                enrollment_id,
                participant_number: cell(NUMBER).to_owned(),
                protection_start: date(cell(START)),
            })
        }
        "refuse" | "refused" | "reject" | "rejected" | "tolak" | "ditolak" | "tidak" | "no" => {
            let (reason, detail) = refusal_reason(cell(REASON), cell(DETAIL));
            Decision::Refuse(pb::RefuseEnrollmentRequest { enrollment_id, reason: reason as i32, detail })
        }
        _ => {
            let given = cell(DECISION);
            return Verdict::Unreadable(Refusal {
                reason: "DECISION_UNKNOWN".into(),
                message_en: format!("decision: {given:?} is neither confirm (terima, setuju, ya) nor refuse (tolak)"),
                message_id: format!("keputusan: {given:?} bukan terima (setuju, ya, confirm) atau tolak (refuse)"),
            });
        }
    };
    Verdict::Send(pb::DecideEnrollmentsRequest { decision: Some(decision) })
}

/// The insurer's reason and its detail; a reason none of the known ones is sent as OTHER with its text as detail.
fn refusal_reason(text: &str, detail: &str) -> (pb::InsurerRefusal, String) {
    use pb::InsurerRefusal as R;
    let known = match normalise(text).as_str() {
        "" => R::Unspecified,
        "alreadyactiveelsewhere" | "sudahaktif" | "aktifditempatlain" | "sudahterdaftar" => R::AlreadyActiveElsewhere,
        "deceasedpercivilregistry" | "deceased" | "meninggal" | "meninggaldunia" | "sudahmeninggal" => {
            R::DeceasedPerCivilRegistry
        }
        "niknotfound" | "niktidakditemukan" | "niktidakterdaftar" | "tidakditemukan" => R::NikNotFound,
        "age" | "usia" | "umur" | "batasusia" => R::Age,
        "other" | "lainnya" | "lainlain" => R::Other,
        _ if detail.is_empty() => return (R::Other, text.to_owned()),
        _ => return (R::Other, format!("{text}: {detail}")),
    };
    (known, detail.to_owned())
}

async fn decide_batch(
    client: &mut EnrollmentServiceClient<Authed>,
    batch: &[Entry<pb::DecideEnrollmentsRequest>],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Line>, tonic::Status> {
    let requests: Vec<pb::DecideEnrollmentsRequest> = batch.iter().map(|e| e.request.clone()).collect();
    let mut responses = client.decide_enrollments(futures::stream::iter(requests)).await?.into_inner();
    let mut lines = Vec::with_capacity(batch.len());
    while let Some(response) = responses.next().await {
        let response = response?;
        let Some(entry) = batch.get(response.index as usize) else { continue };
        lines.push(match &response.result {
            // The same decision taken before is answered as this one: a re-run reads as the first run.
            Some(Decided::Enrollment(e)) => {
                let outcome = match e.status() {
                    pb::EnrollmentStatus::Active => "confirmed",
                    pb::EnrollmentStatus::Rejected => "rejected",
                    _ => "decided",
                };
                let nik = if entry.nik.is_empty() { &e.worker_nik } else { &entry.nik };
                Line::new(entry.row, nik, outcome, None)
            }
            Some(Decided::Error(status)) => {
                Line::new(entry.row, &entry.nik, "refused", Some(Refusal::from_status(status)))
            }
            None => Line::new(entry.row, &entry.nik, "unknown", None),
        });
        bar.inc(1);
    }
    answered_all(&lines, batch.len())?;
    Ok(lines)
}

async fn enrollment_client(server: &crate::config::ServerArgs) -> anyhow::Result<EnrollmentServiceClient<Authed>> {
    Ok(EnrollmentServiceClient::new(super::connect(server).await?)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX))
}

/// `09/2025`, `9-2025`, or a date (`2025-09-01`, as an XLSX date cell reads; `01/09/2025`) as `2025-09`; anything
/// else unchanged.
fn month(text: &str) -> String {
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    match parts.as_slice() {
        [m, y] | [_, m, y] if y.len() == 4 && m.len() <= 2 => format!("{y}-{m:0>2}"),
        [y, m, _] if y.len() == 4 && m.len() <= 2 => format!("{y}-{m:0>2}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerks_months_are_read_as_yyyy_mm() {
        for (text, expected) in [
            ("2025-09", "2025-09"),
            ("9/2025", "2025-09"),
            ("09-2025", "2025-09"),
            ("2025-09-01", "2025-09"),
            ("01/09/2025", "2025-09"),
            ("September", "September"),
        ] {
            assert_eq!(month(text), expected, "{text}");
        }
    }

    fn decision_of(cells: [&str; 7]) -> Verdict {
        verdict(|c| cells[c])
    }

    #[test]
    fn clerks_decisions_are_mapped_to_the_rpc() {
        let id = "0196a7c0-0000-7000-8000-000000000001";
        assert!(matches!(decision_of([id, "", "", "", "", "", ""]), Verdict::Skip));
        let Verdict::Send(confirm) = decision_of([id, "", "Terima", "12345678901", "01/09/2025", "", ""]) else {
            panic!("a confirmation")
        };
        let Some(Decision::Confirm(c)) = confirm.decision else { panic!("a confirmation") };
        assert_eq!((c.participant_number.as_str(), c.protection_start.as_str()), ("12345678901", "2025-09-01"));
        let Verdict::Send(refuse) = decision_of([id, "", "TOLAK", "", "", "Meninggal dunia", ""]) else {
            panic!("a refusal")
        };
        let Some(Decision::Refuse(r)) = refuse.decision else { panic!("a refusal") };
        assert_eq!(r.reason(), pb::InsurerRefusal::DeceasedPerCivilRegistry);
        assert_eq!(refusal_reason("pindah kerja", ""), (pb::InsurerRefusal::Other, "pindah kerja".to_owned()));
        let Verdict::Unreadable(why) = decision_of([id, "", "mungkin", "", "", "", ""]) else { panic!("unreadable") };
        assert_eq!(why.reason, "DECISION_UNKNOWN");
    }

    #[test]
    fn the_pending_export_is_read_back_as_a_decisions_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["pending.csv", "pending.xlsx"] {
            let path = dir.path().join(name);
            let mut row = PENDING_HEADER.map(|_| String::new());
            row[0] = "0196a7c0-0000-7000-8000-000000000001".into();
            row[1] = "3271014505900001".into();
            if name.ends_with("csv") {
                write_csv(&path, std::slice::from_ref(&row)).unwrap();
            } else {
                write_xlsx(&path, std::slice::from_ref(&row)).unwrap();
            }
            let sheet = Sheet::read(&path, DECIDE_COLUMNS).unwrap();
            assert!((0..DECIDE_COLUMNS.len()).all(|c| sheet.has(c)), "{name}: every decision column is found");
            assert_eq!(sheet.cell(&sheet.rows[0], DECIDE_NIK), "3271014505900001", "{name}");
        }
    }
}
