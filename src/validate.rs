//! The validation kit every concept's parsing uses: one field checker that gathers every broken rule of a request
//! (so that one answer names every bad field), and the parsers of the shared identifiers.
//!
//! Rules themselves live with their types (`Nik::parse`, `Month::parse`, `date::parse`); this module only says
//! how a failed rule becomes a [`FieldViolation`] at a field path.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    date::DateError,
    error::{Error, FieldViolation},
    messages::{Code, Message},
    money::Rupiah,
    month::Month,
};

/// Why a free text (a name, a source, a detail) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("is required")]
    Empty,
    #[error("must be at most {max} characters, got {length}")]
    TooLong { max: usize, length: usize },
    /// `position` counts characters of the trimmed text from 1.
    #[error("must not contain control characters such as tabs or line breaks (character {position})")]
    ControlCharacter { position: usize },
}

/// Trims `value` and checks it is 1 to `max` characters without control characters.
pub fn bounded_text(value: &str, max: usize) -> Result<String, TextError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(TextError::Empty);
    }
    let length = value.chars().count();
    if length > max {
        return Err(TextError::TooLong { max, length });
    }
    if let Some(i) = value.chars().position(char::is_control) {
        return Err(TextError::ControlCharacter { position: i + 1 });
    }
    Ok(value.to_owned())
}

/// A date by the one date parser ([`crate::date`]), its message quoting the input where it is short.
pub fn quoted_date(s: &str) -> Result<NaiveDate, QuotedDateError> {
    crate::date::parse(s).map_err(|error| {
        let text = match error {
            DateError::Format => format!("{} is not a date: expected YYYY-MM-DD, e.g. 1990-05-15", shown(s)),
            DateError::NotADay => format!("{s} is not a calendar date"),
            DateError::OutOfRange => format!("{s} is out of range: dates run from 1900-01-01 to 2999-12-31"),
        };
        // The input as the message quotes it (a long one is not echoed, R6.3).
        let quoted = if error == DateError::Format { shown(s) } else { s.to_owned() };
        QuotedDateError(error, text, quoted)
    })
}

/// A date parser's error with its message quoting the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedDateError(pub DateError, pub String, String);

impl QuotedDateError {
    /// What is wrong, in the catalogue, quoting the input as the English text does.
    pub fn message(&self) -> Message {
        match self.0 {
            DateError::Format => crate::msg!(DATE_FORMAT_QUOTED, input = self.2.as_str()),
            DateError::NotADay => crate::msg!(DATE_NOT_A_DAY_QUOTED, input = self.2.as_str()),
            DateError::OutOfRange => crate::msg!(DATE_OUT_OF_RANGE_QUOTED, input = self.2.as_str()),
        }
    }
}

impl TextError {
    /// What is wrong, in the catalogue: a blank text is `REQUIRED`, the others are the field's own `length` and
    /// `control` codes (their messages say `{max}`, `{length}` and `{position}`).
    pub fn message(&self, length: Code, control: Code) -> Message {
        match self {
            TextError::Empty => crate::msg!(REQUIRED),
            TextError::TooLong { max, length: got } => Message::new(length).arg("max", *max).arg("length", *got),
            TextError::ControlCharacter { position } => Message::new(control).arg("position", *position),
        }
    }
}

impl fmt::Display for QuotedDateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.1)
    }
}

/// The one rule of a short free text (a name, a certificate number, a place): once trimmed, 1 to `max` characters,
/// none of them a control character.
pub fn printable(value: &str, max: usize) -> bool {
    let value = value.trim();
    !value.is_empty() && value.chars().count() <= max && !value.chars().any(char::is_control)
}

/// An id lindung answered (a UUID).
pub fn parse_id(id: &str, field: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::invalid(field, crate::msg!(ID_FORMAT)))
}

/// Keeps a value, or moves its field violations into `violations`, so that one answer names every bad field. The
/// parsers it wraps fail only with INVALID_ARGUMENT; anything else would be a bug, kept as an unnamed violation.
pub fn collect<T>(violations: &mut Vec<FieldViolation>, result: Result<T, Error>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::InvalidArgument(v)) => {
            violations.extend(v);
            None
        }
        Err(other) => {
            violations.push(FieldViolation::new("", crate::msg!(INVALID_UNEXPECTED, detail = other.to_string())));
            None
        }
    }
}

/// The same error with the field paths of its violations placed under `prefix`.
pub fn nest(error: Error, prefix: &str) -> Error {
    match error {
        Error::InvalidArgument(v) => Error::InvalidArgument(v.into_iter().map(|v| v.nested(prefix)).collect()),
        other => other,
    }
}

/// Gathers the violations of one request in field order.
#[derive(Debug, Default)]
pub struct Checker {
    pub violations: Vec<FieldViolation>,
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    pub fn violation(&mut self, field: &str, message: Message) {
        self.violations.push(FieldViolation::new(field, message));
    }

    /// Records a violation unless `ok`; answers `ok`.
    pub fn rule(&mut self, ok: bool, field: &str, message: impl FnOnce() -> Message) -> bool {
        if !ok {
            self.violation(field, message());
        }
        ok
    }

    /// The parsed value, or a violation with the error's message.
    pub fn take<T, E>(&mut self, field: &str, result: Result<T, E>, message: impl FnOnce(&E) -> Message) -> Option<T> {
        result.map_err(|e| self.violation(field, message(&e))).ok()
    }

    /// A value that must not be blank.
    pub fn required<'a>(&mut self, field: &str, value: &'a str) -> Option<&'a str> {
        let value = value.trim();
        self.rule(!value.is_empty(), field, || crate::msg!(REQUIRED)).then_some(value)
    }

    /// A value that must not be blank, answered as given (untrimmed: its parser decides about spaces).
    pub fn given<'a>(&mut self, field: &str, value: &'a str) -> Option<&'a str> {
        self.rule(!value.trim().is_empty(), field, || crate::msg!(REQUIRED)).then_some(value)
    }

    pub fn present<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        self.rule(value.is_some(), field, || crate::msg!(REQUIRED));
        value
    }

    /// Trimmed text of 1 to `max` printable characters.
    /// `code`'s messages say `{max}`.
    pub fn text(&mut self, field: &str, value: &str, max: usize, code: Code) -> Option<String> {
        let ok = printable(value, max);
        self.rule(ok, field, || Message::new(code).arg("max", max)).then(|| value.trim().to_owned())
    }

    /// A free text parsed by `result` (see [`bounded_text`]), with this field's reasons for its length and its
    /// control characters.
    pub fn text_parsed<T>(
        &mut self,
        field: &str,
        result: Result<T, TextError>,
        length: Code,
        control: Code,
    ) -> Option<T> {
        self.take(field, result, |e| e.message(length, control))
    }

    /// Trimmed text of 1 to `max` characters without control characters, with this field's reasons.
    pub fn bounded_text(
        &mut self,
        field: &str,
        value: &str,
        max: usize,
        length: Code,
        control: Code,
    ) -> Option<String> {
        self.text_parsed(field, bounded_text(value, max), length, control)
    }

    /// A date not after `today`, its messages quoting the input ([`quoted_date`]).
    pub fn past_date(&mut self, field: &str, value: &str, today: NaiveDate) -> Option<NaiveDate> {
        let date = self.take(field, quoted_date(value), QuotedDateError::message)?;
        self.rule(date <= today, field, || crate::msg!(DATE_IN_FUTURE, today = today)).then_some(date)
    }

    /// A date in the one strict format ([`crate::date`]), not after `today`.
    pub fn date_not_after(&mut self, field: &str, value: &str, today: NaiveDate) -> Option<NaiveDate> {
        crate::date::not_after(field, value, today).map_err(|v| self.violations.push(v)).ok()
    }

    pub fn month(&mut self, field: &str, value: &str) -> Option<Month> {
        Month::parse(value).map_err(|e| self.violation(field, e.message())).ok()
    }

    /// A month that must be given.
    pub fn required_month(&mut self, field: &str, value: &str) -> Option<Month> {
        let value = self.given(field, value)?;
        self.month(field, value)
    }

    pub fn money(&mut self, field: &str, value: &str) -> Option<Rupiah> {
        Rupiah::parse(value).map_err(|e| self.violation(field, e.message())).ok()
    }

    /// An amount, or `default` when blank.
    pub fn money_or(&mut self, field: &str, value: &str, default: Rupiah) -> Option<Rupiah> {
        if value.trim().is_empty() { Some(default) } else { self.money(field, value) }
    }

    /// Keeps a value, or moves the violations of a nested parse into this checker.
    pub fn collect<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        collect(&mut self.violations, result)
    }

    /// `value` when no rule was broken, else every violation.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldViolation>> {
        if self.violations.is_empty() {
            value().ok_or_else(|| vec![FieldViolation::new("", crate::msg!(INVALID))])
        } else {
            Err(self.violations)
        }
    }
}

/// The input quoted when short; a long value (a NIK pasted in the wrong field) is not echoed into messages (R6.3).
pub fn shown(input: &str) -> String {
    let length = input.chars().count();
    if length <= 12 { format!("{input:?}") } else { format!("a value of {length} characters") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_trimmed_bounded_and_printable() {
        let check = |value: &str, expected: bool| assert_eq!(printable(value, 5), expected, "{value:?}");
        check("Bogor", true);
        check("  Bogor  ", true);
        check("", false);
        check("   ", false);
        check("Bogor!", false);
        check("Bo\u{0}or", false);
        check("é😀é😀é", true);
    }
}
