//! Specific personal data sealed at rest (R6.3): heirs' bank accounts, children, medical particulars, and the
//! accident notice (place, cause, the notifier's name and phone).
//!
//! AES-256-GCM with a random 96-bit nonce per value, under a *data key* of the deployment's key ring: the current
//! key seals, every key of the ring opens what it sealed, so a key can be retired (`lindung keys rotate` re-seals
//! under the current one, then the old key leaves the configuration). Without a configured data key, the key is
//! derived from the pseudonym key under its own label ([`KeyId::DERIVED`]), so that one secret is kept per
//! deployment yet the audit pseudonyms and the sealed data never share a key.
//!
//! Every value names the key that sealed it, so that each opens with its own key while a rotation is half done:
//! - bytes (`bytea`): `01 || key id (4 bytes) || nonce (12) || ciphertext+tag`. Values written before key ids are
//!   `nonce || ciphertext+tag` under the derived key; migration 0017 prefixed every one stored then with the
//!   derived key's id, and one written later by an older build still opens (see [`Sealer::open`]).
//! - text (`text` columns): `sealed:v2:<key id in hex>:<hex>`; `sealed:v1:<hex>` is a value of the derived key
//!   from before key ids, and a text without the prefix was stored in clear, before sealing.
//!
//! The id is in each value rather than in a column of the row: a claim's sealed columns are written at different
//! steps (notice, filing, assessment), so one row may hold values of two keys while keys change, and a value that
//! says its own key needs no other column kept in step with it.
//!
//! The store sees only sealed bytes; lindung opens them for the callers entitled to them.

use std::sync::Arc;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A data key's short name, stored in every value it seals: the first 4 bytes of a keyed hash of the key (so it
/// cannot be chosen twice by mistake and tells nothing of the key), or all zeros for the derived key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The key derived from the pseudonym key, which sealed every value written before data keys were configurable.
    pub const DERIVED: KeyId = KeyId([0; 4]);

    /// Parses the 8 hex digits [`KeyId`]'s `Display` writes.
    pub fn parse(text: &str) -> Option<KeyId> {
        let bytes = hex::decode(text).ok()?;
        Some(KeyId(bytes.try_into().ok()?))
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// One data key and its id.
#[derive(Clone)]
pub struct DataKey {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, <redacted>)", self.id)
    }
}

/// A data key that is not 32 bytes of hex. Says nothing of the value given: it may be most of a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a data key must be 64 hexadecimal digits (32 bytes)")]
pub struct DataKeyError;

impl DataKey {
    /// A configured key, named by its fingerprint.
    pub fn new(key: [u8; 32]) -> DataKey {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes a key of any length");
        mac.update(b"lindung: data key id, v1");
        let mut id = KeyId(mac.finalize().into_bytes()[..4].try_into().expect("4 of 32 bytes"));
        if id == KeyId::DERIVED {
            id = KeyId([0, 0, 0, 1]); // one key in 2^32: the derived key's id stays its own
        }
        DataKey { id, cipher: Aes256Gcm::new(&key.into()) }
    }

    pub fn from_hex(hex_key: &str) -> Result<DataKey, DataKeyError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| DataKeyError)?;
        Ok(DataKey::new(bytes.try_into().map_err(|_| DataKeyError)?))
    }

    /// The key derived from the pseudonym key ([`crate::audit::Pseudonymizer::data_key`]).
    pub fn derived(key: [u8; 32]) -> DataKey {
        DataKey { id: KeyId::DERIVED, cipher: Aes256Gcm::new(&key.into()) }
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plain).expect("AES-GCM seals any message under 64 GiB");
        [nonce.as_slice(), &sealed].concat()
    }

    /// Opens `nonce || ciphertext+tag`.
    fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok()
    }
}

/// Why a sealed value does not open. The message names the key id only, never anything of the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "a sealed value is under data key {0}, which is not in this deployment's key ring: add that key to \
         --previous-data-keys (LINDUNG_PREVIOUS_DATA_KEYS)"
    )]
    UnknownKey(KeyId),
    #[error(
        "a sealed value does not open with data key {0}: it was altered or truncated, or sealed under another key \
         of that id"
    )]
    DoesNotOpen(KeyId),
}

const NONCE_LEN: usize = 12;
/// The first byte of a value that names its key.
const VERSION: u8 = 1;
const ID_LEN: usize = 4;

/// Seals with the current key and opens with any key of the ring. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    /// The current key first, then the previous ones.
    keys: Arc<[DataKey]>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(DataKey::id)).finish()
    }
}

/// Two keys of a ring with one id: the same key given twice, or two keys whose ids collide.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("data key {0} is in the key ring twice")]
pub struct DuplicateKey(pub KeyId);

impl Sealer {
    /// A ring of one key.
    pub fn new(key: DataKey) -> Sealer {
        Sealer { keys: Arc::from([key]) }
    }

    /// The ring: `current` seals, every key opens.
    pub fn ring(current: DataKey, previous: Vec<DataKey>) -> Result<Sealer, DuplicateKey> {
        let keys: Vec<DataKey> = std::iter::once(current).chain(previous).collect();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.id == key.id) {
                return Err(DuplicateKey(key.id));
            }
        }
        Ok(Sealer { keys: keys.into() })
    }

    /// The id of the key that seals.
    pub fn current(&self) -> KeyId {
        self.keys[0].id
    }

    /// The ids of the previous keys, which open but no longer seal.
    pub fn previous(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys[1..].iter().map(DataKey::id)
    }

    fn key(&self, id: KeyId) -> Option<&DataKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        [&[VERSION][..], &key.id.0, &key.seal(plain)].concat()
    }

    /// The key a value names: the key id after the version byte, or the derived key for a value without one.
    pub fn key_of(sealed: &[u8]) -> KeyId {
        if sealed.len() > ID_LEN && sealed[0] == VERSION {
            KeyId(sealed[1..=ID_LEN].try_into().expect("4 bytes"))
        } else {
            KeyId::DERIVED
        }
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let id = Self::key_of(sealed);
        let named = (sealed.len() > ID_LEN && sealed[0] == VERSION).then(|| &sealed[1 + ID_LEN..]);
        if let (Some(body), Some(key)) = (named, self.key(id))
            && let Some(plain) = key.open(body)
        {
            return Ok(plain);
        }
        // A value without a key id (written by a build from before them) is the derived key's, and its random
        // nonce may begin with the version byte: the derived key then decides, as authenticated decryption cannot
        // be fooled by a wrong guess.
        if let Some(plain) = self.key(KeyId::DERIVED).and_then(|key| key.open(sealed)) {
            return Ok(plain);
        }
        Err(if self.key(id).is_some() { SealError::DoesNotOpen(id) } else { SealError::UnknownKey(id) })
    }

    /// Seals a text for a `text` column: [`SEALED_TEXT`], the key id, and the sealed bytes in hex.
    pub fn seal_text(&self, plain: &str) -> String {
        let key = &self.keys[0];
        format!("{SEALED_TEXT}{}:{}", key.id, hex::encode(key.seal(plain.as_bytes())))
    }

    /// The key a stored text names; None for a text stored in clear (before sealing), and for one that starts like
    /// a sealed text but names no key (which does not open).
    pub fn key_of_text(stored: &str) -> Option<KeyId> {
        if stored.starts_with(SEALED_TEXT_V1) {
            return Some(KeyId::DERIVED);
        }
        let rest = stored.strip_prefix(SEALED_TEXT)?;
        rest.split_once(':').and_then(|(id, _)| KeyId::parse(id))
    }

    /// Opens a text [`Sealer::seal_text`] sealed; a text stored before sealing (no prefix) is answered as it is.
    pub fn open_text(&self, stored: &str) -> Result<String, SealError> {
        let (id, hex_body) = if let Some(body) = stored.strip_prefix(SEALED_TEXT_V1) {
            (KeyId::DERIVED, body)
        } else if let Some(rest) = stored.strip_prefix(SEALED_TEXT) {
            let (id, body) = rest.split_once(':').ok_or(SealError::DoesNotOpen(KeyId::DERIVED))?;
            (KeyId::parse(id).ok_or(SealError::DoesNotOpen(KeyId::DERIVED))?, body)
        } else {
            return Ok(stored.to_owned());
        };
        let key = self.key(id).ok_or(SealError::UnknownKey(id))?;
        let bytes = hex::decode(hex_body).map_err(|_| SealError::DoesNotOpen(id))?;
        String::from_utf8(key.open(&bytes).ok_or(SealError::DoesNotOpen(id))?).map_err(|_| SealError::DoesNotOpen(id))
    }

    /// The value sealed again under the current key, or None when it is under it already.
    pub fn reseal(&self, sealed: &[u8]) -> Result<Option<Vec<u8>>, SealError> {
        if Self::key_of(sealed) == self.current() {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(sealed)?)))
    }

    /// The text sealed again under the current key (a text stored in clear is sealed), or None when it is under it
    /// already.
    pub fn reseal_text(&self, stored: &str) -> Result<Option<String>, SealError> {
        if Self::key_of_text(stored) == Some(self.current()) {
            return Ok(None);
        }
        Ok(Some(self.seal_text(&self.open_text(stored)?)))
    }
}

/// The prefix of a sealed text, versioned so that another scheme can follow: the key id comes next.
pub const SEALED_TEXT: &str = "sealed:v2:";
/// The prefix of a text sealed under the derived key before values named their key.
pub const SEALED_TEXT_V1: &str = "sealed:v1:";

#[cfg(test)]
mod tests {
    use super::*;

    fn derived() -> Sealer {
        Sealer::new(DataKey::derived([1; 32]))
    }

    /// A value as builds from before key ids sealed it: `nonce || ciphertext+tag` under the derived key.
    fn legacy(key: [u8; 32], plain: &[u8]) -> Vec<u8> {
        DataKey::derived(key).seal(plain)
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let sealer = Sealer::new(DataKey::new([3; 32]));
        let sealed = sealer.seal(b"BRI 0123456789");
        assert!(!sealed.windows(10).any(|w| w == b"0123456789"), "the clear text does not show");
        assert_eq!(sealer.open(&sealed).unwrap(), b"BRI 0123456789");
        assert_eq!(Sealer::key_of(&sealed), sealer.current());
        assert_ne!(sealer.seal(b"same"), sealer.seal(b"same"), "a fresh nonce each time");
        let other = Sealer::new(DataKey::new([2; 32]));
        assert_eq!(other.open(&sealed), Err(SealError::UnknownKey(sealer.current())));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open(&altered), Err(SealError::DoesNotOpen(sealer.current())));
        assert_eq!(sealer.open(&sealed[..5]), Err(SealError::DoesNotOpen(sealer.current())));
        assert_eq!(sealer.open(&[]), Err(SealError::UnknownKey(KeyId::DERIVED)));
    }

    #[test]
    fn key_ids_are_fingerprints_and_the_derived_key_has_its_own() {
        let a = DataKey::new([3; 32]);
        assert_eq!(a.id(), DataKey::from_hex(&hex::encode([3; 32])).unwrap().id());
        assert_ne!(a.id(), DataKey::new([4; 32]).id());
        assert_ne!(a.id(), KeyId::DERIVED);
        assert_eq!(DataKey::derived([3; 32]).id(), KeyId::DERIVED);
        assert_eq!(KeyId::parse(&a.id().to_string()), Some(a.id()));
        assert_eq!(DataKey::from_hex("abcd").unwrap_err(), DataKeyError);
        let twice = Sealer::ring(DataKey::new([3; 32]), vec![DataKey::new([3; 32])]);
        assert_eq!(twice.unwrap_err(), DuplicateKey(a.id()));
    }

    #[test]
    fn a_ring_seals_with_its_current_key_and_opens_with_every_key() {
        let old = Sealer::new(DataKey::new([3; 32]));
        let sealed_old = old.seal(b"Budi");
        let ring = Sealer::ring(DataKey::new([4; 32]), vec![DataKey::new([3; 32])]).unwrap();
        assert_eq!(ring.open(&sealed_old).unwrap(), b"Budi");
        let sealed_new = ring.seal(b"Budi");
        assert_eq!(Sealer::key_of(&sealed_new), ring.current());
        assert_eq!(old.open(&sealed_new), Err(SealError::UnknownKey(ring.current())));

        let resealed = ring.reseal(&sealed_old).unwrap().unwrap();
        assert_eq!(Sealer::key_of(&resealed), ring.current());
        assert_eq!(ring.open(&resealed).unwrap(), b"Budi");
        assert_eq!(ring.reseal(&resealed).unwrap(), None, "under the current key already");
        // The old key dropped from the ring: what was re-sealed still opens.
        let new_only = Sealer::new(DataKey::new([4; 32]));
        assert_eq!(new_only.open(&resealed).unwrap(), b"Budi");
    }

    #[test]
    fn values_from_before_key_ids_open_as_the_derived_keys_whatever_their_first_byte() {
        let ring = Sealer::ring(DataKey::new([4; 32]), vec![DataKey::derived([1; 32])]).unwrap();
        let mut seen_version_byte = false;
        for _ in 0..2000 {
            let sealed = legacy([1; 32], b"0123456789012");
            seen_version_byte |= sealed[0] == VERSION;
            assert_eq!(ring.open(&sealed).unwrap(), b"0123456789012");
            assert_eq!(derived().open(&sealed).unwrap(), b"0123456789012");
            // As migration 0017 prefixed them.
            let prefixed = [&[VERSION][..], &KeyId::DERIVED.0, &sealed].concat();
            assert_eq!(ring.open(&prefixed).unwrap(), b"0123456789012");
        }
        assert!(seen_version_byte, "about 8 in 2000 nonces begin with the version byte");
        let without_derived = Sealer::new(DataKey::new([4; 32]));
        assert_eq!(without_derived.open(&legacy([1; 32], b"x")).map_err(|_| ()), Err(()));
    }

    #[test]
    fn a_sealed_text_shows_nothing_of_itself_and_a_text_from_before_sealing_still_reads() {
        let sealer = Sealer::new(DataKey::new([3; 32]));
        let sealed = sealer.seal_text("Budi Santoso");
        assert!(sealed.starts_with(&format!("{SEALED_TEXT}{}:", sealer.current())) && !sealed.contains("Budi"));
        assert_eq!(Sealer::key_of_text(&sealed), Some(sealer.current()));
        assert_eq!(sealer.open_text(&sealed).unwrap(), "Budi Santoso");
        assert_eq!(sealer.open_text("Pasar Bogor").unwrap(), "Pasar Bogor");
        assert_eq!(Sealer::key_of_text("Pasar Bogor"), None);
        assert_eq!(Sealer::new(DataKey::new([2; 32])).open_text(&sealed), Err(SealError::UnknownKey(sealer.current())));

        let v1 = format!("{SEALED_TEXT_V1}{}", hex::encode(legacy([1; 32], "0251-8321075".as_bytes())));
        assert_eq!(Sealer::key_of_text(&v1), Some(KeyId::DERIVED));
        assert_eq!(derived().open_text(&v1).unwrap(), "0251-8321075");
        assert_eq!(sealer.open_text(&v1), Err(SealError::UnknownKey(KeyId::DERIVED)));
        let ring = Sealer::ring(DataKey::new([3; 32]), vec![DataKey::derived([1; 32])]).unwrap();
        let resealed = ring.reseal_text(&v1).unwrap().unwrap();
        assert_eq!(sealer.open_text(&resealed).unwrap(), "0251-8321075");
        assert_eq!(ring.reseal_text(&resealed).unwrap(), None);
        let clear = ring.reseal_text("Pasar Bogor").unwrap().unwrap();
        assert_eq!(sealer.open_text(&clear).unwrap(), "Pasar Bogor", "a text in clear is sealed by a rotation");
        let nameless = format!("{SEALED_TEXT}{}", hex::encode(b"no key id"));
        assert_eq!(Sealer::key_of_text(&nameless), None);
        assert_eq!(ring.reseal_text(&nameless), Err(SealError::DoesNotOpen(KeyId::DERIVED)));
    }
}
