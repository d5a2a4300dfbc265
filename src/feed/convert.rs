//! pb <-> domain for the feed.

use super::{Event, Kind};
use crate::{
    error::{Error, FieldViolation},
    proto::{convert::timestamp, v1 as pb},
};

/// The kinds a subscription asks for; every unknown or unspecified one is INVALID_ARGUMENT naming its index.
pub fn kinds(asked: &[i32]) -> Result<Vec<Kind>, Error> {
    let mut kinds = Vec::with_capacity(asked.len());
    let mut violations = Vec::new();
    for (i, &value) in asked.iter().enumerate() {
        match pb::EventKind::try_from(value).ok().and_then(kind_from_proto) {
            Some(kind) => kinds.push(kind),
            None => violations.push(FieldViolation::new(
                format!("kinds[{i}]"),
                crate::msg!(EVENT_KIND_UNKNOWN, value = value.to_string()),
            )),
        }
    }
    if violations.is_empty() { Ok(kinds) } else { Err(Error::InvalidArgument(violations)) }
}

fn kind_from_proto(kind: pb::EventKind) -> Option<Kind> {
    use pb::EventKind as P;
    Some(match kind {
        P::Unspecified => return None,
        P::WorkerRegistered => Kind::WorkerRegistered,
        P::WorkerChanged => Kind::WorkerChanged,
        P::EnrollmentSubmitted => Kind::EnrollmentSubmitted,
        P::EnrollmentConfirmed => Kind::EnrollmentConfirmed,
        P::EnrollmentRefused => Kind::EnrollmentRefused,
        P::EnrollmentEnded => Kind::EnrollmentEnded,
        P::EnrollmentHandedOver => Kind::EnrollmentHandedOver,
        P::BillIssued => Kind::BillIssued,
        P::PaymentRecorded => Kind::PaymentRecorded,
        P::ArrearsWarning => Kind::ArrearsWarning,
        P::Lapse => Kind::Lapse,
        P::DeathReported => Kind::DeathReported,
        P::ClaimFiled => Kind::ClaimFiled,
        P::ClaimAssessed => Kind::ClaimAssessed,
        P::ClaimDecided => Kind::ClaimDecided,
        P::ClaimPaid => Kind::ClaimPaid,
    })
}

pub fn kind_to_proto(kind: Kind) -> pb::EventKind {
    use pb::EventKind as P;
    match kind {
        Kind::WorkerRegistered => P::WorkerRegistered,
        Kind::WorkerChanged => P::WorkerChanged,
        Kind::EnrollmentSubmitted => P::EnrollmentSubmitted,
        Kind::EnrollmentConfirmed => P::EnrollmentConfirmed,
        Kind::EnrollmentRefused => P::EnrollmentRefused,
        Kind::EnrollmentEnded => P::EnrollmentEnded,
        Kind::EnrollmentHandedOver => P::EnrollmentHandedOver,
        Kind::BillIssued => P::BillIssued,
        Kind::PaymentRecorded => P::PaymentRecorded,
        Kind::ArrearsWarning => P::ArrearsWarning,
        Kind::Lapse => P::Lapse,
        Kind::DeathReported => P::DeathReported,
        Kind::ClaimFiled => P::ClaimFiled,
        Kind::ClaimAssessed => P::ClaimAssessed,
        Kind::ClaimDecided => P::ClaimDecided,
        Kind::ClaimPaid => P::ClaimPaid,
    }
}

pub fn event_to_proto(event: &Event) -> pb::SubscribeResponse {
    let id = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let event = pb::FeedEvent {
        position: event.position,
        kind: kind_to_proto(event.kind) as i32,
        occurred_at: Some(timestamp(event.occurred_at)),
        subsidy_id: id(event.subsidy_id),
        enrollment_id: id(event.enrollment_id),
        bill_id: id(event.bill_id),
        payment_id: id(event.payment_id),
        claim_id: id(event.claim_id),
        month: event.month.map(|m| m.to_string()).unwrap_or_default(),
        worker_nik: event.worker_nik.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default(),
        date: event.calendar_date.map(|d| d.to_string()).unwrap_or_default(),
    };
    pb::SubscribeResponse { message: Some(pb::subscribe_response::Message::Event(event)) }
}

pub fn heartbeat(head: u64) -> pb::SubscribeResponse {
    pb::SubscribeResponse { message: Some(pb::subscribe_response::Message::Heartbeat(pb::Heartbeat { head })) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_goes_to_the_wire_and_back() {
        for kind in Kind::ALL {
            assert_eq!(kinds(&[kind_to_proto(kind) as i32]).unwrap(), vec![kind]);
        }
    }

    #[test]
    fn unknown_kinds_are_named_by_their_index() {
        let Err(Error::InvalidArgument(violations)) = kinds(&[1, 0, 99]) else { panic!("accepted") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["kinds[1]", "kinds[2]"]);
    }
}
