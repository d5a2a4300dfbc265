//! Workers in the registry: their domain types and the rules that turn one raw record into a trusted [`Worker`].
//!
//! Parsing is pure (the date is an argument) and reports every broken rule of a record at once, each as a
//! [`FieldViolation`] with a stable reason code, so that a clerk can fix a whole row in one pass.

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

// The shared vocabulary lives in leaf modules; re-exported here, where workers are described.
pub use crate::{
    nik::{Nik, NikError, Sex},
    quarter::{Quarter, QuarterError},
    validate::TextError,
};

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::{
    area::{AreaCodeError, AreaLevel, RegionCode},
    date::DateError,
    error::FieldViolation,
    messages::Code,
    validate::{Checker, bounded_text},
};

/// The occupations of *pekerja rentan* the funders report on; anything else is `Other` with a detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occupation {
    Trader,
    Construction,
    Tailor,
    Driver,
    Farmer,
    Fisher,
    Domestic,
    Other,
}

/// A DTSEN welfare decile: 1 is the poorest tenth of households nationally, 10 the richest (R4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decile(u8);

/// A full name as on the identity card: trimmed, 1 to 150 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FullName(String);

/// An Indonesian phone number (mobile or landline) in E.164 form, e.g. `+6281234567890`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

/// Where a worker stands in the welfare ranking, and according to whom and when (R4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Welfare {
    pub decile: Decile,
    /// Who ranked the household, e.g. `DTSEN`: trimmed, 1 to 50 characters.
    pub source: String,
    pub as_of: Quarter,
}

/// A warning recorded with a worker: never a reason to refuse one (R5.2, R5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The stated birth date differs from the one in the NIK.
    NikBirthDateMismatch,
    /// The stated sex differs from the one in the NIK.
    NikSexMismatch,
    /// The NIK's issuing district is not in the area list; set by the store, which knows the list.
    NikPrefixUnknown,
}

/// One worker as it arrives from the wire, unwrapped from protobuf: a blank string means absent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WorkerInput {
    pub nik: String,
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub sex: Option<Sex>,
    pub domicile_village_code: String,
    pub occupation: Option<Occupation>,
    pub occupation_detail: String,
    /// 0 when the client sent none.
    pub decile: u32,
    pub decile_source: String,
    /// `YYYY-Qn`.
    pub decile_as_of_quarter: String,
    pub phone: String,
    /// `YYYY-MM-DD`, or blank while the worker is alive.
    pub date_of_death: String,
}

/// A death as a funder or the insurer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathReport {
    pub nik: Nik,
    pub date_of_death: NaiveDate,
    pub certificate_number: String,
}

/// A recorded death and what the reporter may learn of its consequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub date_of_death: NaiveDate,
    pub certificate_number: String,
    /// Whether this report recorded it (false: it repeated the recorded report).
    pub recorded_now: bool,
    pub changed_enrollments: Vec<uuid::Uuid>,
    pub refunds: Vec<Refund>,
}

/// What was given back to a subsidy for a month after a death (R1.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub subsidy_id: uuid::Uuid,
    pub month: crate::month::Month,
    pub amount: crate::money::Rupiah,
}

/// The filters of a list of workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    /// None: the caller's whole view.
    pub area: Option<RegionCode>,
    pub max_decile: Option<i16>,
    /// The NIK the page starts after; empty for the first page.
    pub after_nik: String,
    pub limit: i64,
}

/// A validated worker: every field is trusted past this point.
///
/// `Debug` is safe to log: the NIK's `Debug` is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    pub nik: Nik,
    pub full_name: FullName,
    /// As stated, which may differ from the NIK's (then flagged, R5.2).
    pub birth_date: NaiveDate,
    /// As stated, which may differ from the NIK's (then flagged, R5.2).
    pub sex: Sex,
    /// A village: where the worker lives now, never inferred from the NIK (R5.3).
    pub domicile: RegionCode,
    pub occupation: Occupation,
    /// Required when the occupation is `Other`, at most 100 characters.
    pub occupation_detail: Option<String>,
    pub welfare: Welfare,
    pub phone: Option<Phone>,
    pub date_of_death: Option<NaiveDate>,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("decile {0} is not valid (1–10)")]
pub struct DecileError(pub u32);

impl PhoneError {
    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        match self {
            PhoneError::Characters => crate::msg!(PHONE_CHARACTERS),
            PhoneError::Prefix => crate::msg!(PHONE_PREFIX),
            PhoneError::TrunkZero => crate::msg!(PHONE_TRUNK_ZERO),
            PhoneError::Length(n) => crate::msg!(PHONE_LENGTH, count = *n),
        }
    }
}

/// Why a phone number was refused. The number itself is personal data and is not repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("must contain only digits, spaces, dashes and a leading +")]
    Characters,
    #[error("must be an Indonesian number starting with 0, 62 or +62")]
    Prefix,
    #[error("must not have a 0 after the country code 62 (write +62812…, not +620812…)")]
    TrunkZero,
    #[error("must have 9–15 digits counting the country code 62, got {0}")]
    Length(usize),
}

impl Occupation {
    pub const ALL: [Occupation; 8] = [
        Occupation::Trader,
        Occupation::Construction,
        Occupation::Tailor,
        Occupation::Driver,
        Occupation::Farmer,
        Occupation::Fisher,
        Occupation::Domestic,
        Occupation::Other,
    ];

    /// The code stored and exchanged, e.g. `trader`.
    pub fn as_str(self) -> &'static str {
        match self {
            Occupation::Trader => "trader",
            Occupation::Construction => "construction",
            Occupation::Tailor => "tailor",
            Occupation::Driver => "driver",
            Occupation::Farmer => "farmer",
            Occupation::Fisher => "fisher",
            Occupation::Domestic => "domestic",
            Occupation::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Occupation> {
        Occupation::ALL.into_iter().find(|o| o.as_str() == code)
    }
}

impl Decile {
    pub fn new(decile: u32) -> Result<Decile, DecileError> {
        match u8::try_from(decile) {
            Ok(d @ 1..=10) => Ok(Decile(d)),
            _ => Err(DecileError(decile)),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl FullName {
    pub fn parse(s: &str) -> Result<FullName, TextError> {
        bounded_text(s, 150).map(FullName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Phone {
    /// Accepts `0812-3456-7890`, `+62 812 3456 7890` or `6281234567890` (spaces and dashes are ignored) and
    /// normalises to E.164, so that one number is stored one way whatever way it was typed.
    pub fn parse(s: &str) -> Result<Phone, PhoneError> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let (international, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::Characters);
        }
        let national = match digits.strip_prefix("62") {
            Some(national) => national,
            None if international => return Err(PhoneError::Prefix),
            None => digits.strip_prefix('0').ok_or(PhoneError::Prefix)?,
        };
        if national.starts_with('0') {
            return Err(PhoneError::TrunkZero);
        }
        let length = 2 + national.len();
        if !(9..=15).contains(&length) {
            return Err(PhoneError::Length(length));
        }
        Ok(Phone(format!("+62{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Flag {
    pub const ALL: [Flag; 3] = [Flag::NikBirthDateMismatch, Flag::NikSexMismatch, Flag::NikPrefixUnknown];

    /// The stable code stored and sent as a warning.
    pub fn code(self) -> &'static str {
        match self {
            Flag::NikBirthDateMismatch => "NIK_BIRTH_DATE_MISMATCH",
            Flag::NikSexMismatch => "NIK_SEX_MISMATCH",
            Flag::NikPrefixUnknown => "NIK_PREFIX_UNKNOWN",
        }
    }

    pub fn from_code(code: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.code() == code)
    }

    /// What a clerk should know and check, from the catalogue (its code is the flag's).
    pub fn description(self) -> crate::messages::Message {
        match self {
            Flag::NikBirthDateMismatch => crate::msg!(NIK_BIRTH_DATE_MISMATCH),
            Flag::NikSexMismatch => crate::msg!(NIK_SEX_MISMATCH),
            Flag::NikPrefixUnknown => crate::msg!(NIK_PREFIX_UNKNOWN),
        }
    }
}

impl fmt::Debug for WorkerInput {
    /// Raw input may hold a NIK: only its masked form is shown (R6.3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked: String = self.nik.chars().enumerate().map(|(i, c)| if i < 6 { c } else { '*' }).collect();
        f.debug_struct("WorkerInput")
            .field("nik", &masked)
            .field("full_name", &self.full_name)
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("domicile_village_code", &self.domicile_village_code)
            .field("occupation", &self.occupation)
            .field("occupation_detail", &self.occupation_detail)
            .field("decile", &self.decile)
            .field("decile_source", &self.decile_source)
            .field("decile_as_of_quarter", &self.decile_as_of_quarter)
            .field("phone", &self.phone)
            .field("date_of_death", &self.date_of_death)
            .finish()
    }
}

impl Worker {
    /// Checks every field and returns all violations at once, in field order, each under its protobuf field name.
    /// A NIK that disagrees with the stated birth date or sex is flagged, not refused (R5.2).
    pub fn parse(input: WorkerInput, today: NaiveDate) -> Result<Worker, Vec<FieldViolation>> {
        let mut c = Checker::new();

        let nik = c.given("nik", &input.nik).and_then(|s| c.take("nik", Nik::parse(s), NikError::message));
        let full_name =
            c.text_parsed("full_name", FullName::parse(&input.full_name), Code::NAME_LENGTH, Code::NAME_CONTROL_CHARS);
        let birth_date = c.given("birth_date", &input.birth_date).and_then(|s| {
            // The date parser's lower bound is this field's own rule, with its own reason.
            let too_early = crate::date::parse(s) == Err(DateError::OutOfRange) && s < "1900";
            c.rule(!too_early, "birth_date", || crate::msg!(BIRTH_DATE_TOO_EARLY));
            if too_early { None } else { c.past_date("birth_date", s, today) }
        });
        let sex = c.present("sex", input.sex);
        let domicile = c.given("domicile_village_code", &input.domicile_village_code).and_then(|s| {
            let parsed = RegionCode::parse_at(s, AreaLevel::Village);
            c.take("domicile_village_code", parsed, AreaCodeError::message)
        });
        let occupation = c.present("occupation", input.occupation);
        let occupation_detail = match bounded_text(&input.occupation_detail, 100) {
            Err(TextError::Empty) if occupation == Some(Occupation::Other) => {
                c.violation("occupation_detail", crate::msg!(OCCUPATION_DETAIL_REQUIRED));
                None
            }
            Err(TextError::Empty) => Some(None),
            detail => c
                .text_parsed(
                    "occupation_detail",
                    detail,
                    Code::OCCUPATION_DETAIL_LENGTH,
                    Code::OCCUPATION_DETAIL_CONTROL_CHARS,
                )
                .map(Some),
        };
        let decile = c.take("welfare.decile", Decile::new(input.decile), |e| crate::msg!(DECILE_RANGE, decile = e.0));
        let source = c.text_parsed(
            "welfare.source",
            bounded_text(&input.decile_source, 50),
            Code::SOURCE_LENGTH,
            Code::SOURCE_CONTROL_CHARS,
        );
        let as_of = c.given("welfare.as_of_quarter", &input.decile_as_of_quarter).and_then(|s| {
            let quarter = c.take("welfare.as_of_quarter", Quarter::parse(s), QuarterError::message)?;
            let current = Quarter::from_date(today);
            let message =
                || crate::msg!(QUARTER_IN_FUTURE, quarter = quarter.to_string(), current = current.to_string());
            c.rule(quarter <= current, "welfare.as_of_quarter", message).then_some(quarter)
        });
        let phone = if blank(&input.phone) {
            Some(None)
        } else {
            c.take("phone", Phone::parse(&input.phone), PhoneError::message).map(Some)
        };
        let date_of_death = if blank(&input.date_of_death) {
            Some(None)
        } else {
            c.past_date("date_of_death", &input.date_of_death, today).and_then(|death| {
                // With no valid birth date, only the death date's own rules can be checked.
                let born = birth_date.unwrap_or(NaiveDate::MIN);
                let message = || crate::msg!(DEATH_BEFORE_BIRTH_DATE, born = born);
                c.rule(death >= born, "date_of_death", message).then_some(Some(death))
            })
        };

        let (
            Some(nik),
            Some(full_name),
            Some(birth_date),
            Some(sex),
            Some(domicile),
            Some(occupation),
            Some(occupation_detail),
            Some(decile),
            Some(source),
            Some(as_of),
            Some(phone),
            Some(date_of_death),
        ) = (
            nik,
            full_name,
            birth_date,
            sex,
            domicile,
            occupation,
            occupation_detail,
            decile,
            source,
            as_of,
            phone,
            date_of_death,
        )
        else {
            return Err(c.violations);
        };
        debug_assert!(c.violations.is_empty(), "every violation leaves its field unparsed");

        Ok(Worker {
            flags: nik_flags(&nik, birth_date, sex),
            nik,
            full_name,
            birth_date,
            sex,
            domicile,
            occupation,
            occupation_detail,
            welfare: Welfare { decile, source, as_of },
            phone,
            date_of_death,
        })
    }
}

/// The R5.2 comparisons: the year only by its last two digits, so no century has to be guessed.
fn nik_flags(nik: &Nik, birth_date: NaiveDate, sex: Sex) -> Vec<Flag> {
    let stated = (birth_date.day(), birth_date.month(), birth_date.year().rem_euclid(100) as u32);
    let encoded = (nik.birth_day(), nik.birth_month(), nik.birth_year_2());
    let mut flags = Vec::new();
    if stated != encoded {
        flags.push(Flag::NikBirthDateMismatch);
    }
    if sex != nik.sex() {
        flags.push(Flag::NikSexMismatch);
    }
    flags
}

fn blank(value: &str) -> bool {
    value.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn today() -> NaiveDate {
        date("2026-11-25")
    }

    /// A valid record: a woman born 5 May 1990 in Kota Bogor, as in her NIK.
    fn siti() -> WorkerInput {
        WorkerInput {
            nik: "3271014505900001".into(),
            full_name: "Siti Rahmawati".into(),
            birth_date: "1990-05-05".into(),
            sex: Some(Sex::Female),
            domicile_village_code: "32.71.01.1001".into(),
            occupation: Some(Occupation::Tailor),
            occupation_detail: String::new(),
            decile: 2,
            decile_source: "DTSEN".into(),
            decile_as_of_quarter: "2025-Q3".into(),
            phone: "0812-3456-7890".into(),
            date_of_death: String::new(),
        }
    }

    /// Parses `input` and compares its flags, or its violations as (field, reason) pairs.
    fn check(input: WorkerInput, expected: Result<Vec<Flag>, Vec<(&str, &str)>>) {
        let actual = Worker::parse(input.clone(), today())
            .map(|w| w.flags)
            .map_err(|vs| vs.into_iter().map(|v| (v.field, v.reason)).collect::<Vec<_>>());
        let expected = expected.map_err(|vs| vs.into_iter().map(|(f, r)| (f.to_owned(), r)).collect::<Vec<_>>());
        assert_eq!(actual, expected, "{input:?}");
    }

    #[test]
    fn a_valid_record_becomes_a_trusted_worker() {
        let worker = Worker::parse(siti(), today()).unwrap();
        assert_eq!(worker.nik.as_str(), "3271014505900001");
        assert_eq!(worker.full_name.as_str(), "Siti Rahmawati");
        assert_eq!(worker.birth_date, date("1990-05-05"));
        assert_eq!(worker.sex, Sex::Female);
        assert_eq!(worker.domicile.as_str(), "32.71.01.1001");
        assert_eq!(worker.occupation, Occupation::Tailor);
        assert_eq!(worker.occupation_detail, None);
        assert_eq!(
            worker.welfare,
            Welfare {
                decile: Decile::new(2).unwrap(),
                source: "DTSEN".into(),
                as_of: Quarter::parse("2025-Q3").unwrap()
            }
        );
        assert_eq!(worker.phone.as_ref().map(Phone::as_str), Some("+6281234567890"));
        assert_eq!(worker.date_of_death, None);
        assert_eq!(worker.flags, vec![]);
    }

    #[test]
    fn every_rule_names_its_field_and_reason() {
        let cases: Vec<(WorkerInput, (&str, &str))> = vec![
            (WorkerInput { nik: String::new(), ..siti() }, ("nik", "REQUIRED")),
            (WorkerInput { nik: "327101450590001".into(), ..siti() }, ("nik", "NIK_LENGTH")),
            (WorkerInput { nik: "32710145059O0001".into(), ..siti() }, ("nik", "NIK_NOT_DIGITS")),
            (WorkerInput { nik: "0571014505900001".into(), ..siti() }, ("nik", "NIK_PROVINCE")),
            (WorkerInput { nik: "3270014505900001".into(), ..siti() }, ("nik", "NIK_REGENCY")),
            (WorkerInput { nik: "3271004505900001".into(), ..siti() }, ("nik", "NIK_DISTRICT")),
            (WorkerInput { nik: "3271013505900001".into(), ..siti() }, ("nik", "NIK_BIRTH_DAY")),
            (WorkerInput { nik: "3271014513900001".into(), ..siti() }, ("nik", "NIK_BIRTH_MONTH")),
            (WorkerInput { nik: "3271017002900001".into(), ..siti() }, ("nik", "NIK_BIRTH_DATE")),
            (WorkerInput { nik: "3271014505900000".into(), ..siti() }, ("nik", "NIK_SERIAL")),
            (WorkerInput { full_name: "  ".into(), ..siti() }, ("full_name", "REQUIRED")),
            (WorkerInput { full_name: "x".repeat(151), ..siti() }, ("full_name", "NAME_LENGTH")),
            (WorkerInput { full_name: "Siti\nRahmawati".into(), ..siti() }, ("full_name", "NAME_CONTROL_CHARS")),
            (WorkerInput { birth_date: String::new(), ..siti() }, ("birth_date", "REQUIRED")),
            (WorkerInput { birth_date: "05-05-1990".into(), ..siti() }, ("birth_date", "DATE_FORMAT")),
            (WorkerInput { birth_date: "1990-5-5".into(), ..siti() }, ("birth_date", "DATE_FORMAT")),
            (WorkerInput { birth_date: "1990-02-30".into(), ..siti() }, ("birth_date", "DATE_FORMAT")),
            (WorkerInput { birth_date: "2026-11-26".into(), ..siti() }, ("birth_date", "DATE_IN_FUTURE")),
            (WorkerInput { birth_date: "1899-12-31".into(), ..siti() }, ("birth_date", "BIRTH_DATE_TOO_EARLY")),
            (WorkerInput { sex: None, ..siti() }, ("sex", "REQUIRED")),
            (WorkerInput { domicile_village_code: String::new(), ..siti() }, ("domicile_village_code", "REQUIRED")),
            (
                WorkerInput { domicile_village_code: "32.7".into(), ..siti() },
                ("domicile_village_code", "AREA_CODE_FORMAT"),
            ),
            (
                WorkerInput { domicile_village_code: "32.71.01".into(), ..siti() },
                ("domicile_village_code", "AREA_CODE_LEVEL"),
            ),
            (WorkerInput { occupation: None, ..siti() }, ("occupation", "REQUIRED")),
            (
                WorkerInput { occupation: Some(Occupation::Other), occupation_detail: " ".into(), ..siti() },
                ("occupation_detail", "OCCUPATION_DETAIL_REQUIRED"),
            ),
            (
                WorkerInput { occupation_detail: "x".repeat(101), ..siti() },
                ("occupation_detail", "OCCUPATION_DETAIL_LENGTH"),
            ),
            (
                WorkerInput { occupation_detail: "ojek\tpangkalan".into(), ..siti() },
                ("occupation_detail", "OCCUPATION_DETAIL_CONTROL_CHARS"),
            ),
            (WorkerInput { decile: 0, ..siti() }, ("welfare.decile", "DECILE_RANGE")),
            (WorkerInput { decile: 11, ..siti() }, ("welfare.decile", "DECILE_RANGE")),
            (WorkerInput { decile_source: String::new(), ..siti() }, ("welfare.source", "REQUIRED")),
            (WorkerInput { decile_source: "x".repeat(51), ..siti() }, ("welfare.source", "SOURCE_LENGTH")),
            (WorkerInput { decile_source: "DT\u{7}SEN".into(), ..siti() }, ("welfare.source", "SOURCE_CONTROL_CHARS")),
            (WorkerInput { decile_as_of_quarter: String::new(), ..siti() }, ("welfare.as_of_quarter", "REQUIRED")),
            (
                WorkerInput { decile_as_of_quarter: "2025-Q5".into(), ..siti() },
                ("welfare.as_of_quarter", "QUARTER_FORMAT"),
            ),
            (
                WorkerInput { decile_as_of_quarter: "2027-Q1".into(), ..siti() },
                ("welfare.as_of_quarter", "QUARTER_IN_FUTURE"),
            ),
            (WorkerInput { phone: "12345".into(), ..siti() }, ("phone", "PHONE_FORMAT")),
            (WorkerInput { date_of_death: "25-11-2026".into(), ..siti() }, ("date_of_death", "DATE_FORMAT")),
            (WorkerInput { date_of_death: "2026-11-26".into(), ..siti() }, ("date_of_death", "DATE_IN_FUTURE")),
            (WorkerInput { date_of_death: "1990-05-04".into(), ..siti() }, ("date_of_death", "DEATH_BEFORE_BIRTH")),
        ];
        for (input, violation) in cases {
            check(input, Err(vec![violation]));
        }
    }

    #[test]
    fn all_violations_of_a_record_are_reported_at_once_in_field_order() {
        let input = WorkerInput {
            nik: "3271013505900001".into(),
            full_name: String::new(),
            birth_date: "2999-01-01".into(),
            sex: None,
            domicile_village_code: "32.71.01".into(),
            occupation: Some(Occupation::Other),
            decile: 11,
            decile_source: String::new(),
            decile_as_of_quarter: "2025-Q0".into(),
            phone: "+620812345678".into(),
            date_of_death: "1899-01-01".into(),
            ..siti()
        };
        check(
            input,
            Err(vec![
                ("nik", "NIK_BIRTH_DAY"),
                ("full_name", "REQUIRED"),
                ("birth_date", "DATE_IN_FUTURE"),
                ("sex", "REQUIRED"),
                ("domicile_village_code", "AREA_CODE_LEVEL"),
                ("occupation_detail", "OCCUPATION_DETAIL_REQUIRED"),
                ("welfare.decile", "DECILE_RANGE"),
                ("welfare.source", "REQUIRED"),
                ("welfare.as_of_quarter", "QUARTER_FORMAT"),
                ("phone", "PHONE_FORMAT"),
                // The birth date is unknown, so only the death date's own rules apply: 1899 is out of range.
                ("date_of_death", "DATE_OUT_OF_RANGE"),
            ]),
        );
    }

    #[test]
    fn descriptions_state_the_rule() {
        let input = WorkerInput {
            nik: "3271013505900001".into(),
            decile: 11,
            decile_as_of_quarter: "2027-Q1".into(),
            date_of_death: "1980-01-01".into(),
            ..siti()
        };
        let descriptions: Vec<String> =
            Worker::parse(input, today()).unwrap_err().into_iter().map(|v| v.description).collect();
        assert_eq!(
            descriptions,
            [
                "day of birth 35 is not valid (01–31, or 41–71 for women)",
                "decile 11 is not valid (1–10)",
                "2027-Q1 is after the current quarter (2026-Q4)",
                "must not be before the birth date (1990-05-05)",
            ]
        );
    }

    #[test]
    fn a_nik_that_disagrees_with_the_stated_data_is_flagged_not_rejected() {
        check(WorkerInput { birth_date: "1990-05-15".into(), ..siti() }, Ok(vec![Flag::NikBirthDateMismatch]));
        check(WorkerInput { birth_date: "1990-06-05".into(), ..siti() }, Ok(vec![Flag::NikBirthDateMismatch]));
        check(WorkerInput { birth_date: "1991-05-05".into(), ..siti() }, Ok(vec![Flag::NikBirthDateMismatch]));
        check(WorkerInput { sex: Some(Sex::Male), ..siti() }, Ok(vec![Flag::NikSexMismatch]));
        check(
            WorkerInput { birth_date: "1991-05-15".into(), sex: Some(Sex::Male), ..siti() },
            Ok(vec![Flag::NikBirthDateMismatch, Flag::NikSexMismatch]),
        );
        // Only the last two digits of the year are compared: the NIK does not say the century.
        check(WorkerInput { birth_date: "1905-05-05".into(), nik: "3271014505050001".into(), ..siti() }, Ok(vec![]));
        check(WorkerInput { birth_date: "2005-05-05".into(), nik: "3271014505050001".into(), ..siti() }, Ok(vec![]));
        check(WorkerInput { nik: "3271010505900001".into(), sex: Some(Sex::Male), ..siti() }, Ok(vec![]));
    }

    #[test]
    fn optional_fields_may_be_blank_and_are_kept_trimmed_when_given() {
        let input = WorkerInput {
            full_name: "  Siti Rahmawati ".into(),
            occupation: Some(Occupation::Other),
            occupation_detail: " ojek pangkalan ".into(),
            decile_source: " DTSEN ".into(),
            phone: "  ".into(),
            date_of_death: "2026-11-25".into(),
            ..siti()
        };
        let worker = Worker::parse(input, today()).unwrap();
        assert_eq!(worker.full_name.as_str(), "Siti Rahmawati");
        assert_eq!(worker.occupation_detail.as_deref(), Some("ojek pangkalan"));
        assert_eq!(worker.welfare.source, "DTSEN");
        assert_eq!(worker.phone, None);
        assert_eq!(worker.date_of_death, Some(today()), "a death may be recorded on the day it happened");

        let detailed = WorkerInput { occupation_detail: "batik".into(), ..siti() };
        assert_eq!(Worker::parse(detailed, today()).unwrap().occupation_detail.as_deref(), Some("batik"));
    }

    #[test]
    fn boundary_dates_and_quarters_are_accepted() {
        check(WorkerInput { birth_date: "1900-01-01".into(), ..siti() }, Ok(vec![Flag::NikBirthDateMismatch]));
        check(WorkerInput { decile_as_of_quarter: "2026-Q4".into(), ..siti() }, Ok(vec![]));
        check(WorkerInput { decile_as_of_quarter: "2026-q4".into(), ..siti() }, Ok(vec![]));
        check(WorkerInput { date_of_death: "1990-05-05".into(), ..siti() }, Ok(vec![]));
        check(WorkerInput { decile: 1, ..siti() }, Ok(vec![]));
        check(WorkerInput { decile: 10, ..siti() }, Ok(vec![]));
    }

    #[test]
    fn debug_output_never_shows_a_nik_in_clear() {
        let worker = Worker::parse(siti(), today()).unwrap();
        assert!(!format!("{worker:?}").contains("3271014505900001"));
        assert!(format!("{worker:?}").contains("327101**********"));
        assert!(!format!("{:?}", siti()).contains("3271014505900001"));
    }

    #[test]
    fn codes_round_trip() {
        for sex in [Sex::Male, Sex::Female] {
            assert_eq!(Sex::from_code(sex.as_str()), Some(sex));
        }
        for occupation in Occupation::ALL {
            assert_eq!(Occupation::from_code(occupation.as_str()), Some(occupation));
        }
        for flag in Flag::ALL {
            assert_eq!(Flag::from_code(flag.code()), Some(flag));
            assert_eq!(flag.description().reason(), flag.code());
            assert!(flag.description().english().ends_with('.'));
        }
        assert_eq!(Sex::from_code("Male"), None);
        assert_eq!(Occupation::from_code(""), None);
        assert_eq!(Flag::from_code("NIK_UNKNOWN"), None);
        assert_eq!(Sex::Female.as_str(), "female");
        assert_eq!(Occupation::Construction.as_str(), "construction");
        assert_eq!(Flag::NikPrefixUnknown.code(), "NIK_PREFIX_UNKNOWN");
    }

    #[test]
    fn deciles_are_1_to_10() {
        let check = |input: u32, expected: Result<u8, &str>| {
            assert_eq!(Decile::new(input).map(Decile::get).map_err(|e| e.to_string()), expected.map_err(str::to_owned));
        };
        check(0, Err("decile 0 is not valid (1–10)"));
        check(1, Ok(1));
        check(4, Ok(4));
        check(10, Ok(10));
        check(11, Err("decile 11 is not valid (1–10)"));
        check(266, Err("decile 266 is not valid (1–10)"));
    }

    #[test]
    fn quarters_parse_display_and_order() {
        let check = |input: &str, expected: Result<(&str, &str), &str>| {
            let actual = Quarter::parse(input).map(|q| (q.to_string(), q.first_day().to_string()));
            let actual = actual.as_ref().map(|(q, d)| (q.as_str(), d.as_str())).map_err(|e| e.to_string());
            assert_eq!(actual, expected.map_err(str::to_owned), "{input:?}");
        };
        check("2025-Q1", Ok(("2025-Q1", "2025-01-01")));
        check("2025-Q2", Ok(("2025-Q2", "2025-04-01")));
        check("2025-Q3", Ok(("2025-Q3", "2025-07-01")));
        check("2025-q4", Ok(("2025-Q4", "2025-10-01")));
        let format =
            |shown: &str| format!("{shown} is not a quarter: expected YYYY-Qn with n from 1 to 4, e.g. 2025-Q3");
        for bad in
            ["", "2025-Q0", "2025-Q5", "2025Q3", "2025-3", "25-Q3", "2025-Q3 ", "+025-Q3", "2025-Q３", "２025-Q3"]
        {
            check(bad, Err(&format(&format!("{bad:?}"))));
        }
        check("3271014505900001", Err(&format("a value of 16 characters")));
    }

    #[test]
    fn a_quarter_is_the_one_its_dates_fall_in() {
        let check = |input: &str, expected: &str| assert_eq!(Quarter::from_date(date(input)).to_string(), expected);
        check("2025-01-01", "2025-Q1");
        check("2025-03-31", "2025-Q1");
        check("2025-04-01", "2025-Q2");
        check("2025-09-30", "2025-Q3");
        check("2025-12-31", "2025-Q4");
        let q = |s: &str| Quarter::parse(s).unwrap();
        assert!(q("2025-Q4") < q("2026-Q1"));
        assert!(q("2025-Q2") < q("2025-Q3"));
        assert_eq!((q("2025-Q3").year(), q("2025-Q3").number()), (2025, 3));
    }

    #[test]
    fn names_are_trimmed_and_limited() {
        let check = |input: &str, expected: Result<&str, TextError>| {
            assert_eq!(FullName::parse(input).as_ref().map(FullName::as_str), expected.as_ref().map(|s| *s));
        };
        check("Siti Rahmawati", Ok("Siti Rahmawati"));
        check(" Ni Luh Putu Ayu ", Ok("Ni Luh Putu Ayu"));
        check("Muhammad", Ok("Muhammad"));
        check("Dévi O'Neil-Ā", Ok("Dévi O'Neil-Ā"));
        check("", Err(TextError::Empty));
        check(" \t ", Err(TextError::Empty));
        check(&"é".repeat(150), Ok(&"é".repeat(150)));
        check(&"é".repeat(151), Err(TextError::TooLong { max: 150, length: 151 }));
        check("Siti\u{0}", Err(TextError::ControlCharacter { position: 5 }));
        check("Siti\r\nRahma", Err(TextError::ControlCharacter { position: 5 }));
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        let check = |input: &str, expected: Result<&str, PhoneError>| {
            assert_eq!(Phone::parse(input).as_ref().map(Phone::as_str), expected.as_ref().map(|s| *s), "{input:?}");
        };
        check("0812-3456-7890", Ok("+6281234567890"));
        check("081234567890", Ok("+6281234567890"));
        check("+62 812 3456 7890", Ok("+6281234567890"));
        check("6281234567890", Ok("+6281234567890"));
        check("021-8765432", Ok("+62218765432"));
        check("(021) 8765432", Err(PhoneError::Characters));
        check("08123456", Ok("+628123456"));
        check("0812345", Err(PhoneError::Length(8)));
        check("0812345678901234", Err(PhoneError::Length(17)));
        check("+62812345678901", Ok("+62812345678901"));
        check("+6281234567890123", Err(PhoneError::Length(16)));
        check("", Err(PhoneError::Characters));
        check("+", Err(PhoneError::Characters));
        check("0812.3456", Err(PhoneError::Characters));
        check("+6281+234567", Err(PhoneError::Characters));
        check("12345", Err(PhoneError::Prefix));
        check("+6581234567", Err(PhoneError::Prefix));
        check("+620812345678", Err(PhoneError::TrunkZero));
        check("620812345678", Err(PhoneError::TrunkZero));
        check("00812345678", Err(PhoneError::TrunkZero));
    }

    #[test]
    fn dates_must_be_strictly_yyyy_mm_dd() {
        let check = |input: &str, expected: Result<&str, &str>| {
            let actual = crate::validate::quoted_date(input).map(|d| d.to_string()).map_err(|e| e.1);
            assert_eq!(actual.as_deref().map_err(String::as_str), expected, "{input:?}");
        };
        check("1990-05-15", Ok("1990-05-15"));
        check("2000-02-29", Ok("2000-02-29"));
        check("1900-02-29", Err("1900-02-29 is not a calendar date"));
        check("1990-13-01", Err("1990-13-01 is not a calendar date"));
        check("15-05-1990", Err(r#""15-05-1990" is not a date: expected YYYY-MM-DD, e.g. 1990-05-15"#));
        check("1990-5-15", Err(r#""1990-5-15" is not a date: expected YYYY-MM-DD, e.g. 1990-05-15"#));
        check("+1990-05-15", Err(r#""+1990-05-15" is not a date: expected YYYY-MM-DD, e.g. 1990-05-15"#));
        check("1990-05-15T00:00", Err("a value of 16 characters is not a date: expected YYYY-MM-DD, e.g. 1990-05-15"));
        check("1899-12-31", Err("1899-12-31 is out of range: dates run from 1900-01-01 to 2999-12-31"));
        check("1990-05-1５", Err(r#""1990-05-1５" is not a date: expected YYYY-MM-DD, e.g. 1990-05-15"#));
    }

    proptest! {
        #[test]
        fn phone_parsing_never_panics(s in any::<String>()) {
            let _ = Phone::parse(&s);
        }

        #[test]
        fn a_normalised_phone_is_e164_and_parses_to_itself(s in "[+]?[0-9 -]{0,18}") {
            if let Ok(phone) = Phone::parse(&s) {
                prop_assert!(phone.as_str().starts_with("+62"));
                prop_assert!((10..=16).contains(&phone.as_str().len()));
                prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
            }
        }

        #[test]
        fn parsing_any_record_never_panics(
            nik in "[0-9]{16}|.{0,20}",
            birth_date in "[0-9]{4}-[0-9]{2}-[0-9]{2}|.{0,12}",
            quarter in "[0-9]{4}-[Qq][0-9]|.{0,8}",
            decile in any::<u32>(),
        ) {
            let input = WorkerInput { nik, birth_date, decile_as_of_quarter: quarter, decile, ..siti() };
            let _ = Worker::parse(input, today());
        }
    }
}
