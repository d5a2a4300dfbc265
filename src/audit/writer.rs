//! Group commit of the audit records of reads and refusals: one writer task per server process writes the records of
//! every call waiting for it in one statement, which is one commit, and answers each call once its record is
//! durable.
//!
//! A read changes nothing, so its record has no transaction to share; written alone, each read would pay a WAL flush
//! of its own, which is most of what an answer from memory and one index costs. The writer takes the records from a
//! bounded queue: when it wakes it takes every record queued (up to [`BATCH_JOBS`] calls or [`BATCH_ROWS`] rows),
//! writes them with one `insert … select from unnest(…)` on a connection of its own, and only then tells each call
//! its result. It never waits for more records to come: while one commit is in flight the next calls' records queue
//! up, so the batch grows with the load by itself, and a lone call is written at once.
//!
//! A call is answered OK only after its record is committed. When the statement fails, every call of the batch gets
//! the error (store loss answers UNAVAILABLE, as any read on a lost store does); a batch refused by the database for
//! another reason is written again call by call, so that one record the schema refuses does not refuse the others.
//!
//! Without a running writer (tools and tests that build an [`AppState`](crate::state::AppState) and no server, or
//! calls finishing after the server stopped it) a record is written directly, one statement of its own, as before.
//! Changes never come here: `Write::commit` writes their record in their own transaction.

use std::{
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use super::{NewRecord, store};
use crate::error::{Error, is_store_loss};

/// Calls whose records may wait for the writer at once; a call finding the queue full waits for room.
pub const QUEUE: usize = 4096;
/// Calls written in one statement, at most.
pub const BATCH_JOBS: usize = 1024;
/// Rows written in one statement, at most (a call's records are never split, so one large call may exceed it).
pub const BATCH_ROWS: usize = 20_000;
/// The writer's connection as `pg_stat_activity` shows it.
pub const APPLICATION_NAME: &str = "lindung audit writer";
/// A connection idle for longer is pinged before a batch is written on it (as the pool tests its idle connections):
/// one that died meanwhile (the store restarted) is replaced instead of failing the calls of that batch.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// How long the writer waits for its connection before answering the waiting calls with the failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The way to the writer, if one runs. Cheap to clone: clones share it.
#[derive(Clone, Debug, Default)]
pub struct AuditWriter {
    queue: Arc<RwLock<Option<mpsc::Sender<Job>>>>,
}

/// The records of one call and where its result goes.
struct Job {
    records: Vec<NewRecord>,
    done: oneshot::Sender<Result<(), Arc<sqlx::Error>>>,
}

impl AuditWriter {
    /// No writer: records are written directly until [`AuditWriter::start`].
    pub fn new() -> AuditWriter {
        AuditWriter::default()
    }

    /// Starts the writer task on a connection of its own to the store of `pool`; one per server process.
    pub fn start(&self, pool: &PgPool) -> RunningWriter {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let options = (*pool.connect_options()).clone().application_name(APPLICATION_NAME);
        let task = tokio::spawn(run(receiver, options));
        *self.queue.write().unwrap_or_else(PoisonError::into_inner) = Some(sender);
        RunningWriter { writer: self.clone(), task }
    }

    /// Writes `records` and answers once they are committed: through the writer when it runs, else with a statement
    /// of their own on `pool`.
    pub async fn write(&self, pool: &PgPool, records: Vec<NewRecord>) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let sender = self.queue.read().unwrap_or_else(PoisonError::into_inner).clone();
        let records = match sender {
            Some(sender) => {
                let (done, answer) = oneshot::channel();
                match sender.send(Job { records, done }).await {
                    Ok(()) => {
                        return match answer.await {
                            Ok(result) => result.map_err(|error| failure(&error)),
                            Err(_) => Err(Error::internal(anyhow::anyhow!("the audit writer ended before answering"))),
                        };
                    }
                    // Stopped meanwhile: written directly below.
                    Err(mpsc::error::SendError(job)) => job.records,
                }
            }
            None => records,
        };
        let refs: Vec<&NewRecord> = records.iter().collect();
        store::record_all(pool, &refs).await?;
        Ok(())
    }

    pub fn is_running(&self) -> bool {
        self.queue.read().unwrap_or_else(PoisonError::into_inner).is_some()
    }
}

/// The running writer of an [`AuditWriter`].
pub struct RunningWriter {
    writer: AuditWriter,
    task: JoinHandle<()>,
}

impl RunningWriter {
    /// Stops taking records (later calls write their own) and waits until every record queued is written and its
    /// call answered.
    pub async fn stop(self) {
        self.writer.queue.write().unwrap_or_else(PoisonError::into_inner).take();
        let _ = self.task.await;
    }
}

/// The error a waiting call gets when its batch could not be written.
fn failure(error: &Arc<sqlx::Error>) -> Error {
    let cause = anyhow::Error::new(Arc::clone(error)).context("could not write the audit records of a batch of calls");
    if is_store_loss(error) { Error::Unavailable(cause) } else { Error::Internal(cause) }
}

/// Writes batches until every sender is gone and the queue is empty.
async fn run(mut queue: mpsc::Receiver<Job>, options: PgConnectOptions) {
    let mut conn: Option<Connected> = None;
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH_JOBS);
    while let Some(first) = queue.recv().await {
        let mut rows = rows_of(&first);
        batch.push(first);
        // Everything queued meanwhile joins this commit; nothing is waited for.
        while batch.len() < BATCH_JOBS && rows < BATCH_ROWS {
            let Ok(job) = queue.try_recv() else { break };
            rows += rows_of(&job);
            batch.push(job);
        }
        let records: Vec<&NewRecord> = batch.iter().flat_map(|job| &job.records).collect();
        match write(&mut conn, &options, &records).await {
            Ok(()) => answer_all(&mut batch, Ok(())),
            Err(error) if batch.len() > 1 && matches!(error, sqlx::Error::Database(_)) && !is_store_loss(&error) => {
                // Refused by the schema, not lost: each call on its own, so that one bad record refuses one call.
                tracing::warn!(%error, calls = batch.len(), "a batch of audit records was refused; writing call by call");
                for job in batch.drain(..) {
                    let records: Vec<&NewRecord> = job.records.iter().collect();
                    let result = write(&mut conn, &options, &records).await.map_err(Arc::new);
                    let _ = job.done.send(result);
                }
            }
            Err(error) => answer_all(&mut batch, Err(Arc::new(error))),
        }
    }
    if let Some(conn) = conn {
        let _ = conn.conn.close().await;
    }
}

fn rows_of(job: &Job) -> usize {
    job.records.iter().map(|r| r.subjects.len().max(1)).sum()
}

fn answer_all(batch: &mut Vec<Job>, result: Result<(), Arc<sqlx::Error>>) {
    for job in batch.drain(..) {
        // A call that went away (its client cancelled) is not waiting: its record is written all the same.
        let _ = job.done.send(result.clone());
    }
}

/// The writer's connection and when it last answered.
struct Connected {
    conn: PgConnection,
    used: Instant,
}

/// One statement on the writer's connection, connecting first if it has none (or if the one it has, idle for a
/// while, no longer answers); a lost connection is dropped, so the next batch connects anew.
async fn write(conn: &mut Option<Connected>, options: &PgConnectOptions, records: &[&NewRecord]) -> sqlx::Result<()> {
    if let Some(idle) = conn.as_mut().filter(|c| c.used.elapsed() > IDLE_CHECK)
        && idle.conn.ping().await.is_err()
    {
        *conn = None;
    }
    let connected = match conn {
        Some(connected) => connected,
        None => {
            let fresh = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options))
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)??;
            conn.insert(Connected { conn: fresh, used: Instant::now() })
        }
    };
    let written = store::record_all(&mut connected.conn, records).await;
    match &written {
        Err(error) if is_store_loss(error) => *conn = None,
        _ => connected.used = Instant::now(),
    }
    written
}
