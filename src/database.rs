//! The PostgreSQL store: an external server (`DATABASE_URL`) or lindung's own embedded instance, migrated and
//! loaded with the area list before anything else touches it.

pub mod embedded;
pub mod statistics;
pub mod types;

use std::{
    os::unix::{fs::PermissionsExt, net::UnixStream},
    path::Path,
    time::Duration,
};

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use self::embedded::{EmbeddedOptions, EmbeddedPostgres};
use crate::{MIGRATOR, area, audit::Pseudonymizer, config::StoreConfig, signing::Signer};

/// Name of lindung's database inside the embedded instance.
const EMBEDDED_DATABASE: &str = "lindung";

/// An open, migrated store. Call [`Database::close`] to stop an embedded instance cleanly.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Opens the store for `lindung serve`: the embedded instance, if used, belongs to this process.
    pub async fn open(config: &StoreConfig) -> anyhow::Result<Database> {
        Self::open_with(config, false, None).await
    }

    /// Opens the store for a CLI command: an embedded instance already run by a `lindung serve` on the same data
    /// directory is used as it is; otherwise one is started for the command and stopped after it.
    pub async fn open_for_command(config: &StoreConfig) -> anyhow::Result<Database> {
        Self::open_with(config, true, None).await
    }

    /// Opens a database of its own, `name`, on the same PostgreSQL server (the embedded one or DATABASE_URL's),
    /// dropped and created afresh: `lindung demo` replays its story there, leaving the user's data untouched.
    pub async fn open_fresh(config: &StoreConfig, name: &str) -> anyhow::Result<Database> {
        Self::open_with(config, true, Some(name)).await
    }

    async fn open_with(config: &StoreConfig, attach: bool, fresh: Option<&str>) -> anyhow::Result<Database> {
        let embedded_dir = config.data_dir.join("postgres");
        let (options, embedded) = match &config.database_url {
            Some(url) => {
                (url.expose_secret().parse::<PgConnectOptions>().context("DATABASE_URL is not a PostgreSQL URL")?, None)
            }
            None if attach && UnixStream::connect(embedded_dir.join(".s.PGSQL.5432")).is_ok() => {
                let options = PgConnectOptions::new()
                    .socket(&embedded_dir)
                    .port(5432)
                    .username("postgres")
                    .database(EMBEDDED_DATABASE);
                (options, None)
            }
            None => {
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
                let mut options = EmbeddedOptions::new(embedded_dir);
                options.bin_dir = config.pg_bin_dir.clone();
                let postgres = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(options)).await??;
                tracing::info!(pid = postgres.pid(), dir = %postgres.socket_dir().display(), "embedded PostgreSQL running");
                create_database_if_missing(&postgres.connect_options(), EMBEDDED_DATABASE).await?;
                (postgres.connect_options().database(EMBEDDED_DATABASE), Some(postgres))
            }
        };
        let options = match fresh {
            Some(name) => {
                recreate_database(&options, name).await?;
                options.database(name)
            }
            None => options,
        };
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.log_statements(tracing::log::LevelFilter::Trace))
            .await
            .context("cannot connect to PostgreSQL")?;
        prepare(&pool).await?;
        Ok(Database { pool, embedded })
    }

    /// Closes the pool and stops the embedded instance, if any.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(mut postgres) = self.embedded {
            match tokio::task::spawn_blocking(move || postgres.stop()).await {
                Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
                Ok(Err(e)) => tracing::warn!(error = %e, "embedded PostgreSQL did not stop cleanly"),
                Err(e) => tracing::warn!(error = %e, "embedded PostgreSQL did not stop cleanly"),
            }
        }
    }
}

/// Applies the migrations and loads the area list: everything a fresh database needs before serving.
pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("migrations failed")?;
    if area::store::ensure_loaded(pool).await? {
        tracing::info!(edition = area::store::EDITION, "area list loaded");
    }
    Ok(())
}

/// Drops `name` on the server of `admin` (closing its connections) and creates it empty.
async fn recreate_database(admin: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(admin).await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {quoted} with (force)")))
        .execute(&mut conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {quoted}"))).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Creates `name` on the server of `admin` (a connection to an existing database) unless it exists.
pub async fn create_database_if_missing(admin: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(admin).await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound; `name` is a constant of lindung's, quoted anyway.
        sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{}\"", name.replace('"', "\"\""))))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// The deployment's pseudonym key: from configuration, or generated once and kept in `data_dir`.
pub fn pseudonymizer(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Pseudonymizer> {
    let hex_key = secret_key(configured, data_dir, "pseudonym.key", "LINDUNG_PSEUDONYM_KEY")?;
    Ok(Pseudonymizer::from_hex(&hex_key)?)
}

/// The deployment's Ed25519 signing key: from configuration, or generated once and kept in `data_dir`.
pub fn signer(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Signer> {
    let hex_seed = secret_key(configured, data_dir, "signing.key", "LINDUNG_SIGNING_KEY")?;
    Ok(Signer::from_hex(&hex_seed)?)
}

/// A 32-byte secret as hex: the configured one, else the one kept in `data_dir/file`, else a new one written there
/// (readable by its owner only).
fn secret_key(configured: Option<&str>, data_dir: &Path, file: &str, variable: &str) -> anyhow::Result<String> {
    if let Some(hex_key) = configured {
        return Ok(hex_key.to_owned());
    }
    let path = data_dir.join(file);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing);
    }
    std::fs::create_dir_all(data_dir)?;
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    std::fs::write(&path, hex::encode(key))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a key; share it ({variable}) with every lindung process of this deployment");
    Ok(hex::encode(key))
}
