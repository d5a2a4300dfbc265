//! `lindung coverage verify`: whether each worker of a spreadsheet is protected on a date, over
//! `CoverageService.VerifyCoverageStream`, one stream per batch. A check changes nothing, so a re-run is always safe.

use futures::StreamExt;

use super::{
    Refusal,
    report::{self, Entry, Line},
    sheet::{self, Column, Sheet},
};
use crate::{
    config::{ProgrammeArg, VerifyArgs},
    error::Error,
    messages::{Arg, Message},
    msg,
    proto::v1::{self as pb, coverage_service_client::CoverageServiceClient},
};

const NIK: usize = 0;
const DATE: usize = 1;

/// The columns of a coverage file, in the order of the constants above; the aliases are listed in README.
pub const COLUMNS: &[Column] = &[
    sheet::NIK,
    Column { name: "date", aliases: &["tanggal", "date", "tanggalcek", "tanggalperiksa"], required: false },
];

pub async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let default_date = match &args.date {
        Some(text) => {
            crate::date::parse(text).map_err(|e| anyhow::anyhow!("--date {text}: {}", e.message().english()))?
        }
        None => crate::clock::today(),
    };
    let sheet = Sheet::read(&args.sheet.file, COLUMNS)?;
    let programme = match args.programme {
        ProgrammeArg::Jkk => pb::Programme::Jkk,
        ProgrammeArg::Jkm => pb::Programme::Jkm,
    };
    let entries: Vec<Entry<pb::VerifyCoverageRequest>> = sheet
        .rows
        .iter()
        .map(|row| {
            let date = match sheet.cell(row, DATE) {
                "" => default_date.to_string(),
                own => sheet::date(own),
            };
            let request = pb::VerifyCoverageRequest {
                nik: sheet::nik(sheet.cell(row, NIK)),
                date,
                programme: programme as i32,
                client_ref: row.number.to_string(),
                ..Default::default()
            };
            Entry { row: row.number, nik: request.nik.clone(), request }
        })
        .collect();
    let bar = report::progress(entries.len(), if args.sheet.dry_run { "checking" } else { "verifying" });
    let (lines, failure) = if args.sheet.dry_run {
        (report::dry_run(&entries, &bar, |e| check(&e.request)), None)
    } else {
        let mut client = CoverageServiceClient::new(super::connect(&args.sheet.server).await?)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        report::in_batches(&entries, async |batch| send_batch(&mut client, batch, &bar).await).await
    };
    bar.finish_and_clear();
    report::finish(&args.sheet, sheet.is_xlsx, &lines, failure, "verified")
}

/// What the server's own reading of a question refuses (`coverage::convert::question`, the rule the stream
/// applies), in both languages; `None` for a question it would answer.
fn check(request: &pb::VerifyCoverageRequest) -> Option<Refusal> {
    match crate::coverage::convert::question(request) {
        Ok(_) => None,
        Err(Error::InvalidArgument(violations)) => Some(Refusal::from_violations(&violations)),
        Err(other) => Some(Refusal {
            reason: crate::error::outcome_name(other.code()).to_owned(),
            message_en: other.to_string(),
            message_id: other.to_string(),
        }),
    }
}

async fn send_batch(
    client: &mut CoverageServiceClient<super::Authed>,
    batch: &[Entry<pb::VerifyCoverageRequest>],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Line>, tonic::Status> {
    let requests: Vec<pb::VerifyCoverageRequest> = batch.iter().map(|e| e.request.clone()).collect();
    let mut lines = Vec::with_capacity(batch.len());
    let mut responses = client.verify_coverage_stream(futures::stream::iter(requests)).await?.into_inner();
    let mut answered = 0;
    while let Some(response) = responses.next().await {
        let response = response?;
        // One answer per question, in order; the echoed reference guards the pairing.
        let Some(entry) = batch.get(answered).filter(|e| e.request.client_ref == response.client_ref) else {
            return Err(tonic::Status::data_loss(format!(
                "answer {} names row {:?}, not the row asked",
                answered + 1,
                response.client_ref
            )));
        };
        lines.push(line(entry, &response));
        answered += 1;
        bar.inc(1);
    }
    report::answered_all(&lines, batch.len())?;
    Ok(lines)
}

/// One answer as the clerk reads it: `covered`, `not covered` with the reason, or `refused` for a bad row.
fn line(entry: &Entry<pb::VerifyCoverageRequest>, response: &pb::VerifyCoverageResponse) -> Line {
    let (row, nik) = (entry.row, entry.request.nik.as_str());
    if let Some(status) = &response.error_status {
        return Line::new(row, nik, "refused", Some(Refusal::from_status(status)));
    }
    if !response.error.is_empty() {
        // A server that sends only the English text: the same rule read here gives the codes and Indonesian words.
        let local = check(&entry.request).unwrap_or_else(|| Refusal {
            reason: "INVALID_ARGUMENT".into(),
            message_id: response.error.clone(),
            ..Refusal::default()
        });
        return Line::new(row, nik, "refused", Some(Refusal { message_en: response.error.clone(), ..local }));
    }
    let date = crate::date::parse(&entry.request.date).map_or_else(|_| Arg::from(&entry.request.date), Arg::from);
    let outcome = if response.covered { "covered" } else { "not covered" };
    Line::new(row, nik, outcome, Some(Refusal::from_message(&answer(response, date))))
}

/// The answer's words, from the catalogue.
fn answer(response: &pb::VerifyCoverageResponse, date: Arg) -> Message {
    use pb::CoverageReason as R;
    match response.reason() {
        R::Covered | R::Unspecified => match &response.details {
            Some(d) => {
                let paid_through =
                    crate::month::Month::parse(&d.paid_through).map_or_else(|_| Arg::from(&d.paid_through), Arg::from);
                msg!(COVERAGE_COVERED_DETAILS, date = date, paid_through = paid_through, months = d.contribution_months)
            }
            None => msg!(COVERAGE_COVERED, date = date),
        },
        R::NotEnrolled => msg!(COVERAGE_NOT_ENROLLED, date = date),
        R::PendingRegistration => msg!(COVERAGE_PENDING_REGISTRATION, date = date),
        R::MonthUnpaid => msg!(COVERAGE_MONTH_UNPAID, date = date),
        R::InArrearsWindow => msg!(COVERAGE_IN_ARREARS_WINDOW, date = date),
        R::Lapsed => msg!(COVERAGE_LAPSED, date = date),
        R::Ended => msg!(COVERAGE_ENDED, date = date),
        R::Deceased => msg!(COVERAGE_DECEASED, date = date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(nik: &str, date: &str) -> pb::VerifyCoverageRequest {
        pb::VerifyCoverageRequest {
            nik: nik.into(),
            date: sheet::date(date),
            programme: pb::Programme::Jkm as i32,
            ..Default::default()
        }
    }

    #[test]
    fn a_row_is_checked_with_the_rule_the_server_applies() {
        assert_eq!(check(&request("3271014505900001", "20/09/2025")), None);
        let short = check(&request("12345", "2025-09-20")).unwrap();
        assert_eq!(short.reason, "NIK_LENGTH");
        assert!(short.message_id.contains("harus tepat 16 digit"), "{}", short.message_id);
        let bad_date = check(&request("3271014505900001", "2025-13-01")).unwrap();
        assert_eq!(bad_date.reason, "DATE_FORMAT");
    }

    #[test]
    fn an_answer_is_worded_in_both_languages_under_its_reason() {
        let request = request("3271014505900001", "2025-09-20");
        let entry = Entry { row: 2, nik: request.nik.clone(), request };
        let unpaid =
            pb::VerifyCoverageResponse { reason: pb::CoverageReason::MonthUnpaid as i32, ..Default::default() };
        let line = line(&entry, &unpaid);
        assert_eq!((line.outcome.as_str(), line.reason.as_str()), ("not covered", "MONTH_UNPAID"));
        assert_eq!(line.message_id, "tidak terlindungi pada 20 September 2025: iuran bulan itu belum dibayar");
        let covered = pb::VerifyCoverageResponse {
            covered: true,
            reason: pb::CoverageReason::Covered as i32,
            details: Some(pb::CoverageDetails {
                paid_through: "2025-09".into(),
                contribution_months: 1,
                ..Default::default()
            }),
            ..Default::default()
        };
        let line = super::line(&entry, &covered);
        assert_eq!((line.outcome.as_str(), line.nik.as_str()), ("covered", "************0001"));
        assert_eq!(line.message_en, "protected on 2025-09-20: paid through 2025-09, contribution months: 1");
    }
}
