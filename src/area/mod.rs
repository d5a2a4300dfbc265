//! Indonesian area codes (Kemendagri, Permendagri 58/2021): province `32`, regency or city `32.71`, district
//! `32.71.01`, village `32.71.01.1001`.
//!
//! [`RegionCode`] checks only the shape of a code; whether it exists is a question for the area list in the
//! store (R5.4), because the list changes with every edition while the shape does not.

pub mod store;

use std::fmt;

/// How deep in the hierarchy a code sits, from the widest to the narrowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AreaLevel {
    Province,
    Regency,
    District,
    Village,
}

/// A well-formed area code in its dotted form, e.g. `32.71.01.1001`.
///
/// Segments have a fixed width, so a code's descendants are exactly the codes that start with it followed by a dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// Why a string is not an area code (of the level asked for).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("{} is not an area code: expected 32, 32.71, 32.71.01 or 32.71.01.1001", shown(.0))]
    Format(String),

    #[error("province code 00 is not valid (11–99)")]
    ProvinceZero,

    #[error("{code} is a {actual} code; a {expected} code is required, e.g. {}", example(*.expected))]
    Level { code: String, expected: AreaLevel, actual: AreaLevel },
}

impl AreaLevel {
    /// The level's name, in the catalogue.
    pub fn message(self) -> crate::messages::Message {
        match self {
            AreaLevel::Province => crate::msg!(LEVEL_PROVINCE),
            AreaLevel::Regency => crate::msg!(LEVEL_REGENCY),
            AreaLevel::District => crate::msg!(LEVEL_DISTRICT),
            AreaLevel::Village => crate::msg!(LEVEL_VILLAGE),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Province => "province",
            AreaLevel::Regency => "regency",
            AreaLevel::District => "district",
            AreaLevel::Village => "village",
        }
    }

    /// Length of a code of this level in its dotted form.
    fn len(self) -> usize {
        match self {
            AreaLevel::Province => 2,
            AreaLevel::Regency => 5,
            AreaLevel::District => 8,
            AreaLevel::Village => 13,
        }
    }
}

impl fmt::Display for AreaLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RegionCode {
    /// Parses a code of any level. Nothing is trimmed: a code with surrounding spaces is refused, not repaired.
    pub fn parse(s: &str) -> Result<RegionCode, AreaCodeError> {
        let format = || AreaCodeError::Format(s.to_owned());
        let mut segments = s.split('.');
        for width in [2, 2, 2, 4] {
            let Some(segment) = segments.next() else { break };
            if segment.len() != width || !segment.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format());
            }
        }
        if segments.next().is_some() {
            return Err(format());
        }
        if s.starts_with("00") {
            return Err(AreaCodeError::ProvinceZero);
        }
        Ok(RegionCode(s.to_owned()))
    }

    /// Parses a code that must be of `level`, e.g. a domicile, which is always a village.
    pub fn parse_at(s: &str, level: AreaLevel) -> Result<RegionCode, AreaCodeError> {
        let code = RegionCode::parse(s)?;
        let actual = code.level();
        if actual != level {
            return Err(AreaCodeError::Level { code: code.0, expected: level, actual });
        }
        Ok(code)
    }

    pub fn level(&self) -> AreaLevel {
        match self.0.len() {
            2 => AreaLevel::Province,
            5 => AreaLevel::Regency,
            8 => AreaLevel::District,
            _ => AreaLevel::Village,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this area or lies inside it: `32` contains `32.71.01.1001`.
    pub fn contains(&self, other: &RegionCode) -> bool {
        match other.0.strip_prefix(self.0.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('.'),
            None => false,
        }
    }

    pub fn province(&self) -> RegionCode {
        self.ancestor(AreaLevel::Province).expect("every code has a province")
    }

    /// The regency or city, None for a province.
    pub fn regency(&self) -> Option<RegionCode> {
        self.ancestor(AreaLevel::Regency)
    }

    /// The district, None for a province or a regency.
    pub fn district(&self) -> Option<RegionCode> {
        self.ancestor(AreaLevel::District)
    }

    /// The SQL `LIKE` pattern matching the village codes inside this area: `32.71` -> `32.71.%`; a village matches
    /// itself. Codes hold only digits and dots, so nothing needs escaping.
    pub fn village_pattern(&self) -> String {
        match self.level() {
            AreaLevel::Village => self.0.clone(),
            _ => format!("{}.%", self.0),
        }
    }

    /// The code at `level` on the path to this one (itself at its own level), None below it.
    fn ancestor(&self, level: AreaLevel) -> Option<RegionCode> {
        (level <= self.level()).then(|| RegionCode(self.0[..level.len()].to_owned()))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AreaCodeError {
    /// Stable code for `google.rpc.BadRequest.FieldViolation.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            AreaCodeError::Format(_) | AreaCodeError::ProvinceZero => "AREA_CODE_FORMAT",
            AreaCodeError::Level { .. } => "AREA_CODE_LEVEL",
        }
    }

    /// What is wrong, in the catalogue.
    pub fn message(&self) -> crate::messages::Message {
        match self {
            AreaCodeError::Format(input) => crate::msg!(AREA_CODE_FORMAT, input = shown(input)),
            AreaCodeError::ProvinceZero => crate::msg!(AREA_CODE_PROVINCE_ZERO),
            AreaCodeError::Level { code, expected, actual } => crate::msg!(
                AREA_CODE_LEVEL,
                code = code.as_str(),
                actual = actual.message(),
                expected = expected.message(),
                example = example(*expected)
            ),
        }
    }
}

/// The input quoted, unless it is longer than any code: a clerk who pastes a NIK in the wrong field must not have it
/// echoed into error messages and logs (R6.3).
fn shown(input: &str) -> String {
    let length = input.chars().count();
    if length <= AreaLevel::Village.len() { format!("{input:?}") } else { format!("a value of {length} characters") }
}

fn example(level: AreaLevel) -> &'static str {
    match level {
        AreaLevel::Province => "32",
        AreaLevel::Regency => "32.71",
        AreaLevel::District => "32.71.01",
        AreaLevel::Village => "32.71.01.1001",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn codes_of_each_level_parse_and_everything_else_is_refused() {
        let check = |input: &str, expected: Result<AreaLevel, &str>| {
            let actual = RegionCode::parse(input).map(|c| c.level()).map_err(|e| e.reason());
            assert_eq!(actual, expected, "{input:?}");
        };
        check("32", Ok(AreaLevel::Province));
        check("32.71", Ok(AreaLevel::Regency));
        check("32.71.01", Ok(AreaLevel::District));
        check("32.71.01.1001", Ok(AreaLevel::Village));
        check("11.01.01.2001", Ok(AreaLevel::Village));
        for bad in [
            "",
            "3",
            "324",
            "32.7",
            "32.711",
            "32.71.1",
            "32.71.01.100",
            "32.71.01.10011",
            "32.71.01.1001.01",
            "32.",
            ".32",
            "32..71",
            "32.71.01.",
            " 32",
            "32 ",
            "32.7a",
            "3a",
            "32-71",
            "３２",
            "00.71",
            "00",
        ] {
            check(bad, Err("AREA_CODE_FORMAT"));
        }
    }

    #[test]
    fn format_errors_quote_short_input_but_never_a_pasted_nik() {
        let check = |input: &str, expected: &str| {
            assert_eq!(RegionCode::parse(input).unwrap_err().to_string(), expected);
        };
        check("32.7", r#""32.7" is not an area code: expected 32, 32.71, 32.71.01 or 32.71.01.1001"#);
        check(
            "3271014501900001",
            "a value of 16 characters is not an area code: expected 32, 32.71, 32.71.01 or 32.71.01.1001",
        );
        check("00", "province code 00 is not valid (11–99)");
    }

    #[test]
    fn parse_at_requires_the_level_asked_for() {
        let check = |input: &str, level: AreaLevel, expected: Result<&str, &str>| {
            let actual = RegionCode::parse_at(input, level);
            assert_eq!(actual.as_ref().map(RegionCode::as_str).map_err(|e| e.reason()), expected, "{input:?}");
        };
        check("32.71.01.1001", AreaLevel::Village, Ok("32.71.01.1001"));
        check("32.71", AreaLevel::Regency, Ok("32.71"));
        check("32.71.01", AreaLevel::Village, Err("AREA_CODE_LEVEL"));
        check("32", AreaLevel::Regency, Err("AREA_CODE_LEVEL"));
        check("32.7", AreaLevel::Village, Err("AREA_CODE_FORMAT"));
        assert_eq!(
            RegionCode::parse_at("32.71.01", AreaLevel::Village).unwrap_err().to_string(),
            "32.71.01 is a district code; a village code is required, e.g. 32.71.01.1001"
        );
    }

    #[test]
    fn an_area_contains_itself_and_its_descendants_only() {
        let check = |outer: &str, inner: &str, expected: bool| {
            assert_eq!(code(outer).contains(&code(inner)), expected, "{outer} contains {inner}");
        };
        check("32", "32", true);
        check("32", "32.71", true);
        check("32", "32.71.01.1001", true);
        check("32.71", "32.71.01", true);
        check("32.71.01", "32.71.01.1001", true);
        check("32.71.01.1001", "32.71.01.1001", true);
        check("32.71", "32", false);
        check("32.71.01.1001", "32.71.01", false);
        // Kabupaten Bogor (32.01) is not Kota Bogor (32.71).
        check("32.71", "32.01.01.1001", false);
        check("32", "33.71", false);
        check("32.71.01.1001", "32.71.01.1002", false);
    }

    #[test]
    fn ancestors_are_the_codes_on_the_path_to_a_code() {
        let check = |input: &str, expected: (&str, Option<&str>, Option<&str>)| {
            let c = code(input);
            let (province, regency, district) = (c.province(), c.regency(), c.district());
            let actual = (
                province.as_str(),
                regency.as_ref().map(RegionCode::as_str),
                district.as_ref().map(RegionCode::as_str),
            );
            assert_eq!(actual, expected, "{input}");
        };
        check("32", ("32", None, None));
        check("32.71", ("32", Some("32.71"), None));
        check("32.71.01", ("32", Some("32.71"), Some("32.71.01")));
        check("32.71.01.1001", ("32", Some("32.71"), Some("32.71.01")));
    }

    #[test]
    fn village_patterns_match_descendants_only() {
        let check = |input: &str, expected: &str| assert_eq!(code(input).village_pattern(), expected);
        check("32", "32.%");
        check("32.71", "32.71.%");
        check("32.71.01", "32.71.01.%");
        check("32.71.01.1001", "32.71.01.1001");
    }

    #[test]
    fn codes_display_in_their_dotted_form_and_levels_by_name() {
        assert_eq!(code("32.71.01").to_string(), "32.71.01");
        assert_eq!(AreaLevel::Regency.to_string(), "regency");
        assert!(AreaLevel::Province < AreaLevel::Village, "levels order from the widest");
    }

    fn valid_code() -> impl Strategy<Value = String> {
        (11u32..=99, 1u32..=99, 1u32..=99, 1001u32..=2999, 1usize..=4).prop_map(|(p, r, d, v, depth)| {
            let parts = [format!("{p:02}"), format!("{r:02}"), format!("{d:02}"), format!("{v:04}")];
            parts[..depth].join(".")
        })
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(s in any::<String>()) {
            let _ = RegionCode::parse(&s);
            let _ = RegionCode::parse_at(&s, AreaLevel::Village);
        }

        #[test]
        fn parsing_code_shaped_strings_never_panics(s in "[0-9.]{0,16}") {
            if let Ok(c) = RegionCode::parse(&s) {
                prop_assert_eq!(c.as_str(), s.as_str());
            }
        }

        #[test]
        fn every_valid_code_round_trips(s in valid_code()) {
            let c = RegionCode::parse(&s).unwrap();
            prop_assert_eq!(c.as_str(), s.as_str());
            prop_assert_eq!(RegionCode::parse(&c.to_string()).unwrap(), c.clone());
            prop_assert!(c.province().contains(&c));
            prop_assert!(c.contains(&c));
        }
    }
}
