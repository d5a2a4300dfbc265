//! What both benchmarks share: lindung's own PostgreSQL in a temporary directory (fsync on), the real server on
//! 127.0.0.1, agencies with keys, and the bearer interceptor of an agency's client.

use std::time::Duration;

use lindung::{
    agency::{self, Agency, AgencyKind, NewApiKey},
    app::{App, ServerSettings},
    area::RegionCode,
    audit::{Pseudonymizer, service::ChainSettings},
    config::StoreConfig,
    database::Database,
    listener::ConnectionLimits,
    signing::Signer,
    state::AppState,
};
use sqlx::PgPool;
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::Interceptor,
    transport::Channel,
};

/// A running server over a fresh embedded store.
pub struct Bench {
    pub pool: PgPool,
    #[allow(dead_code, reason = "the audit benchmark runs the chain's tasks with it; the others do not")]
    pub state: AppState,
    pub channel: Channel,
    db: Database,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// The server as `lindung serve` runs it, sealing and checkpointing the audit chain.
    pub async fn start(db_max_connections: u32) -> Bench {
        Bench::start_with(db_max_connections, Some(ChainSettings::default())).await
    }

    /// The server with the audit chain kept as `audit_chain` says (None: not sealed at all).
    pub async fn start_with(db_max_connections: u32, audit_chain: Option<ChainSettings>) -> Bench {
        let dir = tempfile::Builder::new().prefix("lindung-bench-").tempdir_in("/tmp").unwrap();
        let store = StoreConfig {
            database_url: None,
            data_dir: dir.path().to_owned(),
            pg_bin_dir: None,
            db_max_connections,
            // A million-row bill or load must not be cut off.
            db_statement_timeout: std::time::Duration::from_secs(3600),
        };
        let db = Database::open(&store).await.unwrap();
        let pool = db.pool.clone();
        let mut state = AppState::new(pool.clone(), Pseudonymizer::new([7; 32]), Signer::new([9; 32]));
        // Capacity is measured, not a deployment's policy: no rate limit, room for every caller in flight.
        state.limits = lindung::limits::Limits::new(lindung::limits::LimitSettings {
            calls_per_second: None,
            unary: lindung::limits::InFlight { running: 1024, waiting: 1024 },
            ..Default::default()
        });
        let settings = ServerSettings {
            max_message_bytes: 4 * 1024 * 1024,
            default_timeout: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(5),
            feed_heartbeat: Duration::from_secs(15),
            connections: ConnectionLimits { max_connections: 1024, handshake_timeout: Duration::from_secs(10) },
            audit_chain,
            tls: None,
        };
        let app = App::build("127.0.0.1:0".parse().unwrap(), state.clone(), settings).await.unwrap();
        let addr = app.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
        Bench { pool, state, channel, db, stop, server, _dir: dir }
    }

    /// Registers an agency; answers its id and API key.
    pub async fn add_agency(&self, name: &str, kind: AgencyKind, region: Option<&str>) -> (uuid::Uuid, String) {
        let agency =
            Agency::new(uuid::Uuid::new_v4(), name, kind, region.map(|r| RegionCode::parse(r).unwrap())).unwrap();
        let key = NewApiKey::generate();
        let mut conn = self.pool.acquire().await.unwrap();
        agency::store::insert_agency(&mut conn, &agency).await.unwrap();
        agency::store::insert_api_key(&mut *conn, agency.id, &key.hash, &key.prefix).await.unwrap();
        (agency.id, key.secret)
    }

    /// Stops the server, then the store.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
        self.db.close().await;
    }
}

/// Adds `authorization: Bearer <key>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub fn bearer(key: &str) -> Bearer {
    Bearer(format!("Bearer {key}").parse().unwrap())
}

/// The p-th percentile of sorted latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
