//! lindung's own TLS: the server's certificate and key, and the deployment CA that agencies' client certificates must
//! chain to (mutual TLS, TLS 1.3 only, rustls with ring). [`ServerTls`] holds the configuration in force; SIGHUP
//! re-reads the files ([`ServerTls::reload`]), so a certificate is rotated without a restart; a new connection uses
//! the configuration of its accept, connections already open keep theirs.
//!
//! Also the small PKI of a deployment (rcgen): `lindung ca init` makes the CA, `lindung agency issue-cert` a client
//! certificate signed by it.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
};

use anyhow::Context;
use rustls::{
    RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};

/// Where the TLS files are, and whether a client certificate is required (API keys disabled) or optional.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The deployment CA; None: no client certificates are asked for.
    pub client_ca: Option<PathBuf>,
    pub client_cert_required: bool,
}

/// The TLS configuration in force, shared by the listener and the reloader.
#[derive(Clone)]
pub struct ServerTls {
    files: TlsFiles,
    config: Arc<RwLock<Arc<ServerConfig>>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("files", &self.files).finish()
    }
}

impl ServerTls {
    /// Reads the files; fails when any is missing or unreadable.
    pub fn load(files: TlsFiles) -> anyhow::Result<ServerTls> {
        let config = Arc::new(server_config(&files)?);
        Ok(ServerTls { files, config: Arc::new(RwLock::new(config)) })
    }

    /// The configuration for a new connection.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.config.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Re-reads the files; on failure the configuration in force stays (and the error is answered).
    pub fn reload(&self) -> anyhow::Result<()> {
        let config = Arc::new(server_config(&self.files)?);
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = config;
        Ok(())
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Reloads on every SIGHUP until the process ends.
    pub fn reload_on_sighup(&self) {
        let tls = self.clone();
        tokio::spawn(async move {
            let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP; TLS files are read at startup only");
                return;
            };
            while hangups.recv().await.is_some() {
                match tls.reload() {
                    Ok(()) => tracing::info!("SIGHUP: TLS certificate, key and client CA re-read"),
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "SIGHUP: TLS files not re-read; the previous ones stay in force")
                    }
                }
            }
        });
    }
}

/// The rustls provider lindung uses everywhere: ring.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(files: &TlsFiles) -> anyhow::Result<ServerConfig> {
    let certs = read_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("reading the TLS key {}", files.key.display()))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS 1.3")?;
    let builder = match &files.client_ca {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(path)? {
                roots.add(cert).with_context(|| format!("the client CA {}", path.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            let verifier = if files.client_cert_required { verifier } else { verifier.allow_unauthenticated() };
            builder.with_client_cert_verifier(verifier.build().context("the client certificate verifier")?)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).context("the TLS certificate and key")?;
    // gRPC over HTTP/2; the JSON face and gRPC-Web also over HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", path.display());
    Ok(certs)
}

/// The distinguished name of a deployment CA made by `lindung ca init`: `lindung agency issue-cert` signs with it.
const CA_NAME: &str = "lindung deployment CA";

fn ca_params() -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, CA_NAME);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    params
}

/// A certificate and its private key, PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
    pub subject: String,
    pub not_after: chrono::DateTime<chrono::Utc>,
}

fn validity(params: &mut rcgen::CertificateParams, days: u32) -> chrono::DateTime<chrono::Utc> {
    let now = crate::clock::now();
    let not_after = now + chrono::Duration::days(i64::from(days));
    let at = |t: chrono::DateTime<chrono::Utc>| {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(t.timestamp()).unwrap_or(0))
    };
    // Five minutes back, for clocks slightly behind lindung's.
    params.not_before = at(now - chrono::Duration::minutes(5)).into();
    params.not_after = at(not_after).into();
    not_after
}

/// A new deployment CA, valid `days`.
pub fn new_ca(days: u32) -> anyhow::Result<Issued> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = ca_params();
    let not_after = validity(&mut params, days);
    let cert = params.self_signed(&key)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
        subject: format!("CN={CA_NAME}"),
        not_after,
    })
}

/// What a certificate issued by the deployment CA is for.
pub enum Purpose<'a> {
    /// An agency's client certificate: CN is the agency's name, O its id.
    Client { agency_name: &'a str, agency_id: uuid::Uuid },
    /// The server's certificate for these DNS names or IP addresses.
    Server { names: &'a [String] },
}

/// A certificate signed by the CA of `ca_key_pem` (made by [`new_ca`]), valid `days`.
pub fn issue(ca_key_pem: &str, purpose: Purpose<'_>, days: u32) -> anyhow::Result<Issued> {
    let ca_key = rcgen::KeyPair::from_pem(ca_key_pem).context("the CA key")?;
    let issuer = rcgen::Issuer::new(ca_params(), ca_key);
    let key = rcgen::KeyPair::generate()?;
    let (mut params, subject) = match purpose {
        Purpose::Client { agency_name, agency_id } => {
            let mut params = rcgen::CertificateParams::default();
            params.distinguished_name.push(rcgen::DnType::CommonName, agency_name);
            params.distinguished_name.push(rcgen::DnType::OrganizationalUnitName, agency_id.to_string());
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
            (params, format!("CN={agency_name}, OU={agency_id}"))
        }
        Purpose::Server { names } => {
            let mut params = rcgen::CertificateParams::new(names.to_vec())?;
            let first = names.first().map_or("lindung", String::as_str);
            params.distinguished_name.push(rcgen::DnType::CommonName, first);
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
            (params, format!("CN={first}"))
        }
    };
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    let not_after = validity(&mut params, days);
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec(), subject, not_after })
}

/// Writes `contents` to `path`, readable by its owner only when `private`.
pub fn write_file(path: &Path, contents: &str, private: bool) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if private {
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
