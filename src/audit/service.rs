//! The audit trail's use cases: sealing and checkpointing (singleton background tasks), verifying the whole chain,
//! and the reads of the AuditService (themselves audited, as every read of a person's data is).

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool};

use super::{
    Entry, Subject,
    chain::{self, Checkpoint, Failure, GENESIS, InclusionProof, Sealed, Summary, Verifier},
    store::{self, Filter},
};
use crate::{
    auth::{Caller, Scope},
    background::Task,
    clock, enrollment,
    error::{Error, Refusal},
    nik::Nik,
    paging::Page,
    signing::{self, PublicKey},
    state::{AppState, Read},
};

/// How the chain is kept: how often the sealer runs and how many records a batch holds at most, and how often the
/// head is signed.
#[derive(Debug, Clone, Copy)]
pub struct ChainSettings {
    pub seal_every: Duration,
    pub seal_batch: i64,
    pub checkpoint_every: Duration,
}

impl Default for ChainSettings {
    fn default() -> ChainSettings {
        ChainSettings {
            seal_every: Duration::from_secs(1),
            seal_batch: 10_000,
            checkpoint_every: Duration::from_secs(60),
        }
    }
}

/// The sealer: each pass seals every committed record not sealed yet, in batches of at most `batch` records.
pub struct Sealing {
    pub every: Duration,
    pub batch: i64,
}

impl Task for Sealing {
    const NAME: &'static str = "audit sealer";
    const LOCK: i64 = i64::from_be_bytes(*b"lnd.seal");

    fn every(&self) -> Duration {
        self.every
    }

    async fn run(&mut self, _state: &AppState, conn: &mut PgConnection) -> anyhow::Result<()> {
        seal_pending(conn, self.batch).await?;
        Ok(())
    }
}

/// Seals every record committed and not sealed yet, one transaction per batch; answers how many were sealed.
///
/// Only one sealer runs (the task's lock), and it sees only committed rows: a record whose transaction commits
/// after a later one was sealed simply goes into a later batch, so none is skipped and positions have no gap.
pub async fn seal_pending(conn: &mut PgConnection, batch_size: i64) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let sealed = seal_batch(conn, batch_size).await?;
        total += sealed;
        if sealed < batch_size as u64 {
            return Ok(total);
        }
    }
}

async fn seal_batch(conn: &mut PgConnection, batch_size: i64) -> anyhow::Result<u64> {
    let mut tx = conn.begin().await?;
    let records = store::unsealed(&mut *tx, batch_size).await?;
    if records.is_empty() {
        // Ended here, not by the drop: a dropped transaction's rollback waits for the connection's next use, and
        // this connection (the task's own) would sit idle in a transaction until the next pass, holding its locks.
        tx.rollback().await?;
        return Ok(0);
    }
    let (number, next_seq, previous) = match store::head(&mut *tx).await? {
        Some(head) => (head.batch + 1, head.last_seq + 1, head.chain),
        None => (0, 0, GENESIS),
    };
    let count = records.len() as u64;
    let (sealed, batch) = chain::seal(number, next_seq, &previous, records);
    let updated = store::seal(&mut tx, &sealed, &batch).await?;
    anyhow::ensure!(updated == count, "sealed {updated} of {count} audit records: another sealer is running");
    tx.commit().await?;
    Ok(count)
}

/// The checkpointer: each pass signs the chain head, when it moved since the last checkpoint.
pub struct Checkpointing {
    pub every: Duration,
}

impl Task for Checkpointing {
    const NAME: &'static str = "audit checkpointer";
    const LOCK: i64 = i64::from_be_bytes(*b"lnd.ckpt");

    fn every(&self) -> Duration {
        self.every
    }

    async fn run(&mut self, state: &AppState, conn: &mut PgConnection) -> anyhow::Result<()> {
        checkpoint(state, conn).await?;
        Ok(())
    }
}

/// Signs the current head with the server's key, unless it is signed already; answers the new checkpoint.
pub async fn checkpoint(state: &AppState, conn: &mut PgConnection) -> anyhow::Result<Option<Checkpoint>> {
    let Some(head) = store::head(&mut *conn).await? else { return Ok(None) };
    if store::last_checkpointed_batch(&mut *conn).await? >= Some(head.batch) {
        return Ok(None);
    }
    // The store keeps microseconds: what is signed is what is kept.
    let now = clock::now();
    let signed_at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let message = chain::checkpoint_message(head.batch, head.last_seq, &head.chain, signed_at);
    let checkpoint = Checkpoint {
        id: 0,
        batch: head.batch,
        last_seq: head.last_seq,
        chain: head.chain,
        signed_at,
        kid: state.signer.kid().to_owned(),
        signature: state.signer.sign(&message).to_vec(),
    };
    store::insert_checkpoint(&mut *conn, &checkpoint).await?;
    Ok(Some(checkpoint))
}

/// What `lindung audit verify` found on an intact chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub summary: Summary,
    /// Records committed but not sealed yet (the sealer's next pass).
    pub unsealed: i64,
}

/// Records read per page and batches per page while verifying.
const VERIFY_RECORDS_PAGE: i64 = 50_000;
const VERIFY_BATCHES_PAGE: i64 = 1_000;

/// Checks the whole chain: every record against its leaf, every batch root and link, every checkpoint against
/// `trusted` (or, when None, every key in `signing_keys`). Answers the first failure, in seq order. Reads the
/// chain in keyset pages, holding one page of records and one batch in memory.
pub async fn verify(pool: &PgPool, trusted: Option<PublicKey>) -> anyhow::Result<Result<Report, Failure>> {
    let keys = match trusted {
        Some(key) => vec![key],
        None => signing::store::all(pool).await?,
    };
    let mut verifier = Verifier::new(keys);
    let mut records = Records { pending: VecDeque::new(), after: -1, exhausted: false };
    let mut after_batch = -1;
    loop {
        let batches = store::batches_page(pool, after_batch, VERIFY_BATCHES_PAGE).await?;
        let (Some(first), Some(last)) = (batches.first(), batches.last()) else { break };
        let checkpoints = store::checkpoints(pool, first.batch, last.batch).await?;
        let mut checkpoints = checkpoints.as_slice();
        for batch in &batches {
            let held = records.up_to(pool, batch.last_seq).await?;
            let split = checkpoints.iter().position(|c| c.batch != batch.batch).unwrap_or(checkpoints.len());
            let (mine, rest) = checkpoints.split_at(split);
            checkpoints = rest;
            if let Err(failure) = verifier.batch(batch, &held, mine) {
                return Ok(Err(failure));
            }
        }
        after_batch = last.batch;
    }
    if let Some((checkpoint, batch)) = store::checkpoint_without_batch(pool).await? {
        return Ok(Err(Failure::CheckpointWithoutBatch { checkpoint, batch }));
    }
    let left_over = records.up_to(pool, i64::MAX).await?;
    match verifier.finish(left_over.first()) {
        Ok(summary) => Ok(Ok(Report { summary, unsealed: store::unsealed_count(pool).await? })),
        Err(failure) => Ok(Err(failure)),
    }
}

/// The sealed records in seq order, read a page ahead.
struct Records {
    pending: VecDeque<Sealed>,
    after: i64,
    exhausted: bool,
}

impl Records {
    /// The next records with seq at most `last` (only the first one past `last_seq` when `last` is i64::MAX).
    async fn up_to(&mut self, pool: &PgPool, last: i64) -> sqlx::Result<Vec<Sealed>> {
        let mut out = Vec::new();
        loop {
            while self.pending.front().is_some_and(|s| s.seq <= last) {
                out.extend(self.pending.pop_front());
                if last == i64::MAX {
                    return Ok(out);
                }
            }
            if !self.pending.is_empty() || self.exhausted {
                return Ok(out);
            }
            let page = store::sealed_page(pool, self.after, VERIFY_RECORDS_PAGE).await?;
            self.exhausted = (page.len() as i64) < VERIFY_RECORDS_PAGE;
            if let Some(last) = page.last() {
                self.after = last.seq;
            }
            self.pending.extend(page);
        }
    }
}

/// A listing's range and page.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The (time, id) of the last record of the previous page.
    pub after: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
}

/// The key of a listed record in a page token.
pub fn page_key(entry: &Entry) -> (DateTime<Utc>, i64) {
    (entry.record.at, entry.record.id)
}

/// The caller's own records.
pub async fn list_own(state: &AppState, caller: &Caller, listing: &Listing) -> Result<Page<Entry>, Error> {
    let mut read = state.read(caller).await?;
    let rows = list(&mut read, Filter::Agency(caller.agency_id()), listing).await?;
    read.finish().await?;
    Ok(rows)
}

/// One access to a worker the caller funds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub nik: Nik,
    pub entry: Entry,
}

/// Every record about a worker the caller funds or funded, by any agency ("who looked at my workers").
pub async fn worker_access(state: &AppState, caller: &Caller, listing: &Listing) -> Result<Page<Access>, Error> {
    let mut read = state.read(caller).await?;
    let funded = funded_subjects(state, &mut read, caller).await?;
    let subjects: Vec<Subject> = funded.keys().copied().collect();
    let page = list(&mut read, Filter::Subjects(&subjects), listing).await?;
    let page = page.map(|entry| {
        let nik = entry.record.subject.and_then(|s| funded.get(&s)).cloned().expect("listed by these subjects");
        Access { nik, entry }
    });
    read.touch_all(page.items.iter().map(|access| &access.nik));
    read.finish().await?;
    Ok(page)
}

/// Who saw or changed the worker `nik`'s data: for the insurer, or for a government that funds or funded them.
pub async fn subject_access_report(
    state: &AppState,
    caller: &Caller,
    nik: &Nik,
    listing: &Listing,
) -> Result<Page<Entry>, Error> {
    let mut read = state.read(caller).await?;
    if caller.scope != Scope::All && !enrollment::store::funds(&mut *read, caller.agency_id(), nik).await? {
        return Err(Error::NotFound(crate::msg!(NO_WORKER_FUNDED_BY_CALLER)));
    }
    read.touch(nik);
    let subject = state.pseudonymizer.subject(nik);
    let page = list(&mut read, Filter::Subjects(&[subject]), listing).await?;
    read.finish().await?;
    Ok(page)
}

/// Which record a proof is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKey {
    Seq(i64),
    Id(i64),
}

/// The proof that a record is in the chain under the first checkpoint signed after it was sealed (the shortest
/// chain of links): for the caller's own records, records about workers it funds, and any record for the insurer.
pub async fn inclusion_proof(
    state: &AppState,
    caller: &Caller,
    key: RecordKey,
) -> Result<(Entry, InclusionProof), Error> {
    let mut read = state.read(caller).await?;
    let (seq, id) = match key {
        RecordKey::Seq(seq) => (Some(seq), None),
        RecordKey::Id(id) => (None, Some(id)),
    };
    let not_found = || Error::NotFound(crate::msg!(NO_AUDIT_RECORD));
    let (entry, _) = store::get(&mut *read, seq, id).await?.ok_or_else(not_found)?;
    let visible = caller.scope == Scope::All
        || entry.record.agency_id == Some(caller.agency_id())
        || match entry.record.subject {
            Some(subject) => funded_subjects(state, &mut read, caller).await?.contains_key(&subject),
            None => false,
        };
    if !visible {
        return Err(not_found());
    }
    let not_yet = |message| Error::Refused(vec![Refusal::new("R6.3", message)]);
    let Some(seq) = entry.seq else {
        return Err(not_yet(crate::msg!(AUDIT_RECORD_NOT_SEALED)));
    };
    let batch = store::batch_of(&mut *read, seq)
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("sealed audit record seq {seq} has no batch")))?;
    let Some(checkpoint) = store::checkpoint_covering(&mut *read, batch.batch).await? else {
        return Err(not_yet(crate::msg!(AUDIT_RECORD_NOT_CHECKPOINTED)));
    };
    let leaves = store::leaves(&mut *read, batch.first_seq, batch.last_seq).await?;
    let index = usize::try_from(seq - batch.first_seq).unwrap_or(usize::MAX);
    let path = chain::path(&leaves, index);
    let previous_chain = match batch.batch {
        0 => GENESIS,
        n => store::batches(&mut *read, n - 1, n - 1).await?.first().map_or(GENESIS, |b| b.chain),
    };
    let links = store::batches(&mut *read, batch.batch + 1, checkpoint.batch).await?;
    read.finish().await?;
    let proof = InclusionProof { seq, record: entry.record.clone(), batch, path, previous_chain, links, checkpoint };
    Ok((entry, proof))
}

/// The subjects of the workers the caller funds or funded, with their NIKs.
async fn funded_subjects(state: &AppState, read: &mut Read, caller: &Caller) -> Result<HashMap<Subject, Nik>, Error> {
    let niks = enrollment::store::niks_funded_by(&mut **read, caller.agency_id()).await?;
    Ok(niks.into_iter().map(|nik| (state.pseudonymizer.subject(&nik), nik)).collect())
}

async fn list(read: &mut Read, filter: Filter<'_>, listing: &Listing) -> Result<Page<Entry>, Error> {
    let rows = store::list(&mut **read, filter, listing.from, listing.to, listing.after, listing.limit + 1).await?;
    Ok(Page::of(rows, listing.limit, |entry| token(page_key(entry))))
}

const PAGE_TAG: &str = "a1";

/// The page token after the record keyed `(at, id)`.
pub fn token((at, id): (DateTime<Utc>, i64)) -> String {
    crate::paging::token(PAGE_TAG, &format!("{}.{id}", at.timestamp_micros()))
}

/// The key inside a page token of these lists; None for a token from elsewhere.
pub fn after(token: &str) -> Option<(DateTime<Utc>, i64)> {
    let key = crate::paging::key(PAGE_TAG, token)?;
    let (micros, id) = key.split_once('.')?;
    Some((DateTime::from_timestamp_micros(micros.parse().ok()?)?, id.parse().ok()?))
}
