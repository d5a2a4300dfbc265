//! NIKs and area codes from arbitrary text: parsing never panics, a parsed value round-trips through its text and
//! agrees with itself, and a refusal neither panics when worded nor repeats the NIK.
#![no_main]

use chrono::{Datelike, NaiveDate};
use libfuzzer_sys::fuzz_target;
use lindung::{
    area::{AreaLevel, RegionCode},
    messages::Locale,
    nik::{Nik, Sex},
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    nik(&text);
    area(&text);
});

fn nik(s: &str) {
    match Nik::parse(s) {
        Ok(nik) => {
            assert_eq!(nik.as_str(), s);
            assert_eq!(Nik::parse(nik.as_str()).as_ref(), Ok(&nik));
            assert!(s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()));
            let (province, regency, district) = (nik.province_code(), nik.regency_code(), nik.district_code());
            assert_eq!(district.as_str(), format!("{}.{}.{}", &s[0..2], &s[2..4], &s[4..6]));
            assert_eq!(
                (province.level(), regency.level(), district.level()),
                (AreaLevel::Province, AreaLevel::Regency, AreaLevel::District)
            );
            assert!(province.contains(&regency) && regency.contains(&district) && !district.contains(&regency));
            assert_eq!(district.province(), province);
            assert_eq!(nik.sex() == Sex::Female, nik.birth_day() != s[6..8].parse::<u32>().unwrap());
            for today in [NaiveDate::MIN, lindung::date::FIRST, lindung::date::LAST, NaiveDate::MAX] {
                let born = nik.birth_date(today);
                let year_2 = born.year().rem_euclid(100) as u32;
                assert_eq!(
                    (born.day(), born.month(), year_2),
                    (nik.birth_day(), nik.birth_month(), nik.birth_year_2())
                );
            }
            let masked = nik.masked();
            assert!(masked.len() == 16 && masked.starts_with(&s[..6]) && !format!("{nik:?}").contains(&s[6..]));
        }
        Err(error) => {
            let worded = [error.to_string(), error.message().render(Locale::Id), error.message().render(Locale::En)];
            let _ = error.reason();
            // A refused NIK of 16 digits must not be repeated (R6.3); shorter strings may collide with the wording.
            if s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()) {
                assert!(worded.iter().all(|w| !w.contains(&s[..8]) && !w.contains(&s[8..])), "{worded:?}");
            }
        }
    }
}

fn area(s: &str) {
    let Ok(code) = RegionCode::parse(s) else {
        for level in [AreaLevel::Province, AreaLevel::Regency, AreaLevel::District, AreaLevel::Village] {
            if let Err(error) = RegionCode::parse_at(s, level) {
                let _ = (error.to_string(), error.reason(), error.message().render(Locale::Id));
            }
        }
        return;
    };
    assert_eq!(code.to_string(), s);
    assert_eq!(RegionCode::parse(&code.to_string()).as_ref(), Ok(&code));
    assert_eq!(RegionCode::parse_at(s, code.level()).as_ref(), Ok(&code));
    assert!(code.province().contains(&code) && code.contains(&code));
    for ancestor in [code.regency(), code.district()].into_iter().flatten() {
        assert!(ancestor.contains(&code) && ancestor.level() <= code.level());
    }
    let pattern = code.village_pattern();
    assert!(pattern == s || pattern == format!("{s}.%"));
}
