//! Configuration: one typed struct per command, read from flags and environment. Doc comments are the `--help`.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// lindung: the exchange of subsidised workers' enrollments, coverage and claims between governments and the insurer.
#[derive(Debug, Parser)]
#[command(name = "lindung", version)]
pub struct Cli {
    /// Where the store is: global options, accepted before or after the subcommand.
    #[command(flatten)]
    pub store: StoreConfig,

    /// Threads of the async runtime that serves the calls; by default one per CPU available to lindung (its cgroup
    /// quota or affinity included): more threads than CPUs only adds tail latency.
    #[arg(long, global = true, env = "LINDUNG_WORKER_THREADS", default_value_t = cpus())]
    pub worker_threads: usize,

    #[command(subcommand)]
    pub command: Command,
}

/// The CPUs available to this process (`std::thread::available_parallelism`, which honours cgroup quotas and
/// affinity), 1 when it cannot tell.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The pool's default size: 4 connections per CPU available, between 8 and 64. A call holds a connection only while
/// its statements run (a read gives it back before waiting for its audit commit), so a few per CPU keep the CPUs busy
/// without queueing backends against each other.
pub fn default_pool_size() -> u32 {
    u32::try_from(cpus() * 4).unwrap_or(u32::MAX).clamp(8, 64)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the gRPC server (applies migrations and loads the area list first).
    Serve(ServeConfig),
    /// Replays the Kota Bogor story (22,474 workers, two deaths) over gRPC on a server of its own, in a database
    /// of its own recreated on each run, then keeps serving for the commands it prints.
    Demo(DemoConfig),
    /// Applies the database migrations and loads the area list, then exits.
    Migrate,
    /// Prints the OpenAPI 3 description of the JSON face (docs/openapi.json), generated from the protos.
    Openapi,
    /// Manages the agencies that may call lindung and their API keys.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// The deployment's certificate authority for mutual TLS.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Works with signed coverage attestations, offline.
    #[command(subcommand)]
    Attestation(AttestationCommand),
    /// Checks the tamper-evident audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Client commands for a running server: the workers of a spreadsheet (CSV or XLSX).
    #[command(subcommand)]
    Workers(WorkersCommand),
    /// Client commands for a running server: a subsidy's monthly bills and the funder's payments.
    #[command(subcommand)]
    Bills(BillsCommand),
    /// Client commands for a running server: death (JKM) claims, from filing to payment.
    #[command(subcommand)]
    Claims(ClaimsCommand),
    /// Client commands for a running server: enrollments from and to a spreadsheet (CSV or XLSX).
    #[command(subcommand)]
    Enrollments(EnrollmentsCommand),
    /// Client commands for a running server: checks whether the workers of a spreadsheet are protected.
    #[command(subcommand)]
    Coverage(CoverageCommand),
    /// Client command for a running server: compares a funder's list (CSV or XLSX) with the shared truth and writes
    /// one line per row, then one per funded worker missing from the list.
    Reconcile(ReconcileArgs),
    /// Client commands for a running server: the event feed.
    #[command(subcommand)]
    Feed(FeedCommand),
    /// The data keys that seal specific personal data at rest: re-sealing under the current key, and which key
    /// seals how many values (docs/SECURITY.md, "Data keys").
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Measures lindung beside its floors on a fresh store, with the real server as a child process, and prints one
    /// table per size (docs/PERFORMANCE.md). Build with `--release`.
    Bench(BenchConfig),
}

/// Which server a client command talks to, and as whom.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// URL of the lindung server; an `https://` URL is reached over TLS.
    #[arg(long, env = "LINDUNG_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,

    /// The agency's API key (as `lindung agency add` printed it).
    #[arg(long, env = "LINDUNG_KEY", hide_env_values = true, value_parser = secret)]
    pub key: Option<SecretString>,

    /// PEM file of the certificate authority that signed the server's certificate; the system's roots when absent.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,

    /// PEM file of the agency's client certificate (mutual TLS, as `lindung agency issue-cert` wrote it); with
    /// `--cert-key`, no API key is needed.
    #[arg(long, env = "LINDUNG_CERT", requires = "cert_key")]
    pub cert: Option<PathBuf>,

    /// PEM file of the client certificate's private key.
    #[arg(long, env = "LINDUNG_KEY_FILE", requires = "cert")]
    pub cert_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum WorkersCommand {
    /// Registers the workers of a CSV or XLSX file (creates them or updates their fields) and writes a result file
    /// with one line per row. Re-running the same file is safe: an unchanged worker is left as it is.
    Import(SheetArgs),
    /// Reports a worker's death (a funder of the worker, or the insurer): the enrollments end after the month of
    /// death and what was billed for later months comes back as refund credit. Reporting it again changes nothing.
    ReportDeath(ReportDeathArgs),
}

/// A bulk command's spreadsheet, where its result goes, and the server it is sent to.
#[derive(Debug, Clone, Args)]
pub struct SheetArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The spreadsheet: `.csv` or `.xlsx` (the first sheet), with a header row (see README, "From a spreadsheet").
    pub file: PathBuf,

    /// Checks every row with lindung's own rules and sends nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where the per-row result goes (CSV; an XLSX beside it when the input is XLSX). Default: `<FILE>.result.csv`.
    #[arg(long)]
    pub result: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CoverageCommand {
    /// Checks, for every NIK of a CSV or XLSX file, whether the worker is protected on a date (over
    /// `CoverageService.VerifyCoverageStream`), and writes a result file with one line per row. Changes nothing.
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    // The file has a NIK column and optionally a date column (`Tanggal`, `Date`) that overrides `--date` for its
    // row (see README, "Checking coverage of a list").
    #[command(flatten)]
    pub sheet: SheetArgs,

    /// The date asked about, `YYYY-MM-DD`, for rows without a date of their own. Default: today (WIB).
    #[arg(long)]
    pub date: Option<String>,

    /// The programme asked about.
    #[arg(long, value_enum, default_value_t = ProgrammeArg::Jkm)]
    pub programme: ProgrammeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgrammeArg {
    /// Work-accident insurance (Jaminan Kecelakaan Kerja).
    Jkk,
    /// Death insurance (Jaminan Kematian).
    Jkm,
}

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    // The funder's list has a NIK column and optionally the name and the first funded month (see README,
    // "Reconciling a list").
    #[command(flatten)]
    pub sheet: SheetArgs,

    /// A subsidy the list covers (its id); repeat for several subsidies of one funder covered by one list.
    #[arg(long = "subsidy", value_name = "ID", required = true)]
    pub subsidies: Vec<String>,

    /// The month considered, `YYYY-MM`. Default: the current month (WIB).
    #[arg(long)]
    pub month: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Follows `FeedService.Subscribe`, printing one JSON line per event (proto3 JSON of `FeedEvent`) to standard
    /// output. With `--position`, the last position is kept in that file after every event, so that a restart
    /// resumes after it.
    Follow(FollowArgs),
}

#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// File keeping the last position processed: read at the start (absent or empty: from the feed's beginning),
    /// rewritten after every event.
    #[arg(long)]
    pub position: Option<PathBuf>,

    /// Stops once the server says every event up to its head has been sent, instead of following new events.
    #[arg(long)]
    pub until_caught_up: bool,
}

/// Where the PostgreSQL store is. Every option is global: `lindung --data-dir X agency list` and
/// `lindung agency list --data-dir X` mean the same.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// PostgreSQL connection URL. When absent, lindung runs its own private PostgreSQL in `--data-dir`.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,

    /// Directory for lindung's own files: the embedded PostgreSQL cluster (when no DATABASE_URL is given) and the
    /// generated pseudonym key. It must be reachable by the `postgres` system user when lindung runs as root.
    #[arg(long, global = true, env = "LINDUNG_DATA_DIR", default_value = ".lindung")]
    pub data_dir: PathBuf,

    /// Directory holding the PostgreSQL server binaries (initdb, postgres) for the embedded store; found
    /// automatically under /usr/lib/postgresql when absent.
    #[arg(long, global = true, env = "LINDUNG_PG_BIN_DIR")]
    pub pg_bin_dir: Option<PathBuf>,

    /// Maximum connections in the pool; by default 4 per CPU available, between 8 and 64.
    #[arg(long, global = true, env = "LINDUNG_DB_MAX_CONNECTIONS", default_value_t = default_pool_size())]
    pub db_max_connections: u32,

    /// Longest any one SQL statement may run, e.g. `60s`; a statement cut off is answered UNAVAILABLE with a retry
    /// delay. A transaction left idle this long is ended too, so that no lock outlives a stuck client.
    #[arg(long, global = true, env = "LINDUNG_DB_STATEMENT_TIMEOUT", default_value = "60s",
          value_parser = parse_duration)]
    pub db_statement_timeout: Duration,
}

/// What `lindung bench` loads and measures. The store is a fresh database: on DATABASE_URL's server if given,
/// otherwise an embedded PostgreSQL in a temporary directory, removed afterwards.
#[derive(Debug, Clone, Args)]
pub struct BenchConfig {
    /// Workers in the store, each enrolled, billed for one month and paid.
    #[arg(long, default_value_t = 1_000_000)]
    pub workers: u64,
    /// Several sizes, a whole run each (e.g. `100000,1000000,10000000`), and a last table of how figures grow.
    #[arg(long, value_delimiter = ',', conflicts_with = "workers")]
    pub sizes: Vec<u64>,
    /// Calls at each level of concurrent callers, for VerifyCoverage and for each floor.
    #[arg(long, default_value_t = 20_000)]
    pub calls: u64,
    /// Checks sent through VerifyCoverageStream (default: the size, at most 1,000,000).
    #[arg(long)]
    pub checks: Option<u64>,
    /// New workers enrolled through SubmitEnrollments (default: the size, at most 1,000,000).
    #[arg(long)]
    pub enroll: Option<u64>,
    /// Seconds of VerifyCoverage measured right after the bulk enrollment, in windows of a sixth each.
    #[arg(long, default_value_t = 60)]
    pub after_load_secs: u64,
    /// A tiny run that only proves the program works (CI): 2,000 workers and a few hundred calls.
    #[arg(long)]
    pub smoke: bool,
    /// Also write the tables, in Markdown, to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Internal: serve the floors (a bare primary-key lookup and a no-op handler) on this address and exit on
    /// stdin's end; `lindung bench` starts itself so.
    #[arg(long, hide = true)]
    pub serve_floors: Option<SocketAddr>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoConfig {
    /// Seed of the synthetic workers: the same seed gives the same names, NIKs and figures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after the summary instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Replay the story against this running server instead of starting one; the three agencies' keys are then
    /// needed (`--city-key`, `--province-key`, `--insurer-key`). The figures are the story's on a fresh store.
    #[arg(long, env = "LINDUNG_SERVER")]
    pub server: Option<String>,
    /// With `--server`: the key of the city (Kota Bogor, region 32.71).
    #[arg(long, env = "LINDUNG_DEMO_CITY_KEY", hide_env_values = true, value_parser = secret, requires = "server")]
    pub city_key: Option<SecretString>,
    /// With `--server`: the key of the province (Jawa Barat, region 32).
    #[arg(long, env = "LINDUNG_DEMO_PROVINCE_KEY", hide_env_values = true, value_parser = secret,
          requires = "server")]
    pub province_key: Option<SecretString>,
    /// With `--server`: the key of the insurer.
    #[arg(long, env = "LINDUNG_DEMO_INSURER_KEY", hide_env_values = true, value_parser = secret,
          requires = "server")]
    pub insurer_key: Option<SecretString>,
    /// With an `https://` `--server`: PEM file of the authority that signed its certificate.
    #[arg(long, requires = "server")]
    pub ca_cert: Option<PathBuf>,
    #[command(flatten)]
    pub serve: ServeConfig,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on: gRPC over HTTP/2, and the JSON face and gRPC-Web over HTTP/1.1 and HTTP/2 on the same
    /// port. Plaintext: put a TLS-terminating proxy in front when it is reached beyond this machine.
    #[arg(long, env = "LINDUNG_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// PEM file of the server's TLS certificate chain (TLS 1.3 only); with `--tls-key`. SIGHUP re-reads it, the key
    /// and `--client-ca`, without a restart.
    #[arg(long, env = "LINDUNG_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM file of the server's TLS private key.
    #[arg(long, env = "LINDUNG_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// PEM file of the deployment CA that agencies' client certificates must chain to (mutual TLS). A verified
    /// certificate recorded by `lindung agency issue-cert` authenticates its agency; it is optional while API keys
    /// are accepted, required with `--api-keys disabled`.
    #[arg(long, env = "LINDUNG_CLIENT_CA", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,

    /// Whether a bearer API key authenticates a call; `disabled` accepts client certificates only (needs
    /// `--client-ca`).
    #[arg(long, env = "LINDUNG_API_KEYS", value_enum, default_value_t = ApiKeys::Enabled)]
    pub api_keys: ApiKeys,

    /// Serves plaintext on a non-loopback `--listen` address: for development only, never in production.
    #[arg(long, env = "LINDUNG_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,

    /// Secret key (64 hex digits) for the keyed hash that stands for a NIK in the audit log. Every lindung process
    /// of one deployment must share it. When absent, a key is generated once and kept in `--data-dir`.
    #[arg(long, env = "LINDUNG_PSEUDONYM_KEY", hide_env_values = true, value_parser = secret)]
    pub pseudonym_key: Option<SecretString>,

    /// The server's Ed25519 signing key (64 hex digits, the private seed), which signs audit checkpoints and
    /// coverage attestations. When absent, a key is generated once and kept in `--data-dir`. A new key is a
    /// rotation: what older keys signed still verifies, as every key used is kept in the store.
    #[arg(long, env = "LINDUNG_SIGNING_KEY", hide_env_values = true, value_parser = secret)]
    pub signing_key: Option<SecretString>,

    #[command(flatten)]
    pub data_keys: DataKeyArgs,

    /// Largest request or response message, in bytes.
    #[arg(long, env = "LINDUNG_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Longest time a call may run when the client sets no deadline, e.g. `30s`, `2m`.
    #[arg(long, env = "LINDUNG_DEFAULT_TIMEOUT", default_value = "10m", value_parser = parse_duration)]
    pub default_timeout: Duration,

    /// How long in-flight calls may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "LINDUNG_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Connections open at once; more are closed as they arrive (each holds a file descriptor).
    #[arg(long, env = "LINDUNG_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Time a new connection has to send the HTTP/2 preface before it is closed, e.g. `10s`.
    #[arg(long, env = "LINDUNG_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,

    /// Where Prometheus scrapes lindung's figures (`http://ADDR/metrics`): call durations by method, status and
    /// agency, the store pool, the audit and feed backlogs. Off when absent.
    #[arg(long, env = "LINDUNG_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Calls one agency may start per second, sustained (RESOURCE_EXHAUSTED with `RetryInfo` above it); 0: no rate
    /// limit. A stream is one call however many rows it carries.
    #[arg(long, env = "LINDUNG_AGENCY_CALLS_PER_SECOND", default_value_t = 1_000)]
    pub agency_calls_per_second: u32,

    /// Calls one agency may start at once above its rate after a quiet spell.
    #[arg(long, env = "LINDUNG_AGENCY_BURST", default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub agency_burst: u32,

    /// Unary calls one agency may have in flight; more wait in its queue.
    #[arg(long, env = "LINDUNG_AGENCY_MAX_CALLS", default_value_t = 64, value_parser = at_least_one)]
    pub agency_max_calls: usize,

    /// Bulk calls (the client-streaming RPCs, StreamPendingEnrollments, IssueBill) one agency may have in flight, so
    /// that its bulk load leaves the store to its own and other agencies' unary calls.
    #[arg(long, env = "LINDUNG_AGENCY_MAX_BULK", default_value_t = 4, value_parser = at_least_one)]
    pub agency_max_bulk: usize,

    /// Feed subscriptions one agency may hold open.
    #[arg(long, env = "LINDUNG_AGENCY_MAX_SUBSCRIPTIONS", default_value_t = 16, value_parser = at_least_one)]
    pub agency_max_subscriptions: usize,

    /// Calls that may wait for a place when an agency's unary calls are all in flight (bulk calls: an eighth as
    /// many, at least one); past it, or after `--agency-queue-wait`, a call is refused RESOURCE_EXHAUSTED.
    #[arg(long, env = "LINDUNG_AGENCY_QUEUE", default_value_t = 512)]
    pub agency_queue: usize,

    /// Longest a call waits in its agency's queue, e.g. `5s`.
    #[arg(long, env = "LINDUNG_AGENCY_QUEUE_WAIT", default_value = "5s", value_parser = parse_duration)]
    pub agency_queue_wait: Duration,

    /// How often an event-feed subscriber receives a heartbeat with the feed's head, e.g. `15s`: silence longer than
    /// this means a broken stream.
    #[arg(long, env = "LINDUNG_FEED_HEARTBEAT", default_value = "15s", value_parser = parse_duration)]
    pub feed_heartbeat: Duration,

    /// Log format.
    #[arg(long, env = "LINDUNG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// How often committed audit records are sealed into the hash chain, e.g. `1s`.
    #[arg(long, env = "LINDUNG_AUDIT_SEAL_EVERY", default_value = "1s", value_parser = parse_duration)]
    pub audit_seal_every: Duration,

    /// Most audit records in one sealed batch (one Merkle tree, one transaction).
    #[arg(long, env = "LINDUNG_AUDIT_SEAL_BATCH", default_value_t = 10_000,
          value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub audit_seal_batch: i64,

    /// How often the audit chain's head is signed with the server's key (a checkpoint), e.g. `60s`.
    #[arg(long, env = "LINDUNG_AUDIT_CHECKPOINT_EVERY", default_value = "60s", value_parser = parse_duration)]
    pub audit_checkpoint_every: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiKeys {
    Enabled,
    Disabled,
}

impl ServeConfig {
    /// Each agency's limits, from the `--agency-*` options.
    pub fn limit_settings(&self) -> crate::limits::LimitSettings {
        use crate::limits::{InFlight, LimitSettings};
        LimitSettings {
            calls_per_second: std::num::NonZeroU32::new(self.agency_calls_per_second),
            burst: std::num::NonZeroU32::new(self.agency_burst).unwrap_or(std::num::NonZeroU32::MIN),
            unary: InFlight { running: self.agency_max_calls, waiting: self.agency_queue },
            bulk: InFlight { running: self.agency_max_bulk, waiting: (self.agency_queue / 8).max(1) },
            // A subscriber that cannot get a place tries again later; it never waits holding a connection.
            subscriptions: InFlight { running: self.agency_max_subscriptions, waiting: 0 },
            queue_wait: self.agency_queue_wait,
        }
    }

    /// The TLS files, checked against each other and against `--listen`: plaintext beyond loopback needs
    /// `--insecure-plaintext`, and disabled API keys need client certificates.
    pub fn tls_files(&self) -> Result<Option<crate::tls::TlsFiles>, String> {
        let keys_disabled = self.api_keys == ApiKeys::Disabled;
        if keys_disabled && self.client_ca.is_none() {
            return Err("--api-keys disabled needs --client-ca (agencies then authenticate by certificate)".into());
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(crate::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.client_ca.clone(),
                client_cert_required: keys_disabled,
            })),
            _ if self.listen.ip().is_loopback() || self.insecure_plaintext => Ok(None),
            _ => Err(format!(
                "--listen {} is not a loopback address: give --tls-cert and --tls-key, or --insecure-plaintext for \
                 development",
                self.listen
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// Registers an agency and prints its first API key (shown once, never stored in clear).
    Add {
        #[arg(long, value_enum)]
        kind: AgencyKindArg,
        /// The governed area: a regency code for a city (e.g. 32.71), a province code for a province (e.g. 32);
        /// none for the insurer.
        #[arg(long)]
        region: Option<String>,
        /// Name of the agency, unique, e.g. "Pemerintah Kota Bogor".
        #[arg(long)]
        name: String,
    },
    /// Issues a further API key for an existing agency (for key rotation).
    IssueKey {
        /// The agency's name.
        #[arg(long)]
        name: String,
    },
    /// Revokes an API key, given the prefix shown by `agency list` or the whole key.
    RevokeKey {
        #[arg(long)]
        key_prefix: String,
    },
    /// Lists agencies and their keys (prefixes only).
    List,
    /// Issues a client certificate for an agency from the deployment CA (`lindung ca init`): writes
    /// `DIR/agency.pem` and `DIR/agency.key` and records the certificate's public key (its SPKI SHA-256) for the
    /// agency.
    IssueCert {
        /// The agency's id or name.
        #[arg(long)]
        agency: String,
        /// The directory `lindung ca init` wrote (`ca.pem`, `ca.key`).
        #[arg(long)]
        ca: PathBuf,
        /// Where the certificate and its key are written.
        #[arg(long)]
        out: PathBuf,
        /// Days the certificate is valid.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Revokes a client certificate by its SPKI SHA-256 (as `issue-cert` printed it), or every certificate of an
    /// agency; running servers refuse it on its next call.
    RevokeCert {
        /// The SPKI SHA-256, 64 hex digits.
        #[arg(long, required_unless_present = "agency", conflicts_with = "agency")]
        spki: Option<String>,
        /// The agency's id or name: all its certificates.
        #[arg(long)]
        agency: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Makes a deployment CA (`DIR/ca.pem`, `DIR/ca.key`, the key readable by its owner only); with `--server-name`,
    /// also the server's certificate (`DIR/server.pem`, `DIR/server.key`) for `serve --tls-cert --tls-key`.
    Init {
        #[arg(long)]
        out: PathBuf,
        /// A DNS name or IP address of the server; repeat for several.
        #[arg(long = "server-name")]
        server_names: Vec<String>,
        /// Days the CA is valid.
        #[arg(long, default_value_t = 3650)]
        days: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AttestationCommand {
    /// Checks an attestation's signature offline and prints its claims; exits non-zero when it does not verify or
    /// has expired. With `--keys`, needs neither the store nor the server.
    Verify {
        /// The attestation (the JWS VerifyCoverage returned), or `-` for standard input.
        file: PathBuf,
        /// The keys it may be signed with: a JWK Set as `AttestationService.ListSigningKeys` returns in `jwks`.
        /// When absent, the keys recorded in the store (see the store options) are used.
        #[arg(long, env = "LINDUNG_ATTESTATION_KEYS")]
        keys: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks the whole audit chain: every record against its sealed hash, every batch's Merkle root and chain
    /// link, no position missing or extra, and every checkpoint's signature. Names the first record changed,
    /// removed or inserted and exits with status 1.
    Verify {
        /// Trust only this Ed25519 public key (64 hex digits, or the JWK's base64url `x`) for checkpoints, instead
        /// of the keys the store lists.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Client command for a running server: fetches the proof that one audit record is in the signed chain
    /// (`AuditService.GetInclusionProof`) and checks it here, record to leaf to batch root to chain to the
    /// checkpoint's Ed25519 signature. Exits with status 1 when the proof does not hold.
    Prove(ProveArgs),
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("record").required(true).args(["position", "id"])))]
pub struct ProveArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The record's position in the chain (`seq`, from 0).
    #[arg(long)]
    pub position: Option<i64>,

    /// The record's id, as `AuditService.ListAuditRecords` shows it.
    #[arg(long)]
    pub id: Option<i64>,

    /// Trust only this Ed25519 public key (64 hex digits, or the JWK's base64url `x`) for the checkpoint, instead of
    /// the keys the server lists (`AttestationService.ListSigningKeys`).
    #[arg(long)]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportDeathArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The worker's NIK (16 digits).
    #[arg(long)]
    pub nik: String,

    /// The date of death, `YYYY-MM-DD`.
    #[arg(long)]
    pub date: String,

    /// The death certificate (akta kematian) number.
    #[arg(long)]
    pub certificate: String,
}

#[derive(Debug, Subcommand)]
pub enum BillsCommand {
    /// Lists a subsidy's bills, oldest month first: billed, paid, outstanding and how each stands.
    List(ListBillsArgs),
    /// Issues the bill of a subsidy for a month (insurer). Issuing again adds only adjustment lines for enrollments
    /// that changed since, so a resend is safe.
    Issue(IssueBillArgs),
    /// Records a payment to a subsidy (its funder). The reference is the key: sending the same payment again
    /// records nothing new.
    Pay(PayBillArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ListBillsArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The subsidy's id.
    #[arg(long)]
    pub subsidy: String,

    /// Only the bill of this month, `YYYY-MM`.
    #[arg(long)]
    pub month: Option<String>,

    /// Prints the answer as proto3 JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct IssueBillArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The subsidy's id.
    #[arg(long)]
    pub subsidy: String,

    /// The month billed, `YYYY-MM`, inside the subsidy's period.
    #[arg(long)]
    pub month: String,
}

#[derive(Debug, Clone, Args)]
pub struct PayBillArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The subsidy's id.
    #[arg(long)]
    pub subsidy: String,

    /// The amount transferred, in rupiah: digits, with at most 2 decimals (`16800`, `16800.50`); no separators.
    #[arg(long)]
    pub amount: String,

    /// The day of the transfer, `YYYY-MM-DD`, not in the future.
    #[arg(long)]
    pub paid_on: String,

    /// The transfer's reference (e.g. the SP2D number), unique per subsidy: what makes a resend safe.
    #[arg(long)]
    pub reference: String,
}

#[derive(Debug, Subcommand)]
pub enum ClaimsCommand {
    /// Files a JKM death claim (insurer), recording the death if it was not reported yet; prints the claim's id on
    /// standard output. Sending the same command again answers the same claim.
    File(FileClaimArgs),
    /// Shows a claim: status, breakdown of the benefit, documents (heirs for the insurer).
    Show(ClaimShowArgs),
    /// Polls a claim and prints each change of status, until it is paid or rejected.
    Follow(ClaimFollowArgs),
    /// Lists the claims the caller may see, newest first.
    List(ListClaimsArgs),
    /// Computes the benefit's breakdown from the rules and the contribution period (insurer).
    Assess(ClaimIdArgs),
    /// Approves an assessed claim (insurer).
    Approve(ClaimIdArgs),
    /// Rejects a claim that is not paid, with a reason code (insurer).
    Reject(RejectClaimArgs),
    /// Records the payment of an approved claim (insurer). The same reference again is safe: a claim is never paid
    /// twice.
    Pay(PayClaimArgs),
}

#[derive(Debug, Clone, Args)]
pub struct FileClaimArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The worker's NIK (16 digits).
    #[arg(long)]
    pub nik: String,

    /// The date of death, `YYYY-MM-DD`.
    #[arg(long)]
    pub death_date: String,

    /// The death certificate (akta kematian) number; needed unless the death was reported already.
    #[arg(long)]
    pub certificate: Option<String>,

    /// The heir's full name.
    #[arg(long)]
    pub heir_name: String,

    /// The heir's NIK, when known.
    #[arg(long)]
    pub heir_nik: Option<String>,

    /// How the heir is related to the worker (only heirs of the first group present may be named).
    #[arg(long, value_enum)]
    pub heir_relationship: RelationshipArg,

    /// The bank the benefit is paid to, e.g. `BRI`.
    #[arg(long)]
    pub bank: String,

    /// The heir's account number at that bank.
    #[arg(long)]
    pub account: String,

    /// The documents of the checklist present, by number or name, comma-separated (e.g. `1,2,3,4,5,6,7,8`).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub documents: Vec<DocumentArg>,

    /// The request id that makes a resend safe; by default one derived from the NIK and the date of death.
    #[arg(long)]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ClaimIdArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The claim's id.
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct ClaimShowArgs {
    #[command(flatten)]
    pub claim: ClaimIdArgs,

    /// Prints the answer as proto3 JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ClaimFollowArgs {
    #[command(flatten)]
    pub claim: ClaimIdArgs,

    /// Time between two looks, e.g. `30s`, `5m`.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub interval: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct ListClaimsArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// Only claims in this status.
    #[arg(long, value_enum)]
    pub status: Option<ClaimStatusArg>,

    /// Only the claims of this worker (NIK).
    #[arg(long)]
    pub nik: Option<String>,

    /// Only complete JKM claims unpaid 3 working days after they became complete.
    #[arg(long)]
    pub overdue: bool,

    /// Prints the answer as proto3 JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RejectClaimArgs {
    #[command(flatten)]
    pub claim: ClaimIdArgs,

    /// A stable reason code, e.g. `NOT_COVERED`, `DOCUMENTS_INVALID`, `FRAUD`.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Clone, Args)]
pub struct PayClaimArgs {
    #[command(flatten)]
    pub claim: ClaimIdArgs,

    /// The insurer's transfer reference, unique across claims.
    #[arg(long)]
    pub reference: String,

    /// The day of the transfer, `YYYY-MM-DD`, not in the future.
    #[arg(long)]
    pub paid_on: String,
}

/// An heir's relationship to the worker, in the order of R2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RelationshipArg {
    Spouse,
    Child,
    Parent,
    Grandparent,
    Grandchild,
    Sibling,
    ParentInLaw,
    WillBeneficiary,
}

/// A document of the R2.6 checklist, by name or by its number in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentArg {
    #[value(alias = "1")]
    ParticipantCard,
    #[value(alias = "2")]
    ParticipantIdCard,
    #[value(alias = "3")]
    HeirIdCard,
    #[value(alias = "4")]
    DeathCertificate,
    #[value(alias = "5")]
    FamilyCard,
    #[value(alias = "6")]
    HeirCertificate,
    #[value(alias = "7")]
    MarriageBook,
    #[value(alias = "8")]
    HeirBankAccount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClaimStatusArg {
    Notice,
    Filed,
    Assessed,
    Approved,
    Rejected,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgencyKindArg {
    City,
    Province,
    Insurer,
}

#[derive(Debug, Subcommand)]
pub enum EnrollmentsCommand {
    /// Funder: enrolls the NIKs of a CSV or XLSX file into one of its subsidies and writes a result file with one
    /// line per row. Re-running the same file is safe: its rows keep their request ids, and the server answers each
    /// as it did the first time.
    Submit(SubmitArgs),
    /// Insurer: writes the pending enrollments to a CSV or XLSX file, with empty columns to fill in for
    /// `enrollments decide`: decision (confirm/terima or refuse/tolak), participant number, protection start,
    /// refusal reason, refusal detail.
    Pending(PendingArgs),
    /// Insurer: confirms or refuses the enrollments of a filled-in file (as `enrollments pending` wrote it) and
    /// writes a result file; rows without a decision are skipped. Re-running the same file is safe: the same decision
    /// again changes nothing.
    Decide(SheetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub sheet: SheetArgs,

    /// The caller's subsidy to enroll into (its id, as CreateSubsidy answered it).
    #[arg(long)]
    pub subsidy: String,

    /// First funded month, `YYYY-MM`, of the rows whose first-month cell is empty or missing.
    #[arg(long)]
    pub first_month: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PendingArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The file to write: `.xlsx` (NIKs kept as text) or `.csv`.
    #[arg(long)]
    pub out: PathBuf,
}

/// A count of at least one.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a whole number of at least 1")),
    }
}

/// The data key ring: the key that seals, and the retired ones that still open what they sealed.
#[derive(Debug, Clone, Args)]
pub struct DataKeyArgs {
    /// The data key that seals specific personal data at rest: 64 hex digits, or a file holding them. Every lindung
    /// process of one deployment must share it. When absent, the key derived from the pseudonym key (id 00000000)
    /// seals, as before data keys were configurable.
    #[arg(long, env = "LINDUNG_DATA_KEY", hide_env_values = true, value_parser = secret)]
    pub data_key: Option<SecretString>,

    /// Retired data keys, comma-separated, each 64 hex digits, a file holding them, or `derived` (the key derived
    /// from the pseudonym key): they open what they sealed until `lindung keys rotate` has re-sealed it.
    #[arg(long, env = "LINDUNG_PREVIOUS_DATA_KEYS", hide_env_values = true, value_parser = secret,
          value_delimiter = ',')]
    pub previous_data_keys: Vec<SecretString>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seals every sealed value not under the current data key, while servers run: in batches, one transaction
    /// each, skipping rows a call holds and coming back for them. Safe to stop and run again; a second run re-seals
    /// nothing.
    Rotate(RotateArgs),
    /// Counts the sealed values under each data key id: a previous key may leave the configuration once it seals
    /// none.
    Status(KeyRingArgs),
    /// Prints a new random data key (64 hex digits) and its id, for `--data-key`.
    Generate,
}

/// The key ring as `lindung serve` is given it.
#[derive(Debug, Clone, Args)]
pub struct KeyRingArgs {
    /// The pseudonym key, as given to `lindung serve` (the derived data key comes from it); when absent, the one
    /// kept in `--data-dir`.
    #[arg(long, env = "LINDUNG_PSEUDONYM_KEY", hide_env_values = true, value_parser = secret)]
    pub pseudonym_key: Option<SecretString>,

    #[command(flatten)]
    pub data_keys: DataKeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub ring: KeyRingArgs,

    /// Claims re-sealed in one transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub batch_size: i64,
}

/// Parses `500ms`, `30s`, `10m`, `1h`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = number.parse().map_err(|_| format!("{s:?} is not a duration like 30s, 10m or 500ms"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("{s:?} has an unknown unit: use ms, s, m or h")),
    }
}

/// A secret from the command line or the environment (a database URL may hold a password): printed as redacted by
/// `Debug`, so that no configuration dump or error report shows it.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_units() {
        for (input, expected) in [
            ("500ms", Some(500)),
            ("30s", Some(30_000)),
            ("10m", Some(600_000)),
            ("1h", Some(3_600_000)),
            ("7", Some(7000)),
            ("5d", None),
            ("s", None),
        ] {
            assert_eq!(parse_duration(input).ok().map(|d| d.as_millis() as u64), expected, "{input}");
        }
    }

    #[test]
    fn the_default_agency_limits_are_the_serve_defaults() {
        let cli = Cli::try_parse_from(["lindung", "serve"]).unwrap();
        let Command::Serve(config) = cli.command else { panic!("serve") };
        assert_eq!(config.limit_settings(), crate::limits::LimitSettings::default());
        let cli = Cli::try_parse_from(["lindung", "serve", "--agency-calls-per-second", "0"]).unwrap();
        let Command::Serve(config) = cli.command else { panic!("serve") };
        assert_eq!(config.limit_settings().calls_per_second, None, "0 turns the rate limit off");
        assert!(Cli::try_parse_from(["lindung", "serve", "--agency-max-calls", "0"]).is_err());
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let url = "postgres://lindung:hunter2-s3cret@db.example:5432/lindung";
        let key = "ab".repeat(32);
        let cli = Cli::try_parse_from(["lindung", "--database-url", url, "serve", "--pseudonym-key", &key]).unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2-s3cret") && !shown.contains(&key), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }

    #[test]
    fn data_keys_are_redacted_and_previous_ones_are_a_list() {
        let (current, old) = ("cd".repeat(32), "ef".repeat(32));
        let previous = format!("{old},derived");
        let cli = Cli::try_parse_from(["lindung", "serve", "--data-key", &current, "--previous-data-keys", &previous])
            .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains(&current) && !shown.contains(&old), "{shown}");
        let Command::Serve(serve) = cli.command else { panic!("serve") };
        assert_eq!(serve.data_keys.previous_data_keys.len(), 2);
    }

    #[test]
    fn store_options_go_before_or_after_the_subcommand() {
        for args in [
            &["lindung", "--data-dir", "/x", "agency", "list"][..],
            &["lindung", "agency", "--data-dir", "/x", "list"],
            &["lindung", "agency", "list", "--data-dir", "/x"],
            &["lindung", "serve", "--data-dir", "/x"],
            &["lindung", "--data-dir", "/x", "migrate"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.store.data_dir, PathBuf::from("/x"), "{args:?}");
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
