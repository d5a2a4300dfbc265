//! How much of the server one agency may take: a rate of calls, and calls in flight with a bounded queue, kept
//! apart for unary calls, bulk streams and feed subscriptions, so that one agency's bulk load neither starves
//! another agency nor its own unary checks.
//!
//! Admission happens in [`crate::state::AppState::authorize`], once the agency is known and before any work: a
//! call over its agency's rate, or arriving when its class is full and its queue too, is answered at once with
//! RESOURCE_EXHAUSTED and a `google.rpc.RetryInfo` saying when to try again, rather than left to hang. An admitted
//! call holds its place in flight ([`Admission`], kept in the [`crate::auth::Caller`]) until the call is done.
//!
//! Refusals here are not written to the audit trail: they read and change nothing, and an audit write per refused
//! call would hand the store the very load the limit keeps from it. The trace layer logs each, with its agency.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::auth::Rpc;

/// The limits of a deployment, the same for every agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Calls an agency may start per second, sustained; `None`: no rate limit.
    pub calls_per_second: Option<NonZeroU32>,
    /// Calls an agency may start at once above its rate after a quiet spell.
    pub burst: NonZeroU32,
    /// Calls of each class an agency may have in flight, and how many more may wait for a place.
    pub unary: InFlight,
    pub bulk: InFlight,
    pub subscriptions: InFlight,
    /// Longest a call waits in its queue before it is refused.
    pub queue_wait: Duration,
}

/// Calls in flight at once and calls waiting for a place, for one agency and one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    pub running: usize,
    pub waiting: usize,
}

impl Default for LimitSettings {
    /// `lindung serve`'s defaults (its `--agency-*` options; a test asserts they agree).
    fn default() -> Self {
        LimitSettings {
            calls_per_second: NonZeroU32::new(1_000),
            burst: NonZeroU32::new(2_000).expect("non-zero"),
            unary: InFlight { running: 64, waiting: 512 },
            bulk: InFlight { running: 4, waiting: 64 },
            subscriptions: InFlight { running: 16, waiting: 0 },
            queue_wait: Duration::from_secs(5),
        }
    }
}

/// What an RPC costs the server, for its place in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// One request, one answer, a few statements.
    Unary,
    /// A stream of many rows, or one call over a whole subsidy's enrollments: long and heavy on the store.
    Bulk,
    /// A feed subscription: open for as long as the subscriber follows.
    Subscription,
}

impl Class {
    pub fn of(rpc: Rpc) -> Class {
        match rpc {
            Rpc::UpsertWorkers
            | Rpc::SubmitEnrollments
            | Rpc::DecideEnrollments
            | Rpc::StreamPendingEnrollments
            | Rpc::VerifyCoverageStream
            | Rpc::Reconcile
            | Rpc::IssueBill => Class::Bulk,
            Rpc::Subscribe => Class::Subscription,
            _ => Class::Unary,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Unary => "unary",
            Class::Bulk => "bulk",
            Class::Subscription => "subscription",
        }
    }
}

/// Why a call was not admitted, and when trying again makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The agency started more calls than its rate allows.
    Rate { per_second: NonZeroU32, retry_after: Duration },
    /// The agency's calls of this class are all in flight and its queue is full, or the wait was too long.
    InFlight { class: Class, running: usize, retry_after: Duration },
}

impl Refused {
    pub fn retry_after(&self) -> Duration {
        match self {
            Refused::Rate { retry_after, .. } | Refused::InFlight { retry_after, .. } => *retry_after,
        }
    }
}

/// A call's place in flight; released when the last clone of the call's [`crate::auth::Caller`] is dropped.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    _place: Option<Arc<OwnedSemaphorePermit>>,
}

/// The limits of one server, shared by its handlers. Cheap to clone.
#[derive(Clone)]
pub struct Limits {
    inner: Arc<Inner>,
}

struct Inner {
    settings: LimitSettings,
    rate: Option<DefaultKeyedRateLimiter<Uuid>>,
    gates: Mutex<HashMap<(Uuid, Class), Arc<Gate>>>,
}

struct Gate {
    places: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(LimitSettings::default())
    }
}

/// How long a refused call is told to wait when a place in flight, not the rate, was missing: long enough for
/// a unary call ahead of it to finish, short enough not to idle a client.
const IN_FLIGHT_RETRY: Duration = Duration::from_millis(500);

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        let rate = settings
            .calls_per_second
            .map(|per_second| RateLimiter::keyed(Quota::per_second(per_second).allow_burst(settings.burst)));
        Limits { inner: Arc::new(Inner { settings, rate, gates: Mutex::new(HashMap::new()) }) }
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.inner.settings
    }

    /// Admits a call of `agency` to `rpc`, or says why not: its rate first, then a place in flight for the RPC's
    /// class, waiting in the agency's queue for at most the configured wait.
    pub async fn admit(&self, agency: Uuid, rpc: Rpc) -> Result<Admission, Refused> {
        let inner = &self.inner;
        if let Some(rate) = &inner.rate
            && let Err(not_until) = rate.check_key(&agency)
        {
            let retry_after = not_until.wait_time_from(rate.clock().now());
            let per_second = inner.settings.calls_per_second.expect("a rate limiter has a rate");
            return Err(Refused::Rate { per_second, retry_after: retry_after.max(Duration::from_millis(1)) });
        }
        let class = Class::of(rpc);
        let limit = match class {
            Class::Unary => inner.settings.unary,
            Class::Bulk => inner.settings.bulk,
            Class::Subscription => inner.settings.subscriptions,
        };
        let refused = Refused::InFlight { class, running: limit.running, retry_after: IN_FLIGHT_RETRY };
        let gate = self.gate(agency, class, limit.running);
        if let Ok(permit) = gate.places.clone().try_acquire_owned() {
            return Ok(Admission { _place: Some(Arc::new(permit)) });
        }
        // Full: wait for a place if the queue has room, and not longer than the wait allowed.
        if gate.waiting.fetch_add(1, Ordering::AcqRel) >= limit.waiting {
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(refused);
        }
        let waited = tokio::time::timeout(inner.settings.queue_wait, gate.places.clone().acquire_owned()).await;
        gate.waiting.fetch_sub(1, Ordering::AcqRel);
        match waited {
            Ok(Ok(permit)) => Ok(Admission { _place: Some(Arc::new(permit)) }),
            // Timed out, or the semaphore closed (it never is).
            _ => Err(refused),
        }
    }

    fn gate(&self, agency: Uuid, class: Class, running: usize) -> Arc<Gate> {
        // Held only to find or add an entry; one entry per agency and class, a few hundred at most.
        let mut gates = self.inner.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        gates
            .entry((agency, class))
            .or_insert_with(|| {
                Arc::new(Gate { places: Arc::new(Semaphore::new(running)), waiting: AtomicUsize::new(0) })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight() -> LimitSettings {
        LimitSettings {
            calls_per_second: None,
            burst: NonZeroU32::new(1).unwrap(),
            unary: InFlight { running: 2, waiting: 1 },
            bulk: InFlight { running: 1, waiting: 0 },
            subscriptions: InFlight { running: 1, waiting: 0 },
            queue_wait: Duration::from_millis(50),
        }
    }

    #[tokio::test]
    async fn a_full_class_queues_then_refuses_and_frees_its_place_when_a_call_ends() {
        let limits = Limits::new(tight());
        let agency = Uuid::new_v4();
        let first = limits.admit(agency, Rpc::VerifyCoverage).await.unwrap();
        let _second = limits.admit(agency, Rpc::VerifyCoverage).await.unwrap();
        // The third waits its 50 ms in the queue, then is refused.
        let refused = limits.admit(agency, Rpc::VerifyCoverage).await.unwrap_err();
        assert!(matches!(refused, Refused::InFlight { class: Class::Unary, running: 2, .. }), "{refused:?}");
        // A place freed while a call waits is taken by it.
        let waiter = {
            let limits = limits.clone();
            tokio::spawn(async move { limits.admit(agency, Rpc::GetWorker).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(first);
        assert!(waiter.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_bulk_stream_takes_no_place_of_unary_calls_nor_of_another_agency() {
        let limits = Limits::new(tight());
        let (one, other) = (Uuid::new_v4(), Uuid::new_v4());
        let _stream = limits.admit(one, Rpc::SubmitEnrollments).await.unwrap();
        assert!(matches!(
            limits.admit(one, Rpc::VerifyCoverageStream).await,
            Err(Refused::InFlight { class: Class::Bulk, .. })
        ));
        assert!(limits.admit(one, Rpc::VerifyCoverage).await.is_ok());
        assert!(limits.admit(other, Rpc::SubmitEnrollments).await.is_ok());
    }

    #[tokio::test]
    async fn over_its_rate_an_agency_is_told_when_to_come_back_and_others_are_not_held() {
        let settings = LimitSettings {
            calls_per_second: NonZeroU32::new(2),
            burst: NonZeroU32::new(3).unwrap(),
            unary: InFlight { running: 100, waiting: 0 },
            ..tight()
        };
        let limits = Limits::new(settings);
        let (one, other) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..3 {
            limits.admit(one, Rpc::WhoAmI).await.unwrap();
        }
        match limits.admit(one, Rpc::WhoAmI).await.unwrap_err() {
            Refused::Rate { per_second, retry_after } => {
                assert_eq!(per_second.get(), 2);
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_millis(500), "{retry_after:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(limits.admit(other, Rpc::WhoAmI).await.is_ok());
    }

    #[test]
    fn every_streaming_rpc_is_bulk_or_a_subscription() {
        let services = &*crate::connect::DESCRIPTORS;
        for (rpc, _) in crate::auth::TABLE {
            let method = services
                .services()
                .flat_map(|s| s.methods().collect::<Vec<_>>())
                .find(|m| format!("/{}/{}", m.parent_service().full_name(), m.name()) == rpc.method())
                .unwrap_or_else(|| panic!("{rpc:?} is served"));
            if method.is_client_streaming() || method.is_server_streaming() {
                assert_ne!(Class::of(*rpc), Class::Unary, "{rpc:?} streams");
            }
        }
        assert_eq!(Class::of(Rpc::Subscribe), Class::Subscription);
        assert_eq!(Class::of(Rpc::VerifyCoverage), Class::Unary);
    }
}
