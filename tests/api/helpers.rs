//! The test harness: a real PostgreSQL, a fresh database per test cloned from a migrated template, and the real
//! server on 127.0.0.1:0 reached through the generated clients.
//!
//! With `DATABASE_URL` set the tests use that server; without it they start lindung's embedded PostgreSQL once per
//! test binary, exactly as `lindung serve` does.

use std::{net::SocketAddr, sync::OnceLock};

use lindung::{
    agency::{self, Agency, AgencyKind, NewApiKey, cache::KeyCache},
    app::{App, ServerSettings},
    area::RegionCode,
    audit::{Pseudonymizer, service::ChainSettings},
    database::embedded::{EmbeddedOptions, EmbeddedPostgres},
    listener::ConnectionLimits,
    proto::v1::{self as pb, agency_service_client::AgencyServiceClient, worker_service_client::WorkerServiceClient},
    seal::Sealer,
    signing::Signer,
    state::AppState,
};
use sha2::{Digest, Sha256};
use sqlx::{
    Connection, Executor, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

/// The PostgreSQL server the tests use and the template every test database is cloned from.
struct TestServer {
    admin: PgConnectOptions,
    template: String,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

/// The pseudonym key of every test's server (the `lindung` binary is given it as 64 hex digits).
pub const PSEUDONYM_KEY: [u8; 32] = [7; 32];

fn server() -> &'static TestServer {
    // Set-up needs async work; it runs on its own thread and runtime so that any test's runtime can wait for it.
    SERVER.get_or_init(|| std::thread::spawn(init_server).join().expect("test database set-up failed"))
}

fn init_server() -> TestServer {
    let admin = match std::env::var("DATABASE_URL") {
        Ok(url) => url.parse::<PgConnectOptions>().expect("DATABASE_URL is a PostgreSQL URL"),
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("lindung-test-pg-{}", nix::unistd::geteuid()));
            let mut options = EmbeddedOptions::new(dir);
            options.fsync = false;
            let postgres = EmbeddedPostgres::start(options).expect("embedded PostgreSQL starts");
            let admin = postgres.connect_options();
            // Lives as long as the test binary; the instance stops when the binary exits.
            Box::leak(Box::new(postgres));
            admin
        }
    };
    let template = template_name();
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let mut conn = PgConnection::connect_with(&admin).await.expect("PostgreSQL is reachable");
        conn.execute("select pg_advisory_lock(hashtext('lindung.test_template'))").await.unwrap();
        let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&template)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if !exists {
            // Built under another name and renamed when complete, so a half-built template is never used.
            let building = format!("{template}_building");
            conn.execute(sqlx::AssertSqlSafe(format!("drop database if exists {building}"))).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("create database {building}"))).await.unwrap();
            let pool = PgPool::connect_with(admin.clone().database(&building)).await.unwrap();
            lindung::database::prepare(&pool).await.expect("template migrates");
            pool.close().await;
            conn.execute(sqlx::AssertSqlSafe(format!("alter database {building} rename to {template}"))).await.unwrap();
        }
        conn.execute("select pg_advisory_unlock(hashtext('lindung.test_template'))").await.unwrap();
        conn.close().await.unwrap();
    });
    TestServer { admin, template }
}

/// Named after the migrations and the area edition, so a schema change builds a new template.
fn template_name() -> String {
    let mut hash = Sha256::new();
    for migration in lindung::MIGRATOR.iter() {
        hash.update(&migration.checksum[..]);
    }
    hash.update(lindung::area::store::EDITION.as_bytes());
    format!("lindung_template_{}", &hex::encode(hash.finalize())[..12])
}

/// A test's own database, dropped by [`TestApp::stop`].
pub async fn fresh_database() -> (PgPool, String) {
    let server = server();
    let name = format!("lindung_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect_with(&server.admin).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("create database {name} template {}", server.template))).await.unwrap();
    conn.close().await.unwrap();
    let pool =
        PgPoolOptions::new().max_connections(8).connect_with(server.admin.clone().database(&name)).await.unwrap();
    (pool, name)
}

/// The agencies every test starts with, and their keys.
pub struct Keys {
    /// Pemerintah Kota Bogor, city 32.71.
    pub bogor: String,
    /// Pemerintah Kabupaten Bogor, regency 32.01 (a different area from Kota Bogor).
    pub kabupaten_bogor: String,
    /// Pemerintah Provinsi Jawa Barat, province 32.
    pub jabar: String,
    /// Pemerintah Provinsi DKI Jakarta, province 31.
    pub jakarta: String,
    /// BPJS Ketenagakerjaan, the insurer.
    pub insurer: String,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub keys: Keys,
    /// The server's cache of API keys, to tell whether it is in use.
    pub key_cache: KeyCache,
    database: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// Logs go through the test writer, so they show only for failing tests (RUST_LOG=info shows more). With
/// `LINDUNG_TEST_LOG=FILE`, every line the servers under test log at debug is also appended to FILE as JSON, for
/// `.ci/scan-logs` to prove that no NIK, name, phone number or API key reaches a log (R6.3).
fn init_logs() {
    use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};
    let shown = tracing_subscriber::fmt::layer().with_test_writer().with_filter(EnvFilter::from_default_env());
    let kept = test_log().map(|file| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::sync::Mutex::new(file))
            .with_filter(EnvFilter::new(TEST_LOG_FILTER))
    });
    let _ = tracing_subscriber::registry().with(shown).with(kept).try_init();
}

/// What the servers under test log to `LINDUNG_TEST_LOG`.
const TEST_LOG_FILTER: &str = "debug,sqlx=error,h2=info,hyper=info,hyper_util=info,tower=info,tonic=info";

/// `LINDUNG_TEST_LOG`, opened for appending, when it is set.
fn test_log() -> Option<std::fs::File> {
    let path = std::env::var_os("LINDUNG_TEST_LOG")?;
    Some(std::fs::OpenOptions::new().create(true).append(true).open(path).expect("LINDUNG_TEST_LOG"))
}

/// A `lindung serve` the test spawns logs where the in-process servers do: with `LINDUNG_TEST_LOG` set, as JSON
/// lines appended to that file at the same level, so that `.ci/scan-logs` reads what every server of the suite
/// logged. Without it, as the test asked (`quiet` discards the log, else it goes to the test's stderr).
pub fn serve_logs(command: &mut std::process::Command, quiet: bool) -> &mut std::process::Command {
    match test_log() {
        Some(file) => command.env("LINDUNG_LOG_FORMAT", "json").env("RUST_LOG", TEST_LOG_FILTER).stderr(file),
        None if quiet => command.stderr(std::process::Stdio::null()),
        None => command.stderr(std::process::Stdio::inherit()),
    }
}

/// How a test's server authenticates: lindung's TLS, and whether API keys are accepted.
pub struct Security {
    pub tls: Option<lindung::tls::ServerTls>,
    pub api_keys_allowed: bool,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Security { tls: None, api_keys_allowed: true }).await
    }

    pub async fn spawn_with(security: Security) -> TestApp {
        TestApp::spawn_configured(security, lindung::limits::LimitSettings::default()).await
    }

    /// A server whose agencies are held to `limits`.
    pub async fn spawn_with_limits(limits: lindung::limits::LimitSettings) -> TestApp {
        TestApp::spawn_configured(Security { tls: None, api_keys_allowed: true }, limits).await
    }

    async fn spawn_configured(security: Security, limits: lindung::limits::LimitSettings) -> TestApp {
        init_logs();
        let (pool, database) = fresh_database().await;
        let keys = Keys {
            bogor: add_agency(&pool, "Pemerintah Kota Bogor", AgencyKind::City, Some("32.71")).await,
            kabupaten_bogor: add_agency(&pool, "Pemerintah Kabupaten Bogor", AgencyKind::City, Some("32.01")).await,
            jabar: add_agency(&pool, "Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some("32")).await,
            jakarta: add_agency(&pool, "Pemerintah Provinsi DKI Jakarta", AgencyKind::Province, Some("31")).await,
            insurer: add_agency(&pool, "BPJS Ketenagakerjaan", AgencyKind::Insurer, None).await,
        };
        let (addr, key_cache, shutdown, server) = start(&pool, security, limits, None).await;
        TestApp { addr, pool, keys, key_cache, database, shutdown: Some(shutdown), server: Some(server) }
    }

    /// Stops the server and starts another on the same database (its agencies and keys kept) that seals with
    /// `data_keys` instead of the key derived from the pseudonym key, as `lindung serve --data-key …` does.
    pub async fn restart_with_data_keys(&mut self, data_keys: Sealer) {
        self.stop_server().await;
        let security = Security { tls: None, api_keys_allowed: true };
        let (addr, key_cache, shutdown, server) =
            start(&self.pool, security, lindung::limits::LimitSettings::default(), Some(data_keys)).await;
        (self.addr, self.key_cache, self.shutdown, self.server) = (addr, key_cache, Some(shutdown), Some(server));
    }

    async fn stop_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr)).unwrap().connect().await.unwrap()
    }

    pub async fn workers(&self, key: &str) -> WorkerServiceClient<Authed> {
        WorkerServiceClient::with_interceptor(self.channel().await, Bearer::new(key))
    }

    pub async fn agencies(&self, key: &str) -> AgencyServiceClient<Authed> {
        AgencyServiceClient::with_interceptor(self.channel().await, Bearer::new(key))
    }

    /// The URL of the test's database, for the `lindung` binary.
    pub fn database_url(&self) -> String {
        let admin = &server().admin;
        let (host, port, user) = (admin.get_host(), admin.get_port(), admin.get_username());
        if host.starts_with('/') {
            format!("postgres://{user}@localhost:{port}/{}?host={host}", self.database)
        } else {
            format!("postgres://{user}@{host}:{port}/{}", self.database)
        }
    }

    /// Stops the server, then drops the test's database.
    pub async fn stop(mut self) {
        self.stop_server().await;
        self.pool.close().await;
        drop_database(std::mem::take(&mut self.database)).await;
    }
}

type Started = (SocketAddr, KeyCache, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>);

/// The real server on 127.0.0.1:0 over `pool`: the pseudonym key every test uses, and `data_keys` if given.
async fn start(
    pool: &PgPool,
    security: Security,
    limits: lindung::limits::LimitSettings,
    data_keys: Option<Sealer>,
) -> Started {
    let mut state = AppState::new(pool.clone(), Pseudonymizer::new(PSEUDONYM_KEY), Signer::new([9; 32]));
    state.api_keys_allowed = security.api_keys_allowed;
    state.limits = lindung::limits::Limits::new(limits);
    if let Some(data_keys) = data_keys {
        state.data_keys = data_keys;
    }
    let key_cache = state.key_cache.clone();
    let settings = ServerSettings {
        max_message_bytes: 4 * 1024 * 1024,
        default_timeout: std::time::Duration::from_secs(60),
        shutdown_grace: std::time::Duration::from_secs(5),
        feed_heartbeat: std::time::Duration::from_millis(200),
        connections: ConnectionLimits { max_connections: 64, handshake_timeout: std::time::Duration::from_secs(2) },
        // Short intervals, so that tests see their calls sealed and checkpointed within a second.
        audit_chain: Some(ChainSettings {
            seal_every: std::time::Duration::from_millis(100),
            seal_batch: 1000,
            checkpoint_every: std::time::Duration::from_millis(200),
        }),
        tls: security.tls,
    };
    let app = App::build("127.0.0.1:0".parse().unwrap(), state, settings).await.unwrap();
    let addr = app.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (addr, key_cache, tx, server)
}

/// A test that panicked before `stop` still drops its database, so failed runs leave nothing behind.
impl Drop for TestApp {
    fn drop(&mut self) {
        if self.database.is_empty() {
            return;
        }
        let database = std::mem::take(&mut self.database);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(drop_database(database));
        })
        .join();
    }
}

async fn drop_database(name: String) {
    let mut conn = PgConnection::connect_with(&server().admin).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)"))).await.unwrap();
    conn.close().await.unwrap();
}

pub async fn add_agency(pool: &PgPool, name: &str, kind: AgencyKind, region: Option<&str>) -> String {
    let region = region.map(|r| RegionCode::parse(r).unwrap());
    let agency = Agency::new(uuid::Uuid::new_v4(), name, kind, region).unwrap();
    let key = NewApiKey::generate();
    let mut conn = pool.acquire().await.unwrap();
    agency::store::insert_agency(&mut conn, &agency).await.unwrap();
    agency::store::insert_api_key(&mut *conn, agency.id, &key.hash, &key.prefix).await.unwrap();
    key.secret
}

/// Adds `authorization: Bearer <key>` to every call, as an agency's client does.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Bearer {
    pub fn new(key: &str) -> Self {
        Bearer(format!("Bearer {key}").parse().unwrap())
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// A valid worker of Kota Bogor (Bogor Selatan), a woman born in May 1990, decile 2. Distinct `n` (below 279,972)
/// give distinct NIKs, each agreeing with its stated birth date and sex.
pub fn bogor_worker(n: u32) -> pb::Worker {
    let day = (n / 9999) % 28 + 1;
    let serial = n % 9999 + 1;
    pb::Worker {
        nik: format!("327101{:02}0590{serial:04}", day + 40),
        full_name: format!("Siti Rahmawati {n}"),
        birth_date: format!("1990-05-{day:02}"),
        sex: pb::Sex::Female as i32,
        domicile_village_code: "32.71.01.1001".into(),
        occupation: pb::Occupation::Tailor as i32,
        occupation_detail: String::new(),
        welfare: Some(pb::Welfare { decile: 2, source: "DTSEN".into(), as_of_quarter: "2025-Q3".into() }),
        phone: "0812-3456-7890".into(),
        date_of_death: String::new(),
        warnings: vec![],
        record: None,
    }
}

/// The `lindung` binary the tests run, as a clerk would.
pub const LINDUNG: &str = env!("CARGO_BIN_EXE_lindung");

/// Runs the real `lindung` binary with `args`, with no store, server or key from the environment (only the
/// arguments say where it goes); answers (success, stdout, stderr).
pub async fn lindung(args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(LINDUNG)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("LINDUNG_KEY")
        .env_remove("LINDUNG_SERVER")
        .output()
        .await
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

/// One line of a client command's result file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    pub row: usize,
    pub nik: String,
    pub outcome: String,
    pub reason: String,
    pub message: String,
    pub pesan: String,
}

/// The lines of a result CSV, whose header is checked.
pub fn result_file(path: &std::path::Path) -> Vec<ResultLine> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["row", "nik", "outcome", "reason", "message", "pesan"]);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            ResultLine {
                row: r[0].parse().unwrap(),
                nik: r[1].to_owned(),
                outcome: r[2].to_owned(),
                reason: r[3].to_owned(),
                message: r[4].to_owned(),
                pesan: r[5].to_owned(),
            }
        })
        .collect()
}
