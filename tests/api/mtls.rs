//! Mutual TLS: agencies authenticated by a client certificate of the deployment CA, mapped to the agency by its
//! public key; API keys beside it or disabled; revocation honoured on the next call; TLS 1.3 only. The CA and every
//! certificate are made here with rcgen, as any deployment's own PKI would make them.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use lindung::{
    agency,
    proto::v1::{self as pb, agency_service_client::AgencyServiceClient},
    tls::{ServerTls, TlsFiles},
};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use tonic::{
    Code,
    transport::{Certificate, Channel, ClientTlsConfig, Identity},
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_types::StatusExt;

use crate::helpers::{Bearer, LINDUNG, Security, TestApp};

/// A CA of the test's own, and what it signed, as PEM files in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = tempfile::Builder::new().prefix("lindung-mtls-").tempdir_in("/tmp").unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).unwrap();
        Pki { dir, issuer: Issuer::new(params, key) }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Signs a certificate named `name` (`server` for localhost, else a client's), written as `name.pem` and
    /// `name.key`; answers its DER.
    fn sign(&self, name: &str) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params = if name == "server" {
            let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params
        } else {
            let mut params = CertificateParams::default();
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            params
        };
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).unwrap();
        cert.der().to_vec()
    }

    fn server_tls(&self, client_cert_required: bool) -> ServerTls {
        self.sign("server");
        ServerTls::load(TlsFiles {
            cert: self.path("server.pem"),
            key: self.path("server.key"),
            client_ca: Some(self.path("ca.pem")),
            client_cert_required,
        })
        .unwrap()
    }
}

/// Records a certificate's public key for the agency named `name`.
async fn record(app: &TestApp, name: &str, der: &[u8]) -> [u8; 32] {
    let found = agency::store::find_by_name(&app.pool, name).await.unwrap().unwrap();
    let spki = agency::certificate_spki_sha256(der).unwrap();
    let certificate = agency::store::NewCertificate {
        agency_id: found.id,
        spki_sha256: &spki,
        subject: name,
        not_after: chrono::Utc::now() + chrono::Duration::days(1),
    };
    agency::store::insert_certificate(&app.pool, &certificate).await.unwrap();
    spki
}

/// A TLS connection trusting `ca`, presenting the client certificate `client` (`dir/client.pem`, `.key`) if given.
async fn connect(app: &TestApp, ca: &Path, client: Option<(&Path, &str)>) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .domain_name("localhost")
        .ca_certificate(Certificate::from_pem(std::fs::read(ca).unwrap()));
    if let Some((dir, name)) = client {
        let cert = std::fs::read(dir.join(format!("{name}.pem"))).unwrap();
        let key = std::fs::read(dir.join(format!("{name}.key"))).unwrap();
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Channel::from_shared(format!("https://localhost:{}", app.addr.port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
}

async fn who_am_i(channel: Channel, key: Option<&str>) -> Result<pb::WhoAmIResponse, tonic::Status> {
    let reply = match key {
        Some(key) => {
            AgencyServiceClient::with_interceptor(channel, Bearer::new(key)).who_am_i(pb::WhoAmIRequest {}).await
        }
        None => AgencyServiceClient::new(channel).who_am_i(pb::WhoAmIRequest {}).await,
    };
    reply.map(tonic::Response::into_inner)
}

fn agency_name(reply: &pb::WhoAmIResponse) -> &str {
    &reply.agency.as_ref().unwrap().name
}

#[tokio::test]
async fn a_client_certificate_alone_authenticates_its_agency_and_without_one_a_key_is_needed() {
    let pki = Pki::new("Test deployment CA");
    let app = TestApp::spawn_with(Security { tls: Some(pki.server_tls(false)), api_keys_allowed: true }).await;
    let der = pki.sign("bogor");
    record(&app, "Pemerintah Kota Bogor", &der).await;
    let ca = pki.path("ca.pem");

    let channel = connect(&app, &ca, Some((pki.dir.path(), "bogor"))).await.unwrap();
    let reply = who_am_i(channel.clone(), None).await.unwrap();
    assert_eq!(agency_name(&reply), "Pemerintah Kota Bogor");
    // The certificate decides even when another agency's key comes with it.
    let reply = who_am_i(channel, Some(&app.keys.jabar)).await.unwrap();
    assert_eq!(agency_name(&reply), "Pemerintah Kota Bogor");

    // No certificate and no key: refused; a key over TLS still works.
    let plain = connect(&app, &ca, None).await.unwrap();
    let refused = who_am_i(plain.clone(), None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert_eq!(refused.get_details_error_info().unwrap().reason, "API_KEY_MISSING");
    assert_eq!(
        agency_name(&who_am_i(plain.clone(), Some(&app.keys.jabar)).await.unwrap()),
        "Pemerintah Provinsi Jawa Barat"
    );

    // Health needs no credentials.
    let health = HealthClient::new(plain).check(HealthCheckRequest { service: String::new() }).await.unwrap();
    assert_eq!(health.into_inner().status, 1, "SERVING");

    // A certificate of the deployment CA that is recorded for no agency, and no key: refused as the certificate.
    pki.sign("stranger");
    let stranger = connect(&app, &ca, Some((pki.dir.path(), "stranger"))).await.unwrap();
    let refused = who_am_i(stranger, None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.get_details_error_info().unwrap().reason, "CERTIFICATE_UNKNOWN");
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_at_the_handshake() {
    let pki = Pki::new("Test deployment CA");
    let app = TestApp::spawn_with(Security { tls: Some(pki.server_tls(false)), api_keys_allowed: true }).await;
    let other = Pki::new("Someone else's CA");
    let der = other.sign("bogor");
    // Even recorded, a certificate that does not chain to the deployment CA never reaches authorization.
    record(&app, "Pemerintah Kota Bogor", &der).await;
    let answer = match connect(&app, &pki.path("ca.pem"), Some((other.dir.path(), "bogor"))).await {
        // TLS 1.3: the client may finish its side before the server refuses its certificate; the call then fails.
        Ok(channel) => who_am_i(channel, Some(&app.keys.bogor)).await.map(|_| ()).map_err(|s| s.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(answer.is_err(), "a foreign certificate was let in");
    app.stop().await;
}

#[tokio::test]
async fn with_api_keys_disabled_a_valid_key_alone_is_refused() {
    let pki = Pki::new("Test deployment CA");
    let app = TestApp::spawn_with(Security { tls: Some(pki.server_tls(true)), api_keys_allowed: false }).await;
    let ca = pki.path("ca.pem");
    let der = pki.sign("bogor");
    record(&app, "Pemerintah Kota Bogor", &der).await;

    // Without a certificate the handshake is refused, key or not.
    let answer = match connect(&app, &ca, None).await {
        Ok(channel) => who_am_i(channel, Some(&app.keys.bogor)).await.map(|_| ()).map_err(|s| s.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(answer.is_err(), "a key alone was let in");

    // With an unrecorded certificate of the CA, a valid key does not help.
    pki.sign("stranger");
    let stranger = connect(&app, &ca, Some((pki.dir.path(), "stranger"))).await.unwrap();
    let refused = who_am_i(stranger, Some(&app.keys.bogor)).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.get_details_error_info().unwrap().reason, "CERTIFICATE_UNKNOWN");

    let channel = connect(&app, &ca, Some((pki.dir.path(), "bogor"))).await.unwrap();
    assert_eq!(agency_name(&who_am_i(channel, None).await.unwrap()), "Pemerintah Kota Bogor");
    app.stop().await;
}

#[tokio::test]
async fn a_tls_1_2_client_is_refused() {
    let pki = Pki::new("Test deployment CA");
    let app = TestApp::spawn_with(Security { tls: Some(pki.server_tls(false)), api_keys_allowed: true }).await;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(pki.path("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    use rustls::pki_types::pem::PemObject;
    let config = rustls::ClientConfig::builder_with_provider(lindung::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let handshake = connector.connect(name, tcp).await;
    assert!(handshake.is_err(), "a TLS 1.2 handshake completed");
    app.stop().await;
}

/// The server's key listener listens (so that a revocation is heard as a notification, not by chance).
async fn listening(app: &TestApp) {
    let start = Instant::now();
    while !app.key_cache.is_live() {
        assert!(start.elapsed() < Duration::from_secs(5), "the key listener does not listen");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn run(app: &TestApp, args: &[&str]) -> String {
    let output = std::process::Command::new(LINDUNG)
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env_remove("LINDUNG_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn a_certificate_issued_by_the_cli_is_refused_on_the_next_call_after_the_cli_revokes_it() {
    // The deployment's CA and server certificate as `lindung ca init` makes them; the server starts on them.
    let dir = tempfile::Builder::new().prefix("lindung-mtls-cli-").tempdir_in("/tmp").unwrap();
    let ca_dir = dir.path().join("ca");
    let status = std::process::Command::new(LINDUNG)
        .args(["ca", "init", "--out", ca_dir.to_str().unwrap(), "--server-name", "localhost"])
        .status()
        .unwrap();
    assert!(status.success());
    let tls = ServerTls::load(TlsFiles {
        cert: ca_dir.join("server.pem"),
        key: ca_dir.join("server.key"),
        client_ca: Some(ca_dir.join("ca.pem")),
        client_cert_required: false,
    })
    .unwrap();
    let app = TestApp::spawn_with(Security { tls: Some(tls), api_keys_allowed: true }).await;
    listening(&app).await;

    let out = dir.path().join("bogor");
    let spki = run(
        &app,
        &[
            "agency",
            "issue-cert",
            "--agency",
            "Pemerintah Kota Bogor",
            "--ca",
            ca_dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let spki = spki.trim().to_owned();
    assert_eq!(spki.len(), 64, "{spki}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(out.join("agency.key")).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");

    let ca = ca_dir.join("ca.pem");
    let channel = connect(&app, &ca, Some((&out, "agency"))).await.unwrap();
    for _ in 0..5 {
        assert_eq!(agency_name(&who_am_i(channel.clone(), None).await.unwrap()), "Pemerintah Kota Bogor");
    }

    // lindung's own client, as an agency's clerk runs it, with the certificate and no key.
    let feed = tokio::process::Command::new(LINDUNG)
        .args(["feed", "follow", "--until-caught-up", "--server", &format!("https://localhost:{}", app.addr.port())])
        .arg("--ca-cert")
        .arg(&ca)
        .arg("--cert")
        .arg(out.join("agency.pem"))
        .arg("--cert-key")
        .arg(out.join("agency.key"))
        .env_remove("LINDUNG_KEY")
        .output()
        .await
        .unwrap();
    assert!(feed.status.success(), "{}", String::from_utf8_lossy(&feed.stderr));

    assert_eq!(run(&app, &["agency", "revoke-cert", "--spki", &spki]).trim(), "revoked 1 certificate(s)");
    let revoked = Instant::now();
    loop {
        match who_am_i(channel.clone(), None).await {
            Ok(_) => assert!(revoked.elapsed() < Duration::from_secs(2), "a revoked certificate is still let in"),
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                assert_eq!(status.get_details_error_info().unwrap().reason, "CERTIFICATE_UNKNOWN");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("revoked certificate refused {:?} after the revocation committed", revoked.elapsed());
    for _ in 0..10 {
        assert_eq!(who_am_i(channel.clone(), None).await.unwrap_err().code(), Code::Unauthenticated);
    }
    app.stop().await;
}

#[tokio::test]
async fn curl_calls_the_json_face_with_a_client_certificate() {
    if std::process::Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl is not installed: skipped");
        return;
    }
    let pki = Pki::new("Test deployment CA");
    let app = TestApp::spawn_with(Security { tls: Some(pki.server_tls(false)), api_keys_allowed: true }).await;
    let der = pki.sign("bogor");
    record(&app, "Pemerintah Kota Bogor", &der).await;
    let port = app.addr.port().to_string();
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg("--cacert")
        .arg(pki.path("ca.pem"))
        .arg("--cert")
        .arg(pki.path("bogor.pem"))
        .arg("--key")
        .arg(pki.path("bogor.key"))
        .args(["-H", "content-type: application/json", "--data-binary", "{}"])
        .arg(format!("https://localhost:{port}/lindung.v1.AgencyService/WhoAmI"))
        .output()
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{body} {}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["agency"]["name"], "Pemerintah Kota Bogor");
    app.stop().await;
}

#[tokio::test]
async fn a_reload_serves_the_new_server_certificate_to_new_connections_without_a_restart() {
    let pki = Pki::new("Test deployment CA");
    let tls = pki.server_tls(false);
    let app = TestApp::spawn_with(Security { tls: Some(tls.clone()), api_keys_allowed: true }).await;
    let channel = connect(&app, &pki.path("ca.pem"), None).await.unwrap();
    who_am_i(channel.clone(), Some(&app.keys.bogor)).await.unwrap();

    // The files now hold a certificate of another CA (as SIGHUP's reload reads them).
    let next = Pki::new("Next deployment CA");
    next.sign("server");
    for file in ["server.pem", "server.key"] {
        std::fs::copy(next.path(file), pki.path(file)).unwrap();
    }
    tls.reload().unwrap();
    let renewed = connect(&app, &next.path("ca.pem"), None).await.unwrap();
    who_am_i(renewed, Some(&app.keys.bogor)).await.unwrap();
    assert!(connect(&app, &pki.path("ca.pem"), None).await.is_err(), "the old certificate is still served");
    // The connection made before the reload goes on.
    who_am_i(channel, Some(&app.keys.bogor)).await.unwrap();

    // A broken file leaves the configuration in force.
    std::fs::write(pki.path("server.key"), "not a key").unwrap();
    assert!(tls.reload().is_err());
    connect(&app, &next.path("ca.pem"), None).await.unwrap();
    app.stop().await;
}
