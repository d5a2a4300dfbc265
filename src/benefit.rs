//! The benefit calculator: what a JKM death (R2) or a JKK work accident (R3) pays, line by line.
//!
//! Pure: the event date and the contribution period are arguments, nothing is read or written. Each line cites its
//! rule and says in one sentence, with the numbers, why it pays what it pays, so that an heir or an auditor can
//! follow the sum. Amounts are exact; the only divisions (a day of STMB, a percentage of disability) round half
//! away from zero to sen once per line, as `money` prescribes.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

use crate::money::Rupiah;

/// The parameters of a subsidy's benefits. The defaults are RULES.md's; the [UNCONF] ones must stay adjustable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The declared-income tier that JKK benefits multiply (R3).
    pub base: Rupiah,
    /// Paid months from which JKM pays in full rather than `early_death_benefit` in total (R2.2, [UNCONF]).
    pub full_death_benefit_from: u32,
    /// What JKM pays in total before `full_death_benefit_from` paid months (R2.2, [UNCONF]).
    pub early_death_benefit: Rupiah,
    /// Paid months from which JKM adds a scholarship (R2.3).
    pub scholarship_from: u32,
    /// How many children, in the order listed, may receive a scholarship (R2.3, R3.5).
    pub max_scholarship_children: usize,
    /// The age from which a year of scholarship is no longer paid (R2.4).
    pub scholarship_end_age: u32,
}

/// What is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// JKM: a death not caused by work (R2).
    Death { children: Vec<Child> },
    /// JKK: a death from a work accident (R3.5).
    AccidentDeath { children: Vec<Child> },
    /// JKK: a work accident the worker survived (R3.1–R3.4).
    Accident(AccidentClaim),
}

/// The amounts billed or claimed after a work accident the worker survived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccidentClaim {
    /// Medical care as billed; no ceiling, so a zero amount simply gives no line (R3.1).
    pub medical: Rupiah,
    /// Home care as billed, over `home_care_days` days (R3.1).
    pub home_care: Option<Rupiah>,
    pub home_care_days: u32,
    /// Each journey with its mode; the cap applies to a mode's sum (R3.2).
    pub transport: Vec<(Transport, Rupiah)>,
    /// First and last day, inclusive, of temporary inability to work (STMB, R3.3).
    pub inability: Option<(NaiveDate, NaiveDate)>,
    pub disability: Option<Disability>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// Land, river or lake.
    Land,
    Sea,
    Air,
}

/// Permanent disability (R3.4); `percent` is the regulation table's, 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disability {
    Total,
    Partial { percent: Decimal },
}

/// A child of the deceased who may receive a scholarship (R2.3, R2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    pub birth_date: NaiveDate,
    /// The level of schooling at the event date.
    pub level: Level,
}

/// A level of schooling, in order (R2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    PreschoolPrimary,
    JuniorSecondary,
    SeniorSecondary,
    /// Higher education or vocational training.
    Higher,
}

/// The assessed benefit: the lines to pay and, behind each scholarship line, its year-by-year schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Breakdown {
    pub lines: Vec<Line>,
    /// One schedule per child within `max_scholarship_children` when a scholarship is due, even an empty one for a
    /// child already too old (whose line then pays 0 and says why).
    pub scholarships: Vec<Schedule>,
}

/// One amount to pay, the rule that grants it and why, in one English sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub rule: &'static str,
    pub item: Item,
    pub amount: Rupiah,
    pub explanation: String,
}

/// What a line pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    /// The Rp10,000,000 in total under 3 paid months (R2.2).
    DeathBenefit,
    LumpSum,
    /// 24 monthly payments paid at once.
    Periodic,
    Funeral,
    /// The 48 × base of a work-accident death (R3.5).
    AccidentDeath,
    /// `child` is the 0-based index in the children listed. A refusal of every child (under 36 months) is one
    /// line on child 0.
    Scholarship {
        child: usize,
    },
    Medical,
    HomeCare,
    Transport(Transport),
    /// STMB; one line at 100% and one at 50% when the period straddles the 12-month mark.
    TemporaryInability,
    Disability,
}

/// A child's scholarship, one entry per year paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub child: usize,
    pub years: Vec<ScholarshipYear>,
    pub total: Rupiah,
}

/// The year of scholarship starting on `from` (the event date plus whole years), at the child's age on that date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScholarshipYear {
    pub from: NaiveDate,
    pub age: u32,
    pub level: Level,
    pub amount: Rupiah,
}

/// The full JKM death benefit, in its three parts (R2.1).
const LUMP_SUM: u64 = 20_000_000;
const FUNERAL: u64 = 10_000_000;
/// 24 × Rp500,000 (R2.1, R3.5).
const PERIODIC_MONTHS: u64 = 24;
const PERIODIC_MONTHLY: u64 = 500_000;
/// A work-accident death pays 48 × base, at least Rp20,000,000 (R3.5).
const ACCIDENT_DEATH_TIMES: u64 = 48;
const ACCIDENT_DEATH_MIN: u64 = 20_000_000;
/// Home care: at most a year and Rp20,000,000 (R3.1).
const HOME_CARE_DAYS: u32 = 365;
const HOME_CARE_CAP: u64 = 20_000_000;
/// STMB is paid per day at base / 30 (R3.3): in full for the first 12 months after the accident, half after.
const STMB_DAYS_PER_BASE: u64 = 30;
const STMB_FULL_MONTHS: u32 = 12;
/// Permanent disability (R3.4).
const TOTAL_DISABILITY_TIMES: u64 = 56;
const TOTAL_DISABILITY_EXTRA: u64 = 12_000_000;
const PARTIAL_DISABILITY_TIMES: u64 = 80;

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            base: Rupiah::from_whole(1_000_000),
            full_death_benefit_from: 3,
            early_death_benefit: Rupiah::from_whole(10_000_000),
            scholarship_from: 36,
            max_scholarship_children: 2,
            scholarship_end_age: 23,
        }
    }
}

impl Policy {
    /// The JKM death benefit after `contribution_months` paid months, as [`assess`] totals it for a death without
    /// children (R2.1, R2.2): what VerifyCoverage announces.
    pub fn death_benefit(&self, contribution_months: u32) -> Rupiah {
        // The sum of the lines the assessment gives, so that the rule is written once (in `death`).
        let mut lines = Vec::new();
        death(self, contribution_months, &mut lines);
        lines.iter().map(|line| line.amount).sum()
    }

    /// Whether heirs may claim scholarships after `contribution_months` paid months (R2.3).
    pub fn scholarship_eligible(&self, contribution_months: u32) -> bool {
        contribution_months >= self.scholarship_from
    }
}

/// Assesses `claim` for an event (death or accident) on `event_date` after `contribution_months` paid months.
///
/// # Panics
/// If an amount exceeds Rp10^15, which takes a base thousands of times any declared-income tier.
pub fn assess(policy: &Policy, claim: &Claimed, event_date: NaiveDate, contribution_months: u32) -> Breakdown {
    let mut out = Breakdown::default();
    match claim {
        Claimed::Death { children } => {
            death(policy, contribution_months, &mut out.lines);
            if contribution_months >= policy.scholarship_from {
                scholarships(policy, children, event_date, "", &mut out);
            } else if !children.is_empty() {
                let why = format!("{contribution_months} paid months < {}: no scholarship", policy.scholarship_from);
                out.lines.push(line("R2.3", Item::Scholarship { child: 0 }, Rupiah::ZERO, why));
            }
        }
        Claimed::AccidentDeath { children } => {
            accident_death(policy, &mut out.lines);
            scholarships(policy, children, event_date, "; no minimum contribution period (R3.5)", &mut out);
        }
        Claimed::Accident(claim) => accident(policy, claim, event_date, &mut out.lines),
    }
    out
}

impl Breakdown {
    pub fn total(&self) -> Rupiah {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

impl Item {
    /// Stable code on the wire (`BenefitLine.item`).
    pub fn code(self) -> &'static str {
        match self {
            Item::DeathBenefit => "DEATH_BENEFIT",
            Item::LumpSum => "LUMP_SUM",
            Item::Periodic => "PERIODIC",
            Item::Funeral => "FUNERAL",
            Item::AccidentDeath => "ACCIDENT_DEATH",
            Item::Scholarship { .. } => "SCHOLARSHIP",
            Item::Medical => "MEDICAL",
            Item::HomeCare => "HOME_CARE",
            Item::Transport(Transport::Land) => "TRANSPORT_LAND",
            Item::Transport(Transport::Sea) => "TRANSPORT_SEA",
            Item::Transport(Transport::Air) => "TRANSPORT_AIR",
            Item::TemporaryInability => "TEMPORARY_INABILITY",
            Item::Disability => "DISABILITY",
        }
    }
}

impl Level {
    pub const ALL: [Level; 4] =
        [Level::PreschoolPrimary, Level::JuniorSecondary, Level::SeniorSecondary, Level::Higher];

    /// The scholarship for a year at this level (R2.4).
    pub fn yearly(self) -> Rupiah {
        Rupiah::from_whole(match self {
            Level::PreschoolPrimary => 1_500_000,
            Level::JuniorSecondary => 2_000_000,
            Level::SeniorSecondary => 3_000_000,
            Level::Higher => 12_000_000,
        })
    }

    /// The most years paid at this level (R2.4).
    pub fn max_years(self) -> u32 {
        match self {
            Level::PreschoolPrimary => 8,
            Level::JuniorSecondary | Level::SeniorSecondary => 3,
            Level::Higher => 5,
        }
    }

    /// The age a child typically starts this level. An assumption, not a rule: RULES.md does not say how many of a
    /// level's years a child has already used, so they are estimated from the age at the event date.
    pub fn typical_start_age(self) -> u32 {
        match self {
            Level::PreschoolPrimary => 4,
            Level::JuniorSecondary => 12,
            Level::SeniorSecondary => 15,
            Level::Higher => 18,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Level::PreschoolPrimary => "preschool/primary",
            Level::JuniorSecondary => "junior secondary",
            Level::SeniorSecondary => "senior secondary",
            Level::Higher => "higher education",
        }
    }
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::Land, Transport::Sea, Transport::Air];

    /// The most paid for all journeys by this mode (R3.2).
    pub fn cap(self) -> Rupiah {
        Rupiah::from_whole(match self {
            Transport::Land => 5_000_000,
            Transport::Sea => 2_000_000,
            Transport::Air => 10_000_000,
        })
    }

    fn label(self) -> &'static str {
        match self {
            Transport::Land => "land/river/lake",
            Transport::Sea => "sea",
            Transport::Air => "air",
        }
    }
}

/// A child's scholarship from `event_date` (R2.4): the rest of the current level, then every later level in full,
/// each year paid while the child is under `end_age` on the day it starts.
pub fn schedule(child: &Child, event_date: NaiveDate, end_age: u32) -> Vec<ScholarshipYear> {
    let age = age_on(child.birth_date, event_date);
    let levels = Level::ALL.into_iter().skip_while(|l| *l != child.level);
    let mut years = Vec::new();
    for level in levels {
        let max = level.max_years();
        let used = if level == child.level { age.saturating_sub(level.typical_start_age()).min(max - 1) } else { 0 };
        for _ in used..max {
            let from = plus_months(event_date, 12 * years.len() as u32);
            let age = age_on(child.birth_date, from);
            if age >= end_age {
                return years;
            }
            years.push(ScholarshipYear { from, age, level, amount: level.yearly() });
        }
    }
    years
}

fn death(policy: &Policy, months: u32, lines: &mut Vec<Line>) {
    let from = policy.full_death_benefit_from;
    if months < from {
        let early = policy.early_death_benefit;
        let why = format!("{months} paid months < {from}: Rp{early} in total");
        lines.push(line("R2.2", Item::DeathBenefit, early, why));
        return;
    }
    let why = format!("{months} paid months ≥ {from}: lump sum of the full death benefit");
    lines.push(line("R2.1", Item::LumpSum, Rupiah::from_whole(LUMP_SUM), why));
    lines.push(periodic("R2.1"));
    lines.push(line("R2.1", Item::Funeral, Rupiah::from_whole(FUNERAL), "funeral cost".into()));
}

fn accident_death(policy: &Policy, lines: &mut Vec<Line>) {
    let base = policy.base;
    let times = base.times(ACCIDENT_DEATH_TIMES);
    let minimum = Rupiah::from_whole(ACCIDENT_DEATH_MIN);
    let why = if times < minimum {
        format!("{ACCIDENT_DEATH_TIMES} × Rp{base} = Rp{times}, raised to the minimum of Rp{minimum}")
    } else {
        format!("{ACCIDENT_DEATH_TIMES} × Rp{base} (at least Rp{minimum})")
    };
    lines.push(line("R3.5", Item::AccidentDeath, times.max(minimum), why));
    lines.push(line("R3.5", Item::Funeral, Rupiah::from_whole(FUNERAL), "funeral cost".into()));
    lines.push(periodic("R3.5"));
}

fn periodic(rule: &'static str) -> Line {
    let why = format!("{PERIODIC_MONTHS} × Rp{PERIODIC_MONTHLY} periodic benefit, paid at once");
    line(rule, Item::Periodic, Rupiah::from_whole(PERIODIC_MONTHLY).times(PERIODIC_MONTHS), why)
}

/// One line per child listed: a schedule's total for the first `max_scholarship_children`, nothing for the rest.
fn scholarships(policy: &Policy, children: &[Child], event_date: NaiveDate, note: &str, out: &mut Breakdown) {
    let max = policy.max_scholarship_children;
    for (index, child) in children.iter().enumerate() {
        let item = Item::Scholarship { child: index };
        let who = format!("{} child", ordinal(index + 1));
        if index >= max {
            let why = format!("{who}: at most {max} children receive a scholarship");
            out.lines.push(line("R2.3", item, Rupiah::ZERO, why));
            continue;
        }
        let years = schedule(child, event_date, policy.scholarship_end_age);
        let total: Rupiah = years.iter().map(|y| y.amount).sum();
        let age = age_on(child.birth_date, event_date);
        let end = policy.scholarship_end_age;
        let why = if years.is_empty() {
            format!("{who}, aged {age}: the scholarship stops at age {end}")
        } else {
            let mut parts: Vec<(u32, Level)> = Vec::new();
            for year in &years {
                match parts.last_mut() {
                    Some((n, level)) if *level == year.level => *n += 1,
                    _ => parts.push((1, year.level)),
                }
            }
            let parts: Vec<String> =
                parts.iter().map(|(n, level)| format!("{n} × Rp{} ({})", level.yearly(), level.label())).collect();
            format!("{who}, aged {age} in {}: {} until age {end}{note}", child.level.label(), parts.join(" + "))
        };
        out.lines.push(line("R2.4", item, total, why));
        out.scholarships.push(Schedule { child: index, years, total });
    }
}

fn accident(policy: &Policy, claim: &AccidentClaim, event_date: NaiveDate, lines: &mut Vec<Line>) {
    if claim.medical > Rupiah::ZERO {
        lines.push(line("R3.1", Item::Medical, claim.medical, "medical care as billed, no ceiling".into()));
    }
    if let Some(claimed) = claim.home_care {
        let days = claim.home_care_days;
        let (amount, mut why) =
            capped(claimed, Rupiah::from_whole(HOME_CARE_CAP), &format!("home care over {days} days"));
        if days > HOME_CARE_DAYS {
            why += &format!("; the {} days beyond {HOME_CARE_DAYS} are not covered", days - HOME_CARE_DAYS);
        }
        lines.push(line("R3.1", Item::HomeCare, amount, why));
    }
    for mode in Transport::ALL {
        let mut journeys = claim.transport.iter().filter(|(m, _)| *m == mode).peekable();
        if journeys.peek().is_none() {
            continue;
        }
        let claimed: Rupiah = journeys.map(|(_, amount)| *amount).sum();
        let (amount, why) = capped(claimed, mode.cap(), &format!("{} transport", mode.label()));
        lines.push(line("R3.2", Item::Transport(mode), amount, why));
    }
    if let Some((first, last)) = claim.inability {
        inability(policy.base, event_date, first, last, lines);
    }
    match claim.disability {
        Some(Disability::Total) => {
            let extra = Rupiah::from_whole(TOTAL_DISABILITY_EXTRA);
            let amount = policy.base.times(TOTAL_DISABILITY_TIMES) + extra;
            let why = format!("total permanent disability: {TOTAL_DISABILITY_TIMES} × Rp{} + Rp{extra}", policy.base);
            lines.push(line("R3.4", Item::Disability, amount, why));
        }
        Some(Disability::Partial { percent }) => {
            // A percentage outside 0..=100 is no table's; clamping keeps the amount within the total's range.
            let percent = percent.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
            let amount = sen(percent * policy.base.times(PARTIAL_DISABILITY_TIMES).amount() / Decimal::ONE_HUNDRED);
            let why = format!(
                "partial permanent disability: {}% × {PARTIAL_DISABILITY_TIMES} × Rp{}",
                percent.normalize(),
                policy.base
            );
            lines.push(line("R3.4", Item::Disability, amount, why));
        }
        None => {}
    }
}

/// STMB from `first` to `last` inclusive (R3.3): days before the 12-month mark at base / 30, later days at half
/// that, each line rounded once. Days before the accident are not counted; an empty period gives no line.
fn inability(base: Rupiah, event_date: NaiveDate, first: NaiveDate, last: NaiveDate, lines: &mut Vec<Line>) {
    let first = first.max(event_date);
    let mark = plus_months(event_date, STMB_FULL_MONTHS);
    let per_day = format!("Rp{base}/{STMB_DAYS_PER_BASE} a day");
    let full_last = last.min(mark.pred_opt().expect("dates go back"));
    if first <= full_last {
        let days = days(first, full_last);
        let amount = sen(base.times(days).amount() / Decimal::from(STMB_DAYS_PER_BASE));
        let why =
            format!("{days} days from {first} to {full_last}, within {STMB_FULL_MONTHS} months: 100% of {per_day}");
        lines.push(line("R3.3", Item::TemporaryInability, amount, why));
    }
    let half_first = first.max(mark);
    if half_first <= last {
        let days = days(half_first, last);
        let amount = sen(base.times(days).amount() / Decimal::from(2 * STMB_DAYS_PER_BASE));
        let why = format!("{days} days from {half_first} to {last}, after {STMB_FULL_MONTHS} months: 50% of {per_day}");
        lines.push(line("R3.3", Item::TemporaryInability, amount, why));
    }
}

/// The claimed amount up to `cap`, with the sentence saying which.
fn capped(claimed: Rupiah, cap: Rupiah, what: &str) -> (Rupiah, String) {
    if claimed > cap {
        (cap, format!("{what} claimed Rp{claimed}, capped at Rp{cap}"))
    } else {
        (claimed, format!("{what} claimed Rp{claimed}, within the cap of Rp{cap}"))
    }
}

fn line(rule: &'static str, item: Item, amount: Rupiah, explanation: String) -> Line {
    Line { rule, item, amount, explanation }
}

/// Rounds with the one rounding rule ([`Rupiah::rounded`]).
fn sen(amount: Decimal) -> Rupiah {
    Rupiah::rounded(amount).expect("a benefit is non-negative and below Rp10^15")
}

/// Whole years; 0 for a child born after the date (a child born after the father's death is an heir).
fn age_on(birth_date: NaiveDate, date: NaiveDate) -> u32 {
    date.years_since(birth_date).unwrap_or(0)
}

/// Calendar months later; the 29th to 31st fall back to a shorter month's last day.
fn plus_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months)).expect("dates within chrono's range")
}

/// Days from `first` to `last`, both included.
fn days(first: NaiveDate, last: NaiveDate) -> u64 {
    (last - first).num_days() as u64 + 1
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    const EVENT: &str = "2025-11-20";

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn rp(n: u64) -> Rupiah {
        Rupiah::from_whole(n)
    }

    /// A child turning `age` on the event date.
    fn child(age: u32, level: Level) -> Child {
        Child { birth_date: d(EVENT).checked_sub_months(Months::new(12 * age)).unwrap(), level }
    }

    fn tier(base: u64) -> Policy {
        Policy { base: rp(base), ..Policy::default() }
    }

    fn accident(claim: AccidentClaim) -> Claimed {
        Claimed::Accident(claim)
    }

    /// Assesses `claim` on the event date and compares its lines as (rule, item code, amount); returns the whole
    /// breakdown for the schedules and explanations.
    fn check(policy: &Policy, claim: &Claimed, months: u32, expected: &[(&str, &str, &str)]) -> Breakdown {
        let breakdown = assess(policy, claim, d(EVENT), months);
        let got: Vec<(&str, &str, String)> =
            breakdown.lines.iter().map(|l| (l.rule, l.item.code(), l.amount.to_string())).collect();
        let expected: Vec<(&str, &str, String)> = expected.iter().map(|&(r, c, a)| (r, c, a.to_string())).collect();
        assert_eq!(got, expected, "{claim:?} after {months} months");
        breakdown
    }

    const FULL_JKM: [(&str, &str, &str); 3] =
        [("R2.1", "LUMP_SUM", "20000000"), ("R2.1", "PERIODIC", "12000000"), ("R2.1", "FUNERAL", "10000000")];

    fn with_full_jkm<'a>(rest: &[(&'a str, &'a str, &'a str)]) -> Vec<(&'a str, &'a str, &'a str)> {
        FULL_JKM.iter().chain(rest).copied().collect()
    }

    #[test]
    fn jkm_pays_10m_in_total_under_3_paid_months_and_42m_from_3() {
        let p = Policy::default();
        let death = Claimed::Death { children: vec![] };
        check(&p, &death, 0, &[("R2.2", "DEATH_BENEFIT", "10000000")]);
        let b = check(&p, &death, 2, &[("R2.2", "DEATH_BENEFIT", "10000000")]);
        assert_eq!(b.lines[0].explanation, "2 paid months < 3: Rp10000000 in total");
        let b = check(&p, &death, 3, &FULL_JKM);
        assert_eq!(b.total(), rp(42_000_000));
        assert_eq!(b.lines[0].explanation, "3 paid months ≥ 3: lump sum of the full death benefit");
        assert_eq!(b.lines[1].explanation, "24 × Rp500000 periodic benefit, paid at once");
        // The same figure coverage announces (R2.1, R2.2), and the threshold is a policy parameter.
        for months in 0..40 {
            assert_eq!(assess(&p, &death, d(EVENT), months).total(), p.death_benefit(months), "{months}");
            assert_eq!(p.scholarship_eligible(months), months >= 36, "{months}");
        }
        let announced: Vec<Rupiah> = [0, 2, 3, 36].into_iter().map(|months| p.death_benefit(months)).collect();
        assert_eq!(announced, [rp(10_000_000), rp(10_000_000), rp(42_000_000), rp(42_000_000)]);
        let calendar = Policy { full_death_benefit_from: 4, ..Policy::default() };
        check(&calendar, &death, 3, &[("R2.2", "DEATH_BENEFIT", "10000000")]);
        assert_eq!(calendar.death_benefit(3), rp(10_000_000));
        assert_eq!(calendar.death_benefit(4), rp(42_000_000));
        let lower = Policy { early_death_benefit: rp(5_000_000), ..Policy::default() };
        let b = check(&lower, &death, 1, &[("R2.2", "DEATH_BENEFIT", "5000000")]);
        assert_eq!(b.lines[0].explanation, "1 paid months < 3: Rp5000000 in total");
        assert_eq!(lower.death_benefit(1), rp(5_000_000));
    }

    #[test]
    fn jkm_adds_a_scholarship_from_36_paid_months_and_explains_its_refusal_before() {
        let p = Policy::default();
        let death =
            Claimed::Death { children: vec![child(5, Level::PreschoolPrimary), child(16, Level::SeniorSecondary)] };
        let b = check(&p, &death, 35, &with_full_jkm(&[("R2.3", "SCHOLARSHIP", "0")]));
        assert_eq!(b.lines[3].explanation, "35 paid months < 36: no scholarship");
        assert!(b.scholarships.is_empty());
        let b = check(&p, &death, 2, &[("R2.2", "DEATH_BENEFIT", "10000000"), ("R2.3", "SCHOLARSHIP", "0")]);
        assert_eq!(b.total(), rp(10_000_000));
        check(&p, &Claimed::Death { children: vec![] }, 35, &FULL_JKM);
        let b = check(
            &p,
            &death,
            36,
            &with_full_jkm(&[("R2.4", "SCHOLARSHIP", "85500000"), ("R2.4", "SCHOLARSHIP", "66000000")]),
        );
        assert_eq!(b.total(), rp(42_000_000 + 151_500_000));
    }

    #[test]
    fn each_child_is_scheduled_from_the_rest_of_their_level_until_age_23() {
        let p = Policy::default();
        let death =
            Claimed::Death { children: vec![child(5, Level::PreschoolPrimary), child(16, Level::SeniorSecondary)] };
        let b = assess(&p, &death, d(EVENT), 36);
        let years = |i: usize| -> Vec<(String, u32, Level, String)> {
            let s = &b.scholarships[i];
            assert_eq!(s.child, i);
            s.years.iter().map(|y| (y.from.to_string(), y.age, y.level, y.amount.to_string())).collect()
        };
        let year = |from: &str, age, level, amount: &str| (from.to_string(), age, level, amount.to_string());
        use Level::*;
        #[rustfmt::skip]
        assert_eq!(years(0), [
            year("2025-11-20", 5, PreschoolPrimary, "1500000"), year("2026-11-20", 6, PreschoolPrimary, "1500000"),
            year("2027-11-20", 7, PreschoolPrimary, "1500000"), year("2028-11-20", 8, PreschoolPrimary, "1500000"),
            year("2029-11-20", 9, PreschoolPrimary, "1500000"), year("2030-11-20", 10, PreschoolPrimary, "1500000"),
            year("2031-11-20", 11, PreschoolPrimary, "1500000"), year("2032-11-20", 12, JuniorSecondary, "2000000"),
            year("2033-11-20", 13, JuniorSecondary, "2000000"), year("2034-11-20", 14, JuniorSecondary, "2000000"),
            year("2035-11-20", 15, SeniorSecondary, "3000000"), year("2036-11-20", 16, SeniorSecondary, "3000000"),
            year("2037-11-20", 17, SeniorSecondary, "3000000"), year("2038-11-20", 18, Higher, "12000000"),
            year("2039-11-20", 19, Higher, "12000000"), year("2040-11-20", 20, Higher, "12000000"),
            year("2041-11-20", 21, Higher, "12000000"), year("2042-11-20", 22, Higher, "12000000"),
        ]);
        #[rustfmt::skip]
        assert_eq!(years(1), [
            year("2025-11-20", 16, SeniorSecondary, "3000000"), year("2026-11-20", 17, SeniorSecondary, "3000000"),
            year("2027-11-20", 18, Higher, "12000000"), year("2028-11-20", 19, Higher, "12000000"),
            year("2029-11-20", 20, Higher, "12000000"), year("2030-11-20", 21, Higher, "12000000"),
            year("2031-11-20", 22, Higher, "12000000"),
        ]);
        assert_eq!((b.scholarships[0].total, b.scholarships[1].total), (rp(85_500_000), rp(66_000_000)));
        assert_eq!(
            b.lines[3].explanation,
            "1st child, aged 5 in preschool/primary: 7 × Rp1500000 (preschool/primary) + 3 × Rp2000000 (junior \
             secondary) + 3 × Rp3000000 (senior secondary) + 5 × Rp12000000 (higher education) until age 23"
        );
    }

    #[test]
    fn the_scholarship_follows_the_age_at_the_start_of_each_year() {
        let p = Policy::default();
        let one = |c: Child| Claimed::Death { children: vec![c] };
        let scholarship = |amount| with_full_jkm(&[("R2.4", "SCHOLARSHIP", amount)]);
        // At or under the typical start age a child gets every year: Rp87,000,000 (R2.4).
        check(&p, &one(child(4, Level::PreschoolPrimary)), 36, &scholarship("87000000"));
        check(&p, &one(child(0, Level::PreschoolPrimary)), 36, &scholarship("87000000"));
        // One day short of 5: still 4, so no year is counted as used.
        let almost_5 = Child {
            birth_date: child(5, Level::PreschoolPrimary).birth_date.succ_opt().unwrap(),
            ..child(5, Level::PreschoolPrimary)
        };
        check(&p, &one(almost_5), 36, &scholarship("87000000"));
        check(&p, &one(child(12, Level::JuniorSecondary)), 36, &scholarship("75000000"));
        check(&p, &one(child(18, Level::Higher)), 36, &scholarship("60000000"));
        // Behind the typical age a level keeps one year (junior at 20, senior at 21 and 22), and 23 ends it.
        check(&p, &one(child(20, Level::JuniorSecondary)), 36, &scholarship("8000000"));
        check(&p, &one(child(22, Level::Higher)), 36, &scholarship("12000000"));
        let b = check(&p, &one(child(23, Level::Higher)), 36, &scholarship("0"));
        assert_eq!(b.lines[3].explanation, "1st child, aged 23: the scholarship stops at age 23");
        assert_eq!(b.scholarships[0].years, []);
    }

    #[test]
    fn at_most_two_children_receive_a_scholarship_in_the_order_listed() {
        let p = Policy::default();
        let children = vec![
            child(4, Level::PreschoolPrimary),
            child(4, Level::PreschoolPrimary),
            child(10, Level::PreschoolPrimary),
        ];
        let b = check(
            &p,
            &Claimed::Death { children },
            48,
            &with_full_jkm(&[
                ("R2.4", "SCHOLARSHIP", "87000000"),
                ("R2.4", "SCHOLARSHIP", "87000000"),
                ("R2.3", "SCHOLARSHIP", "0"),
            ]),
        );
        assert_eq!(b.lines[5].item, Item::Scholarship { child: 2 });
        assert_eq!(b.lines[5].explanation, "3rd child: at most 2 children receive a scholarship");
        assert_eq!(b.scholarships.len(), 2);
        assert_eq!(b.total(), rp(42_000_000 + 174_000_000));
    }

    #[test]
    fn a_work_accident_death_pays_48_times_the_base_at_least_20m_and_a_scholarship_without_waiting() {
        let children = vec![child(16, Level::SeniorSecondary)];
        let death = Claimed::AccidentDeath { children: children.clone() };
        let lines = |main| {
            [
                ("R3.5", "ACCIDENT_DEATH", main),
                ("R3.5", "FUNERAL", "10000000"),
                ("R3.5", "PERIODIC", "12000000"),
                ("R2.4", "SCHOLARSHIP", "66000000"),
            ]
        };
        let b = check(&Policy::default(), &death, 0, &lines("48000000"));
        assert_eq!(b.total(), rp(70_000_000 + 66_000_000));
        assert_eq!(b.lines[0].explanation, "48 × Rp1000000 (at least Rp20000000)");
        assert!(b.lines[3].explanation.ends_with("; no minimum contribution period (R3.5)"));
        let b = check(&tier(300_000), &death, 0, &lines("20000000"));
        assert_eq!(b.lines[0].explanation, "48 × Rp300000 = Rp14400000, raised to the minimum of Rp20000000");
        check(&tier(400_000), &death, 0, &lines("20000000"));
        check(&tier(500_000), &death, 0, &lines("24000000"));
        let b = check(&Policy::default(), &Claimed::AccidentDeath { children: vec![] }, 0, &lines("48000000")[..3]);
        assert_eq!(b.total(), rp(70_000_000));
    }

    #[test]
    fn stmb_pays_a_thirtieth_of_the_base_a_day_in_full_for_12_months_then_half() {
        let p = Policy::default();
        let stmb = |first, last| accident(AccidentClaim { inability: Some((d(first), d(last))), ..Default::default() });
        let full = |amount| ("R3.3", "TEMPORARY_INABILITY", amount);
        // Rounded once per line, half away from zero: 10 days are 333,333.33, not 10 × 33,333.33.
        check(&p, &stmb("2025-11-20", "2025-11-20"), 0, &[full("33333.33")]);
        check(&p, &stmb("2025-11-20", "2025-11-21"), 0, &[full("66666.67")]);
        check(&p, &stmb("2025-11-21", "2025-11-30"), 0, &[full("333333.33")]);
        let b = check(&p, &stmb("2025-11-20", "2025-12-19"), 0, &[full("1000000")]);
        assert_eq!(
            b.lines[0].explanation,
            "30 days from 2025-11-20 to 2025-12-19, within 12 months: 100% of Rp1000000/30 a day"
        );
        check(&p, &stmb("2026-11-10", "2026-11-19"), 0, &[full("333333.33")]);
        // The 12-month mark, 2026-11-20, is the first day at half.
        let b = check(&p, &stmb("2026-11-10", "2026-11-29"), 0, &[full("333333.33"), full("166666.67")]);
        assert_eq!(
            b.lines[1].explanation,
            "10 days from 2026-11-20 to 2026-11-29, after 12 months: 50% of Rp1000000/30 a day"
        );
        check(&p, &stmb("2026-11-20", "2026-11-20"), 0, &[full("16666.67")]);
        check(&p, &stmb("2027-01-01", "2027-01-30"), 0, &[full("500000")]);
        // A whole year and a half from the accident: 365 days in full, 181 at half.
        check(&p, &stmb("2025-11-20", "2027-05-19"), 0, &[full("12166666.67"), full("3016666.67")]);
        // Days before the accident are not counted; an empty period pays nothing.
        check(&p, &stmb("2025-11-01", "2025-11-20"), 0, &[full("33333.33")]);
        check(&p, &stmb("2025-11-01", "2025-11-19"), 0, &[]);
        check(&p, &stmb("2025-12-02", "2025-12-01"), 0, &[]);
        check(&tier(300_000), &stmb("2025-11-20", "2025-11-20"), 0, &[full("10000")]);
    }

    #[test]
    fn permanent_disability_pays_56_times_the_base_plus_12m_or_its_share_of_80_times() {
        let p = Policy::default();
        let disabled = |d| accident(AccidentClaim { disability: Some(d), ..Default::default() });
        let partial = |s| disabled(Disability::Partial { percent: Decimal::from_str(s).unwrap() });
        let line = |amount| [("R3.4", "DISABILITY", amount)];
        let b = check(&p, &disabled(Disability::Total), 0, &line("68000000"));
        assert_eq!(b.lines[0].explanation, "total permanent disability: 56 × Rp1000000 + Rp12000000");
        let b = check(&p, &partial("10"), 0, &line("8000000"));
        assert_eq!(b.lines[0].explanation, "partial permanent disability: 10% × 80 × Rp1000000");
        check(&p, &partial("2.5"), 0, &line("2000000"));
        check(&p, &partial("100"), 0, &line("80000000"));
        check(&p, &partial("0"), 0, &line("0"));
        check(&p, &partial("150"), 0, &line("80000000"));
        check(&p, &partial("-5"), 0, &line("0"));
        // 12.345% × 80 × Rp333,333 = Rp3,291,996.708, rounded once.
        check(&tier(333_333), &partial("12.345"), 0, &line("3291996.71"));
    }

    #[test]
    fn medical_care_has_no_ceiling_and_home_care_and_transport_are_capped() {
        let p = Policy::default();
        let journeys = |t: &[(Transport, u64)]| {
            accident(AccidentClaim { transport: t.iter().map(|&(m, a)| (m, rp(a))).collect(), ..Default::default() })
        };
        use Transport::*;
        let b = check(&p, &journeys(&[(Land, 6_000_000)]), 0, &[("R3.2", "TRANSPORT_LAND", "5000000")]);
        assert_eq!(b.lines[0].explanation, "land/river/lake transport claimed Rp6000000, capped at Rp5000000");
        let b = check(&p, &journeys(&[(Sea, 1_000_000)]), 0, &[("R3.2", "TRANSPORT_SEA", "1000000")]);
        assert_eq!(b.lines[0].explanation, "sea transport claimed Rp1000000, within the cap of Rp2000000");
        check(&p, &journeys(&[(Air, 12_000_000)]), 0, &[("R3.2", "TRANSPORT_AIR", "10000000")]);
        check(&p, &journeys(&[(Air, 10_000_000)]), 0, &[("R3.2", "TRANSPORT_AIR", "10000000")]);
        // The cap is per mode, over the mode's journeys together.
        check(
            &p,
            &journeys(&[(Air, 4_000_000), (Land, 3_000_000), (Sea, 2_500_000), (Land, 3_000_000)]),
            0,
            &[
                ("R3.2", "TRANSPORT_LAND", "5000000"),
                ("R3.2", "TRANSPORT_SEA", "2000000"),
                ("R3.2", "TRANSPORT_AIR", "4000000"),
            ],
        );
        let care = |amount, days| {
            accident(AccidentClaim { home_care: Some(rp(amount)), home_care_days: days, ..Default::default() })
        };
        check(&p, &care(15_000_000, 100), 0, &[("R3.1", "HOME_CARE", "15000000")]);
        let b = check(&p, &care(25_000_000, 400), 0, &[("R3.1", "HOME_CARE", "20000000")]);
        assert_eq!(
            b.lines[0].explanation,
            "home care over 400 days claimed Rp25000000, capped at Rp20000000; the 35 days beyond 365 are not covered"
        );
        let b = check(&p, &care(20_000_000, 365), 0, &[("R3.1", "HOME_CARE", "20000000")]);
        assert!(!b.lines[0].explanation.contains("not covered"));
        let medical = accident(AccidentClaim { medical: rp(150_000_000), ..Default::default() });
        check(&p, &medical, 0, &[("R3.1", "MEDICAL", "150000000")]);
        check(&p, &accident(AccidentClaim::default()), 0, &[]);
    }

    #[test]
    fn one_accident_claim_lists_each_benefit_in_rule_order() {
        let claim = AccidentClaim {
            medical: rp(7_250_000),
            home_care: Some(rp(3_000_000)),
            home_care_days: 30,
            transport: vec![(Transport::Land, rp(450_000))],
            inability: Some((d("2025-11-20"), d("2025-12-19"))),
            disability: Some(Disability::Partial { percent: Decimal::from(10) }),
        };
        let b = check(
            &Policy::default(),
            &accident(claim),
            0,
            &[
                ("R3.1", "MEDICAL", "7250000"),
                ("R3.1", "HOME_CARE", "3000000"),
                ("R3.2", "TRANSPORT_LAND", "450000"),
                ("R3.3", "TEMPORARY_INABILITY", "1000000"),
                ("R3.4", "DISABILITY", "8000000"),
            ],
        );
        assert_eq!(b.total(), rp(19_700_000));
        assert!(b.scholarships.is_empty());
    }

    #[test]
    fn codes_are_stable() {
        let transport: Vec<&str> = Transport::ALL.into_iter().map(|mode| Item::Transport(mode).code()).collect();
        assert_eq!(transport, ["TRANSPORT_LAND", "TRANSPORT_SEA", "TRANSPORT_AIR"]);
        assert_eq!(Item::Scholarship { child: 7 }.code(), "SCHOLARSHIP");
        assert_eq!(
            (ordinal(1), ordinal(2), ordinal(3), ordinal(11), ordinal(12), ordinal(21)),
            ("1st".into(), "2nd".into(), "3rd".into(), "11th".into(), "12th".into(), "21st".into())
        );
    }

    fn any_child() -> impl Strategy<Value = Child> {
        (0u32..12_000, 0usize..4).prop_map(|(days_old, level)| Child {
            birth_date: d(EVENT) - chrono::Days::new(u64::from(days_old)),
            level: Level::ALL[level],
        })
    }

    proptest! {
        #[test]
        fn the_total_is_the_lines_and_two_children_never_exceed_174m(
            base in 1u64..=200,
            months in 0u32..60,
            children in proptest::collection::vec(any_child(), 0..5),
            work in any::<bool>(),
        ) {
            let policy = tier(base * 100_000);
            let claim = if work { Claimed::AccidentDeath { children } } else { Claimed::Death { children } };
            let b = assess(&policy, &claim, d(EVENT), months);
            prop_assert_eq!(b.total(), b.lines.iter().map(|l| l.amount).sum::<Rupiah>());
            let lines: Rupiah = b.lines.iter().filter(|l| l.rule == "R2.4").map(|l| l.amount).sum();
            let schedules: Rupiah = b.scholarships.iter().map(|s| s.total).sum();
            prop_assert_eq!(lines, schedules);
            prop_assert!(schedules <= rp(174_000_000));
            prop_assert!(b.scholarships.len() <= 2);
            for s in &b.scholarships {
                prop_assert_eq!(s.total, s.years.iter().map(|y| y.amount).sum::<Rupiah>());
                prop_assert!(s.total <= rp(87_000_000));
                prop_assert!(s.years.iter().all(|y| y.age < 23));
            }
        }
    }
}
