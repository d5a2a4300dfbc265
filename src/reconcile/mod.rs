//! Reconciliation: a funder's own list (its spreadsheet of NIKs) compared with the shared truth, row by row, and a
//! subsidy's monthly statement (R6.2).
//!
//! The store's side of each row is read set-based (`store.rs`), the row is judged here, purely: [`parse_row`] reads
//! what the funder sent, [`classify`] decides the row's [`Class`] from its [`Facts`]. Whether an enrollment's
//! membership is active or lapsed is not decided here but by [`coverage::verify`] over the subsidy's
//! [`coverage::Ledger`], the one rule `VerifyCoverage` applies.

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    agency::AgencyKind,
    coverage::{self, Funding, Ledger, NotCovered},
    enrollment::{InsurerRefusal, Status},
    error::FieldViolation,
    money::Rupiah,
    month::Month,
    nik::Nik,
    validate::Checker,
};

/// Longest name on a list row that is compared (longer is answered as a violation).
pub const MAX_NAME: usize = 150;

/// What the store says of one row of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Active,
    Pending,
    Refused,
    Ended,
    Lapsed,
    Deceased,
    NotOnList,
    FundedByOther,
    NotRegistered,
    NotEnrolled,
    InvalidRow,
    DuplicateRow,
}

impl Class {
    /// Every class, in the order a summary counts them.
    pub const ALL: [Class; 12] = [
        Class::Active,
        Class::Pending,
        Class::Refused,
        Class::Ended,
        Class::Lapsed,
        Class::Deceased,
        Class::NotOnList,
        Class::FundedByOther,
        Class::NotRegistered,
        Class::NotEnrolled,
        Class::InvalidRow,
        Class::DuplicateRow,
    ];
}

/// One row of the funder's list, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListRow {
    pub nik: String,
    pub full_name: String,
    pub first_month: String,
}

/// A row read: its NIK when valid, the optional name and first month, and every broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    pub nik: Option<Nik>,
    pub full_name: Option<String>,
    pub first_month: Option<Month>,
    pub violations: Vec<FieldViolation>,
}

/// Reads one list row; a row with any violation is not looked up.
pub fn parse_row(row: &ListRow) -> ParsedRow {
    let mut check = Checker::new();
    let nik = check.take("nik", Nik::parse(row.nik.trim()), crate::nik::NikError::message);
    let full_name = if row.full_name.trim().is_empty() {
        None
    } else {
        check.text("full_name", &row.full_name, MAX_NAME, crate::messages::Code::NAME_INVALID)
    };
    let first_month = match row.first_month.trim() {
        "" => None,
        month => check.month("first_month", month),
    };
    let violations = check.violations;
    let nik = nik.filter(|_| violations.is_empty());
    ParsedRow { nik, full_name, first_month, violations }
}

/// The store's side of one list row (everything empty for a row that was not looked up).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The row where the same NIK first appears, when this row repeats it.
    pub duplicate_of: Option<u64>,
    pub worker: Option<WorkerFacts>,
    /// The worker's enrollment in the subsidies reconciled that the row is about: the one funding the month, else
    /// the latest.
    pub enrollment: Option<EnrollmentFacts>,
    /// The kind of another government funding the worker in the month.
    pub other_funder: Option<AgencyKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFacts {
    pub full_name: String,
    pub date_of_death: Option<NaiveDate>,
}

/// An enrollment of the reconciled subsidies, with what coverage needs to judge it.
#[derive(Debug, Clone)]
pub struct EnrollmentFacts {
    pub id: Uuid,
    pub funding: Funding,
    pub rejection_reason: Option<InsurerRefusal>,
}

/// The answer for one row (or one funded worker missing from the list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// From 1; 0 for [`Class::NotOnList`].
    pub row: u64,
    pub class: Class,
    pub nik: String,
    pub enrollment_id: Option<Uuid>,
    pub subsidy_id: Option<Uuid>,
    pub enrollment_status: Option<Status>,
    pub enrollment_first_month: Option<Month>,
    pub rejection_reason: Option<InsurerRefusal>,
    pub other_funder: Option<AgencyKind>,
    pub name_mismatch: bool,
    pub first_month_mismatch: bool,
    pub first_row: Option<u64>,
    pub violations: Vec<FieldViolation>,
    /// For an active enrollment whose month is not (yet) covered.
    pub not_covered: Option<NotCovered>,
}

impl Difference {
    fn new(row: u64, class: Class, nik: String) -> Difference {
        Difference {
            row,
            class,
            nik,
            enrollment_id: None,
            subsidy_id: None,
            enrollment_status: None,
            enrollment_first_month: None,
            rejection_reason: None,
            other_funder: None,
            name_mismatch: false,
            first_month_mismatch: false,
            first_row: None,
            violations: Vec::new(),
            not_covered: None,
        }
    }

    fn with_enrollment(mut self, enrollment: Option<&EnrollmentFacts>) -> Difference {
        if let Some(e) = enrollment {
            self.enrollment_id = Some(e.id);
            self.subsidy_id = Some(e.funding.subsidy_id);
            self.enrollment_status = Some(e.funding.status);
            self.enrollment_first_month = Some(e.funding.first_month);
            self.rejection_reason = e.rejection_reason;
        }
        self
    }

    /// A worker funded in the month by the reconciled subsidies who is not on the list.
    pub fn not_on_list(nik: &Nik, enrollment: &EnrollmentFacts) -> Difference {
        Difference::new(0, Class::NotOnList, nik.as_str().to_owned()).with_enrollment(Some(enrollment))
    }

    /// Whether the row differs from the store at all (an active row may still differ in name or first month).
    pub fn differs(&self) -> bool {
        self.class != Class::Active || self.name_mismatch || self.first_month_mismatch
    }
}

/// The date a month is judged on: its last day, or today while it runs (never before its first day).
pub fn reference_date(month: Month, today: NaiveDate) -> NaiveDate {
    today.clamp(month.first_day(), month.last_day())
}

/// Decides one row's class from what was sent and what the store holds, judging an enrollment's membership on
/// `on` with [`coverage::verify`] over its subsidy's `ledger`.
///
/// Order: a bad or repeated row is not judged; then the registry (unknown, deceased); then the enrollment funding
/// the month (pending, or as coverage judges it: active or lapsed); then another government funding the month; then
/// what became of the latest enrollment (refused, ended); else not enrolled.
pub fn classify(
    row_no: u64,
    sent: &ListRow,
    parsed: &ParsedRow,
    facts: &Facts,
    month: Month,
    on: NaiveDate,
    ledger: Option<&Ledger>,
) -> Difference {
    let nik = sent.nik.clone();
    if !parsed.violations.is_empty() || parsed.nik.is_none() {
        let mut d = Difference::new(row_no, Class::InvalidRow, nik);
        d.violations = parsed.violations.clone();
        return d;
    }
    if let Some(first) = facts.duplicate_of {
        let mut d = Difference::new(row_no, Class::DuplicateRow, nik);
        d.first_row = Some(first);
        return d;
    }
    let Some(worker) = &facts.worker else {
        return Difference::new(row_no, Class::NotRegistered, nik);
    };
    let enrollment = facts.enrollment.as_ref();
    let mut not_covered = None;
    let class = if worker.date_of_death.is_some_and(|died| died <= on) {
        Class::Deceased
    } else if let Some(e) = enrollment.filter(|e| funds(&e.funding, month)) {
        if e.funding.status == Status::Pending {
            Class::Pending
        } else {
            let funding = std::slice::from_ref(&e.funding);
            match coverage::verify(funding, &|_| ledger.cloned(), worker.date_of_death, on) {
                Ok(_) => Class::Active,
                Err(NotCovered::Lapsed) => Class::Lapsed,
                Err(NotCovered::PendingRegistration) => Class::Pending,
                Err(NotCovered::Ended) => Class::Ended,
                Err(NotCovered::Deceased) => Class::Deceased,
                Err(NotCovered::NotEnrolled) => Class::NotEnrolled,
                Err(reason @ (NotCovered::MonthUnpaid | NotCovered::InArrearsWindow)) => {
                    not_covered = Some(reason);
                    Class::Active
                }
            }
        }
    } else if facts.other_funder.is_some() {
        Class::FundedByOther
    } else {
        match enrollment.map(|e| e.funding.status) {
            Some(Status::Rejected) => Class::Refused,
            Some(Status::Ended) => Class::Ended,
            _ => Class::NotEnrolled,
        }
    };
    let mut d = Difference::new(row_no, class, nik).with_enrollment(enrollment);
    d.not_covered = not_covered;
    d.other_funder = facts.other_funder;
    d.name_mismatch = parsed.full_name.as_deref().is_some_and(|listed| !same_name(listed, &worker.full_name));
    d.first_month_mismatch = match (parsed.first_month, enrollment) {
        (Some(listed), Some(e)) => listed != e.funding.first_month,
        _ => false,
    };
    d
}

/// Whether an enrollment (not refused) funds `month`.
pub fn funds(funding: &Funding, month: Month) -> bool {
    funding.status != Status::Rejected && funding.first_month <= month && funding.end_month.is_some_and(|e| month < e)
}

/// Names compared as a clerk would: case and spacing aside.
pub fn same_name(a: &str, b: &str) -> bool {
    let words = |s: &str| s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
    words(a) == words(b)
}

/// The count of each class, and of the mismatches, over a reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub month: Option<Month>,
    pub rows: u64,
    pub counts: std::collections::BTreeMap<Class, u64>,
    pub name_mismatches: u64,
    pub first_month_mismatches: u64,
}

impl Summary {
    pub fn count(&mut self, d: &Difference) {
        if d.row > 0 {
            self.rows += 1;
        }
        *self.counts.entry(d.class).or_default() += 1;
        self.name_mismatches += u64::from(d.name_mismatch);
        self.first_month_mismatches += u64::from(d.first_month_mismatch);
    }
}

/// A subsidy's month in figures (R6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub subsidy_id: Uuid,
    pub subsidy_name: String,
    pub month: Month,
    pub active: u32,
    pub pending: u32,
    pub bill_issued: bool,
    pub billed_workers: u32,
    pub billed: Rupiah,
    pub paid: Rupiah,
    pub outstanding: Rupiah,
    pub written_off: Rupiah,
    pub paid_through: Option<Month>,
    pub arrears_warning: bool,
    pub unpaid_months: Vec<Month>,
    pub nearing_lapse: u32,
    pub lapsed: u32,
    pub deaths: u32,
    pub claims: u32,
    pub claims_paid: u32,
    pub claims_paid_amount: Rupiah,
}

/// How the participants of a month stand, counted with the coverage rule: each confirmed enrollment funding the
/// month judged on `on` against the subsidy's ledger. Answers (active, nearing lapse, lapsed).
pub fn participants(cohort: &[(Funding, Option<NaiveDate>)], ledger: &Ledger, on: NaiveDate) -> (u32, u32, u32) {
    let (mut active, mut nearing, mut lapsed) = (0, 0, 0);
    for (funding, died) in cohort.iter().filter(|(f, _)| f.status != Status::Pending) {
        match coverage::verify(std::slice::from_ref(funding), &|_| Some(ledger.clone()), *died, on) {
            Ok(_) | Err(NotCovered::MonthUnpaid) | Err(NotCovered::PendingRegistration) => active += 1,
            Err(NotCovered::InArrearsWindow) => {
                active += 1;
                nearing += 1;
            }
            Err(NotCovered::Lapsed) => lapsed += 1,
            Err(NotCovered::Deceased | NotCovered::Ended | NotCovered::NotEnrolled) => {}
        }
    }
    (active, nearing, lapsed)
}

impl Statement {
    /// The statement as CSV for a spreadsheet: a header `item,value`, one line per figure, quoted where needed.
    pub fn to_csv(&self) -> String {
        let months = |m: &[Month]| m.iter().map(Month::to_string).collect::<Vec<_>>().join(" ");
        let lines: [(&str, String); 20] = [
            ("subsidy_id", self.subsidy_id.to_string()),
            ("subsidy_name", self.subsidy_name.clone()),
            ("month", self.month.to_string()),
            ("active_participants", self.active.to_string()),
            ("pending", self.pending.to_string()),
            ("bill_issued", self.bill_issued.to_string()),
            ("billed_workers", self.billed_workers.to_string()),
            ("billed", self.billed.to_string()),
            ("paid", self.paid.to_string()),
            ("outstanding", self.outstanding.to_string()),
            ("written_off", self.written_off.to_string()),
            ("paid_through", self.paid_through.map(|m| m.to_string()).unwrap_or_default()),
            ("arrears_warning", self.arrears_warning.to_string()),
            ("unpaid_months", months(&self.unpaid_months)),
            ("nearing_lapse", self.nearing_lapse.to_string()),
            ("lapsed", self.lapsed.to_string()),
            ("deaths", self.deaths.to_string()),
            ("claims", self.claims.to_string()),
            ("claims_paid", self.claims_paid.to_string()),
            ("claims_paid_amount", self.claims_paid_amount.to_string()),
        ];
        let mut writer = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail, and every field is valid UTF-8.
        writer.write_record(["item", "value"]).expect("csv to memory");
        for (item, value) in &lines {
            writer.write_record([*item, value.as_str()]).expect("csv to memory");
        }
        String::from_utf8(writer.into_inner().expect("csv to memory")).expect("csv of UTF-8 fields")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const SUBSIDY: Uuid = Uuid::from_u128(1);
    const NIK: &str = "3271014505900001";

    fn enrollment(status: Status, first: &str, end: Option<&str>, billed: &[&str]) -> EnrollmentFacts {
        EnrollmentFacts {
            id: Uuid::from_u128(3),
            funding: Funding {
                subsidy_id: SUBSIDY,
                funder_kind: AgencyKind::City,
                funder_id: Uuid::from_u128(2),
                status,
                first_month: m(first),
                end_month: end.map(m),
                protection_start: (status != Status::Pending).then(|| m(first).first_day()),
                billed_months: billed.iter().map(|s| m(s)).collect(),
            },
            rejection_reason: (status == Status::Rejected).then_some(InsurerRefusal::Age),
        }
    }

    fn worker(died: Option<&str>) -> Option<WorkerFacts> {
        Some(WorkerFacts { full_name: "Siti Rahmawati".into(), date_of_death: died.map(d) })
    }

    fn row(nik: &str, name: &str, first: &str) -> ListRow {
        ListRow { nik: nik.into(), full_name: name.into(), first_month: first.into() }
    }

    /// September billed and paid on time; with `lapse`, June to August billed and never paid instead.
    fn ledger(lapse: bool) -> Ledger {
        let rp = Rupiah::from_whole(16_800);
        if lapse {
            let bills = [(m("2025-06"), rp), (m("2025-07"), rp), (m("2025-08"), rp)];
            coverage::ledger(&bills, &[], &[], d("2026-01-01"))
        } else {
            coverage::ledger(&[(m("2025-09"), rp)], &[(d("2025-09-10"), rp)], &[], d("2026-01-01"))
        }
    }

    fn check(sent: ListRow, facts: Facts, ledger: &Ledger, expected: Class) -> Difference {
        let parsed = parse_row(&sent);
        let month = m("2025-09");
        let got = classify(7, &sent, &parsed, &facts, month, reference_date(month, d("2026-01-01")), Some(ledger));
        assert_eq!(got.class, expected, "{sent:?} {facts:?}");
        got
    }

    #[test]
    fn every_class_from_its_facts() {
        let paid = ledger(false);
        let active = enrollment(Status::Active, "2025-09", Some("2026-01"), &["2025-09"]);
        let facts =
            |enrollment: Option<EnrollmentFacts>| Facts { worker: worker(None), enrollment, ..Facts::default() };
        check(row(NIK, "", ""), facts(Some(active.clone())), &paid, Class::Active);
        check(
            row(NIK, "", ""),
            facts(Some(enrollment(Status::Pending, "2025-09", Some("2026-01"), &[]))),
            &paid,
            Class::Pending,
        );
        let refused = check(
            row(NIK, "", ""),
            facts(Some(enrollment(Status::Rejected, "2025-09", Some("2026-01"), &[]))),
            &paid,
            Class::Refused,
        );
        assert_eq!(refused.rejection_reason, Some(InsurerRefusal::Age));
        check(row(NIK, "", ""), facts(Some(enrollment(Status::Ended, "2025-09", None, &[]))), &paid, Class::Ended);
        let lapsed = enrollment(Status::Active, "2025-06", Some("2026-01"), &["2025-06", "2025-07", "2025-08"]);
        check(row(NIK, "", ""), facts(Some(lapsed)), &ledger(true), Class::Lapsed);
        let dead = Facts { worker: worker(Some("2025-09-10")), enrollment: Some(active.clone()), ..Facts::default() };
        check(row(NIK, "", ""), dead, &paid, Class::Deceased);
        let other = Facts { worker: worker(None), other_funder: Some(AgencyKind::Province), ..Facts::default() };
        let other = check(row(NIK, "", ""), other, &paid, Class::FundedByOther);
        assert_eq!(other.other_funder, Some(AgencyKind::Province));
        check(row(NIK, "", ""), Facts::default(), &paid, Class::NotRegistered);
        check(row(NIK, "", ""), facts(None), &paid, Class::NotEnrolled);
        let repeated =
            check(row(NIK, "", ""), Facts { duplicate_of: Some(3), ..Facts::default() }, &paid, Class::DuplicateRow);
        assert_eq!(repeated.first_row, Some(3));
        // Not yet paid is still active, with the reason the month is not covered.
        let unpaid = check(
            row(NIK, "", ""),
            facts(Some(enrollment(Status::Active, "2025-09", Some("2026-01"), &[]))),
            &Ledger::default(),
            Class::Active,
        );
        assert_eq!(unpaid.not_covered, Some(NotCovered::MonthUnpaid));
    }

    #[test]
    fn a_bad_row_names_its_fields_and_is_not_looked_up() {
        let bad = check(row("12345", "", "2025-13"), Facts::default(), &Ledger::default(), Class::InvalidRow);
        let fields: Vec<&str> = bad.violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["nik", "first_month"]);
        assert!(parse_row(&row(NIK, "", "2025-13")).nik.is_none());
    }

    #[test]
    fn names_and_first_months_are_compared_as_a_clerk_would() {
        let active = enrollment(Status::Active, "2025-09", Some("2026-01"), &["2025-09"]);
        let facts = Facts { worker: worker(None), enrollment: Some(active), ..Facts::default() };
        let same = check(row(NIK, "  siti   RAHMAWATI ", "2025-09"), facts.clone(), &ledger(false), Class::Active);
        assert!(!same.differs());
        let other = check(row(NIK, "Siti Aminah", "2025-10"), facts, &ledger(false), Class::Active);
        assert!(other.name_mismatch && other.first_month_mismatch && other.differs());
    }

    #[test]
    fn a_statement_reads_in_a_spreadsheet() {
        let statement = Statement {
            subsidy_id: SUBSIDY,
            subsidy_name: "Iuran pekerja rentan, Kota Bogor".into(),
            month: m("2025-09"),
            active: 7_894,
            pending: 0,
            bill_issued: true,
            billed_workers: 7_894,
            billed: Rupiah::from_whole(132_619_200),
            paid: Rupiah::ZERO,
            outstanding: Rupiah::from_whole(132_619_200),
            written_off: Rupiah::ZERO,
            paid_through: None,
            arrears_warning: false,
            unpaid_months: vec![m("2025-09")],
            nearing_lapse: 0,
            lapsed: 0,
            deaths: 0,
            claims: 0,
            claims_paid: 0,
            claims_paid_amount: Rupiah::ZERO,
        };
        let csv = statement.to_csv();
        assert!(csv.starts_with("item,value\nsubsidy_id,"), "{csv}");
        assert!(csv.contains("\nsubsidy_name,\"Iuran pekerja rentan, Kota Bogor\"\n"), "{csv}");
        assert!(csv.contains("\nactive_participants,7894\n") && csv.contains("\nbilled,132619200\n"), "{csv}");
    }
}
