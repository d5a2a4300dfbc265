//! Calendar months: contributions are due, funded and paid per month (R1.5, R1.9).

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A calendar month, `YYYY-MM` on the wire. Orders chronologically.
///
/// A month read from the wire is 1900-01 to 2999-12, the bound dates have (`date.rs`): every month a request can
/// reach, and all arithmetic on it (a next month, the years of a scholarship), stays inside 1900-01..=9999-12, the
/// range a `Month` can hold, so none of it can panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a string is not a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a month like 2025-09, from 1900-01 to 2999-12")]
pub struct MonthError;

impl Month {
    const FIRST_YEAR: i32 = 1900;
    const LAST_YEAR: i32 = 9999;
    /// The last year a month on the wire may have.
    const LAST_YEAR_READ: i32 = 2999;

    /// Strictly `YYYY-MM` from 1900-01 to 2999-12: no day, no sign, no single-digit month, nothing trimmed.
    pub fn parse(s: &str) -> Result<Month, MonthError> {
        let &[y0, y1, y2, y3, b'-', m0, m1] = s.as_bytes() else { return Err(MonthError) };
        let digits = [y0, y1, y2, y3, m0, m1];
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(MonthError);
        }
        let number = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        let year = i32::try_from(number(&digits[..4])).expect("four digits");
        if year > Self::LAST_YEAR_READ {
            return Err(MonthError);
        }
        Month::new(year, number(&digits[4..])).ok_or(MonthError)
    }

    /// None outside 1900-01..=9999-12.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((Self::FIRST_YEAR..=Self::LAST_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    /// The month `date` falls in.
    ///
    /// # Panics
    /// If `date` is outside the years 1900 to 9999; dates reaching the domain are checked before (birth dates
    /// from 1900, four-digit years on the wire).
    pub fn of(date: NaiveDate) -> Month {
        Month::new(date.year(), date.month()).expect("a date in the years 1900 to 9999")
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a month starts on a real date")
    }

    pub fn last_day(self) -> NaiveDate {
        let (year, month) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        let next_first = NaiveDate::from_ymd_opt(year, month, 1).expect("chrono reaches beyond the year 9999");
        next_first.pred_opt().expect("a day before the first of a month")
    }

    /// # Panics
    /// After 9999-12.
    pub fn next(self) -> Month {
        self.plus(1)
    }

    /// # Panics
    /// Before 1900-01.
    pub fn prev(self) -> Month {
        self.plus(-1)
    }

    /// The month `months` later (earlier when negative).
    ///
    /// # Panics
    /// If the result is outside 1900-01..=9999-12.
    pub fn plus(self, months: i32) -> Month {
        let index = i64::from(self.index()) + i64::from(months);
        let year = i32::try_from(index.div_euclid(12)).ok();
        let month = index.rem_euclid(12) as u32 + 1;
        year.and_then(|year| Month::new(year, month)).expect("a month within 1900-01..=9999-12")
    }

    /// Number of months from self (inclusive) to `end` (exclusive); 0 if end <= self.
    pub fn months_until(self, end: Month) -> u32 {
        u32::try_from(end.index() - self.index()).unwrap_or(0)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 to 12.
    pub fn number(self) -> u32 {
        self.month
    }

    /// Months since year 0: consecutive months have consecutive indexes.
    fn index(self) -> i32 {
        self.year * 12 + self.month as i32 - 1
    }
}

impl From<Month> for crate::messages::Arg {
    fn from(month: Month) -> Self {
        crate::messages::Arg::Month { year: month.year, month: month.month }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl MonthError {
    /// Stable code for `google.rpc.BadRequest.FieldViolation.reason`.
    pub fn reason(&self) -> &'static str {
        "MONTH_FORMAT"
    }

    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        crate::msg!(MONTH_FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Any month a `Month` holds, beyond the wire's bound too.
    fn month(s: &str) -> Month {
        let (year, number) = s.split_once('-').unwrap();
        Month::new(year.parse().unwrap(), number.parse().unwrap()).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_parse_strictly_as_yyyy_mm() {
        let check = |input: &str, expected: Option<(i32, u32)>| {
            let actual = Month::parse(input).map(|m| (m.year(), m.number())).ok();
            assert_eq!(actual, expected, "{input:?}");
            if let Ok(m) = Month::parse(input) {
                assert_eq!(m.to_string(), input);
            }
        };
        check("2025-09", Some((2025, 9)));
        check("2025-01", Some((2025, 1)));
        check("2025-12", Some((2025, 12)));
        check("1900-01", Some((1900, 1)));
        check("2999-12", Some((2999, 12)));
        // Past the dates' bound: a subsidy to 9999-12 would make its next month panic.
        check("3000-01", None);
        check("9999-12", None);
        for bad in [
            "",
            "2025-9",
            "2025-00",
            "2025-13",
            "2025-99",
            "1899-12",
            "0000-01",
            "25-09",
            "2025/09",
            "202509",
            "2025-09-01",
            " 2025-09",
            "2025-09 ",
            "+202-09",
            "2025--9",
            "2025-0９",
            "２025-09",
            "10000-01",
        ] {
            check(bad, None);
        }
        assert_eq!(
            Month::parse("2025-13").unwrap_err().to_string(),
            "must be a month like 2025-09, from 1900-01 to 2999-12"
        );
        assert_eq!(MonthError.reason(), "MONTH_FORMAT");
    }

    #[test]
    fn new_takes_the_years_1900_to_9999_and_months_1_to_12() {
        let check = |year: i32, number: u32, expected: Option<&str>| {
            assert_eq!(Month::new(year, number).map(|m| m.to_string()).as_deref(), expected, "{year} {number}");
        };
        check(2025, 9, Some("2025-09"));
        check(1900, 1, Some("1900-01"));
        check(9999, 12, Some("9999-12"));
        check(1899, 12, None);
        check(10000, 1, None);
        check(2025, 0, None);
        check(2025, 13, None);
        check(-2025, 1, None);
    }

    #[test]
    fn a_month_spans_its_first_to_its_last_day() {
        let check = |input: &str, expected: (&str, &str)| {
            let m = month(input);
            assert_eq!((m.first_day(), m.last_day()), (date(expected.0), date(expected.1)), "{input}");
            assert_eq!(Month::of(m.first_day()), m);
            assert_eq!(Month::of(m.last_day()), m);
        };
        check("2025-09", ("2025-09-01", "2025-09-30"));
        check("2025-12", ("2025-12-01", "2025-12-31"));
        check("2025-02", ("2025-02-01", "2025-02-28"));
        check("2024-02", ("2024-02-01", "2024-02-29"));
        check("1900-02", ("1900-02-01", "1900-02-28"));
        check("2000-02", ("2000-02-01", "2000-02-29"));
        check("9999-12", ("9999-12-01", "9999-12-31"));
        assert_eq!(Month::of(date("2025-09-15")), month("2025-09"));
    }

    #[test]
    fn arithmetic_crosses_year_ends() {
        let check = |input: &str, months: i32, expected: &str| {
            assert_eq!(month(input).plus(months), month(expected), "{input} + {months}");
        };
        check("2025-09", 0, "2025-09");
        check("2025-09", 3, "2025-12");
        check("2025-09", 4, "2026-01");
        check("2025-12", 1, "2026-01");
        check("2026-01", -1, "2025-12");
        check("2025-09", -9, "2024-12");
        check("2025-09", 120, "2035-09");
        check("2025-09", -1508, "1900-01");
        check("9999-11", 1, "9999-12");
        assert_eq!(month("2025-12").next(), month("2026-01"));
        assert_eq!(month("2026-01").prev(), month("2025-12"));
        assert_eq!(month("2025-06").next(), month("2025-07"));
        assert_eq!(month("2025-06").prev(), month("2025-05"));
    }

    #[test]
    fn months_until_counts_from_inclusive_to_exclusive() {
        let check = |from: &str, end: &str, expected: u32| {
            assert_eq!(month(from).months_until(month(end)), expected, "{from}..{end}");
        };
        check("2025-09", "2025-09", 0);
        check("2025-09", "2025-10", 1);
        check("2025-09", "2026-01", 4);
        check("2025-12", "2026-01", 1);
        check("2025-09", "2035-09", 120);
        check("2025-09", "2025-08", 0);
        check("2026-01", "2025-12", 0);
        check("1900-01", "9999-12", 97_199);
    }

    #[test]
    fn months_order_chronologically() {
        assert!(month("2025-12") < month("2026-01"));
        assert!(month("2025-09") < month("2025-10"));
        assert!(month("2025-10") > month("2025-09"));
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(s in any::<String>()) {
            let _ = Month::parse(&s);
        }

        #[test]
        fn every_parsed_month_displays_as_its_input(s in "[0-9]{4}-[0-9]{2}") {
            if let Ok(m) = Month::parse(&s) {
                prop_assert_eq!(m.to_string(), s);
                prop_assert_eq!(Month::parse(&m.to_string()), Ok(m));
            }
        }

        #[test]
        fn plus_and_months_until_agree(year in 1900i32..=9000, number in 1u32..=12, n in 0i32..=10_000) {
            let m = Month::new(year, number).unwrap();
            prop_assert_eq!(m.months_until(m.plus(n)), n as u32);
            prop_assert_eq!(m.plus(n).plus(-n), m);
            prop_assert_eq!(m.next().prev(), m);
        }
    }
}
