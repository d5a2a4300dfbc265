//! `lindung.v1` claim messages <-> claim domain values: parsing with a field violation at the exact path of every
//! bad field, and the claim, its breakdown and the enums on the wire.

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    AccidentNotice, Assessment, Decision, Document, Event, Filing, Heir, HeirsError, Notice, NoticeRef, Particulars,
    Payment, Relationship, Status, View, Who, check_heirs, check_notice_day, service::ListQuery,
};
use crate::{
    agency::AgencyKind,
    benefit::{self, Claimed},
    clock,
    error::{Error, FieldViolation},
    idempotency::parse_request_id,
    money::Rupiah,
    nik::Nik,
    participant::ParticipantNumber,
    proto::convert::{rupiah, timestamp},
    proto::v1 as pb,
    validate::{collect, nest, parse_id, printable},
    worker::Phone,
};

// pb -> domain

/// The event of a filing or an estimate, which both require one; its violations nested under `event`.
fn required_event(
    violations: &mut Vec<FieldViolation>,
    event: Option<&pb::Event>,
) -> Option<(Event, NaiveDate, Claimed)> {
    match event {
        Some(event) => collect(violations, parse_event(event).map_err(|e| nest(e, "event"))),
        None => {
            violations.push(FieldViolation::new("event", crate::msg!(REQUIRED)));
            None
        }
    }
}

/// A FileClaim request, every bad field named.
pub fn filing(request: &pb::FileClaimRequest) -> Result<Filing, Error> {
    let mut violations = Vec::new();
    let request_id = collect(&mut violations, parse_request_id(&request.request_id, "request_id"));
    let who = collect(&mut violations, identifier(&request.worker_nik, &request.participant_number));
    let event = required_event(&mut violations, request.event.as_ref());
    let documents = collect(&mut violations, documents(&request.documents)).unwrap_or_default();
    let heirs = collect(&mut violations, parse_heirs(&request.heirs)).unwrap_or_default();
    let relationships: Vec<Relationship> = heirs.iter().map(|h| h.relationship).collect();
    // From the request itself, so that the heirs are checked even when the event has other faults.
    let kind = request.event.as_ref().and_then(|e| event_kind(e.kind));
    if kind.is_some_and(Event::is_death) {
        match check_heirs(&relationships) {
            Ok(()) => {}
            Err(e @ HeirsError::Missing) => {
                violations.push(FieldViolation::new("heirs", e.message()));
            }
            Err(ref e @ HeirsError::OutOfOrder { ref positions, .. }) => {
                for i in positions {
                    violations.push(FieldViolation::new(format!("heirs[{i}].relationship"), e.message()));
                }
            }
        }
    } else if !request.heirs.is_empty() {
        violations.push(FieldViolation::new("heirs", crate::msg!(NOT_FOR_EVENT)));
    }
    let notice = if !request.notice_id.is_empty() {
        collect(&mut violations, parse_id(&request.notice_id, "notice_id")).map(NoticeRef::Existing)
    } else if let Some(notice) = &request.notice {
        collect(&mut violations, parse_notice(notice, "notice")).map(|n| NoticeRef::New(Some(n)))
    } else if kind.is_some_and(Event::is_jkk) {
        violations.push(FieldViolation::new("notice", crate::msg!(REQUIRED_NOTICE_ACCIDENT)));
        None
    } else {
        Some(NoticeRef::New(None))
    };
    if let (Some(NoticeRef::New(Some(notice))), Some((_, date, _))) = (&notice, &event)
        && let Err(v) = check_notice_day(notice.occurred_at, *date, "notice.occurred_at")
    {
        violations.push(v);
    }
    let certificate = request.death_certificate_number.trim();
    let death_certificate = if certificate.is_empty() {
        None
    } else if !printable(certificate, 100) {
        violations.push(FieldViolation::new("death_certificate_number", crate::msg!(CERTIFICATE_FORMAT)));
        None
    } else {
        Some(certificate.to_owned())
    };
    match (request_id, who, event, notice) {
        (Some(request_id), Some(who), Some((event, date, claimed)), Some(notice)) if violations.is_empty() => {
            Ok(Filing {
                request_id,
                who,
                event,
                date,
                particulars: Particulars::of(heirs, &claimed),
                documents,
                notice,
                death_certificate,
            })
        }
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// A FileAccidentNotice request.
pub fn accident_notice(request: &pb::FileAccidentNoticeRequest) -> Result<AccidentNotice, Error> {
    let mut violations = Vec::new();
    let request_id = collect(&mut violations, parse_request_id(&request.request_id, "request_id"));
    let who = collect(&mut violations, identifier(&request.worker_nik, &request.participant_number));
    let date = collect(&mut violations, parse_date(&request.accident_date, "accident_date"));
    let notice = match &request.notice {
        Some(notice) => collect(&mut violations, parse_notice(notice, "notice")),
        None => {
            violations.push(FieldViolation::new("notice", crate::msg!(REQUIRED_NOTICE)));
            None
        }
    };
    if let (Some(date), Some(notice)) = (date, &notice)
        && let Err(v) = check_notice_day(notice.occurred_at, date, "notice.occurred_at")
    {
        violations.push(v);
    }
    match (request_id, who, date, notice) {
        (Some(request_id), Some(who), Some(date), Some(notice)) if violations.is_empty() => {
            Ok(AccidentNotice { request_id, who, date, notice })
        }
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// A DecideClaim request: the claim and the decision.
pub fn decision(request: &pb::DecideClaimRequest) -> Result<(Uuid, Decision), Error> {
    let id = parse_id(&request.claim_id, "claim_id")?;
    let decision =
        Decision::parse(request.approve, &request.rejection_reason).map_err(|v| Error::InvalidArgument(vec![v]))?;
    Ok((id, decision))
}

/// A PayClaim request: the claim and its payment.
pub fn payment(request: &pb::PayClaimRequest) -> Result<(Uuid, Payment), Error> {
    let mut violations = Vec::new();
    let id = collect(&mut violations, parse_id(&request.claim_id, "claim_id"));
    let reference = collect(&mut violations, parse_request_id(&request.reference, "reference"));
    let paid_on = collect(&mut violations, parse_date(&request.paid_on, "paid_on"));
    match (id, reference, paid_on) {
        (Some(id), Some(reference), Some(paid_on)) => Ok((id, Payment { reference, paid_on })),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// The filters of a ListClaims request.
pub fn list_query(request: &pb::ListClaimsRequest) -> Result<ListQuery, Error> {
    let mut violations = Vec::new();
    let status = match pb::ClaimStatus::try_from(request.status) {
        Ok(pb::ClaimStatus::Unspecified) => None,
        Ok(status) => Some(status_from_proto(status)),
        Err(_) => {
            violations.push(FieldViolation::new("status", crate::msg!(ENUM_UNKNOWN_CLAIM_STATUS)));
            None
        }
    };
    let worker_nik = if request.worker_nik.is_empty() {
        None
    } else {
        Nik::parse(&request.worker_nik)
            .map_err(|e| violations.push(FieldViolation::new("worker_nik", e.message())))
            .ok()
    };
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    Ok(ListQuery { status, worker_nik, overdue_only: request.overdue_only })
}

/// An EstimateBenefit request: the worker, the date and what is claimed.
pub fn estimate(request: &pb::EstimateBenefitRequest) -> Result<(Who, NaiveDate, Claimed), Error> {
    let mut violations = Vec::new();
    let who = collect(&mut violations, identifier(&request.worker_nik, &request.participant_number));
    let event = required_event(&mut violations, request.event.as_ref());
    match (who, event) {
        (Some(who), Some((_, date, claimed))) => Ok((who, date, claimed)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// The documents of a request, deduplicated in checklist order.
pub fn documents(documents: &[i32]) -> Result<Vec<Document>, Error> {
    let mut violations = Vec::new();
    let mut parsed = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        match pb::ClaimDocument::try_from(*document).ok().and_then(document_from_proto) {
            Some(d) => parsed.push(d),
            None => violations
                .push(FieldViolation::new(format!("documents[{i}]"), crate::msg!(ENUM_UNKNOWN_CLAIM_DOCUMENT))),
        }
    }
    parsed.sort();
    parsed.dedup();
    if violations.is_empty() { Ok(parsed) } else { Err(Error::InvalidArgument(violations)) }
}

fn identifier(nik: &str, number: &str) -> Result<Who, Error> {
    match (nik.is_empty(), number.is_empty()) {
        (false, true) => Nik::parse(nik).map(Who::Nik).map_err(|e| Error::invalid("worker_nik", e.message())),
        (true, false) => ParticipantNumber::parse(number)
            .map(Who::Number)
            .map_err(|e| Error::invalid("participant_number", e.message())),
        _ => Err(Error::invalid("worker_nik", crate::msg!(IDENTIFIER_REQUIRED_CLAIM))),
    }
}

/// A date that must have happened already (an event, a birth, a payment).
fn parse_date(value: &str, field: &str) -> Result<NaiveDate, Error> {
    crate::date::not_after(field, value, clock::today()).map_err(|v| Error::InvalidArgument(vec![v]))
}

/// An accident notice (R3.7), its fields under `prefix`.
fn parse_notice(notice: &pb::AccidentNotice, prefix: &str) -> Result<Notice, Error> {
    let mut violations = Vec::new();
    let mut text = |value: &str, field: &str| {
        let value = value.trim();
        if !printable(value, 200) {
            violations.push(FieldViolation::new(format!("{prefix}.{field}"), crate::msg!(TEXT_FORMAT_NOTICE)));
        }
        value.to_owned()
    };
    let place = text(&notice.place, "place");
    let cause = text(&notice.cause, "cause");
    let notifier_name = text(&notice.notifier_name, "notifier_name");
    let phone = Phone::parse(&notice.notifier_phone)
        .map_err(|e| violations.push(FieldViolation::new(format!("{prefix}.notifier_phone"), e.message())))
        .ok();
    let occurred_at = match &notice.occurred_at {
        Some(ts) => match Utc.timestamp_opt(ts.seconds, ts.nanos.max(0) as u32).single() {
            Some(at) if at <= clock::now() => Some(at),
            _ => {
                violations.push(FieldViolation::new(format!("{prefix}.occurred_at"), crate::msg!(TIME_INVALID)));
                None
            }
        },
        None => {
            violations.push(FieldViolation::new(format!("{prefix}.occurred_at"), crate::msg!(REQUIRED_NOTICE)));
            None
        }
    };
    match (phone, occurred_at) {
        (Some(phone), Some(occurred_at)) if violations.is_empty() => {
            Ok(Notice { place, cause, occurred_at, notifier_name, notifier_phone: phone.as_str().to_owned() })
        }
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// An `Event`: its kind, date and what it claims; field paths relative to the event.
fn parse_event(event: &pb::Event) -> Result<(Event, NaiveDate, Claimed), Error> {
    let mut violations = Vec::new();
    let kind = event_kind(event.kind);
    if kind.is_none() {
        violations.push(FieldViolation::new("kind", crate::msg!(REQUIRED_EVENT_KIND)));
    }
    let date = collect(&mut violations, parse_date(&event.date, "date"));
    if kind == Some(Event::Accident) && event.accident_costs.is_none() {
        violations.push(FieldViolation::new("accident_costs", crate::msg!(REQUIRED_ACCIDENT_COSTS)));
    }
    let claimed = kind.and_then(|kind| match claimed(kind, &event.children, event.accident_costs.as_ref()) {
        Ok(claimed) => Some(claimed),
        Err(v) => {
            violations.extend(v);
            None
        }
    });
    match (kind, date, claimed) {
        (Some(kind), Some(date), Some(claimed)) if violations.is_empty() => Ok((kind, date, claimed)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

fn event_kind(kind: i32) -> Option<Event> {
    match pb::ClaimEvent::try_from(kind) {
        Ok(pb::ClaimEvent::Death) => Some(Event::Death),
        Ok(pb::ClaimEvent::Accident) => Some(Event::Accident),
        Ok(pb::ClaimEvent::AccidentDeath) => Some(Event::AccidentDeath),
        _ => None,
    }
}

/// What the calculator is asked: the children of a death, the costs of an accident.
fn claimed(
    event: Event,
    children: &[pb::Child],
    costs: Option<&pb::AccidentCosts>,
) -> Result<Claimed, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut parsed = Vec::new();
    for (i, child) in children.iter().enumerate() {
        let birth_date = collect(&mut violations, parse_date(&child.birth_date, &format!("children[{i}].birth_date")));
        let level = pb::EducationLevel::try_from(child.level).ok().and_then(level_from_proto);
        if level.is_none() {
            violations.push(FieldViolation::new(format!("children[{i}].level"), crate::msg!(REQUIRED_EDUCATION_LEVEL)));
        }
        if let (Some(birth_date), Some(level)) = (birth_date, level) {
            parsed.push(benefit::Child { birth_date, level });
        }
    }
    let claimed = match event {
        Event::Death => Claimed::Death { children: parsed },
        Event::AccidentDeath => Claimed::AccidentDeath { children: parsed },
        Event::Accident => {
            if !children.is_empty() {
                violations.push(FieldViolation::new("children", crate::msg!(NOT_FOR_EVENT)));
            }
            let costs = costs.cloned().unwrap_or_default();
            Claimed::Accident(collect(&mut violations, accident_claim(&costs)).unwrap_or_default())
        }
    };
    if violations.is_empty() { Ok(claimed) } else { Err(violations) }
}

fn accident_claim(costs: &pb::AccidentCosts) -> Result<benefit::AccidentClaim, Error> {
    let mut violations = Vec::new();
    let amount = |violations: &mut Vec<FieldViolation>, value: &Option<pb::Rupiah>, field: String| match value {
        None => Rupiah::ZERO,
        Some(r) => Rupiah::parse(&r.amount)
            .map_err(|e| violations.push(FieldViolation::new(format!("accident_costs.{field}"), e.message())))
            .unwrap_or_default(),
    };
    let medical = amount(&mut violations, &costs.medical, "medical".to_owned());
    let home_care = costs.home_care.as_ref().map(|_| amount(&mut violations, &costs.home_care, "home_care".to_owned()));
    let mut transport = Vec::new();
    for (i, cost) in costs.transport.iter().enumerate() {
        let value = amount(&mut violations, &cost.amount, format!("transport[{i}].amount"));
        match pb::Transport::try_from(cost.mode).ok().and_then(transport_from_proto) {
            Some(mode) => transport.push((mode, value)),
            None => violations.push(FieldViolation::new(
                format!("accident_costs.transport[{i}].mode"),
                crate::msg!(REQUIRED_TRANSPORT),
            )),
        }
    }
    let inability = match (costs.unable_from.is_empty(), costs.unable_to.is_empty()) {
        (true, true) => None,
        _ => {
            let from = collect(&mut violations, parse_date(&costs.unable_from, "accident_costs.unable_from"));
            let to = collect(&mut violations, parse_date(&costs.unable_to, "accident_costs.unable_to"));
            match (from, to) {
                (Some(from), Some(to)) => match super::check_inability_period(from, to) {
                    Ok(()) => Some((from, to)),
                    Err(violation) => {
                        violations.push(violation);
                        None
                    }
                },
                _ => None,
            }
        }
    };
    let disability = match (costs.total_disability, costs.partial_disability_percent.trim()) {
        (false, "") => None,
        (true, "") => Some(benefit::Disability::Total),
        (true, _) => {
            violations.push(FieldViolation::new("accident_costs.partial_disability_percent", crate::msg!(EXCLUSIVE)));
            None
        }
        (false, percent) => match percent.parse::<Decimal>() {
            Ok(p) if p > Decimal::ZERO && p < Decimal::from(100) && p.scale() <= 2 => {
                Some(benefit::Disability::Partial { percent: p })
            }
            _ => {
                violations
                    .push(FieldViolation::new("accident_costs.partial_disability_percent", crate::msg!(PERCENT_RANGE)));
                None
            }
        },
    };
    if violations.is_empty() {
        Ok(benefit::AccidentClaim {
            medical,
            home_care,
            home_care_days: costs.home_care_days,
            transport,
            inability,
            disability,
        })
    } else {
        Err(Error::InvalidArgument(violations))
    }
}

fn parse_heirs(heirs: &[pb::Heir]) -> Result<Vec<Heir>, Error> {
    let mut violations = Vec::new();
    let mut parsed = Vec::new();
    for (i, heir) in heirs.iter().enumerate() {
        let name = heir.full_name.trim();
        if !printable(name, 150) {
            violations.push(FieldViolation::new(format!("heirs[{i}].full_name"), crate::msg!(TEXT_FORMAT_NAME)));
        }
        let nik = match heir.nik.as_str() {
            "" => None,
            nik => Nik::parse(nik)
                .map_err(|e| violations.push(FieldViolation::new(format!("heirs[{i}].nik"), e.message())))
                .ok(),
        };
        let account_ok = |s: &str| printable(s, 100);
        if !account_ok(&heir.bank_name) || !account_ok(&heir.bank_account) {
            violations
                .push(FieldViolation::new(format!("heirs[{i}].bank_account"), crate::msg!(BANK_ACCOUNT_REQUIRED)));
        }
        let relationship = pb::Relationship::try_from(heir.relationship).ok().and_then(relationship_from_proto);
        match relationship {
            Some(relationship) => parsed.push(Heir {
                full_name: name.to_owned(),
                nik,
                relationship,
                bank_name: heir.bank_name.trim().to_owned(),
                bank_account: heir.bank_account.trim().to_owned(),
            }),
            None => violations
                .push(FieldViolation::new(format!("heirs[{i}].relationship"), crate::msg!(REQUIRED_RELATIONSHIP))),
        }
    }
    if violations.is_empty() { Ok(parsed) } else { Err(Error::InvalidArgument(violations)) }
}

// domain -> pb

/// A claim as its viewer may see it.
pub fn claim(view: View) -> pb::Claim {
    let View { claim, missing_documents, overdue } = view;
    let kind = match claim.funder_kind {
        Some(AgencyKind::City) => pb::AgencyKind::City,
        Some(AgencyKind::Province) => pb::AgencyKind::Province,
        Some(AgencyKind::Insurer) => pb::AgencyKind::Insurer,
        None => pb::AgencyKind::Unspecified,
    };
    let Particulars { heirs, children, accident_costs } = claim.particulars;
    pb::Claim {
        id: claim.id.to_string(),
        worker_nik: claim.worker_nik.as_str().to_owned(),
        status: status_to_proto(claim.status) as i32,
        event: event_to_proto(claim.event) as i32,
        event_date: claim.event_date.to_string(),
        subsidy_id: claim.subsidy_id.map(|s| s.to_string()).unwrap_or_default(),
        funder_kind: kind as i32,
        breakdown: claim.assessment.as_ref().map(breakdown),
        documents: claim.documents.iter().map(|d| document_to_proto(*d) as i32).collect(),
        missing_documents: missing_documents.iter().map(|d| document_to_proto(*d) as i32).collect(),
        complete_time: claim.complete_at.map(timestamp),
        overdue,
        rejection_reason: claim.rejection_reason.unwrap_or_default(),
        payment_reference: claim.payment.as_ref().map(|p| p.reference.clone()).unwrap_or_default(),
        paid_on: claim.payment.as_ref().map(|p| p.paid_on.to_string()).unwrap_or_default(),
        heirs: heirs.into_iter().map(heir_to_proto).collect(),
        children: children.iter().map(child_to_proto).collect(),
        notice: claim.notice.map(|n| pb::AccidentNotice {
            place: n.place,
            cause: n.cause,
            occurred_at: Some(timestamp(n.occurred_at)),
            notifier_name: n.notifier_name,
            notifier_phone: n.notifier_phone,
        }),
        accident_costs: accident_costs.as_ref().map(costs_to_proto),
        request_id: claim.request_id,
        create_time: Some(timestamp(claim.created_at)),
        update_time: Some(timestamp(claim.updated_at)),
    }
}

pub fn breakdown(assessment: &Assessment) -> pb::Breakdown {
    pb::Breakdown {
        lines: assessment
            .lines
            .iter()
            .map(|line| pb::BenefitLine {
                rule: line.rule.clone(),
                item: line.item.clone(),
                amount: Some(rupiah(line.amount)),
                explanation: line.explanation.clone(),
            })
            .collect(),
        total: Some(rupiah(assessment.total)),
        contribution_months: assessment.contribution_months,
        scholarships: assessment
            .scholarships
            .iter()
            .map(|schedule| pb::ScholarshipSchedule {
                child: u32::try_from(schedule.child).unwrap_or(u32::MAX),
                years: schedule
                    .years
                    .iter()
                    .map(|year| pb::ScholarshipYear {
                        from: year.from.to_string(),
                        age: year.age,
                        level: level_to_proto(year.level) as i32,
                        amount: Some(rupiah(year.amount)),
                    })
                    .collect(),
                total: Some(rupiah(schedule.total)),
            })
            .collect(),
    }
}

fn heir_to_proto(heir: Heir) -> pb::Heir {
    pb::Heir {
        full_name: heir.full_name,
        nik: heir.nik.map(|n| n.as_str().to_owned()).unwrap_or_default(),
        relationship: relationship_to_proto(heir.relationship) as i32,
        bank_name: heir.bank_name,
        bank_account: heir.bank_account,
    }
}

fn child_to_proto(child: &benefit::Child) -> pb::Child {
    pb::Child { birth_date: child.birth_date.to_string(), level: level_to_proto(child.level) as i32 }
}

/// The costs as claimed; an absent medical bill was read as zero, and a zero one is answered absent.
fn costs_to_proto(costs: &benefit::AccidentClaim) -> pb::AccidentCosts {
    pb::AccidentCosts {
        medical: (costs.medical != Rupiah::ZERO).then(|| rupiah(costs.medical)),
        home_care: costs.home_care.map(rupiah),
        home_care_days: costs.home_care_days,
        transport: costs
            .transport
            .iter()
            .map(|(mode, amount)| pb::TransportCost {
                mode: transport_to_proto(*mode) as i32,
                amount: Some(rupiah(*amount)),
            })
            .collect(),
        unable_from: costs.inability.map(|(from, _)| from.to_string()).unwrap_or_default(),
        unable_to: costs.inability.map(|(_, to)| to.to_string()).unwrap_or_default(),
        total_disability: costs.disability == Some(benefit::Disability::Total),
        partial_disability_percent: match costs.disability {
            Some(benefit::Disability::Partial { percent }) => percent.to_string(),
            _ => String::new(),
        },
    }
}

// The enums, both ways.

fn status_to_proto(status: Status) -> pb::ClaimStatus {
    match status {
        Status::Notice => pb::ClaimStatus::Notice,
        Status::Filed => pb::ClaimStatus::Filed,
        Status::Assessed => pb::ClaimStatus::Assessed,
        Status::Approved => pb::ClaimStatus::Approved,
        Status::Rejected => pb::ClaimStatus::Rejected,
        Status::Paid => pb::ClaimStatus::Paid,
    }
}

fn status_from_proto(status: pb::ClaimStatus) -> Status {
    match status {
        pb::ClaimStatus::Unspecified | pb::ClaimStatus::Notice => Status::Notice,
        pb::ClaimStatus::Filed => Status::Filed,
        pb::ClaimStatus::Assessed => Status::Assessed,
        pb::ClaimStatus::Approved => Status::Approved,
        pb::ClaimStatus::Rejected => Status::Rejected,
        pb::ClaimStatus::Paid => Status::Paid,
    }
}

fn event_to_proto(event: Event) -> pb::ClaimEvent {
    match event {
        Event::Death => pb::ClaimEvent::Death,
        Event::Accident => pb::ClaimEvent::Accident,
        Event::AccidentDeath => pb::ClaimEvent::AccidentDeath,
    }
}

fn document_to_proto(document: Document) -> pb::ClaimDocument {
    match document {
        Document::ParticipantCard => pb::ClaimDocument::ParticipantCard,
        Document::ParticipantIdCard => pb::ClaimDocument::ParticipantIdCard,
        Document::HeirIdCard => pb::ClaimDocument::HeirIdCard,
        Document::DeathCertificate => pb::ClaimDocument::DeathCertificate,
        Document::FamilyCard => pb::ClaimDocument::FamilyCard,
        Document::HeirCertificate => pb::ClaimDocument::HeirCertificate,
        Document::MarriageBook => pb::ClaimDocument::MarriageBook,
        Document::HeirBankAccount => pb::ClaimDocument::HeirBankAccount,
    }
}

fn document_from_proto(document: pb::ClaimDocument) -> Option<Document> {
    Some(match document {
        pb::ClaimDocument::Unspecified => return None,
        pb::ClaimDocument::ParticipantCard => Document::ParticipantCard,
        pb::ClaimDocument::ParticipantIdCard => Document::ParticipantIdCard,
        pb::ClaimDocument::HeirIdCard => Document::HeirIdCard,
        pb::ClaimDocument::DeathCertificate => Document::DeathCertificate,
        pb::ClaimDocument::FamilyCard => Document::FamilyCard,
        pb::ClaimDocument::HeirCertificate => Document::HeirCertificate,
        pb::ClaimDocument::MarriageBook => Document::MarriageBook,
        pb::ClaimDocument::HeirBankAccount => Document::HeirBankAccount,
    })
}

fn relationship_to_proto(relationship: Relationship) -> pb::Relationship {
    match relationship {
        Relationship::Spouse => pb::Relationship::Spouse,
        Relationship::Child => pb::Relationship::Child,
        Relationship::Parent => pb::Relationship::Parent,
        Relationship::Grandparent => pb::Relationship::Grandparent,
        Relationship::Grandchild => pb::Relationship::Grandchild,
        Relationship::Sibling => pb::Relationship::Sibling,
        Relationship::ParentInLaw => pb::Relationship::ParentInLaw,
        Relationship::WillBeneficiary => pb::Relationship::WillBeneficiary,
    }
}

fn relationship_from_proto(relationship: pb::Relationship) -> Option<Relationship> {
    Some(match relationship {
        pb::Relationship::Unspecified => return None,
        pb::Relationship::Spouse => Relationship::Spouse,
        pb::Relationship::Child => Relationship::Child,
        pb::Relationship::Parent => Relationship::Parent,
        pb::Relationship::Grandparent => Relationship::Grandparent,
        pb::Relationship::Grandchild => Relationship::Grandchild,
        pb::Relationship::Sibling => Relationship::Sibling,
        pb::Relationship::ParentInLaw => Relationship::ParentInLaw,
        pb::Relationship::WillBeneficiary => Relationship::WillBeneficiary,
    })
}

fn level_to_proto(level: benefit::Level) -> pb::EducationLevel {
    match level {
        benefit::Level::PreschoolPrimary => pb::EducationLevel::PreschoolPrimary,
        benefit::Level::JuniorSecondary => pb::EducationLevel::JuniorSecondary,
        benefit::Level::SeniorSecondary => pb::EducationLevel::SeniorSecondary,
        benefit::Level::Higher => pb::EducationLevel::Higher,
    }
}

fn level_from_proto(level: pb::EducationLevel) -> Option<benefit::Level> {
    Some(match level {
        pb::EducationLevel::Unspecified => return None,
        pb::EducationLevel::PreschoolPrimary => benefit::Level::PreschoolPrimary,
        pb::EducationLevel::JuniorSecondary => benefit::Level::JuniorSecondary,
        pb::EducationLevel::SeniorSecondary => benefit::Level::SeniorSecondary,
        pb::EducationLevel::Higher => benefit::Level::Higher,
    })
}

fn transport_to_proto(transport: benefit::Transport) -> pb::Transport {
    match transport {
        benefit::Transport::Land => pb::Transport::Land,
        benefit::Transport::Sea => pb::Transport::Sea,
        benefit::Transport::Air => pb::Transport::Air,
    }
}

fn transport_from_proto(transport: pb::Transport) -> Option<benefit::Transport> {
    Some(match transport {
        pb::Transport::Unspecified => return None,
        pb::Transport::Land => benefit::Transport::Land,
        pb::Transport::Sea => benefit::Transport::Sea,
        pb::Transport::Air => benefit::Transport::Air,
    })
}
