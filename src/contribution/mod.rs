//! Contributions (iuran): monthly bills per subsidy and the funders' payments (R1.1–R1.6).
//!
//! Payments are not earmarked, and bills keep no allocation of their own: what a bill has received is read from the
//! subsidy's coverage ledger ([`coverage::ledger`]), the one replay of bills, payments by date, lapses and
//! backdates that `VerifyCoverage` also judges by. So a bill is paid exactly when coverage counts its month as paid.
//! [`Settlement::of`] turns one month of that ledger into what a bill shows.

pub mod grpc;
pub mod service;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    coverage,
    coverage::MonthState,
    error::{Error, Refusal},
    money::Rupiah,
    month::Month,
    subsidy::Subsidy,
};

/// A monthly bill of a subsidy, settled as its coverage ledger settles the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub id: Uuid,
    pub subsidy_id: Uuid,
    pub month: Month,
    pub workers: u32,
    pub jkk: Rupiah,
    pub jkm: Rupiah,
    pub settlement: Settlement,
    pub adjustments: u32,
    pub issued_at: DateTime<Utc>,
}

/// A payment as a funder reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// More than zero.
    pub amount: Rupiah,
    pub paid_on: NaiveDate,
    /// The funder's reference, which makes a resend harmless.
    pub reference: String,
}

/// A bill is issued only for a month the subsidy funds (R1.5).
pub fn billable(subsidy: &Subsidy, month: Month) -> Result<(), Error> {
    if subsidy.funds(month) {
        return Ok(());
    }
    Err(Error::Refused(vec![Refusal::new(
        "R1.5",
        crate::msg!(MONTH_NOT_FUNDED, first = subsidy.first_month, last = subsidy.last_month, month = month),
    )]))
}

/// How a bill stands in its subsidy's ledger.
///
/// `Paid` months are the ones `VerifyCoverage` counts as paid (the worker is covered in them, on time or paid late
/// within the arrears window); `WrittenOff` months are the ones it answers `LAPSED` for; `Unpaid` and
/// `PartiallyPaid` months are still payable and not covered (`MONTH_UNPAID`, `IN_ARREARS_WINDOW`, or `LAPSED` when
/// they come after a lapse that no payment has ended yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillState {
    Unpaid,
    PartiallyPaid,
    Paid,
    /// The membership lapsed while the month was not fully paid (R1.6): it can no longer be paid, and what was not
    /// paid is written off rather than owed. A payment now goes to the next month still payable, or is credit.
    WrittenOff,
}

/// A bill's amounts as the ledger settled them: `billed = paid + outstanding + written_off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub billed: Rupiah,
    /// What payments were applied to the month (before its lapse, for a written-off month).
    pub paid: Rupiah,
    /// What is still payable: zero once paid or written off.
    pub outstanding: Rupiah,
    /// What the lapse wrote off: `billed - paid` for a written-off month, else zero.
    pub written_off: Rupiah,
    pub state: BillState,
}

impl Settlement {
    /// The settlement of one month of a subsidy's ledger.
    pub fn of(month: &MonthState) -> Settlement {
        let unpaid = month.billed.checked_sub(month.paid).unwrap_or(Rupiah::ZERO);
        let state = if month.written_off {
            BillState::WrittenOff
        } else if month.paid >= month.billed {
            BillState::Paid
        } else if month.paid == Rupiah::ZERO {
            BillState::Unpaid
        } else {
            BillState::PartiallyPaid
        };
        let (outstanding, written_off) =
            if month.written_off { (Rupiah::ZERO, unpaid) } else { (unpaid, Rupiah::ZERO) };
        Settlement { billed: month.billed, paid: month.paid, outstanding, written_off, state }
    }
}

/// The settlements of a subsidy's bills, month by month, from its ledger; the ledger's `credit` is what payments
/// exceed every bill still payable by.
pub fn settlements(ledger: &coverage::Ledger) -> impl Iterator<Item = (crate::month::Month, Settlement)> + '_ {
    ledger.months.iter().map(|m| (m.month, Settlement::of(m)))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::month::Month;

    fn rp(n: u64) -> Rupiah {
        Rupiah::from_whole(n)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// (state, paid, outstanding, written off) of each bill of `months` (16,800 each) after `payments`, as of `today`.
    fn check(months: &[&str], payments: &[(&str, u64)], today: &str, expected: &[(BillState, u64, u64, u64)]) {
        let bills: Vec<(Month, Rupiah)> = months.iter().map(|m| (Month::parse(m).unwrap(), rp(16_800))).collect();
        let payments: Vec<(NaiveDate, Rupiah)> = payments.iter().map(|&(on, amount)| (d(on), rp(amount))).collect();
        let ledger = coverage::ledger(&bills, &payments, &[], d(today));
        let got: Vec<_> = settlements(&ledger).map(|(_, s)| s).collect();
        let expected: Vec<Settlement> = expected
            .iter()
            .map(|&(state, paid, outstanding, written_off)| Settlement {
                billed: rp(16_800),
                paid: rp(paid),
                outstanding: rp(outstanding),
                written_off: rp(written_off),
                state,
            })
            .collect();
        assert_eq!(got, expected, "{months:?} {payments:?}");
        for s in got {
            assert_eq!(s.billed, s.paid + s.outstanding + s.written_off);
        }
    }

    #[test]
    fn a_bill_is_paid_as_the_ledger_paid_its_month() {
        use BillState::*;
        // The oldest payable month first; what exceeds the bills is credit.
        check(
            &["2025-09", "2025-10"],
            &[("2025-09-10", 20_000)],
            "2025-09-20",
            &[(Paid, 16_800, 0, 0), (PartiallyPaid, 3_200, 13_600, 0)],
        );
        check(&["2025-09"], &[], "2025-09-20", &[(Unpaid, 0, 16_800, 0)]);
    }

    #[test]
    fn months_unpaid_at_a_lapse_are_written_off_and_a_later_payment_pays_a_later_month() {
        use BillState::*;
        let months = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"];
        let payments = [("2025-09-10", 16_800), ("2025-10-10", 16_800), ("2025-12-05", 16_800), ("2026-03-10", 16_800)];
        check(
            &months,
            &payments,
            "2026-03-20",
            &[
                (Paid, 16_800, 0, 0),
                (Paid, 16_800, 0, 0),
                (Paid, 16_800, 0, 0),
                (WrittenOff, 0, 0, 16_800),
                (WrittenOff, 0, 0, 16_800),
                (WrittenOff, 0, 0, 16_800),
                (Paid, 16_800, 0, 0),
            ],
        );
        // A month part paid when the membership lapsed keeps what it received; the rest is written off.
        check(
            &["2025-09", "2025-10", "2025-11"],
            &[("2025-09-10", 5_000)],
            "2025-11-20",
            &[(WrittenOff, 5_000, 0, 11_800), (WrittenOff, 0, 0, 16_800), (WrittenOff, 0, 0, 16_800)],
        );
    }

    #[test]
    fn the_kota_bogor_monthly_bill_is_exact() {
        let jkk = Rupiah::from_whole(10_000).times(7_894);
        let jkm = Rupiah::from_whole(6_800).times(7_894);
        assert_eq!(
            (jkk.to_string(), jkm.to_string(), (jkk + jkm).to_string()),
            ("78940000".into(), "53679200".into(), "132619200".into())
        );
    }
}
