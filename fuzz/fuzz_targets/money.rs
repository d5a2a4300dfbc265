//! Amounts of rupiah from arbitrary text (two amounts, a line each) and from arbitrary decimals: parsing never
//! panics, a parsed amount round-trips through its wire form, and sums, differences and products are exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lindung::{
    messages::Locale,
    money::{MoneyError, Rupiah},
};
use rust_decimal::Decimal;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, second) = text.split_once('\n').unwrap_or((&text, ""));
    let (a, b) = (parse(first), parse(second));
    if let (Some(a), Some(b)) = (a, b) {
        arithmetic(a, b);
    }
    if let Some(bytes) = data.get(..16) {
        decimal(bytes.try_into().unwrap());
    }
});

fn parse(s: &str) -> Option<Rupiah> {
    match Rupiah::parse(s) {
        Ok(amount) => {
            let wire = amount.to_string();
            assert_eq!(Rupiah::parse(&wire), Ok(amount), "{s:?} -> {wire:?}");
            assert_eq!(Rupiah::new(amount.amount()), Ok(amount));
            assert_eq!(Rupiah::rounded(amount.amount()), Ok(amount));
            let value = amount.amount();
            assert!(!value.is_sign_negative() && value.scale() <= 2 && value <= Decimal::from(10u64.pow(15)));
            // The wire form is the input without leading zeros of the whole part or trailing zeros of the fraction.
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            let (whole, fraction) = (whole.trim_start_matches('0'), fraction.trim_end_matches('0'));
            let expected = match (whole, fraction) {
                ("", "") => "0".to_owned(),
                ("", f) => format!("0.{f}"),
                (w, "") => w.to_owned(),
                (w, f) => format!("{w}.{f}"),
            };
            assert_eq!(wire, expected, "{s:?}");
            Some(amount)
        }
        Err(error) => {
            let _ = (error.to_string(), error.reason(), error.message().render(Locale::Id));
            None
        }
    }
}

fn arithmetic(a: Rupiah, b: Rupiah) {
    let sum = a + b;
    assert_eq!(sum.amount(), a.amount() + b.amount());
    assert_eq!(sum, b + a);
    assert_eq!(sum.checked_sub(b), Some(a));
    assert_eq!(a.checked_sub(b).is_some(), b <= a);
    assert_eq!(a.cmp(&b), a.amount().cmp(&b.amount()));
    assert_eq!(a.cmp(&b), Rupiah::parse(&a.to_string()).unwrap().cmp(&b));
    assert_eq!([a, b].into_iter().sum::<Rupiah>(), sum);
    let mut total = a;
    total += b;
    assert_eq!(total, sum);
    // Within Decimal's range for any amount, as every count of workers or months is.
    for n in [0, 1, 2, 3, 7, 12, 120, 10_000_000] {
        let product = a.times(n);
        assert_eq!(product.amount(), a.amount() * Decimal::from(n));
        assert_eq!(
            Rupiah::parse(&product.to_string()).ok().is_some(),
            product.amount() <= Decimal::from(10u64.pow(15))
        );
    }
    assert_eq!(a.times(3), a + a + a);
}

/// Any decimal from elsewhere (a `numeric` column, a computation) is an amount or refused, never a panic.
fn decimal(bytes: [u8; 16]) {
    let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    let scale = u32::from(bytes[12]) % 29;
    let value = Decimal::from_parts(word(0), word(4), word(8), bytes[13] & 1 == 1, scale);
    match Rupiah::new(value) {
        Ok(amount) => {
            assert_eq!(amount.amount(), value.normalize());
            assert_eq!(Rupiah::parse(&amount.to_string()), Ok(amount));
        }
        Err(error) => assert!(matches!(error, MoneyError::Negative | MoneyError::Precision | MoneyError::TooLarge)),
    }
    if let Ok(rounded) = Rupiah::rounded(value) {
        assert!(rounded.amount().scale() <= 2);
        assert!((rounded.amount() - value).abs() <= Decimal::new(5, 3));
    }
}
