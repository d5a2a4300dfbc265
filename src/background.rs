//! The work the server does beside the calls: passes that must run once per deployment however many lindung
//! processes serve it (ordering the event feed, sealing the audit trail, the calendar's lapses).
//!
//! Each [`Task`] runs as a *singleton*: a process runs it only while it holds the task's PostgreSQL advisory lock,
//! taken on a connection of the task's own. The lock lives as long as that session, so when the process or its
//! connection dies another process takes over within one period; no lease to renew, no clock to trust. A task
//! runs every `every` and, when it names a channel, as soon as a NOTIFY arrives on it.

use std::time::Duration;

use sqlx::{Connection, PgConnection, postgres::PgListener};
use tokio::{sync::watch, task::JoinHandle};

use crate::state::AppState;

/// One pass of a singleton. It gets the connection that holds the lock: work done through it stops with the lock.
pub trait Task: Send + 'static {
    /// For logs.
    const NAME: &'static str;
    /// The advisory lock's key: one per task, the same in every process of a deployment.
    const LOCK: i64;
    /// How often the pass runs when nothing wakes it.
    fn every(&self) -> Duration;
    /// A NOTIFY channel that wakes the pass at once.
    fn wake_on(&self) -> Option<&'static str> {
        None
    }
    fn run(&mut self, state: &AppState, conn: &mut PgConnection) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The running tasks of one server.
pub struct Tasks {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Starts nothing; [`Tasks::spawn`] adds a task.
    pub fn new() -> Tasks {
        Tasks { stop: watch::channel(false).0, handles: Vec::new() }
    }

    pub fn spawn<T: Task>(&mut self, state: &AppState, task: T) {
        let stop = self.stop.subscribe();
        self.handles.push(tokio::spawn(run_singleton(state.clone(), stop, task)));
    }

    /// Stops every task after its current pass; a pass is one transaction, so nothing is left half done.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks::new()
    }
}

const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MOST: Duration = Duration::from_secs(30);

async fn run_singleton<T: Task>(state: AppState, mut stop: watch::Receiver<bool>, mut task: T) {
    let mut retry = RETRY_FIRST;
    loop {
        match lead(&state, &mut stop, &mut task).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(task = T::NAME, error = %format!("{error:#}"), retry_in = ?retry, "background task failed");
                tokio::select! {
                    _ = tokio::time::sleep(retry) => {}
                    _ = stop.changed() => return,
                }
                retry = (retry * 2).min(RETRY_MOST);
            }
        }
    }
}

/// Waits to hold the task's lock, then runs it until `stop`. Answers Ok only when stopped.
async fn lead<T: Task>(state: &AppState, stop: &mut watch::Receiver<bool>, task: &mut T) -> anyhow::Result<()> {
    if *stop.borrow() {
        return Ok(());
    }
    let mut conn = PgConnection::connect_with(&state.pool.connect_options()).await?;
    loop {
        let held: bool =
            sqlx::query_scalar("select pg_try_advisory_lock($1)").bind(T::LOCK).fetch_one(&mut conn).await?;
        if held {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(task.every()) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
    tracing::debug!(task = T::NAME, "leading");
    let mut listener = match task.wake_on() {
        Some(channel) => {
            let mut listener = PgListener::connect_with(&state.pool).await?;
            listener.listen(channel).await?;
            Some(listener)
        }
        None => None,
    };
    loop {
        task.run(state, &mut conn).await?;
        tokio::select! {
            _ = tokio::time::sleep(task.every()) => {}
            woken = wake(&mut listener) => woken?,
            _ = stop.changed() => return Ok(()),
        }
    }
}

/// Waits for one NOTIFY (a burst of them costs one extra pass each, which finds little to do). The listener
/// reconnects by itself; what is notified while it is away is found by the next periodic pass.
async fn wake(listener: &mut Option<PgListener>) -> anyhow::Result<()> {
    match listener {
        Some(listener) => {
            listener.recv().await?;
            Ok(())
        }
        None => std::future::pending().await,
    }
}
