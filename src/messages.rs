//! What lindung tells a person, in English and in Bahasa Indonesia: one catalogue keyed by reason code.
//!
//! Every refusal and field violation names a [`Code`]; each code is declared once below with an English and an
//! Indonesian template, so a code without both messages cannot exist. A site builds a [`Message`] with the code
//! and typed parameters ([`msg!`]), and the answer is rendered in the caller's [`Locale`], chosen once per call
//! from `accept-language` ([`Locale::from_accept_language`]) and held for the call in a task-local ([`current`]).
//!
//! A few entries share the reason code of another (`REQUIRED_EVENT as REQUIRED`): one reason a client branches
//! on, worded for the field it is about. Templates name their parameters in braces (`{month}`); a parameter is
//! text, a Rupiah amount, a month, a date or a count, and is written as people write it in that language.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// The languages lindung answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    Id,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Id];

    /// The BCP 47 tag sent in `google.rpc.LocalizedMessage.locale`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en-US",
            Locale::Id => "id-ID",
        }
    }

    /// The locale of a `LocalizedMessage` tag lindung sent.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(tag))
    }

    /// RFC 4647 lookup over `accept-language` (RFC 9110 §12.5.4): ranges by descending q-value (ties in the
    /// order given, `q=0` meaning "not this"), each truncated from the right until it names a language lindung
    /// speaks. `id`, `id-ID` and the withdrawn `in` are Indonesian; anything else, or nothing, is English.
    pub fn from_accept_language(header: &str) -> Locale {
        let mut ranges: Vec<(u16, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let range = pieces.next()?.trim();
                if range.is_empty() {
                    return None;
                }
                let q = pieces
                    .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                    .next()
                    .map_or(Some(1000), parse_q)?;
                (q > 0).then_some((q, i, range))
            })
            .collect();
        ranges.sort_by_key(|&(q, i, _)| (std::cmp::Reverse(q), i));
        for (_, _, range) in ranges {
            if range == "*" {
                return Locale::En;
            }
            let mut tag = range.to_ascii_lowercase();
            loop {
                match tag.as_str() {
                    "id" | "in" => return Locale::Id,
                    "en" => return Locale::En,
                    _ => {}
                }
                match tag.rfind('-') {
                    Some(at) => {
                        tag.truncate(at);
                        // A single-letter subtag (an extension's singleton) goes with the one after it.
                        if tag.len() >= 2 && tag.as_bytes()[tag.len() - 2] == b'-' {
                            tag.truncate(tag.len() - 2);
                        }
                    }
                    None => break,
                }
            }
        }
        Locale::En
    }
}

/// A q-value in thousandths (`0.8` -> 800); `None` when it is not one.
fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac),
        "1" if frac == 0 => Some(1000),
        _ => None,
    }
}

tokio::task_local! {
    static LOCALE: Locale;
}

/// The locale of the call being answered (English outside one).
pub fn current() -> Locale {
    LOCALE.try_with(|l| *l).unwrap_or_default()
}

/// Runs `future` answering in `locale`.
pub async fn scope<F: std::future::Future>(locale: Locale, future: F) -> F::Output {
    LOCALE.scope(locale, future).await
}

/// Runs `f` answering in `locale` (for polling a response body).
pub fn sync_scope<R>(locale: Locale, f: impl FnOnce() -> R) -> R {
    LOCALE.sync_scope(locale, f)
}

/// One parameter of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Rupiah(Decimal),
    Month {
        year: i32,
        month: u32,
    },
    Date(NaiveDate),
    Count(i64),
    /// A message inside another, rendered in the same language.
    Message(Box<Message>),
}

impl Arg {
    /// The value as it reads in `locale` (`Rp42.000.000`, `7.894`, `September 2025`).
    pub fn render(&self, locale: Locale) -> String {
        match self {
            Arg::Text(text) => text.clone(),
            Arg::Rupiah(amount) => rupiah(*amount, locale),
            Arg::Month { year, month } => match locale {
                // English keeps the wire form clients see today; Indonesian reads as a clerk writes it.
                Locale::En => format!("{year:04}-{month:02}"),
                Locale::Id => format!("{} {year}", BULAN[(*month as usize).clamp(1, 12) - 1]),
            },
            Arg::Date(date) => match locale {
                Locale::En => date.to_string(),
                Locale::Id => format!("{} {} {}", date.day(), BULAN[date.month0() as usize], date.year()),
            },
            Arg::Count(n) => grouped(&n.unsigned_abs().to_string(), separators(locale).0, *n < 0),
            Arg::Message(message) => message.render(locale),
        }
    }
}

const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// (thousands, decimal) separators.
fn separators(locale: Locale) -> (char, char) {
    match locale {
        Locale::En => (',', '.'),
        Locale::Id => ('.', ','),
    }
}

fn grouped(digits: &str, thousands: char, negative: bool) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(thousands);
        }
        out.push(c);
    }
    out
}

/// `Rp42.000.000` / `Rp42,000,000`; cents only when there are any (`Rp16.800,50`).
fn rupiah(amount: Decimal, locale: Locale) -> String {
    let (thousands, decimal) = separators(locale);
    let text = amount.abs().normalize().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = format!(
        "{}Rp{}",
        if amount.is_sign_negative() && !amount.is_zero() { "-" } else { "" },
        grouped(int, thousands, false)
    );
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(&format!("{frac:0<2}"));
    }
    out
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Arg {
        Arg::Text(text.clone())
    }
}

impl From<Message> for Arg {
    fn from(message: Message) -> Arg {
        Arg::Message(Box::new(message))
    }
}

impl From<NaiveDate> for Arg {
    fn from(date: NaiveDate) -> Arg {
        Arg::Date(date)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Count(n as i64)
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Count(i64::from(n))
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Count(n)
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Count(n as i64)
    }
}

/// A message of the catalogue with its parameters, rendered in either language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub code: Code,
    args: Vec<(&'static str, Arg)>,
}

impl Message {
    pub fn new(code: Code) -> Message {
        Message { code, args: Vec::new() }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Message {
        self.args.push((name, value.into()));
        self
    }

    /// The stable reason code a client branches on.
    pub fn reason(&self) -> &'static str {
        self.code.reason()
    }

    /// The message in `locale`; a parameter the site did not give stays as `{name}`.
    pub fn render(&self, locale: Locale) -> String {
        let template = self.code.template(locale);
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match self.args.iter().find(|(n, _)| *n == name) {
                        Some((_, value)) => out.push_str(&value.render(locale)),
                        None => out.push_str(&rest[open..open + close + 2]),
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The message in English, the language of `google.rpc.Status.message`.
    pub fn english(&self) -> String {
        self.render(Locale::En)
    }
}

/// A [`Message`] of `CODE` with named parameters: `msg!(MONTH_BEFORE_SUBSIDY, month = m, first = f)`.
#[macro_export]
macro_rules! msg {
    ($code:ident $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::messages::Message::new($crate::messages::Code::$code)$(.arg(stringify!($name), $value))*
    };
}

macro_rules! reason_of {
    ($name:ident) => {
        stringify!($name)
    };
    ($name:ident, $reason:ident) => {
        stringify!($reason)
    };
}

macro_rules! catalogue {
    ($($name:ident $(as $reason:ident)? { en: $en:literal, id: $id:literal })*) => {
        /// Every message lindung can send, by key; [`Code::reason`] is the reason code clients see.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($name,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The stable SCREAMING_SNAKE_CASE reason code.
            pub fn reason(self) -> &'static str {
                match self {
                    $(Code::$name => reason_of!($name $(, $reason)?),)*
                }
            }

            /// The key of the entry (the reason code, or the variant of it).
            pub fn key(self) -> &'static str {
                match self {
                    $(Code::$name => stringify!($name),)*
                }
            }

            pub fn template(self, locale: Locale) -> &'static str {
                match self {
                    $(Code::$name => match locale {
                        Locale::En => $en,
                        Locale::Id => $id,
                    },)*
                }
            }
        }
    };
}

catalogue! {
    // Connectives of summaries, not reasons.
    AND_MORE { en: "and {count} more", id: "dan {count} lainnya" }

    // Identifiers and values (R5).
    NIK_LENGTH { en: "must be exactly 16 digits, got {count}", id: "harus tepat 16 digit, tertulis {count}" }
    NIK_NOT_DIGITS { en: "must contain only digits (character {position} is {character})", id: "hanya boleh berisi angka (karakter ke-{position} adalah {character})" }
    NIK_PROVINCE { en: "province code {code} is not valid (11–99)", id: "kode provinsi {code} tidak sah (11–99)" }
    NIK_REGENCY { en: "regency code {code} is not valid (01–69 for a regency, 71–99 for a city)", id: "kode kabupaten/kota {code} tidak sah (01–69 untuk kabupaten, 71–99 untuk kota)" }
    NIK_DISTRICT { en: "district code 00 is not valid (01–99)", id: "kode kecamatan 00 tidak sah (01–99)" }
    NIK_BIRTH_DAY { en: "day of birth {day} is not valid (01–31, or 41–71 for women)", id: "tanggal lahir {day} tidak sah (01–31, atau 41–71 untuk perempuan)" }
    NIK_BIRTH_MONTH { en: "month of birth {month} is not valid (01–12)", id: "bulan lahir {month} tidak sah (01–12)" }
    NIK_BIRTH_DATE { en: "day of birth {day} does not exist in month {month}", id: "tanggal lahir {day} tidak ada pada bulan {month}" }
    NIK_BIRTH_DATE_LEAP as NIK_BIRTH_DATE { en: "day of birth 29 does not exist in month 02 of year ..{year}, which is not a leap year", id: "tanggal lahir 29 tidak ada pada bulan 02 tahun ..{year}, yang bukan tahun kabisat" }
    NIK_SERIAL { en: "serial number 0000 is not valid (0001–9999)", id: "nomor urut 0000 tidak sah (0001–9999)" }
    // Warnings a stored worker carries: registered as stated, to be checked by a clerk.
    NIK_BIRTH_DATE_MISMATCH { en: "The stated birth date differs from the one in the NIK; check it against the identity card. The worker is registered as stated and the NIK is never corrected.", id: "Tanggal lahir yang ditulis berbeda dengan yang tersimpan dalam NIK; periksa dengan KTP. Pekerja didaftarkan sesuai yang ditulis dan NIK tidak pernah diubah." }
    NIK_SEX_MISMATCH { en: "The stated sex differs from the one in the NIK (women's day of birth is written plus 40); check it against the identity card. The worker is registered as stated.", id: "Jenis kelamin yang ditulis berbeda dengan yang tersimpan dalam NIK (tanggal lahir perempuan ditulis ditambah 40); periksa dengan KTP. Pekerja didaftarkan sesuai yang ditulis." }
    NIK_PREFIX_UNKNOWN { en: "The district that issued the NIK is not in the current Kemendagri area list; it may be an older code from before a split. The worker is registered.", id: "Kecamatan penerbit NIK tidak ada dalam daftar wilayah Kemendagri yang berlaku; mungkin kode lama sebelum pemekaran. Pekerja tetap didaftarkan." }
    PARTICIPANT_NUMBER_FORMAT { en: "must be the insurer's 11-digit participant number", id: "harus berupa nomor peserta BPJS Ketenagakerjaan 11 digit" }
    AREA_CODE_FORMAT { en: "{input} is not an area code: expected 32, 32.71, 32.71.01 or 32.71.01.1001", id: "{input} bukan kode wilayah: seharusnya seperti 32, 32.71, 32.71.01 atau 32.71.01.1001" }
    AREA_CODE_PROVINCE_ZERO as AREA_CODE_FORMAT { en: "province code 00 is not valid (11–99)", id: "kode provinsi 00 tidak sah (11–99)" }
    AREA_CODE_LEVEL { en: "{code} is a {actual} code; a {expected} code is required, e.g. {example}", id: "{code} adalah kode tingkat {actual}; yang diperlukan kode tingkat {expected}, misalnya {example}" }
    DATE_FORMAT { en: "must be a date written YYYY-MM-DD, e.g. 2025-09-15", id: "harus tanggal yang ditulis YYYY-MM-DD, misalnya 2025-09-15" }
    DATE_NOT_A_DAY as DATE_FORMAT { en: "is not a calendar date", id: "bukan tanggal yang ada di kalender" }
    DATE_OUT_OF_RANGE { en: "must be between 1900-01-01 and 2999-12-31", id: "harus antara 1900-01-01 dan 2999-12-31" }
    MONTH_FORMAT { en: "must be a month like 2025-09, from 1900-01 to 2999-12", id: "harus bulan seperti 2025-09, dari 1900-01 sampai 2999-12" }
    MONEY_FORMAT { en: "must be a decimal amount of rupiah like 16800 or 16800.50", id: "harus jumlah rupiah desimal seperti 16800 atau 16800.50" }
    MONEY_NEGATIVE { en: "must not be negative", id: "tidak boleh negatif" }
    MONEY_PRECISION { en: "must have at most 2 decimal places (sen), like 16800.50", id: "paling banyak 2 angka desimal (sen), seperti 16800.50" }
    MONEY_TOO_LARGE { en: "must be at most Rp1000000000000000 (10^15)", id: "paling besar Rp1000000000000000 (10^15)" }

    DATE_FORMAT_QUOTED as DATE_FORMAT { en: "{input} is not a date: expected YYYY-MM-DD, e.g. 1990-05-15", id: "{input} bukan tanggal: seharusnya YYYY-MM-DD, misalnya 1990-05-15" }
    DATE_NOT_A_DAY_QUOTED as DATE_FORMAT { en: "{input} is not a calendar date", id: "{input} bukan tanggal yang ada di kalender" }
    DATE_OUT_OF_RANGE_QUOTED as DATE_OUT_OF_RANGE { en: "{input} is out of range: dates run from 1900-01-01 to 2999-12-31", id: "{input} di luar rentang: tanggal berlaku dari 1900-01-01 sampai 2999-12-31" }
    DATE_IN_FUTURE { en: "must not be after today ({today})", id: "tidak boleh setelah hari ini ({today})" }
    INVALID_UNEXPECTED as INVALID { en: "{detail}", id: "tidak sah: {detail}" }
    JSON_INVALID { en: "not a JSON request of this RPC: {problem}", id: "bukan permintaan JSON untuk RPC ini: {problem}" }
    MESSAGE_UNDECODABLE { en: "the message is not valid protobuf for this RPC: {detail}", id: "pesan bukan protobuf yang sah untuk RPC ini: {detail}" }
    EVENT_KIND_UNKNOWN { en: "{value} is not an event kind", id: "{value} bukan jenis peristiwa" }
    LEVEL_PROVINCE { en: "province", id: "provinsi" }
    LEVEL_REGENCY { en: "regency", id: "kabupaten/kota" }
    LEVEL_DISTRICT { en: "district", id: "kecamatan" }
    LEVEL_VILLAGE { en: "village", id: "desa/kelurahan" }
    AREA_UNKNOWN { en: "area {area} is not in the Kemendagri area list", id: "wilayah {area} tidak ada dalam daftar wilayah Kemendagri" }
    AREA_UNKNOWN_VILLAGE as AREA_UNKNOWN { en: "village {village} is not in the Kemendagri area list", id: "desa/kelurahan {village} tidak ada dalam daftar wilayah Kemendagri" }

    // Workers (R5).
    NAME_LENGTH { en: "must be at most {max} characters, got {length}", id: "paling banyak {max} karakter, tertulis {length}" }
    NAME_CONTROL_CHARS { en: "must not contain control characters such as tabs or line breaks (character {position})", id: "tidak boleh berisi karakter kendali seperti tab atau baris baru (karakter ke-{position})" }
    NAME_INVALID { en: "is required: 1–{max} printable characters", id: "wajib diisi: 1–{max} karakter yang dapat dicetak" }
    OCCUPATION_DETAIL_LENGTH { en: "must be at most {max} characters, got {length}", id: "paling banyak {max} karakter, tertulis {length}" }
    OCCUPATION_DETAIL_CONTROL_CHARS { en: "must not contain control characters such as tabs or line breaks (character {position})", id: "tidak boleh berisi karakter kendali seperti tab atau baris baru (karakter ke-{position})" }
    OCCUPATION_DETAIL_REQUIRED { en: "is required when the occupation is other: say what the work is", id: "wajib diisi bila pekerjaannya lainnya: sebutkan pekerjaannya" }
    SOURCE_LENGTH { en: "must be at most {max} characters, got {length}", id: "paling banyak {max} karakter, tertulis {length}" }
    SOURCE_CONTROL_CHARS { en: "must not contain control characters such as tabs or line breaks (character {position})", id: "tidak boleh berisi karakter kendali seperti tab atau baris baru (karakter ke-{position})" }
    BIRTH_DATE_TOO_EARLY { en: "must not be before 1900-01-01", id: "tidak boleh sebelum 1900-01-01" }
    DECILE_RANGE { en: "decile {decile} is not valid (1–10)", id: "desil {decile} tidak sah (1–10)" }
    DECILE_RANGE_FILTER as DECILE_RANGE { en: "decile {decile} is not valid (1–10, or 0 for no limit)", id: "desil {decile} tidak sah (1–10, atau 0 tanpa batas)" }
    QUARTER_FORMAT { en: "{input} is not a quarter: expected YYYY-Qn with n from 1 to 4, e.g. 2025-Q3", id: "{input} bukan triwulan: seharusnya YYYY-Qn dengan n dari 1 sampai 4, misalnya 2025-Q3" }
    QUARTER_IN_FUTURE { en: "{quarter} is after the current quarter ({current})", id: "{quarter} setelah triwulan berjalan ({current})" }
    PHONE_CHARACTERS as PHONE_FORMAT { en: "must contain only digits, spaces, dashes and a leading +", id: "hanya boleh berisi angka, spasi, tanda hubung dan + di depan" }
    PHONE_PREFIX as PHONE_FORMAT { en: "must be an Indonesian number starting with 0, 62 or +62", id: "harus nomor Indonesia yang diawali 0, 62 atau +62" }
    PHONE_TRUNK_ZERO as PHONE_FORMAT { en: "must not have a 0 after the country code 62 (write +62812…, not +620812…)", id: "tidak boleh ada 0 setelah kode negara 62 (tulis +62812…, bukan +620812…)" }
    PHONE_LENGTH as PHONE_FORMAT { en: "must have 9–15 digits counting the country code 62, got {count}", id: "harus 9–15 digit termasuk kode negara 62, tertulis {count}" }
    DEATH_BEFORE_BIRTH_DATE as DEATH_BEFORE_BIRTH { en: "must not be before the birth date ({born})", id: "tidak boleh sebelum tanggal lahir ({born})" }
    DEATH_ALREADY_REPORTED { en: "a death on {date} with another certificate or date is already recorded for this worker", id: "kematian pada {date} dengan akta atau tanggal lain sudah tercatat untuk pekerja ini" }

    // Subsidies (R4).
    LEGAL_BASIS_LENGTH { en: "must be at most {max} characters, got {length}", id: "paling banyak {max} karakter, tertulis {length}" }
    LEGAL_BASIS_CONTROL_CHARS { en: "must not contain control characters such as tabs or line breaks (character {position})", id: "tidak boleh berisi karakter kendali seperti tab atau baris baru (karakter ke-{position})" }
    MONTH_ORDER { en: "must not be before the first month {first}", id: "tidak boleh sebelum bulan pertama, {first}" }
    MONTH_SPAN { en: "a subsidy may span at most {max} months; {first} to {last} is {months}", id: "subsidi paling lama {max} bulan; {first} sampai {last} adalah {months} bulan" }
    QUOTA_RANGE { en: "must be from 1 to {max} workers, got {quota}", id: "harus 1 sampai {max} pekerja, tertulis {quota}" }
    BUDGET_CEILING_ZERO { en: "must be more than zero", id: "harus lebih dari nol" }
    CONTRIBUTION_ZERO { en: "JKK + JKM must be more than zero", id: "JKK + JKM harus lebih dari nol" }
    FUNDER_KIND { en: "the insurer cannot fund a subsidy; only a city or province government can", id: "BPJS Ketenagakerjaan tidak dapat mendanai subsidi; hanya pemerintah kota atau provinsi yang dapat" }
    AREA_CODE_LEVEL_SUBSIDY as AREA_CODE_LEVEL { en: "{area} is a {level} code; a subsidy covers a regency or province, e.g. 32.71 or 32", id: "{area} adalah kode tingkat {level}; subsidi mencakup kabupaten/kota atau provinsi, misalnya 32.71 atau 32" }
    AREA_OUTSIDE_CITY as AREA_OUTSIDE_FUNDER { en: "{area} is outside the funder's area: a city funds only its own ({region})", id: "{area} di luar wilayah penyandang dana: kota hanya mendanai wilayahnya sendiri ({region})" }
    AREA_OUTSIDE_PROVINCE as AREA_OUTSIDE_FUNDER { en: "{area} is outside the funder's province {region}", id: "{area} di luar provinsi penyandang dana, {region}" }
    AREA_OUTSIDE_NONE as AREA_OUTSIDE_FUNDER { en: "{area} is outside the funder's area: the funder has none", id: "{area} di luar wilayah penyandang dana: penyandang dana tidak memiliki wilayah" }
    BOUNDED_DECILE as DECILE_RANGE { en: "must be a decile from 1 to 10, got {value}", id: "harus desil 1 sampai 10, tertulis {value}" }
    BOUNDED_AGE as AGE_RANGE { en: "must be an age of at most 100, got {value}", id: "harus usia paling tinggi 100, tertulis {value}" }
    AGE_ORDER as AGE_RANGE { en: "must not be above the maximum age {max}", id: "tidak boleh di atas usia maksimum {max}" }
    DECILE_AGE_RANGE { en: "must be at most 20 quarters (5 years), got {value}", id: "paling banyak 20 triwulan (5 tahun), tertulis {value}" }

    // Contributions, claims and the audit trail (R1.5, R2, R3, R6.3).
    MONTH_NOT_FUNDED as MONTH_OUTSIDE_SUBSIDY { en: "the subsidy funds {first} to {last}, not {month}", id: "subsidi mendanai {first} sampai {last}, bukan {month}" }
    DATE_MISMATCH { en: "must fall on the accident date {date} (WIB)", id: "harus jatuh pada tanggal kecelakaan {date} (WIB)" }
    JKK_CLAIM_LAPSED { en: "the right to claim JKK for an accident on {date} lapsed 5 years after it", id: "hak mengajukan klaim JKK atas kecelakaan pada {date} gugur 5 tahun setelahnya" }
    CLAIM_STATUS { en: "cannot {action} a claim that is {status}", id: "tidak dapat melakukan {action} atas klaim berstatus {status}" }
    CLAIM_PAID_UNDER_ANOTHER_REFERENCE as CLAIM_ALREADY_PAID { en: "the claim was paid on {date} under another reference", id: "klaim sudah dibayar pada {date} dengan referensi lain" }
    NOT_COVERED { en: "the worker was not covered on {date}: {reason}", id: "pekerja tidak terlindungi pada {date}: {reason}" }
    HEIRS_REQUIRED { en: "a death claim names at least one heir (R2.5)", id: "klaim kematian menyebutkan paling sedikit satu ahli waris (R2.5)" }
    HEIR_ORDER { en: "R2.5: heirs {positions} are of group {group}, but an heir of group {first} is named: R2.5 passes to a later group only when no earlier one exists", id: "R2.5: ahli waris {positions} termasuk golongan {group}, padahal ahli waris golongan {first} disebutkan: R2.5 beralih ke golongan berikutnya hanya bila golongan sebelumnya tidak ada" }
    AUDIT_RECORD_NOT_SEALED { en: "the record is not sealed yet; ask again in a few seconds", id: "catatan belum disegel; tanyakan lagi beberapa detik lagi" }
    AUDIT_RECORD_NOT_CHECKPOINTED { en: "no checkpoint covers the record yet; ask again later", id: "belum ada checkpoint yang mencakup catatan ini; tanyakan lagi nanti" }

    // Enrollment (docs/RULES.md R1.9, R4, R5.5, R6.1).
    WORKER_NOT_REGISTERED { en: "the NIK is not in the registry: register the worker before enrolling them", id: "NIK tidak ada dalam registri: daftarkan pekerja sebelum mendaftarkannya ke subsidi" }
    OUTSIDE_SUBSIDY_AREA { en: "the worker is not domiciled in the subsidy's area {area}", id: "pekerja tidak berdomisili di wilayah subsidi {area}" }
    MONTH_BEFORE_SUBSIDY as MONTH_OUTSIDE_SUBSIDY { en: "{month} is before the subsidy's first funded month {first}", id: "{month} sebelum bulan pertama yang didanai subsidi, {first}" }
    MONTH_AFTER_SUBSIDY as MONTH_OUTSIDE_SUBSIDY { en: "{month} is after the subsidy's last funded month {last}", id: "{month} setelah bulan terakhir yang didanai subsidi, {last}" }
    WORKER_DECEASED { en: "the worker died on {died}, before the first funded month {month}", id: "pekerja meninggal pada {died}, sebelum bulan pertama yang didanai, {month}" }
    DECILE_TOO_HIGH { en: "decile {decile} is above the subsidy's maximum {max}", id: "desil {decile} di atas batas subsidi, {max}" }
    DECILE_STALE { en: "the decile is as of {as_of}, more than {max} quarters before {quarter} (the quarter of {month}): update it from DTSEN", id: "desil tercatat per {as_of}, lebih dari {max} triwulan sebelum {quarter} (triwulan {month}): perbarui dari DTSEN" }
    AGE_OUTSIDE_RANGE { en: "aged {age} on {date}, outside {min}–{max}", id: "berusia {age} tahun pada {date}, di luar {min}–{max}" }
    FUNDER_CITY { en: "a city government", id: "pemerintah kota" }
    FUNDER_PROVINCE { en: "a province government", id: "pemerintah provinsi" }
    FUNDER_INSURER { en: "the insurer", id: "BPJS Ketenagakerjaan" }
    DOUBLE_FUNDING { en: "already funded for an overlapping month by {funder} (subsidy {subsidy})", id: "sudah didanai untuk bulan yang tumpang tindih oleh {funder} (subsidi {subsidy})" }
    ALREADY_ENROLLED_BY_YOU { en: "already enrolled by you for an overlapping month (enrollment {enrollment} of subsidy {subsidy})", id: "sudah Anda daftarkan untuk bulan yang tumpang tindih (pendaftaran {enrollment} pada subsidi {subsidy})" }
    QUOTA_EXHAUSTED { en: "the subsidy's quota of {quota} workers is reached", id: "kuota subsidi sebanyak {quota} pekerja sudah terpenuhi" }
    BUDGET_EXHAUSTED { en: "funding the worker would exceed the subsidy's budget ceiling of {ceiling}", id: "mendanai pekerja ini akan melampaui pagu anggaran subsidi sebesar {ceiling}" }
    ENROLLMENT_NOT_PENDING { en: "the enrollment is {status}; only a pending one can be {verb}", id: "pendaftaran berstatus {status}; hanya pendaftaran yang menunggu yang dapat diputuskan ({verb})" }
    PROTECTION_BEFORE_FUNDING { en: "protection cannot start before the first funded month {month}", id: "perlindungan tidak dapat dimulai sebelum bulan pertama yang didanai, {month}" }
    PARTICIPANT_NUMBER_CONFLICT { en: "the participant number belongs to another worker, or this worker already has a different one", id: "nomor peserta milik pekerja lain, atau pekerja ini sudah memiliki nomor peserta yang berbeda" }
    ENROLLMENT_NOT_OPEN { en: "the enrollment is {status}; only a pending or active one can end", id: "pendaftaran berstatus {status}; hanya pendaftaran yang menunggu atau aktif yang dapat diakhiri" }
    ENROLLMENT_ALREADY_HANDED_OVER { en: "the enrollment was already handed over under another request id", id: "pendaftaran sudah dialihkan dengan request id lain" }

    // Nothing by that key in the caller's view (NOT_FOUND carries no reason of its own).
    NO_ENROLLMENT as NOT_FOUND { en: "no enrollment {id}", id: "tidak ada pendaftaran {id}" }
    NO_ENROLLMENT_IN_VIEW as NOT_FOUND { en: "no enrollment {id} in your view", id: "tidak ada pendaftaran {id} dalam cakupan Anda" }
    NO_ENROLLMENT_OF_YOURS as NOT_FOUND { en: "no enrollment {id} of yours", id: "tidak ada pendaftaran {id} milik Anda" }
    NO_SUBSIDY_OF_YOURS as NOT_FOUND { en: "no subsidy {id} of yours ({field})", id: "tidak ada subsidi {id} milik Anda ({field})" }
    NO_SUBSIDY_FIELD as NOT_FOUND { en: "no subsidy {id} ({field})", id: "tidak ada subsidi {id} ({field})" }
    NO_SUBSIDY_IN_VIEW as NOT_FOUND { en: "no subsidy {id} in your view", id: "tidak ada subsidi {id} dalam cakupan Anda" }
    NO_WORKER_IN_VIEW as NOT_FOUND { en: "no worker with this NIK in your view", id: "tidak ada pekerja dengan NIK ini dalam cakupan Anda" }
    NO_WORKER_FUNDED as NOT_FOUND { en: "no worker with this NIK among the workers you fund", id: "tidak ada pekerja dengan NIK ini di antara pekerja yang Anda danai" }
    NO_WORKER_FUNDED_BY_CALLER as NOT_FOUND { en: "no worker with this NIK is funded by the caller", id: "tidak ada pekerja dengan NIK ini yang didanai pemanggil" }
    NO_WORKER_IDENTIFIED as NOT_FOUND { en: "no worker with this identifier", id: "tidak ada pekerja dengan pengenal ini" }
    NO_WORKER_IDENTIFIED_FUNDED as NOT_FOUND { en: "no worker with this identifier among the workers you fund", id: "tidak ada pekerja dengan pengenal ini di antara pekerja yang Anda danai" }
    NO_CLAIM as NOT_FOUND { en: "no claim {id}", id: "tidak ada klaim {id}" }
    NO_CLAIM_IN_VIEW as NOT_FOUND { en: "no claim {id} in your view", id: "tidak ada klaim {id} dalam cakupan Anda" }
    NO_AUDIT_RECORD as NOT_FOUND { en: "no such audit record in the caller's view", id: "tidak ada catatan audit tersebut dalam cakupan pemanggil" }

    // Who may call what.
    REQUEST_ID_HEADER as REQUEST_ID_FORMAT { en: "`{header}` must be 1 to {max} visible ASCII characters, without spaces", id: "`{header}` harus 1 sampai {max} karakter ASCII yang terlihat, tanpa spasi" }
    CORRELATION_ID_FORMAT { en: "`{header}` must be 1 to {max} visible ASCII characters, without spaces", id: "`{header}` harus 1 sampai {max} karakter ASCII yang terlihat, tanpa spasi" }
    API_KEY_MISSING { en: "missing `authorization: Bearer <API key>` metadata", id: "metadata `authorization: Bearer <API key>` tidak ada" }
    API_KEY_NOT_TEXT as API_KEY_MALFORMED { en: "the authorization metadata is not readable text", id: "metadata authorization bukan teks yang dapat dibaca" }
    API_KEY_MALFORMED { en: "the authorization metadata must be `Bearer <API key>`", id: "metadata authorization harus berbentuk `Bearer <API key>`" }
    API_KEY_UNKNOWN { en: "unknown or revoked API key", id: "API key tidak dikenal atau sudah dicabut" }
    CERTIFICATE_UNKNOWN { en: "the client certificate is not recorded for an agency, or was revoked", id: "sertifikat klien tidak tercatat untuk instansi mana pun, atau sudah dicabut" }
    CERTIFICATE_REQUIRED { en: "this server accepts client certificates only: API keys are disabled", id: "server ini hanya menerima sertifikat klien: API key dinonaktifkan" }
    RATE_LIMITED { en: "your agency started more than {per_second} calls a second; try again in {retry_ms} ms", id: "instansi Anda memulai lebih dari {per_second} panggilan per detik; coba lagi dalam {retry_ms} ms" }
    TOO_MANY_IN_FLIGHT { en: "your agency already has {running} {class} calls in flight and its queue is full; try again in {retry_ms} ms", id: "instansi Anda sudah menjalankan {running} panggilan {class} dan antreannya penuh; coba lagi dalam {retry_ms} ms" }
    RPC_NOT_ALLOWED { en: "an agency of kind {kind} may not call {method}", id: "instansi berjenis {kind} tidak boleh memanggil {method}" }
    WORKER_REGISTERED_ELSEWHERE { en: "this worker is registered as domiciled outside your area; a move between areas is recorded by an agency that governs both", id: "pekerja ini terdaftar berdomisili di luar wilayah Anda; perpindahan antarwilayah dicatat oleh instansi yang membawahi keduanya" }
    OUTSIDE_AGENCY_AREA { en: "village {village} is outside the area of {agency} ({region})", id: "desa/kelurahan {village} berada di luar wilayah {agency} ({region})" }
    OUTSIDE_AGENCY_AREA_SUBSIDY as OUTSIDE_AGENCY_AREA { en: "subsidy.area_code: {detail}", id: "pada subsidy.area_code: {detail}" }

    // Field rules of requests, alphabetically.
    AMOUNT_POSITIVE { en: "must be more than zero", id: "harus lebih dari nol" }
    BANK_ACCOUNT_REQUIRED { en: "the bank name and account where the benefit is paid are required (R2.6)", id: "nama bank dan nomor rekening tempat santunan dibayarkan wajib diisi (R2.6)" }
    CERTIFICATE_FORMAT { en: "must be 1–100 printable characters", id: "harus 1–100 karakter yang dapat dicetak" }
    CERTIFICATE_FORMAT_DEATH as CERTIFICATE_FORMAT { en: "must be the death certificate number: 1–100 printable characters", id: "harus berupa nomor akta kematian: 1–100 karakter yang dapat dicetak" }
    CLAIM_ALREADY_PAID { en: "the claim is already paid", id: "klaim sudah dibayar" }
    DEATH_ALREADY_CLAIMED { en: "a death claim for this worker is already filed (the death benefit is paid once)", id: "klaim kematian untuk pekerja ini sudah diajukan (santunan kematian dibayar sekali)" }
    DEATH_BEFORE_BIRTH { en: "must not be before the birth date", id: "tidak boleh sebelum tanggal lahir" }
    DETAIL_LENGTH { en: "must be at most 500 characters", id: "paling banyak 500 karakter" }
    DOUBLE_FUNDING_OTHER as DOUBLE_FUNDING { en: "already funded for an overlapping month by another enrollment", id: "sudah didanai untuk bulan yang tumpang tindih oleh pendaftaran lain" }
    END_REASON_RESERVED { en: "END_REASON_HANDED_OVER is set by HandOverEnrollment", id: "END_REASON_HANDED_OVER ditetapkan oleh HandOverEnrollment" }
    ENUM_UNKNOWN_CLAIM_DOCUMENT as ENUM_UNKNOWN { en: "is not a ClaimDocument", id: "bukan ClaimDocument" }
    ENUM_UNKNOWN_CLAIM_STATUS as ENUM_UNKNOWN { en: "is not a ClaimStatus", id: "bukan ClaimStatus" }
    ENUM_UNKNOWN_ENROLLMENT_STATUS as ENUM_UNKNOWN { en: "is not an EnrollmentStatus", id: "bukan EnrollmentStatus" }
    EXCLUSIVE { en: "must be empty when total_disability is set", id: "harus kosong bila total_disability diisi" }
    IDENTIFIER_REQUIRED { en: "give exactly one of nik and participant_number", id: "isi tepat satu dari nik dan participant_number" }
    IDENTIFIER_REQUIRED_CLAIM as IDENTIFIER_REQUIRED { en: "give exactly one of worker_nik and participant_number", id: "isi tepat satu dari worker_nik dan participant_number" }
    ID_FORMAT { en: "must be an id (UUID) lindung answered", id: "harus berupa id (UUID) yang diberikan lindung" }
    ID_FORMAT_ENROLLMENT as ID_FORMAT { en: "must be an enrollment id (UUID)", id: "harus berupa id pendaftaran (UUID)" }
    ID_FORMAT_SUBSIDY as ID_FORMAT { en: "must be a subsidy id (UUID)", id: "harus berupa id subsidi (UUID)" }
    ID_FORMAT_YOUR_SUBSIDY as ID_FORMAT { en: "must be the id (UUID) of one of your subsidies", id: "harus berupa id (UUID) salah satu subsidi Anda" }
    ID_NOT_POSITIVE { en: "a record id is 1 or more", id: "id catatan bernilai 1 atau lebih" }
    INVALID { en: "is not valid", id: "tidak sah" }
    NOTICE_MISMATCH { en: "is a notice about another worker or event", id: "adalah laporan tentang pekerja atau kejadian lain" }
    NOT_FOR_EVENT { en: "are named only for a death", id: "hanya disebutkan untuk kematian" }
    NOT_WITH_APPROVAL { en: "must be empty to approve", id: "harus kosong untuk menyetujui" }
    PAGE_TOKEN_INVALID { en: "not a token from a previous response of this list", id: "bukan token dari jawaban sebelumnya atas daftar ini" }
    PERCENT_RANGE { en: "must be a percentage above 0 and below 100, like 12.5", id: "harus persentase di atas 0 dan di bawah 100, seperti 12.5" }
    PERIOD_TOO_LONG { en: "the period of inability to work is at most 5 years (R3.8)", id: "masa tidak mampu bekerja paling lama 5 tahun (R3.8)" }
    RANGE_ORDER { en: "must not be before unable_from", id: "tidak boleh sebelum unable_from" }
    REASON_CODE_FORMAT { en: "is required to reject: an upper-case code like NOT_WORK_RELATED (1–50 of A-Z, 0-9, _)", id: "wajib diisi untuk menolak: kode huruf besar seperti NOT_WORK_RELATED (1–50 dari A-Z, 0-9, _)" }
    REFERENCE_REUSED { en: "was already recorded for a payment of another amount or date", id: "sudah tercatat untuk pembayaran dengan jumlah atau tanggal lain" }
    REFERENCE_REUSED_CLAIM as REFERENCE_REUSED { en: "was already used for another claim's payment", id: "sudah dipakai untuk pembayaran klaim lain" }
    REQUEST_ID_FORMAT { en: "must be 1–100 printable characters", id: "harus 1–100 karakter yang dapat dicetak" }
    REQUEST_ID_REUSED { en: "was already used for a different submission", id: "sudah dipakai untuk pengiriman yang berbeda" }
    REQUIRED { en: "is required", id: "wajib diisi" }
    REQUIRED_ACCIDENT_COSTS as REQUIRED { en: "is required for an accident", id: "wajib diisi untuk kecelakaan" }
    REQUIRED_ATTESTATION as REQUIRED { en: "is required: the token VerifyCoverage returned", id: "wajib diisi: token yang diberikan VerifyCoverage" }
    REQUIRED_CERTIFICATE as REQUIRED { en: "is required when the death was not reported yet", id: "wajib diisi bila kematian belum dilaporkan" }
    REQUIRED_DECISION as REQUIRED { en: "is required: confirm or refuse", id: "wajib diisi: konfirmasi atau tolak" }
    REQUIRED_DETAIL as REQUIRED { en: "is required when the reason is INSURER_REFUSAL_OTHER", id: "wajib diisi bila alasannya INSURER_REFUSAL_OTHER" }
    REQUIRED_EDUCATION_LEVEL as REQUIRED { en: "is required: an EducationLevel", id: "wajib diisi: sebuah EducationLevel" }
    REQUIRED_EVENT_KIND as REQUIRED { en: "is required: a ClaimEvent", id: "wajib diisi: sebuah ClaimEvent" }
    REQUIRED_NOTICE as REQUIRED { en: "is required (R3.7)", id: "wajib diisi (R3.7)" }
    REQUIRED_NOTICE_ACCIDENT as REQUIRED { en: "is required for a work accident (R3.7)", id: "wajib diisi untuk kecelakaan kerja (R3.7)" }
    REQUIRED_PROGRAMME as REQUIRED { en: "is required: PROGRAMME_JKK or PROGRAMME_JKM", id: "wajib diisi: PROGRAMME_JKK atau PROGRAMME_JKM" }
    REQUIRED_RECORD as REQUIRED { en: "give the record's seq or its id", id: "sebutkan seq atau id catatan" }
    REQUIRED_RELATIONSHIP as REQUIRED { en: "is required: a Relationship (R2.5)", id: "wajib diisi: sebuah Relationship (R2.5)" }
    REQUIRED_REQUEST_ID as REQUIRED { en: "is required: a client-chosen id that makes resending safe", id: "wajib diisi: id pilihan klien yang membuat pengiriman ulang aman" }
    REQUIRED_SUBSIDIES as REQUIRED { en: "name at least one subsidy", id: "sebutkan paling sedikit satu subsidi" }
    REQUIRED_TRANSPORT as REQUIRED { en: "is required: a Transport", id: "wajib diisi: sebuah Transport" }
    ROW_EXPECTED { en: "every message after the first must be a `row`", id: "setiap pesan setelah yang pertama harus `row`" }
    SEQ_NEGATIVE { en: "a position in the chain is 0 or more", id: "posisi dalam rantai bernilai 0 atau lebih" }
    START_FIRST { en: "the first message must be `start`", id: "pesan pertama harus `start`" }
    SUBSIDIES_OF_ONE_FUNDER { en: "name subsidies of one funder", id: "sebutkan subsidi dari satu penyandang dana" }
    TEXT_FORMAT_NAME as TEXT_FORMAT { en: "is required: 1–150 printable characters", id: "wajib diisi: 1–150 karakter yang dapat dicetak" }
    TEXT_FORMAT_NOTICE as TEXT_FORMAT { en: "is required: 1–200 printable characters (R3.7)", id: "wajib diisi: 1–200 karakter yang dapat dicetak (R3.7)" }
    TIMESTAMP_INVALID { en: "not a valid timestamp", id: "bukan stempel waktu yang sah" }
    TIME_INVALID { en: "must be a valid time, not in the future", id: "harus waktu yang sah, tidak di masa depan" }

    // Answers as a client's result file words them (`lindung coverage verify`, `lindung reconcile`), under the
    // reason or class code of the answer.
    COVERAGE_COVERED as COVERED { en: "protected on {date}", id: "terlindungi pada {date}" }
    COVERAGE_COVERED_DETAILS as COVERED { en: "protected on {date}: paid through {paid_through}, contribution months: {months}", id: "terlindungi pada {date}: iuran lunas sampai {paid_through}, masa iur: {months} bulan" }
    COVERAGE_NOT_ENROLLED as NOT_ENROLLED { en: "not protected on {date}: no enrollment funds the worker in that month", id: "tidak terlindungi pada {date}: tidak ada pendaftaran yang mendanai pekerja pada bulan itu" }
    COVERAGE_PENDING_REGISTRATION as PENDING_REGISTRATION { en: "not protected on {date}: enrolled but not yet registered by the insurer, or before the protection start", id: "tidak terlindungi pada {date}: sudah didaftarkan tetapi belum diregistrasi BPJS Ketenagakerjaan, atau sebelum mulai perlindungan" }
    COVERAGE_MONTH_UNPAID as MONTH_UNPAID { en: "not protected on {date}: the month's contribution is not paid (yet)", id: "tidak terlindungi pada {date}: iuran bulan itu belum dibayar" }
    COVERAGE_IN_ARREARS_WINDOW as IN_ARREARS_WINDOW { en: "not protected on {date}: two or more months unpaid; pay before the third, or the membership lapses", id: "tidak terlindungi pada {date}: dua bulan atau lebih belum dibayar; bayar sebelum bulan ketiga, atau kepesertaan gugur" }
    COVERAGE_LAPSED as LAPSED { en: "not protected on {date}: the membership lapsed after three unpaid months", id: "tidak terlindungi pada {date}: kepesertaan gugur setelah tiga bulan iuran tidak dibayar" }
    COVERAGE_ENDED as ENDED { en: "not protected on {date}: the funding ended before that month", id: "tidak terlindungi pada {date}: pendanaan berakhir sebelum bulan itu" }
    COVERAGE_DECEASED as DECEASED { en: "not protected on {date}: the worker died before that date", id: "tidak terlindungi pada {date}: pekerja meninggal sebelum tanggal itu" }
    DIFFERENCE_ACTIVE as ACTIVE { en: "enrolled from {first} and active", id: "terdaftar sejak {first} dan aktif" }
    DIFFERENCE_PENDING as PENDING { en: "submitted from {first}, not yet decided by the insurer", id: "diajukan sejak {first}, belum diputuskan BPJS Ketenagakerjaan" }
    DIFFERENCE_REFUSED as REFUSED { en: "refused by the insurer ({reason})", id: "ditolak BPJS Ketenagakerjaan ({reason})" }
    DIFFERENCE_ENDED as ENDED { en: "the enrollment ended before the month", id: "pendaftaran berakhir sebelum bulan itu" }
    DIFFERENCE_LAPSED as LAPSED { en: "the membership lapsed after three unpaid months", id: "kepesertaan gugur setelah tiga bulan iuran tidak dibayar" }
    DIFFERENCE_DECEASED as DECEASED { en: "the worker died on or before the month's reference date", id: "pekerja meninggal pada atau sebelum tanggal acuan bulan itu" }
    DIFFERENCE_NOT_ON_LIST as NOT_ON_LIST { en: "funded in the month (enrolled from {first}) but missing from the list", id: "didanai pada bulan itu (terdaftar sejak {first}) tetapi tidak ada dalam daftar" }
    DIFFERENCE_FUNDED_BY_OTHER as FUNDED_BY_OTHER { en: "funded in the month by {funder}", id: "didanai pada bulan itu oleh {funder}" }
    DIFFERENCE_NOT_REGISTERED as NOT_REGISTERED { en: "no worker with this NIK is registered", id: "tidak ada pekerja terdaftar dengan NIK ini" }
    DIFFERENCE_NOT_ENROLLED as NOT_ENROLLED { en: "registered, but not enrolled in these subsidies for the month", id: "terdaftar, tetapi tidak didaftarkan pada subsidi ini untuk bulan itu" }
    DIFFERENCE_DUPLICATE_ROW as DUPLICATE_ROW { en: "the NIK is on the list already, at row {row}", id: "NIK sudah ada dalam daftar, pada baris {row}" }
    DIFFERENCE_NOT_COVERED_YET as NOT_COVERED { en: "the month is not covered yet ({reason})", id: "bulan itu belum terlindungi ({reason})" }
    DIFFERENCE_NAME_MISMATCH as NAME_MISMATCH { en: "the name differs from the registered name", id: "nama berbeda dengan nama terdaftar" }
    DIFFERENCE_FIRST_MONTH_MISMATCH as FIRST_MONTH_MISMATCH { en: "the first month on the list differs from the enrollment's ({first})", id: "bulan pertama dalam daftar berbeda dengan pendaftaran ({first})" }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn parameters(template: &str) -> BTreeSet<&str> {
        template.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect()
    }

    #[test]
    fn every_code_has_an_english_and_an_indonesian_message_with_the_same_parameters() {
        for code in Code::ALL {
            let (en, id) = (code.template(Locale::En), code.template(Locale::Id));
            assert!(!en.trim().is_empty() && !id.trim().is_empty(), "{}: a message is empty", code.key());
            assert_ne!(en, id, "{}: the Indonesian message is the English one", code.key());
            assert_eq!(parameters(en), parameters(id), "{}: the two messages take different parameters", code.key());
            let reason = code.reason();
            assert!(
                reason.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{}: the reason is not SCREAMING_SNAKE_CASE",
                code.key()
            );
        }
    }

    /// The arguments of every `msg!(KEY, name = value, …)` in `src/`, by key (a site's text, read as boundaries.rs
    /// reads it).
    fn sites() -> Vec<(String, String, BTreeSet<String>)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("messages.rs") {
                    out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut files = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut sites = Vec::new();
        for (file, text) in files {
            for (at, _) in text.match_indices("msg!(") {
                let body = &text[at + 5..];
                let (mut depth, mut parts, mut start) = (0, Vec::new(), 0);
                for (i, c) in body.char_indices() {
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' if depth == 0 => {
                            parts.push(&body[start..i]);
                            break;
                        }
                        ')' | ']' | '}' => depth -= 1,
                        ',' if depth == 0 => {
                            parts.push(&body[start..i]);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                let key = parts[0].trim().to_owned();
                let names = parts[1..]
                    .iter()
                    .filter_map(|p| p.split_once('=').map(|(name, _)| name.trim().to_owned()))
                    .filter(|name| !name.is_empty())
                    .collect();
                sites.push((file.clone(), key, names));
            }
        }
        sites
    }

    #[test]
    fn every_site_gives_its_message_exactly_the_parameters_it_names() {
        let sites = sites();
        assert!(sites.len() > 100, "the sites are found");
        for (file, key, given) in sites {
            let code = Code::ALL.iter().find(|c| c.key() == key).unwrap_or_else(|| panic!("{file}: no entry {key}"));
            let wanted: BTreeSet<String> =
                parameters(code.template(Locale::En)).into_iter().map(str::to_owned).collect();
            assert_eq!(given, wanted, "{file}: msg!({key}, …)");
        }
    }

    #[test]
    fn amounts_and_counts_are_written_as_people_write_them() {
        let amount = |s: &str, l| Arg::Rupiah(s.parse().unwrap()).render(l);
        assert_eq!(amount("42000000", Locale::Id), "Rp42.000.000");
        assert_eq!(amount("42000000", Locale::En), "Rp42,000,000");
        assert_eq!(amount("10000000.00", Locale::En), "Rp10,000,000");
        assert_eq!(amount("16800.5", Locale::Id), "Rp16.800,50");
        assert_eq!(amount("16800.5", Locale::En), "Rp16,800.50");
        assert_eq!(amount("999", Locale::Id), "Rp999");
        assert_eq!(amount("0", Locale::Id), "Rp0");
        assert_eq!(amount("-1500", Locale::En), "-Rp1,500");
        assert_eq!(Arg::Count(22474).render(Locale::Id), "22.474");
        assert_eq!(Arg::Count(22474).render(Locale::En), "22,474");
        assert_eq!(Arg::Count(7).render(Locale::En), "7");
        assert_eq!(Arg::Count(1_000_000).render(Locale::Id), "1.000.000");
    }

    #[test]
    fn months_and_dates_in_indonesian_carry_the_month_s_name() {
        assert_eq!(Arg::Month { year: 2025, month: 9 }.render(Locale::Id), "September 2025");
        assert_eq!(Arg::Month { year: 2026, month: 1 }.render(Locale::Id), "Januari 2026");
        assert_eq!(Arg::Month { year: 2025, month: 12 }.render(Locale::Id), "Desember 2025");
        assert_eq!(Arg::Month { year: 2025, month: 9 }.render(Locale::En), "2025-09");
        let date = NaiveDate::from_ymd_opt(2025, 8, 17).unwrap();
        assert_eq!(Arg::Date(date).render(Locale::Id), "17 Agustus 2025");
        assert_eq!(Arg::Date(date).render(Locale::En), "2025-08-17");
    }

    #[test]
    fn accept_language_is_looked_up_with_q_values() {
        let cases = [
            ("", Locale::En),
            ("id", Locale::Id),
            ("id-ID", Locale::Id),
            ("ID-id", Locale::Id),
            ("in", Locale::Id),
            ("in-ID", Locale::Id),
            ("en", Locale::En),
            ("en-US,en;q=0.9", Locale::En),
            ("fr-FR, id;q=0.5", Locale::Id),
            ("id;q=0.5, en;q=0.8", Locale::En),
            ("en;q=0.5, id;q=0.8", Locale::Id),
            ("en;q=0.8, id;q=0.8", Locale::En),
            ("id;q=0, en", Locale::En),
            ("id;q=0", Locale::En),
            ("*", Locale::En),
            ("fr, de", Locale::En),
            ("id-Latn-ID-x-bogor", Locale::Id),
            ("  id-ID ; q=1.0 ", Locale::Id),
            ("id;q=2", Locale::En),
            ("ja, *;q=0.1", Locale::En),
        ];
        for (header, expected) in cases {
            assert_eq!(Locale::from_accept_language(header), expected, "{header:?}");
        }
    }

    #[test]
    fn a_message_renders_its_parameters_in_each_language() {
        let message = Message::new(Code::AND_MORE).arg("count", 1500_usize);
        assert_eq!(message.render(Locale::En), "and 1,500 more");
        assert_eq!(message.render(Locale::Id), "dan 1.500 lainnya");
        assert_eq!(Message::new(Code::AND_MORE).render(Locale::En), "and {count} more");
    }
}
