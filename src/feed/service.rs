//! The feed's use cases: the sequencer and the calendar (singleton background tasks), the head every subscriber
//! waits on (one listener per server process), and the pages a subscriber reads.

use std::time::Duration;

use chrono::NaiveDate;
use sqlx::PgConnection;
use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

use super::{CalendarFact, Event, Kind, Viewer, calendar_facts, store};
use crate::{auth::Caller, background, clock, error::Error, state::AppState};

/// Events read per page by a subscriber.
pub const PAGE: i64 = 500;
/// Events sequenced per statement.
const SEQUENCE_BATCH: i64 = 10_000;

/// Up to [`PAGE`] events after `after` and up to `upto` that `caller` may see, of `kinds` (all when empty). The
/// NIKs the page carries are audited as a read by the caller.
#[tracing::instrument(skip_all)]
pub async fn page(
    state: &AppState,
    caller: &Caller,
    after: u64,
    upto: u64,
    kinds: &[Kind],
) -> Result<Vec<Event>, Error> {
    let viewer = Viewer::of(caller.scope, caller.agency_id());
    let events = store::page(&state.pool, viewer.audience_filter(), after, upto, kinds, PAGE).await?;
    if events.iter().any(|e| e.worker_nik.is_some()) {
        let mut read = state.read(caller).await?;
        read.touch_all(events.iter().filter_map(|e| e.worker_nik.as_ref()));
        read.finish().await?;
    }
    Ok(events)
}

/// The feed's head as this process knows it: the highest position sequenced. Subscribers wait on it.
pub type Head = watch::Receiver<u64>;

/// The one listener of a server process on the sequencer's notifications, feeding [`Head`].
pub struct HeadWatch {
    head: Head,
    task: JoinHandle<()>,
}

impl HeadWatch {
    /// Starts following the head; it is read from the store at start, after every reconnection of the listener
    /// (what was notified meanwhile is lost) and every `refresh`.
    pub fn start(state: &AppState, refresh: Duration) -> HeadWatch {
        let (tx, head) = watch::channel(0);
        let pool = state.pool.clone();
        let task = tokio::spawn(async move {
            let raise = |new: u64| {
                tx.send_if_modified(|head| {
                    let higher = new > *head;
                    if higher {
                        *head = new;
                    }
                    higher
                })
            };
            let mut retry = Duration::from_millis(250);
            loop {
                match follow(&pool, refresh, &raise).await {
                    Ok(()) => return,
                    Err(error) => tracing::warn!(error = %error, retry_in = ?retry, "feed head listener failed"),
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(30));
            }
        });
        HeadWatch { head, task }
    }

    pub fn head(&self) -> Head {
        self.head.clone()
    }

    /// Stops following: every subscriber's wait ends, and with it its stream (UNAVAILABLE, to be resumed).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Follows the notifications until the pool closes (Ok) or the listener fails (Err).
async fn follow(pool: &sqlx::PgPool, refresh: Duration, raise: &impl Fn(u64) -> bool) -> Result<(), sqlx::Error> {
    let mut listener = match store::head_listener(pool).await {
        Ok(listener) => listener,
        Err(sqlx::Error::PoolClosed) => return Ok(()),
        Err(error) => return Err(error),
    };
    raise(store::head(pool).await?);
    loop {
        match tokio::time::timeout(refresh, store::next_head(&mut listener)).await {
            Ok(Ok(Some(Some(head)))) => {
                raise(head);
            }
            // A payload that is not a position, a lost connection, or a quiet period: read the head itself.
            Ok(Ok(Some(None) | None)) | Err(_) => {
                raise(store::head(pool).await?);
            }
            Ok(Err(sqlx::Error::PoolClosed)) => return Ok(()),
            Ok(Err(error)) => return Err(error),
        }
    }
}

/// The sequencer: gives committed events their positions, woken by every commit that wrote one.
pub struct Sequencer {
    /// The period of the pass when no notification comes (a notification lost while a listener reconnects).
    pub every: Duration,
}

impl background::Task for Sequencer {
    const NAME: &'static str = "feed sequencer";
    const LOCK: i64 = 0x6c69_6e64_0001;

    fn every(&self) -> Duration {
        self.every
    }

    fn wake_on(&self) -> Option<&'static str> {
        Some(store::OUTBOX_CHANNEL)
    }

    async fn run(&mut self, _state: &AppState, conn: &mut PgConnection) -> anyhow::Result<()> {
        sequence_all(conn).await?;
        Ok(())
    }
}

/// Sequences every committed event not sequenced yet; answers the head, if anything was sequenced. Only ever run
/// under the sequencer's lock (and by tests, which hold no other sequencer).
pub async fn sequence_all(conn: &mut PgConnection) -> Result<Option<u64>, Error> {
    let mut head = None;
    while let Some(new) = store::sequence(&mut *conn, SEQUENCE_BATCH).await? {
        head = Some(new);
    }
    Ok(head)
}

/// The calendar: emits the arrears warnings and lapses of today, once each.
pub struct Calendar {
    pub every: Duration,
}

impl background::Task for Calendar {
    const NAME: &'static str = "feed calendar";
    const LOCK: i64 = 0x6c69_6e64_0002;

    fn every(&self) -> Duration {
        self.every
    }

    async fn run(&mut self, _state: &AppState, conn: &mut PgConnection) -> anyhow::Result<()> {
        calendar_catch_up(conn, clock::today()).await?;
        Ok(())
    }
}

/// The most days a calendar pass goes back for: a deployment down longer than this emits only the last of them.
pub const CALENDAR_CATCH_UP_DAYS: i64 = 62;

/// Passes every day from the one after the last passed (or `today`, the first time) through `today`, so that the
/// facts of days the deployment was down are emitted when it comes back; `today` itself is passed again on every
/// run, as its facts may grow while it lasts. Answers how many events were new.
pub async fn calendar_catch_up(conn: &mut PgConnection, today: NaiveDate) -> Result<u64, Error> {
    let earliest = today - chrono::Days::new(CALENDAR_CATCH_UP_DAYS as u64);
    let first = match store::calendar_last_day(&mut *conn).await? {
        Some(last) if last < earliest => {
            tracing::warn!(%last, %earliest, "the calendar was not passed for a long time; earlier days are skipped");
            earliest
        }
        Some(last) => last.succ_opt().unwrap_or(today).min(today),
        None => today,
    };
    let mut emitted = 0;
    for day in first.iter_days().take_while(|d| *d <= today) {
        emitted += calendar_pass(&mut *conn, day).await?;
        store::set_calendar_last_day(&mut *conn, day).await?;
    }
    Ok(emitted)
}

/// Emits the calendar facts of `day` (arrears warnings and lapses, R1.6/R1.7) of every billed subsidy, from each
/// subsidy's ledger replayed up to `day` by the coverage rules; a fact already emitted is not emitted again
/// (`feed_events_calendar_once`), so the pass may run as often as it likes, in any process. Answers how many events
/// were new.
#[tracing::instrument(skip_all)]
pub async fn calendar_pass(conn: &mut PgConnection, day: NaiveDate) -> Result<u64, Error> {
    let subsidies = store::billed_subsidies(&mut *conn).await?;
    let mut emitted = 0;
    for chunk in subsidies.chunks(500) {
        let ledgers = crate::coverage::service::ledgers(&mut *conn, chunk, day).await?;
        let mut facts: Vec<(Uuid, CalendarFact)> = ledgers
            .iter()
            .flat_map(|(subsidy, ledger)| calendar_facts(ledger, day).into_iter().map(|fact| (*subsidy, fact)))
            .collect();
        facts.sort_by_key(|(subsidy, fact)| (*subsidy, fact.kind.code()));
        emitted += store::insert_calendar(&mut *conn, day, &facts).await?;
    }
    Ok(emitted)
}
