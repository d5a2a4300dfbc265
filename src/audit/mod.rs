//! The audit trail: who did what to whose data, when, and with which outcome (R6.3).
//!
//! A person appears in the log only as a *subject*: a keyed hash (HMAC-SHA256) of the NIK under the deployment's
//! pseudonym key. The same NIK always gives the same subject, so "every lookup of this person" is one indexed query,
//! yet the log reveals no NIK to whoever reads it without the key.
//!
//! Records are sealed after they commit into a hash chain whose head is signed at intervals ([`chain`], the pure
//! part; [`service`] the sealer, the checkpointer and the verifier): see docs/ARCHITECTURE.md, "The audit chain".

pub mod chain;
pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;
pub mod writer;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::nik::Nik;

/// Who made a call: the agency, the method, the request id and the client's correlation id.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub agency_id: uuid::Uuid,
    pub method: &'a str,
    pub request_id: &'a str,
    pub correlation_id: Option<&'a str>,
}

/// One call's audit record before it is written: who, the outcome, and whom the call touched (a row per subject,
/// or a single row without one).
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub agency_id: uuid::Uuid,
    pub method: String,
    pub request_id: String,
    pub correlation_id: Option<String>,
    pub outcome: &'static str,
    pub subjects: Vec<Subject>,
}

impl NewRecord {
    pub fn new(actor: Actor<'_>, outcome: &'static str, subjects: Vec<Subject>) -> NewRecord {
        NewRecord {
            agency_id: actor.agency_id,
            method: actor.method.to_owned(),
            request_id: actor.request_id.to_owned(),
            correlation_id: actor.correlation_id.map(str::to_owned),
            outcome,
            subjects,
        }
    }
}

/// A record as the AuditService lists it: the record, its position once sealed, and the calling agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: Option<i64>,
    pub record: chain::Record,
    /// The calling agency's name and kind.
    pub agency: Option<(String, crate::agency::AgencyKind)>,
}

/// A worker as the audit log knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject(pub [u8; 32]);

/// Turns NIKs into [`Subject`]s with the deployment's secret key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the pseudonym key must be 64 hexadecimal digits (32 bytes)")]
pub struct PseudonymKeyError;

impl Pseudonymizer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    pub fn from_hex(hex_key: &str) -> Result<Self, PseudonymKeyError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| PseudonymKeyError)?;
        Ok(Self::new(bytes.try_into().map_err(|_| PseudonymKeyError)?))
    }

    /// The data key derived from the same secret under its own label ([`crate::seal::KeyId::DERIVED`]): what seals
    /// specific personal data at rest when no data key is configured.
    pub fn data_key(&self) -> crate::seal::DataKey {
        crate::seal::DataKey::derived(self.derive_key(b"lindung: seal personal data at rest, v1"))
    }

    /// A key ring of the derived data key alone.
    pub fn sealer(&self) -> crate::seal::Sealer {
        crate::seal::Sealer::new(self.data_key())
    }

    /// A key derived from the same secret under `label`, for a purpose of its own (coverage attestations name
    /// workers with it, so that their subjects do not link to the audit log's).
    pub fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    pub fn subject(&self, nik: &Nik) -> Subject {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(nik.as_str().as_bytes());
        Subject(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_nik_is_always_the_same_subject_and_keys_differ() {
        let nik = Nik::parse("3271014501900001").unwrap();
        let a = Pseudonymizer::new([1; 32]);
        let b = Pseudonymizer::new([2; 32]);
        assert_eq!(a.subject(&nik), a.subject(&nik));
        assert_ne!(a.subject(&nik), b.subject(&nik));
    }

    #[test]
    fn pseudonym_keys_must_be_32_bytes_of_hex() {
        assert!(Pseudonymizer::from_hex(&"ab".repeat(32)).is_ok());
        assert_eq!(Pseudonymizer::from_hex("abcd").unwrap_err(), PseudonymKeyError);
        assert_eq!(Pseudonymizer::from_hex(&"zz".repeat(32)).unwrap_err(), PseudonymKeyError);
    }
}
