//! The insurer's participant number (KPJ), the other identifier of a worker besides the NIK.

/// The insurer's participant number (KPJ): an opaque string of exactly 11 ASCII digits that it assigns (R5.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be the insurer's 11-digit participant number")]
pub struct ParticipantNumberError;

impl ParticipantNumber {
    /// Exactly 11 ASCII digits, nothing trimmed: the number is the insurer's, so lindung neither repairs nor reads it.
    pub fn parse(s: &str) -> Result<ParticipantNumber, ParticipantNumberError> {
        let valid = s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit());
        if valid { Ok(ParticipantNumber(s.to_owned())) } else { Err(ParticipantNumberError) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParticipantNumberError {
    /// Stable code for `google.rpc.BadRequest.FieldViolation.reason`.
    pub fn reason(&self) -> &'static str {
        "PARTICIPANT_NUMBER_FORMAT"
    }

    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        crate::msg!(PARTICIPANT_NUMBER_FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_numbers_are_exactly_11_digits() {
        let check = |input: &str, expected: bool| {
            let actual = ParticipantNumber::parse(input);
            assert_eq!(actual.as_ref().map(ParticipantNumber::as_str).ok(), expected.then_some(input), "{input:?}");
        };
        check("12345678901", true);
        check("00000000000", true);
        for bad in [
            "",
            "1234567890",
            "123456789012",
            "1234567890a",
            " 12345678901",
            "1234567890 ",
            "１2345678901",
            "+1234567890",
        ] {
            check(bad, false);
        }
        let error = ParticipantNumber::parse("123").unwrap_err();
        assert_eq!(
            (error.reason(), error.to_string().as_str()),
            ("PARTICIPANT_NUMBER_FORMAT", "must be the insurer's 11-digit participant number")
        );
    }
}
