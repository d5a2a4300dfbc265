//! Attestations on the wire: the keys as a JWK Set, and what CheckAttestation found.

use super::{Standing, Verdict, service::Check};
use crate::{coverage::convert::reason_to_proto, proto::v1 as pb, signing::PublicKey};

/// The keys as a JWK Set (RFC 7517 section 5) and one by one.
pub fn keys_to_proto(keys: &[PublicKey], current_kid: &str) -> pb::ListSigningKeysResponse {
    let jwks = format!(r#"{{"keys":[{}]}}"#, keys.iter().map(PublicKey::jwk_json).collect::<Vec<_>>().join(","));
    pb::ListSigningKeysResponse {
        jwks,
        keys: keys
            .iter()
            .map(|k| pb::SigningKey { kid: k.kid.clone(), jwk: k.jwk_json(), public_key: k.bytes.to_vec() })
            .collect(),
        current_kid: current_kid.to_owned(),
    }
}

pub fn check_to_proto(check: Check) -> pb::CheckAttestationResponse {
    use pb::AttestationStatus as S;
    let verdict = |v: Verdict| match v {
        Verdict::Covered { .. } => (true, pb::CoverageReason::Covered),
        Verdict::NotCovered(reason) => (false, reason_to_proto(reason)),
    };
    let (status, now, message, id, kid) = match check {
        Check::Invalid(invalid) => (S::InvalidSignature, None, invalid.to_string(), None, String::new()),
        Check::Expired { attestation, kid } => (S::Expired, None, String::new(), Some(attestation.id), kid),
        Check::NotRecorded { attestation, kid } => (S::NotRecorded, None, String::new(), Some(attestation.id), kid),
        Check::Judged { attestation, kid, standing, now } => {
            let (status, now) = match standing {
                Standing::Holds => (S::Holds, now),
                Standing::NoLongerHolds(now) => (S::NoLongerHolds, now),
            };
            (status, Some(verdict(now)), String::new(), Some(attestation.id), kid)
        }
    };
    let (covered, reason) = now.unwrap_or((false, pb::CoverageReason::Unspecified));
    pb::CheckAttestationResponse {
        status: status as i32,
        covered,
        reason: reason as i32,
        message,
        attestation_id: id.map(|id| id.to_string()).unwrap_or_default(),
        kid,
    }
}
