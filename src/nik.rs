//! The NIK (Nomor Induk Kependudukan), the 16-digit national identity number: `PP KK CC DD MM YY SSSS` (R5.1).
//!
//! It encodes where it was *issued* (province, regency, district), the day of birth (plus 40 for women), the month,
//! the last two digits of the year, and a serial. It is personal data (R6.3): its `Debug` shows only the masked
//! form, it has no `Display`, and no error message repeats it.

use std::fmt;

use chrono::NaiveDate;

use crate::area::RegionCode;

/// Sex as the NIK encodes it (day of birth + 40 for women) and as a worker's record states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The code stored and exchanged: `male` or `female`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn from_code(code: &str) -> Option<Sex> {
        [Sex::Male, Sex::Female].into_iter().find(|s| s.as_str() == code)
    }
}

/// A well-formed NIK. Well-formed is not the same as issued: only the population registry knows that.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nik(String);

/// The first rule of R5.1 a string breaks, in the order of the NIK's fields.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum NikError {
    #[error("must be exactly 16 digits, got {0}")]
    Length(usize),

    /// `position` counts characters from 1, as a clerk would.
    #[error("must contain only digits (character {position} is {character:?})")]
    NotDigits { position: usize, character: char },

    #[error("province code {0:02} is not valid (11–99)")]
    Province(u32),

    #[error("regency code {0:02} is not valid (01–69 for a regency, 71–99 for a city)")]
    Regency(u32),

    #[error("district code 00 is not valid (01–99)")]
    District,

    /// The day as written in the NIK, before removing the 40 added for women.
    #[error("day of birth {0:02} is not valid (01–31, or 41–71 for women)")]
    BirthDay(u32),

    #[error("month of birth {0:02} is not valid (01–12)")]
    BirthMonth(u32),

    /// The day (women's already minus 40) does not exist in the month, in any century.
    #[error("day of birth {day:02} does not exist in month {month:02}{}", leap_note(*.day, *.month, *.year_2))]
    BirthDate { day: u32, month: u32, year_2: u32 },

    #[error("serial number 0000 is not valid (0001–9999)")]
    Serial,
}

impl Nik {
    pub fn parse(s: &str) -> Result<Nik, NikError> {
        let length = s.chars().count();
        if length != 16 {
            return Err(NikError::Length(length));
        }
        if let Some((i, character)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(NikError::NotDigits { position: i + 1, character });
        }
        let nik = Nik(s.to_owned());
        let province = nik.number(0..2);
        if province < 11 {
            return Err(NikError::Province(province));
        }
        let regency = nik.number(2..4);
        if matches!(regency, 0 | 70) {
            return Err(NikError::Regency(regency));
        }
        if nik.number(4..6) == 0 {
            return Err(NikError::District);
        }
        let written_day = nik.number(6..8);
        if matches!(written_day, 0 | 32..=40 | 72..) {
            return Err(NikError::BirthDay(written_day));
        }
        let month = nik.birth_month();
        if !(1..=12).contains(&month) {
            return Err(NikError::BirthMonth(month));
        }
        // Every year 2000..=2099 ending in a multiple of 4 is a leap year, so the 21st century holds every date a
        // NIK can name: February 29 is valid exactly when YY % 4 == 0.
        let (day, year_2) = (nik.birth_day(), nik.birth_year_2());
        if NaiveDate::from_ymd_opt(2000 + year_2 as i32, month, day).is_none() {
            return Err(NikError::BirthDate { day, month, year_2 });
        }
        if nik.number(12..16) == 0 {
            return Err(NikError::Serial);
        }
        Ok(nik)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn province_code(&self) -> RegionCode {
        self.region(1)
    }

    pub fn regency_code(&self) -> RegionCode {
        self.region(2)
    }

    /// The district where the NIK was *issued*, never the domicile: people move, the NIK stays (R5.3).
    pub fn district_code(&self) -> RegionCode {
        self.region(3)
    }

    pub fn sex(&self) -> Sex {
        if self.number(6..8) > 40 { Sex::Female } else { Sex::Male }
    }

    /// The day of birth, with the 40 added for women removed.
    pub fn birth_day(&self) -> u32 {
        self.number(6..8) % 40
    }

    pub fn birth_month(&self) -> u32 {
        self.number(8..10)
    }

    /// The last two digits of the year of birth: the NIK does not say the century.
    pub fn birth_year_2(&self) -> u32 {
        self.number(10..12)
    }

    /// The birth date in the latest century that does not put it after `today` (R5.2): nobody registers unborn, and
    /// a 100-year-old is rarer than a newborn. If every century is after `today`, the earliest date is returned.
    pub fn birth_date(&self, today: NaiveDate) -> NaiveDate {
        let (day, month, year_2) = (self.birth_day(), self.birth_month(), self.birth_year_2() as i32);
        // 1900 + YY may not exist (February 29, 1900); 2000 + YY always does, as `parse` checked.
        let candidates: Vec<NaiveDate> =
            [2000 + year_2, 1900 + year_2].into_iter().filter_map(|y| NaiveDate::from_ymd_opt(y, month, day)).collect();
        candidates
            .iter()
            .copied()
            .find(|date| *date <= today)
            .or(candidates.last().copied())
            .expect("a parsed NIK's date exists in the 21st century")
    }

    /// Safe for logs: the issuing district (6 digits) and nothing personal, e.g. `327101**********`.
    pub fn masked(&self) -> String {
        format!("{}{}", &self.0[..6], "*".repeat(10))
    }

    /// The digits at `range` as a number; a parsed NIK is all ASCII digits.
    fn number(&self, range: std::ops::Range<usize>) -> u32 {
        self.0[range].bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
    }

    /// The issuing area at `depth` (1 province, 2 regency, 3 district) in dotted form.
    fn region(&self, depth: usize) -> RegionCode {
        let dotted: Vec<&str> = (0..depth).map(|i| &self.0[2 * i..2 * i + 2]).collect();
        RegionCode::parse(&dotted.join(".")).expect("a parsed NIK's prefix is a well-formed area code")
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Nik").field(&self.masked()).finish()
    }
}

impl NikError {
    /// Stable code for `google.rpc.BadRequest.FieldViolation.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            NikError::Length(_) => "NIK_LENGTH",
            NikError::NotDigits { .. } => "NIK_NOT_DIGITS",
            NikError::Province(_) => "NIK_PROVINCE",
            NikError::Regency(_) => "NIK_REGENCY",
            NikError::District => "NIK_DISTRICT",
            NikError::BirthDay(_) => "NIK_BIRTH_DAY",
            NikError::BirthMonth(_) => "NIK_BIRTH_MONTH",
            NikError::BirthDate { .. } => "NIK_BIRTH_DATE",
            NikError::Serial => "NIK_SERIAL",
        }
    }
}

impl NikError {
    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        let two = |n: &u32| format!("{n:02}");
        match self {
            NikError::Length(n) => crate::msg!(NIK_LENGTH, count = *n),
            NikError::NotDigits { position, character } => {
                crate::msg!(NIK_NOT_DIGITS, position = *position, character = format!("{character:?}"))
            }
            NikError::Province(code) => crate::msg!(NIK_PROVINCE, code = two(code)),
            NikError::Regency(code) => crate::msg!(NIK_REGENCY, code = two(code)),
            NikError::District => crate::msg!(NIK_DISTRICT),
            NikError::BirthDay(day) => crate::msg!(NIK_BIRTH_DAY, day = two(day)),
            NikError::BirthMonth(month) => crate::msg!(NIK_BIRTH_MONTH, month = two(month)),
            NikError::BirthDate { day, month, year_2 } if (*day, *month) == (29, 2) => {
                crate::msg!(NIK_BIRTH_DATE_LEAP, year = two(year_2))
            }
            NikError::BirthDate { day, month, .. } => crate::msg!(NIK_BIRTH_DATE, day = two(day), month = two(month)),
            NikError::Serial => crate::msg!(NIK_SERIAL),
        }
    }
}

/// Why February 29 fails: the clerk should see it is the year, not the day, that is wrong.
fn leap_note(day: u32, month: u32, year_2: u32) -> String {
    if (day, month) == (29, 2) { format!(" of year ..{year_2:02}, which is not a leap year") } else { String::new() }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Kota Bogor (32.71), district 01, a woman born 5 May 1990, serial 0001.
    const SITI: &str = "3271014505900001";

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// `SITI` with the digits at `at` replaced.
    fn with(at: usize, digits: &str) -> String {
        let mut nik = SITI.to_owned();
        nik.replace_range(at..at + digits.len(), digits);
        nik
    }

    fn check(input: &str, expected: Result<(), &str>) {
        let actual = Nik::parse(input).map(|_| ()).map_err(|e| e.reason());
        assert_eq!(actual, expected, "{input:?}");
    }

    #[test]
    fn a_nik_is_exactly_sixteen_digits() {
        check(SITI, Ok(()));
        check("", Err("NIK_LENGTH"));
        check("327101450590001", Err("NIK_LENGTH"));
        check("32710145059000011", Err("NIK_LENGTH"));
        check(" 3271014505900001", Err("NIK_LENGTH"));
        check("327101450590000x", Err("NIK_NOT_DIGITS"));
        check("3271 14505900001", Err("NIK_NOT_DIGITS"));
        check("-271014505900001", Err("NIK_NOT_DIGITS"));
        check("３271014505900001", Err("NIK_NOT_DIGITS"));
    }

    #[test]
    fn province_regency_and_district_follow_r5_1() {
        check(&with(0, "00"), Err("NIK_PROVINCE"));
        check(&with(0, "10"), Err("NIK_PROVINCE"));
        check(&with(0, "11"), Ok(()));
        check(&with(0, "99"), Ok(()));
        check(&with(2, "00"), Err("NIK_REGENCY"));
        check(&with(2, "01"), Ok(()));
        check(&with(2, "69"), Ok(()));
        check(&with(2, "70"), Err("NIK_REGENCY"));
        check(&with(2, "71"), Ok(()));
        check(&with(2, "99"), Ok(()));
        check(&with(4, "00"), Err("NIK_DISTRICT"));
        check(&with(4, "01"), Ok(()));
        check(&with(4, "99"), Ok(()));
    }

    #[test]
    fn days_are_01_to_31_for_men_and_41_to_71_for_women() {
        for (day, expected) in [
            ("00", Err("NIK_BIRTH_DAY")),
            ("01", Ok(())),
            ("31", Ok(())),
            ("32", Err("NIK_BIRTH_DAY")),
            ("40", Err("NIK_BIRTH_DAY")),
            ("41", Ok(())),
            ("71", Ok(())),
            ("72", Err("NIK_BIRTH_DAY")),
            ("99", Err("NIK_BIRTH_DAY")),
        ] {
            // January has 31 days, so only the day rule can fail.
            check(&with(6, &format!("{day}01")), expected);
        }
    }

    #[test]
    fn months_are_01_to_12() {
        check(&with(8, "00"), Err("NIK_BIRTH_MONTH"));
        check(&with(8, "01"), Ok(()));
        check(&with(8, "12"), Ok(()));
        check(&with(8, "13"), Err("NIK_BIRTH_MONTH"));
    }

    #[test]
    fn the_day_must_exist_in_the_month() {
        let check_date = |ddmmyy: &str, expected| check(&with(6, ddmmyy), expected);
        check_date("280201", Ok(()));
        check_date("290201", Err("NIK_BIRTH_DATE"));
        check_date("290200", Ok(()));
        check_date("290296", Ok(()));
        check_date("290204", Ok(()));
        check_date("300200", Err("NIK_BIRTH_DATE"));
        check_date("690296", Ok(()));
        check_date("700296", Err("NIK_BIRTH_DATE"));
        check_date("300490", Ok(()));
        check_date("310490", Err("NIK_BIRTH_DATE"));
        check_date("710490", Err("NIK_BIRTH_DATE"));
        check_date("311290", Ok(()));
    }

    #[test]
    fn serials_are_0001_to_9999() {
        check(&with(12, "0000"), Err("NIK_SERIAL"));
        check(&with(12, "0001"), Ok(()));
        check(&with(12, "9999"), Ok(()));
    }

    #[test]
    fn the_first_broken_rule_in_field_order_is_reported() {
        check("0070003213000000", Err("NIK_PROVINCE"));
        check("3270003213000000", Err("NIK_REGENCY"));
        check("3271003213000000", Err("NIK_DISTRICT"));
        check("3271013213000000", Err("NIK_BIRTH_DAY"));
        check("3271013013000000", Err("NIK_BIRTH_MONTH"));
        check("3271013002000000", Err("NIK_BIRTH_DATE"));
    }

    #[test]
    fn messages_name_the_rule_for_a_clerk_without_repeating_the_nik() {
        let check_message = |input: &str, expected: &str| {
            let message = Nik::parse(input).unwrap_err().to_string();
            assert_eq!(message, expected);
            assert!(!message.contains(&input[..10]), "{message}");
        };
        check_message("327101450590001", "must be exactly 16 digits, got 15");
        check_message("3271x14505900001", "must contain only digits (character 5 is 'x')");
        check_message("0071014505900001", "province code 00 is not valid (11–99)");
        check_message("3270014505900001", "regency code 70 is not valid (01–69 for a regency, 71–99 for a city)");
        check_message("3271004505900001", "district code 00 is not valid (01–99)");
        check_message("3271013505900001", "day of birth 35 is not valid (01–31, or 41–71 for women)");
        check_message("3271014513900001", "month of birth 13 is not valid (01–12)");
        check_message("3271013002900001", "day of birth 30 does not exist in month 02");
        check_message("3271017002900001", "day of birth 30 does not exist in month 02");
        check_message(
            "3271012902010001",
            "day of birth 29 does not exist in month 02 of year ..01, which is not a leap year",
        );
        check_message("3271014505900000", "serial number 0000 is not valid (0001–9999)");
    }

    #[test]
    fn sex_and_birth_day_come_from_the_day_field() {
        let check_parts = |input: &str, expected: (Sex, u32, u32, u32)| {
            let nik = Nik::parse(input).unwrap();
            assert_eq!((nik.sex(), nik.birth_day(), nik.birth_month(), nik.birth_year_2()), expected, "{input}");
        };
        check_parts("3271010105900001", (Sex::Male, 1, 5, 90));
        check_parts("3271013112000001", (Sex::Male, 31, 12, 0));
        check_parts("3271014101990001", (Sex::Female, 1, 1, 99));
        check_parts("3271017110050001", (Sex::Female, 31, 10, 5));
    }

    #[test]
    fn the_issuing_area_comes_from_the_prefix() {
        let nik = Nik::parse(SITI).unwrap();
        let codes = [nik.province_code(), nik.regency_code(), nik.district_code()];
        assert_eq!(codes.map(|c| c.to_string()), ["32", "32.71", "32.71.01"]);
    }

    #[test]
    fn the_century_is_the_latest_that_is_not_after_today() {
        let today = date("2026-11-25");
        let check_century = |ddmmyy: &str, today: NaiveDate, expected: &str| {
            let nik = Nik::parse(&with(6, ddmmyy)).unwrap();
            assert_eq!(nik.birth_date(today), date(expected), "{ddmmyy} on {today}");
        };
        check_century("150595", today, "1995-05-15");
        check_century("150510", today, "2010-05-15");
        check_century("550510", today, "2010-05-15");
        check_century("151126", today, "2026-11-15");
        check_century("251126", today, "2026-11-25");
        check_century("261126", today, "1926-11-26");
        check_century("011226", today, "1926-12-01");
        check_century("311299", today, "1999-12-31");
        check_century("010100", today, "2000-01-01");
        check_century("290200", today, "2000-02-29");
        check_century("290204", today, "2004-02-29");
        // Before 2000-02-29 only 1900 is not after today, and 1900-02-29 does not exist: the date that exists wins.
        check_century("290200", date("1999-06-01"), "2000-02-29");
        check_century("010100", date("1999-06-01"), "1900-01-01");
        check_century("010150", date("1940-01-01"), "1950-01-01");
    }

    #[test]
    fn masking_keeps_only_the_issuing_district() {
        let nik = Nik::parse(SITI).unwrap();
        assert_eq!(nik.masked(), "327101**********");
        assert_eq!(format!("{nik:?}"), r#"Nik("327101**********")"#);
        assert_eq!(nik.as_str(), SITI);
    }

    fn valid_parts() -> impl Strategy<Value = (u32, u32, u32, bool, u32, u32, u32, u32)> {
        (11u32..=99, prop_oneof![1u32..=69, 71u32..=99], 1u32..=99, any::<bool>(), 0u32..=99, 1u32..=12, 1u32..=9999)
            .prop_flat_map(|(p, r, c, female, yy, mm, serial)| {
                let days = days_in_month(2000 + yy as i32, mm);
                (1..=days).prop_map(move |dd| (p, r, c, female, dd, mm, yy, serial))
            })
    }

    fn days_in_month(year: i32, month: u32) -> u32 {
        (28..=31).rev().find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some()).unwrap()
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(s in any::<String>()) {
            let _ = Nik::parse(&s);
        }

        #[test]
        fn parsing_any_sixteen_digits_never_panics(s in "[0-9]{16}") {
            if let Ok(nik) = Nik::parse(&s) {
                prop_assert_eq!(nik.as_str(), s.as_str());
                let _ = nik.birth_date(NaiveDate::MIN);
                let _ = nik.birth_date(NaiveDate::MAX);
            }
        }

        #[test]
        fn every_nik_built_from_valid_parts_parses_and_round_trips(
            (p, r, c, female, dd, mm, yy, serial) in valid_parts(),
            today in (1900i32..=2200, 1u32..=365).prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d).unwrap()),
        ) {
            let written_day = if female { dd + 40 } else { dd };
            let s = format!("{p:02}{r:02}{c:02}{written_day:02}{mm:02}{yy:02}{serial:04}");
            let nik = Nik::parse(&s).unwrap();
            prop_assert_eq!(nik.as_str(), s.as_str());
            prop_assert_eq!(nik.sex(), if female { Sex::Female } else { Sex::Male });
            prop_assert_eq!((nik.birth_day(), nik.birth_month(), nik.birth_year_2()), (dd, mm, yy));
            prop_assert_eq!(nik.district_code().to_string(), format!("{p:02}.{r:02}.{c:02}"));
            let debug = format!("{:?}", nik);
            prop_assert!(!debug.contains(&s[6..]));

            use chrono::Datelike;
            let born = nik.birth_date(today);
            prop_assert_eq!((born.day(), born.month(), born.year() as u32 % 100), (dd, mm, yy));
            let candidates: Vec<NaiveDate> =
                [1900, 2000].iter().filter_map(|c| NaiveDate::from_ymd_opt(c + yy as i32, mm, dd)).collect();
            prop_assert!(candidates.contains(&born));
            if born > today {
                // Only when every century is after today, and then the earliest.
                prop_assert!(candidates.iter().all(|d| *d > today && *d >= born));
            } else {
                prop_assert!(candidates.iter().all(|d| *d <= born || *d > today));
            }
        }
    }
}
