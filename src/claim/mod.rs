//! Claims: deaths and work accidents from notice or filing to payment (R2, R3).
//!
//! The pure rules around a claim live here: its life cycle ([`Status::can_become`], [`Status::permits`]), who may
//! be named an heir (R2.5), the document checklist and the payment deadline (R2.6), the five-year limit on JKK
//! claims (R3.8), what a funder may see of a claim (R6.3), and the words of every refusal ([`refuse`]). What is due
//! is [`benefit::assess`].

pub mod convert;
pub mod grpc;
mod sealed;
pub mod service;
pub mod store;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc, Weekday};
use uuid::Uuid;

use crate::{
    agency::AgencyKind,
    benefit::{self, Claimed},
    clock::wib_date,
    error::{Error, FieldViolation, Refusal},
    money::Rupiah,
    nik::Nik,
    participant::ParticipantNumber,
};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Death not caused by work: JKM.
    Death,
    /// A work accident the worker survived: JKK.
    Accident,
    /// Death from a work accident: JKK.
    AccidentDeath,
}

impl Event {
    pub fn code(self) -> &'static str {
        match self {
            Event::Death => "death",
            Event::Accident => "accident",
            Event::AccidentDeath => "accident_death",
        }
    }

    pub fn from_code(code: &str) -> Option<Event> {
        [Event::Death, Event::Accident, Event::AccidentDeath].into_iter().find(|e| e.code() == code)
    }

    pub fn is_death(self) -> bool {
        matches!(self, Event::Death | Event::AccidentDeath)
    }

    /// JKK pays work accidents, JKM other deaths.
    pub fn is_jkk(self) -> bool {
        matches!(self, Event::Accident | Event::AccidentDeath)
    }
}

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Notice,
    Filed,
    Assessed,
    Approved,
    Rejected,
    Paid,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Notice, Status::Filed, Status::Assessed, Status::Approved, Status::Rejected, Status::Paid];

    pub fn code(self) -> &'static str {
        match self {
            Status::Notice => "notice",
            Status::Filed => "filed",
            Status::Assessed => "assessed",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Paid => "paid",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The life cycle: NOTICE -> FILED -> ASSESSED (again, when assessed anew) -> APPROVED -> PAID, and REJECTED
    /// from any status before PAID. REJECTED and PAID are final.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Notice, Filed)
                | (Filed, Assessed)
                | (Assessed, Assessed | Approved)
                | (Approved, Paid)
                | (Notice | Filed | Assessed | Approved, Rejected)
        )
    }

    /// Whether the claim is still open: neither paid nor rejected.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Paid | Status::Rejected)
    }

    /// Whether `action` may be taken on a claim in this status.
    pub fn allows(self, action: Action) -> bool {
        match action.target() {
            Some(next) => self.can_become(next),
            None => self.is_open(),
        }
    }

    /// `action` on a claim in this status, or the refusal that names both (R2.6 `CLAIM_STATUS`).
    pub fn permits(self, action: Action) -> Result<(), Refusal> {
        if self.allows(action) { Ok(()) } else { Err(refuse::status(self, action)) }
    }
}

/// What can be done to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The insurer completes a funder's notice (NOTICE -> FILED).
    FileNotice,
    /// Further documents of the checklist, while the claim is open; no change of status.
    AddDocuments,
    Assess,
    Approve,
    Reject,
    Pay,
}

impl Action {
    pub const ALL: [Action; 6] =
        [Action::FileNotice, Action::AddDocuments, Action::Assess, Action::Approve, Action::Reject, Action::Pay];

    /// The status the action moves a claim to; None for an action that keeps the status.
    pub fn target(self) -> Option<Status> {
        match self {
            Action::FileNotice => Some(Status::Filed),
            Action::AddDocuments => None,
            Action::Assess => Some(Status::Assessed),
            Action::Approve => Some(Status::Approved),
            Action::Reject => Some(Status::Rejected),
            Action::Pay => Some(Status::Paid),
        }
    }

    /// The action as the refusal words it: "cannot {verb} a claim that is FILED".
    pub fn verb(self) -> &'static str {
        match self {
            Action::FileNotice => "file from the notice of",
            Action::AddDocuments => "add documents to",
            Action::Assess => "assess",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Pay => "pay",
        }
    }
}

/// An heir's relationship to the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    Spouse,
    Child,
    Parent,
    Grandparent,
    Grandchild,
    Sibling,
    ParentInLaw,
    WillBeneficiary,
}

impl Relationship {
    /// The heir's group in the order of R2.5, from 1: a later group inherits only when no earlier one exists.
    pub fn group(self) -> u8 {
        match self {
            Relationship::Spouse | Relationship::Child => 1,
            Relationship::Parent | Relationship::Grandparent | Relationship::Grandchild => 2,
            Relationship::Sibling => 3,
            Relationship::ParentInLaw => 4,
            Relationship::WillBeneficiary => 5,
        }
    }
}

/// Why the heirs of a death claim are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeirsError {
    #[error("a death claim names at least one heir (R2.5)")]
    Missing,
    /// The positions of heirs of a later group named beside an earlier group.
    #[error(
        "heirs {positions:?} are of group {group}, but an heir of group {first} is named: R2.5 passes to a later group only when no earlier one exists"
    )]
    OutOfOrder { positions: Vec<usize>, group: u8, first: u8 },
}

impl HeirsError {
    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        match self {
            HeirsError::Missing => crate::msg!(HEIRS_REQUIRED),
            HeirsError::OutOfOrder { positions, group, first } => crate::msg!(
                HEIR_ORDER,
                positions = format!("{positions:?}"),
                group = u32::from(*group),
                first = u32::from(*first)
            ),
        }
    }
}

/// R2.5: the heirs are all of the first group present.
pub fn check_heirs(heirs: &[Relationship]) -> Result<(), HeirsError> {
    let first = heirs.iter().map(|r| r.group()).min().ok_or(HeirsError::Missing)?;
    let later: Vec<usize> = heirs.iter().enumerate().filter(|(_, r)| r.group() > first).map(|(i, _)| i).collect();
    match later.first() {
        None => Ok(()),
        Some(&i) => Err(HeirsError::OutOfOrder { group: heirs[i].group(), positions: later, first }),
    }
}

/// An item of the R2.6 checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Document {
    ParticipantCard,
    ParticipantIdCard,
    HeirIdCard,
    DeathCertificate,
    FamilyCard,
    HeirCertificate,
    MarriageBook,
    HeirBankAccount,
}

impl Document {
    pub const ALL: [Document; 8] = [
        Document::ParticipantCard,
        Document::ParticipantIdCard,
        Document::HeirIdCard,
        Document::DeathCertificate,
        Document::FamilyCard,
        Document::HeirCertificate,
        Document::MarriageBook,
        Document::HeirBankAccount,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Document::ParticipantCard => "participant_card",
            Document::ParticipantIdCard => "participant_id_card",
            Document::HeirIdCard => "heir_id_card",
            Document::DeathCertificate => "death_certificate",
            Document::FamilyCard => "family_card",
            Document::HeirCertificate => "heir_certificate",
            Document::MarriageBook => "marriage_book",
            Document::HeirBankAccount => "heir_bank_account",
        }
    }

    pub fn from_code(code: &str) -> Option<Document> {
        Document::ALL.into_iter().find(|d| d.code() == code)
    }
}

/// The documents a death claim needs (R2.6): the marriage book only when a spouse is an heir. Other claims have no
/// checklist here.
pub fn required_documents(event: Event, spouse_is_heir: bool) -> Vec<Document> {
    if !event.is_death() {
        return Vec::new();
    }
    Document::ALL.into_iter().filter(|d| *d != Document::MarriageBook || spouse_is_heir).collect()
}

/// The required documents not yet present.
pub fn missing_documents(event: Event, spouse_is_heir: bool, present: &[Document]) -> Vec<Document> {
    required_documents(event, spouse_is_heir).into_iter().filter(|d| !present.contains(d)).collect()
}

/// Working days allowed between a complete JKM claim and its payment (R2.6).
pub const PAY_WITHIN_WORKING_DAYS: u32 = 3;

/// The last day a JKM claim complete on `complete` may be paid: 3 working days later, Monday to Friday. Public
/// holidays are not known to lindung, so a deadline over a holiday comes a day early: a claim is flagged sooner,
/// never later.
pub fn payment_deadline(complete: NaiveDate) -> NaiveDate {
    let mut day = complete;
    let mut left = PAY_WITHIN_WORKING_DAYS;
    while left > 0 {
        day = day.succ_opt().expect("dates go on");
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

/// Whether a JKM claim complete on `complete` and unpaid is overdue on `today`.
pub fn overdue(complete: NaiveDate, today: NaiveDate) -> bool {
    today > payment_deadline(complete)
}

/// Years after an accident within which a JKK claim may be made (R3.8).
pub const JKK_CLAIM_YEARS: u32 = 5;

/// Whether the right to claim JKK for an accident on `accident` has lapsed by `today` (R3.8).
pub fn jkk_claim_lapsed(accident: NaiveDate, today: NaiveDate) -> bool {
    let limit = accident.checked_add_months(Months::new(12 * JKK_CLAIM_YEARS)).expect("dates go on");
    today > limit
}

/// A period of inability to work runs forward and lies within the five years in which JKK may be claimed (R3.8),
/// which bounds every amount computed from it.
pub fn check_inability_period(from: NaiveDate, to: NaiveDate) -> Result<(), FieldViolation> {
    if to < from {
        return Err(FieldViolation::new("accident_costs.unable_to", crate::msg!(RANGE_ORDER)));
    }
    if jkk_claim_lapsed(from, to) {
        return Err(FieldViolation::new("accident_costs.unable_to", crate::msg!(PERIOD_TOO_LONG)));
    }
    Ok(())
}

/// The instant before which a complete JKM claim, still unpaid `today`, is overdue: the start (WIB) of the day
/// after the latest completion day whose deadline has passed.
pub fn overdue_before(today: NaiveDate) -> DateTime<Utc> {
    let mut day = today;
    while !overdue(day, today) {
        day = day.pred_opt().expect("dates go back");
    }
    let next = day.succ_opt().expect("dates go on");
    crate::clock::WIB
        .from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("WIB has no gaps")
        .with_timezone(&Utc)
}

/// R3.7: the accident a notice reports happened on the event's day (in WIB); the violation at `field` if not.
pub fn check_notice_day(occurred_at: DateTime<Utc>, date: NaiveDate, field: &str) -> Result<(), FieldViolation> {
    if wib_date(occurred_at) == date {
        Ok(())
    } else {
        Err(FieldViolation::new(field, crate::msg!(DATE_MISMATCH, date = date)))
    }
}

/// The insurer's decision on a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// With the reason code, e.g. `NOT_WORK_RELATED`.
    Reject(String),
}

impl Decision {
    /// The decision asked for: approving takes no reason, rejecting an upper-case code of 1–50 of A-Z, 0-9, `_`.
    pub fn parse(approve: bool, reason: &str) -> Result<Decision, FieldViolation> {
        let reason = reason.trim();
        let code = !reason.is_empty()
            && reason.len() <= 50
            && reason.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        match (approve, reason.is_empty()) {
            (true, true) => Ok(Decision::Approve),
            (true, false) => Err(FieldViolation::new("rejection_reason", crate::msg!(NOT_WITH_APPROVAL))),
            (false, _) if code => Ok(Decision::Reject(reason.to_owned())),
            (false, _) => Err(FieldViolation::new("rejection_reason", crate::msg!(REASON_CODE_FORMAT))),
        }
    }

    pub fn action(&self) -> Action {
        match self {
            Decision::Approve => Action::Approve,
            Decision::Reject(_) => Action::Reject,
        }
    }
}

/// The refusals of claims, each with its rule id, built in one place.
pub mod refuse {
    use chrono::NaiveDate;

    use super::{Action, Status};
    use crate::{coverage::NotCovered, error::Refusal};

    /// R3.8: the right to claim JKK for an accident on `date` lapsed.
    pub fn jkk_lapsed(date: NaiveDate) -> Refusal {
        Refusal::new("R3.8", crate::msg!(JKK_CLAIM_LAPSED, date = date))
    }

    /// R2.6: `action` is not possible in `status`.
    pub fn status(status: Status, action: Action) -> Refusal {
        Refusal::new("R2.6", crate::msg!(CLAIM_STATUS, action = action.verb(), status = status.code().to_uppercase()))
    }

    /// R2.6: a claim is paid once; it was paid on `paid_on` under another reference.
    pub fn paid_under_another_reference(paid_on: Option<NaiveDate>) -> Refusal {
        Refusal::new("R2.6", crate::msg!(CLAIM_PAID_UNDER_ANOTHER_REFERENCE, date = paid_on.unwrap_or_default()))
    }

    /// R2.6: a payment raced another and the store refused the second.
    pub fn already_paid() -> Refusal {
        Refusal::new("R2.6", crate::msg!(CLAIM_ALREADY_PAID))
    }

    /// R2: a death benefit is paid once per worker.
    pub fn death_already_claimed() -> Refusal {
        Refusal::new("R2", crate::msg!(DEATH_ALREADY_CLAIMED))
    }

    /// R1.5: no benefit without coverage on the event date; the reason travels as `coverage_reason`.
    pub fn not_covered(reason: NotCovered, date: NaiveDate) -> Refusal {
        let mut refusal = Refusal::new("R1.5", crate::msg!(NOT_COVERED, date = date, reason = reason.code()));
        refusal.details.push(("coverage_reason", reason.code().to_owned()));
        refusal
    }
}

/// How a request names a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Nik(Nik),
    Number(ParticipantNumber),
}

/// An heir of a death claim (R2.5), with the account the benefit is paid to (R2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heir {
    pub full_name: String,
    pub nik: Option<Nik>,
    pub relationship: Relationship,
    pub bank_name: String,
    pub bank_account: String,
}

/// The personal particulars of a claim (R6.3: sealed at rest, shown to the insurer only): the heirs, the children
/// a scholarship may be due to, the costs of an accident.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Particulars {
    pub heirs: Vec<Heir>,
    pub children: Vec<benefit::Child>,
    /// Only for a work accident the worker survived.
    pub accident_costs: Option<benefit::AccidentClaim>,
}

impl Particulars {
    /// The particulars of a filing: its heirs and what it claims.
    pub fn of(heirs: Vec<Heir>, claimed: &Claimed) -> Particulars {
        match claimed {
            Claimed::Death { children } | Claimed::AccidentDeath { children } => {
                Particulars { heirs, children: children.clone(), accident_costs: None }
            }
            Claimed::Accident(costs) => {
                Particulars { heirs, children: Vec::new(), accident_costs: Some(costs.clone()) }
            }
        }
    }

    pub fn spouse_is_heir(&self) -> bool {
        self.heirs.iter().any(|h| h.relationship == Relationship::Spouse)
    }

    /// What the calculator is asked for a claim of `event` with these particulars.
    pub fn claimed(&self, event: Event) -> Claimed {
        match event {
            Event::Death => Claimed::Death { children: self.children.clone() },
            Event::AccidentDeath => Claimed::AccidentDeath { children: self.children.clone() },
            Event::Accident => Claimed::Accident(self.accident_costs.clone().unwrap_or_default()),
        }
    }
}

/// A funder's notice of a work accident (R3.7). Personal data: sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub place: String,
    pub cause: String,
    pub occurred_at: DateTime<Utc>,
    pub notifier_name: String,
    /// E.164; shown to the insurer and to the funder that gave notice only.
    pub notifier_phone: String,
}

/// A validated FileClaim.
#[derive(Debug, Clone)]
pub struct Filing {
    pub request_id: String,
    pub who: Who,
    pub event: Event,
    pub date: NaiveDate,
    pub particulars: Particulars,
    pub documents: Vec<Document>,
    pub notice: NoticeRef,
    pub death_certificate: Option<String>,
}

impl Filing {
    /// Whether the filing brings every document of the checklist (only a death claim has one).
    pub fn complete(&self) -> bool {
        is_complete(self.event, self.particulars.spouse_is_heir(), &self.documents)
    }
}

/// Whether a claim of `event` with `present` documents is complete: only death claims are.
pub fn is_complete(event: Event, spouse_is_heir: bool, present: &[Document]) -> bool {
    event.is_death() && missing_documents(event, spouse_is_heir, present).is_empty()
}

/// Which notice a filing completes.
#[derive(Debug, Clone)]
pub enum NoticeRef {
    /// A funder's notice this filing completes.
    Existing(Uuid),
    /// The notice fields given with the filing (accidents), or none (JKM).
    New(Option<Notice>),
}

/// A validated FileAccidentNotice.
#[derive(Debug, Clone)]
pub struct AccidentNotice {
    pub request_id: String,
    pub who: Who,
    pub date: NaiveDate,
    pub notice: Notice,
}

/// An assessed breakdown as kept with the claim: the calculator's lines frozen as they were answered, so that a
/// later calculator does not rewrite what was assessed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    pub lines: Vec<AssessedLine>,
    pub total: Rupiah,
    /// The contribution period on the event date that the rules were applied to.
    pub contribution_months: u32,
    pub scholarships: Vec<benefit::Schedule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessedLine {
    pub rule: String,
    /// The stable code of the item (`benefit::Item::code`).
    pub item: String,
    pub amount: Rupiah,
    pub explanation: String,
}

impl Assessment {
    pub fn of(breakdown: &benefit::Breakdown, contribution_months: u32) -> Assessment {
        Assessment {
            lines: breakdown
                .lines
                .iter()
                .map(|line| AssessedLine {
                    rule: line.rule.to_owned(),
                    item: line.item.code().to_owned(),
                    amount: line.amount,
                    explanation: line.explanation.clone(),
                })
                .collect(),
            total: breakdown.total(),
            contribution_months,
            scholarships: breakdown.scholarships.clone(),
        }
    }

    /// What a funder sees (R6.3): the amounts and rules, nothing of the children.
    pub fn withheld(mut self) -> Assessment {
        self.scholarships.clear();
        let scholarship = benefit::Item::Scholarship { child: 0 }.code();
        for line in self.lines.iter_mut().filter(|l| l.item == scholarship) {
            line.explanation = "scholarship for a child of the worker (details withheld, R6.3)".to_owned();
        }
        self
    }
}

/// A claim's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub reference: String,
    pub paid_on: NaiveDate,
}

/// A claim as kept, its sealed parts opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: Uuid,
    pub worker_nik: Nik,
    pub status: Status,
    pub event: Event,
    pub event_date: NaiveDate,
    pub subsidy_id: Option<Uuid>,
    /// The funder on the event date (for a notice: the funder that gave it).
    pub funder_id: Option<Uuid>,
    pub funder_kind: Option<AgencyKind>,
    pub notice: Option<Notice>,
    pub particulars: Particulars,
    pub documents: Vec<Document>,
    pub complete_at: Option<DateTime<Utc>>,
    pub assessment: Option<Assessment>,
    pub total: Option<Rupiah>,
    pub rejection_reason: Option<String>,
    pub payment: Option<Payment>,
    pub request_id: String,
    pub filed_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who looks at a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub agency: Uuid,
    pub insurer: bool,
}

/// A claim as one viewer may see it, with what follows from it on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub claim: Claim,
    pub missing_documents: Vec<Document>,
    /// A complete JKM claim still open after its payment deadline (R2.6).
    pub overdue: bool,
}

impl Claim {
    pub fn missing_documents(&self) -> Vec<Document> {
        missing_documents(self.event, self.particulars.spouse_is_heir(), &self.documents)
    }

    /// A complete JKM claim, neither paid nor rejected, past its payment deadline on `today` (R2.6).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.event == Event::Death
            && self.status.is_open()
            && self.complete_at.is_some_and(|at| overdue(wib_date(at), today))
    }

    /// The claim as `viewer` may see it on `today`: heirs, children, medical costs and scholarship schedules for
    /// the insurer only (R6.3); the notifier's phone for the insurer and the funder that gave notice; the request
    /// id for the agency that sent it.
    pub fn seen_by(mut self, viewer: Viewer, today: NaiveDate) -> View {
        let missing_documents = self.missing_documents();
        let overdue = self.is_overdue(today);
        let filed_it = self.filed_by == viewer.agency;
        if !viewer.insurer {
            self.particulars = Particulars::default();
            self.assessment = self.assessment.map(Assessment::withheld);
            if !filed_it && let Some(notice) = &mut self.notice {
                notice.notifier_phone.clear();
            }
        }
        if !filed_it {
            self.request_id.clear();
        }
        View { claim: self, missing_documents, overdue }
    }

    /// A filing of `event` for the worker `nik` that names this claim as its notice: Ok(false) when it completes
    /// the notice, Ok(true) when it repeats the filing that did.
    pub fn completes_notice(&self, nik: &Nik, event: Event) -> Result<bool, Error> {
        if self.worker_nik != *nik || !event.is_jkk() {
            return Err(Error::invalid("notice_id", crate::msg!(NOTICE_MISMATCH)));
        }
        match self.status {
            Status::Filed if self.event == event => Ok(true),
            status => status.permits(Action::FileNotice).map(|()| false).map_err(|r| Error::Refused(vec![r])),
        }
    }

    /// A payment under `reference`: Ok(false) when the claim may be paid, Ok(true) when it repeats the payment
    /// recorded; a claim is paid once (R2.6).
    pub fn pays(&self, reference: &str) -> Result<bool, Refusal> {
        match (&self.status, &self.payment) {
            (Status::Paid, Some(payment)) if payment.reference == reference => Ok(true),
            (Status::Paid, payment) => Err(refuse::paid_under_another_reference(payment.as_ref().map(|p| p.paid_on))),
            (status, _) => status.permits(Action::Pay).map(|()| false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Relationship::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_period_of_inability_runs_forward_within_the_five_years_of_r3_8() {
        let check = |from: &str, to: &str, expected: Result<(), &str>| {
            assert_eq!(check_inability_period(d(from), d(to)).map_err(|v| v.reason), expected, "{from}..{to}");
        };
        check("2025-09-10", "2025-09-10", Ok(()));
        check("2025-09-10", "2030-09-10", Ok(()));
        check("2025-09-10", "2030-09-11", Err("PERIOD_TOO_LONG"));
        check("2025-09-10", "2025-09-09", Err("RANGE_ORDER"));
    }

    #[test]
    fn heirs_follow_the_order_of_r2_5() {
        let check = |heirs: &[Relationship], expected: Result<(), HeirsError>| {
            assert_eq!(check_heirs(heirs), expected, "{heirs:?}");
        };
        check(&[], Err(HeirsError::Missing));
        check(&[Spouse], Ok(()));
        check(&[Spouse, Child, Child], Ok(()));
        check(&[Child], Ok(()));
        check(&[Parent, Grandparent], Ok(()));
        check(&[Sibling, Sibling], Ok(()));
        check(&[ParentInLaw], Ok(()));
        check(&[WillBeneficiary], Ok(()));
        check(&[Spouse, Parent], Err(HeirsError::OutOfOrder { positions: vec![1], group: 2, first: 1 }));
        check(&[Sibling, Child, Parent], Err(HeirsError::OutOfOrder { positions: vec![0, 2], group: 3, first: 1 }));
        check(&[Grandchild, ParentInLaw], Err(HeirsError::OutOfOrder { positions: vec![1], group: 4, first: 2 }));
        check(&[Sibling, WillBeneficiary], Err(HeirsError::OutOfOrder { positions: vec![1], group: 5, first: 3 }));
    }

    #[test]
    fn a_death_claim_needs_the_r2_6_documents() {
        assert_eq!(required_documents(Event::Death, true).len(), 8);
        assert_eq!(required_documents(Event::Death, false).len(), 7, "no marriage book without a spouse heir");
        assert!(!required_documents(Event::AccidentDeath, false).contains(&Document::MarriageBook));
        assert!(required_documents(Event::Accident, true).is_empty());
        let all_but_bank: Vec<Document> =
            Document::ALL.into_iter().filter(|d| *d != Document::HeirBankAccount).collect();
        assert_eq!(missing_documents(Event::Death, true, &all_but_bank), vec![Document::HeirBankAccount]);
        assert_eq!(missing_documents(Event::Death, false, &Document::ALL), vec![]);
        for document in Document::ALL {
            assert_eq!(Document::from_code(document.code()), Some(document));
        }
    }

    #[test]
    fn a_complete_jkm_claim_is_paid_within_3_working_days() {
        let check = |complete: &str, deadline: &str| {
            assert_eq!(payment_deadline(d(complete)), d(deadline), "complete on {complete}");
        };
        check("2025-11-03", "2025-11-06"); // Monday -> Thursday
        check("2025-11-05", "2025-11-10"); // Wednesday -> Monday
        check("2025-11-07", "2025-11-12"); // Friday -> Wednesday
        check("2025-11-08", "2025-11-12"); // Saturday -> Wednesday
        check("2025-11-09", "2025-11-12"); // Sunday -> Wednesday
        assert!(!overdue(d("2025-11-03"), d("2025-11-06")), "the last day is still in time");
        assert!(overdue(d("2025-11-03"), d("2025-11-07")));
    }

    #[test]
    fn the_right_to_claim_jkk_lapses_after_5_years() {
        assert!(!jkk_claim_lapsed(d("2020-11-25"), d("2025-11-25")), "the fifth anniversary is still in time");
        assert!(jkk_claim_lapsed(d("2020-11-25"), d("2025-11-26")));
        assert!(!jkk_claim_lapsed(d("2024-02-29"), d("2029-02-28")));
        assert!(jkk_claim_lapsed(d("2024-02-29"), d("2029-03-01")));
    }

    #[test]
    fn codes_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(status.code()), Some(status));
        }
        for event in [Event::Death, Event::Accident, Event::AccidentDeath] {
            assert_eq!(Event::from_code(event.code()), Some(event));
        }
    }

    #[test]
    fn the_life_cycle_of_a_claim() {
        use Status::*;
        let check = |from: Status, to: &[Status]| {
            for next in Status::ALL {
                assert_eq!(from.can_become(next), to.contains(&next), "{from:?} -> {next:?}");
            }
        };
        check(Notice, &[Filed, Rejected]);
        check(Filed, &[Assessed, Rejected]);
        check(Assessed, &[Assessed, Approved, Rejected]);
        check(Approved, &[Paid, Rejected]);
        check(Rejected, &[]);
        check(Paid, &[]);
    }

    #[test]
    fn what_may_be_done_in_which_status() {
        use Action::*;
        use Status::*;
        let check = |status: Status, allowed: &[Action]| {
            for action in Action::ALL {
                assert_eq!(status.allows(action), allowed.contains(&action), "{action:?} on {status:?}");
                assert_eq!(status.permits(action).is_ok(), allowed.contains(&action));
            }
        };
        check(Notice, &[FileNotice, AddDocuments, Reject]);
        check(Filed, &[AddDocuments, Assess, Reject]);
        check(Assessed, &[AddDocuments, Assess, Approve, Reject]);
        check(Approved, &[AddDocuments, Reject, Pay]);
        check(Rejected, &[]);
        check(Paid, &[]);
    }

    #[test]
    fn refusals_carry_their_rule_and_words() {
        let check = |refusal: Refusal, expected: (&str, &str, &str)| {
            assert_eq!((refusal.rule, refusal.reason, refusal.message.as_str()), expected);
        };
        check(
            Status::Paid.permits(Action::AddDocuments).unwrap_err(),
            ("R2.6", "CLAIM_STATUS", "cannot add documents to a claim that is PAID"),
        );
        check(
            Status::Filed.permits(Action::Pay).unwrap_err(),
            ("R2.6", "CLAIM_STATUS", "cannot pay a claim that is FILED"),
        );
        check(
            Status::Assessed.permits(Action::FileNotice).unwrap_err(),
            ("R2.6", "CLAIM_STATUS", "cannot file from the notice of a claim that is ASSESSED"),
        );
        check(
            refuse::jkk_lapsed(d("2020-01-02")),
            (
                "R3.8",
                "JKK_CLAIM_LAPSED",
                "the right to claim JKK for an accident on 2020-01-02 lapsed 5 years after it",
            ),
        );
        check(
            refuse::paid_under_another_reference(Some(d("2025-11-03"))),
            ("R2.6", "CLAIM_ALREADY_PAID", "the claim was paid on 2025-11-03 under another reference"),
        );
        check(refuse::already_paid(), ("R2.6", "CLAIM_ALREADY_PAID", "the claim is already paid"));
        check(
            refuse::death_already_claimed(),
            (
                "R2",
                "DEATH_ALREADY_CLAIMED",
                "a death claim for this worker is already filed (the death benefit is paid once)",
            ),
        );
        let not_covered = refuse::not_covered(crate::coverage::NotCovered::MonthUnpaid, d("2025-09-20"));
        assert_eq!(
            not_covered.details,
            vec![("coverage_reason", crate::coverage::NotCovered::MonthUnpaid.code().to_owned())]
        );
        check(
            not_covered,
            (
                "R1.5",
                "NOT_COVERED",
                &format!(
                    "the worker was not covered on 2025-09-20: {}",
                    crate::coverage::NotCovered::MonthUnpaid.code()
                ),
            ),
        );
    }

    #[test]
    fn a_rejection_carries_a_reason_code_and_an_approval_none() {
        let check = |approve: bool, reason: &str, expected: Result<Decision, &str>| {
            assert_eq!(Decision::parse(approve, reason).map_err(|v| v.reason), expected, "{approve} {reason:?}");
        };
        check(true, "", Ok(Decision::Approve));
        check(true, "  ", Ok(Decision::Approve));
        check(true, "NOT_WORK_RELATED", Err("NOT_WITH_APPROVAL"));
        check(false, " NOT_WORK_RELATED ", Ok(Decision::Reject("NOT_WORK_RELATED".into())));
        check(false, "R2_6", Ok(Decision::Reject("R2_6".into())));
        check(false, "", Err("REASON_CODE_FORMAT"));
        check(false, "not work related", Err("REASON_CODE_FORMAT"));
        check(false, &"A".repeat(51), Err("REASON_CODE_FORMAT"));
        check(false, &"A".repeat(50), Ok(Decision::Reject("A".repeat(50))));
    }

    #[test]
    fn overdue_claims_are_those_complete_before_the_cutoff() {
        // On Friday 2025-11-07 a claim complete on Monday 11-03 (deadline Thursday) is overdue, one complete on
        // Tuesday 11-04 (deadline Friday) is not.
        let cutoff = overdue_before(d("2025-11-07"));
        assert_eq!(wib_date(cutoff), d("2025-11-04"));
        assert_eq!(cutoff, at("2025-11-03T17:00:00Z"), "midnight in WIB");
        assert!(overdue(d("2025-11-03"), d("2025-11-07")) && !overdue(d("2025-11-04"), d("2025-11-07")));
        assert_eq!(payment_deadline(d("2025-11-04")), d("2025-11-07"));
        // On Monday 11-10, a claim complete on Tuesday 11-04 (deadline Friday) is overdue, one complete on
        // Wednesday 11-05 (deadline Monday) is not.
        assert_eq!(wib_date(overdue_before(d("2025-11-10"))), d("2025-11-05"));
    }

    #[test]
    fn an_accident_notice_falls_on_the_accident_day_in_wib() {
        let check = |occurred: &str, date: &str, ok: bool| {
            let result = check_notice_day(at(occurred), d(date), "notice.occurred_at");
            assert_eq!(result.is_ok(), ok, "{occurred} on {date}");
            if let Err(v) = result {
                assert_eq!((v.field.as_str(), v.reason), ("notice.occurred_at", "DATE_MISMATCH"));
                assert_eq!(v.description, format!("must fall on the accident date {date} (WIB)"));
            }
        };
        check("2025-09-15T03:00:00Z", "2025-09-15", true);
        check("2025-09-14T17:00:00Z", "2025-09-15", true); // 00:00 WIB
        check("2025-09-14T16:59:59Z", "2025-09-15", false);
        check("2025-09-15T17:00:00Z", "2025-09-15", false);
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn claim(status: Status, event: Event) -> Claim {
        Claim {
            id: Uuid::from_u128(1),
            worker_nik: Nik::parse("3271014501900001").unwrap(),
            status,
            event,
            event_date: d("2025-09-20"),
            subsidy_id: None,
            funder_id: Some(Uuid::from_u128(7)),
            funder_kind: Some(AgencyKind::City),
            notice: None,
            particulars: Particulars::default(),
            documents: Vec::new(),
            complete_at: None,
            assessment: None,
            total: None,
            rejection_reason: None,
            payment: None,
            request_id: "claim-1".into(),
            filed_by: Uuid::from_u128(9),
            created_at: at("2025-09-21T00:00:00Z"),
            updated_at: at("2025-09-21T00:00:00Z"),
        }
    }

    #[test]
    fn a_claim_is_paid_once() {
        let paid = Claim {
            payment: Some(Payment { reference: "TRF-1".into(), paid_on: d("2025-10-01") }),
            ..claim(Status::Paid, Event::Death)
        };
        let check = |claim: &Claim, reference: &str, expected: Result<bool, &str>| {
            assert_eq!(claim.pays(reference).map_err(|r| r.reason), expected, "{:?} {reference}", claim.status);
        };
        check(&claim(Status::Approved, Event::Death), "TRF-1", Ok(false));
        check(&paid, "TRF-1", Ok(true));
        check(&paid, "TRF-2", Err("CLAIM_ALREADY_PAID"));
        check(&claim(Status::Assessed, Event::Death), "TRF-1", Err("CLAIM_STATUS"));
        check(&claim(Status::Rejected, Event::Death), "TRF-1", Err("CLAIM_STATUS"));
    }

    #[test]
    fn a_filing_completes_a_notice_of_the_same_worker_once() {
        let nik = Nik::parse("3271014501900001").unwrap();
        let other = Nik::parse("3271014501900002").unwrap();
        let check = |claim: Claim, nik: &Nik, event: Event, expected: Result<bool, &str>| {
            let answer = claim.completes_notice(nik, event).map_err(|e| match e {
                Error::InvalidArgument(v) => v[0].reason,
                Error::Refused(r) => r[0].reason,
                other => panic!("{other:?}"),
            });
            assert_eq!(answer, expected);
        };
        check(claim(Status::Notice, Event::Accident), &nik, Event::Accident, Ok(false));
        check(claim(Status::Notice, Event::Accident), &nik, Event::AccidentDeath, Ok(false));
        check(claim(Status::Filed, Event::Accident), &nik, Event::Accident, Ok(true));
        check(claim(Status::Filed, Event::AccidentDeath), &nik, Event::Accident, Err("CLAIM_STATUS"));
        check(claim(Status::Assessed, Event::Accident), &nik, Event::Accident, Err("CLAIM_STATUS"));
        check(claim(Status::Notice, Event::Accident), &other, Event::Accident, Err("NOTICE_MISMATCH"));
        check(claim(Status::Notice, Event::Accident), &nik, Event::Death, Err("NOTICE_MISMATCH"));
    }

    #[test]
    fn a_funder_sees_the_amounts_but_nothing_personal() {
        let spouse = Heir {
            full_name: "Budi Santoso".into(),
            nik: None,
            relationship: Spouse,
            bank_name: "BRI".into(),
            bank_account: "0123456789012".into(),
        };
        let child = benefit::Child { birth_date: d("2015-01-01"), level: benefit::Level::PreschoolPrimary };
        let line = |item: &str| AssessedLine {
            rule: "R2.3".into(),
            item: item.into(),
            amount: Rupiah::ZERO,
            explanation: "the child of 2015-01-01".into(),
        };
        let full = Claim {
            particulars: Particulars { heirs: vec![spouse], children: vec![child], accident_costs: None },
            notice: Some(Notice {
                place: "Jl. Pajajaran".into(),
                cause: "fall".into(),
                occurred_at: at("2025-09-20T03:00:00Z"),
                notifier_name: "Kelurahan".into(),
                notifier_phone: "+6281234567890".into(),
            }),
            documents: vec![Document::ParticipantCard],
            complete_at: Some(at("2025-09-21T03:00:00Z")),
            assessment: Some(Assessment {
                lines: vec![line("SCHOLARSHIP"), line("LUMP_SUM")],
                scholarships: vec![benefit::Schedule { child: 0, years: vec![], total: Rupiah::ZERO }],
                ..Assessment::default()
            }),
            ..claim(Status::Filed, Event::Death)
        };
        let insurer = full.clone().seen_by(Viewer { agency: Uuid::from_u128(9), insurer: true }, d("2025-09-22"));
        assert_eq!(insurer.claim, full, "the insurer that filed it sees it all");
        assert_eq!(insurer.missing_documents.len(), 7, "the marriage book too: a spouse is an heir");
        assert!(!insurer.overdue);
        assert!(full.clone().seen_by(Viewer { agency: Uuid::from_u128(9), insurer: true }, d("2025-09-30")).overdue);

        let funder = full.clone().seen_by(Viewer { agency: Uuid::from_u128(7), insurer: false }, d("2025-09-22"));
        assert_eq!(funder.missing_documents, insurer.missing_documents, "judged on the particulars it does not see");
        let seen = funder.claim;
        assert_eq!(seen.particulars, Particulars::default());
        assert_eq!((seen.request_id.as_str(), seen.notice.unwrap().notifier_phone.as_str()), ("", ""));
        let assessment = seen.assessment.unwrap();
        assert!(assessment.scholarships.is_empty());
        assert!(assessment.lines[0].explanation.contains("withheld"));
        assert_eq!(assessment.lines[1].explanation, "the child of 2015-01-01", "other lines keep their words");

        // The funder that gave notice keeps the notifier's phone and its request id.
        let notifier = full.seen_by(Viewer { agency: Uuid::from_u128(9), insurer: false }, d("2025-09-22")).claim;
        assert_eq!(notifier.notice.unwrap().notifier_phone, "+6281234567890");
        assert_eq!(notifier.request_id, "claim-1");
    }
}
