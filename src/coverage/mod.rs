//! Coverage: is a worker protected on a date, and why not (R1.5–R1.8, R2.1–R2.3).
//!
//! Two pure steps. [`ledger`] replays a subsidy's history — its bills, the payments by date, the insurer's backdate
//! corrections — applying each payment to the oldest open bill and declaring a lapse when three consecutive billed
//! months are all unpaid past their due date (the 15th, R1.5/R1.6); what was unpaid at a lapse can no longer be
//! paid, and the contribution period restarts. [`verify`] then judges one worker on one date against that ledger.

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::{agency::AgencyKind, money::Rupiah, month::Month, nik::Nik, participant::ParticipantNumber};

/// The day of the month by which a month's contribution is due (R1.5).
pub const DUE_DAY: u32 = 15;
/// Consecutive unpaid months after which the membership ends (R1.6).
pub const LAPSE_AFTER: usize = 3;
/// Consecutive unpaid months at which the funder is warned (R1.7).
pub const WARN_AT: usize = 2;

/// One billed month of a subsidy after the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthState {
    pub month: Month,
    pub billed: Rupiah,
    pub paid: Rupiah,
    /// The date the month became fully paid.
    pub paid_on: Option<NaiveDate>,
    /// Unpaid when the membership lapsed: no longer payable.
    pub written_off: bool,
}

/// A subsidy's replayed history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ledger {
    pub months: Vec<MonthState>,
    /// The dates memberships lapsed, with the last month of each unpaid run.
    pub lapses: Vec<(NaiveDate, Month)>,
    /// Payments beyond every open bill.
    pub credit: Rupiah,
}

/// The date after which `month` counts as unpaid (R1.5).
pub fn due(month: Month) -> NaiveDate {
    month.first_day().with_day(DUE_DAY).expect("every month has a 15th")
}

/// Replays bills (any order), payments (date, amount) and backdated lapse months up to `today`.
pub fn ledger(
    bills: &[(Month, Rupiah)],
    payments: &[(NaiveDate, Rupiah)],
    backdated: &[Month],
    today: NaiveDate,
) -> Ledger {
    let mut months: Vec<MonthState> = bills
        .iter()
        .map(|&(month, billed)| MonthState { month, billed, paid: Rupiah::ZERO, paid_on: None, written_off: false })
        .collect();
    months.sort_by_key(|m| m.month);
    let mut payments = payments.to_vec();
    payments.sort_by_key(|p| p.0);

    // Events in date order; on one day, payments come before the lapse check.
    let mut checks: Vec<NaiveDate> = months.iter().map(|m| due(m.month).succ_opt().expect("dates go on")).collect();
    checks.retain(|d| *d <= today);
    let mut pool = Rupiah::ZERO;
    let mut lapses = Vec::new();
    let (mut p, mut c) = (0, 0);
    while p < payments.len() || c < checks.len() {
        let take_payment = match (payments.get(p), checks.get(c)) {
            (Some(pay), Some(check)) => pay.0 <= *check,
            (Some(_), None) => true,
            _ => false,
        };
        if take_payment {
            let (date, amount) = payments[p];
            p += 1;
            pool += amount;
            for state in months.iter_mut().filter(|m| !m.written_off && m.paid_on.is_none()) {
                let owed = state.billed.checked_sub(state.paid).unwrap_or(Rupiah::ZERO);
                let applied = if pool >= owed { owed } else { pool };
                state.paid += applied;
                pool = pool.checked_sub(applied).unwrap_or(Rupiah::ZERO);
                if state.paid >= state.billed {
                    state.paid_on = Some(date);
                } else {
                    break;
                }
            }
        } else {
            let date = checks[c];
            c += 1;
            let Some(last) = months.iter().position(|m| due(m.month).succ_opt() == Some(date)) else { continue };
            if last + 1 < LAPSE_AFTER {
                continue;
            }
            let run = &months[last + 1 - LAPSE_AFTER..=last];
            let consecutive = run.windows(2).all(|w| w[0].month.next() == w[1].month);
            let unpaid = run.iter().all(|m| m.paid_on.is_none() && !m.written_off);
            if consecutive && unpaid && !backdated.contains(&months[last].month) {
                lapses.push((date, months[last].month));
                for state in months[..=last].iter_mut().filter(|m| m.paid_on.is_none()) {
                    state.written_off = true;
                }
            }
        }
    }
    Ledger { months, lapses, credit: pool }
}

impl Ledger {
    fn state(&self, month: Month) -> Option<&MonthState> {
        self.months.iter().find(|m| m.month == month)
    }

    /// The date the membership lapsed, while no month after the lapse has been paid (R1.6): the cohort's
    /// enrollments are LAPSED until a new payment starts a new membership or the insurer backdates the lapse.
    pub fn lapsed_on(&self) -> Option<NaiveDate> {
        let &(on, last) = self.lapses.last()?;
        let paid_since = self.months.iter().any(|m| m.month > last && m.paid_on.is_some());
        (!paid_since).then_some(on)
    }

    /// What the funder owes on `on` and the lapses so far (R1.6, R1.7); `months` limits the unpaid months to one
    /// worker's billed months.
    pub fn arrears(&self, on: NaiveDate, months: Option<&[Month]>) -> Arrears {
        let unpaid: Vec<Month> =
            self.unpaid_run(on).into_iter().filter(|m| months.is_none_or(|only| only.contains(m))).collect();
        Arrears { warning: unpaid.len() >= WARN_AT, unpaid_months: unpaid, lapses: self.lapses.clone() }
    }

    /// Consecutive months, ending with the latest billed month due by `on`, that are unpaid and still payable.
    pub fn unpaid_run(&self, on: NaiveDate) -> Vec<Month> {
        let mut run: Vec<Month> = self
            .months
            .iter()
            .rev()
            .filter(|m| due(m.month) < on)
            .take_while(|m| m.paid_on.is_none() && !m.written_off)
            .map(|m| m.month)
            .collect();
        run.reverse();
        run
    }
}

/// A subsidy's arrears: the unpaid run, whether the funder is warned (R1.7), and the lapses (R1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrears {
    pub warning: bool,
    pub unpaid_months: Vec<Month>,
    /// The dates memberships lapsed, with the last month of each unpaid run.
    pub lapses: Vec<(NaiveDate, Month)>,
}

/// The programme a coverage question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Programme {
    /// Work accident insurance.
    Jkk,
    /// Death insurance.
    Jkm,
}

/// A coverage question: is the worker named by NIK or participant number covered on `date`?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub nik: Option<Nik>,
    pub participant_number: Option<ParticipantNumber>,
    pub date: NaiveDate,
    pub programme: Programme,
}

/// The answer to a coverage question; `details` only for the insurer and the worker's funders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Result<Covered, NotCovered>,
    pub details: Option<Details>,
    /// The worker the question named, when registered (for an attestation of the answer).
    pub worker: Option<Nik>,
    /// When covered, the last day the coverage extends to as known now (see [`covered_until`]).
    pub covered_until: Option<NaiveDate>,
}

/// What an entitled caller learns of a covered worker beyond the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// The JKM death benefit on the date (R2.1, R2.2), for a JKM question.
    pub death_benefit: Option<Rupiah>,
    /// Whether heirs may claim scholarships (R2.3).
    pub scholarship_eligible: bool,
}

/// Why a worker is not covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCovered {
    NotEnrolled,
    PendingRegistration,
    MonthUnpaid,
    InArrearsWindow,
    Lapsed,
    Ended,
    Deceased,
}

impl NotCovered {
    pub fn code(self) -> &'static str {
        match self {
            NotCovered::NotEnrolled => "NOT_ENROLLED",
            NotCovered::PendingRegistration => "PENDING_REGISTRATION",
            NotCovered::MonthUnpaid => "MONTH_UNPAID",
            NotCovered::InArrearsWindow => "IN_ARREARS_WINDOW",
            NotCovered::Lapsed => "LAPSED",
            NotCovered::Ended => "ENDED",
            NotCovered::Deceased => "DECEASED",
        }
    }
}

/// One enrollment of the worker, as coverage sees it.
#[derive(Debug, Clone)]
pub struct Funding {
    pub subsidy_id: Uuid,
    pub funder_kind: AgencyKind,
    pub funder_id: Uuid,
    pub status: crate::enrollment::Status,
    pub first_month: Month,
    /// Exclusive; None when ended before its first month.
    pub end_month: Option<Month>,
    pub protection_start: Option<NaiveDate>,
    /// The months the worker was billed for (net of adjustments) under this enrollment.
    pub billed_months: Vec<Month>,
}

impl Funding {
    fn funds(&self, month: Month) -> bool {
        self.status != crate::enrollment::Status::Rejected
            && self.first_month <= month
            && self.end_month.is_some_and(|end| month < end)
    }
}

/// Coverage on a date, when covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    pub subsidy_id: Uuid,
    pub funder_kind: AgencyKind,
    pub funder_id: Uuid,
    pub protection_start: NaiveDate,
    pub paid_through: Month,
    /// Paid months of the current unbroken membership up to the date's month (masa iur).
    pub contribution_months: u32,
}

/// Judges a worker on `date`: `fundings` are all their enrollments, `ledgers` the replayed history of each subsidy.
pub fn verify(
    fundings: &[Funding],
    ledgers: &dyn Fn(Uuid) -> Option<Ledger>,
    date_of_death: Option<NaiveDate>,
    date: NaiveDate,
) -> Result<Covered, NotCovered> {
    if date_of_death.is_some_and(|died| died < date) {
        return Err(NotCovered::Deceased);
    }
    let month = Month::of(date);
    let Some(funding) = fundings.iter().find(|f| f.funds(month)) else {
        let ended = fundings.iter().any(|f| f.status == crate::enrollment::Status::Ended && f.first_month <= month);
        return Err(if ended { NotCovered::Ended } else { NotCovered::NotEnrolled });
    };
    use crate::enrollment::Status;
    let start = match (funding.status, funding.protection_start) {
        (Status::Active | Status::Ended, Some(start)) if start <= date => start,
        _ => return Err(NotCovered::PendingRegistration),
    };
    let ledger = ledgers(funding.subsidy_id).unwrap_or_default();
    let state = ledger.state(month).filter(|_| funding.billed_months.contains(&month));
    match state {
        Some(s) if s.written_off => return Err(NotCovered::Lapsed),
        // Paid, even late: arrears paid within the window restore the month (R1.6).
        Some(s) if s.paid_on.is_some() => {}
        _ => {
            // After a lapse and before a newly paid month, the membership is gone, not merely in arrears.
            let lapsed = ledger.lapses.iter().rev().find(|(on, _)| *on <= date).map(|l| l.1);
            if let Some(lapsed) = lapsed
                && !ledger.months.iter().any(|m| m.month > lapsed && m.month <= month && m.paid_on.is_some())
            {
                return Err(NotCovered::Lapsed);
            }
            let run = ledger.unpaid_run(date);
            return Err(if run.len() >= WARN_AT { NotCovered::InArrearsWindow } else { NotCovered::MonthUnpaid });
        }
    }
    let contribution_months = contribution_months(fundings, &|id| ledgers(id), month);
    let paid_through = ledger.months.iter().filter(|m| m.paid_on.is_some()).map(|m| m.month).max().unwrap_or(month);
    Ok(Covered {
        subsidy_id: funding.subsidy_id,
        funder_kind: funding.funder_kind,
        funder_id: funding.funder_id,
        protection_start: start,
        paid_through,
        contribution_months,
    })
}

/// The last day a covered worker stays covered as far as is known now: the end of the paid-through month, but no
/// later than the last month the covering enrollment funds, nor than a known death. Only a report (a death, an
/// ending) can make it earlier: a paid month is never written off (R1.6).
pub fn covered_until(
    covered: &Covered,
    fundings: &[Funding],
    date_of_death: Option<NaiveDate>,
    date: NaiveDate,
) -> NaiveDate {
    let mut until = covered.paid_through.last_day();
    let month = Month::of(date);
    let funding = fundings.iter().find(|f| f.subsidy_id == covered.subsidy_id && f.funds(month));
    if let Some(end) = funding.and_then(|f| f.end_month) {
        until = until.min(end.prev().last_day());
    }
    if let Some(died) = date_of_death {
        until = until.min(died);
    }
    until.max(date)
}

/// Paid months of the worker's current unbroken membership, up to and including `month`: counted back from
/// `month` across every enrollment (a hand-over keeps the membership), stopping at a month written off by a lapse.
pub fn contribution_months(fundings: &[Funding], ledgers: &dyn Fn(Uuid) -> Option<Ledger>, month: Month) -> u32 {
    let mut billed: Vec<MonthState> = Vec::new();
    for funding in fundings {
        let Some(ledger) = ledgers(funding.subsidy_id) else { continue };
        for m in funding.billed_months.iter().filter(|m| **m <= month) {
            billed.extend(ledger.state(*m).cloned());
        }
    }
    billed.sort_by_key(|s| std::cmp::Reverse(s.month));
    billed.iter().take_while(|s| !s.written_off).filter(|s| s.paid_on.is_some()).count() as u32
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

    fn rp(n: u64) -> Rupiah {
        Rupiah::from_whole(n)
    }

    const SUBSIDY: Uuid = Uuid::from_u128(1);

    fn bills(months: &[&str]) -> Vec<(Month, Rupiah)> {
        months.iter().map(|s| (m(s), rp(16_800))).collect()
    }

    fn funding(months: &[&str]) -> Funding {
        Funding {
            subsidy_id: SUBSIDY,
            funder_kind: AgencyKind::City,
            funder_id: Uuid::from_u128(2),
            status: crate::enrollment::Status::Active,
            first_month: m("2025-09"),
            end_month: Some(m("2026-12")),
            protection_start: Some(d("2025-09-01")),
            billed_months: months.iter().map(|s| m(s)).collect(),
        }
    }

    const MONTHS: [&str; 7] = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"];

    /// The acceptance story: September and October paid on time, November late but within the window, December to
    /// February never, March paid.
    fn story(backdated: &[Month], today: &str) -> Ledger {
        let payments = [
            (d("2025-09-10"), rp(16_800)),
            (d("2025-10-10"), rp(16_800)),
            (d("2025-12-05"), rp(16_800)),
            (d("2026-03-10"), rp(16_800)),
        ];
        let payments: Vec<_> = payments.into_iter().filter(|p| p.0 <= d(today)).collect();
        ledger(&bills(&MONTHS), &payments, backdated, d(today))
    }

    fn check(ledger: &Ledger, date: &str, expected: Result<u32, NotCovered>) {
        let fundings = [funding(&MONTHS)];
        let got = verify(&fundings, &|_| Some(ledger.clone()), None, d(date)).map(|c| c.contribution_months);
        assert_eq!(got, expected, "on {date}");
    }

    #[test]
    fn a_paid_month_covers_and_an_unpaid_one_does_not() {
        let before_late_payment = story(&[], "2025-11-30");
        check(&before_late_payment, "2025-10-20", Ok(2));
        check(&before_late_payment, "2025-11-20", Err(NotCovered::MonthUnpaid));
    }

    #[test]
    fn arrears_paid_within_the_window_restore_the_month_and_continuity() {
        let after = story(&[], "2025-12-31");
        check(&after, "2025-11-20", Ok(3));
    }

    #[test]
    fn two_unpaid_months_warn_and_three_lapse() {
        let january = story(&[], "2026-01-20");
        assert_eq!(january.unpaid_run(d("2026-01-20")), [m("2025-12"), m("2026-01")]);
        check(&january, "2026-01-20", Err(NotCovered::InArrearsWindow));
        let february = story(&[], "2026-02-20");
        assert_eq!(february.lapses, [(d("2026-02-16"), m("2026-02"))]);
        check(&february, "2026-02-20", Err(NotCovered::Lapsed));
        check(&february, "2025-12-20", Err(NotCovered::Lapsed));
    }

    #[test]
    fn a_payment_after_a_lapse_starts_a_new_membership() {
        let march = story(&[], "2026-03-20");
        check(&march, "2026-03-20", Ok(1));
    }

    #[test]
    fn a_backdated_lapse_keeps_the_membership_and_the_arrears_payable() {
        let march = story(&[m("2026-02")], "2026-03-12");
        assert!(march.lapses.is_empty());
        // The March payment settles December, the oldest open month.
        assert_eq!(march.months[3].paid_on, Some(d("2026-03-10")));
        check(&march, "2025-12-20", Ok(4));
        // Still owing January to March on the 16th, the membership does lapse then.
        let later = story(&[m("2026-02")], "2026-03-20");
        assert_eq!(later.lapses, [(d("2026-03-16"), m("2026-03"))]);
    }

    #[test]
    fn payments_fill_the_oldest_open_month_and_the_rest_is_credit() {
        let l = ledger(&bills(&["2025-09", "2025-10"]), &[(d("2025-09-01"), rp(40_000))], &[], d("2025-09-02"));
        assert_eq!(l.months[0].paid_on, Some(d("2025-09-01")));
        assert_eq!(l.months[1].paid_on, Some(d("2025-09-01")));
        assert_eq!(l.credit, rp(6_400));
        let partial = ledger(&bills(&["2025-09"]), &[(d("2025-09-01"), rp(10_000))], &[], d("2025-09-02"));
        assert_eq!((partial.months[0].paid, partial.months[0].paid_on), (rp(10_000), None));
    }

    #[test]
    fn coverage_extends_to_the_paid_through_month_within_the_enrollment_and_life() {
        let l = story(&[], "2025-10-31");
        let fundings = [funding(&MONTHS)];
        let check = |fundings: &[Funding], died: Option<&str>, expected: &str| {
            let died = died.map(d);
            let covered = verify(fundings, &|_| Some(l.clone()), died, d("2025-10-01")).unwrap();
            assert_eq!(covered_until(&covered, fundings, died, d("2025-10-01")), d(expected), "{died:?}");
        };
        check(&fundings, None, "2025-10-31");
        check(&fundings, Some("2025-10-09"), "2025-10-09");
        let prepaid = ledger(&bills(&MONTHS), &[(d("2025-09-10"), rp(16_800 * 5))], &[], d("2025-10-31"));
        let covered = verify(&fundings, &|_| Some(prepaid.clone()), None, d("2025-10-01")).unwrap();
        assert_eq!(covered_until(&covered, &fundings, None, d("2025-10-01")), d("2026-01-31"));
        let mut ending = funding(&MONTHS);
        ending.end_month = Some(m("2025-12"));
        assert_eq!(covered_until(&covered, &[ending], None, d("2025-10-01")), d("2025-11-30"));
    }

    #[test]
    fn the_reasons_before_and_after_funding() {
        let l = story(&[], "2025-12-31");
        let mut pending = funding(&MONTHS);
        pending.status = crate::enrollment::Status::Pending;
        pending.protection_start = None;
        assert_eq!(
            verify(&[pending], &|_| Some(l.clone()), None, d("2025-10-20")),
            Err(NotCovered::PendingRegistration)
        );
        assert_eq!(verify(&[], &|_| None, None, d("2025-10-20")), Err(NotCovered::NotEnrolled));
        let mut ended = funding(&MONTHS);
        ended.status = crate::enrollment::Status::Ended;
        ended.end_month = Some(m("2025-11"));
        assert_eq!(verify(&[ended.clone()], &|_| Some(l.clone()), None, d("2025-11-20")), Err(NotCovered::Ended));
        assert!(verify(&[ended], &|_| Some(l.clone()), None, d("2025-10-20")).is_ok());
        let died = Some(d("2025-10-01"));
        assert_eq!(verify(&[funding(&MONTHS)], &|_| Some(l.clone()), died, d("2025-10-20")), Err(NotCovered::Deceased));
    }
}
