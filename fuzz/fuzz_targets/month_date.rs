//! Months (`2025-09`), dates (`2025-09-15`) and quarters (`2025-Q3`) from arbitrary text, two values a line each:
//! parsing never panics, a parsed value displays as its input, and the order of values is the order of their text.
#![no_main]

use chrono::{Datelike, NaiveDate};
use libfuzzer_sys::fuzz_target;
use lindung::{date, messages::Locale, month::Month, quarter::Quarter};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, second) = text.split_once('\n').unwrap_or((&text, ""));
    let (m1, m2) = (month(first), month(second));
    let (d1, d2) = (day(first), day(second));
    let (q1, q2) = (quarter(first), quarter(second));
    if let (Some(a), Some(b)) = (m1, m2) {
        assert_eq!(a.cmp(&b), first.cmp(second));
        assert_eq!(a.months_until(b), if a < b { months(a, b) } else { 0 });
        assert_eq!(a.plus(a.months_until(b) as i32), a.max(b));
        assert_eq!((a.first_day() <= b.first_day(), a.last_day() < b.first_day()), (a <= b, a < b));
    }
    if let (Some(a), Some(b)) = (d1, d2) {
        assert_eq!(a.cmp(&b), first.cmp(second));
        assert!(a > b || Month::of(a) <= Month::of(b));
        assert_eq!(date::not_after("date", first, b).is_ok(), a <= b);
        assert!(Quarter::from_date(a) <= Quarter::from_date(b) || a > b);
    }
    if let (Some(a), Some(b)) = (q1, q2) {
        assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
        assert_eq!(a.cmp(&b), a.first_day().cmp(&b.first_day()));
    }
});

fn months(a: Month, b: Month) -> u32 {
    ((b.year() - a.year()) * 12 + b.number() as i32 - a.number() as i32) as u32
}

fn month(s: &str) -> Option<Month> {
    let month = match Month::parse(s) {
        Ok(month) => month,
        Err(error) => {
            let _ = (error.to_string(), error.reason(), error.message().render(Locale::Id));
            return None;
        }
    };
    assert_eq!(month.to_string(), s);
    assert_eq!(Month::parse(&month.to_string()), Ok(month));
    assert_eq!(Month::new(month.year(), month.number()), Some(month));
    let (first, last) = (month.first_day(), month.last_day());
    assert!(first <= last && first.day() == 1 && (28..=31).contains(&last.day()));
    assert_eq!((Month::of(first), Month::of(last)), (month, month));
    // The ends of the range have no month after or before them: `next` and `prev` are not asked there.
    if month < Month::new(9999, 12).unwrap() {
        assert_eq!(Month::of(last.succ_opt().unwrap()), month.next());
        assert_eq!(month.next().prev(), month);
        assert_eq!(month.months_until(month.next()), 1);
    }
    if month > Month::new(1900, 1).unwrap() {
        assert_eq!(Month::of(first.pred_opt().unwrap()), month.prev());
        assert_eq!(month.prev().next(), month);
    }
    Some(month)
}

fn day(s: &str) -> Option<NaiveDate> {
    let day = match date::parse(s) {
        Ok(day) => day,
        Err(error) => {
            let _ = (error.to_string(), error.reason(), error.message().render(Locale::Id), error.at("date"));
            assert!(date::field("date", s).is_err());
            return None;
        }
    };
    assert_eq!(day.to_string(), s);
    assert!((date::FIRST..=date::LAST).contains(&day));
    assert_eq!(date::field("date", s), Ok(day));
    assert_eq!(Month::parse(&s[..7]), Ok(Month::of(day)));
    let quarter = Quarter::from_date(day);
    assert!(quarter.first_day() <= day && (day - quarter.first_day()).num_days() < 92);
    assert_eq!(Quarter::parse(&quarter.to_string()), Ok(quarter));
    Some(day)
}

fn quarter(s: &str) -> Option<Quarter> {
    let quarter = match Quarter::parse(s) {
        Ok(quarter) => quarter,
        Err(error) => {
            let _ = (error.to_string(), error.message().render(Locale::Id));
            return None;
        }
    };
    assert_eq!(quarter.to_string(), s.to_uppercase());
    assert_eq!(Quarter::parse(&quarter.to_string()), Ok(quarter));
    assert!((1..=4).contains(&quarter.number()));
    let first = quarter.first_day();
    assert_eq!((first.year(), first.day()), (quarter.year(), 1));
    assert_eq!(Quarter::from_date(first), quarter);
    Some(quarter)
}
