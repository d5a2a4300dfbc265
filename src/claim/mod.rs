//! Claims: deaths and work accidents from notice or filing to payment (R2, R3).
//!
//! The pure rules around a claim live here: its life cycle, who may be named an heir (R2.5), the document checklist
//! and the payment deadline (R2.6), the five-year limit on JKK claims (R3.8). What is due is [`benefit::assess`].

pub mod grpc;
pub mod store;

use chrono::{Datelike, Months, NaiveDate, Weekday};

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

#[cfg(test)]
mod tests {
    use super::*;
    use Relationship::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
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
}
