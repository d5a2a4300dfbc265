//! `lindung.v1` enrollment messages to domain values (validation, with the field paths of violations) and back.

use uuid::Uuid;

use super::{
    Decision, EndReason, Enrollment, InsurerRefusal, ParticipantNumber, Status, Submission,
    service::{self, Filter, HandOver, Listed, Page, Received, View},
};
use crate::{
    agency::AgencyKind,
    area::RegionCode,
    error::{Error, FieldViolation},
    month::Month,
    nik::Nik,
    paging,
    proto::v1 as pb,
    validate::parse_id,
};

/// The tag of enrollment page tokens, keyed by (creation time, id).
const PAGE_TAG: &str = "e1";

/// A submission as received; `prefix` is where its fields sit in the request (`submission` in a stream).
pub fn received(request: &pb::SubmitEnrollmentRequest, prefix: Option<&str>) -> Received {
    Received { request_id: request.request_id.clone(), submission: submission(request, prefix) }
}

fn submission(request: &pb::SubmitEnrollmentRequest, prefix: Option<&str>) -> Result<Submission, Error> {
    let mut violations = Vec::new();
    let request_id = match crate::idempotency::parse_request_id(&request.request_id, "request_id") {
        Ok(id) => Some(id),
        Err(Error::InvalidArgument(v)) => {
            violations.extend(v);
            None
        }
        Err(other) => return Err(other),
    };
    let subsidy_id = Uuid::parse_str(&request.subsidy_id)
        .map_err(|_| FieldViolation::new("subsidy_id", crate::msg!(ID_FORMAT_YOUR_SUBSIDY)));
    let nik = Nik::parse(&request.worker_nik).map_err(|e| FieldViolation::new("worker_nik", e.message()));
    let first_month = Month::parse(&request.first_month).map_err(|e| FieldViolation::new("first_month", e.message()));
    violations.extend(subsidy_id.as_ref().err().cloned());
    violations.extend(nik.as_ref().err().cloned());
    violations.extend(first_month.as_ref().err().cloned());
    match (request_id, subsidy_id, nik, first_month) {
        (Some(request_id), Ok(subsidy_id), Ok(nik), Ok(first_month)) if violations.is_empty() => {
            Ok(Submission { request_id, subsidy_id, nik, first_month })
        }
        _ => Err(Error::InvalidArgument(match prefix {
            Some(prefix) => violations.into_iter().map(|v| v.nested(prefix)).collect(),
            None => violations,
        })),
    }
}

/// A hand-over asked for; every field is checked before anything is read, the resend path included.
pub fn hand_over(request: &pb::HandOverEnrollmentRequest) -> Result<HandOver, Error> {
    let request_id = crate::idempotency::parse_request_id(&request.request_id, "request_id")?;
    let enrollment_id = parse_id(&request.enrollment_id, "enrollment_id")?;
    let target_subsidy_id = parse_id(&request.target_subsidy_id, "target_subsidy_id")?;
    let month = Month::parse(&request.month).map_err(|e| Error::invalid("month", e.message()))?;
    Ok(HandOver { request_id, enrollment_id, target_subsidy_id, month })
}

/// The enrollment, end month and reason of an EndEnrollment request.
pub fn end(request: &pb::EndEnrollmentRequest) -> Result<(Uuid, Month, EndReason), Error> {
    let mut violations = Vec::new();
    let id = Uuid::parse_str(&request.enrollment_id)
        .map_err(|_| FieldViolation::new("enrollment_id", crate::msg!(ID_FORMAT_ENROLLMENT)));
    let month = Month::parse(&request.end_month).map_err(|e| FieldViolation::new("end_month", e.message()));
    let reason = match pb::EndReason::try_from(request.reason) {
        Ok(pb::EndReason::FundingStopped) => Ok(EndReason::FundingStopped),
        Ok(pb::EndReason::MovedAway) => Ok(EndReason::MovedAway),
        Ok(pb::EndReason::Died) => Ok(EndReason::Died),
        Ok(pb::EndReason::Other) => Ok(EndReason::Other),
        Ok(pb::EndReason::HandedOver) => Err(FieldViolation::new("reason", crate::msg!(END_REASON_RESERVED))),
        _ => Err(FieldViolation::new("reason", crate::msg!(REQUIRED))),
    };
    violations.extend(id.as_ref().err().cloned());
    violations.extend(month.as_ref().err().cloned());
    violations.extend(reason.as_ref().err().cloned());
    match (id, month, reason) {
        (Ok(id), Ok(month), Ok(reason)) => Ok((id, month, reason)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// One decision of a DecideEnrollments stream.
pub fn decision(request: pb::DecideEnrollmentsRequest) -> Result<Decision, Error> {
    use pb::decide_enrollments_request::Decision as Wire;
    match request.decision {
        Some(Wire::Confirm(c)) => confirm(&c, "confirm."),
        Some(Wire::Refuse(r)) => refuse(&r, "refuse."),
        None => Err(Error::invalid("decision", crate::msg!(REQUIRED_DECISION))),
    }
}

/// A confirmation; `prefix` is where its fields sit (`confirm.` in a stream).
pub fn confirm(request: &pb::ConfirmEnrollmentRequest, prefix: &str) -> Result<Decision, Error> {
    let id = Uuid::parse_str(&request.enrollment_id)
        .map_err(|_| FieldViolation::new(format!("{prefix}enrollment_id"), crate::msg!(ID_FORMAT_ENROLLMENT)));
    let number = ParticipantNumber::parse(&request.participant_number)
        .map_err(|e| FieldViolation::new(format!("{prefix}participant_number"), e.message()));
    let start = crate::date::field(&format!("{prefix}protection_start"), &request.protection_start);
    match (id, number, start) {
        (Ok(id), Ok(number), Ok(start)) => Ok(Decision::Confirm { id, number, start }),
        (id, number, start) => {
            Err(Error::InvalidArgument([id.err(), number.err(), start.err()].into_iter().flatten().collect()))
        }
    }
}

/// A refusal by the insurer; `prefix` is where its fields sit (`refuse.` in a stream).
pub fn refuse(request: &pb::RefuseEnrollmentRequest, prefix: &str) -> Result<Decision, Error> {
    let mut violations = Vec::new();
    let id = Uuid::parse_str(&request.enrollment_id)
        .map_err(|_| FieldViolation::new(format!("{prefix}enrollment_id"), crate::msg!(ID_FORMAT_ENROLLMENT)));
    let reason = match pb::InsurerRefusal::try_from(request.reason) {
        Ok(pb::InsurerRefusal::AlreadyActiveElsewhere) => Ok(InsurerRefusal::AlreadyActiveElsewhere),
        Ok(pb::InsurerRefusal::DeceasedPerCivilRegistry) => Ok(InsurerRefusal::DeceasedPerCivilRegistry),
        Ok(pb::InsurerRefusal::NikNotFound) => Ok(InsurerRefusal::NikNotFound),
        Ok(pb::InsurerRefusal::Age) => Ok(InsurerRefusal::Age),
        Ok(pb::InsurerRefusal::Other) => Ok(InsurerRefusal::Other),
        _ => Err(FieldViolation::new(format!("{prefix}reason"), crate::msg!(REQUIRED))),
    };
    let detail = request.detail.trim();
    if detail.chars().count() > 500 {
        violations.push(FieldViolation::new(format!("{prefix}detail"), crate::msg!(DETAIL_LENGTH)));
    }
    if matches!(reason, Ok(InsurerRefusal::Other)) && detail.is_empty() {
        violations.push(FieldViolation::new(format!("{prefix}detail"), crate::msg!(REQUIRED_DETAIL)));
    }
    violations.extend(id.as_ref().err().cloned());
    violations.extend(reason.as_ref().err().cloned());
    match (id, reason) {
        (Ok(id), Ok(reason)) if violations.is_empty() => {
            Ok(Decision::Refuse { id, reason, detail: (!detail.is_empty()).then(|| detail.to_owned()) })
        }
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// The filter of a ListEnrollments request.
pub fn filter(request: &pb::ListEnrollmentsRequest) -> Result<Filter, Error> {
    let mut violations = Vec::new();
    let mut filter = Filter::default();
    if !request.subsidy_id.is_empty() {
        match Uuid::parse_str(&request.subsidy_id) {
            Ok(id) => filter.subsidy = Some(id),
            Err(_) => violations.push(FieldViolation::new("subsidy_id", crate::msg!(ID_FORMAT_SUBSIDY))),
        }
    }
    filter.status = match pb::EnrollmentStatus::try_from(request.status) {
        Ok(pb::EnrollmentStatus::Unspecified) => None,
        Ok(pb::EnrollmentStatus::Pending) => Some(Listed::Stored(Status::Pending)),
        Ok(pb::EnrollmentStatus::Active) => Some(Listed::Stored(Status::Active)),
        Ok(pb::EnrollmentStatus::Rejected) => Some(Listed::Stored(Status::Rejected)),
        Ok(pb::EnrollmentStatus::Ended) => Some(Listed::Stored(Status::Ended)),
        Ok(pb::EnrollmentStatus::Lapsed) => Some(Listed::Lapsed),
        Err(_) => {
            violations.push(FieldViolation::new("status", crate::msg!(ENUM_UNKNOWN_ENROLLMENT_STATUS)));
            None
        }
    };
    if !request.month.is_empty() {
        match Month::parse(&request.month) {
            Ok(month) => filter.month = Some(month),
            Err(e) => violations.push(FieldViolation::new("month", e.message())),
        }
    }
    if !request.area_code.is_empty() {
        match RegionCode::parse(&request.area_code) {
            Ok(area) => filter.area = Some(area),
            Err(e) => violations.push(FieldViolation::new("area_code", e.message())),
        }
    }
    if violations.is_empty() { Ok(filter) } else { Err(Error::InvalidArgument(violations)) }
}

/// The filter of ListPendingEnrollments.
pub fn pending() -> Filter {
    Filter { status: Some(Listed::Stored(Status::Pending)), ..Filter::default() }
}

/// The page asked for.
pub fn page(page: &pb::PageRequest) -> Result<Page, Error> {
    Ok(Page { after: paging::after_time(PAGE_TAG, page)?, limit: paging::limit(page) })
}

/// The enrollments of a page and the token of the next page ("" after the last).
pub fn listing(listing: service::Listing) -> (Vec<pb::Enrollment>, String) {
    let next = match listing.views.last() {
        Some(last) if listing.more => paging::time_token(PAGE_TAG, last.enrollment.created_at, last.enrollment.id),
        _ => String::new(),
    };
    (listing.views.iter().map(view).collect(), next)
}

/// An enrollment as shown: LAPSED, with the day, when its subsidy lapsed.
pub fn view(view: &View) -> pb::Enrollment {
    let mut enrollment = to_proto(&view.enrollment);
    if let Some(on) = view.lapsed_on {
        enrollment.status = pb::EnrollmentStatus::Lapsed as i32;
        enrollment.lapsed_on = on.to_string();
    }
    enrollment
}

pub fn to_proto(row: &Enrollment) -> pb::Enrollment {
    let status = match row.status {
        Status::Pending => pb::EnrollmentStatus::Pending,
        Status::Active => pb::EnrollmentStatus::Active,
        Status::Rejected => pb::EnrollmentStatus::Rejected,
        Status::Ended => pb::EnrollmentStatus::Ended,
    };
    let rejection = match row.rejection_reason {
        Some(InsurerRefusal::AlreadyActiveElsewhere) => pb::InsurerRefusal::AlreadyActiveElsewhere,
        Some(InsurerRefusal::DeceasedPerCivilRegistry) => pb::InsurerRefusal::DeceasedPerCivilRegistry,
        Some(InsurerRefusal::NikNotFound) => pb::InsurerRefusal::NikNotFound,
        Some(InsurerRefusal::Age) => pb::InsurerRefusal::Age,
        Some(InsurerRefusal::Other) => pb::InsurerRefusal::Other,
        None => pb::InsurerRefusal::Unspecified,
    };
    let end_reason = match row.end_reason {
        Some(EndReason::FundingStopped) => pb::EndReason::FundingStopped,
        Some(EndReason::MovedAway) => pb::EndReason::MovedAway,
        Some(EndReason::Died) => pb::EndReason::Died,
        Some(EndReason::HandedOver) => pb::EndReason::HandedOver,
        Some(EndReason::Other) => pb::EndReason::Other,
        None => pb::EndReason::Unspecified,
    };
    let kind = match row.funder_kind {
        AgencyKind::City => pb::AgencyKind::City,
        AgencyKind::Province => pb::AgencyKind::Province,
        AgencyKind::Insurer => pb::AgencyKind::Insurer,
    };
    pb::Enrollment {
        id: row.id.to_string(),
        subsidy_id: row.subsidy_id.to_string(),
        funder_kind: kind as i32,
        worker_nik: row.worker_nik.as_str().to_owned(),
        first_month: row.first_month.to_string(),
        end_month: row.end_month.unwrap_or(row.first_month).to_string(),
        status: status as i32,
        participant_number: row.participant_number.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default(),
        protection_start: row.protection_start.map(|d| d.to_string()).unwrap_or_default(),
        rejection_reason: rejection as i32,
        rejection_detail: row.rejection_detail.clone().unwrap_or_default(),
        end_reason: end_reason as i32,
        request_id: row.request_id.clone(),
        create_time: Some(crate::proto::convert::timestamp(row.created_at)),
        update_time: Some(crate::proto::convert::timestamp(row.updated_at)),
        lapsed_on: String::new(),
    }
}
