//! Subsidies: the programmes through which a city or province government pays the JKK + JKM contributions of
//! workers in its area (R1, R4), and the rules that turn a raw request into a trusted [`Subsidy`].
//!
//! Parsing is pure and reports every broken rule at once, each as a [`FieldViolation`] under its protobuf field
//! path. Whether the area exists in the Kemendagri list is for the store to say (R5.4).

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use uuid::Uuid;

use crate::{
    agency::{Agency, AgencyKind},
    area::{AreaCodeError, AreaLevel, RegionCode},
    error::FieldViolation,
    messages::{Code, Message},
    money::Rupiah,
    month::Month,
    validate::Checker,
};

/// The monthly contribution per worker, kept as its components (R1.1–R1.4).
///
/// Government funders pay the full amount: the PP 50/2025 discount does not apply to them (R1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Contribution {
    pub jkk: Rupiah,
    pub jkm: Rupiah,
}

/// Eligibility parameters of a subsidy: policy parameters, because their values are not settled (R4.1, R4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Eligibility {
    /// The highest DTSEN decile funded, 1 to 10 (R4.1: 1–4, the bottom 40%).
    pub max_decile: u8,
    /// Ages in completed years on the first day of the first funded month, inclusive (R4.2).
    pub min_age: u8,
    pub max_age: u8,
    /// The decile's as-of quarter may be at most this many quarters before the quarter of the first funded month:
    /// DTSEN re-ranks every quarter (R4.1).
    pub max_decile_age_quarters: u8,
}

/// A programme a city or province funds, as validated by [`Subsidy::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subsidy {
    pub id: Uuid,
    pub funder_id: Uuid,
    /// A city or a province, never the insurer.
    pub funder_kind: AgencyKind,
    pub name: String,
    /// The decree the funding rests on, e.g. `Keputusan Wali Kota Bogor No. 400.5/123/2025`.
    pub legal_basis: String,
    /// A regency or a province inside the funder's region.
    pub area: RegionCode,
    pub first_month: Month,
    /// Not before `first_month`, at most 120 months after it counting both.
    pub last_month: Month,
    /// The most workers funded at once, 1 to 10,000,000.
    pub quota: u32,
    /// More than zero. Not tied to quota × months × contribution: a funder may fund fewer workers than its quota.
    pub budget_ceiling: Rupiah,
    pub contribution: Contribution,
    pub eligibility: Eligibility,
}

/// A new subsidy as it arrives from the wire, unwrapped from protobuf: an empty string or 0 means absent, and an
/// absent contribution or eligibility parameter takes its default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubsidyInput {
    pub name: String,
    pub legal_basis: String,
    pub area_code: String,
    /// `YYYY-MM`.
    pub first_month: String,
    /// `YYYY-MM`.
    pub last_month: String,
    pub quota: u32,
    pub budget_ceiling: String,
    pub jkk: String,
    pub jkm: String,
    pub max_decile: u32,
    pub min_age: u32,
    pub max_age: u32,
    pub max_decile_age_quarters: u32,
}

/// A subsidy as stored: the domain value with its funder and when it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub subsidy: Subsidy,
    pub funder: Agency,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// How much of a subsidy is used and what is left of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub active: u32,
    pub pending: u32,
    pub quota_left: u32,
    /// Every funded month of every enrollment that is not rejected, times the monthly contribution.
    pub budget_committed: Rupiah,
    pub budget_left: Rupiah,
    /// What the active enrollments cost a month.
    pub monthly_commitment: Rupiah,
}

impl Contribution {
    pub fn total(&self) -> Rupiah {
        self.jkk + self.jkm
    }
}

impl Default for Contribution {
    /// JKK Rp10,000 (1% of the lowest income tier, R1.1) + JKM Rp6,800 (R1.2) = Rp16,800 (R1.3).
    fn default() -> Contribution {
        Contribution { jkk: Rupiah::from_whole(10_000), jkm: Rupiah::from_whole(6_800) }
    }
}

impl Default for Eligibility {
    /// Deciles 1–4 (R4.1), ages 15–60 (R4.2), a decile at most 2 quarters old.
    fn default() -> Eligibility {
        Eligibility { max_decile: 4, min_age: 15, max_age: 60, max_decile_age_quarters: 2 }
    }
}

impl Subsidy {
    /// The longest span a subsidy may have, in months: ten years, longer than any regional budget plan.
    pub const MAX_MONTHS: u32 = 120;
    pub const MAX_QUOTA: u32 = 10_000_000;
    pub const MAX_AGE: u8 = 100;
    pub const MAX_DECILE_AGE_QUARTERS: u8 = 20;

    /// Months funded: first..=last.
    pub fn months(&self) -> u32 {
        self.first_month.months_until(self.last_month) + 1
    }

    /// Whether `month` lies in first..=last.
    pub fn funds(&self, month: Month) -> bool {
        (self.first_month..=self.last_month).contains(&month)
    }

    /// The usage of the subsidy with `active` and `pending` enrollments and `committed` money.
    pub fn usage(&self, active: u32, pending: u32, committed: Rupiah) -> Usage {
        Usage {
            active,
            pending,
            quota_left: self.quota.saturating_sub(active.saturating_add(pending)),
            budget_committed: committed,
            budget_left: self.budget_ceiling.checked_sub(committed).unwrap_or(Rupiah::ZERO),
            monthly_commitment: self.contribution.total().times(u64::from(active)),
        }
    }

    /// Validates a new subsidy of `funder`, reporting ALL violations at once, in field order.
    pub fn parse(input: SubsidyInput, id: Uuid, funder: &Agency) -> Result<Subsidy, Vec<FieldViolation>> {
        let mut c = Checker::new();

        let name = c.bounded_text("name", &input.name, 200, Code::NAME_LENGTH, Code::NAME_CONTROL_CHARS);
        let legal_basis = c.bounded_text(
            "legal_basis",
            &input.legal_basis,
            300,
            Code::LEGAL_BASIS_LENGTH,
            Code::LEGAL_BASIS_CONTROL_CHARS,
        );
        let area = c.area(&input.area_code, funder);
        let first_month = c.required_month("first_month", &input.first_month);
        let last_month = c.required_month("last_month", &input.last_month).filter(|&last| {
            let Some(first) = first_month else { return true };
            c.rule(last >= first, "last_month", || crate::msg!(MONTH_ORDER, first = first))
                && c.rule(first.months_until(last) < Subsidy::MAX_MONTHS, "last_month", || {
                    let months = first.months_until(last) + 1;
                    crate::msg!(MONTH_SPAN, max = Subsidy::MAX_MONTHS, first = first, last = last, months = months)
                })
        });
        let quota = c.rule((1..=Subsidy::MAX_QUOTA).contains(&input.quota), "quota", || {
            crate::msg!(QUOTA_RANGE, max = Subsidy::MAX_QUOTA, quota = input.quota)
        });
        let quota = quota.then_some(input.quota);
        let budget_ceiling = c.given("budget_ceiling", &input.budget_ceiling).and_then(|s| {
            let amount = c.money("budget_ceiling", s)?;
            let positive = amount > Rupiah::ZERO;
            c.rule(positive, "budget_ceiling", || crate::msg!(BUDGET_CEILING_ZERO)).then_some(amount)
        });
        let defaults = Contribution::default();
        let jkk = c.money_or("contribution.jkk", &input.jkk, defaults.jkk);
        let jkm = c.money_or("contribution.jkm", &input.jkm, defaults.jkm);
        let contribution = jkk.zip(jkm).map(|(jkk, jkm)| Contribution { jkk, jkm }).filter(|contribution| {
            let positive = contribution.total() > Rupiah::ZERO;
            c.rule(positive, "contribution", || crate::msg!(CONTRIBUTION_ZERO))
        });
        let eligibility = c.eligibility(&input);

        let (
            Some(name),
            Some(legal_basis),
            Some(area),
            Some(first_month),
            Some(last_month),
            Some(quota),
            Some(budget_ceiling),
            Some(contribution),
            Some(eligibility),
        ) = (name, legal_basis, area, first_month, last_month, quota, budget_ceiling, contribution, eligibility)
        else {
            return Err(c.violations);
        };
        debug_assert!(c.violations.is_empty(), "every violation leaves its field unparsed");

        Ok(Subsidy {
            id,
            funder_id: funder.id,
            funder_kind: funder.kind,
            name,
            legal_basis,
            area,
            first_month,
            last_month,
            quota,
            budget_ceiling,
            contribution,
            eligibility,
        })
    }
}

/// The subsidy's own field rules, on the shared field checker.
trait SubsidyFields {
    fn area(&mut self, value: &str, funder: &Agency) -> Option<RegionCode>;
    fn eligibility(&mut self, input: &SubsidyInput) -> Option<Eligibility>;
    fn bounded(&mut self, field: &str, value: u32, max: u8, code: Code) -> Option<u8>;
}

impl SubsidyFields for Checker {
    /// A regency or province the funder may fund: a city its own regency, a province itself or one of its regencies.
    fn area(&mut self, value: &str, funder: &Agency) -> Option<RegionCode> {
        const FIELD: &str = "area_code";
        let can_fund = matches!(funder.kind, AgencyKind::City | AgencyKind::Province);
        if !self.rule(can_fund, FIELD, || crate::msg!(FUNDER_KIND)) {
            return None;
        }
        let value = self.given(FIELD, value)?;
        let area = RegionCode::parse(value).map_err(|e: AreaCodeError| self.rule(false, FIELD, || e.message()));
        let area = area.ok()?;
        let level = area.level();
        let fundable = matches!(level, AreaLevel::Regency | AreaLevel::Province);
        let message = || crate::msg!(AREA_CODE_LEVEL_SUBSIDY, area = area.to_string(), level = level.message());
        if !self.rule(fundable, FIELD, message) {
            return None;
        }
        let inside = match (&funder.region, funder.kind) {
            (Some(region), AgencyKind::City) => *region == area,
            (Some(region), _) => region.contains(&area),
            (None, _) => false,
        };
        let message = || match (&funder.region, funder.kind) {
            (Some(region), AgencyKind::City) => {
                crate::msg!(AREA_OUTSIDE_CITY, area = area.to_string(), region = region.to_string())
            }
            (Some(region), _) => {
                crate::msg!(AREA_OUTSIDE_PROVINCE, area = area.to_string(), region = region.to_string())
            }
            (None, _) => crate::msg!(AREA_OUTSIDE_NONE, area = area.to_string()),
        };
        self.rule(inside, FIELD, message).then_some(area)
    }

    fn eligibility(&mut self, input: &SubsidyInput) -> Option<Eligibility> {
        let defaults = Eligibility::default();
        let or_default = |value: u32, default: u8| if value == 0 { u32::from(default) } else { value };

        let max_decile = or_default(input.max_decile, defaults.max_decile);
        let max_decile = self.bounded("eligibility.max_decile", max_decile, 10, Code::BOUNDED_DECILE);
        let min_age = or_default(input.min_age, defaults.min_age);
        let min_age = self.bounded("eligibility.min_age", min_age, Subsidy::MAX_AGE, Code::BOUNDED_AGE);
        let max_age = or_default(input.max_age, defaults.max_age);
        let max_age = self.bounded("eligibility.max_age", max_age, Subsidy::MAX_AGE, Code::BOUNDED_AGE);
        let min_age = min_age.filter(|&min| {
            let Some(max) = max_age else { return true };
            self.rule(min <= max, "eligibility.min_age", || crate::msg!(AGE_ORDER, max = u32::from(max)))
        });
        let quarters = or_default(input.max_decile_age_quarters, defaults.max_decile_age_quarters);
        let max_quarters = Subsidy::MAX_DECILE_AGE_QUARTERS;
        let quarters =
            self.bounded("eligibility.max_decile_age_quarters", quarters, max_quarters, Code::DECILE_AGE_RANGE);

        Some(Eligibility {
            max_decile: max_decile?,
            min_age: min_age?,
            max_age: max_age?,
            max_decile_age_quarters: quarters?,
        })
    }

    /// `code`'s messages say `{value}`.
    fn bounded(&mut self, field: &str, value: u32, max: u8, code: Code) -> Option<u8> {
        let bounded = u8::try_from(value).ok().filter(|&v| v <= max);
        self.rule(bounded.is_some(), field, || Message::new(code).arg("value", value));
        bounded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn kota_bogor() -> Agency {
        Agency::new(Uuid::from_u128(1), "Pemerintah Kota Bogor", AgencyKind::City, Some(code("32.71"))).unwrap()
    }

    fn jawa_barat() -> Agency {
        Agency::new(Uuid::from_u128(2), "Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some(code("32")))
            .unwrap()
    }

    fn insurer() -> Agency {
        Agency::new(Uuid::from_u128(3), "BPJS Ketenagakerjaan", AgencyKind::Insurer, None).unwrap()
    }

    /// Kota Bogor's programme from September 2025, as in RULES.md, with every optional field left out.
    fn bogor_2025() -> SubsidyInput {
        SubsidyInput {
            name: "Perlindungan Pekerja Rentan Kota Bogor 2025".into(),
            legal_basis: "Keputusan Wali Kota Bogor No. 400.5/123/2025".into(),
            area_code: "32.71".into(),
            first_month: "2025-09".into(),
            last_month: "2025-12".into(),
            quota: 7_894,
            budget_ceiling: "530476800".into(),
            ..SubsidyInput::default()
        }
    }

    /// Parses `input` as a subsidy of `funder` and compares it, or its violations as (field, reason) pairs.
    fn check(input: SubsidyInput, funder: &Agency, expected: Result<(), Vec<(&str, &str)>>) {
        let actual = Subsidy::parse(input.clone(), Uuid::nil(), funder)
            .map(|_| ())
            .map_err(|vs| vs.into_iter().map(|v| (v.field, v.reason)).collect::<Vec<_>>());
        let expected = expected.map_err(|vs| vs.into_iter().map(|(f, r)| (f.to_owned(), r)).collect::<Vec<_>>());
        assert_eq!(actual, expected, "{input:?}");
    }

    #[test]
    fn a_valid_request_becomes_a_subsidy_with_the_default_contribution_and_eligibility() {
        let subsidy = Subsidy::parse(bogor_2025(), Uuid::from_u128(9), &kota_bogor()).unwrap();
        assert_eq!(
            subsidy,
            Subsidy {
                id: Uuid::from_u128(9),
                funder_id: Uuid::from_u128(1),
                funder_kind: AgencyKind::City,
                name: "Perlindungan Pekerja Rentan Kota Bogor 2025".into(),
                legal_basis: "Keputusan Wali Kota Bogor No. 400.5/123/2025".into(),
                area: code("32.71"),
                first_month: Month::parse("2025-09").unwrap(),
                last_month: Month::parse("2025-12").unwrap(),
                quota: 7_894,
                budget_ceiling: Rupiah::from_whole(530_476_800),
                contribution: Contribution { jkk: Rupiah::from_whole(10_000), jkm: Rupiah::from_whole(6_800) },
                eligibility: Eligibility { max_decile: 4, min_age: 15, max_age: 60, max_decile_age_quarters: 2 },
            }
        );
        assert_eq!(subsidy.contribution.total(), Rupiah::from_whole(16_800));
        assert_eq!(subsidy.months(), 4);
    }

    #[test]
    fn given_parameters_replace_the_defaults_and_texts_are_trimmed() {
        let input = SubsidyInput {
            name: "  Program Jawa Barat ".into(),
            jkk: "12000.50".into(),
            jkm: "6800".into(),
            max_decile: 10,
            min_age: 18,
            max_age: 100,
            max_decile_age_quarters: 20,
            area_code: "32.71".into(),
            ..bogor_2025()
        };
        let subsidy = Subsidy::parse(input, Uuid::nil(), &jawa_barat()).unwrap();
        assert_eq!(subsidy.name, "Program Jawa Barat");
        assert_eq!(subsidy.funder_kind, AgencyKind::Province);
        assert_eq!(subsidy.contribution.total().to_string(), "18800.5");
        assert_eq!(
            subsidy.eligibility,
            Eligibility { max_decile: 10, min_age: 18, max_age: 100, max_decile_age_quarters: 20 }
        );
        let jkm_only = SubsidyInput { jkk: "0".into(), ..bogor_2025() };
        let subsidy = Subsidy::parse(jkm_only, Uuid::nil(), &kota_bogor()).unwrap();
        assert_eq!(subsidy.contribution, Contribution { jkk: Rupiah::ZERO, jkm: Rupiah::from_whole(6_800) });
    }

    #[test]
    fn every_rule_names_its_field_and_reason() {
        let bogor = kota_bogor();
        let cases: Vec<(SubsidyInput, (&str, &str))> = vec![
            (SubsidyInput { name: " ".into(), ..bogor_2025() }, ("name", "REQUIRED")),
            (SubsidyInput { name: "x".repeat(201), ..bogor_2025() }, ("name", "NAME_LENGTH")),
            (SubsidyInput { name: "Program\n2025".into(), ..bogor_2025() }, ("name", "NAME_CONTROL_CHARS")),
            (SubsidyInput { legal_basis: String::new(), ..bogor_2025() }, ("legal_basis", "REQUIRED")),
            (SubsidyInput { legal_basis: "x".repeat(301), ..bogor_2025() }, ("legal_basis", "LEGAL_BASIS_LENGTH")),
            (
                SubsidyInput { legal_basis: "Kep.\t1".into(), ..bogor_2025() },
                ("legal_basis", "LEGAL_BASIS_CONTROL_CHARS"),
            ),
            (SubsidyInput { area_code: String::new(), ..bogor_2025() }, ("area_code", "REQUIRED")),
            (SubsidyInput { area_code: "32.7".into(), ..bogor_2025() }, ("area_code", "AREA_CODE_FORMAT")),
            (SubsidyInput { area_code: "32.71.01".into(), ..bogor_2025() }, ("area_code", "AREA_CODE_LEVEL")),
            (SubsidyInput { area_code: "32.71.01.1001".into(), ..bogor_2025() }, ("area_code", "AREA_CODE_LEVEL")),
            (SubsidyInput { area_code: "32.01".into(), ..bogor_2025() }, ("area_code", "AREA_OUTSIDE_FUNDER")),
            (SubsidyInput { area_code: "32".into(), ..bogor_2025() }, ("area_code", "AREA_OUTSIDE_FUNDER")),
            (SubsidyInput { first_month: String::new(), ..bogor_2025() }, ("first_month", "REQUIRED")),
            (SubsidyInput { first_month: "2025-9".into(), ..bogor_2025() }, ("first_month", "MONTH_FORMAT")),
            (SubsidyInput { last_month: "2025-13".into(), ..bogor_2025() }, ("last_month", "MONTH_FORMAT")),
            (SubsidyInput { last_month: "2025-08".into(), ..bogor_2025() }, ("last_month", "MONTH_ORDER")),
            (SubsidyInput { last_month: "2035-09".into(), ..bogor_2025() }, ("last_month", "MONTH_SPAN")),
            (SubsidyInput { quota: 0, ..bogor_2025() }, ("quota", "QUOTA_RANGE")),
            (SubsidyInput { quota: 10_000_001, ..bogor_2025() }, ("quota", "QUOTA_RANGE")),
            (SubsidyInput { budget_ceiling: String::new(), ..bogor_2025() }, ("budget_ceiling", "REQUIRED")),
            (SubsidyInput { budget_ceiling: "1.000.000".into(), ..bogor_2025() }, ("budget_ceiling", "MONEY_FORMAT")),
            (SubsidyInput { budget_ceiling: "-1".into(), ..bogor_2025() }, ("budget_ceiling", "MONEY_NEGATIVE")),
            (SubsidyInput { budget_ceiling: "0.00".into(), ..bogor_2025() }, ("budget_ceiling", "BUDGET_CEILING_ZERO")),
            (SubsidyInput { jkk: "10000.001".into(), ..bogor_2025() }, ("contribution.jkk", "MONEY_PRECISION")),
            (SubsidyInput { jkm: "6,800".into(), ..bogor_2025() }, ("contribution.jkm", "MONEY_FORMAT")),
            (
                SubsidyInput { jkk: "0".into(), jkm: "0.00".into(), ..bogor_2025() },
                ("contribution", "CONTRIBUTION_ZERO"),
            ),
            (SubsidyInput { max_decile: 11, ..bogor_2025() }, ("eligibility.max_decile", "DECILE_RANGE")),
            (SubsidyInput { max_age: 101, ..bogor_2025() }, ("eligibility.max_age", "AGE_RANGE")),
            (SubsidyInput { min_age: 101, max_age: 100, ..bogor_2025() }, ("eligibility.min_age", "AGE_RANGE")),
            (SubsidyInput { min_age: 61, ..bogor_2025() }, ("eligibility.min_age", "AGE_RANGE")),
            (SubsidyInput { max_age: 14, ..bogor_2025() }, ("eligibility.min_age", "AGE_RANGE")),
            (
                SubsidyInput { max_decile_age_quarters: 21, ..bogor_2025() },
                ("eligibility.max_decile_age_quarters", "DECILE_AGE_RANGE"),
            ),
            (SubsidyInput { max_decile: u32::MAX, ..bogor_2025() }, ("eligibility.max_decile", "DECILE_RANGE")),
        ];
        for (input, violation) in cases {
            check(input, &bogor, Err(vec![violation]));
        }
    }

    #[test]
    fn boundaries_are_accepted() {
        let bogor = kota_bogor();
        let cases = [
            SubsidyInput { name: "x".repeat(200), legal_basis: "é".repeat(300), ..bogor_2025() },
            SubsidyInput { last_month: "2025-09".into(), ..bogor_2025() },
            SubsidyInput { last_month: "2035-08".into(), ..bogor_2025() },
            SubsidyInput { quota: 1, ..bogor_2025() },
            SubsidyInput { quota: 10_000_000, ..bogor_2025() },
            SubsidyInput { budget_ceiling: "0.01".into(), ..bogor_2025() },
            SubsidyInput { budget_ceiling: "1000000000000000".into(), ..bogor_2025() },
            SubsidyInput { jkk: "0".into(), jkm: "0.01".into(), ..bogor_2025() },
            SubsidyInput { max_decile: 1, ..bogor_2025() },
            SubsidyInput { jkk: " ".into(), jkm: String::new(), ..bogor_2025() },
            SubsidyInput { min_age: 60, max_age: 60, ..bogor_2025() },
            SubsidyInput { max_decile_age_quarters: 1, ..bogor_2025() },
        ];
        for input in cases {
            check(input, &bogor, Ok(()));
        }
        let span = SubsidyInput { last_month: "2035-08".into(), ..bogor_2025() };
        assert_eq!(Subsidy::parse(span, Uuid::nil(), &bogor).unwrap().months(), 120);
    }

    #[test]
    fn a_city_funds_its_own_regency_and_a_province_itself_or_its_regencies() {
        let check_area = |funder: &Agency, area: &str, expected: Result<(), Vec<(&str, &str)>>| {
            check(SubsidyInput { area_code: area.into(), ..bogor_2025() }, funder, expected);
        };
        let outside = || Err(vec![("area_code", "AREA_OUTSIDE_FUNDER")]);
        check_area(&kota_bogor(), "32.71", Ok(()));
        check_area(&kota_bogor(), "32.01", outside());
        check_area(&kota_bogor(), "32", outside());
        check_area(&jawa_barat(), "32", Ok(()));
        check_area(&jawa_barat(), "32.71", Ok(()));
        check_area(&jawa_barat(), "32.01", Ok(()));
        check_area(&jawa_barat(), "33", outside());
        check_area(&jawa_barat(), "33.71", outside());
        check_area(&jawa_barat(), "32.71.01", Err(vec![("area_code", "AREA_CODE_LEVEL")]));
        check_area(&insurer(), "32.71", Err(vec![("area_code", "FUNDER_KIND")]));
        check_area(&insurer(), "", Err(vec![("area_code", "FUNDER_KIND")]));
    }

    #[test]
    fn all_violations_of_a_request_are_reported_at_once_in_field_order() {
        let input = SubsidyInput {
            name: String::new(),
            legal_basis: "x".repeat(301),
            area_code: "32.01".into(),
            first_month: "2025-09".into(),
            last_month: "2025-08".into(),
            quota: 0,
            budget_ceiling: "0".into(),
            jkk: "-10000".into(),
            jkm: "1e3".into(),
            max_decile: 11,
            min_age: 70,
            max_age: 65,
            max_decile_age_quarters: 99,
        };
        check(
            input,
            &kota_bogor(),
            Err(vec![
                ("name", "REQUIRED"),
                ("legal_basis", "LEGAL_BASIS_LENGTH"),
                ("area_code", "AREA_OUTSIDE_FUNDER"),
                ("last_month", "MONTH_ORDER"),
                ("quota", "QUOTA_RANGE"),
                ("budget_ceiling", "BUDGET_CEILING_ZERO"),
                ("contribution.jkk", "MONEY_NEGATIVE"),
                ("contribution.jkm", "MONEY_FORMAT"),
                ("eligibility.max_decile", "DECILE_RANGE"),
                ("eligibility.min_age", "AGE_RANGE"),
                ("eligibility.max_decile_age_quarters", "DECILE_AGE_RANGE"),
            ]),
        );
    }

    #[test]
    fn descriptions_state_the_rule() {
        let input = SubsidyInput {
            area_code: "32.01".into(),
            last_month: "2035-12".into(),
            quota: 0,
            budget_ceiling: "16800.505".into(),
            min_age: 61,
            ..bogor_2025()
        };
        let descriptions: Vec<String> =
            Subsidy::parse(input, Uuid::nil(), &kota_bogor()).unwrap_err().into_iter().map(|v| v.description).collect();
        assert_eq!(
            descriptions,
            [
                "32.01 is outside the funder's area: a city funds only its own (32.71)",
                "a subsidy may span at most 120 months; 2025-09 to 2035-12 is 124",
                "must be from 1 to 10,000,000 workers, got 0",
                "must have at most 2 decimal places (sen), like 16800.50",
                "must not be above the maximum age 60",
            ]
        );
        let province = SubsidyInput { area_code: "33".into(), ..bogor_2025() };
        let violations = Subsidy::parse(province, Uuid::nil(), &jawa_barat()).unwrap_err();
        assert_eq!(violations[0].description, "33 is outside the funder's province 32");
        let violations = Subsidy::parse(bogor_2025(), Uuid::nil(), &insurer()).unwrap_err();
        assert_eq!(
            violations[0].description,
            "the insurer cannot fund a subsidy; only a city or province government can"
        );
    }

    #[test]
    fn a_subsidy_funds_the_months_from_its_first_to_its_last() {
        let subsidy =
            Subsidy::parse(SubsidyInput { last_month: "2026-02".into(), ..bogor_2025() }, Uuid::nil(), &kota_bogor())
                .unwrap();
        assert_eq!(subsidy.months(), 6);
        let check =
            |month: &str, expected: bool| assert_eq!(subsidy.funds(Month::parse(month).unwrap()), expected, "{month}");
        check("2025-08", false);
        check("2025-09", true);
        check("2025-12", true);
        check("2026-01", true);
        check("2026-02", true);
        check("2026-03", false);
    }
}
