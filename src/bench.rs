//! `lindung bench`: lindung measured beside its floors, in one run, on this machine (docs/PERFORMANCE.md).
//!
//! For each size, a fresh store is loaded set-based ([`seed`]); the real server is started as a child process
//! (`lindung serve`), and so are the floors (`lindung bench --serve-floors`, [`floor`]): the same RPC answered by one
//! primary-key lookup on the same table, or by nothing. Then, over real sockets, with lindung's own load generator
//! ([`load`]: N callers in a closed loop over a few HTTP/2 connections, fixed call counts, HDR percentiles):
//! one month's bill and its payment; VerifyCoverage at 1, 16 and 64 callers beside both floors; VerifyCoverageStream
//! beside the same lookups issued with sqlx in batches; the enrollment stream beside `COPY` of the same rows, the
//! second half of it with three feed subscribers following; VerifyCoverage in the first minute after that bulk
//! load; the server's peak RSS. Nothing is asserted: each figure is printed beside its floor and its target.

mod floor;
mod load;
mod seed;

use std::{
    fmt::Write as _,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::StreamExt;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tonic::transport::Channel;

use self::load::{Run, closed_loop, spread};
use crate::{
    client::Authed,
    config::{BenchConfig, StoreConfig},
    database::Database,
    proto::v1::{
        self as pb, contribution_service_client::ContributionServiceClient,
        coverage_service_client::CoverageServiceClient, enrollment_service_client::EnrollmentServiceClient,
        feed_service_client::FeedServiceClient,
    },
};

/// HTTP/2 connections each load spreads its callers over.
const CONNECTIONS: usize = 4;
const LEVELS: [usize; 3] = [1, 16, 64];

/// The sizes and counts of a run.
struct Plan {
    sizes: Vec<u64>,
    calls: u64,
    checks: Option<u64>,
    enroll: Option<u64>,
    after_load: Duration,
    warm_up: u64,
}

impl Plan {
    fn of(config: &BenchConfig) -> Plan {
        if config.smoke {
            return Plan {
                sizes: vec![2_000],
                calls: 320,
                checks: Some(1_000),
                enroll: Some(1_000),
                after_load: Duration::from_secs(2),
                warm_up: 50,
            };
        }
        let sizes = if config.sizes.is_empty() { vec![config.workers] } else { config.sizes.clone() };
        Plan {
            sizes,
            calls: config.calls,
            checks: config.checks,
            enroll: config.enroll,
            after_load: Duration::from_secs(config.after_load_secs),
            warm_up: 1_000,
        }
    }

    fn checks(&self, size: u64) -> u64 {
        self.checks.unwrap_or(size.min(1_000_000))
    }

    fn enroll(&self, size: u64) -> u64 {
        self.enroll.unwrap_or(size.min(1_000_000)).max(2)
    }
}

pub async fn run(config: BenchConfig, store: &StoreConfig) -> anyhow::Result<()> {
    if let Some(addr) = config.serve_floors {
        let url = store.database_url.as_ref().context("the floors need --database-url")?;
        return floor::serve(addr, url.expose_secret(), store.db_max_connections).await;
    }
    if cfg!(debug_assertions) && !config.smoke {
        eprintln!("warning: a debug build measures the compiler's unoptimised code; use `cargo run --release`");
    }
    let plan = Plan::of(&config);
    let mut report = String::new();
    let mut sizes = Vec::new();
    for &size in &plan.sizes {
        let figures = one_size(&plan, size, store, &mut report).await?;
        sizes.push(figures);
    }
    if sizes.len() > 1 {
        growth(&sizes, &mut report);
    }
    if let Some(out) = &config.out {
        std::fs::write(out, &report).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

/// Prints a line and keeps it for `--out`.
fn emit(report: &mut String, line: impl AsRef<str>) {
    println!("{}", line.as_ref());
    report.push_str(line.as_ref());
    report.push('\n');
}

/// The figures the growth table compares across sizes.
struct Figures {
    size: u64,
    verify16: f64,
    floor16: f64,
    stream: f64,
    bill: Duration,
    enroll: f64,
    rss_mib: f64,
}

async fn one_size(plan: &Plan, size: u64, store: &StoreConfig, report: &mut String) -> anyhow::Result<Figures> {
    let dir = PathBuf::from(format!("/tmp/lindung-bench-{}-{size}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let name = format!("lindung_bench_{}", std::process::id());
    let bench_store = StoreConfig {
        database_url: store.database_url.clone(),
        data_dir: dir.clone(),
        pg_bin_dir: store.pg_bin_dir.clone(),
        db_max_connections: 80,
        db_statement_timeout: Duration::from_secs(3600),
    };
    let db = Database::open_fresh(&bench_store, &name).await?;
    let url = match &store.database_url {
        Some(url) => with_database(url.expose_secret(), &name)?,
        None => format!("postgres://postgres@localhost/{name}?host={}&port=5432", dir.join("postgres").display()),
    };
    let result = measure(plan, size, &db.pool, &url, &dir, store, report).await;
    db.pool.close().await;
    if store.database_url.is_some() {
        let admin = Database::open_fresh(&bench_store, &format!("{name}_done")).await?;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)")))
            .execute(&admin.pool)
            .await;
        let _ =
            sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name}_done"))).execute(&admin.pool).await;
        admin.close().await;
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").context("DATABASE_URL is not a URL")? + 3;
    let path = base[authority..].find('/').map_or(base.len(), |at| authority + at);
    Ok(format!("{}/{name}{}", &base[..path], query.map(|q| format!("?{q}")).unwrap_or_default()))
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    plan: &Plan,
    size: u64,
    pool: &PgPool,
    url: &str,
    dir: &Path,
    store: &StoreConfig,
    report: &mut String,
) -> anyhow::Result<Figures> {
    let enroll = plan.enroll(size);
    let seeded = seed::load(pool, size, enroll).await?;
    emit(
        report,
        format!(
            "\n## {size} workers\n\nloaded {} workers and {size} active enrollments set-based in {:.1} s",
            size + enroll,
            seeded.took.as_secs_f64()
        ),
    );

    let exe = std::env::current_exe()?;
    let server_addr = free_addr()?;
    let server = Child::start(
        &exe,
        &[
            "serve",
            "--listen",
            &server_addr.to_string(),
            "--database-url",
            url,
            "--data-dir",
            &dir.join("server").display().to_string(),
            "--db-statement-timeout",
            "30m",
            // Capacity is measured, not a deployment's policy: no rate limit, and room for every caller in flight.
            "--agency-calls-per-second",
            "0",
            "--agency-max-calls",
            "1024",
        ],
        &dir.join("server.log"),
    )?;
    let floor_addr = free_addr()?;
    let floors = Child::start(
        &exe,
        &[
            "bench",
            "--serve-floors",
            &floor_addr.to_string(),
            "--database-url",
            url,
            "--db-max-connections",
            &store.db_max_connections.to_string(),
        ],
        &dir.join("floors.log"),
    )?;
    let lindung = connections(server_addr, &server).await?;
    let floor = connections(floor_addr, &floors).await?;
    let authed = |key: &str, i: usize| crate::client::authed(lindung[i % CONNECTIONS].clone(), key);

    emit(report, "");
    emit(report, "| measure | lindung | floor | ratio | target |");
    emit(report, "|---|---|---|---|---|");

    // One month's bill over every active enrollment, and the funder's payment of it.
    let start = Instant::now();
    let bill = ContributionServiceClient::new(authed(&seeded.insurer.key, 0)?)
        .issue_bill(pb::IssueBillRequest { subsidy_id: seeded.funded.to_string(), month: "2025-09".into() })
        .await?
        .into_inner();
    let bill_took = start.elapsed();
    emit(
        report,
        format!(
            "| IssueBill, one month, {} lines | {:.2} s | | | < 10 s per 1,000,000 lines |",
            bill.lines_added,
            bill_took.as_secs_f64()
        ),
    );
    ContributionServiceClient::new(authed(&seeded.province.key, 0)?)
        .record_payment(pb::RecordPaymentRequest {
            subsidy_id: seeded.funded.to_string(),
            amount: bill.bill.and_then(|b| b.billed),
            paid_on: "2025-09-10".into(),
            reference: "bench".into(),
        })
        .await?;

    // VerifyCoverage beside its floors, with the same requests in the same order.
    let ours = Arc::new(
        lindung
            .iter()
            .map(|c| Ok(CoverageServiceClient::new(crate::client::authed(c.clone(), &seeded.insurer.key)?)))
            .collect::<anyhow::Result<Vec<_>>>()?,
    );
    let floors_clients = Arc::new(floor.iter().map(|c| CoverageServiceClient::new(c.clone())).collect::<Vec<_>>());
    let verify = |target: Target, range: (u64, u64), covered: bool| {
        let (ours, floors_clients) = (ours.clone(), floors_clients.clone());
        move |caller: usize, n: u64| {
            let (ours, floors_clients) = (ours.clone(), floors_clients.clone());
            async move {
                let question = pb::VerifyCoverageRequest {
                    nik: seed::nik(range.0 + spread(caller, n, range.1 - range.0)),
                    date: "2025-09-20".into(),
                    programme: pb::Programme::Jkm as i32,
                    ..Default::default()
                };
                if target == Target::Lindung {
                    let reply = ours[caller % CONNECTIONS].clone().verify_coverage(question).await?.into_inner();
                    if reply.covered != covered {
                        bail!("unexpected answer: {reply:?}");
                    }
                } else {
                    let mut request = tonic::Request::new(question);
                    if target == Target::Noop {
                        request.metadata_mut().insert(floor::NOOP, tonic::metadata::MetadataValue::from_static("1"));
                    }
                    floors_clients[caller % CONNECTIONS].clone().verify_coverage(request).await?;
                }
                Ok(())
            }
        }
    };
    let funded = (0, size);
    for target in [Target::Lindung, Target::Bare, Target::Noop] {
        closed_loop(16, plan.warm_up, None, verify(target, funded, true)).await?;
    }
    let mut at16 = (0.0, 0.0);
    for callers in LEVELS {
        let mut runs = Vec::new();
        for target in [Target::Bare, Target::Lindung, Target::Noop] {
            runs.push(closed_loop(callers, plan.calls, None, verify(target, funded, true)).await?);
        }
        let [bare, ours, noop] = &runs[..] else { unreachable!() };
        if callers == 16 {
            at16 = (ours.rate(), bare.rate());
        }
        emit(
            report,
            format!(
                "| VerifyCoverage, {callers} callers: calls/s | {} | {} (bare PK) | {:.2} | ≥ 0.80 |",
                count(ours.rate()),
                count(bare.rate()),
                ours.rate() / bare.rate()
            ),
        );
        emit(
            report,
            format!(
                "| VerifyCoverage, {callers} callers: p50 / p99 / p999 | {} | {} (bare PK) | {:.2} (p99) | ≤ 1.25 (p99) |",
                latencies(ours),
                latencies(bare),
                ours.at(0.99).as_secs_f64() / bare.at(0.99).as_secs_f64().max(1e-9)
            ),
        );
        emit(
            report,
            format!(
                "| no-op handler, {callers} callers (ceiling) | | {} calls/s, {} | | |",
                count(noop.rate()),
                latencies(noop)
            ),
        );
    }

    // The stream, one client, beside the same lookups issued with sqlx in batches of 1,000.
    let checks = plan.checks(size);
    let start = Instant::now();
    let questions = futures::stream::iter(0..checks).map(move |i| pb::VerifyCoverageRequest {
        nik: seed::nik(spread(7, i, size)),
        date: "2025-09-20".into(),
        programme: pb::Programme::Jkk as i32,
        ..Default::default()
    });
    let mut replies = CoverageServiceClient::new(authed(&seeded.insurer.key, 1)?)
        .verify_coverage_stream(questions)
        .await?
        .into_inner();
    let mut answered = 0_u64;
    while let Some(reply) = replies.message().await? {
        if !reply.covered {
            bail!("unexpected stream answer: {reply:?}");
        }
        answered += 1;
    }
    if answered != checks {
        bail!("the stream answered {answered} of {checks} checks");
    }
    let stream_rate = checks as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut conn = pool.acquire().await?;
    for from in (0..checks).step_by(1_000) {
        let mut niks: Vec<String> = (from..(from + 1_000).min(checks)).map(|i| seed::nik(spread(7, i, size))).collect();
        // The stream answers a worker asked twice twice; a set-based lookup finds them once.
        niks.sort_unstable();
        niks.dedup();
        let found: Vec<(String, Option<String>, Option<chrono::NaiveDate>)> =
            sqlx::query_as("select nik, participant_number, date_of_death from workers where nik = any($1)")
                .bind(&niks)
                .fetch_all(&mut *conn)
                .await?;
        if found.len() != niks.len() {
            bail!("the floor found {} of {} workers", found.len(), niks.len());
        }
    }
    drop(conn);
    let batch_rate = checks as f64 / start.elapsed().as_secs_f64();
    emit(
        report,
        format!(
            "| VerifyCoverageStream, {checks} checks: checks/s | {} | {} (sqlx, batches of 1,000) | {:.2} | ≥ 100,000 checks/s |",
            count(stream_rate),
            count(batch_rate),
            stream_rate / batch_rate
        ),
    );

    // Enrollment: COPY of the same rows into a bare table; then the stream, its second half followed by the feed.
    let rows = |from: u64, to: u64| (from..to).map(move |i| (format!("bench-{i}"), seed::nik(size + i)));
    sqlx::query("create table bench_copy (request_id text, subsidy_id uuid, worker_nik text, first_month date)")
        .execute(pool)
        .await?;
    let start = Instant::now();
    let mut conn = pool.acquire().await?;
    let mut copy = conn.copy_in_raw("copy bench_copy from stdin").await?;
    let mut chunk = String::new();
    for (request_id, nik) in rows(0, enroll) {
        let _ = writeln!(chunk, "{request_id}\t{}\t{nik}\t2025-09-01", seeded.open);
        if chunk.len() > 1 << 16 {
            copy.send(std::mem::take(&mut chunk).into_bytes()).await?;
        }
    }
    copy.send(chunk.into_bytes()).await?;
    copy.finish().await?;
    drop(conn);
    let copy_rate = enroll as f64 / start.elapsed().as_secs_f64();
    let half = enroll / 2;
    let submit = |from: u64, to: u64| {
        let open = seeded.open.to_string();
        futures::stream::iter(rows(from, to)).map(move |(request_id, nik)| pb::SubmitEnrollmentsRequest {
            submission: Some(pb::SubmitEnrollmentRequest {
                request_id,
                subsidy_id: open.clone(),
                worker_nik: nik,
                first_month: "2025-09".into(),
            }),
        })
    };
    let quiet =
        enroll_stream(EnrollmentServiceClient::new(authed(&seeded.city.key, 2)?), submit(0, half), half).await?;
    emit(
        report,
        format!(
            "| SubmitEnrollments, {half} new workers, rules and audit: rows/s | {} | {} (COPY into a bare table) | {:.3} | ≥ 0.35 |",
            count(quiet),
            count(copy_rate),
            quiet / copy_rate
        ),
    );
    let head: i64 = sqlx::query_scalar("select coalesce(max(position), 0) from feed_events").fetch_one(pool).await?;
    let mut followers = Vec::new();
    for i in 0..3 {
        let client = FeedServiceClient::new(authed(&seeded.insurer.key, i + 1)?);
        followers.push(tokio::spawn(follow(client, head as u64, enroll - half)));
    }
    let followed =
        enroll_stream(EnrollmentServiceClient::new(authed(&seeded.city.key, 0)?), submit(half, enroll), enroll - half)
            .await?;
    emit(
        report,
        format!(
            "| SubmitEnrollments, {} more, 3 feed subscribers following: rows/s | {} | {} (COPY) | {:.3} | ≥ 0.35 |",
            enroll - half,
            count(followed),
            count(copy_rate),
            followed / copy_rate
        ),
    );
    // Right after the bulk load, before any statistics but lindung's own: the first minute, in windows.
    let window = plan.after_load / 6;
    let mut windows = Vec::new();
    for _ in 0..6 {
        let call = verify(Target::Lindung, (size, size + enroll), false);
        windows.push(closed_loop(16, u64::MAX, Some(window), call).await?.rate());
    }
    for follower in followers {
        let delivered = follower.await??;
        emit(
            report,
            format!(
                "| feed subscriber during the load: events/s, lag p50 / p99 | {} events/s, {} / {} | | | |",
                count(delivered.rate()),
                millis(delivered.at(0.5)),
                millis(delivered.at(0.99))
            ),
        );
    }
    emit(
        report,
        format!(
            "| VerifyCoverage, 16 callers, in {:.1}-s windows after the load: calls/s | {} | {} (steady, before) | {:.2} (first) | |",
            window.as_secs_f64(),
            windows.iter().map(|r| count(*r)).collect::<Vec<_>>().join(" · "),
            count(at16.0),
            windows[0] / at16.0
        ),
    );
    let rss = server.peak_rss_mib();
    emit(report, format!("| lindung serve, peak RSS | {rss:.0} MiB | | | < 200 MiB |"));
    server.stop().await;
    floors.stop().await;
    Ok(Figures {
        size,
        verify16: at16.0,
        floor16: at16.1,
        stream: stream_rate,
        bill: bill_took,
        enroll: quiet,
        rss_mib: rss,
    })
}

/// Which server a verify load talks to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Lindung,
    Bare,
    Noop,
}

/// Streams `rows` submissions and answers the rows per second; every row must be accepted.
async fn enroll_stream(
    mut client: EnrollmentServiceClient<Authed>,
    rows: impl futures::Stream<Item = pb::SubmitEnrollmentsRequest> + Send + 'static,
    expected: u64,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut replies = client.submit_enrollments(rows).await?.into_inner();
    let mut accepted = 0_u64;
    while let Some(reply) = replies.message().await? {
        if let Some(pb::submit_enrollments_response::Result::Error(error)) = reply.result {
            bail!("row {} was refused: {} {}", reply.index, error.code, error.message);
        }
        accepted += 1;
    }
    if accepted != expected {
        bail!("the enrollment stream answered {accepted} of {expected} rows");
    }
    Ok(expected as f64 / start.elapsed().as_secs_f64())
}

/// Follows the feed after `head` until `expected` submitted enrollments arrived: their rate and delivery lag.
async fn follow(mut client: FeedServiceClient<Authed>, head: u64, expected: u64) -> anyhow::Result<Run> {
    let request = pb::SubscribeRequest { after: head, kinds: vec![pb::EventKind::EnrollmentSubmitted as i32] };
    let mut events = client.subscribe(request).await?.into_inner();
    let mut lag = Vec::with_capacity(expected as usize);
    let subscribed = Instant::now();
    while (lag.len() as u64) < expected {
        let Some(message) = tokio::time::timeout(Duration::from_secs(120), events.message()).await?? else {
            bail!("the feed ended after {} of {expected} events", lag.len());
        };
        let Some(pb::subscribe_response::Message::Event(event)) = message.message else { continue };
        let occurred = event.occurred_at.context("an event without its time")?;
        let occurred = chrono::DateTime::from_timestamp(occurred.seconds, occurred.nanos as u32).unwrap_or_default();
        lag.push((crate::clock::now() - occurred).to_std().unwrap_or_default());
    }
    // Events per second from the subscription, which starts with the load, to the last event delivered.
    Ok(load::from_latencies(&lag, subscribed.elapsed()))
}

/// `CONNECTIONS` HTTP/2 connections to `addr`, once the process there answers.
async fn connections(addr: SocketAddr, child: &Child) -> anyhow::Result<Vec<Channel>> {
    let url = format!("http://{addr}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(channel) = Channel::from_shared(url.clone())?.connect().await {
            drop(channel);
            break;
        }
        if Instant::now() > deadline {
            bail!("{} did not start: {}", child.what, child.log_tail());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(Channel::from_shared(url.clone())?.connect().await?);
    }
    Ok(channels)
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// A process the benchmark started: lindung's server or the floors.
struct Child {
    what: String,
    process: tokio::process::Child,
    log: PathBuf,
}

impl Child {
    fn start(exe: &Path, args: &[&str], log: &Path) -> anyhow::Result<Child> {
        let file = std::fs::File::create(log)?;
        let process = tokio::process::Command::new(exe)
            .args(args)
            .env("LINDUNG_LOG_FORMAT", "json")
            .stdin(Stdio::piped())
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        Ok(Child { what: format!("lindung {}", args[0]), process, log: log.to_owned() })
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// The process's peak resident set (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = self.process.id().and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok());
        let kib: f64 = status
            .as_deref()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        kib / 1024.0
    }

    /// SIGTERM (a graceful stop), then a kill if it lingers.
    async fn stop(mut self) {
        drop(self.process.stdin.take());
        if let Some(pid) = self.process.id() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(30), self.process.wait()).await.is_err() {
            let _ = self.process.kill().await;
        }
    }
}

/// A rate or size as a reader reads it, `1,234,567`.
fn count(rate: f64) -> String {
    crate::client::count(rate.round() as i64)
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn latencies(run: &Run) -> String {
    format!("{} / {} / {}", millis(run.at(0.5)), millis(run.at(0.99)), millis(run.at(0.999)))
}

/// The last table: how each figure moves with the size of the store.
fn growth(sizes: &[Figures], report: &mut String) {
    emit(report, "\n## How cost grows with the store\n");
    emit(
        report,
        "| workers | VerifyCoverage 16 callers calls/s | bare PK floor | stream checks/s | bill s per 1M lines | enrollment rows/s | peak RSS MiB |",
    );
    emit(report, "|---|---|---|---|---|---|---|");
    for f in sizes {
        emit(
            report,
            format!(
                "| {} | {} | {} | {} | {:.2} | {} | {:.0} |",
                count(f.size as f64),
                count(f.verify16),
                count(f.floor16),
                count(f.stream),
                f.bill.as_secs_f64() * 1e6 / f.size as f64,
                count(f.enroll),
                f.rss_mib
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_another_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "b").unwrap(),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "b").unwrap(),
            "postgres://u@h/b?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "b").unwrap(), "postgres://u@h/b");
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(1_234_567.4), "1,234,567");
        assert_eq!(count(999.0), "999");
    }
}
