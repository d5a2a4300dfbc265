//! What every handler shares ([`AppState`]), how a call is let in ([`AppState::authorize`]) and the one unit of
//! work every change goes through ([`Write`]), with its read twin ([`Read`]).
//!
//! A change is written only through a [`Write`]: it opens the transaction, collects the people the change touched,
//! and on [`Write::commit`] records the audit entry in the same transaction before committing. There is no other
//! way to commit a [`Write`], so a change cannot be written unaudited by accident. The events the change emitted
//! ([`Write::emit`]) are written to the feed's outbox there too, next to the audit entry, in the same transaction:
//! a rolled-back change has no event, a committed one all of its events.
//!
//! A read and a refusal change nothing: their records go to the audit writer ([`audit::writer`]), which commits the
//! records of concurrent calls together, and the call is answered only once its record is committed.

use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection};

use crate::{
    agency::{self, cache::KeyCache},
    audit::{self, NewRecord, Pseudonymizer, Subject, writer::AuditWriter},
    auth::{self, Caller, Rpc},
    error::{self, Error},
    feed::{self, NewEvent},
    limits::Limits,
    nik::Nik,
    seal::Sealer,
    signing::Signer,
};

/// What every handler shares: the pool, the pseudonym key, the signing key and the API keys found valid. Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub pseudonymizer: Pseudonymizer,
    pub signer: Signer,
    /// Out of use (every call looks its key up in the store) until the server starts its listener.
    pub key_cache: KeyCache,
    /// Writes the audit records of reads and refusals in group commits once the server starts it; until then each
    /// is written on its own.
    pub audit_writer: AuditWriter,
    /// Whether a bearer API key authenticates a call; false (`serve --api-keys disabled`): client certificates only.
    pub api_keys_allowed: bool,
    /// Each agency's rate and calls in flight.
    pub limits: Limits,
    /// The data keys that seal specific personal data at rest: by default the key derived from the pseudonym key.
    pub data_keys: Sealer,
}

impl AppState {
    pub fn new(pool: PgPool, pseudonymizer: Pseudonymizer, signer: Signer) -> AppState {
        AppState {
            pool,
            data_keys: pseudonymizer.sealer(),
            pseudonymizer,
            signer,
            key_cache: KeyCache::new(),
            audit_writer: AuditWriter::new(),
            api_keys_allowed: true,
            limits: Limits::default(),
        }
    }

    /// Authenticates the caller, by the client certificate the TLS handshake verified or else by its API key, and
    /// authorizes it for `rpc` (see [`crate::auth::TABLE`]).
    pub async fn authorize<T>(&self, request: &tonic::Request<T>, rpc: Rpc) -> Result<Caller, tonic::Status> {
        let ids = auth::CallIds::from_metadata(request.metadata())?;
        let certificate = request
            .extensions()
            .get::<crate::listener::PeerInfo>()
            .and_then(crate::listener::PeerInfo::client_certificate)
            .and_then(|cert| agency::certificate_spki_sha256(cert));
        let by_certificate = match &certificate {
            Some(spki) => self.key_cache.find_certificate(&self.pool, spki).await.map_err(Error::from)?,
            None => None,
        };
        let agency = match by_certificate {
            Some(agency) => agency,
            None if !self.api_keys_allowed => {
                let message = if certificate.is_some() {
                    crate::msg!(CERTIFICATE_UNKNOWN)
                } else {
                    crate::msg!(CERTIFICATE_REQUIRED)
                };
                return Err(Error::Unauthenticated(message).into());
            }
            // A certificate that maps to no agency, and no key beside it: the certificate is what is wrong.
            None if certificate.is_some() && request.metadata().get("authorization").is_none() => {
                return Err(Error::Unauthenticated(crate::msg!(CERTIFICATE_UNKNOWN)).into());
            }
            None => {
                let key = auth::bearer_key(request.metadata())?;
                self.key_cache
                    .find(&self.pool, &agency::hash_api_key(key))
                    .await
                    .map_err(Error::from)?
                    .ok_or(Error::Unauthenticated(crate::msg!(API_KEY_UNKNOWN)))?
            }
        };
        tracing::Span::current().record("agency", agency.name.as_str());
        if let Some(call) = request.extensions().get::<crate::meter::CallAgency>() {
            call.set(&agency.name);
        }
        let agency_id = agency.id;
        match auth::authorize(agency, rpc, ids.clone()) {
            Ok(mut caller) => {
                // Admitted only once authorized: a call the agency may not make takes no place of its calls.
                caller.admission = self
                    .limits
                    .admit(agency_id, rpc)
                    .await
                    .map_err(|refused| tonic::Status::from(Error::over_limit(&refused)))?;
                Ok(caller)
            }
            Err(error) => {
                // A refused RPC is audited too: who tried what matters as much as who did it.
                let actor = audit::Actor {
                    agency_id,
                    method: rpc.method(),
                    request_id: &ids.request_id,
                    correlation_id: ids.correlation_id.as_deref(),
                };
                self.audit_refusal(actor, &error).await;
                Err(error.into())
            }
        }
    }

    /// Turns a handler's result into its answer; a refusal is audited (best effort: the refusal stands even if
    /// the audit write fails, and that failure is logged).
    pub async fn finish<T>(
        &self,
        caller: &Caller,
        result: Result<T, Error>,
    ) -> Result<tonic::Response<T>, tonic::Status> {
        match result {
            Ok(value) => Ok(tonic::Response::new(value)),
            Err(error) => {
                self.audit_refusal(caller.actor(), &error).await;
                Err(error.into())
            }
        }
    }

    async fn audit_refusal(&self, actor: audit::Actor<'_>, error: &Error) {
        let record = NewRecord::new(actor, error::outcome_name(error.code()), Vec::new());
        if let Err(audit_error) = self.audit_writer.write(&self.pool, vec![record]).await {
            tracing::warn!(error = %audit_error, "could not audit a refused call");
        }
    }

    /// Opens the unit of work of a change made by `caller`.
    #[tracing::instrument(name = "write", skip_all)]
    pub async fn write(&self, caller: &Caller) -> Result<Write, Error> {
        let tx = self.pool.begin().await?;
        let actor = feed::actor_in_audience(caller.agency.kind).then(|| caller.agency_id());
        Ok(Write { tx, audit: Audit::new(self, caller), events: Vec::new(), actor })
    }

    /// Opens an audited read by `caller`: a connection from the pool and the people it looked up.
    #[tracing::instrument(name = "read", skip_all)]
    pub async fn read(&self, caller: &Caller) -> Result<Read, Error> {
        let conn = self.pool.acquire().await?;
        Ok(Read { conn, audit: Audit::new(self, caller), pool: self.pool.clone(), writer: self.audit_writer.clone() })
    }

    pub fn sealer(&self) -> Sealer {
        self.data_keys.clone()
    }
}

/// Who made a call and whom it touched, gathered while the call runs and written once at its end.
struct Audit {
    agency_id: uuid::Uuid,
    method: &'static str,
    request_id: String,
    correlation_id: Option<String>,
    pseudonymizer: Pseudonymizer,
    subjects: Vec<Subject>,
    /// People looked at for parts of the change that were refused (a batch's refused rows), audited apart.
    refused: Vec<Subject>,
}

impl Audit {
    fn new(state: &AppState, caller: &Caller) -> Audit {
        Audit {
            agency_id: caller.agency_id(),
            method: caller.rpc.method(),
            request_id: caller.request_id.clone(),
            correlation_id: caller.correlation_id.clone(),
            pseudonymizer: state.pseudonymizer.clone(),
            subjects: Vec::new(),
            refused: Vec::new(),
        }
    }

    fn touch(&mut self, nik: &Nik) {
        let subject = self.pseudonymizer.subject(nik);
        if !self.subjects.contains(&subject) {
            self.subjects.push(subject);
        }
    }

    fn touch_all<'a>(&mut self, niks: impl IntoIterator<Item = &'a Nik>) {
        for nik in niks {
            self.touch(nik);
        }
    }

    fn look_up(&mut self, nik: &Nik) {
        self.subjects.push(self.pseudonymizer.subject(nik));
    }

    fn actor(&self) -> audit::Actor<'_> {
        audit::Actor {
            agency_id: self.agency_id,
            method: self.method,
            request_id: &self.request_id,
            correlation_id: self.correlation_id.as_deref(),
        }
    }

    /// The records of a read: its look-ups, and its refused ones apart.
    fn into_records(self) -> Vec<NewRecord> {
        let mut read = NewRecord::new(self.actor(), "OK", Vec::new());
        if self.refused.is_empty() {
            read.subjects = self.subjects;
            return vec![read];
        }
        let refused = NewRecord { outcome: "FAILED_PRECONDITION", subjects: self.refused, ..read.clone() };
        read.subjects = self.subjects;
        vec![read, refused]
    }

    async fn record(&self, conn: &mut PgConnection) -> Result<(), Error> {
        audit::store::record(&mut *conn, self.actor(), "OK", &self.subjects).await?;
        if !self.refused.is_empty() {
            audit::store::record(conn, self.actor(), "FAILED_PRECONDITION", &self.refused).await?;
        }
        Ok(())
    }
}

/// One change: a transaction that commits only with its audit entry. Dereferences to the transaction's
/// connection, which store functions take.
pub struct Write {
    tx: sqlx::Transaction<'static, Postgres>,
    audit: Audit,
    /// The feed's events of the change, written at commit.
    events: Vec<NewEvent>,
    /// The agency named in the events' audience as the one that made the change (a government; None: the insurer).
    actor: Option<uuid::Uuid>,
}

impl Write {
    /// Records that the change touched the worker `nik` (their data was read or written).
    pub fn touch(&mut self, nik: &Nik) {
        self.audit.touch(nik);
    }

    pub fn touch_all<'a>(&mut self, niks: impl IntoIterator<Item = &'a Nik>) {
        self.audit.touch_all(niks);
    }

    /// Records that a refused part of the change looked at the worker `nik` (a refused row of a batch whose other
    /// rows are written): audited in an entry of its own, with the outcome FAILED_PRECONDITION.
    pub fn touch_refused(&mut self, nik: &Nik) {
        let subject = self.audit.pseudonymizer.subject(nik);
        if !self.audit.refused.contains(&subject) {
            self.audit.refused.push(subject);
        }
    }

    /// Emits an event of the feed: written with the change, or not at all.
    pub fn emit(&mut self, event: NewEvent) {
        self.events.push(event);
    }

    pub fn emit_all(&mut self, events: impl IntoIterator<Item = NewEvent>) {
        self.events.extend(events);
    }

    /// Writes the events (one statement) and the audit entry in the change's transaction and commits them with it.
    #[tracing::instrument(name = "commit", skip_all)]
    pub async fn commit(mut self) -> Result<(), Error> {
        feed::store::insert(&mut self.tx, self.actor, &self.events).await?;
        self.audit.record(&mut self.tx).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for Write {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// One audited read: a pooled connection; [`Read::finish`] records whom the caller looked up.
pub struct Read {
    conn: PoolConnection<Postgres>,
    audit: Audit,
    pool: PgPool,
    writer: AuditWriter,
}

impl Read {
    pub fn touch(&mut self, nik: &Nik) {
        self.audit.touch(nik);
    }

    pub fn touch_all<'a>(&mut self, niks: impl IntoIterator<Item = &'a Nik>) {
        self.audit.touch_all(niks);
    }

    /// Records one look-up of the worker `nik`, even when this read looked them up before: a stream of questions
    /// is audited question by question.
    pub fn look_up(&mut self, nik: &Nik) {
        self.audit.look_up(nik);
    }

    /// Records the read in the audit log, and answers once the record is committed (in a group commit with the
    /// records of concurrent reads, when the server runs the audit writer). The connection goes back to the pool
    /// first: waiting for the commit needs none.
    pub async fn finish(self) -> Result<(), Error> {
        let Read { conn, audit, pool, writer } = self;
        drop(conn);
        writer.write(&pool, audit.into_records()).await
    }
}

impl Deref for Read {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Read {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}
