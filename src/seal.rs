//! Specific personal data sealed at rest (R6.3): heirs' bank accounts, children, medical particulars, and the
//! accident notice (place, cause, the notifier's name and phone).
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

    /// Seals a text for a `text` column: [`SEALED_TEXT`] and the sealed bytes in hex.
    pub fn seal_text(&self, plain: &str) -> String {
        format!("{SEALED_TEXT}{}", hex::encode(self.seal(plain.as_bytes())))
    }

    /// Opens a text [`Sealer::seal_text`] sealed; a text stored before sealing (no prefix) is answered as it is.
    pub fn open_text(&self, stored: &str) -> Result<String, SealError> {
        let Some(sealed) = stored.strip_prefix(SEALED_TEXT) else { return Ok(stored.to_owned()) };
        let bytes = hex::decode(sealed).map_err(|_| SealError)?;
        String::from_utf8(self.open(&bytes)?).map_err(|_| SealError)
    }
}

/// The prefix of a sealed text, versioned so that another scheme can follow.
pub const SEALED_TEXT: &str = "sealed:v1:";

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

    #[test]
    fn a_sealed_text_shows_nothing_of_itself_and_a_text_from_before_sealing_still_reads() {
        let sealer = Sealer::new([1; 32]);
        let sealed = sealer.seal_text("Budi Santoso");
        assert!(sealed.starts_with(SEALED_TEXT) && !sealed.contains("Budi"));
        assert_eq!(sealer.open_text(&sealed).unwrap(), "Budi Santoso");
        assert_eq!(sealer.open_text("Pasar Bogor").unwrap(), "Pasar Bogor");
        assert_eq!(Sealer::new([2; 32]).open_text(&sealed), Err(SealError));
    }
}
