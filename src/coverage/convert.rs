//! Coverage on the wire: questions in, answers and arrears out.

use super::{Answer, Arrears, NotCovered, Programme, Question};
use crate::{
    agency::convert::kind_to_proto,
    error::{Error, FieldViolation},
    month::Month,
    nik::Nik,
    participant::ParticipantNumber,
    proto::{convert::rupiah, v1 as pb},
};

/// A coverage question, or every violation of it.
pub fn question(request: &pb::VerifyCoverageRequest) -> Result<Question, Error> {
    let mut violations = Vec::new();
    let nik = (!request.nik.is_empty()).then(|| Nik::parse(&request.nik));
    let number =
        (!request.participant_number.is_empty()).then(|| ParticipantNumber::parse(&request.participant_number));
    match (&nik, &number) {
        (None, None) | (Some(_), Some(_)) => {
            violations.push(FieldViolation::new("nik", crate::msg!(IDENTIFIER_REQUIRED)))
        }
        _ => {}
    }
    if let Some(Err(e)) = &nik {
        violations.push(FieldViolation::new("nik", e.message()));
    }
    if let Some(Err(e)) = &number {
        violations.push(FieldViolation::new("participant_number", e.message()));
    }
    let date = crate::date::field("date", &request.date);
    if let Err(violation) = &date {
        violations.push(violation.clone());
    }
    let programme = match pb::Programme::try_from(request.programme) {
        Ok(pb::Programme::Jkk) => Some(Programme::Jkk),
        Ok(pb::Programme::Jkm) => Some(Programme::Jkm),
        _ => {
            violations.push(FieldViolation::new("programme", crate::msg!(REQUIRED_PROGRAMME)));
            None
        }
    };
    match (date, programme) {
        (Ok(date), Some(programme)) if violations.is_empty() => Ok(Question {
            nik: nik.and_then(Result::ok),
            participant_number: number.and_then(Result::ok),
            date,
            programme,
        }),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// The answer to one question, or the question's error, for the row `client_ref` of a stream.
pub fn answer_to_proto(client_ref: String, answer: Result<Answer, Error>) -> pb::VerifyCoverageResponse {
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            let text = error.to_string();
            let status = crate::error::to_rpc_status(error);
            return pb::VerifyCoverageResponse {
                client_ref,
                error: text,
                error_status: Some(status),
                ..Default::default()
            };
        }
    };
    match answer.verdict {
        Ok(covered) => pb::VerifyCoverageResponse {
            covered: true,
            reason: pb::CoverageReason::Covered as i32,
            client_ref,
            details: answer.details.map(|details| pb::CoverageDetails {
                funder_kind: kind_to_proto(covered.funder_kind) as i32,
                subsidy_id: covered.subsidy_id.to_string(),
                protection_start: covered.protection_start.to_string(),
                paid_through: covered.paid_through.to_string(),
                contribution_months: covered.contribution_months,
                death_benefit: details.death_benefit.map(rupiah),
                scholarship_eligible: details.scholarship_eligible,
            }),
            error: String::new(),
            attestation: String::new(),
            error_status: None,
        },
        Err(reason) => pb::VerifyCoverageResponse {
            covered: false,
            reason: reason_to_proto(reason) as i32,
            client_ref,
            details: None,
            error: String::new(),
            attestation: String::new(),
            error_status: None,
        },
    }
}

pub fn reason_to_proto(reason: NotCovered) -> pb::CoverageReason {
    match reason {
        NotCovered::NotEnrolled => pb::CoverageReason::NotEnrolled,
        NotCovered::PendingRegistration => pb::CoverageReason::PendingRegistration,
        NotCovered::MonthUnpaid => pb::CoverageReason::MonthUnpaid,
        NotCovered::InArrearsWindow => pb::CoverageReason::InArrearsWindow,
        NotCovered::Lapsed => pb::CoverageReason::Lapsed,
        NotCovered::Ended => pb::CoverageReason::Ended,
        NotCovered::Deceased => pb::CoverageReason::Deceased,
    }
}

/// A subsidy's arrears, as `GetArrears` and `RecordBackdate` answer them.
pub fn arrears_to_proto(arrears: &Arrears) -> pb::GetArrearsResponse {
    pb::GetArrearsResponse {
        warning: arrears.warning,
        unpaid_months: arrears.unpaid_months.iter().map(Month::to_string).collect(),
        lapses: arrears
            .lapses
            .iter()
            .map(|(on, month)| pb::Lapse { lapsed_on: on.to_string(), month: month.to_string() })
            .collect(),
    }
}
