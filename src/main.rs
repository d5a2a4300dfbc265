//! The `lindung` binary: configuration -> telemetry -> store -> server.

use anyhow::Context;
use clap::Parser;
use lindung::{
    agency::{self, Agency, AgencyKind, NewApiKey},
    app::{App, ServerSettings},
    area::RegionCode,
    attestation, audit,
    config::{
        AgencyCommand, AgencyKindArg, ApiKeys, AttestationCommand, AuditCommand, CaCommand, Cli, Command,
        CoverageCommand, DemoConfig, FeedCommand, LogFormat, ServeConfig, StoreConfig, WorkersCommand,
    },
    database::{self, Database},
    demo,
    listener::ConnectionLimits,
    state::AppState,
    telemetry,
};
use secrecy::ExposeSecret;

/// Errors are printed here, as one line with their causes (`{:#}`), never through anyhow's `Debug`, which adds a
/// stack backtrace whenever `RUST_BACKTRACE` is set: a user error ("agency already exists") is not a crash.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.worker_threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = cli.store;
    let format = match &cli.command {
        Command::Serve(config) => config.log_format,
        Command::Demo(config) => config.serve.log_format,
        _ => LogFormat::Text,
    };
    telemetry::init(format);
    match cli.command {
        Command::Serve(config) => {
            let tls = config.tls_files().map_err(anyhow::Error::msg)?;
            let tls = tls.map(lindung::tls::ServerTls::load).transpose().context("TLS")?;
            let db = Database::open(&store).await?;
            if let Some(listen) = config.metrics_listen {
                lindung::meter::install(listen).with_context(|| format!("metrics on {listen}"))?;
                tokio::spawn(lindung::meter::sample_store(db.pool.clone(), std::time::Duration::from_secs(5)));
                tracing::info!(%listen, "figures for Prometheus at /metrics");
            }
            let mut state = app_state(&config, &store, &db)?;
            lindung::keys::warn_unopenable(&db.pool, &state.data_keys).await;
            state.api_keys_allowed = config.api_keys == ApiKeys::Enabled;
            let mut settings = settings(&config);
            settings.tls = tls;
            let app = App::build(config.listen, state, settings)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let result = app.run_until(shutdown_signal()).await;
            db.close().await;
            result
        }
        Command::Demo(config) => demo(config, &store).await,
        Command::Migrate => {
            Database::open_for_command(&store).await?.close().await;
            println!("migrations applied, area list loaded");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", lindung::openapi::document());
            Ok(())
        }
        Command::Agency(command) => agency_command(command, &store).await,
        Command::Ca(CaCommand::Init { out, server_names, days }) => ca_init(&out, &server_names, days),
        Command::Attestation(command) => attestation_command(command, &store).await,
        Command::Audit(AuditCommand::Verify { public_key }) => audit_verify(public_key.as_deref(), &store).await,
        Command::Workers(WorkersCommand::Import(args)) => lindung::client::workers::import(args).await,
        Command::Workers(WorkersCommand::ReportDeath(args)) => lindung::client::claims::report_death(args).await,
        Command::Bills(command) => lindung::client::bills::run(command).await,
        Command::Claims(command) => lindung::client::claims::run(command).await,
        Command::Enrollments(command) => lindung::client::enrollments::run(command).await,
        Command::Coverage(CoverageCommand::Verify(args)) => lindung::client::coverage::verify(args).await,
        Command::Reconcile(args) => lindung::client::reconcile::reconcile(args).await,
        Command::Feed(FeedCommand::Follow(args)) => lindung::client::feed::follow(args).await,
        Command::Keys(command) => lindung::keys::run(command, &store).await,
        Command::Bench(config) => lindung::bench::run(config, &store).await,
        Command::Audit(AuditCommand::Prove(args)) => {
            let trusted = args.public_key.as_deref().map(parse_public_key).transpose().context("--public-key")?;
            lindung::client::audit::prove(args, trusted).await
        }
    }
}

fn app_state(config: &ServeConfig, store: &StoreConfig, db: &Database) -> anyhow::Result<AppState> {
    let pseudonymizer =
        database::pseudonymizer(config.pseudonym_key.as_ref().map(|k| k.expose_secret()), &store.data_dir)?;
    let data_keys = lindung::keys::ring(&pseudonymizer, &config.data_keys)?;
    let mut state = AppState::new(
        db.pool.clone(),
        pseudonymizer,
        database::signer(config.signing_key.as_ref().map(|k| k.expose_secret()), &store.data_dir)?,
    );
    state.limits = lindung::limits::Limits::new(config.limit_settings());
    state.data_keys = data_keys;
    Ok(state)
}

fn settings(config: &ServeConfig) -> ServerSettings {
    ServerSettings {
        max_message_bytes: config.max_message_bytes,
        default_timeout: config.default_timeout,
        shutdown_grace: config.shutdown_grace,
        feed_heartbeat: config.feed_heartbeat,
        connections: ConnectionLimits {
            max_connections: config.max_connections,
            handshake_timeout: config.handshake_timeout,
        },
        audit_chain: Some(audit::service::ChainSettings {
            seal_every: config.audit_seal_every,
            seal_batch: config.audit_seal_batch,
            checkpoint_every: config.audit_checkpoint_every,
        }),
        tls: None,
    }
}

/// `lindung demo`: a server on a database of its own, the story replayed against it over gRPC, then (unless
/// `--exit`) the server keeps serving until Ctrl-C for the commands the demo prints. With `--server`, the story is
/// replayed against that server, as the agencies whose keys are given.
async fn demo(config: DemoConfig, store: &StoreConfig) -> anyhow::Result<()> {
    let sheet = store.data_dir.join("demo").join("pekerja-bogor.xlsx");
    if let Some(server) = config.server.clone() {
        let key = |k: &Option<secrecy::SecretString>, flag: &str| {
            k.as_ref().map(|k| k.expose_secret().to_owned()).with_context(|| format!("--server needs {flag}"))
        };
        let keys = demo::Keys {
            city: key(&config.city_key, "--city-key")?,
            province: key(&config.province_key, "--province-key")?,
            insurer: key(&config.insurer_key, "--insurer-key")?,
        };
        let target = lindung::config::ServerArgs {
            server: server.clone(),
            key: None,
            ca_cert: config.ca_cert,
            cert: None,
            cert_key: None,
        };
        let channel = lindung::client::channel(&target).await?;
        return demo::run(&server, channel, &keys, config.seed, &sheet).await;
    }
    let db = Database::open_fresh(store, demo::DATABASE).await?;
    let state = app_state(&config.serve, store, &db)?;
    let keys = demo::add_agencies(&state).await?;
    let app = App::build(config.serve.listen, state, settings(&config.serve))
        .await
        .with_context(|| format!("cannot listen on {}", config.serve.listen))?;
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}");
    let target =
        lindung::config::ServerArgs { server: url.clone(), key: None, ca_cert: None, cert: None, cert_key: None };
    let story = match lindung::client::channel(&target).await {
        Ok(channel) => demo::run(&url, channel, &keys, config.seed, &sheet).await,
        Err(error) => Err(error),
    };
    if story.is_ok() && !config.exit {
        println!("\nserving on {addr} until Ctrl-C");
        shutdown_signal().await;
    }
    let _ = stop.send(());
    let served = server.await.context("the server task failed")?;
    db.close().await;
    story.and(served)
}

/// Verifies an attestation offline: the claims on stdout, the verdict on stderr, failure when it does not verify.
async fn attestation_command(command: AttestationCommand, store: &StoreConfig) -> anyhow::Result<()> {
    let AttestationCommand::Verify { file, keys } = command;
    let token = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the attestation from standard input")?
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
    };
    let keys = match keys {
        Some(path) => {
            let jwks = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            attestation::keys_from_jwks(&jwks)
                .map_err(anyhow::Error::msg)
                .with_context(|| path.display().to_string())?
        }
        None => {
            let db = Database::open_for_command(store).await?;
            let keys = lindung::signing::store::all(&db.pool).await?;
            db.close().await;
            keys
        }
    };
    let verified = attestation::verify(&token, &keys).context("the attestation does not verify")?;
    println!("{}", serde_json::to_string_pretty(&verified.claims)?);
    let a = &verified.attestation;
    anyhow::ensure!(!a.expired(lindung::clock::now()), "the attestation verifies but expired at {}", a.expires_at());
    eprintln!("signature valid (key {}); valid until {} (WIB)", verified.kid, a.valid_until);
    Ok(())
}

async fn audit_verify(public_key: Option<&str>, store: &StoreConfig) -> anyhow::Result<()> {
    let trusted = public_key.map(parse_public_key).transpose().context("--public-key")?;
    let db = Database::open_for_command(store).await?;
    let started = std::time::Instant::now();
    let result = audit::service::verify(&db.pool, trusted).await;
    db.close().await;
    let report = result?.map_err(|failure| anyhow::anyhow!("the audit chain is broken: {failure}"))?;
    let summary = report.summary;
    println!(
        "audit chain intact: {} records in {} batches, {} checkpoints verified ({:.2} s)",
        summary.records,
        summary.batches,
        summary.checkpoints,
        started.elapsed().as_secs_f64()
    );
    match summary.last_checkpoint {
        Some((batch, last_seq, signed_at, kid)) => println!(
            "last checkpoint: batch {batch}, records seq 0..={last_seq}, signed {} by key {kid}",
            signed_at.to_rfc3339()
        ),
        None => println!("no checkpoint yet: the records are chained but not signed"),
    }
    println!(
        "{} sealed records after the last checkpoint, {} records not sealed yet",
        summary.after_checkpoint, report.unsealed
    );
    Ok(())
}

/// An Ed25519 public key as 64 hex digits or as a JWK's base64url `x`.
fn parse_public_key(value: &str) -> anyhow::Result<lindung::signing::PublicKey> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let value = value.trim();
    let bytes = hex::decode(value).or_else(|_| URL_SAFE_NO_PAD.decode(value))?;
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| anyhow::anyhow!("an Ed25519 public key is 32 bytes (64 hex digits)"))?;
    Ok(lindung::signing::PublicKey::new(bytes))
}

async fn agency_command(command: AgencyCommand, store: &StoreConfig) -> anyhow::Result<()> {
    match command {
        AgencyCommand::Add { kind, region, name } => {
            let kind = match kind {
                AgencyKindArg::City => AgencyKind::City,
                AgencyKindArg::Province => AgencyKind::Province,
                AgencyKindArg::Insurer => AgencyKind::Insurer,
            };
            let region = region.as_deref().map(RegionCode::parse).transpose().context("--region")?;
            let agency = Agency::new(uuid::Uuid::new_v4(), &name, kind, region)?;
            let db = Database::open_for_command(store).await?;
            let key = NewApiKey::generate();
            let mut tx = db.pool.begin().await?;
            agency::service::add(&mut tx, &agency).await?;
            agency::store::insert_api_key(&mut *tx, agency.id, &key.hash, &key.prefix).await?;
            tx.commit().await?;
            db.close().await;
            eprintln!("agency {} ({}) added; its API key, shown only now:", agency.name, agency.id);
            println!("{}", key.secret);
            Ok(())
        }
        AgencyCommand::IssueKey { name } => {
            let db = Database::open_for_command(store).await?;
            let agency = agency::store::find_by_name(&db.pool, &name)
                .await?
                .with_context(|| format!("no agency named {name:?}"))?;
            let key = NewApiKey::generate();
            agency::store::insert_api_key(&db.pool, agency.id, &key.hash, &key.prefix).await?;
            db.close().await;
            eprintln!("new API key for {}, shown only now:", agency.name);
            println!("{}", key.secret);
            Ok(())
        }
        AgencyCommand::RevokeKey { key_prefix } => {
            let db = Database::open_for_command(store).await?;
            let revoked = agency::store::revoke_keys(&db.pool, &key_prefix).await?;
            db.close().await;
            anyhow::ensure!(
                revoked > 0,
                "no active key starts with {key_prefix:?} (give at least the 11 characters `agency list` shows)"
            );
            println!("revoked {revoked} key(s)");
            Ok(())
        }
        AgencyCommand::IssueCert { agency, ca, out, days } => {
            let ca_key = std::fs::read_to_string(ca.join("ca.key"))
                .with_context(|| format!("reading {}", ca.join("ca.key").display()))?;
            let db = Database::open_for_command(store).await?;
            let found = find_agency(&db.pool, &agency).await?;
            let issued = lindung::tls::issue(
                &ca_key,
                lindung::tls::Purpose::Client { agency_name: &found.name, agency_id: found.id },
                days,
            )?;
            let spki = agency::certificate_spki_sha256(&issued.der).context("the issued certificate")?;
            let recorded = agency::store::NewCertificate {
                agency_id: found.id,
                spki_sha256: &spki,
                subject: &issued.subject,
                not_after: issued.not_after,
            };
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            lindung::tls::write_file(&out.join("agency.key"), &issued.key_pem, true)?;
            lindung::tls::write_file(&out.join("agency.pem"), &issued.cert_pem, false)?;
            agency::store::insert_certificate(&db.pool, &recorded).await?;
            db.close().await;
            eprintln!(
                "certificate for {} written to {} (agency.pem, agency.key), valid until {}; its SPKI SHA-256:",
                found.name,
                out.display(),
                issued.not_after.format("%Y-%m-%d")
            );
            println!("{}", hex::encode(spki));
            Ok(())
        }
        AgencyCommand::RevokeCert { spki, agency } => {
            let spki = spki
                .map(|hex_digits| {
                    hex::decode(hex_digits.trim())
                        .ok()
                        .filter(|bytes| bytes.len() == 32)
                        .context("--spki is a SHA-256: 64 hex digits")
                })
                .transpose()?;
            let db = Database::open_for_command(store).await?;
            let agency_id = match &agency {
                Some(agency) => Some(find_agency(&db.pool, agency).await?.id),
                None => None,
            };
            let revoked = agency::store::revoke_certificates(&db.pool, spki.as_deref(), agency_id).await?;
            db.close().await;
            anyhow::ensure!(revoked > 0, "no active certificate matches");
            println!("revoked {revoked} certificate(s)");
            Ok(())
        }
        AgencyCommand::List => {
            let db = Database::open_for_command(store).await?;
            let listing = agency::store::list(&db.pool).await?;
            db.close().await;
            for row in listing {
                let region = row.agency.region.as_ref().map_or("-", RegionCode::as_str);
                let key = match (&row.key_prefix, row.key_revoked) {
                    (Some(prefix), false) => format!("{prefix}…"),
                    (Some(prefix), true) => format!("{prefix}… (revoked)"),
                    (None, _) => "no key".to_owned(),
                };
                println!("{}\t{}\t{}\t{}\t{}", row.agency.id, row.agency.kind.as_str(), region, row.agency.name, key);
            }
            Ok(())
        }
    }
}

/// The agency with this id, or else this name.
async fn find_agency(pool: &sqlx::PgPool, id_or_name: &str) -> anyhow::Result<Agency> {
    if let Ok(id) = uuid::Uuid::parse_str(id_or_name) {
        let agencies = agency::store::list(pool).await?;
        if let Some(row) = agencies.into_iter().find(|row| row.agency.id == id) {
            return Ok(row.agency);
        }
    }
    agency::store::find_by_name(pool, id_or_name).await?.with_context(|| format!("no agency {id_or_name:?}"))
}

/// `lindung ca init`: the deployment CA, and the server's certificate when names are given.
fn ca_init(out: &std::path::Path, server_names: &[String], days: u32) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    anyhow::ensure!(!out.join("ca.key").exists(), "{} already holds a CA", out.display());
    let ca = lindung::tls::new_ca(days)?;
    lindung::tls::write_file(&out.join("ca.key"), &ca.key_pem, true)?;
    lindung::tls::write_file(&out.join("ca.pem"), &ca.cert_pem, false)?;
    eprintln!("deployment CA written to {} (ca.pem, ca.key)", out.display());
    if !server_names.is_empty() {
        let server = lindung::tls::issue(&ca.key_pem, lindung::tls::Purpose::Server { names: server_names }, days)?;
        lindung::tls::write_file(&out.join("server.key"), &server.key_pem, true)?;
        lindung::tls::write_file(&out.join("server.pem"), &server.cert_pem, false)?;
        eprintln!("server certificate for {} written (server.pem, server.key)", server_names.join(", "));
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
