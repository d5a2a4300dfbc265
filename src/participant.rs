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
}
