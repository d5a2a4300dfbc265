//! `lindung workers import`: the workers of a spreadsheet, over `WorkerService.UpsertWorkers` in batches, one
//! stream per batch. An upsert of unchanged values changes nothing, so re-running a file (after a failure half-way,
//! or twice by mistake) is safe without request ids.

use futures::StreamExt;

use super::{
    Refusal,
    report::{self, Entry, Line},
    sheet::{self, Column, Sheet, date, normalise},
};
use crate::{
    config::SheetArgs,
    proto::v1::{self as pb, upsert_workers_response::Result as RowResult, worker_service_client::WorkerServiceClient},
    worker::{Flag, Worker, convert},
};

const NIK: usize = 0;
const NAME: usize = 1;
const BIRTH_DATE: usize = 2;
const SEX: usize = 3;
const VILLAGE: usize = 4;
const OCCUPATION: usize = 5;
const OCCUPATION_DETAIL: usize = 6;
const DECILE: usize = 7;
const DECILE_SOURCE: usize = 8;
const DECILE_QUARTER: usize = 9;
const PHONE: usize = 10;
const DATE_OF_DEATH: usize = 11;

/// The header names of a NIK column, in every file a client command reads.
pub const NIK_ALIASES: &[&str] = &["nik", "noktp", "nikktp", "nomorktp", "nomorindukkependudukan"];

/// The columns of a workers file, in the order of the constants above; the aliases are listed in README.
pub const COLUMNS: &[Column] = &[
    sheet::NIK,
    sheet::FULL_NAME,
    Column { name: "birth date", aliases: &["tanggallahir", "tgllahir", "birthdate", "dateofbirth"], required: true },
    Column { name: "sex", aliases: &["jeniskelamin", "jk", "sex", "gender", "kelamin"], required: true },
    Column {
        name: "village code",
        aliases: &["kodedesa", "kodekelurahan", "kodedesakelurahan", "villagecode", "domicilevillagecode"],
        required: true,
    },
    Column { name: "occupation", aliases: &["pekerjaan", "occupation"], required: true },
    Column {
        name: "occupation detail",
        aliases: &["keteranganpekerjaan", "detailpekerjaan", "occupationdetail"],
        required: false,
    },
    Column { name: "decile", aliases: &["desil", "decile"], required: true },
    Column { name: "decile source", aliases: &["sumberdesil", "decilesource", "sumberdata"], required: false },
    Column {
        name: "decile quarter",
        aliases: &["kuartaldesil", "triwulandesil", "decilequarter", "asofquarter", "kuartal", "triwulan"],
        required: false,
    },
    Column { name: "phone", aliases: &["nohp", "nomorhp", "hp", "telepon", "notelepon", "phone"], required: false },
    Column { name: "date of death", aliases: &["tanggalmeninggal", "dateofdeath"], required: false },
];

pub async fn import(args: SheetArgs) -> anyhow::Result<()> {
    let sheet = Sheet::read(&args.file, COLUMNS)?;
    let today = crate::clock::today();
    let current_quarter = crate::quarter::Quarter::from_date(today).to_string();
    let entries: Vec<Entry<pb::Worker>> = sheet
        .rows
        .iter()
        .map(|row| {
            let worker = to_worker(|c| sheet.cell(row, c), &current_quarter);
            Entry { row: row.number, nik: worker.nik.clone(), request: worker }
        })
        .collect();
    let bar = report::progress(entries.len(), if args.dry_run { "checking" } else { "importing" });
    let (lines, failure) = if args.dry_run {
        (report::dry_run(&entries, &bar, |e| check(e, today)), None)
    } else {
        let mut client = WorkerServiceClient::new(super::connect(&args.server).await?)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        report::in_batches(&entries, async |batch| send_batch(&mut client, batch, &bar).await).await
    };
    bar.finish_and_clear();
    report::finish(&args, sheet.is_xlsx, &lines, failure, "imported")
}

/// Checks a row with the domain's own rules (those that need no store: the area list and the caller's area are
/// the server's to check).
fn check(entry: &Entry<pb::Worker>, today: chrono::NaiveDate) -> Option<Refusal> {
    Worker::parse(convert::from_proto(entry.request.clone()), today).err().map(|v| Refusal::from_violations(&v))
}

async fn send_batch(
    client: &mut WorkerServiceClient<super::Authed>,
    batch: &[Entry<pb::Worker>],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Line>, tonic::Status> {
    let requests: Vec<pb::UpsertWorkersRequest> = batch
        .iter()
        .map(|e| pb::UpsertWorkersRequest { worker: Some(e.request.clone()), client_ref: e.row.to_string() })
        .collect();
    let mut lines = Vec::with_capacity(batch.len());
    let mut responses = client.upsert_workers(futures::stream::iter(requests)).await?.into_inner();
    while let Some(response) = responses.next().await {
        let response = response?;
        let Some(entry) = batch.get(response.index as usize) else { continue };
        let nik = &entry.nik;
        let warnings = || {
            let codes: Vec<String> = response.warnings.iter().map(|w| w.code.clone()).collect();
            // Both languages from the catalogue when the code is lindung's own; the server's text otherwise.
            let words = |locale| {
                let texts: Vec<String> = response
                    .warnings
                    .iter()
                    .map(|w| Flag::from_code(&w.code).map_or(w.message.clone(), |f| f.description().render(locale)))
                    .collect();
                texts.join("; ")
            };
            (!codes.is_empty()).then(|| Refusal {
                reason: codes.join(", "),
                message_en: words(crate::messages::Locale::En),
                message_id: words(crate::messages::Locale::Id),
            })
        };
        lines.push(match &response.result {
            Some(RowResult::Outcome(o)) => {
                let outcome = match pb::UpsertOutcome::try_from(*o) {
                    Ok(pb::UpsertOutcome::Created) => "created",
                    Ok(pb::UpsertOutcome::Updated) => "updated",
                    Ok(pb::UpsertOutcome::Unchanged) => "unchanged",
                    _ => "stored",
                };
                Line::new(entry.row, nik, outcome, warnings())
            }
            Some(RowResult::Error(status)) => Line::new(entry.row, nik, "refused", Some(Refusal::from_status(status))),
            None => Line::new(entry.row, nik, "unknown", None),
        });
        bar.inc(1);
    }
    report::answered_all(&lines, batch.len())?;
    Ok(lines)
}

/// A row as the RPC's worker. Values are mapped from what clerks write (`L`/`P`, `pedagang`, `31/12/1990`), and
/// anything else is passed on as written, for the rules to judge.
fn to_worker<'a>(cell: impl Fn(usize) -> &'a str, current_quarter: &str) -> pb::Worker {
    let occupation_text = cell(OCCUPATION);
    let (occupation, guessed_detail) = occupation(occupation_text);
    let detail = match cell(OCCUPATION_DETAIL) {
        "" if occupation == pb::Occupation::Other => guessed_detail,
        given => given.to_owned(),
    };
    let or = |value: &'a str, default: &str| if value.is_empty() { default.to_owned() } else { value.to_owned() };
    pb::Worker {
        nik: sheet::nik(cell(NIK)),
        full_name: cell(NAME).to_owned(),
        birth_date: date(cell(BIRTH_DATE)),
        sex: sex(cell(SEX)) as i32,
        domicile_village_code: cell(VILLAGE).to_owned(),
        occupation: occupation as i32,
        occupation_detail: detail,
        welfare: Some(pb::Welfare {
            decile: cell(DECILE).parse().unwrap_or(0),
            source: or(cell(DECILE_SOURCE), "DTSEN"),
            as_of_quarter: or(cell(DECILE_QUARTER), current_quarter),
        }),
        phone: cell(PHONE).to_owned(),
        date_of_death: date(cell(DATE_OF_DEATH)),
        warnings: vec![],
        record: None,
    }
}

fn sex(text: &str) -> pb::Sex {
    match normalise(text).as_str() {
        "l" | "lk" | "lakilaki" | "pria" | "m" | "male" => pb::Sex::Male,
        "p" | "pr" | "perempuan" | "wanita" | "f" | "female" => pb::Sex::Female,
        _ => pb::Sex::Unspecified,
    }
}

/// The occupation, and the text as its detail when it is none of the known ones.
fn occupation(text: &str) -> (pb::Occupation, String) {
    let known = match normalise(text).as_str() {
        "" => pb::Occupation::Unspecified,
        "trader" | "pedagang" | "pedagangkakilima" | "pkl" => pb::Occupation::Trader,
        "construction" | "buruhbangunan" | "kulibangunan" | "tukangbangunan" => pb::Occupation::Construction,
        "tailor" | "penjahit" => pb::Occupation::Tailor,
        "driver" | "sopir" | "supir" | "pengemudi" | "ojek" | "ojekonline" => pb::Occupation::Driver,
        "farmer" | "petani" | "buruhtani" => pb::Occupation::Farmer,
        "fisher" | "nelayan" => pb::Occupation::Fisher,
        "domestic" | "pekerjarumahtangga" | "prt" | "art" => pb::Occupation::Domestic,
        "other" | "lainnya" | "lainlain" => pb::Occupation::Other,
        _ => return (pb::Occupation::Other, text.to_owned()),
    };
    (known, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerks_values_are_mapped_to_the_rpc() {
        let cells = [
            "3271 0145 0590 0001",
            "Siti",
            "13/05/1990",
            "P",
            "32.71.01.1001",
            "tukang pijat",
            "",
            "2",
            "",
            "",
            "",
            "",
        ];
        let w = to_worker(|c| cells[c], "2025-Q3");
        assert_eq!(w.nik, "3271014505900001");
        assert_eq!(w.birth_date, "1990-05-13");
        assert_eq!(w.sex, pb::Sex::Female as i32);
        assert_eq!((w.occupation, w.occupation_detail.as_str()), (pb::Occupation::Other as i32, "tukang pijat"));
        let welfare = w.welfare.unwrap();
        assert_eq!((welfare.decile, welfare.source.as_str(), welfare.as_of_quarter.as_str()), (2, "DTSEN", "2025-Q3"));
        assert_eq!(occupation("Pedagang").0, pb::Occupation::Trader);
        assert_eq!(sex("Laki-laki"), pb::Sex::Male);
        assert_eq!(date("1990-05-13"), "1990-05-13");
    }
}
