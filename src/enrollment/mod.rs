//! Enrollments: a worker funded by a subsidy from a first month, and the insurer's answer to it (R4, R6.1).
//!
//! [`check`] holds the eligibility rules that need only the subsidy and the worker, and reports every one an
//! enrollment breaks, so that a clerk sees all reasons at once. [`admit`] adds the rules that need what others
//! already hold (double funding, quota, budget), given as facts the service read under the subsidy's lock.
//! [`Enrollment::take`] is the insurer's decision, [`Enrollment::check_end`] and [`Enrollment::was_handed_over`]
//! the end of an enrollment. Every refusal with a rule id is built here.

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    agency::AgencyKind, area::RegionCode, messages::Message, money::Rupiah, month::Month, nik::Nik, quarter::Quarter,
    subsidy::Subsidy,
};

/// PENDING → ACTIVE | REJECTED;  PENDING | ACTIVE → ENDED. (R6.1)
///
/// Rejected and ended enrollments are final: a worker enrolled again gets a new enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Sent to the insurer, no answer yet.
    Pending,
    /// Accepted by the insurer, with a participant number.
    Active,
    /// Refused by the insurer, with an [`InsurerRefusal`].
    Rejected,
    /// Funding stopped, with an [`EndReason`].
    Ended,
}

pub use crate::{
    error::Refusal,
    participant::{ParticipantNumber, ParticipantNumberError},
};

/// What the eligibility rules need to know of a worker (from the registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFacts {
    pub birth_date: NaiveDate,
    pub date_of_death: Option<NaiveDate>,
    pub decile: u8,
    pub decile_as_of: Quarter,
    /// A village.
    pub domicile: RegionCode,
}

/// Why the insurer rejected an enrollment, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InsurerRefusal {
    /// The worker is already an active participant through another registration.
    AlreadyActiveElsewhere,
    /// The civil registry records the worker as deceased.
    DeceasedPerCivilRegistry,
    /// The civil registry does not know the NIK.
    NikNotFound,
    /// Outside the insurer's age limit.
    Age,
    Other,
}

/// Why an enrollment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The funder stopped paying (the subsidy ended or the worker was dropped).
    FundingStopped,
    /// The worker moved out of the subsidy's area.
    MovedAway,
    Died,
    /// Another funder, or the worker, pays from now on.
    HandedOver,
    Other,
}

/// Every rule an enrollment of `worker` in `subsidy` from `first_month` breaks; empty when eligible.
/// `worker` is None when the NIK is not in the registry.
///
/// Ages and deaths are judged on the first day of `first_month`: a worker who dies during a funded month is
/// covered for it (R1.8 refunds only the months after).
pub fn check(subsidy: &Subsidy, worker: Option<&WorkerFacts>, first_month: Month) -> Vec<Refusal> {
    let Some(worker) = worker else {
        return vec![Refusal::new("R6.1", crate::msg!(WORKER_NOT_REGISTERED))];
    };
    // A worker outside the subsidy's area is outside the funder's view: nothing else about them (decile, age,
    // death, village) is told, only that they cannot be funded here (R6.3, data minimisation).
    if !subsidy.area.contains(&worker.domicile) {
        return vec![Refusal::new("R4.3", crate::msg!(OUTSIDE_SUBSIDY_AREA, area = subsidy.area.to_string()))];
    }
    let mut refusals = Vec::new();
    let mut refuse = |refused: bool, rule, message: &dyn Fn() -> Message| {
        if refused {
            refusals.push(Refusal::new(rule, message()));
        }
    };
    let eligibility = &subsidy.eligibility;
    let start = first_month.first_day();

    let (first, last) = (subsidy.first_month, subsidy.last_month);
    refuse(first_month < first, "R1.9", &|| crate::msg!(MONTH_BEFORE_SUBSIDY, month = first_month, first = first));
    refuse(first_month > last, "R1.9", &|| crate::msg!(MONTH_AFTER_SUBSIDY, month = first_month, last = last));

    if let Some(died) = worker.date_of_death {
        refuse(died < start, "R4.3", &|| crate::msg!(WORKER_DECEASED, died = died, month = first_month));
    }

    let max_decile = eligibility.max_decile;
    refuse(worker.decile > max_decile, "R4.1", &|| {
        crate::msg!(DECILE_TOO_HIGH, decile = u32::from(worker.decile), max = u32::from(max_decile))
    });
    let funded_quarter = Quarter::from_date(start);
    let age_quarters = quarter_index(funded_quarter) - quarter_index(worker.decile_as_of);
    let max_quarters = eligibility.max_decile_age_quarters;
    refuse(age_quarters > i32::from(max_quarters), "R4.1", &|| {
        crate::msg!(
            DECILE_STALE,
            as_of = worker.decile_as_of.to_string(),
            max = u32::from(max_quarters),
            quarter = funded_quarter.to_string(),
            month = first_month
        )
    });

    // Someone born after the first day is not yet of any age: 0 years.
    let age = start.years_since(worker.birth_date).unwrap_or(0);
    let (min_age, max_age) = (eligibility.min_age, eligibility.max_age);
    refuse(!(u32::from(min_age)..=u32::from(max_age)).contains(&age), "R4.2", &|| {
        crate::msg!(AGE_OUTSIDE_RANGE, age = age, date = start, min = u32::from(min_age), max = u32::from(max_age))
    });

    refusals
}

/// The months an enrollment from first_month funds: first_month..=subsidy.last_month (0 if it starts after).
pub fn funded_months(subsidy: &Subsidy, first_month: Month) -> u32 {
    if first_month > subsidy.last_month { 0 } else { first_month.months_until(subsidy.last_month) + 1 }
}

/// What funding `months` months of one worker commits of the budget: months × the monthly contribution.
pub fn commitment(subsidy: &Subsidy, months: u32) -> Rupiah {
    subsidy.contribution.total().times(u64::from(months))
}

/// An enrollment as stored, with its subsidy's funder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub id: Uuid,
    pub subsidy_id: Uuid,
    pub funder_id: Uuid,
    pub funder_kind: AgencyKind,
    pub worker_nik: Nik,
    pub first_month: Month,
    /// The month after the last funded one; None when the enrollment ended before its first month.
    pub end_month: Option<Month>,
    pub status: Status,
    pub participant_number: Option<ParticipantNumber>,
    pub protection_start: Option<NaiveDate>,
    pub rejection_reason: Option<InsurerRefusal>,
    pub rejection_detail: Option<String>,
    pub end_reason: Option<EndReason>,
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A funder's request to enroll a worker, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub request_id: String,
    pub subsidy_id: Uuid,
    pub nik: Nik,
    pub first_month: Month,
}

impl Submission {
    /// Tells a resend from another request reusing the id; a hash, so no NIK is stored with it in clear.
    pub fn fingerprint(&self) -> String {
        let text = format!("{}|{}|{}", self.subsidy_id, self.nik.as_str(), self.first_month);
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// What a subsidy holds already: the places taken (pending or active enrollments) and the money committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub places: i64,
    pub committed: Decimal,
}

/// An enrollment already funding the worker in a month asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub funder_id: Uuid,
    pub funder_kind: AgencyKind,
    pub subsidy_id: Uuid,
    pub enrollment_id: Uuid,
}

impl Conflict {
    /// The refusal this conflict makes of an enrollment in a subsidy of `funder`: told as the funder's own
    /// enrollment when it is, else as double funding by another (R1.9).
    pub fn refusal(&self, funder: Uuid) -> Refusal {
        if self.funder_id == funder {
            Refusal::already_enrolled_by_you(self.enrollment_id, self.subsidy_id)
        } else {
            Refusal::double_funding(self.funder_kind, self.subsidy_id)
        }
    }
}

/// Admits an enrollment of `worker` in `subsidy` from `first_month`, or answers every rule it breaks, in order: the
/// eligibility rules of [`check`], then the enrollment already funding the worker (`conflict`, told only of a
/// worker of the subsidy's own area), then — only for an otherwise eligible worker — the quota and the budget
/// against `load`. Answers the subsidy's load with the enrollment admitted.
pub fn admit(
    subsidy: &Subsidy,
    worker: Option<&WorkerFacts>,
    first_month: Month,
    conflict: Option<&Conflict>,
    load: Load,
) -> Result<Load, Vec<Refusal>> {
    let mut refusals = check(subsidy, worker, first_month);
    // Who else funds a worker is told only about workers of the subsidy's own area.
    let in_area = worker.is_some_and(|w| subsidy.area.contains(&w.domicile));
    if let Some(conflict) = conflict
        && in_area
    {
        refusals.push(conflict.refusal(subsidy.funder_id));
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let cost = commitment(subsidy, funded_months(subsidy, first_month)).amount();
    if load.places >= i64::from(subsidy.quota) {
        Err(vec![Refusal::quota_exhausted(subsidy.quota)])
    } else if load.committed + cost > subsidy.budget_ceiling.amount() {
        Err(vec![Refusal::budget_exhausted(subsidy.budget_ceiling)])
    } else {
        Ok(Load { places: load.places + 1, committed: load.committed + cost })
    }
}

/// One decision of the insurer, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Confirm { id: Uuid, number: ParticipantNumber, start: NaiveDate },
    Refuse { id: Uuid, reason: InsurerRefusal, detail: Option<String> },
}

impl Decision {
    pub fn id(&self) -> Uuid {
        match self {
            Decision::Confirm { id, .. } | Decision::Refuse { id, .. } => *id,
        }
    }
}

/// What a decision of the insurer does to an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The same decision was taken already: a resend, answered with the enrollment as it is.
    Already,
    /// The enrollment is confirmed now (active, with the participant number).
    Confirmed,
    /// The enrollment is refused now.
    Refused,
}

impl Enrollment {
    /// Takes the insurer's `decision` on this enrollment, changing it as the decision says (R6.1, R5.5).
    /// `holder` is the worker who holds the decision's participant number, `current` the number this enrollment's
    /// worker holds, if any. Only a pending enrollment may be decided; the same decision again is a resend.
    pub fn take(
        &mut self,
        decision: &Decision,
        holder: Option<&Nik>,
        current: Option<&ParticipantNumber>,
    ) -> Result<Taken, Refusal> {
        match decision {
            Decision::Confirm { number, start, .. } => {
                let same = self.participant_number.as_ref() == Some(number) && self.protection_start == Some(*start);
                if self.status == Status::Active && same {
                    Ok(Taken::Already)
                } else if !self.status.can_become(Status::Active) {
                    Err(Refusal::not_pending(self.status, "confirmed"))
                } else if *start < self.first_month.first_day() {
                    Err(Refusal::protection_before_funding(self.first_month))
                } else if holder.is_some_and(|nik| *nik != self.worker_nik) || current.is_some_and(|n| n != number) {
                    Err(Refusal::participant_number_conflict())
                } else {
                    self.status = Status::Active;
                    self.participant_number = Some(number.clone());
                    self.protection_start = Some(*start);
                    Ok(Taken::Confirmed)
                }
            }
            Decision::Refuse { reason, .. } => {
                if self.status == Status::Rejected && self.rejection_reason == Some(*reason) {
                    Ok(Taken::Already)
                } else if !self.status.can_become(Status::Rejected) {
                    Err(Refusal::not_pending(self.status, "refused"))
                } else {
                    self.status = Status::Rejected;
                    self.rejection_reason = Some(*reason);
                    Ok(Taken::Refused)
                }
            }
        }
    }

    /// Whether the enrollment may end now (R6.1): only a pending or active one can.
    pub fn check_end(&self) -> Result<(), Refusal> {
        if self.status.can_become(Status::Ended) { Ok(()) } else { Err(Refusal::not_open(self.status)) }
    }

    /// Whether a hand-over ended this enrollment already: a resend of it answers what it made, another request is
    /// refused ([`Refusal::already_handed_over`]).
    pub fn was_handed_over(&self) -> bool {
        self.status == Status::Ended && self.end_reason == Some(EndReason::HandedOver)
    }
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Pending, Status::Active, Status::Rejected, Status::Ended];

    /// The code stored and exchanged, e.g. `pending`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Rejected => "rejected",
            Status::Ended => "ended",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// Whether an enrollment in this status may move to `next`; staying put is not a transition.
    pub fn can_become(self, next: Status) -> bool {
        matches!(
            (self, next),
            (Status::Pending, Status::Active | Status::Rejected | Status::Ended) | (Status::Active, Status::Ended)
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Refusal {
    /// Another subsidy already pays for the worker in one of the months asked for: one funder per month (R1.9).
    pub fn double_funding(funder_kind: AgencyKind, subsidy_id: Uuid) -> Refusal {
        let funder = match funder_kind {
            AgencyKind::City => crate::msg!(FUNDER_CITY),
            AgencyKind::Province => crate::msg!(FUNDER_PROVINCE),
            AgencyKind::Insurer => crate::msg!(FUNDER_INSURER),
        };
        let message = crate::msg!(DOUBLE_FUNDING, funder = funder, subsidy = subsidy_id.to_string());
        let mut refusal = Refusal::new("R1.9", message);
        // What the funder may act on, and nothing personal of the other side.
        let kind = match funder_kind {
            AgencyKind::City => "AGENCY_KIND_CITY",
            AgencyKind::Province => "AGENCY_KIND_PROVINCE",
            AgencyKind::Insurer => "AGENCY_KIND_INSURER",
        };
        // Spelled as the contract's `AgencyKind` enum is.
        refusal.details = vec![("funder_kind", kind.to_owned()), ("subsidy_id", subsidy_id.to_string())];
        refusal
    }

    /// The funder itself already funds the worker in one of the months asked for (a resubmission under a new
    /// request id): still one funder per month (R1.9), but told as what it is, with the enrollment to look at.
    pub fn already_enrolled_by_you(enrollment_id: Uuid, subsidy_id: Uuid) -> Refusal {
        let message = crate::msg!(
            ALREADY_ENROLLED_BY_YOU,
            enrollment = enrollment_id.to_string(),
            subsidy = subsidy_id.to_string()
        );
        let mut refusal = Refusal::new("R1.9", message);
        refusal.details = vec![("enrollment_id", enrollment_id.to_string()), ("subsidy_id", subsidy_id.to_string())];
        refusal
    }

    /// The subsidy funds as many workers as its quota allows (R4.4).
    pub fn quota_exhausted(quota: u32) -> Refusal {
        Refusal::new("R4.4", crate::msg!(QUOTA_EXHAUSTED, quota = quota))
    }

    /// Funding the worker would commit more than the subsidy's budget ceiling (R4.4).
    pub fn budget_exhausted(ceiling: Rupiah) -> Refusal {
        Refusal::new("R4.4", crate::msg!(BUDGET_EXHAUSTED, ceiling = ceiling))
    }
}

impl Refusal {
    /// An enrollment the store would not insert because another, written meanwhile, funds the worker in one of the
    /// months (R1.9), when that other one cannot be found again.
    pub fn funded_meanwhile() -> Refusal {
        Refusal::new("R1.9", crate::msg!(DOUBLE_FUNDING_OTHER))
    }

    /// The insurer decides only pending enrollments (R6.1); `verb` is what it tried, e.g. `confirmed`.
    pub fn not_pending(status: Status, verb: &str) -> Refusal {
        Refusal::new("R6.1", crate::msg!(ENROLLMENT_NOT_PENDING, status = status.to_string(), verb = verb))
    }

    /// Protection cannot start before the first month funded (R6.1).
    pub fn protection_before_funding(first_month: Month) -> Refusal {
        Refusal::new("R6.1", crate::msg!(PROTECTION_BEFORE_FUNDING, month = first_month))
    }

    /// One participant number per worker, one worker per participant number (R5.5).
    pub fn participant_number_conflict() -> Refusal {
        Refusal::new("R5.5", crate::msg!(PARTICIPANT_NUMBER_CONFLICT))
    }

    /// Only a pending or active enrollment can end (R6.1).
    pub fn not_open(status: Status) -> Refusal {
        Refusal::new("R6.1", crate::msg!(ENROLLMENT_NOT_OPEN, status = status.to_string()))
    }

    /// An enrollment is handed over once; a second hand-over under another request id is refused (R6.1).
    pub fn already_handed_over() -> Refusal {
        Refusal::new("R6.1", crate::msg!(ENROLLMENT_ALREADY_HANDED_OVER))
    }
}

impl InsurerRefusal {
    pub const ALL: [InsurerRefusal; 5] = [
        InsurerRefusal::AlreadyActiveElsewhere,
        InsurerRefusal::DeceasedPerCivilRegistry,
        InsurerRefusal::NikNotFound,
        InsurerRefusal::Age,
        InsurerRefusal::Other,
    ];

    /// The code stored and exchanged, e.g. `nik_not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            InsurerRefusal::AlreadyActiveElsewhere => "already_active_elsewhere",
            InsurerRefusal::DeceasedPerCivilRegistry => "deceased_per_civil_registry",
            InsurerRefusal::NikNotFound => "nik_not_found",
            InsurerRefusal::Age => "age",
            InsurerRefusal::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<InsurerRefusal> {
        InsurerRefusal::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

impl EndReason {
    pub const ALL: [EndReason; 5] =
        [EndReason::FundingStopped, EndReason::MovedAway, EndReason::Died, EndReason::HandedOver, EndReason::Other];

    /// The code stored and exchanged, e.g. `funding_stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::FundingStopped => "funding_stopped",
            EndReason::MovedAway => "moved_away",
            EndReason::Died => "died",
            EndReason::HandedOver => "handed_over",
            EndReason::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

/// Quarters since year 0: consecutive quarters have consecutive indexes.
fn quarter_index(quarter: Quarter) -> i32 {
    quarter.year() * 4 + i32::from(quarter.number()) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsidy::{Contribution, Eligibility};

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    /// Kota Bogor's programme: September to December 2025, deciles 1–4, ages 15–60, deciles at most 2 quarters old.
    fn bogor_2025() -> Subsidy {
        Subsidy {
            id: Uuid::from_u128(9),
            funder_id: Uuid::from_u128(1),
            funder_kind: AgencyKind::City,
            name: "Perlindungan Pekerja Rentan Kota Bogor 2025".into(),
            legal_basis: "Keputusan Wali Kota Bogor No. 400.5/123/2025".into(),
            area: code("32.71"),
            first_month: month("2025-09"),
            last_month: month("2025-12"),
            quota: 7_894,
            budget_ceiling: Rupiah::from_whole(530_476_800),
            contribution: Contribution::default(),
            eligibility: Eligibility::default(),
        }
    }

    /// An eligible worker: born 5 May 1990, living in Kota Bogor, decile 2 as of 2025-Q3.
    fn siti() -> WorkerFacts {
        WorkerFacts {
            birth_date: date("1990-05-05"),
            date_of_death: None,
            decile: 2,
            decile_as_of: Quarter::parse("2025-Q3").unwrap(),
            domicile: code("32.71.01.1001"),
        }
    }

    /// Checks `worker` against Kota Bogor's programme from `first_month` and compares the reasons refused.
    fn check(worker: WorkerFacts, first_month: &str, expected: &[&str]) {
        check_in(&bogor_2025(), worker, first_month, expected);
    }

    fn check_in(subsidy: &Subsidy, worker: WorkerFacts, first_month: &str, expected: &[&str]) {
        let refusals = super::check(subsidy, Some(&worker), month(first_month));
        let reasons: Vec<&str> = refusals.iter().map(|r| r.reason).collect();
        assert_eq!(reasons, expected, "{worker:?} from {first_month}");
    }

    #[test]
    fn an_eligible_worker_is_refused_nothing() {
        check(siti(), "2025-09", &[]);
        check(siti(), "2025-12", &[]);
    }

    #[test]
    fn a_worker_not_in_the_registry_is_refused_that_alone() {
        let refusals = super::check(&bogor_2025(), None, month("2030-01"));
        assert_eq!(
            refusals,
            [Refusal {
                rule: "R6.1",
                reason: "WORKER_NOT_REGISTERED",
                message: "the NIK is not in the registry: register the worker before enrolling them".into(),
                details: vec![],
                localized: crate::msg!(WORKER_NOT_REGISTERED),
            }]
        );
    }

    #[test]
    fn the_first_month_must_lie_in_the_subsidy() {
        check(siti(), "2025-08", &["MONTH_OUTSIDE_SUBSIDY"]);
        check(siti(), "2026-01", &["MONTH_OUTSIDE_SUBSIDY"]);
    }

    #[test]
    fn a_worker_who_died_before_the_first_month_is_refused_but_not_one_who_died_during_it() {
        let died = |day: &str| WorkerFacts { date_of_death: Some(date(day)), ..siti() };
        check(died("2025-08-31"), "2025-09", &["WORKER_DECEASED"]);
        check(died("2020-01-01"), "2025-09", &["WORKER_DECEASED"]);
        check(died("2025-09-01"), "2025-09", &[]);
        check(died("2025-09-30"), "2025-09", &[]);
        check(died("2025-10-15"), "2025-09", &[]);
    }

    #[test]
    fn the_decile_must_be_at_most_the_subsidys_maximum() {
        check(WorkerFacts { decile: 4, ..siti() }, "2025-09", &[]);
        check(WorkerFacts { decile: 5, ..siti() }, "2025-09", &["DECILE_TOO_HIGH"]);
        check(WorkerFacts { decile: 1, ..siti() }, "2025-09", &[]);
        let all_deciles =
            Subsidy { eligibility: Eligibility { max_decile: 10, ..Eligibility::default() }, ..bogor_2025() };
        check_in(&all_deciles, WorkerFacts { decile: 10, ..siti() }, "2025-09", &[]);
    }

    #[test]
    fn the_decile_may_be_at_most_the_allowed_number_of_quarters_older_than_the_first_month() {
        let as_of = |quarter: &str| WorkerFacts { decile_as_of: Quarter::parse(quarter).unwrap(), ..siti() };
        // 2025-09 is in 2025-Q3; 2025-10 and 2025-12 in 2025-Q4.
        check(as_of("2025-Q1"), "2025-09", &[]);
        check(as_of("2024-Q4"), "2025-09", &["DECILE_STALE"]);
        check(as_of("2025-Q2"), "2025-10", &[]);
        check(as_of("2025-Q1"), "2025-10", &["DECILE_STALE"]);
        check(as_of("2025-Q1"), "2025-12", &["DECILE_STALE"]);
        // Across a year end: 2026-01 is in 2026-Q1, two quarters after 2025-Q3.
        let to_2026 = Subsidy { last_month: month("2026-03"), ..bogor_2025() };
        check_in(&to_2026, as_of("2025-Q3"), "2026-01", &[]);
        check_in(&to_2026, as_of("2025-Q2"), "2026-01", &["DECILE_STALE"]);
        // A decile ranked after the first month is not stale.
        check(as_of("2026-Q1"), "2025-09", &[]);
        let current_only = Subsidy {
            eligibility: Eligibility { max_decile_age_quarters: 0, ..Eligibility::default() },
            ..bogor_2025()
        };
        check_in(&current_only, as_of("2025-Q3"), "2025-09", &[]);
        check_in(&current_only, as_of("2025-Q2"), "2025-09", &["DECILE_STALE"]);
    }

    #[test]
    fn the_age_on_the_first_day_must_lie_in_the_range_counting_birthdays_exactly() {
        let born = |day: &str| WorkerFacts { birth_date: date(day), ..siti() };
        check(born("2010-09-01"), "2025-09", &[]);
        check(born("2010-09-02"), "2025-09", &["AGE_OUTSIDE_RANGE"]);
        check(born("1965-09-02"), "2025-09", &[]);
        check(born("1965-09-01"), "2025-09", &[]);
        check(born("1964-09-02"), "2025-09", &[]);
        check(born("1964-09-01"), "2025-09", &["AGE_OUTSIDE_RANGE"]);
        check(born("2026-01-01"), "2025-09", &["AGE_OUTSIDE_RANGE"]);
        // Born on 29 February: 15 years old on 1 March of a common year.
        let leap = Subsidy { first_month: month("2019-01"), ..bogor_2025() };
        check_in(&leap, born("2004-02-29"), "2019-02", &["AGE_OUTSIDE_RANGE"]);
        check_in(&leap, born("2004-02-29"), "2019-03", &[]);
    }

    #[test]
    fn the_domicile_must_lie_in_the_subsidy_area() {
        let living_in = |village: &str| WorkerFacts { domicile: code(village), ..siti() };
        check(living_in("32.71.06.1011"), "2025-09", &[]);
        // Kabupaten Bogor (32.01) is not Kota Bogor (32.71).
        check(living_in("32.01.01.1001"), "2025-09", &["OUTSIDE_SUBSIDY_AREA"]);
        let province = Subsidy { area: code("32"), funder_kind: AgencyKind::Province, ..bogor_2025() };
        check_in(&province, living_in("32.01.01.1001"), "2025-09", &[]);
        check_in(&province, living_in("32.71.01.1001"), "2025-09", &[]);
        check_in(&province, living_in("33.71.01.1001"), "2025-09", &["OUTSIDE_SUBSIDY_AREA"]);
    }

    #[test]
    fn every_broken_rule_is_reported_in_order_with_its_rule_and_words() {
        let worker = WorkerFacts {
            birth_date: date("1960-01-01"),
            date_of_death: Some(date("2025-07-31")),
            decile: 5,
            decile_as_of: Quarter::parse("2024-Q4").unwrap(),
            domicile: code("32.71.01.1001"),
        };
        let refusals = super::check(&bogor_2025(), Some(&worker), month("2025-08"));
        let actual: Vec<(&str, &str, &str)> = refusals.iter().map(|r| (r.rule, r.reason, r.message.as_str())).collect();
        assert_eq!(
            actual,
            [
                ("R1.9", "MONTH_OUTSIDE_SUBSIDY", "2025-08 is before the subsidy's first funded month 2025-09"),
                ("R4.3", "WORKER_DECEASED", "the worker died on 2025-07-31, before the first funded month 2025-08"),
                ("R4.1", "DECILE_TOO_HIGH", "decile 5 is above the subsidy's maximum 4"),
                (
                    "R4.1",
                    "DECILE_STALE",
                    "the decile is as of 2024-Q4, more than 2 quarters before 2025-Q3 (the quarter of 2025-08): \
                     update it from DTSEN"
                ),
                ("R4.2", "AGE_OUTSIDE_RANGE", "aged 65 on 2025-08-01, outside 15–60"),
            ]
        );
        let late = super::check(&bogor_2025(), Some(&siti()), month("2026-01"));
        assert_eq!(late[0].message, "2026-01 is after the subsidy's last funded month 2025-12");
    }

    #[test]
    fn a_worker_outside_the_subsidy_area_is_told_nothing_more_about() {
        let elsewhere = WorkerFacts { domicile: code("32.01.01.1001"), decile: 9, ..siti() };
        let refusals = super::check(&bogor_2025(), Some(&elsewhere), month("2025-08"));
        let actual: Vec<(&str, &str, &str)> = refusals.iter().map(|r| (r.rule, r.reason, r.message.as_str())).collect();
        assert_eq!(
            actual,
            [("R4.3", "OUTSIDE_SUBSIDY_AREA", "the worker is not domiciled in the subsidy's area 32.71")]
        );
    }

    #[test]
    fn refusals_found_by_the_store_have_their_rule_and_words() {
        let check = |refusal: Refusal, expected: (&str, &str, &str)| {
            assert_eq!((refusal.rule, refusal.reason, refusal.message.as_str()), expected);
        };
        let id = Uuid::from_u128(0xabc);
        check(
            Refusal::double_funding(AgencyKind::City, id),
            (
                "R1.9",
                "DOUBLE_FUNDING",
                "already funded for an overlapping month by a city government (subsidy \
                 00000000-0000-0000-0000-000000000abc)",
            ),
        );
        check(
            Refusal::double_funding(AgencyKind::Province, id),
            (
                "R1.9",
                "DOUBLE_FUNDING",
                "already funded for an overlapping month by a province government (subsidy \
                 00000000-0000-0000-0000-000000000abc)",
            ),
        );
        check(
            Refusal::quota_exhausted(7_894),
            ("R4.4", "QUOTA_EXHAUSTED", "the subsidy's quota of 7,894 workers is reached"),
        );
        check(
            Refusal::budget_exhausted(Rupiah::from_whole(132_619_200)),
            (
                "R4.4",
                "BUDGET_EXHAUSTED",
                "funding the worker would exceed the subsidy's budget ceiling of Rp132,619,200",
            ),
        );
    }

    #[test]
    fn an_enrollment_funds_the_months_from_its_first_to_the_subsidys_last() {
        let subsidy = bogor_2025();
        let check = |first_month: &str, expected: (u32, u64)| {
            let months = funded_months(&subsidy, month(first_month));
            assert_eq!(
                (months, commitment(&subsidy, months)),
                (expected.0, Rupiah::from_whole(expected.1)),
                "{first_month}"
            );
        };
        check("2025-09", (4, 67_200));
        check("2025-11", (2, 33_600));
        check("2025-12", (1, 16_800));
        check("2026-01", (0, 0));
        let cohort = commitment(&subsidy, 1).times(7_894);
        assert_eq!(cohort, Rupiah::from_whole(132_619_200), "Kota Bogor's monthly total");
    }

    #[test]
    fn statuses_move_only_forward() {
        use Status::*;
        let check = |from: Status, allowed: &[Status]| {
            for to in Status::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&to), "{from} -> {to}");
            }
        };
        check(Pending, &[Active, Rejected, Ended]);
        check(Active, &[Ended]);
        check(Rejected, &[]);
        check(Ended, &[]);
    }

    #[test]
    fn codes_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(status.as_str()), Some(status));
        }
        for refusal in InsurerRefusal::ALL {
            assert_eq!(InsurerRefusal::from_code(refusal.as_str()), Some(refusal));
        }
        for reason in EndReason::ALL {
            assert_eq!(EndReason::from_code(reason.as_str()), Some(reason));
        }
        let statuses: Vec<&str> = Status::ALL.into_iter().map(Status::as_str).collect();
        assert_eq!(statuses, ["pending", "active", "rejected", "ended"]);
        let refusals: Vec<&str> = InsurerRefusal::ALL.into_iter().map(InsurerRefusal::as_str).collect();
        assert_eq!(
            refusals,
            ["already_active_elsewhere", "deceased_per_civil_registry", "nik_not_found", "age", "other"]
        );
        let reasons: Vec<&str> = EndReason::ALL.into_iter().map(EndReason::as_str).collect();
        assert_eq!(reasons, ["funding_stopped", "moved_away", "died", "handed_over", "other"]);
        assert_eq!(Status::from_code("PENDING"), None);
        assert_eq!(InsurerRefusal::from_code(""), None);
        assert_eq!(EndReason::from_code("dead"), None);
    }

    /// [`admit`]: eligibility, then the enrollment already funding the worker, then quota and budget.
    mod admission {
        use super::*;

        const NONE: Load = Load { places: 0, committed: Decimal::ZERO };

        fn by(funder: u128) -> Conflict {
            Conflict {
                funder_id: Uuid::from_u128(funder),
                funder_kind: AgencyKind::Province,
                subsidy_id: Uuid::from_u128(77),
                enrollment_id: Uuid::from_u128(78),
            }
        }

        fn load(places: i64, committed: u64) -> Load {
            Load { places, committed: Decimal::from(committed) }
        }

        /// Admits `worker` to Kota Bogor's programme from 2025-09 (4 months, Rp67,200) and compares the outcome:
        /// the load after it, or every rule broken as (rule id, reason), in order.
        fn check(
            worker: Option<WorkerFacts>,
            conflict: Option<Conflict>,
            before: Load,
            expected: Result<Load, &[(&str, &str)]>,
        ) {
            let actual = admit(&bogor_2025(), worker.as_ref(), month("2025-09"), conflict.as_ref(), before)
                .map_err(|refusals| refusals.iter().map(|r| (r.rule, r.reason)).collect::<Vec<_>>());
            assert_eq!(actual, expected.map_err(<[_]>::to_vec), "{worker:?} {conflict:?} {before:?}");
        }

        #[test]
        fn an_eligible_worker_takes_a_place_and_the_months_funded() {
            check(Some(siti()), None, NONE, Ok(load(1, 67_200)));
            check(Some(siti()), None, load(10, 1_000), Ok(load(11, 68_200)));
        }

        #[test]
        fn a_worker_funded_by_another_is_refused_as_double_funding_and_by_the_same_funder_as_its_own() {
            check(Some(siti()), Some(by(2)), NONE, Err(&[("R1.9", "DOUBLE_FUNDING")]));
            check(Some(siti()), Some(by(1)), NONE, Err(&[("R1.9", "ALREADY_ENROLLED_BY_YOU")]));
        }

        #[test]
        fn who_else_funds_a_worker_is_told_only_of_a_worker_of_the_subsidys_area() {
            let elsewhere = WorkerFacts { domicile: code("32.01.01.1001"), ..siti() };
            check(Some(elsewhere), Some(by(2)), NONE, Err(&[("R4.3", "OUTSIDE_SUBSIDY_AREA")]));
            check(None, Some(by(2)), NONE, Err(&[("R6.1", "WORKER_NOT_REGISTERED")]));
        }

        #[test]
        fn every_rule_broken_is_told_eligibility_first_then_the_conflict() {
            let rich = WorkerFacts { decile: 5, ..siti() };
            check(
                Some(rich),
                Some(by(2)),
                load(7_894, 0),
                Err(&[("R4.1", "DECILE_TOO_HIGH"), ("R1.9", "DOUBLE_FUNDING")]),
            );
        }

        #[test]
        fn a_full_quota_refuses_before_the_budget() {
            check(Some(siti()), None, load(7_893, 0), Ok(load(7_894, 67_200)));
            check(Some(siti()), None, load(7_894, 0), Err(&[("R4.4", "QUOTA_EXHAUSTED")]));
            check(Some(siti()), None, load(7_894, 530_476_800), Err(&[("R4.4", "QUOTA_EXHAUSTED")]));
        }

        #[test]
        fn the_budget_may_be_committed_to_its_ceiling_and_not_beyond() {
            let ceiling = 530_476_800;
            check(Some(siti()), None, load(0, ceiling - 67_200), Ok(load(1, ceiling)));
            let over = Load { places: 0, committed: Decimal::from(ceiling - 67_200) + Decimal::new(1, 2) };
            check(Some(siti()), None, over, Err(&[("R4.4", "BUDGET_EXHAUSTED")]));
        }
    }

    /// [`Enrollment::take`], [`Enrollment::check_end`], [`Enrollment::was_handed_over`]: the insurer's decisions and
    /// the end of an enrollment.
    mod decisions {
        use super::*;

        fn nik(s: &str) -> Nik {
            Nik::parse(s).unwrap()
        }

        fn number(s: &str) -> ParticipantNumber {
            ParticipantNumber::parse(s).unwrap()
        }

        const SITI: &str = "3271014501900001";
        const OTHER: &str = "3271014501900002";

        fn enrollment(status: Status) -> Enrollment {
            let at = DateTime::from_timestamp(1_756_684_800, 0).unwrap();
            Enrollment {
                id: Uuid::from_u128(5),
                subsidy_id: Uuid::from_u128(9),
                funder_id: Uuid::from_u128(1),
                funder_kind: AgencyKind::City,
                worker_nik: nik(SITI),
                first_month: month("2025-09"),
                end_month: Some(month("2026-01")),
                status,
                participant_number: (status == Status::Active).then(|| number("12345678901")),
                protection_start: (status == Status::Active).then(|| date("2025-09-01")),
                rejection_reason: (status == Status::Rejected).then_some(InsurerRefusal::Age),
                rejection_detail: None,
                end_reason: (status == Status::Ended).then_some(EndReason::HandedOver),
                request_id: "r-1".into(),
                created_at: at,
                updated_at: at,
            }
        }

        fn confirm(n: &str, start: &str) -> Decision {
            Decision::Confirm { id: Uuid::from_u128(5), number: number(n), start: date(start) }
        }

        fn refuse(reason: InsurerRefusal) -> Decision {
            Decision::Refuse { id: Uuid::from_u128(5), reason, detail: None }
        }

        /// Takes `decision` on an enrollment in `status` (the number's holder and the worker's current number as
        /// given) and compares what it does, or the refusal as (rule id, reason), and the status after it.
        fn check(
            status: Status,
            decision: Decision,
            holder: Option<&str>,
            current: Option<&str>,
            expected: Result<Taken, (&str, &str)>,
            after: Status,
        ) {
            let mut e = enrollment(status);
            let (holder, current) = (holder.map(nik), current.map(number));
            let actual = e.take(&decision, holder.as_ref(), current.as_ref()).map_err(|r| (r.rule, r.reason));
            assert_eq!((actual, e.status), (expected, after), "{decision:?} on {status}");
        }

        #[test]
        fn a_pending_enrollment_is_confirmed_or_refused() {
            use Status::*;
            check(Pending, confirm("12345678901", "2025-09-01"), None, None, Ok(Taken::Confirmed), Active);
            check(Pending, confirm("12345678901", "2025-10-15"), Some(SITI), None, Ok(Taken::Confirmed), Active);
            check(
                Pending,
                confirm("12345678901", "2025-09-01"),
                None,
                Some("12345678901"),
                Ok(Taken::Confirmed),
                Active,
            );
            check(Pending, refuse(InsurerRefusal::NikNotFound), None, None, Ok(Taken::Refused), Rejected);
        }

        #[test]
        fn the_same_decision_again_is_a_resend_and_another_is_refused() {
            use Status::*;
            check(Active, confirm("12345678901", "2025-09-01"), None, None, Ok(Taken::Already), Active);
            let not_pending = Err(("R6.1", "ENROLLMENT_NOT_PENDING"));
            check(Active, confirm("12345678901", "2025-10-01"), None, None, not_pending, Active);
            check(Active, confirm("10987654321", "2025-09-01"), None, None, not_pending, Active);
            check(Active, refuse(InsurerRefusal::Age), None, None, not_pending, Active);
            check(Rejected, refuse(InsurerRefusal::Age), None, None, Ok(Taken::Already), Rejected);
            check(Rejected, refuse(InsurerRefusal::Other), None, None, not_pending, Rejected);
            check(Rejected, confirm("12345678901", "2025-09-01"), None, None, not_pending, Rejected);
            check(Ended, confirm("12345678901", "2025-09-01"), None, None, not_pending, Ended);
            check(Ended, refuse(InsurerRefusal::Age), None, None, not_pending, Ended);
        }

        #[test]
        fn protection_starts_no_earlier_than_the_first_funded_month() {
            let early = Err(("R6.1", "PROTECTION_BEFORE_FUNDING"));
            check(Status::Pending, confirm("12345678901", "2025-08-31"), None, None, early, Status::Pending);
        }

        #[test]
        fn a_participant_number_belongs_to_one_worker_and_a_worker_has_one() {
            let conflict = Err(("R5.5", "PARTICIPANT_NUMBER_CONFLICT"));
            let n = "12345678901";
            check(Status::Pending, confirm(n, "2025-09-01"), Some(OTHER), None, conflict, Status::Pending);
            check(Status::Pending, confirm(n, "2025-09-01"), None, Some("10987654321"), conflict, Status::Pending);
        }

        #[test]
        fn refusals_name_the_status_found() {
            let refusal = enrollment(Status::Active).take(&refuse(InsurerRefusal::Age), None, None).unwrap_err();
            assert_eq!(refusal.message, "the enrollment is active; only a pending one can be refused");
            let refusal = enrollment(Status::Rejected).check_end().unwrap_err();
            assert_eq!((refusal.rule, refusal.reason), ("R6.1", "ENROLLMENT_NOT_OPEN"));
            assert_eq!(refusal.message, "the enrollment is rejected; only a pending or active one can end");
        }

        #[test]
        fn pending_and_active_enrollments_may_end_and_a_hand_over_is_recognised() {
            for status in Status::ALL {
                let e = enrollment(status);
                let open = matches!(status, Status::Pending | Status::Active);
                assert_eq!(e.check_end().is_ok(), open, "{status}");
                assert_eq!(e.was_handed_over(), status == Status::Ended, "{status}");
            }
            let died = Enrollment { end_reason: Some(EndReason::Died), ..enrollment(Status::Ended) };
            assert!(!died.was_handed_over());
        }
    }
}
