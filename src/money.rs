//! Amounts of rupiah, exact: contributions, budget ceilings and commitments (R1).
//!
//! The one rounding rule: an amount carries at most 2 fractional digits (sen) when it enters lindung, and sums
//! and products by whole counts (workers, months) are exact. Where a division is needed (a day of temporary
//! inability to work, a percentage of disability), [`Rupiah::rounded`] rounds half away from zero to 2 digits, once,
//! at the end of the computation.
//!
//! On the wire an amount is a decimal string (`16800`, `16800.5`), never a float: 0.1 has no exact binary form.

use std::{
    fmt,
    iter::Sum,
    ops::{Add, AddAssign},
};

use rust_decimal::Decimal;

/// An exact amount of rupiah: non-negative, at most 2 fractional digits. Never a float.
///
/// Kept normalised (no trailing zeros), so that equal amounts look and hash alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rupiah(Decimal);

/// Why a string or a decimal is not an amount of rupiah.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal amount of rupiah like 16800 or 16800.50")]
    Format,
    #[error("must not be negative")]
    Negative,
    #[error("must have at most 2 decimal places (sen), like 16800.50")]
    Precision,
    #[error("must be at most Rp1000000000000000 (10^15)")]
    TooLarge,
}

impl Rupiah {
    /// The one rounding rule: half away from zero to sen (2 digits), applied once at the end of a computation.
    pub fn rounded(amount: Decimal) -> Result<Rupiah, MoneyError> {
        Rupiah::new(amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
    }

    pub const ZERO: Rupiah = Rupiah(Decimal::ZERO);

    /// The largest amount accepted from outside: far above any budget, far below where `Decimal` loses exactness.
    const MAX_WHOLE: u64 = 1_000_000_000_000_000;

    /// Parses the wire form: ASCII digits with an optional `.` and fraction. Nothing is trimmed and no signs,
    /// exponents or thousands separators are taken, so one amount has few spellings and none is ambiguous
    /// (`1,000` is one thousand in English and one in Indonesian). Trailing zeros of the fraction are ignored.
    pub fn parse(s: &str) -> Result<Rupiah, MoneyError> {
        let (negative, unsigned) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(fraction) {
            return Err(MoneyError::Format);
        }
        if negative {
            return Err(MoneyError::Negative);
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 2 {
            return Err(MoneyError::Precision);
        }
        let whole = whole.trim_start_matches('0');
        // 17 digits is more than 10^15 whatever they are; fewer fit a u64.
        let too_large = || MoneyError::TooLarge;
        if whole.len() > 16 {
            return Err(too_large());
        }
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large())? };
        let cents: u64 = format!("{fraction:0<2}").parse().expect("two checked digits");
        if whole > Self::MAX_WHOLE || (whole == Self::MAX_WHOLE && cents > 0) {
            return Err(too_large());
        }
        let mantissa = i64::try_from(whole * 100 + cents).expect("at most 10^17");
        Ok(Rupiah(Decimal::new(mantissa, 2).normalize()))
    }

    /// Checks a decimal from elsewhere (a database `numeric`, a computation) against the same rules as `parse`.
    pub fn new(amount: Decimal) -> Result<Rupiah, MoneyError> {
        let amount = amount.normalize();
        if amount.is_sign_negative() {
            return Err(MoneyError::Negative);
        }
        if amount.scale() > 2 {
            return Err(MoneyError::Precision);
        }
        if amount > Decimal::from(Self::MAX_WHOLE) {
            return Err(MoneyError::TooLarge);
        }
        Ok(Rupiah(amount))
    }

    pub fn from_whole(rupiah: u64) -> Rupiah {
        Rupiah(Decimal::from(rupiah))
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    /// The amount `n` times over, exactly: a monthly contribution for a number of workers or months.
    ///
    /// # Panics
    /// If the product leaves `Decimal`'s range (about 7.9 × 10^28), which no real amount approaches.
    pub fn times(self, n: u64) -> Rupiah {
        let product = self.0.checked_mul(Decimal::from(n)).expect("an amount of rupiah within Decimal's range");
        Rupiah(product.normalize())
    }

    /// None when `other` is larger: an amount is never negative.
    pub fn checked_sub(self, other: Rupiah) -> Option<Rupiah> {
        (other <= self).then(|| Rupiah((self.0 - other.0).normalize()))
    }
}

impl Add for Rupiah {
    type Output = Rupiah;

    fn add(self, other: Rupiah) -> Rupiah {
        Rupiah((self.0 + other.0).normalize())
    }
}

impl AddAssign for Rupiah {
    fn add_assign(&mut self, other: Rupiah) {
        *self = *self + other;
    }
}

impl Sum for Rupiah {
    fn sum<I: Iterator<Item = Rupiah>>(iter: I) -> Rupiah {
        iter.fold(Rupiah::ZERO, Add::add)
    }
}

impl From<Rupiah> for crate::messages::Arg {
    fn from(amount: Rupiah) -> Self {
        crate::messages::Arg::Rupiah(amount.0)
    }
}

impl fmt::Display for Rupiah {
    /// The wire form: no trailing zeros, no separators, no currency sign (`16800`, `16800.5`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

impl MoneyError {
    /// Stable code for `google.rpc.BadRequest.FieldViolation.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            MoneyError::Format => "MONEY_FORMAT",
            MoneyError::Negative => "MONEY_NEGATIVE",
            MoneyError::Precision => "MONEY_PRECISION",
            MoneyError::TooLarge => "MONEY_TOO_LARGE",
        }
    }

    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        match self {
            MoneyError::Format => crate::msg!(MONEY_FORMAT),
            MoneyError::Negative => crate::msg!(MONEY_NEGATIVE),
            MoneyError::Precision => crate::msg!(MONEY_PRECISION),
            MoneyError::TooLarge => crate::msg!(MONEY_TOO_LARGE),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn rp(s: &str) -> Rupiah {
        Rupiah::parse(s).unwrap()
    }

    fn decimal(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_parse_to_their_canonical_form_and_everything_else_is_refused() {
        let check = |input: &str, expected: Result<&str, &str>| {
            let actual = Rupiah::parse(input).map(|r| r.to_string()).map_err(|e| e.reason());
            assert_eq!(actual.as_deref().map_err(|e| *e), expected, "{input:?}");
        };
        check("16800", Ok("16800"));
        check("16800.5", Ok("16800.5"));
        check("16800.50", Ok("16800.5"));
        check("16800.00", Ok("16800"));
        check("16800.0", Ok("16800"));
        check("16800.500", Ok("16800.5"));
        check("0.01", Ok("0.01"));
        check("0", Ok("0"));
        check("0.00", Ok("0"));
        check("007", Ok("7"));
        check("1000000000000000", Ok("1000000000000000"));
        check("1000000000000000.00", Ok("1000000000000000"));
        for bad in ["", "-", ".", ".5", "16800.", "1e3", "1E3", " 1", "1 ", "1,000", "1.000,50", "+1", "Rp16800", "１"]
        {
            check(bad, Err("MONEY_FORMAT"));
        }
        check("-1", Err("MONEY_NEGATIVE"));
        check("-0", Err("MONEY_NEGATIVE"));
        check("-16800.50", Err("MONEY_NEGATIVE"));
        check("1.234", Err("MONEY_PRECISION"));
        check("0.001", Err("MONEY_PRECISION"));
        check("1000000000000000.01", Err("MONEY_TOO_LARGE"));
        check("1000000000000001", Err("MONEY_TOO_LARGE"));
        check("99999999999999999999999999999999999", Err("MONEY_TOO_LARGE"));
    }

    #[test]
    fn errors_say_what_an_amount_must_look_like() {
        let check = |input: &str, expected: &str| assert_eq!(Rupiah::parse(input).unwrap_err().to_string(), expected);
        check("1,000", "must be a decimal amount of rupiah like 16800 or 16800.50");
        check("-1", "must not be negative");
        check("1.234", "must have at most 2 decimal places (sen), like 16800.50");
        check("1000000000000001", "must be at most Rp1000000000000000 (10^15)");
    }

    #[test]
    fn decimals_from_elsewhere_follow_the_same_rules() {
        let check = |input: Decimal, expected: Result<&str, MoneyError>| {
            assert_eq!(Rupiah::new(input).map(|r| r.to_string()).as_deref(), expected.as_ref().map(|s| *s), "{input}");
        };
        check(decimal("16800.00"), Ok("16800"));
        check(decimal("16800.5000"), Ok("16800.5"));
        check(decimal("-0.00"), Ok("0"));
        check(decimal("-0.01"), Err(MoneyError::Negative));
        check(decimal("0.005"), Err(MoneyError::Precision));
        check(decimal("1000000000000000"), Ok("1000000000000000"));
        check(decimal("1000000000000000.01"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn the_kota_bogor_monthly_sums_are_exact() {
        let package = rp("10000") + rp("6800");
        assert_eq!(package, Rupiah::from_whole(16_800));
        assert_eq!(package.times(7_894), Rupiah::from_whole(132_619_200));
        assert_eq!(package.times(14_580), Rupiah::from_whole(244_944_000));
        assert_eq!(package.times(7_894).to_string(), "132619200");
        assert_eq!(package.times(14_580).amount(), Decimal::from(244_944_000));
        assert_eq!(package.times(7_894) + package.times(14_580), package.times(22_474));
    }

    #[test]
    fn arithmetic_is_exact_and_never_goes_below_zero() {
        assert_eq!(rp("0.10").times(3), rp("0.3"), "0.1 × 3 is 0.3, not 0.30000000000000004");
        assert_eq!(rp("16800.50").times(2).to_string(), "33601");
        assert_eq!(rp("0.01").times(0), Rupiah::ZERO);
        assert_eq!([rp("0.1"), rp("0.2")].into_iter().sum::<Rupiah>(), rp("0.3"));
        assert_eq!(std::iter::empty::<Rupiah>().sum::<Rupiah>(), Rupiah::ZERO);
        let mut total = Rupiah::ZERO;
        total += rp("16800.25");
        total += rp("0.75");
        assert_eq!(total.to_string(), "16801");
        assert_eq!(rp("16800").checked_sub(rp("6800")), Some(rp("10000")));
        assert_eq!(rp("16800").checked_sub(rp("16800")), Some(Rupiah::ZERO));
        assert_eq!(rp("16800").checked_sub(rp("16800.01")), None);
        assert_eq!(Rupiah::default(), Rupiah::ZERO);
        assert!(rp("9.99") < rp("10"));
    }

    #[test]
    fn equal_amounts_are_equal_whatever_their_spelling() {
        use std::collections::HashSet;
        let set: HashSet<Rupiah> = ["16800", "16800.0", "16800.00", "016800"].into_iter().map(rp).collect();
        assert_eq!(set.len(), 1);
        assert_eq!(Rupiah::new(decimal("16800.00")).unwrap().amount().scale(), 0);
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(s in any::<String>()) {
            let _ = Rupiah::parse(&s);
        }

        #[test]
        fn every_parsed_amount_displays_as_a_string_that_parses_back_to_it(s in "-?[0-9]{0,18}(\\.[0-9]{0,4})?") {
            if let Ok(amount) = Rupiah::parse(&s) {
                prop_assert_eq!(Rupiah::parse(&amount.to_string()), Ok(amount));
                prop_assert_eq!(Rupiah::new(amount.amount()), Ok(amount));
            }
        }

        #[test]
        fn cents_round_trip_exactly(cents in 0u64..=100_000_000_000_000_000) {
            let amount = Rupiah::new(Decimal::new(cents as i64, 2)).unwrap();
            prop_assert_eq!(Rupiah::parse(&amount.to_string()), Ok(amount));
        }
    }
}
