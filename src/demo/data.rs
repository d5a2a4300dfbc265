//! Synthetic but plausible workers of Kota Bogor, the same for the same seed: NIKs issued in its six districts
//! (R5.1: district code, birth date with 40 added for women, serial), villages of those districts, Indonesian
//! names, informal occupations, welfare deciles 1–4.

use std::collections::HashSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::proto::v1 as pb;

const MEN: &[&str] = &[
    "Agus", "Budi", "Dedi", "Eko", "Hendra", "Iwan", "Joko", "Rudi", "Asep", "Ujang", "Dadang", "Yayan", "Cecep",
    "Wawan", "Ahmad", "Rahmat", "Slamet", "Bambang", "Dodi", "Heri",
];
const WOMEN: &[&str] = &[
    "Siti", "Dewi", "Sri", "Rina", "Yuni", "Nur", "Euis", "Neneng", "Iis", "Lilis", "Ratna", "Wati", "Ani", "Yanti",
    "Ida", "Dian", "Fitri", "Rini", "Tuti", "Nining",
];
const FAMILY: &[&str] = &[
    "Hidayat",
    "Suryana",
    "Permana",
    "Kurniawan",
    "Setiawan",
    "Rahmawati",
    "Nurhayati",
    "Sulastri",
    "Saputra",
    "Gunawan",
    "Hermawan",
    "Maulana",
    "Sopian",
    "Mulyani",
    "Kusnadi",
    "Hasanah",
    "Rohmah",
    "Firmansyah",
];
const OCCUPATIONS: &[pb::Occupation] = &[
    pb::Occupation::Trader,
    pb::Occupation::Construction,
    pb::Occupation::Tailor,
    pb::Occupation::Driver,
    pb::Occupation::Farmer,
    pb::Occupation::Domestic,
];

/// The villages of Kota Bogor (regency 32.71), from the area list lindung loads.
fn villages() -> Vec<&'static str> {
    include_str!("../../data/idn-area/villages.csv")
        .lines()
        .filter(|line| line.starts_with("32.71."))
        .filter_map(|line| line.split(',').next())
        .collect()
}

/// A well-formed Kota Bogor NIK that [`generate`] never gives (born in 2005): a row of a list no one registered.
pub const UNREGISTERED_NIK: &str = "3271010101050001";

/// `count` valid workers, each with a distinct NIK.
pub fn generate(seed: u64, count: usize) -> Vec<pb::Worker> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let villages = villages();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let village = villages[rng.random_range(0..villages.len())];
        let district = village[..8].replace('.', "");
        let female = rng.random_bool(0.5);
        let (year, month, day) =
            (rng.random_range(1970..=2000), rng.random_range(1..=12u32), rng.random_range(1..=28u32));
        let serial = rng.random_range(1..=9999u32);
        let nik = format!("{district}{:02}{month:02}{:02}{serial:04}", day + if female { 40 } else { 0 }, year % 100);
        if !seen.insert(nik.clone()) {
            continue;
        }
        let given = if female { WOMEN } else { MEN };
        let name = format!("{} {}", given[rng.random_range(0..given.len())], FAMILY[rng.random_range(0..FAMILY.len())]);
        let occupation = OCCUPATIONS[rng.random_range(0..OCCUPATIONS.len())];
        let decile = rng.random_range(1..=4);
        let phone = format!(
            "08{}-{:04}-{:04}",
            rng.random_range(11..=59),
            rng.random_range(0..10_000),
            rng.random_range(0..10_000)
        );
        out.push(worker(nik, name, year, month, day, female, village, occupation, decile, phone));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn worker(
    nik: String,
    full_name: String,
    year: i32,
    month: u32,
    day: u32,
    female: bool,
    village: &str,
    occupation: pb::Occupation,
    decile: u32,
    phone: String,
) -> pb::Worker {
    pb::Worker {
        nik,
        full_name,
        birth_date: format!("{year}-{month:02}-{day:02}"),
        sex: if female { pb::Sex::Female } else { pb::Sex::Male } as i32,
        domicile_village_code: village.into(),
        occupation: occupation as i32,
        occupation_detail: String::new(),
        welfare: Some(pb::Welfare { decile, source: "DTSEN".into(), as_of_quarter: "2025-Q3".into() }),
        phone,
        date_of_death: String::new(),
        warnings: vec![],
        record: None,
    }
}

/// Rows a clerk's spreadsheet gets wrong, each refused with its reason: a NIK that is not 16 digits, a NIK whose
/// birth date disagrees with the stated one, decile 6, a village outside the province's area.
pub fn invalid(seed: u64) -> Vec<pb::Worker> {
    let mut good = generate(seed.wrapping_add(1_000_003), 8);
    let mut rows = Vec::new();
    for (i, mut w) in good.drain(..).enumerate() {
        match i % 4 {
            0 => w.nik.truncate(15),
            1 => w.birth_date = "1969-01-01".into(),
            2 => w.welfare.as_mut().expect("welfare").decile = 6,
            _ => w.domicile_village_code = "31.71.01.1001".into(),
        }
        rows.push(w);
    }
    rows
}

pub fn heir_name(n: usize) -> &'static str {
    ["Dedi Permana", "Rina Hidayat"][n % 2]
}

/// Writes `workers` as the social-affairs office's spreadsheet would have them: Indonesian headers, dates day first,
/// `L`/`P`, occupations in words. The demo leaves one for `lindung workers import` to be tried on.
pub fn write_sheet(path: &std::path::Path, workers: &[pb::Worker]) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "No. KTP",
        "Nama Lengkap",
        "Tanggal Lahir",
        "Jenis Kelamin",
        "Kode Desa",
        "Pekerjaan",
        "Desil",
        "Triwulan Desil",
        "No HP",
    ];
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, w) in workers.iter().enumerate() {
        let r = i as u32 + 1;
        let birth: Vec<&str> = w.birth_date.split('-').collect();
        let sex = if w.sex == pb::Sex::Female as i32 { "P" } else { "L" };
        let occupation = match pb::Occupation::try_from(w.occupation).unwrap_or_default() {
            pb::Occupation::Trader => "Pedagang",
            pb::Occupation::Construction => "Buruh bangunan",
            pb::Occupation::Tailor => "Penjahit",
            pb::Occupation::Driver => "Ojek",
            pb::Occupation::Farmer => "Petani",
            pb::Occupation::Fisher => "Nelayan",
            pb::Occupation::Domestic => "PRT",
            _ => "Lainnya",
        };
        let cells = [
            w.nik.clone(),
            w.full_name.clone(),
            birth.iter().rev().copied().collect::<Vec<_>>().join("/"),
            sex.into(),
            w.domicile_village_code.clone(),
            occupation.into(),
        ];
        for (c, text) in cells.iter().enumerate() {
            sheet.write_string(r, c as u16, text)?;
        }
        let welfare = w.welfare.clone().unwrap_or_default();
        sheet.write_number(r, 6, welfare.decile as f64)?;
        sheet.write_string(r, 7, &welfare.as_of_quarter)?;
        sheet.write_string(r, 8, &w.phone)?;
    }
    sheet.autofit();
    book.save(path)
}
