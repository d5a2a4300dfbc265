//! How a claim's particulars and its assessed breakdown are kept at rest: a private, versioned protobuf layout of
//! their own, sealed ([`crate::seal`]) into the `claims.particulars` and `claims.breakdown` columns.
//!
//! Why the field numbers are frozen: claims stored before this module existed were written as the public
//! `lindung.v1` messages (`Heir`, `Child`, `AccidentCosts`, `Breakdown`). The records below keep those messages'
//! field numbers and wire types exactly, so every claim already stored opens without a data migration, and the
//! public contract is now free to change without touching what is at rest. A change of this layout adds fields
//! under new numbers (never reuses or retypes one) and raises [`VERSION`]; records written before the version
//! marker read as version 0, the same layout as version 1.

use anyhow::{Context, anyhow};
use chrono::NaiveDate;
use prost::Message;
use rust_decimal::Decimal;

use super::{AssessedLine, Assessment, Event, Heir, Particulars, Relationship};
use crate::{benefit, money::Rupiah, nik::Nik, seal::Sealer};

/// The layout written by this build.
const VERSION: u32 = 1;

/// Seals a claim's particulars for `claims.particulars`.
pub fn seal_particulars(sealer: &Sealer, particulars: &Particulars) -> Vec<u8> {
    sealer.seal(&ParticularsRecord::from(particulars).encode_to_vec())
}

/// Opens `claims.particulars`. Accident costs belong to a work accident the worker survived only, and are read for
/// that event only (earlier builds kept whatever a filing of another event carried).
pub fn open_particulars(sealer: &Sealer, sealed: &[u8], event: Event) -> anyhow::Result<Particulars> {
    let plain = sealer.open(sealed)?;
    let record = ParticularsRecord::decode(plain.as_slice()).context("sealed particulars")?;
    known_version(record.version)?;
    Ok(Particulars {
        heirs: record.heirs.iter().map(heir).collect::<anyhow::Result<_>>()?,
        children: record.children.iter().map(child).collect::<anyhow::Result<_>>()?,
        accident_costs: match (event, &record.accident_costs) {
            (Event::Accident, Some(costs)) => Some(accident_costs(costs)?),
            _ => None,
        },
    })
}

/// Seals an assessed breakdown for `claims.breakdown`.
pub fn seal_assessment(sealer: &Sealer, assessment: &Assessment) -> Vec<u8> {
    sealer.seal(&BreakdownRecord::from(assessment).encode_to_vec())
}

/// Opens `claims.breakdown`.
pub fn open_assessment(sealer: &Sealer, sealed: &[u8]) -> anyhow::Result<Assessment> {
    let plain = sealer.open(sealed)?;
    let record = BreakdownRecord::decode(plain.as_slice()).context("sealed breakdown")?;
    known_version(record.version)?;
    Ok(Assessment {
        lines: record
            .lines
            .iter()
            .map(|line| {
                Ok(AssessedLine {
                    rule: line.rule.clone(),
                    item: line.item.clone(),
                    amount: amount(&line.amount)?,
                    explanation: line.explanation.clone(),
                })
            })
            .collect::<anyhow::Result<_>>()?,
        total: amount(&record.total)?,
        contribution_months: record.contribution_months,
        scholarships: record
            .scholarships
            .iter()
            .map(|schedule| {
                Ok(benefit::Schedule {
                    child: usize::try_from(schedule.child)?,
                    years: schedule
                        .years
                        .iter()
                        .map(|year| {
                            Ok(benefit::ScholarshipYear {
                                from: date(&year.from)?,
                                age: year.age,
                                level: level(year.level)?,
                                amount: amount(&year.amount)?,
                            })
                        })
                        .collect::<anyhow::Result<_>>()?,
                    total: amount(&schedule.total)?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
    })
}

// The records. Field numbers and wire types are those of the lindung.v1 messages named beside each: frozen.

/// `lindung.v1` had no message of its own for this: the grpc module's `Particulars`.
#[derive(Clone, PartialEq, Message)]
struct ParticularsRecord {
    #[prost(message, repeated, tag = "1")]
    heirs: Vec<HeirRecord>,
    #[prost(message, repeated, tag = "2")]
    children: Vec<ChildRecord>,
    #[prost(message, optional, tag = "3")]
    accident_costs: Option<AccidentCostsRecord>,
    #[prost(uint32, tag = "15")]
    version: u32,
}

/// `lindung.v1.Heir`.
#[derive(Clone, PartialEq, Message)]
struct HeirRecord {
    #[prost(string, tag = "1")]
    full_name: String,
    /// Empty when not given.
    #[prost(string, tag = "2")]
    nik: String,
    /// See [`relationship_number`].
    #[prost(int32, tag = "3")]
    relationship: i32,
    #[prost(string, tag = "4")]
    bank_name: String,
    #[prost(string, tag = "5")]
    bank_account: String,
}

/// `lindung.v1.Child`.
#[derive(Clone, PartialEq, Message)]
struct ChildRecord {
    /// `YYYY-MM-DD`.
    #[prost(string, tag = "1")]
    birth_date: String,
    /// See [`level_number`].
    #[prost(int32, tag = "2")]
    level: i32,
}

/// `lindung.v1.AccidentCosts`.
#[derive(Clone, PartialEq, Message)]
struct AccidentCostsRecord {
    #[prost(message, optional, tag = "1")]
    medical: Option<RupiahRecord>,
    #[prost(message, optional, tag = "2")]
    home_care: Option<RupiahRecord>,
    #[prost(uint32, tag = "3")]
    home_care_days: u32,
    #[prost(message, repeated, tag = "4")]
    transport: Vec<TransportRecord>,
    /// Both empty when there is no period of inability.
    #[prost(string, tag = "5")]
    unable_from: String,
    #[prost(string, tag = "6")]
    unable_to: String,
    #[prost(bool, tag = "7")]
    total_disability: bool,
    /// A decimal percentage; empty when none.
    #[prost(string, tag = "8")]
    partial_disability_percent: String,
}

/// `lindung.v1.TransportCost`.
#[derive(Clone, PartialEq, Message)]
struct TransportRecord {
    /// See [`transport_number`].
    #[prost(int32, tag = "1")]
    mode: i32,
    #[prost(message, optional, tag = "2")]
    amount: Option<RupiahRecord>,
}

/// `lindung.v1.Rupiah`.
#[derive(Clone, PartialEq, Message)]
struct RupiahRecord {
    #[prost(string, tag = "1")]
    amount: String,
}

/// `lindung.v1.Breakdown`.
#[derive(Clone, PartialEq, Message)]
struct BreakdownRecord {
    #[prost(message, repeated, tag = "1")]
    lines: Vec<LineRecord>,
    #[prost(message, optional, tag = "2")]
    total: Option<RupiahRecord>,
    #[prost(uint32, tag = "3")]
    contribution_months: u32,
    #[prost(message, repeated, tag = "4")]
    scholarships: Vec<ScheduleRecord>,
    #[prost(uint32, tag = "15")]
    version: u32,
}

/// `lindung.v1.BenefitLine`.
#[derive(Clone, PartialEq, Message)]
struct LineRecord {
    #[prost(string, tag = "1")]
    rule: String,
    #[prost(string, tag = "2")]
    item: String,
    #[prost(message, optional, tag = "3")]
    amount: Option<RupiahRecord>,
    #[prost(string, tag = "4")]
    explanation: String,
}

/// `lindung.v1.ScholarshipSchedule`.
#[derive(Clone, PartialEq, Message)]
struct ScheduleRecord {
    #[prost(uint32, tag = "1")]
    child: u32,
    #[prost(message, repeated, tag = "2")]
    years: Vec<YearRecord>,
    #[prost(message, optional, tag = "3")]
    total: Option<RupiahRecord>,
}

/// `lindung.v1.ScholarshipYear`.
#[derive(Clone, PartialEq, Message)]
struct YearRecord {
    #[prost(string, tag = "1")]
    from: String,
    #[prost(uint32, tag = "2")]
    age: u32,
    #[prost(int32, tag = "3")]
    level: i32,
    #[prost(message, optional, tag = "4")]
    amount: Option<RupiahRecord>,
}

fn known_version(version: u32) -> anyhow::Result<()> {
    if version <= VERSION { Ok(()) } else { Err(anyhow!("sealed record of version {version}, newer than this build")) }
}

// The numbers of the enums at rest: those of lindung.v1's enums when the layout was frozen.

const RELATIONSHIPS: [(Relationship, i32); 8] = [
    (Relationship::Spouse, 1),
    (Relationship::Child, 2),
    (Relationship::Parent, 3),
    (Relationship::Grandparent, 4),
    (Relationship::Grandchild, 5),
    (Relationship::Sibling, 6),
    (Relationship::ParentInLaw, 7),
    (Relationship::WillBeneficiary, 8),
];

const LEVELS: [(benefit::Level, i32); 4] = [
    (benefit::Level::PreschoolPrimary, 1),
    (benefit::Level::JuniorSecondary, 2),
    (benefit::Level::SeniorSecondary, 3),
    (benefit::Level::Higher, 4),
];

const TRANSPORTS: [(benefit::Transport, i32); 3] =
    [(benefit::Transport::Land, 1), (benefit::Transport::Sea, 2), (benefit::Transport::Air, 3)];

fn number<T: PartialEq + Copy>(table: &[(T, i32)], value: T) -> i32 {
    table.iter().find(|(v, _)| *v == value).map(|(_, n)| *n).expect("every value has a number")
}

fn value<T: Copy>(table: &[(T, i32)], number: i32, what: &str) -> anyhow::Result<T> {
    table.iter().find(|(_, n)| *n == number).map(|(v, _)| *v).ok_or_else(|| anyhow!("unknown {what} {number} at rest"))
}

fn relationship_number(relationship: Relationship) -> i32 {
    number(&RELATIONSHIPS, relationship)
}

fn level_number(level: benefit::Level) -> i32 {
    number(&LEVELS, level)
}

fn transport_number(transport: benefit::Transport) -> i32 {
    number(&TRANSPORTS, transport)
}

fn level(n: i32) -> anyhow::Result<benefit::Level> {
    value(&LEVELS, n, "education level")
}

fn rupiah(amount: Rupiah) -> Option<RupiahRecord> {
    Some(RupiahRecord { amount: amount.to_string() })
}

/// An amount at rest; absent is zero, as the calculator read it.
fn amount(record: &Option<RupiahRecord>) -> anyhow::Result<Rupiah> {
    match record {
        None => Ok(Rupiah::ZERO),
        Some(r) => Rupiah::parse(&r.amount).map_err(|e| anyhow!("an amount at rest {e}")),
    }
}

/// A date at rest. Read leniently (`2025-9-1` too): dates stored before the strict parser must still open.
fn date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("a date at rest {s:?}"))
}

fn heir(record: &HeirRecord) -> anyhow::Result<Heir> {
    Ok(Heir {
        full_name: record.full_name.clone(),
        nik: match record.nik.as_str() {
            "" => None,
            nik => Some(Nik::parse(nik).map_err(|e| anyhow!("an heir's NIK at rest {e}"))?),
        },
        relationship: value(&RELATIONSHIPS, record.relationship, "relationship")?,
        bank_name: record.bank_name.clone(),
        bank_account: record.bank_account.clone(),
    })
}

fn child(record: &ChildRecord) -> anyhow::Result<benefit::Child> {
    Ok(benefit::Child { birth_date: date(&record.birth_date)?, level: level(record.level)? })
}

fn accident_costs(record: &AccidentCostsRecord) -> anyhow::Result<benefit::AccidentClaim> {
    let inability = match (record.unable_from.as_str(), record.unable_to.as_str()) {
        ("", "") => None,
        (from, to) => Some((date(from)?, date(to)?)),
    };
    let disability = match (record.total_disability, record.partial_disability_percent.trim()) {
        (true, _) => Some(benefit::Disability::Total),
        (false, "") => None,
        (false, percent) => Some(benefit::Disability::Partial { percent: percent.parse::<Decimal>()? }),
    };
    Ok(benefit::AccidentClaim {
        medical: amount(&record.medical)?,
        home_care: record.home_care.as_ref().map(|r| amount(&Some(r.clone()))).transpose()?,
        home_care_days: record.home_care_days,
        transport: record
            .transport
            .iter()
            .map(|t| Ok((value(&TRANSPORTS, t.mode, "transport")?, amount(&t.amount)?)))
            .collect::<anyhow::Result<_>>()?,
        inability,
        disability,
    })
}

impl From<&Particulars> for ParticularsRecord {
    fn from(p: &Particulars) -> ParticularsRecord {
        ParticularsRecord {
            heirs: p
                .heirs
                .iter()
                .map(|h| HeirRecord {
                    full_name: h.full_name.clone(),
                    nik: h.nik.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default(),
                    relationship: relationship_number(h.relationship),
                    bank_name: h.bank_name.clone(),
                    bank_account: h.bank_account.clone(),
                })
                .collect(),
            children: p
                .children
                .iter()
                .map(|c| ChildRecord { birth_date: c.birth_date.to_string(), level: level_number(c.level) })
                .collect(),
            accident_costs: p.accident_costs.as_ref().map(|c| AccidentCostsRecord {
                medical: (c.medical != Rupiah::ZERO).then(|| rupiah(c.medical)).flatten(),
                home_care: c.home_care.and_then(rupiah),
                home_care_days: c.home_care_days,
                transport: c
                    .transport
                    .iter()
                    .map(|(mode, amount)| TransportRecord { mode: transport_number(*mode), amount: rupiah(*amount) })
                    .collect(),
                unable_from: c.inability.map(|(from, _)| from.to_string()).unwrap_or_default(),
                unable_to: c.inability.map(|(_, to)| to.to_string()).unwrap_or_default(),
                total_disability: c.disability == Some(benefit::Disability::Total),
                partial_disability_percent: match c.disability {
                    Some(benefit::Disability::Partial { percent }) => percent.to_string(),
                    _ => String::new(),
                },
            }),
            version: VERSION,
        }
    }
}

impl From<&Assessment> for BreakdownRecord {
    fn from(a: &Assessment) -> BreakdownRecord {
        BreakdownRecord {
            lines: a
                .lines
                .iter()
                .map(|l| LineRecord {
                    rule: l.rule.clone(),
                    item: l.item.clone(),
                    amount: rupiah(l.amount),
                    explanation: l.explanation.clone(),
                })
                .collect(),
            total: rupiah(a.total),
            contribution_months: a.contribution_months,
            scholarships: a
                .scholarships
                .iter()
                .map(|s| ScheduleRecord {
                    child: u32::try_from(s.child).unwrap_or(u32::MAX),
                    years: s
                        .years
                        .iter()
                        .map(|y| YearRecord {
                            from: y.from.to_string(),
                            age: y.age,
                            level: level_number(y.level),
                            amount: rupiah(y.amount),
                        })
                        .collect(),
                    total: rupiah(s.total),
                })
                .collect(),
            version: VERSION,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The proof that nothing needs migrating: bytes written as the public messages, the way claims were stored
    //! before this layout, open here; and the numbers at rest are the public enums' (which may now move on).

    use super::*;
    use crate::proto::v1 as pb;

    /// What earlier builds sealed as the particulars.
    #[derive(Clone, PartialEq, Message)]
    struct Legacy {
        #[prost(message, repeated, tag = "1")]
        heirs: Vec<pb::Heir>,
        #[prost(message, repeated, tag = "2")]
        children: Vec<pb::Child>,
        #[prost(message, optional, tag = "3")]
        accident_costs: Option<pb::AccidentCosts>,
    }

    fn sealer() -> Sealer {
        crate::audit::Pseudonymizer::new([7; 32]).sealer()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn r(s: &str) -> Option<pb::Rupiah> {
        Some(pb::Rupiah { amount: s.into() })
    }

    #[test]
    fn particulars_stored_as_the_public_messages_still_open() {
        let legacy = Legacy {
            heirs: vec![pb::Heir {
                full_name: "Budi Santoso".into(),
                nik: "3271014501900001".into(),
                relationship: pb::Relationship::Spouse as i32,
                bank_name: "BRI".into(),
                bank_account: "0123456789012".into(),
            }],
            children: vec![pb::Child { birth_date: "2015-1-1".into(), level: pb::EducationLevel::Higher as i32 }],
            accident_costs: None,
        };
        let sealed = sealer().seal(&legacy.encode_to_vec());
        let opened = open_particulars(&sealer(), &sealed, Event::Death).unwrap();
        assert_eq!(opened.heirs.len(), 1);
        assert_eq!(opened.heirs[0].full_name, "Budi Santoso");
        assert_eq!(opened.heirs[0].nik.as_ref().map(Nik::as_str), Some("3271014501900001"));
        assert_eq!(opened.heirs[0].relationship, Relationship::Spouse);
        assert_eq!(
            (opened.heirs[0].bank_name.as_str(), opened.heirs[0].bank_account.as_str()),
            ("BRI", "0123456789012")
        );
        assert_eq!(
            opened.children,
            vec![benefit::Child { birth_date: d("2015-01-01"), level: benefit::Level::Higher }]
        );

        let costs = pb::AccidentCosts {
            medical: r("3250000.50"),
            home_care: r("100000"),
            home_care_days: 12,
            transport: vec![pb::TransportCost { mode: pb::Transport::Sea as i32, amount: r("6000000") }],
            unable_from: "2025-09-16".into(),
            unable_to: "2025-09-25".into(),
            total_disability: false,
            partial_disability_percent: "12.5".into(),
        };
        let legacy = Legacy { heirs: vec![], children: vec![], accident_costs: Some(costs) };
        let sealed = sealer().seal(&legacy.encode_to_vec());
        let opened = open_particulars(&sealer(), &sealed, Event::Accident).unwrap();
        let expected = benefit::AccidentClaim {
            medical: Rupiah::parse("3250000.50").unwrap(),
            home_care: Some(Rupiah::from_whole(100_000)),
            home_care_days: 12,
            transport: vec![(benefit::Transport::Sea, Rupiah::from_whole(6_000_000))],
            inability: Some((d("2025-09-16"), d("2025-09-25"))),
            disability: Some(benefit::Disability::Partial { percent: "12.5".parse().unwrap() }),
        };
        assert_eq!(opened.accident_costs, Some(expected.clone()));
        // Costs a death filing carried were never part of the claim.
        assert_eq!(open_particulars(&sealer(), &sealed, Event::Death).unwrap().accident_costs, None);

        // And what this build writes, earlier builds read as the public messages.
        let written = Particulars { heirs: vec![], children: vec![], accident_costs: Some(expected) };
        let plain = sealer().open(&seal_particulars(&sealer(), &written)).unwrap();
        let read = Legacy::decode(plain.as_slice()).unwrap().accident_costs.unwrap();
        assert_eq!((read.medical, read.transport[0].mode), (r("3250000.5"), pb::Transport::Sea as i32));
    }

    #[test]
    fn a_breakdown_stored_as_the_public_message_still_opens_and_round_trips() {
        let legacy = pb::Breakdown {
            lines: vec![pb::BenefitLine {
                rule: "R2.3".into(),
                item: "SCHOLARSHIP".into(),
                amount: r("1500000"),
                explanation: "one year".into(),
            }],
            total: r("1500000"),
            contribution_months: 36,
            scholarships: vec![pb::ScholarshipSchedule {
                child: 1,
                years: vec![pb::ScholarshipYear {
                    from: "2025-12-20".into(),
                    age: 10,
                    level: pb::EducationLevel::PreschoolPrimary as i32,
                    amount: r("1500000"),
                }],
                total: r("1500000"),
            }],
        };
        let sealed = sealer().seal(&legacy.encode_to_vec());
        let opened = open_assessment(&sealer(), &sealed).unwrap();
        let year = benefit::ScholarshipYear {
            from: d("2025-12-20"),
            age: 10,
            level: benefit::Level::PreschoolPrimary,
            amount: Rupiah::from_whole(1_500_000),
        };
        let expected = Assessment {
            lines: vec![AssessedLine {
                rule: "R2.3".into(),
                item: "SCHOLARSHIP".into(),
                amount: Rupiah::from_whole(1_500_000),
                explanation: "one year".into(),
            }],
            total: Rupiah::from_whole(1_500_000),
            contribution_months: 36,
            scholarships: vec![benefit::Schedule { child: 1, years: vec![year], total: Rupiah::from_whole(1_500_000) }],
        };
        assert_eq!(opened, expected);
        let resealed = seal_assessment(&sealer(), &expected);
        assert_eq!(open_assessment(&sealer(), &resealed).unwrap(), expected);
        let plain = sealer().open(&resealed).unwrap();
        assert_eq!(pb::Breakdown::decode(plain.as_slice()).unwrap(), legacy, "earlier builds read it too");
    }

    #[test]
    fn the_numbers_at_rest_are_those_the_public_enums_had() {
        for (relationship, n) in RELATIONSHIPS {
            let name = format!("{relationship:?}");
            assert_eq!(format!("{:?}", pb::Relationship::try_from(n).unwrap()), name);
        }
        for (level, n) in LEVELS {
            assert_eq!(format!("{:?}", pb::EducationLevel::try_from(n).unwrap()), format!("{level:?}"));
        }
        for (transport, n) in TRANSPORTS {
            assert_eq!(format!("{:?}", pb::Transport::try_from(n).unwrap()), format!("{transport:?}"));
        }
    }

    #[test]
    fn a_record_from_a_newer_build_does_not_open_as_this_one() {
        let record = BreakdownRecord { version: VERSION + 1, ..BreakdownRecord::default() };
        assert!(open_assessment(&sealer(), &sealer().seal(&record.encode_to_vec())).is_err());
    }
}
