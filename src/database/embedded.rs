//! Runs lindung's own private PostgreSQL when no `DATABASE_URL` is given.
//!
//! The instance lives in a directory lindung owns (`<dir>/pg` holds the cluster, `<dir>` the
//! Unix socket and `postgres.log`), listens on no TCP port so any number of instances can run
//! side by side, and is reused across restarts. The API is synchronous so that a test harness
//! can hold an instance in a `OnceLock`; async callers go through `spawn_blocking`.
//!
//! Once an instance has accepted connections, its supervisor thread restarts it whenever its
//! postmaster dies (killed, or crashed), after the dead cluster's last processes are gone and
//! with exponential back-off: [`RESTART_BACKOFF_FIRST`] doubling to [`RESTART_BACKOFF_MAX`], back
//! to the first after a run of [`RESTART_STABLE_RUN`]. Each exit is logged, and announced to
//! [`unexpected_exits`] so that health can say NOT_SERVING at once.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{Pid, User, geteuid};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

const PORT: u16 = 5432;
const SOCKET_NAME: &str = ".s.PGSQL.5432";
/// `sun_path` is 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Grace periods for the escalation after a fast shutdown timed out.
const ESCALATION_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a live postgres gets to show it is shutting down before we call the directory taken.
const SHUTDOWN_NOTICE: Duration = Duration::from_secs(2);
const POLL_INTERVAL: Duration = Duration::from_millis(25);
const LOG_TAIL_LINES: usize = 30;
/// Delay before the first restart of a postmaster that died: short, since the cluster's last
/// processes are already gone when it starts.
pub const RESTART_BACKOFF_FIRST: Duration = Duration::from_millis(250);
/// The longest delay between restarts of a postmaster that keeps dying.
pub const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A run at least this long resets the back-off to its first delay.
pub const RESTART_STABLE_RUN: Duration = Duration::from_secs(60);
/// How long a dead postmaster's backends get to notice and exit before a restart is tried anyway
/// (while they hold its shared memory, a new postmaster refuses to start).
const ORPHAN_TIMEOUT: Duration = Duration::from_secs(10);
const DEBIAN_INSTALL_ROOT: &str = "/usr/lib/postgresql";
/// Client and server variables that would otherwise redirect our children elsewhere.
const IGNORED_ENV: &[&str] = &["PGDATA", "PGHOST", "PGHOSTADDR", "PGPORT", "PGOPTIONS"];

/// Where and how to run the private instance.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Directory lindung owns; created if missing. Must be short: the socket lives in it.
    pub dir: PathBuf,
    /// Directory holding `postgres`, `initdb` and `pg_isready`; `None` searches for it.
    pub bin_dir: Option<PathBuf>,
    /// Unprivileged user to run PostgreSQL as, consulted only when running as root
    /// because PostgreSQL refuses to run as root.
    pub run_as: String,
    /// Off only where losing data on a crash is fine (tests), for speed.
    pub fsync: bool,
}

impl EmbeddedOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        EmbeddedOptions { dir: dir.into(), bin_dir: None, run_as: "postgres".to_owned(), fsync: true }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries not found ({searched}); install the PostgreSQL server \
         or name the directory holding `postgres` and `initdb` explicitly"
    )]
    BinariesNotFound { searched: String },
    #[error(
        "the Unix socket path {socket} is {len} bytes, longer than the {MAX_SOCKET_PATH} \
         the OS allows; choose a shorter --data-dir"
    )]
    SocketPathTooLong { socket: PathBuf, len: usize },
    #[error("cannot run PostgreSQL as root and the system user {user:?} to run it as does not exist")]
    UnknownUser { user: String },
    #[error(
        "PostgreSQL runs as user {user:?}, which cannot enter {blocked} on the way to {dir}; \
         make it world-searchable (chmod o+x) or choose a --data-dir under /var/lib or /tmp"
    )]
    Untraversable { user: String, blocked: PathBuf, dir: PathBuf },
    #[error("data directory {dir} is in use by pid {pid}; stop that server or choose another --data-dir")]
    InUse { dir: PathBuf, pid: u32 },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("initdb failed for {data} ({status}):\n{output}")]
    Initdb { data: PathBuf, status: ExitStatus, output: String },
    #[error("postgres exited during startup ({status}); last lines of {log}:\n{tail}")]
    ExitedEarly { status: String, log: PathBuf, tail: String },
    #[error(
        "postgres did not accept connections within {}s; last lines of {log}:\n{tail}",
        START_TIMEOUT.as_secs()
    )]
    StartTimeout { log: PathBuf, tail: String },
    #[error("postgres (pid {pid}) survived SIGINT, SIGQUIT and SIGKILL")]
    StopTimeout { pid: u32 },
}

/// A running private PostgreSQL; stopped by [`EmbeddedPostgres::stop`] or on drop.
pub struct EmbeddedPostgres {
    dir: PathBuf,
    shared: Arc<Shared>,
    supervisor: Option<Supervisor>,
}

/// The thread that forks postgres (again after each unexpected exit) and returns its last exit
/// status. It must outlive postgres: `PR_SET_PDEATHSIG` fires when the forking *thread* exits. A
/// `JoinHandle` rather than a channel keeps `EmbeddedPostgres` `Sync`, as a `static OnceLock`
/// requires.
type Supervisor = JoinHandle<io::Result<ExitStatus>>;

/// What the supervisor thread and the owner share.
struct Shared {
    /// Socket directory of the instance: the key [`unexpected_exits`] is asked by.
    dir: PathBuf,
    state: Mutex<Supervision>,
    /// Wakes a supervisor waiting out its back-off when the owner stops the instance.
    stopped: Condvar,
    /// Counts the postmaster's unexpected exits.
    exits: tokio::sync::watch::Sender<u64>,
}

struct Supervision {
    /// The running postmaster, unreaped (so never a reused pid); 0 while there is none.
    pid: u32,
    /// The owner is stopping the instance: no more restarts.
    stopping: bool,
    /// The instance accepted connections once: from now on an exit is restarted, not reported.
    restarts: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Supervision> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Instances supervised by this process, by socket directory.
static SUPERVISED: Mutex<Vec<Arc<Shared>>> = Mutex::new(Vec::new());

/// Announces each unexpected exit of the postmaster of the embedded instance this process runs
/// with its socket in `socket_dir`, or `None` if it runs none there (an external server).
pub fn unexpected_exits(socket_dir: &Path) -> Option<tokio::sync::watch::Receiver<u64>> {
    let dir = fs::canonicalize(socket_dir).ok()?;
    let supervised = SUPERVISED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    supervised.iter().find(|shared| shared.dir == dir).map(|shared| shared.exits.subscribe())
}

/// The account PostgreSQL runs under when we are root.
#[derive(Debug, Clone)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

impl EmbeddedPostgres {
    /// Starts (and on first use creates) the cluster, returning once it accepts connections.
    pub fn start(options: EmbeddedOptions) -> Result<EmbeddedPostgres, EmbeddedError> {
        let began = Instant::now();
        fs::create_dir_all(&options.dir).map_err(io_error("create", &options.dir))?;
        let dir = fs::canonicalize(&options.dir).map_err(io_error("resolve", &options.dir))?;
        check_socket_path(&dir)?;
        let data = dir.join("pg");
        refuse_if_in_use(&dir, &data)?;

        let account = if geteuid().is_root() { Some(lookup_account(&options.run_as)?) } else { None };
        let bin = find_bin_dir(options.bin_dir.as_deref(), &data)?;

        // Trust authentication makes the socket the only gate, so keep the directory private.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(io_error("restrict permissions of", &dir))?;
        let log_path = dir.join("postgres.log");
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(io_error("open", &log_path))?;
        if let Some(account) = &account {
            check_traversable(&dir, account)?;
            chown_tree(&dir, account)?;
        }

        if !data.join("PG_VERSION").exists() {
            initdb(&bin, &dir, &data, account.as_ref(), &mut log)?;
        }
        let initialised = began.elapsed();

        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let command = postgres_command(&bin, &dir, &data, account.as_ref(), options.fsync, log)?;
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            state: Mutex::new(Supervision { pid: 0, stopping: false, restarts: false }),
            stopped: Condvar::new(),
            exits: tokio::sync::watch::Sender::new(0),
        });
        let (pid, supervisor) = supervise(command, &bin, &data, Arc::clone(&shared))?;
        let mut server = EmbeddedPostgres { dir, shared, supervisor: Some(supervisor) };
        // On failure `server` is dropped, which stops the half-started postgres.
        server.wait_until_ready(&bin, &log_path, log_start)?;
        server.shared.lock().restarts = true;
        SUPERVISED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Arc::clone(&server.shared));
        tracing::info!(
            pid,
            dir = %server.dir.display(),
            setup_ms = initialised.as_millis() as u64,
            total_ms = began.elapsed().as_millis() as u64,
            "embedded PostgreSQL is ready"
        );
        Ok(server)
    }

    /// Options to connect as superuser `postgres` to database `postgres` over the Unix socket.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.dir)
            .port(PORT)
            .username("postgres")
            .database("postgres")
            .ssl_mode(PgSslMode::Disable)
    }

    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The running postmaster's pid; 0 while a dead one waits to be restarted.
    pub fn pid(&self) -> u32 {
        self.shared.lock().pid
    }

    /// Fast shutdown (SIGINT) that escalates to SIGQUIT, then SIGKILL; idempotent.
    pub fn stop(&mut self) -> Result<(), EmbeddedError> {
        let Some(supervisor) = self.supervisor.take() else {
            return Ok(());
        };
        SUPERVISED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|shared| !Arc::ptr_eq(shared, &self.shared));
        self.shared.lock().stopping = true;
        self.shared.stopped.notify_all();
        let mut last_pid = 0;
        let escalation = [
            (Signal::SIGINT, STOP_TIMEOUT),
            (Signal::SIGQUIT, ESCALATION_TIMEOUT),
            (Signal::SIGKILL, ESCALATION_TIMEOUT),
        ];
        for (signal, patience) in escalation {
            // Under the lock the supervisor has not reaped the child, so its pid cannot have been
            // reused; after `stopping` it forks no other.
            let state = self.shared.lock();
            if state.pid != 0 {
                last_pid = state.pid;
                if let Err(errno) = signal::kill(Pid::from_raw(state.pid as i32), signal)
                    && errno != Errno::ESRCH
                {
                    tracing::warn!(pid = state.pid, %signal, %errno, "cannot signal embedded PostgreSQL");
                }
            }
            drop(state);
            let deadline = Instant::now() + patience;
            while !supervisor.is_finished() && Instant::now() < deadline {
                thread::sleep(POLL_INTERVAL);
            }
            if supervisor.is_finished() {
                // The thread is done; whatever it returns changes nothing now.
                let _ = supervisor.join();
                return Ok(());
            }
            tracing::warn!(pid = last_pid, %signal, "embedded PostgreSQL did not stop in time");
        }
        // Leave the supervisor detached: joining could block forever on an unkillable child.
        Err(EmbeddedError::StopTimeout { pid: last_pid })
    }

    fn wait_until_ready(&mut self, bin: &Path, log_path: &Path, log_start: u64) -> Result<(), EmbeddedError> {
        let socket = self.dir.join(SOCKET_NAME);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(supervisor) = self.supervisor.take_if(|supervisor| supervisor.is_finished()) {
                let status = match supervisor.join() {
                    Ok(Ok(status)) => status.to_string(),
                    Ok(Err(error)) => format!("waiting for it failed: {error}"),
                    Err(_) => "its supervisor thread panicked".to_owned(),
                };
                return Err(EmbeddedError::ExitedEarly {
                    status,
                    log: log_path.to_owned(),
                    tail: log_tail(log_path, log_start),
                });
            }
            // The cheap socket probe keeps us from spawning pg_isready while postgres boots.
            if UnixStream::connect(&socket).is_ok() && is_ready(bin, &self.dir) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(EmbeddedError::StartTimeout {
                    log: log_path.to_owned(),
                    tail: log_tail(log_path, log_start),
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::error!(%error, "failed to stop embedded PostgreSQL");
        }
    }
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("dir", &self.dir)
            .field("pid", &self.pid())
            .field("running", &self.supervisor.is_some())
            .finish()
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> EmbeddedError {
    let path = path.to_owned();
    move |source| EmbeddedError::Io { action, path, source }
}

fn check_socket_path(dir: &Path) -> Result<(), EmbeddedError> {
    let socket = dir.join(SOCKET_NAME);
    let len = socket.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(EmbeddedError::SocketPathTooLong { socket, len });
    }
    Ok(())
}

/// Refuses a directory a live postgres serves, but waits for one that is shutting down: the
/// previous owner (say, the previous test binary) may have died a moment ago, and its postgres
/// needs a little time to notice the death signal and finish.
fn refuse_if_in_use(dir: &Path, data: &Path) -> Result<(), EmbeddedError> {
    let began = Instant::now();
    while let Some(pid) = live_postmaster(dir, data)? {
        let stopping = postmaster_status(data).as_deref() == Some("stopping");
        if began.elapsed() >= if stopping { STOP_TIMEOUT } else { SHUTDOWN_NOTICE } {
            return Err(EmbeddedError::InUse { dir: dir.to_owned(), pid });
        }
        thread::sleep(POLL_INTERVAL);
    }
    Ok(())
}

/// The pid of a live postgres serving `data`. Clears lock files whose pid now belongs to an
/// unrelated process (likely after a container restart), which postgres would refuse; lock
/// files naming a dead pid are left to postgres, which ignores them.
fn live_postmaster(dir: &Path, data: &Path) -> Result<Option<u32>, EmbeddedError> {
    let data = fs::canonicalize(data).unwrap_or_else(|_| data.to_owned());
    for lock in [data.join("postmaster.pid"), dir.join(format!("{SOCKET_NAME}.lock"))] {
        let Some(pid) = lock_file_pid(&lock) else {
            continue;
        };
        if is_postmaster_of(pid, &data) {
            return Ok(Some(pid));
        }
        if process_exists(pid) {
            tracing::warn!(lock = %lock.display(), pid, "removing stale lock file whose pid was reused");
            fs::remove_file(&lock).map_err(io_error("remove stale lock file", &lock))?;
        }
    }
    Ok(None)
}

/// Line 8 of `postmaster.pid`: "starting", "ready", "stopping" or "standby".
fn postmaster_status(data: &Path) -> Option<String> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    Some(text.lines().nth(7)?.trim().to_owned())
}

fn lock_file_pid(lock: &Path) -> Option<u32> {
    let text = fs::read_to_string(lock).ok()?;
    // A standalone backend records its pid negated.
    let pid = text.lines().next()?.trim().parse::<i64>().ok()?.unsigned_abs();
    u32::try_from(pid).ok().filter(|&pid| pid > 0)
}

/// Zombies count as gone: a dead postmaster may wait a while for a lax pid 1 to reap it.
fn process_exists(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if !matches!(signal::kill(Pid::from_raw(raw), None), Ok(()) | Err(Errno::EPERM)) {
        return false;
    }
    // The state follows the parenthesised command name, which may itself contain ')'.
    let state = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X'))
}

/// A postmaster chdirs into its data directory, which tells ours apart from any other.
fn is_postmaster_of(pid: u32, data: &Path) -> bool {
    if !process_exists(pid) {
        return false;
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(comm) = fs::read_to_string(proc_dir.join("comm")) else {
        // Without /proc we cannot tell, so err on the side of not clobbering a live server.
        return true;
    };
    if !matches!(comm.trim(), "postgres" | "postmaster") {
        return false;
    }
    match fs::read_link(proc_dir.join("cwd")) {
        Ok(cwd) => cwd == data,
        Err(error) => error.kind() == io::ErrorKind::PermissionDenied,
    }
}

fn lookup_account(name: &str) -> Result<Account, EmbeddedError> {
    let user =
        User::from_name(name).ok().flatten().ok_or_else(|| EmbeddedError::UnknownUser { user: name.to_owned() })?;
    Ok(Account { name: name.to_owned(), uid: user.uid.as_raw(), gid: user.gid.as_raw() })
}

/// Supplementary groups are dropped when postgres starts, so only the primary group counts.
fn check_traversable(dir: &Path, account: &Account) -> Result<(), EmbeddedError> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = fs::metadata(ancestor).map_err(io_error("inspect", ancestor))?;
        let mode = meta.mode();
        let searchable = mode & 0o001 != 0
            || (meta.uid() == account.uid && mode & 0o100 != 0)
            || (meta.gid() == account.gid && mode & 0o010 != 0);
        if !searchable {
            return Err(EmbeddedError::Untraversable {
                user: account.name.clone(),
                blocked: ancestor.to_owned(),
                dir: dir.to_owned(),
            });
        }
    }
    Ok(())
}

/// Files root created (the log, or a cluster from an earlier non-root run) must belong to
/// the account postgres runs as; symlinks are re-owned, never followed.
fn chown_tree(path: &Path, account: &Account) -> Result<(), EmbeddedError> {
    let meta = fs::symlink_metadata(path).map_err(io_error("inspect", path))?;
    if meta.uid() != account.uid || meta.gid() != account.gid {
        std::os::unix::fs::lchown(path, Some(account.uid), Some(account.gid))
            .map_err(io_error("change owner of", path))?;
    }
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(io_error("list", path))? {
            let entry = entry.map_err(io_error("list", path))?;
            chown_tree(&entry.path(), account)?;
        }
    }
    Ok(())
}

/// Prefers the binaries matching an existing cluster's major version, then the newest.
fn find_bin_dir(explicit: Option<&Path>, data: &Path) -> Result<PathBuf, EmbeddedError> {
    if let Some(bin) = explicit {
        return if has_server(bin) {
            Ok(bin.to_owned())
        } else {
            Err(EmbeddedError::BinariesNotFound { searched: format!("no postgres and initdb in {}", bin.display()) })
        };
    }
    let cluster_major = fs::read_to_string(data.join("PG_VERSION")).ok().map(|v| v.trim().to_owned());
    let mut installed: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(DEBIAN_INSTALL_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name.split('.').map(|part| part.parse().ok()).collect::<Option<Vec<u32>>>()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    installed.sort_by(|a, b| b.0.cmp(&a.0));
    let matching = installed.iter().find(|(version, _)| {
        let name = version.iter().map(u32::to_string).collect::<Vec<_>>();
        cluster_major.as_deref() == Some(name.join(".").as_str())
    });
    if let Some((_, bin)) = matching.or(installed.first()) {
        return Ok(bin.clone());
    }
    if let Ok(Output { status, stdout, .. }) = Command::new("pg_config").arg("--bindir").output()
        && status.success()
    {
        let bin = PathBuf::from(String::from_utf8_lossy(&stdout).trim());
        if has_server(&bin) {
            return Ok(bin);
        }
    }
    Err(EmbeddedError::BinariesNotFound {
        searched: format!("looked in {DEBIAN_INSTALL_ROOT}/*/bin and `pg_config --bindir`"),
    })
}

fn has_server(bin: &Path) -> bool {
    bin.join("postgres").is_file() && bin.join("initdb").is_file()
}

/// A command that runs as `account` (std drops supplementary groups when root sets a uid).
fn command(program: PathBuf, dir: &Path, account: Option<&Account>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir).stdin(Stdio::null());
    for name in IGNORED_ENV {
        command.env_remove(name);
    }
    if let Some(account) = account {
        command.uid(account.uid).gid(account.gid);
    }
    command
}

fn initdb(bin: &Path, dir: &Path, data: &Path, account: Option<&Account>, log: &mut File) -> Result<(), EmbeddedError> {
    let program = bin.join("initdb");
    let mut transcript = String::new();
    let mut attempt = |locale: &str| -> Result<ExitStatus, EmbeddedError> {
        let output = command(program.clone(), dir, account)
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", locale])
            .arg("-D")
            .arg(data)
            .output()
            .map_err(io_error("run", &program))?;
        let _ = log.write_all(&output.stdout);
        let _ = log.write_all(&output.stderr);
        transcript.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok(output.status)
    };
    // C.UTF-8 sorts predictably everywhere but is missing from some minimal systems.
    let mut status = attempt("--locale=C.UTF-8")?;
    if !status.success() {
        tracing::warn!(%status, "initdb with locale C.UTF-8 failed, retrying without a locale");
        status = attempt("--no-locale")?;
    }
    if status.success() {
        Ok(())
    } else {
        Err(EmbeddedError::Initdb { data: data.to_owned(), status, output: transcript })
    }
}

fn postgres_command(
    bin: &Path,
    dir: &Path,
    data: &Path,
    account: Option<&Account>,
    fsync: bool,
    log: File,
) -> Result<Command, EmbeddedError> {
    let stderr = log.try_clone().map_err(io_error("duplicate handle of", dir))?;
    let mut command = command(bin.join("postgres"), dir, account);
    command
        .arg("-D")
        .arg(data)
        .args(["-p", &PORT.to_string()])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.display()))
        .args([
            "-c",
            "listen_addresses=",
            "-c",
            "unix_socket_permissions=0700",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
            "-c",
            if fsync { "fsync=on" } else { "fsync=off" },
        ])
        .stdout(log)
        .stderr(stderr);
    let parent = std::process::id();
    // SAFETY: the closure only makes async-signal-safe syscalls and does not allocate. std runs
    // it after setuid, which matters because a uid change clears the parent-death signal.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // Our owner may have died before prctl took effect; then no signal would come.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    Ok(command)
}

fn supervise(
    mut command: Command,
    bin: &Path,
    data: &Path,
    shared: Arc<Shared>,
) -> Result<(u32, Supervisor), EmbeddedError> {
    let (spawned_tx, spawned_rx) = mpsc::channel();
    let data = data.to_owned();
    let thread = thread::Builder::new()
        .name("lindung-embedded-pg".to_owned())
        .spawn(move || {
            let mut spawned_tx = Some(spawned_tx);
            let mut backoff = RESTART_BACKOFF_FIRST;
            loop {
                let mut state = shared.lock();
                if state.stopping {
                    return Err(io::Error::other("stopped before postgres was restarted"));
                }
                let mut child = match command.spawn() {
                    Ok(child) => child,
                    Err(error) => {
                        let report = io::Error::new(error.kind(), error.to_string());
                        match spawned_tx.take() {
                            Some(tx) => {
                                let _ = tx.send(Err(error));
                                return Err(report);
                            }
                            None => {
                                drop(state);
                                tracing::error!(%error, "cannot restart embedded PostgreSQL");
                                if !wait_out(&shared, backoff) {
                                    return Err(report);
                                }
                                backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
                                continue;
                            }
                        }
                    }
                };
                let pid = child.id();
                state.pid = pid;
                drop(state);
                if let Some(tx) = spawned_tx.take() {
                    let _ = tx.send(Ok(pid));
                }
                let started = Instant::now();
                // Wait for the exit without reaping, then reap under the lock: `stop` signals
                // only under the lock, so never a pid the system has handed to another process.
                let _ = waitid(Id::Pid(Pid::from_raw(pid as i32)), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT);
                let mut state = shared.lock();
                let status = child.wait();
                state.pid = 0;
                if state.stopping || !state.restarts {
                    return status;
                }
                drop(state);

                if started.elapsed() >= RESTART_STABLE_RUN {
                    backoff = RESTART_BACKOFF_FIRST;
                }
                let exited = status.as_ref().map_or_else(|e| format!("waiting for it failed: {e}"), |s| s.to_string());
                tracing::error!(
                    pid,
                    status = %exited,
                    ran_ms = started.elapsed().as_millis() as u64,
                    restart_in_ms = backoff.as_millis() as u64,
                    "embedded PostgreSQL exited unexpectedly; restarting it"
                );
                shared.exits.send_modify(|exits| *exits += 1);
                wait_for_processes_to_exit(&data, ORPHAN_TIMEOUT);
                if !wait_out(&shared, backoff) {
                    return status;
                }
                backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
            }
        })
        .map_err(io_error("start supervisor thread for", bin))?;
    let program = bin.join("postgres");
    let pid = spawned_rx
        .recv()
        .map_err(|_| io::Error::other("supervisor thread died before spawning"))
        .and_then(|spawned| spawned)
        .map_err(io_error("run", &program))?;
    Ok((pid, thread))
}

/// Sleeps `delay` unless the owner stops the instance first; answers whether to go on.
fn wait_out(shared: &Shared, delay: Duration) -> bool {
    let state = shared.lock();
    let (state, _) = shared
        .stopped
        .wait_timeout_while(state, delay, |state| !state.stopping)
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    !state.stopping
}

/// Waits until no process works in `data` any more (every process of a cluster does), or `limit`.
fn wait_for_processes_to_exit(data: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !processes_in(data).is_empty() && Instant::now() < deadline {
        thread::sleep(POLL_INTERVAL);
    }
}

/// Pids of live processes working in `data`, which every postgres process of that cluster does.
fn processes_in(data: &Path) -> Vec<u32> {
    let data = fs::canonicalize(data).unwrap_or_else(|_| data.to_owned());
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == data))
        .filter(|&pid| process_exists(pid))
        .collect()
}

fn is_ready(bin: &Path, dir: &Path) -> bool {
    Command::new(bin.join("pg_isready"))
        .arg("-q")
        .arg("-h")
        .arg(dir)
        .args(["-p", &PORT.to_string(), "-U", "postgres", "-d", "postgres", "-t", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The end of what this start wrote to the log, not an earlier run's messages.
fn log_tail(path: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let from = if file.metadata().is_ok_and(|m| m.len() >= from) { from } else { 0 };
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(from)).is_ok() && file.read_to_end(&mut bytes).is_ok() {
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, PgConnection};

    fn options(dir: &Path) -> EmbeddedOptions {
        EmbeddedOptions { fsync: false, ..EmbeddedOptions::new(dir) }
    }

    fn scratch_dir() -> tempfile::TempDir {
        tempfile::tempdir_in("/tmp").expect("temporary directory")
    }

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(future)
    }

    async fn connect(server: &EmbeddedPostgres) -> PgConnection {
        PgConnection::connect_with(&server.connect_options()).await.expect("connect over the Unix socket")
    }

    #[test]
    fn an_instance_can_live_in_a_static() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<EmbeddedPostgres>();
    }

    #[test]
    fn a_fresh_directory_becomes_a_cluster_that_answers_queries() {
        let dir = scratch_dir();
        let began = Instant::now();
        let mut server = EmbeddedPostgres::start(options(dir.path())).expect("start");
        eprintln!("initdb + start took {:?}", began.elapsed());

        let one: i32 = run(async {
            let mut conn = connect(&server).await;
            sqlx::query_scalar("select 1").fetch_one(&mut conn).await
        })
        .expect("select 1");
        assert_eq!(one, 1);
        assert!(dir.path().join("pg/PG_VERSION").is_file());
        if geteuid().is_root() {
            let status = fs::read_to_string(format!("/proc/{}/status", server.pid())).expect("postmaster status");
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(str::split_whitespace)
                    .map(|values| values.collect::<Vec<_>>().join(" "))
            };
            let postgres = lookup_account("postgres").expect("postgres account");
            let uid = postgres.uid.to_string();
            assert_eq!(field("Uid:"), Some([uid.as_str(); 4].join(" ")));
            assert_eq!(field("Groups:"), Some(String::new()));
        }
        server.stop().expect("stop");
    }

    #[test]
    fn a_restarted_instance_reuses_the_cluster_and_keeps_its_data() {
        let dir = scratch_dir();
        let mut first = EmbeddedPostgres::start(options(dir.path())).expect("first start");
        run(async {
            let mut conn = connect(&first).await;
            sqlx::query("create table survivor (name text)").execute(&mut conn).await?;
            sqlx::query("insert into survivor values ('still here')").execute(&mut conn).await
        })
        .expect("create and fill a table");
        first.stop().expect("stop");

        let began = Instant::now();
        let mut second = EmbeddedPostgres::start(options(dir.path())).expect("second start");
        eprintln!("restart took {:?}", began.elapsed());
        let name: String = run(async {
            let mut conn = connect(&second).await;
            sqlx::query_scalar("select name from survivor").fetch_one(&mut conn).await
        })
        .expect("the table survives the restart");
        assert_eq!(name, "still here");
        second.stop().expect("stop");
    }

    #[test]
    fn a_directory_served_by_a_running_instance_is_refused() {
        let dir = scratch_dir();
        let first = EmbeddedPostgres::start(options(dir.path())).expect("first start");

        let error = EmbeddedPostgres::start(options(dir.path())).expect_err("second start");
        assert!(matches!(error, EmbeddedError::InUse { pid, .. } if pid == first.pid()), "{error}");
        assert!(error.to_string().contains("in use by pid"), "{error}");
        drop(first);
    }

    #[test]
    fn stopping_leaves_no_postgres_process_behind_and_can_be_repeated() {
        let dir = scratch_dir();
        let mut server = EmbeddedPostgres::start(options(dir.path())).expect("start");
        let data = dir.path().join("pg");
        assert!(processes_in(&data).contains(&server.pid()));

        server.stop().expect("stop");
        assert_eq!(processes_in(&data), Vec::<u32>::new());
        server.stop().expect("a second stop is a no-op");
    }

    #[test]
    fn a_killed_postmaster_is_restarted_with_its_data_and_its_exit_announced() {
        let dir = scratch_dir();
        let mut server = EmbeddedPostgres::start(options(dir.path())).expect("start");
        let mut exits = unexpected_exits(dir.path()).expect("a supervised instance");
        run(async {
            let mut conn = connect(&server).await;
            sqlx::query("create table survivor (name text)").execute(&mut conn).await?;
            sqlx::query("insert into survivor values ('still here')").execute(&mut conn).await
        })
        .expect("create and fill a table");
        let killed = server.pid();
        signal::kill(Pid::from_raw(killed as i32), Signal::SIGKILL).expect("kill the postmaster");

        let began = Instant::now();
        let name: String = loop {
            let answer = run(async {
                let mut conn = PgConnection::connect_with(&server.connect_options()).await?;
                sqlx::query_scalar("select name from survivor").fetch_one(&mut conn).await
            });
            match answer {
                Ok(name) => break name,
                Err(error) => assert!(began.elapsed() < START_TIMEOUT, "not back: {error}"),
            }
            thread::sleep(POLL_INTERVAL);
        };
        eprintln!("restarted and answering after {:?}", began.elapsed());
        assert_eq!(name, "still here");
        assert_ne!(server.pid(), killed);
        assert!(server.pid() != 0 && process_exists(server.pid()));
        assert_eq!(*exits.borrow_and_update(), 1, "the exit was announced");

        server.stop().expect("stop");
        assert_eq!(processes_in(&dir.path().join("pg")), Vec::<u32>::new());
        assert!(unexpected_exits(dir.path()).is_none(), "a stopped instance is no longer supervised");
    }

    #[test]
    fn a_lock_file_naming_a_reused_pid_does_not_block_the_start() {
        let dir = scratch_dir();
        EmbeddedPostgres::start(options(dir.path())).expect("create the cluster").stop().expect("stop");
        // Pid 1 is alive but no postmaster: what a killed run leaves after a container restart.
        fs::write(dir.path().join("pg/postmaster.pid"), "1\n").expect("fake lock file");

        let mut server = EmbeddedPostgres::start(options(dir.path())).expect("start");
        server.stop().expect("stop");
    }

    #[test]
    fn postgres_shuts_down_when_its_owner_dies_and_the_next_owner_takes_over() {
        const HELPER_DIR: &str = "LINDUNG_EMBEDDED_ORPHAN_DIR";
        if let Ok(dir) = std::env::var(HELPER_DIR) {
            // Child role: start, report, and die without running any destructor.
            let server = EmbeddedPostgres::start(options(Path::new(&dir))).expect("start");
            println!("\norphan-pid={}", server.pid());
            io::stdout().flush().expect("flush");
            std::process::exit(0);
        }
        let dir = scratch_dir();
        // Test names omit the crate name that `module_path!` starts with.
        let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
        let helper_test_name =
            format!("{module}::postgres_shuts_down_when_its_owner_dies_and_the_next_owner_takes_over");
        let output = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", &helper_test_name, "--nocapture", "--test-threads=1"])
            .env(HELPER_DIR, dir.path())
            .output()
            .expect("run the helper");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let pid: u32 = stdout
            .lines()
            .find_map(|line| line.strip_prefix("orphan-pid=")?.parse().ok())
            .unwrap_or_else(|| panic!("helper printed no pid: {stdout}"));

        // Straight away, as the next test binary would: the orphan is still shutting down.
        let mut server = EmbeddedPostgres::start(options(dir.path())).expect("the next owner starts");
        assert!(!process_exists(pid), "postmaster {pid} outlived its owner");
        server.stop().expect("stop");
        assert_eq!(processes_in(&dir.path().join("pg")), Vec::<u32>::new());
    }

    #[test]
    fn a_postgres_that_cannot_start_is_reported_with_its_log() {
        let dir = scratch_dir();
        EmbeddedPostgres::start(options(dir.path())).expect("create the cluster").stop().expect("stop");
        let mut conf = OpenOptions::new().append(true).open(dir.path().join("pg/postgresql.conf")).expect("conf");
        writeln!(conf, "shared_buffers = 'plenty'").expect("break the configuration");

        let error = EmbeddedPostgres::start(options(dir.path())).expect_err("start");
        assert!(
            matches!(&error, EmbeddedError::ExitedEarly { tail, .. } if tail.contains("shared_buffers")),
            "{error}"
        );
    }

    #[test]
    fn a_socket_path_beyond_the_unix_limit_is_refused() {
        let dir = scratch_dir();
        let deep = dir.path().join("d".repeat(100));
        let error = EmbeddedPostgres::start(options(&deep)).expect_err("start");
        assert!(matches!(error, EmbeddedError::SocketPathTooLong { .. }), "{error}");
    }

    #[test]
    fn as_root_a_directory_the_postgres_user_cannot_reach_is_refused_with_a_hint() {
        if !geteuid().is_root() {
            return;
        }
        let dir = scratch_dir();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        let error = EmbeddedPostgres::start(options(&dir.path().join("inner"))).expect_err("start");
        assert!(matches!(&error, EmbeddedError::Untraversable { blocked, .. } if blocked == dir.path()), "{error}");
        assert!(error.to_string().contains("--data-dir under /var/lib or /tmp"));
    }

    #[test]
    fn as_root_an_unknown_account_to_run_as_is_refused() {
        if !geteuid().is_root() {
            return;
        }
        let dir = scratch_dir();
        let options = EmbeddedOptions { run_as: "no-such-user-lindung".into(), ..options(dir.path()) };
        let error = EmbeddedPostgres::start(options).expect_err("start");
        assert!(matches!(error, EmbeddedError::UnknownUser { .. }), "{error}");
    }
}
