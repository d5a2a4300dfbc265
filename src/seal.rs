//! Specific personal data sealed at rest (R6.3): heirs' bank accounts, children, medical particulars.
//!
//! AES-256-GCM with a random 96-bit nonce per value, stored as `nonce || ciphertext+tag`. The key is derived from
//! the deployment's secret (the pseudonym key) under its own label, so one secret is kept per deployment yet the
//! audit pseudonyms and the sealed data never share a key. The store sees only sealed bytes; lindung opens them
//! for the callers entitled to them.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};

/// Seals and opens values with the deployment's data key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

/// A sealed value that does not open: altered, truncated, or sealed under another key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed value does not open with this deployment's key")]
pub struct SealError;

const NONCE_LEN: usize = 12;

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { cipher: Aes256Gcm::new(&key.into()) }
    }

    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plain).expect("AES-GCM seals any message under 64 GiB");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let sealer = Sealer::new([1; 32]);
        let sealed = sealer.seal(b"BRI 0123456789");
        assert!(!sealed.windows(10).any(|w| w == b"0123456789"), "the clear text does not show");
        assert_eq!(sealer.open(&sealed).unwrap(), b"BRI 0123456789");
        assert_ne!(sealer.seal(b"same"), sealer.seal(b"same"), "a fresh nonce each time");
        assert_eq!(Sealer::new([2; 32]).open(&sealed), Err(SealError));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open(&altered), Err(SealError));
        assert_eq!(sealer.open(&sealed[..5]), Err(SealError));
    }
}
