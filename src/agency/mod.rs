//! Agencies (the city and provincial governments and the insurer) and their API keys.

pub mod cache;
pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::area::RegionCode;

/// What an agency is; decides what it may do (see [`crate::auth`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgencyKind {
    City,
    Province,
    Insurer,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 3] = [AgencyKind::City, AgencyKind::Province, AgencyKind::Insurer];

    pub fn as_str(self) -> &'static str {
        match self {
            AgencyKind::City => "city",
            AgencyKind::Province => "province",
            AgencyKind::Insurer => "insurer",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == code)
    }
}

/// An agency as lindung knows it. The region is a regency for a city, a province for a province, none for the
/// insurer: [`Agency::new`] guarantees the pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: Uuid,
    pub name: String,
    pub kind: AgencyKind,
    pub region: Option<RegionCode>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AgencyError {
    #[error("a city's region must be a regency or city code such as 32.71")]
    CityNeedsRegency,
    #[error("a province's region must be a province code such as 32")]
    ProvinceNeedsProvince,
    #[error("the insurer has no region")]
    InsurerHasNoRegion,
    #[error("the name must be 1 to 200 characters")]
    Name,
}

impl Agency {
    pub fn new(id: Uuid, name: &str, kind: AgencyKind, region: Option<RegionCode>) -> Result<Agency, AgencyError> {
        use crate::area::AreaLevel;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AgencyError::Name);
        }
        let level = region.as_ref().map(RegionCode::level);
        match (kind, level) {
            (AgencyKind::City, Some(AreaLevel::Regency)) => {}
            (AgencyKind::City, _) => return Err(AgencyError::CityNeedsRegency),
            (AgencyKind::Province, Some(AreaLevel::Province)) => {}
            (AgencyKind::Province, _) => return Err(AgencyError::ProvinceNeedsProvince),
            (AgencyKind::Insurer, None) => {}
            (AgencyKind::Insurer, Some(_)) => return Err(AgencyError::InsurerHasNoRegion),
        }
        Ok(Agency { id, name: name.to_owned(), kind, region })
    }

    /// Whether `area` lies inside the agency's region. The insurer governs no area.
    pub fn governs(&self, area: &RegionCode) -> bool {
        self.region.as_ref().is_some_and(|region| region.contains(area))
    }
}

/// A freshly generated API key: the secret, shown once, and what is stored of it.
pub struct NewApiKey {
    pub secret: String,
    pub hash: [u8; 32],
    pub prefix: String,
}

/// Keys look like `lk_` followed by 64 hex digits (256 random bits); the prefix makes them easy for secret
/// scanners to spot.
pub const API_KEY_PREFIX: &str = "lk_";

impl NewApiKey {
    pub fn generate() -> NewApiKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{API_KEY_PREFIX}{}", hex::encode(bytes));
        NewApiKey { hash: hash_api_key(&secret), prefix: secret[..11].to_owned(), secret }
    }
}

/// The stored form of a key. A plain SHA-256 suffices: the key is random, not a password.
pub fn hash_api_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The SHA-256 of a DER certificate's SubjectPublicKeyInfo: what the store maps to an agency (migration 0016).
/// None when the certificate cannot be parsed.
pub fn certificate_spki_sha256(der: &[u8]) -> Option<[u8; 32]> {
    let der = rustls::pki_types::CertificateDer::from(der);
    let cert = webpki::EndEntityCert::try_from(&der).ok()?;
    Some(Sha256::digest(cert.subject_public_key_info().as_ref()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> Option<RegionCode> {
        Some(RegionCode::parse(code).unwrap())
    }

    #[test]
    fn each_kind_of_agency_governs_the_right_level_of_area() {
        let check = |kind, region: Option<RegionCode>, expected: Result<(), AgencyError>| {
            assert_eq!(
                Agency::new(Uuid::nil(), "Kota Bogor", kind, region.clone()).map(|_| ()),
                expected,
                "{kind:?} {region:?}"
            );
        };
        check(AgencyKind::City, region("32.71"), Ok(()));
        check(AgencyKind::City, region("32"), Err(AgencyError::CityNeedsRegency));
        check(AgencyKind::City, None, Err(AgencyError::CityNeedsRegency));
        check(AgencyKind::Province, region("32"), Ok(()));
        check(AgencyKind::Province, region("32.71"), Err(AgencyError::ProvinceNeedsProvince));
        check(AgencyKind::Insurer, None, Ok(()));
        check(AgencyKind::Insurer, region("32"), Err(AgencyError::InsurerHasNoRegion));
    }

    #[test]
    fn a_city_governs_its_own_villages_only() {
        let bogor = Agency::new(Uuid::nil(), "Kota Bogor", AgencyKind::City, region("32.71")).unwrap();
        assert!(bogor.governs(&RegionCode::parse("32.71.01.1001").unwrap()));
        assert!(!bogor.governs(&RegionCode::parse("32.01.01.1001").unwrap()));
        let insurer = Agency::new(Uuid::nil(), "BPJS", AgencyKind::Insurer, None).unwrap();
        assert!(!insurer.governs(&RegionCode::parse("32.71.01.1001").unwrap()));
    }

    #[test]
    fn generated_keys_are_distinct_and_hash_to_what_is_stored() {
        let a = NewApiKey::generate();
        let b = NewApiKey::generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 3 + 64);
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(hash_api_key(&a.secret), a.hash);
    }
}
