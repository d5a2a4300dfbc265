//! The server's Ed25519 signing key: it signs the audit trail's checkpoints and coverage attestations, so that an
//! agency can prove to another what lindung said without trusting either.
//!
//! A key is known by its id, the RFC 7638 JWK thumbprint of its public half (base64url SHA-256 of
//! `{"crv":"Ed25519","kty":"OKP","x":"…"}`): any JOSE library computes the same id from the published key, and a
//! rotation is a new id beside the old ones (see [`store`]).

pub mod store;

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signs with the deployment's private key. Cheap to clone.
#[derive(Clone)]
pub struct Signer {
    key: Arc<SigningKey>,
    public: PublicKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.public.kid)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the signing key must be 64 hexadecimal digits (a 32-byte Ed25519 seed)")]
pub struct SigningKeyError;

impl Signer {
    /// The key whose 32-byte seed is `seed` (RFC 8032's private key).
    pub fn new(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let public = PublicKey::new(key.verifying_key().to_bytes());
        Signer { key: Arc::new(key), public }
    }

    pub fn from_hex(hex_seed: &str) -> Result<Signer, SigningKeyError> {
        let bytes = hex::decode(hex_seed.trim()).map_err(|_| SigningKeyError)?;
        Ok(Signer::new(bytes.try_into().map_err(|_| SigningKeyError)?))
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.key.sign(message).to_bytes()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }
}

/// A public key and its id: what verifiers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub bytes: [u8; 32],
}

impl PublicKey {
    pub fn new(bytes: [u8; 32]) -> PublicKey {
        PublicKey { kid: key_id(&bytes), bytes }
    }

    /// The key as a JWK (RFC 8037), for JOSE libraries.
    pub fn jwk_json(&self) -> String {
        format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"{}","x":"{}"}}"#, self.kid, URL_SAFE_NO_PAD.encode(self.bytes))
    }

    /// Whether `signature` is this key's signature of `message` (strict RFC 8032 verification).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.bytes) else { return false };
        let Ok(signature) = Signature::from_slice(signature) else { return false };
        key.verify_strict(message, &signature).is_ok() && key.verify(message, &signature).is_ok()
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: the members in lexicographic order, no whitespace.
pub fn key_id(public: &[u8; 32]) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, URL_SAFE_NO_PAD.encode(public));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8037_test_key_has_its_published_thumbprint() {
        // RFC 8037 appendix A.1 (private key) and A.3 (its thumbprint).
        let signer = Signer::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
        assert_eq!(signer.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn a_signature_verifies_and_a_changed_byte_does_not() {
        let signer = Signer::new([3; 32]);
        let signature = signer.sign(b"checkpoint 42");
        assert!(signer.public_key().verifies(b"checkpoint 42", &signature));
        assert!(!signer.public_key().verifies(b"checkpoint 43", &signature));
        let mut altered = signature;
        altered[10] ^= 1;
        assert!(!signer.public_key().verifies(b"checkpoint 42", &altered));
        assert!(!Signer::new([4; 32]).public_key().verifies(b"checkpoint 42", &signature));
    }

    #[test]
    fn signing_keys_must_be_32_bytes_of_hex() {
        assert_eq!(Signer::from_hex("abcd").unwrap_err(), SigningKeyError);
        assert_eq!(Signer::from_hex(&"zz".repeat(32)).unwrap_err(), SigningKeyError);
        assert!(Signer::from_hex(&"01".repeat(32)).is_ok());
    }
}
