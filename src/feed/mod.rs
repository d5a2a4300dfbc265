//! The event feed: what changed, in one total order, for the agencies concerned.
//!
//! A change *emits* its events into its unit of work ([`crate::state::Write::emit`]); they are written to the
//! outbox (`feed_events`) in the change's transaction, so an event exists exactly when its change committed. A
//! singleton sequencer ([`service::Sequencer`]) later gives the committed events their positions, in one statement
//! at a time, so that positions become visible strictly in order (docs/ARCHITECTURE.md, "The event feed: order
//! without holes"). Subscribers read `position > last` and wait on the head.
//!
//! Who sees what: every event carries its *audience*, the agencies it concerns, fixed when it is written (the
//! funders of the subsidy, enrollment, claim or worker concerned, and the agency that made the change); the insurer
//! sees every event. Events carry ids, not data: only the events about a worker as such (registered, changed, death)
//! carry the NIK, and every agency of their audience may read that worker.

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::{agency::AgencyKind, auth::Scope, coverage, month::Month, nik::Nik};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    WorkerRegistered,
    WorkerChanged,
    EnrollmentSubmitted,
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentEnded,
    EnrollmentHandedOver,
    BillIssued,
    PaymentRecorded,
    ArrearsWarning,
    Lapse,
    DeathReported,
    ClaimFiled,
    ClaimAssessed,
    ClaimDecided,
    ClaimPaid,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::WorkerRegistered,
        Kind::WorkerChanged,
        Kind::EnrollmentSubmitted,
        Kind::EnrollmentConfirmed,
        Kind::EnrollmentRefused,
        Kind::EnrollmentEnded,
        Kind::EnrollmentHandedOver,
        Kind::BillIssued,
        Kind::PaymentRecorded,
        Kind::ArrearsWarning,
        Kind::Lapse,
        Kind::DeathReported,
        Kind::ClaimFiled,
        Kind::ClaimAssessed,
        Kind::ClaimDecided,
        Kind::ClaimPaid,
    ];

    /// The stored code (`feed_events_kind_known`).
    pub fn code(self) -> &'static str {
        match self {
            Kind::WorkerRegistered => "worker_registered",
            Kind::WorkerChanged => "worker_changed",
            Kind::EnrollmentSubmitted => "enrollment_submitted",
            Kind::EnrollmentConfirmed => "enrollment_confirmed",
            Kind::EnrollmentRefused => "enrollment_refused",
            Kind::EnrollmentEnded => "enrollment_ended",
            Kind::EnrollmentHandedOver => "enrollment_handed_over",
            Kind::BillIssued => "bill_issued",
            Kind::PaymentRecorded => "payment_recorded",
            Kind::ArrearsWarning => "arrears_warning",
            Kind::Lapse => "lapse",
            Kind::DeathReported => "death_reported",
            Kind::ClaimFiled => "claim_filed",
            Kind::ClaimAssessed => "claim_assessed",
            Kind::ClaimDecided => "claim_decided",
            Kind::ClaimPaid => "claim_paid",
        }
    }

    pub fn from_code(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether the event is about a worker as such, and so carries the worker's NIK.
    pub fn names_the_worker(self) -> bool {
        matches!(self, Kind::WorkerRegistered | Kind::WorkerChanged | Kind::DeathReported)
    }
}

/// An event as a change emits it: the kind and the ids of what changed. Its audience and time are fixed when it is
/// written, its position when it is sequenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: Kind,
    pub subsidy_id: Option<Uuid>,
    pub enrollment_id: Option<Uuid>,
    pub bill_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub claim_id: Option<Uuid>,
    pub month: Option<Month>,
    /// Kept only for the kinds that [`Kind::names_the_worker`]; for the others it only finds the audience.
    pub worker_nik: Option<Nik>,
}

impl NewEvent {
    fn of(kind: Kind) -> NewEvent {
        NewEvent {
            kind,
            subsidy_id: None,
            enrollment_id: None,
            bill_id: None,
            payment_id: None,
            claim_id: None,
            month: None,
            worker_nik: None,
        }
    }

    /// A worker registered or changed, or their death recorded.
    pub fn worker(kind: Kind, nik: &Nik) -> NewEvent {
        NewEvent { worker_nik: Some(nik.clone()), ..NewEvent::of(kind) }
    }

    /// Something that happened to an enrollment (its subsidy is found from it when not given).
    pub fn enrollment(kind: Kind, enrollment_id: Uuid, subsidy_id: Option<Uuid>) -> NewEvent {
        NewEvent { enrollment_id: Some(enrollment_id), subsidy_id, ..NewEvent::of(kind) }
    }

    pub fn bill_issued(bill_id: Uuid, subsidy_id: Uuid, month: Month) -> NewEvent {
        NewEvent {
            bill_id: Some(bill_id),
            subsidy_id: Some(subsidy_id),
            month: Some(month),
            ..NewEvent::of(Kind::BillIssued)
        }
    }

    pub fn payment_recorded(payment_id: Uuid, subsidy_id: Uuid) -> NewEvent {
        NewEvent { payment_id: Some(payment_id), subsidy_id: Some(subsidy_id), ..NewEvent::of(Kind::PaymentRecorded) }
    }

    /// Something that happened to a claim (its funder, from the claim, is the audience).
    pub fn claim(kind: Kind, claim_id: Uuid, subsidy_id: Option<Uuid>) -> NewEvent {
        NewEvent { claim_id: Some(claim_id), subsidy_id, ..NewEvent::of(kind) }
    }

    /// The NIK as the event keeps it: only on the kinds about a worker as such.
    pub fn kept_nik(&self) -> Option<&Nik> {
        self.worker_nik.as_ref().filter(|_| self.kind.names_the_worker())
    }
}

/// An event of the feed, as a subscriber receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub position: u64,
    pub kind: Kind,
    pub occurred_at: DateTime<Utc>,
    pub subsidy_id: Option<Uuid>,
    pub enrollment_id: Option<Uuid>,
    pub bill_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub claim_id: Option<Uuid>,
    pub month: Option<Month>,
    pub worker_nik: Option<Nik>,
    pub calendar_date: Option<NaiveDate>,
}

/// Whose events a subscriber receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The insurer: every event.
    Everything,
    /// A government: the events whose audience names it.
    Agency(Uuid),
}

impl Viewer {
    /// The viewer of an agency with `scope` on Subscribe: the insurer's is all, a government's its own agency.
    pub fn of(scope: Scope, agency_id: Uuid) -> Viewer {
        match scope {
            Scope::All => Viewer::Everything,
            Scope::OwnAgency | Scope::OwnArea => Viewer::Agency(agency_id),
        }
    }

    /// The agency an audience must name, or None when every event is seen (what the store filters on).
    pub fn audience_filter(self) -> Option<Uuid> {
        match self {
            Viewer::Everything => None,
            Viewer::Agency(id) => Some(id),
        }
    }

    /// The visibility rule, which the store applies in SQL (`$viewer is null or $viewer = any(audience)`).
    pub fn sees(self, audience: &[Uuid]) -> bool {
        self.audience_filter().is_none_or(|id| audience.contains(&id))
    }
}

/// Whether the agency that made a change is named in its events' audience: a government sees what it did; the
/// insurer sees everything anyway.
pub fn actor_in_audience(kind: AgencyKind) -> bool {
    kind != AgencyKind::Insurer
}

/// A fact of the calendar about a subsidy on a day: its unpaid run reached the warning, or its membership lapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarFact {
    pub kind: Kind,
    pub month: Month,
}

/// The calendar facts of `day` for a subsidy whose ledger was replayed up to `day` (by [`coverage::ledger`], the
/// one replay): the lapses dated `day` (R1.6), and the arrears warning when the unpaid run reached
/// [`coverage::WARN_AT`] on `day` (R1.7) — it was shorter the day before.
pub fn calendar_facts(ledger: &coverage::Ledger, day: NaiveDate) -> Vec<CalendarFact> {
    let mut facts: Vec<CalendarFact> = ledger
        .lapses
        .iter()
        .filter(|(on, _)| *on == day)
        .map(|&(_, month)| CalendarFact { kind: Kind::Lapse, month })
        .collect();
    let run = ledger.unpaid_run(day);
    let before = day.pred_opt().map_or(0, |yesterday| ledger.unpaid_run(yesterday).len());
    if run.len() >= coverage::WARN_AT
        && before < coverage::WARN_AT
        && let Some(&latest) = run.last()
    {
        facts.push(CalendarFact { kind: Kind::ArrearsWarning, month: latest });
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rupiah;

    fn date(s: &str) -> NaiveDate {
        crate::date::parse(s).unwrap()
    }

    fn month(s: &str) -> Month {
        Month::of(date(&format!("{s}-01")))
    }

    #[test]
    fn every_kind_has_one_code() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(Kind::from_code("bogus"), None);
    }

    #[test]
    fn a_government_sees_only_what_names_it_and_the_insurer_sees_all() {
        let (city, province) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let check = |viewer: Viewer, audience: &[Uuid], expected: bool| {
            assert_eq!(viewer.sees(audience), expected, "{viewer:?} {audience:?}");
        };
        check(Viewer::of(Scope::OwnAgency, city), &[province], false);
        check(Viewer::of(Scope::OwnAgency, city), &[province, city], true);
        check(Viewer::of(Scope::OwnAgency, province), &[], false);
        check(Viewer::of(Scope::All, Uuid::from_u128(3)), &[], true);
    }

    #[test]
    fn only_the_events_about_a_worker_as_such_keep_the_nik() {
        let nik = Nik::parse("3271014501900001").unwrap();
        let with_nik =
            NewEvent { worker_nik: Some(nik.clone()), ..NewEvent::claim(Kind::ClaimPaid, Uuid::nil(), None) };
        assert_eq!(with_nik.kept_nik(), None);
        assert_eq!(NewEvent::worker(Kind::DeathReported, &nik).kept_nik(), Some(&nik));
    }

    #[test]
    fn the_calendar_warns_on_the_day_the_run_reaches_two_and_lapses_on_the_third() {
        // Three months billed and never paid: September due the 15th, so unpaid from the 16th.
        let bills: Vec<(Month, Rupiah)> = ["2025-09", "2025-10", "2025-11"]
            .iter()
            .map(|m| (month(m), Rupiah::new(rust_decimal::Decimal::from(16800)).unwrap()))
            .collect();
        let check = |day: &str, expected: &[(Kind, &str)]| {
            let day = date(day);
            let ledger = coverage::ledger(&bills, &[], &[], day);
            let facts: Vec<(Kind, Month)> =
                calendar_facts(&ledger, day).into_iter().map(|f| (f.kind, f.month)).collect();
            let expected: Vec<(Kind, Month)> = expected.iter().map(|&(k, m)| (k, month(m))).collect();
            assert_eq!(facts, expected, "{day}");
        };
        check("2025-09-16", &[]);
        check("2025-10-15", &[]);
        check("2025-10-16", &[(Kind::ArrearsWarning, "2025-10")]);
        check("2025-10-17", &[]);
        check("2025-11-16", &[(Kind::Lapse, "2025-11")]);
        check("2025-11-17", &[]);
    }
}
