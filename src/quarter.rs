//! Calendar quarters: DTSEN re-ranks households every quarter, so a welfare decile is as of one (R4.1).

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::validate::shown;

/// A calendar quarter, e.g. `2025-Q3`: DTSEN re-ranks households every quarter, so a decile is as of one (R4.1).
/// Orders chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quarter {
    year: i32,
    q: u8,
}

impl Quarter {
    /// Parses `2025-Q3`; a lowercase `q` is accepted because spreadsheets and people write it so.
    pub fn parse(s: &str) -> Result<Quarter, QuarterError> {
        let error = || QuarterError(s.to_owned());
        let bytes = s.as_bytes();
        let &[y0, y1, y2, y3, b'-', b'Q' | b'q', q @ b'1'..=b'4'] = bytes else { return Err(error()) };
        let year = [y0, y1, y2, y3].iter().try_fold(0i32, |year, b| match b {
            b'0'..=b'9' => Some(year * 10 + i32::from(b - b'0')),
            _ => None,
        });
        Ok(Quarter { year: year.ok_or_else(error)?, q: q - b'0' })
    }

    /// The quarter `date` falls in.
    pub fn from_date(date: NaiveDate) -> Quarter {
        Quarter { year: date.year(), q: (date.month0() / 3 + 1) as u8 }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 to 4.
    pub fn number(self) -> u8 {
        self.q
    }

    /// The date a quarter is stored as: its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, u32::from(self.q) * 3 - 2, 1).expect("a quarter starts on a real date")
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.q)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not a quarter: expected YYYY-Qn with n from 1 to 4, e.g. 2025-Q3", shown(.0))]
pub struct QuarterError(String);

impl QuarterError {
    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        crate::msg!(QUARTER_FORMAT, input = shown(&self.0))
    }
}
