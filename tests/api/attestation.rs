//! Signed coverage attestations: issued by VerifyCoverage, verified offline by an ordinary JOSE library and by
//! `lindung attestation verify`, and checked against the store as it changes.

use std::process::Command;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use lindung::proto::v1::{
    self as pb, attestation_service_client::AttestationServiceClient, coverage_service_client::CoverageServiceClient,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    contributions::issue,
    coverage::pay,
    enrollments::active_cohort_between,
    helpers::{Authed, Bearer, TestApp, bogor_worker},
};

use crate::helpers::LINDUNG;

async fn attestations(app: &TestApp, key: &str) -> AttestationServiceClient<Authed> {
    AttestationServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

pub async fn attest(app: &TestApp, key: &str, nik: &str, date: &str) -> pb::VerifyCoverageResponse {
    CoverageServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
        .verify_coverage(pb::VerifyCoverageRequest {
            nik: nik.into(),
            date: date.into(),
            programme: pb::Programme::Jkm as i32,
            attest: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn check(app: &TestApp, key: &str, token: &str) -> pb::CheckAttestationResponse {
    attestations(app, key)
        .await
        .check_attestation(pb::CheckAttestationRequest { attestation: token.into() })
        .await
        .unwrap()
        .into_inner()
}

/// The token with its byte `at` replaced.
fn altered(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// `lindung attestation verify TOKEN_FILE --keys JWKS_FILE`, with no store and no server.
fn cli_verify(token: &str, jwks: &str) -> std::process::Output {
    let dir = tempfile::Builder::new().prefix("lindung-attestation-").tempdir_in("/tmp").unwrap();
    let (token_file, jwks_file) = (dir.path().join("attestation.jws"), dir.path().join("jwks.json"));
    std::fs::write(&token_file, token).unwrap();
    std::fs::write(&jwks_file, jwks).unwrap();
    Command::new(LINDUNG)
        .args(["attestation", "verify", token_file.to_str().unwrap(), "--keys", jwks_file.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test]
async fn an_attestation_verifies_offline_with_a_generic_jose_library_and_no_longer_holds_after_a_death() {
    let app = TestApp::spawn().await;
    let (subsidy, _) = active_cohort_between(&app, 0..1, "2025-09", "2025-12").await;
    for month in ["2025-09", "2025-10", "2025-11", "2025-12"] {
        issue(&app, &subsidy, month).await;
    }
    pay(&app, &subsidy, "67200", "2025-09-10").await; // four months, prepaid
    let nik = bogor_worker(0).nik;
    let answer = attest(&app, &app.keys.insurer, &nik, "2025-10-20").await;
    assert!(answer.covered);
    let token = answer.attestation;
    assert_eq!(token.split('.').count(), 3, "a JWS in compact serialization: {token}");

    // The keys, as a relying party fetches them once.
    let keys = attestations(&app, &app.keys.jakarta)
        .await
        .list_signing_keys(pb::ListSigningKeysRequest {})
        .await
        .unwrap()
        .into_inner();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("lindung-coverage+jwt"));
    let kid = header.kid.unwrap();
    assert_eq!(kid, keys.current_kid);
    let key = keys.keys.iter().find(|k| k.kid == kid).expect("ListSigningKeys serves the key the token names");

    // jsonwebtoken, from the JWK and from the raw public key: signature, issuer and expiry.
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["lindung"]);
    validation.set_required_spec_claims(&["iss", "sub", "exp"]);
    let jwk: Jwk = serde_json::from_str(&key.jwk).unwrap();
    let from_jwk = DecodingKey::from_jwk(&jwk).unwrap();
    let claims = jsonwebtoken::decode::<serde_json::Value>(&token, &from_jwk, &validation).unwrap().claims;
    assert_eq!(claims["date"], "2025-10-20");
    assert_eq!(claims["programme"], "JKM");
    assert_eq!(claims["covered"], true);
    assert_eq!(claims["funder_kind"], "city");
    assert_eq!(claims["paid_through"], "2025-12");
    assert!(!token.contains(&nik) && !claims.to_string().contains(&nik), "no NIK in an attestation");
    let jwks: serde_json::Value = serde_json::from_str(&keys.jwks).unwrap();
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()));
    // A government that does not fund her learns the kind of funder, not the paid-through month.
    let stranger = attest(&app, &app.keys.jakarta, &nik, "2025-10-20").await.attestation;
    let seen = jsonwebtoken::decode::<serde_json::Value>(&stranger, &from_jwk, &validation).unwrap().claims;
    assert_eq!((seen["funder_kind"].as_str(), seen.get("paid_through")), (Some("city"), None));
    let raw = DecodingKey::from_ed_der(&key.public_key);
    jsonwebtoken::decode::<serde_json::Value>(&token, &raw, &validation).unwrap();
    // One byte changed, in the header, the claims or the signature: the library refuses it.
    for at in [5, token.find('.').unwrap() + 10, token.len() - 3] {
        assert!(jsonwebtoken::decode::<serde_json::Value>(&altered(&token, at), &from_jwk, &validation).is_err());
    }

    // The command line, offline, with the key set saved from ListSigningKeys.
    let verified = cli_verify(&token, &keys.jwks);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(String::from_utf8_lossy(&verified.stdout).contains(r#""covered": true"#));
    let refused = cli_verify(&altered(&token, token.len() - 3), &keys.jwks);
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not verify"));

    // It holds; then she is reported dead since 3 October, and it no longer does.
    let holds = check(&app, &app.keys.jakarta, &token).await;
    assert_eq!(
        (holds.status(), holds.covered, holds.reason()),
        (pb::AttestationStatus::Holds, true, pb::CoverageReason::Covered)
    );
    assert_eq!(holds.kid, kid);
    let report = pb::ReportDeathRequest {
        worker_nik: nik.clone(),
        date_of_death: "2025-10-03".into(),
        certificate_number: "3271-KM-0001".into(),
    };
    app.workers(&app.keys.bogor).await.report_death(report).await.unwrap();
    let after = check(&app, &app.keys.jakarta, &token).await;
    assert_eq!(
        (after.status(), after.covered, after.reason()),
        (pb::AttestationStatus::NoLongerHolds, false, pb::CoverageReason::Deceased)
    );
    let forged = check(&app, &app.keys.jakarta, &altered(&token, 5)).await;
    assert_eq!(forged.status(), pb::AttestationStatus::InvalidSignature);
    assert!(!forged.message.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_worker_not_covered_is_attested_with_the_reason_and_a_check_needs_a_token() {
    let app = TestApp::spawn().await;
    let nik = bogor_worker(7).nik; // never registered
    let answer = attest(&app, &app.keys.jabar, &nik, "2025-10-20").await;
    assert_eq!(answer.reason(), pb::CoverageReason::NotEnrolled);
    let claims: serde_json::Value = {
        let payload = answer.attestation.split('.').nth(1).unwrap();
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    assert_eq!((claims["covered"].clone(), claims["reason"].clone()), (false.into(), "NOT_ENROLLED".into()));
    let holds = check(&app, &app.keys.bogor, &answer.attestation).await;
    assert_eq!((holds.status(), holds.reason()), (pb::AttestationStatus::Holds, pb::CoverageReason::NotEnrolled));

    // Without `attest`, no attestation.
    let plain = CoverageServiceClient::with_interceptor(app.channel().await, Bearer::new(&app.keys.jabar))
        .verify_coverage(pb::VerifyCoverageRequest {
            nik,
            date: "2025-10-20".into(),
            programme: pb::Programme::Jkm as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(plain.attestation.is_empty());

    let empty = attestations(&app, &app.keys.bogor)
        .await
        .check_attestation(pb::CheckAttestationRequest { attestation: " ".into() })
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(empty.get_error_details().bad_request().unwrap().field_violations[0].field, "attestation");
    let garbage = check(&app, &app.keys.bogor, "not.a.token").await;
    assert_eq!(garbage.status(), pb::AttestationStatus::InvalidSignature);
    app.stop().await;
}
