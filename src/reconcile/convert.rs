//! `lindung.v1` reconciliation messages <-> the domain.

use super::{Class, Difference, ListRow, Statement, Summary, service::Answer, service::Start};
use crate::{
    agency::convert::kind_to_proto,
    enrollment::{InsurerRefusal, Status},
    error::{Error, FieldViolation},
    proto::{convert::rupiah, v1 as pb},
    validate::{Checker, parse_id},
};

/// The first message: the subsidies and the month. Anything else first is INVALID_ARGUMENT for the call.
pub fn start(message: Option<pb::ReconcileRequest>) -> Result<Start, Error> {
    let Some(pb::reconcile_request::Item::Start(start)) = message.and_then(|m| m.item) else {
        return Err(Error::invalid("start", crate::msg!(START_FIRST)));
    };
    let mut check = Checker::new();
    check.rule(!start.subsidy_ids.is_empty(), "start.subsidy_ids", || crate::msg!(REQUIRED_SUBSIDIES));
    let mut ids = Vec::new();
    for (i, id) in start.subsidy_ids.iter().enumerate() {
        if let Some(id) = check.collect(parse_id(id, &format!("start.subsidy_ids[{i}]"))) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let month = match start.month.trim() {
        "" => None,
        month => check.month("start.month", month),
    };
    check.finish(|| Some(Start { subsidy_ids: ids, month })).map_err(Error::InvalidArgument)
}

/// A later message, message `index` (from 1) of the stream: a list row. A second `start` (or an empty message) is
/// INVALID_ARGUMENT for the call: it is not a row of the list.
pub fn row(index: u64, message: pb::ReconcileRequest) -> Result<ListRow, Error> {
    match message.item {
        Some(pb::reconcile_request::Item::Row(row)) => {
            Ok(ListRow { nik: row.nik, full_name: row.full_name, first_month: row.first_month })
        }
        _ => Err(Error::invalid(format!("message[{index}]"), crate::msg!(ROW_EXPECTED))),
    }
}

pub fn answer_to_proto(answer: Answer) -> pb::ReconcileResponse {
    let item = match answer {
        Answer::Difference(d) => pb::reconcile_response::Item::Difference(difference_to_proto(*d)),
        Answer::Summary(s) => pb::reconcile_response::Item::Summary(summary_to_proto(s)),
    };
    pb::ReconcileResponse { item: Some(item) }
}

pub fn class_to_proto(class: Class) -> pb::DifferenceClass {
    match class {
        Class::Active => pb::DifferenceClass::Active,
        Class::Pending => pb::DifferenceClass::Pending,
        Class::Refused => pb::DifferenceClass::Refused,
        Class::Ended => pb::DifferenceClass::Ended,
        Class::Lapsed => pb::DifferenceClass::Lapsed,
        Class::Deceased => pb::DifferenceClass::Deceased,
        Class::NotOnList => pb::DifferenceClass::NotOnList,
        Class::FundedByOther => pb::DifferenceClass::FundedByOther,
        Class::NotRegistered => pb::DifferenceClass::NotRegistered,
        Class::NotEnrolled => pb::DifferenceClass::NotEnrolled,
        Class::InvalidRow => pb::DifferenceClass::InvalidRow,
        Class::DuplicateRow => pb::DifferenceClass::DuplicateRow,
    }
}

fn status_to_proto(status: Status) -> pb::EnrollmentStatus {
    match status {
        Status::Pending => pb::EnrollmentStatus::Pending,
        Status::Active => pb::EnrollmentStatus::Active,
        Status::Rejected => pb::EnrollmentStatus::Rejected,
        Status::Ended => pb::EnrollmentStatus::Ended,
    }
}

fn refusal_to_proto(reason: InsurerRefusal) -> pb::InsurerRefusal {
    match reason {
        InsurerRefusal::AlreadyActiveElsewhere => pb::InsurerRefusal::AlreadyActiveElsewhere,
        InsurerRefusal::DeceasedPerCivilRegistry => pb::InsurerRefusal::DeceasedPerCivilRegistry,
        InsurerRefusal::NikNotFound => pb::InsurerRefusal::NikNotFound,
        InsurerRefusal::Age => pb::InsurerRefusal::Age,
        InsurerRefusal::Other => pb::InsurerRefusal::Other,
    }
}

fn violation_to_proto(v: FieldViolation) -> pb::RowViolation {
    pb::RowViolation { field: v.field, reason: v.reason.to_owned(), description: v.description }
}

pub fn difference_to_proto(d: Difference) -> pb::Difference {
    pb::Difference {
        row: d.row,
        class: class_to_proto(d.class) as i32,
        nik: d.nik,
        enrollment_id: d.enrollment_id.map(|id| id.to_string()).unwrap_or_default(),
        subsidy_id: d.subsidy_id.map(|id| id.to_string()).unwrap_or_default(),
        enrollment_status: d.enrollment_status.map_or(pb::EnrollmentStatus::Unspecified, status_to_proto) as i32,
        enrollment_first_month: d.enrollment_first_month.map(|m| m.to_string()).unwrap_or_default(),
        rejection_reason: d.rejection_reason.map_or(pb::InsurerRefusal::Unspecified, refusal_to_proto) as i32,
        other_funder_kind: d.other_funder.map_or(pb::AgencyKind::Unspecified, kind_to_proto) as i32,
        name_mismatch: d.name_mismatch,
        first_month_mismatch: d.first_month_mismatch,
        first_row: d.first_row.unwrap_or_default(),
        violations: d.violations.into_iter().map(violation_to_proto).collect(),
        not_covered_reason: d.not_covered.map(|r| r.code().to_owned()).unwrap_or_default(),
    }
}

pub fn summary_to_proto(s: Summary) -> pb::ReconcileSummary {
    pb::ReconcileSummary {
        month: s.month.map(|m| m.to_string()).unwrap_or_default(),
        rows: s.rows,
        counts: Class::ALL
            .iter()
            .map(|c| pb::ClassCount { class: class_to_proto(*c) as i32, count: s.counts.get(c).copied().unwrap_or(0) })
            .collect(),
        name_mismatches: s.name_mismatches,
        first_month_mismatches: s.first_month_mismatches,
    }
}

pub fn statement_request(request: &pb::GetMonthlyStatementRequest) -> Result<(uuid::Uuid, crate::month::Month), Error> {
    let mut check = Checker::new();
    let id = check.collect(parse_id(&request.subsidy_id, "subsidy_id"));
    let month = check.required_month("month", &request.month);
    check.finish(|| Some((id?, month?))).map_err(Error::InvalidArgument)
}

pub fn statement_to_proto(s: Statement) -> pb::GetMonthlyStatementResponse {
    let csv = s.to_csv();
    let statement = pb::MonthlyStatement {
        subsidy_id: s.subsidy_id.to_string(),
        subsidy_name: s.subsidy_name,
        month: s.month.to_string(),
        active_participants: s.active,
        pending: s.pending,
        bill_issued: s.bill_issued,
        billed_workers: s.billed_workers,
        billed: Some(rupiah(s.billed)),
        paid: Some(rupiah(s.paid)),
        outstanding: Some(rupiah(s.outstanding)),
        written_off: Some(rupiah(s.written_off)),
        paid_through: s.paid_through.map(|m| m.to_string()).unwrap_or_default(),
        arrears_warning: s.arrears_warning,
        unpaid_months: s.unpaid_months.iter().map(ToString::to_string).collect(),
        nearing_lapse: s.nearing_lapse,
        lapsed: s.lapsed,
        deaths: s.deaths,
        claims: s.claims,
        claims_paid: s.claims_paid,
        claims_paid_amount: Some(rupiah(s.claims_paid_amount)),
    };
    pb::GetMonthlyStatementResponse { statement: Some(statement), csv }
}
