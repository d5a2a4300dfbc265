//! Contributions (iuran): monthly bills per subsidy and the funders' payments (R1.1–R1.5).
//!
//! Payments are not earmarked: a subsidy's payments are applied to its bills oldest month first, and what exceeds
//! the bills issued so far is credit for the next ones (prepayment, R1.5). [`allocate`] is that rule.

pub mod grpc;
pub mod store;

use crate::money::Rupiah;

/// How much of a bill is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillState {
    Unpaid,
    PartiallyPaid,
    Paid,
}

impl BillState {
    pub fn of(billed: Rupiah, paid: Rupiah) -> BillState {
        if paid >= billed {
            BillState::Paid
        } else if paid == Rupiah::ZERO {
            BillState::Unpaid
        } else {
            BillState::PartiallyPaid
        }
    }
}

/// Applies `paid` to `billed` (oldest first): what each bill received, and the credit left over.
pub fn allocate(billed: &[Rupiah], paid: Rupiah) -> (Vec<Rupiah>, Rupiah) {
    let mut left = paid;
    let received = billed
        .iter()
        .map(|&bill| {
            let applied = if left >= bill { bill } else { left };
            left = left.checked_sub(applied).unwrap_or(Rupiah::ZERO);
            applied
        })
        .collect();
    (received, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(n: u64) -> Rupiah {
        Rupiah::from_whole(n)
    }

    #[test]
    fn payments_go_to_the_oldest_bills_first_and_the_rest_is_credit() {
        let check = |billed: &[u64], paid: u64, expected: &[u64], credit: u64| {
            let billed: Vec<Rupiah> = billed.iter().map(|&b| rp(b)).collect();
            let (received, left) = allocate(&billed, rp(paid));
            assert_eq!(received, expected.iter().map(|&e| rp(e)).collect::<Vec<_>>(), "{billed:?} {paid}");
            assert_eq!(left, rp(credit));
        };
        check(&[16_800, 16_800, 16_800], 0, &[0, 0, 0], 0);
        check(&[16_800, 16_800, 16_800], 16_800, &[16_800, 0, 0], 0);
        check(&[16_800, 16_800, 16_800], 20_000, &[16_800, 3_200, 0], 0);
        check(&[16_800, 16_800], 50_400, &[16_800, 16_800], 16_800);
        check(&[], 16_800, &[], 16_800);
        check(&[0, 16_800], 10_000, &[0, 10_000], 0);
    }

    #[test]
    fn a_bill_is_unpaid_partially_paid_or_paid() {
        assert_eq!(BillState::of(rp(16_800), rp(0)), BillState::Unpaid);
        assert_eq!(BillState::of(rp(16_800), rp(1)), BillState::PartiallyPaid);
        assert_eq!(BillState::of(rp(16_800), rp(16_800)), BillState::Paid);
        assert_eq!(BillState::of(rp(0), rp(0)), BillState::Paid);
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
