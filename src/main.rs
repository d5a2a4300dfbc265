//! The `lindung` binary: configuration -> telemetry -> store -> server.

use anyhow::Context;
use clap::Parser;
use lindung::{
    agency::{self, Agency, AgencyKind, NewApiKey},
    app::{App, ServerSettings},
    area::RegionCode,
    config::{AgencyCommand, AgencyKindArg, Cli, Command, LogFormat, StoreConfig},
    database::{self, Database},
    listener::ConnectionLimits,
    state::AppState,
    telemetry,
};
use secrecy::ExposeSecret;

/// Errors are printed here, as one line with their causes (`{:#}`), never through anyhow's `Debug`, which adds a
/// stack backtrace whenever `RUST_BACKTRACE` is set: a user error ("agency already exists") is not a crash.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
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
        _ => LogFormat::Text,
    };
    telemetry::init(format);
    match cli.command {
        Command::Serve(config) => {
            let db = Database::open(&store).await?;
            let state = AppState {
                pool: db.pool.clone(),
                pseudonymizer: database::pseudonymizer(
                    config.pseudonym_key.as_ref().map(|k| k.expose_secret()),
                    &store.data_dir,
                )?,
                signer: database::signer(config.signing_key.as_ref().map(|k| k.expose_secret()), &store.data_dir)?,
            };
            let settings = ServerSettings {
                max_message_bytes: config.max_message_bytes,
                default_timeout: config.default_timeout,
                shutdown_grace: config.shutdown_grace,
                feed_heartbeat: config.feed_heartbeat,
                connections: ConnectionLimits {
                    max_connections: config.max_connections,
                    handshake_timeout: config.handshake_timeout,
                },
            };
            let app = App::build(config.listen, state, settings)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let result = app.run_until(shutdown_signal()).await;
            db.close().await;
            result
        }
        Command::Migrate => {
            Database::open_for_command(&store).await?.close().await;
            println!("migrations applied, area list loaded");
            Ok(())
        }
        Command::Agency(command) => agency_command(command, &store).await,
    }
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
