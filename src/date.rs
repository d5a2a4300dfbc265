//! Dates on the wire: the one parser behind every date field of every RPC.
//!
//! Strictly `YYYY-MM-DD` (chrono's `%Y-%m-%d` would also take `2025-9-1`, `+10000-01-01` and `-2025-01-01`), a real
//! calendar date, from [`FIRST`] to [`LAST`]. No worker was born before 1900 and no contribution runs into the year
//! 3000, and the bound leaves the month arithmetic behind every date (a month later, a lapse three months on) far
//! from `Month`'s own limits, so nothing downstream of this parser can overflow.

use chrono::NaiveDate;

use crate::error::FieldViolation;

/// The earliest date accepted.
pub const FIRST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a real date");
/// The latest date accepted.
pub const LAST: NaiveDate = NaiveDate::from_ymd_opt(2999, 12, 31).expect("a real date");

/// Why a string is not an accepted date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("must be a date written YYYY-MM-DD, e.g. 2025-09-15")]
    Format,
    #[error("is not a calendar date")]
    NotADay,
    #[error("must be between 1900-01-01 and 2999-12-31")]
    OutOfRange,
}

impl DateError {
    /// Stable code for `google.rpc.BadRequest.FieldViolation.reason`.
    pub fn reason(self) -> &'static str {
        match self {
            DateError::Format | DateError::NotADay => "DATE_FORMAT",
            DateError::OutOfRange => "DATE_OUT_OF_RANGE",
        }
    }

    /// What is wrong, in the catalogue.
    pub fn message(self) -> crate::messages::Message {
        match self {
            DateError::Format => crate::msg!(DATE_FORMAT),
            DateError::NotADay => crate::msg!(DATE_NOT_A_DAY),
            DateError::OutOfRange => crate::msg!(DATE_OUT_OF_RANGE),
        }
    }

    /// The violation of the field at `path`.
    pub fn at(self, path: impl Into<String>) -> FieldViolation {
        FieldViolation::new(path, self.message())
    }
}

/// Parses a date field.
pub fn parse(s: &str) -> Result<NaiveDate, DateError> {
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(DateError::Format);
    }
    let number = |range: std::ops::Range<usize>| s[range].parse::<u32>().expect("checked digits");
    let date = NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10)).ok_or(DateError::NotADay)?;
    if (FIRST..=LAST).contains(&date) { Ok(date) } else { Err(DateError::OutOfRange) }
}

/// Parses the date field at `path`.
pub fn field(path: &str, value: &str) -> Result<NaiveDate, FieldViolation> {
    parse(value).map_err(|e| e.at(path))
}

/// Parses the date field at `path`, which must not be after `today` (a payment, a death, an accident).
pub fn not_after(path: &str, value: &str, today: NaiveDate) -> Result<NaiveDate, FieldViolation> {
    let date = field(path, value)?;
    if date > today {
        return Err(FieldViolation::new(path, crate::msg!(DATE_IN_FUTURE, today = today)));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn only_strict_dates_in_range_are_accepted() {
        let check = |input: &str, expected: Result<&str, DateError>| {
            assert_eq!(parse(input).map(|d| d.to_string()), expected.map(str::to_owned), "{input:?}");
        };
        check("2025-09-15", Ok("2025-09-15"));
        check("1900-01-01", Ok("1900-01-01"));
        check("2999-12-31", Ok("2999-12-31"));
        check("2024-02-29", Ok("2024-02-29"));
        check("1899-12-31", Err(DateError::OutOfRange));
        check("0001-01-01", Err(DateError::OutOfRange));
        check("3000-01-01", Err(DateError::OutOfRange));
        check("9999-12-31", Err(DateError::OutOfRange));
        check("+10000-01-01", Err(DateError::Format));
        check("-2025-01-01", Err(DateError::Format));
        check("2025-9-1", Err(DateError::Format));
        check("2025-09-1", Err(DateError::Format));
        check(" 2025-09-15", Err(DateError::Format));
        check("2025-09-15T00:00:00", Err(DateError::Format));
        check("2025/09/15", Err(DateError::Format));
        check("", Err(DateError::Format));
        check("2025-02-29", Err(DateError::NotADay));
        check("2025-13-01", Err(DateError::NotADay));
        check("2025-00-10", Err(DateError::NotADay));
        check("٢٠٢٥-٠٩-١٥", Err(DateError::Format)); // non-ASCII digits
    }

    #[test]
    fn a_date_after_today_is_refused_where_it_must_have_happened() {
        let today = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
        assert!(not_after("paid_on", "2025-10-01", today).is_ok());
        let v = not_after("paid_on", "2025-10-02", today).unwrap_err();
        assert_eq!((v.field.as_str(), v.reason), ("paid_on", "DATE_IN_FUTURE"));
        assert_eq!(not_after("paid_on", "1899-12-31", today).unwrap_err().reason, "DATE_OUT_OF_RANGE");
    }

    proptest! {
        #[test]
        fn any_string_is_a_date_or_a_named_violation(s in "\\PC{0,14}") {
            match parse(&s) {
                Ok(date) => prop_assert_eq!(date.to_string(), s),
                Err(e) => prop_assert!(e.at("date").field == "date"),
            }
        }

        #[test]
        fn every_date_in_range_round_trips_and_every_other_is_out_of_range(days in -1_000_000i64..1_500_000) {
            let date = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Duration::days(days);
            let written = format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day());
            let parsed = parse(&written);
            if (FIRST..=LAST).contains(&date) {
                prop_assert_eq!(parsed, Ok(date));
                // Month arithmetic a request date reaches stays in range.
                let month = crate::month::Month::of(date);
                prop_assert!(month.plus(12) > month);
            } else {
                prop_assert!(parsed.is_err());
            }
        }
    }
}
