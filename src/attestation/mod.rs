//! Signed coverage attestations: what VerifyCoverage answered, signed by the server so that an agency can prove to
//! another what lindung said, and anyone can check it with an ordinary JOSE library.
//!
//! The envelope is a JWS in compact serialization (RFC 7515) with `alg` `EdDSA` (RFC 8037) over the server's
//! Ed25519 key, `kid` its RFC 7638 thumbprint and `typ` [`TYPE`]; the payload is a JWT claims set (RFC 7519):
//!
//! | claim | meaning |
//! |---|---|
//! | `iss` | `lindung` |
//! | `jti` | the attestation's id (a UUID), by which CheckAttestation finds it |
//! | `sub` | the worker as a keyed hash (see [`subject`]): no NIK, and it does not link to the audit log's subjects |
//! | `date`, `programme` | the question: `YYYY-MM-DD`, `JKK` or `JKM` |
//! | `covered`, `reason` | the verdict; `reason` is the coverage reason code (`LAPSED` …) when not covered |
//! | `funder_kind`, `paid_through` | when covered: `city` or `province`; the latest paid month (`YYYY-MM`), only for the insurer and the worker's funders |
//! | `valid_until` | the last day (WIB) the attestation may be relied on, see [`valid_until`] |
//! | `iat`, `exp` | issued at; expires at the end of `valid_until` in WIB (seconds since the epoch) |
//!
//! This module is pure: it signs and verifies given the key, the keys and the instant.

pub mod convert;
pub mod grpc;
pub mod service;
pub mod store;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::{
    agency::AgencyKind,
    clock::WIB,
    coverage::{Covered, NotCovered, Programme},
    month::Month,
    nik::Nik,
    signing::{PublicKey, Signer},
};

/// The JWT issuer.
pub const ISSUER: &str = "lindung";
/// The JWS `typ` header (RFC 8725 explicit typing), so that an attestation is never taken for another token.
pub const TYPE: &str = "lindung-coverage+jwt";
/// The only algorithm lindung signs and accepts.
pub const ALG: &str = "EdDSA";

/// The verdict an attestation states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `paid_through` only for the insurer and the worker's funders, who may see it (R6.3: the minimum).
    Covered {
        funder_kind: AgencyKind,
        paid_through: Option<Month>,
    },
    NotCovered(NotCovered),
}

impl Verdict {
    /// The verdict of a coverage judgement, as an attestation states it.
    pub fn of(verdict: &Result<Covered, NotCovered>) -> Verdict {
        match verdict {
            Ok(covered) => {
                Verdict::Covered { funder_kind: covered.funder_kind, paid_through: Some(covered.paid_through) }
            }
            Err(reason) => Verdict::NotCovered(*reason),
        }
    }
}

/// One attestation, as lindung issues it and as a verified token reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub id: Uuid,
    /// The worker as a keyed hash (base64url), see [`subject`].
    pub subject: String,
    pub date: NaiveDate,
    pub programme: Programme,
    pub verdict: Verdict,
    pub valid_until: NaiveDate,
    /// Whole seconds: what the token carries.
    pub issued_at: DateTime<Utc>,
}

/// The label under which the subject key is derived from the deployment's pseudonym secret.
pub const SUBJECT_KEY_LABEL: &[u8] = b"lindung: coverage attestation subjects, v1";

/// The worker as an attestation names them: HMAC-SHA256 of the NIK under a key derived from the pseudonym secret
/// with its own label, so that an attestation's subject cannot be joined with the audit log's. Nobody without the
/// secret can compute it from a NIK: a relying party matches an attestation to a person by the attestation itself
/// (it holds it because it asked about that person), and CheckAttestation finds the worker by the attestation's id.
pub fn subject(key: &[u8; 32], nik: &Nik) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(nik.as_str().as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The last day an attestation issued on `issued_on` may be relied on.
///
/// A covered verdict holds through `covered_until` (the end of the paid-through month, no later than the end of
/// the covering enrollment or a known death: see `coverage::covered_until`): paid months stay paid (a lapse writes
/// off only unpaid months, R1.6), so only a report — a death, an ending — can overturn it before then, and
/// CheckAttestation says so. A verdict of not covered can change any day (a payment, a registration, a lapse
/// check, a backdate), so it holds for the day of issue only; so does a covered verdict about a date whose
/// paid-through month is over.
pub fn valid_until(covered_until: Option<NaiveDate>, issued_on: NaiveDate) -> NaiveDate {
    covered_until.filter(|until| *until > issued_on).unwrap_or(issued_on)
}

/// The instant an attestation valid until `valid_until` expires: the end of that day in WIB.
pub fn expires_at(valid_until: NaiveDate) -> DateTime<Utc> {
    let next = valid_until.succ_opt().unwrap_or(valid_until);
    next.and_hms_opt(0, 0, 0).expect("midnight exists").and_local_timezone(WIB).unwrap().with_timezone(&Utc)
}

impl Attestation {
    pub fn expires_at(&self) -> DateTime<Utc> {
        expires_at(self.valid_until)
    }

    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at()
    }

    /// The signed token: `BASE64URL(header) . BASE64URL(claims) . BASE64URL(signature)`.
    pub fn sign(&self, signer: &Signer) -> String {
        let header = Header { alg: ALG.into(), kid: signer.kid().into(), typ: TYPE.into() };
        let header = serde_json::to_vec(&header).expect("a header serializes");
        let claims = serde_json::to_vec(&Claims::of(self)).expect("claims serialize");
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
        let signature = signer.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Why a token is not a valid attestation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("not a JWS in compact serialization: {0}")]
    Malformed(&'static str),
    #[error("the header is not an attestation's: {0}")]
    Header(String),
    #[error("signed with key {0:?}, which is not one of lindung's keys")]
    UnknownKey(String),
    #[error("the signature does not verify")]
    Signature,
    #[error("the claims are not an attestation's: {0}")]
    Claims(String),
}

/// A token whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub attestation: Attestation,
    pub kid: String,
    /// The claims exactly as signed, for display.
    pub claims: serde_json::Value,
}

/// Verifies `token` against `keys` (every key lindung has used): the signature over the bytes received, then the
/// header and the claims. Nothing of an unverified token is trusted, or even parsed beyond the header's key id.
pub fn verify(token: &str, keys: &[PublicKey]) -> Result<Verified, Invalid> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed("expected three parts separated by '.'"));
    };
    let header = URL_SAFE_NO_PAD.decode(header_b64).map_err(|_| Invalid::Malformed("the header is not base64url"))?;
    let header: Header =
        serde_json::from_slice(&header).map_err(|e| Invalid::Header(format!("not a JOSE header: {e}")))?;
    if header.alg != ALG {
        return Err(Invalid::Header(format!("alg must be {ALG}, not {:?}", header.alg)));
    }
    if header.typ != TYPE {
        return Err(Invalid::Header(format!("typ must be {TYPE}, not {:?}", header.typ)));
    }
    let key = keys.iter().find(|k| k.kid == header.kid).ok_or_else(|| Invalid::UnknownKey(header.kid.clone()))?;
    let signature =
        URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| Invalid::Malformed("the signature is not base64url"))?;
    let input_len = header_b64.len() + 1 + claims_b64.len();
    if !key.verifies(&token.as_bytes()[..input_len], &signature) {
        return Err(Invalid::Signature);
    }
    let claims = URL_SAFE_NO_PAD.decode(claims_b64).map_err(|_| Invalid::Malformed("the claims are not base64url"))?;
    let value: serde_json::Value = serde_json::from_slice(&claims).map_err(|e| Invalid::Claims(e.to_string()))?;
    let claims: Claims = serde_json::from_value(value.clone()).map_err(|e| Invalid::Claims(e.to_string()))?;
    Ok(Verified { attestation: claims.parse()?, kid: header.kid, claims: value })
}

/// The Ed25519 keys of a JWK Set (RFC 7517), as ListSigningKeys serves it, or of a single JWK. A key whose `kid`
/// is not its RFC 7638 thumbprint is refused: lindung's key ids are thumbprints, so a mismatch is a substituted key.
pub fn keys_from_jwks(json: &str) -> Result<Vec<PublicKey>, String> {
    #[derive(Deserialize)]
    struct Jwk {
        kty: String,
        #[serde(default)]
        crv: String,
        #[serde(default)]
        x: String,
        #[serde(default)]
        kid: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        Set { keys: Vec<Jwk> },
        One(Jwk),
    }
    let jwks = match serde_json::from_str(json).map_err(|e| format!("not a JWK Set: {e}"))? {
        Keys::Set { keys } => keys,
        Keys::One(jwk) => vec![jwk],
    };
    let mut keys = Vec::new();
    for jwk in jwks.into_iter().filter(|k| k.kty == "OKP" && k.crv == "Ed25519") {
        let bytes = URL_SAFE_NO_PAD.decode(&jwk.x).map_err(|_| "an Ed25519 key's x is not base64url".to_owned())?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "an Ed25519 key's x is not 32 bytes".to_owned())?;
        let key = PublicKey::new(bytes);
        if let Some(kid) = jwk.kid.filter(|kid| *kid != key.kid) {
            return Err(format!("key {kid:?} is not the thumbprint of its key ({})", key.kid));
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err("no Ed25519 key in the JWK Set".into());
    }
    Ok(keys)
}

/// Whether an attestation still holds, judged against what is known now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Holds,
    /// The verdict the worker gets now, which differs from the attested one.
    NoLongerHolds(Verdict),
}

/// What lindung knows now of the attested worker and date: the verdict on the attested date and, when covered,
/// the day it is covered until (see `coverage::covered_until`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub verdict: Verdict,
    pub covered_until: Option<NaiveDate>,
    pub date_of_death: Option<NaiveDate>,
}

/// Whether `attested` still holds given what is known `now`: the same verdict on the attested date (a covered
/// worker covered by a funder of the same kind; a worker not covered for the same reason), and, for a covered
/// verdict, still covered through the day it was valid until — a death or an ending reported since, dated before
/// then, means it no longer holds, reported as DECEASED or ENDED.
pub fn standing(attested: &Attestation, now: &Now) -> Standing {
    let issued_on = attested.issued_at.with_timezone(&WIB).date_naive();
    match (attested.verdict, now.verdict) {
        (Verdict::Covered { funder_kind: was, .. }, Verdict::Covered { funder_kind: is, .. }) if was == is => {
            if valid_until(now.covered_until, issued_on) >= attested.valid_until {
                Standing::Holds
            } else if now.date_of_death.is_some_and(|died| died <= attested.valid_until) {
                Standing::NoLongerHolds(Verdict::NotCovered(NotCovered::Deceased))
            } else {
                Standing::NoLongerHolds(Verdict::NotCovered(NotCovered::Ended))
            }
        }
        (Verdict::NotCovered(was), Verdict::NotCovered(is)) if was == is => Standing::Holds,
        (_, is) => Standing::NoLongerHolds(is),
    }
}

/// Every reason a worker may not be covered, to read a reason code back.
const REASONS: [NotCovered; 7] = [
    NotCovered::NotEnrolled,
    NotCovered::PendingRegistration,
    NotCovered::MonthUnpaid,
    NotCovered::InArrearsWindow,
    NotCovered::Lapsed,
    NotCovered::Ended,
    NotCovered::Deceased,
];

pub fn programme_code(programme: Programme) -> &'static str {
    match programme {
        Programme::Jkk => "JKK",
        Programme::Jkm => "JKM",
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    kid: String,
    typ: String,
}

/// The claims set on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    jti: String,
    sub: String,
    date: String,
    programme: String,
    covered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    funder_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paid_through: Option<String>,
    valid_until: String,
    iat: i64,
    exp: i64,
}

impl Claims {
    fn of(a: &Attestation) -> Claims {
        let (covered, reason, funder_kind, paid_through) = match a.verdict {
            Verdict::Covered { funder_kind, paid_through } => {
                (true, None, Some(funder_kind.as_str().to_owned()), paid_through.map(|m| m.to_string()))
            }
            Verdict::NotCovered(reason) => (false, Some(reason.code().to_owned()), None, None),
        };
        Claims {
            iss: ISSUER.into(),
            jti: a.id.to_string(),
            sub: a.subject.clone(),
            date: a.date.to_string(),
            programme: programme_code(a.programme).into(),
            covered,
            reason,
            funder_kind,
            paid_through,
            valid_until: a.valid_until.to_string(),
            iat: a.issued_at.timestamp(),
            exp: a.expires_at().timestamp(),
        }
    }

    fn parse(self) -> Result<Attestation, Invalid> {
        let bad = |what: &str| Invalid::Claims(what.to_owned());
        if self.iss != ISSUER {
            return Err(bad("iss is not lindung"));
        }
        let id = Uuid::parse_str(&self.jti).map_err(|_| bad("jti is not a UUID"))?;
        let date = crate::date::parse(&self.date).map_err(|_| bad("date is not YYYY-MM-DD"))?;
        let programme = match self.programme.as_str() {
            "JKK" => Programme::Jkk,
            "JKM" => Programme::Jkm,
            _ => return Err(bad("programme is neither JKK nor JKM")),
        };
        let verdict = if self.covered {
            let funder_kind = self
                .funder_kind
                .as_deref()
                .and_then(AgencyKind::from_code)
                .ok_or_else(|| bad("a covered verdict names its funder kind"))?;
            let paid_through = self
                .paid_through
                .as_deref()
                .map(|m| Month::parse(m).map_err(|_| bad("paid_through is not YYYY-MM")))
                .transpose()?;
            Verdict::Covered { funder_kind, paid_through }
        } else {
            let reason = self.reason.as_deref().ok_or_else(|| bad("a verdict of not covered gives its reason"))?;
            let reason = REASONS.into_iter().find(|r| r.code() == reason).ok_or_else(|| bad("unknown reason"))?;
            Verdict::NotCovered(reason)
        };
        let valid_until = crate::date::parse(&self.valid_until).map_err(|_| bad("valid_until is not YYYY-MM-DD"))?;
        let issued_at = DateTime::from_timestamp(self.iat, 0).ok_or_else(|| bad("iat is out of range"))?;
        let attestation = Attestation { id, subject: self.sub, date, programme, verdict, valid_until, issued_at };
        if attestation.expires_at().timestamp() != self.exp {
            return Err(bad("exp is not the end of valid_until"));
        }
        Ok(attestation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::date::parse(s).unwrap()
    }

    fn covered() -> Attestation {
        Attestation {
            id: Uuid::from_u128(42),
            subject: subject(&[5; 32], &Nik::parse("3271014501900001").unwrap()),
            date: d("2025-10-20"),
            programme: Programme::Jkm,
            verdict: Verdict::Covered { funder_kind: AgencyKind::City, paid_through: Month::parse("2025-12").ok() },
            valid_until: d("2025-12-31"),
            issued_at: DateTime::from_timestamp(1_760_950_000, 0).unwrap(), // 2025-10-20 WIB
        }
    }

    #[test]
    fn a_signed_attestation_verifies_and_reads_back_as_issued() {
        let signer = Signer::new([9; 32]);
        let token = covered().sign(&signer);
        let verified = verify(&token, &[Signer::new([1; 32]).public_key().clone(), signer.public_key().clone()])
            .expect("verifies");
        assert_eq!(verified.attestation, covered());
        assert_eq!(verified.kid, signer.kid());
        assert_eq!(verified.claims["funder_kind"], "city");
        assert_eq!(verified.claims["exp"], expires_at(d("2025-12-31")).timestamp());
        assert!(verified.claims.get("reason").is_none());
        let refused = Attestation { verdict: Verdict::NotCovered(NotCovered::Lapsed), ..covered() };
        let verified = verify(&refused.sign(&signer), &[signer.public_key().clone()]).unwrap();
        assert_eq!(verified.attestation, refused);
        assert_eq!(verified.claims["reason"], "LAPSED");
    }

    #[test]
    fn one_byte_changed_anywhere_in_the_token_fails_verification() {
        let signer = Signer::new([9; 32]);
        let keys = [signer.public_key().clone()];
        let token = covered().sign(&signer);
        for at in 0..token.len() {
            for replacement in [b'A', b'x', b'_', b'.', b'0'] {
                let mut altered = token.clone().into_bytes();
                if altered[at] == replacement {
                    continue;
                }
                altered[at] = replacement;
                let altered = String::from_utf8(altered).unwrap();
                assert!(
                    verify(&altered, &keys).is_err(),
                    "byte {at} changed to {} still verifies",
                    replacement as char
                );
            }
        }
    }

    #[test]
    fn another_key_or_an_unknown_key_id_fails() {
        let token = covered().sign(&Signer::new([9; 32]));
        // Another key presented under the signer's kid: the signature does not verify.
        let mut impostor = Signer::new([8; 32]).public_key().clone();
        impostor.kid = Signer::new([9; 32]).kid().to_owned();
        assert_eq!(verify(&token, &[impostor]).unwrap_err(), Invalid::Signature);
        let other = Signer::new([8; 32]);
        assert_eq!(
            verify(&token, &[other.public_key().clone()]).unwrap_err(),
            Invalid::UnknownKey(Signer::new([9; 32]).kid().into())
        );
        assert!(matches!(verify("a.b", &[other.public_key().clone()]), Err(Invalid::Malformed(_))));
    }

    #[test]
    fn a_token_that_is_not_eddsa_or_not_an_attestation_is_refused_before_its_signature() {
        let signer = Signer::new([9; 32]);
        let keys = [signer.public_key().clone()];
        let forge = |header: &str| {
            let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode("{}"));
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signer.sign(input.as_bytes())))
        };
        let kid = signer.kid();
        let none = forge(&format!(r#"{{"alg":"none","kid":"{kid}","typ":"{TYPE}"}}"#));
        assert!(matches!(verify(&none, &keys), Err(Invalid::Header(_))));
        let jwt = forge(&format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"JWT"}}"#));
        assert!(matches!(verify(&jwt, &keys), Err(Invalid::Header(_))));
        let empty_claims = forge(&format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"{TYPE}"}}"#));
        assert!(matches!(verify(&empty_claims, &keys), Err(Invalid::Claims(_))));
    }

    #[test]
    fn keys_are_read_from_a_jwk_set_and_a_substituted_kid_is_refused() {
        let (a, b) = (Signer::new([1; 32]), Signer::new([2; 32]));
        let set = format!(r#"{{"keys":[{},{}]}}"#, a.public_key().jwk_json(), b.public_key().jwk_json());
        assert_eq!(keys_from_jwks(&set).unwrap(), [a.public_key().clone(), b.public_key().clone()]);
        assert_eq!(keys_from_jwks(&a.public_key().jwk_json()).unwrap(), [a.public_key().clone()]);
        let swapped = a.public_key().jwk_json().replace(a.kid(), b.kid());
        assert!(keys_from_jwks(&swapped).unwrap_err().contains("thumbprint"));
        assert!(keys_from_jwks(r#"{"keys":[]}"#).is_err());
        assert!(keys_from_jwks("nonsense").is_err());
    }

    #[test]
    fn a_covered_verdict_is_valid_through_its_paid_months_and_any_other_for_the_day() {
        assert_eq!(valid_until(Some(d("2025-12-31")), d("2025-10-20")), d("2025-12-31"));
        assert_eq!(valid_until(Some(d("2025-12-31")), d("2026-12-02")), d("2026-12-02"));
        assert_eq!(valid_until(None, d("2026-12-02")), d("2026-12-02"));
        // The end of the day in WIB is 17:00 UTC.
        assert_eq!(expires_at(d("2025-12-31")).to_rfc3339(), "2025-12-31T17:00:00+00:00");
        let a = covered();
        assert!(!a.expired(expires_at(a.valid_until) - chrono::Duration::seconds(1)));
        assert!(a.expired(expires_at(a.valid_until)));
    }

    #[test]
    fn an_attestation_holds_until_the_verdict_changes_or_a_death_or_ending_cuts_it_short() {
        let check = |now: Now, expected: Standing| assert_eq!(standing(&covered(), &now), expected, "{now:?}");
        let city = Verdict::Covered { funder_kind: AgencyKind::City, paid_through: Month::parse("2026-01").ok() };
        let still = Now { verdict: city, covered_until: Some(d("2026-01-31")), date_of_death: None };
        check(still, Standing::Holds);
        // Died on 5 December: still covered on 20 October, but not through 31 December.
        let died = Now { covered_until: Some(d("2025-12-05")), date_of_death: Some(d("2025-12-05")), ..still };
        check(died, Standing::NoLongerHolds(Verdict::NotCovered(NotCovered::Deceased)));
        let ended = Now { covered_until: Some(d("2025-11-30")), ..still };
        check(ended, Standing::NoLongerHolds(Verdict::NotCovered(NotCovered::Ended)));
        let deceased = Now { verdict: Verdict::NotCovered(NotCovered::Deceased), covered_until: None, ..died };
        check(deceased, Standing::NoLongerHolds(Verdict::NotCovered(NotCovered::Deceased)));
        let province =
            Verdict::Covered { funder_kind: AgencyKind::Province, paid_through: Month::parse("2026-01").ok() };
        check(Now { verdict: province, ..still }, Standing::NoLongerHolds(province));
        let lapsed = Attestation { verdict: Verdict::NotCovered(NotCovered::Lapsed), ..covered() };
        let now = Now { verdict: Verdict::NotCovered(NotCovered::Lapsed), covered_until: None, date_of_death: None };
        assert_eq!(standing(&lapsed, &now), Standing::Holds);
        assert_eq!(standing(&lapsed, &still), Standing::NoLongerHolds(city));
    }

    #[test]
    fn subjects_are_keyed_and_differ_from_the_audit_logs() {
        let nik = Nik::parse("3271014501900001").unwrap();
        assert_eq!(subject(&[5; 32], &nik), subject(&[5; 32], &nik));
        assert_ne!(subject(&[5; 32], &nik), subject(&[6; 32], &nik));
        // Under one deployment secret, the attestation's subject key is derived under its own label.
        let secret = crate::audit::Pseudonymizer::new([5; 32]);
        let key = secret.derive_key(SUBJECT_KEY_LABEL);
        assert_ne!(subject(&key, &nik), URL_SAFE_NO_PAD.encode(secret.subject(&nik).0));
    }
}
