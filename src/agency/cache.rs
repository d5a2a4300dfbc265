//! The API keys (and client certificates) found valid, kept in memory so that a call is let in without a query, and emptied whenever a key
//! or an agency changes.
//!
//! Every change to `api_keys` or `agencies` is notified on [`store::KEYS_CHANNEL`] at commit (migration 0014); one
//! listener per server process ([`KeyWatch`]) empties the whole cache when it hears one. The cache is used only while
//! that listener is connected: it starts out of use, is emptied and put to use once the listener listens, and is
//! emptied and put aside as soon as the listener's connection is lost, since a notification could be missed then.
//! Out of use, every call looks its key up in the store, as without a cache.
//!
//! A look-up that read the store before a change and finishes after the notification must not put its stale answer
//! back: every emptying moves a generation on, and an answer is kept only if the generation has not moved since the
//! look-up began. Unknown keys are not kept, so guessing keys cannot fill the cache: it holds at most the valid keys.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::Duration,
};

use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::{Agency, store};

/// The agencies of the keys found valid, by key hash. Cheap to clone: clones share one cache.
#[derive(Clone, Default)]
pub struct KeyCache {
    entries: Arc<RwLock<Entries>>,
}

#[derive(Default)]
struct Entries {
    /// Whether the listener is connected; while not, `agencies` is empty and stays so.
    live: bool,
    /// Moves on at every emptying (see the module's doc).
    generation: u64,
    /// By API key hash, or by client certificate SPKI hash (migration 0016 notifies the same channel).
    agencies: HashMap<(Credential, [u8; 32]), Agency>,
}

/// What a cached hash is the hash of.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Credential {
    ApiKey,
    Certificate,
}

impl KeyCache {
    /// An empty cache, out of use until [`KeyCache::watch`] connects its listener.
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    /// The agency owning an unrevoked key with this hash: from memory if it was found before and nothing changed
    /// since, else from the store.
    pub async fn find(&self, pool: &PgPool, hash: &[u8; 32]) -> sqlx::Result<Option<Agency>> {
        self.find_by((Credential::ApiKey, *hash), store::find_by_key_hash(pool, hash)).await
    }

    /// The agency of an unrevoked client certificate with this SPKI hash, cached as keys are (same rules).
    pub async fn find_certificate(&self, pool: &PgPool, spki_sha256: &[u8; 32]) -> sqlx::Result<Option<Agency>> {
        self.find_by((Credential::Certificate, *spki_sha256), store::find_by_certificate(pool, spki_sha256)).await
    }

    /// `credential`'s agency from memory, else from `look_up` (run only on a miss), kept if nothing changed meanwhile.
    async fn find_by(
        &self,
        credential: (Credential, [u8; 32]),
        look_up: impl Future<Output = sqlx::Result<Option<Agency>>>,
    ) -> sqlx::Result<Option<Agency>> {
        let generation = {
            let entries = self.read();
            if let Some(agency) = entries.agencies.get(&credential).filter(|_| entries.live) {
                return Ok(Some(agency.clone()));
            }
            // Out of use now, the answer is not kept even if the cache is put to use meanwhile: that moves the
            // generation on.
            entries.generation
        };
        let found = look_up.await?;
        if let Some(agency) = &found {
            let mut entries = self.write();
            if entries.live && entries.generation == generation {
                entries.agencies.insert(credential, agency.clone());
            }
        }
        Ok(found)
    }

    /// Whether calls are let in from memory, that is whether the listener is connected.
    pub fn is_live(&self) -> bool {
        self.read().live
    }

    /// Starts the listener that keeps the cache in use and up to date; one per server process.
    pub fn watch(&self, pool: &PgPool) -> KeyWatch {
        let pool = store::keys_listener_pool(pool);
        let task = tokio::spawn(follow_changes(self.clone(), pool.clone()));
        KeyWatch { cache: self.clone(), pool, task }
    }

    /// Empties the cache and puts it to use (`live`) or aside.
    fn reset(&self, live: bool) {
        let mut entries = self.write();
        entries.live = live;
        entries.generation += 1;
        entries.agencies.clear();
    }

    // Nothing can panic while the lock is held, and the entries are consistent after any single write anyway.
    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Never the key hashes: they are as good as a key for finding its agency in the store.
impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.read();
        f.debug_struct("KeyCache").field("live", &entries.live).field("keys", &entries.agencies.len()).finish()
    }
}

/// The running listener of a [`KeyCache`].
pub struct KeyWatch {
    cache: KeyCache,
    /// The listener's own pool.
    pool: PgPool,
    task: JoinHandle<()>,
}

impl KeyWatch {
    /// Stops listening; the cache is put aside, so calls still in flight look their keys up in the store.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.cache.reset(false);
        self.pool.close().await;
    }
}

/// A listener quiet for this long asks its connection for an answer: one dropped without a word (by a firewall
/// forgetting an idle connection, say) would hear nothing ever again while the cache stayed in use.
const QUIET_CHECK: Duration = Duration::from_secs(10);
/// How long that answer may take before the connection counts as lost.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

const RETRY_FIRST: Duration = Duration::from_millis(250);
/// Shorter than the other listeners' 30 s: while away, every call costs a query.
const RETRY_MOST: Duration = Duration::from_secs(5);

/// Listens until stopped, reconnecting after a failure or a lost connection, the cache out of use meanwhile.
async fn follow_changes(cache: KeyCache, pool: PgPool) {
    let mut retry = RETRY_FIRST;
    loop {
        let followed = follow(&cache, &pool, &mut retry).await;
        cache.reset(false);
        match followed {
            Ok(()) => {
                tracing::info!(retry_in = ?retry, "API key listener lost its connection; keys are looked up in the store meanwhile")
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?retry, "API key listener failed; keys are looked up in the store meanwhile")
            }
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MOST);
    }
}

/// Connects the listener and keeps the cache in use while its connection lasts (Ok when it is lost, or stops
/// answering).
async fn follow(cache: &KeyCache, pool: &PgPool, retry: &mut Duration) -> Result<(), sqlx::Error> {
    let mut listener = store::keys_listener(pool).await?;
    // Listening from here: a change committed before is forgotten by this emptying, one committed after is heard.
    cache.reset(true);
    *retry = RETRY_FIRST;
    loop {
        match tokio::time::timeout(QUIET_CHECK, store::next_key_change(&mut listener)).await {
            Ok(Ok(true)) => cache.reset(true),
            Ok(Ok(false)) => return Ok(()),
            Ok(Err(error)) => return Err(error),
            Err(_) => match tokio::time::timeout(PING_TIMEOUT, store::ping_key_listener(&mut listener)).await {
                Ok(answered) => answered?,
                Err(_) => return Ok(()),
            },
        }
    }
}
