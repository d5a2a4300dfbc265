//! A chaos run: two `lindung serve` processes on one database, one of them SIGKILLed and restarted at random
//! intervals, while a city and its province race to fund the same workers through either process (resending by
//! request id whatever was not answered), a third client streams worker registrations (resending the whole stream
//! when it breaks) and the insurer follows the feed (resuming from its last position). A checker then reads the
//! history: every acknowledged enrollment stored exactly once, no worker funded twice, each race won by exactly
//! one funder, every streamed worker stored, the feed without holes or repeats, the audit chain intact.
//!
//! `LINDUNG_CHAOS_SECS` sets the length (20 s in the suite); the full run is
//! `LINDUNG_CHAOS_SECS=600 cargo test --release --test api -- chaos:: --nocapture`.

use std::{
    collections::{HashMap, HashSet},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use lindung::proto::v1::{self as pb, enrollment_service_client::EnrollmentServiceClient};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

use crate::{
    audit_chain::{sealed_and_checkpointed, text, verify},
    enrollments::{create_subsidy_between, register, submission},
    helpers::{Bearer, TestApp, bogor_worker},
    serve::{LINDUNG, Server, free_port, wait_until_serving},
};

/// Workers the streamer registers in each stream, in blocks from [`STREAM_FROM`] (above the racers' range) to
/// [`STREAM_BLOCKS`] blocks on, then the same blocks again (test NIKs are distinct up to 279,972).
const STREAMED: u32 = 2_000;
const STREAM_FROM: u32 = 100_000;
const STREAM_BLOCKS: u32 = 89;

/// One `lindung serve` slot: a fixed port, restarted on it after each kill.
struct Slot {
    port: u16,
    dir: tempfile::TempDir,
    server: Option<Server>,
}

impl Slot {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self, app: &TestApp) {
        let mut serve = Command::new(LINDUNG);
        serve
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port), "--database-url", &app.database_url()])
            .arg("--data-dir")
            .arg(self.dir.path())
            .env("LINDUNG_PSEUDONYM_KEY", "07".repeat(32))
            .env("LINDUNG_SIGNING_KEY", "09".repeat(32))
            .env("LINDUNG_FEED_HEARTBEAT", "200ms")
            .stdout(Stdio::null());
        crate::helpers::serve_logs(&mut serve, true);
        self.server = Some(Server(serve.spawn().unwrap()));
        wait_until_serving(&self.url(), Duration::from_secs(60)).await;
    }

    fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.0.kill().unwrap();
            server.0.wait().unwrap();
        }
    }
}

/// Whether a failed call may simply be sent again: the server went away, or is not back yet.
fn retriable(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded)
}

fn channel(url: String) -> Channel {
    Channel::from_shared(url).unwrap().timeout(Duration::from_secs(10)).connect_lazy()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Funded(String),
    DoubleFunding,
}

/// Funds worker after worker until `stop`, each through one of the slots, resending until answered.
async fn racer(
    urls: [String; 2],
    key: String,
    agency: &'static str,
    subsidy: String,
    workers: u32,
    stop: Arc<AtomicBool>,
) -> Vec<Outcome> {
    let clients: Vec<_> = urls
        .into_iter()
        .map(|url| EnrollmentServiceClient::with_interceptor(channel(url), Bearer::new(&key)))
        .collect();
    let mut outcomes = Vec::new();
    for n in 0..workers {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let request = submission(format!("{agency}-{n}"), &subsidy, n);
        let mut attempt = 0usize;
        let outcome = loop {
            let mut client = clients[(n as usize + attempt) % 2].clone();
            match client.submit_enrollment(request.clone()).await {
                Ok(answer) => break Outcome::Funded(answer.into_inner().enrollment.unwrap().id),
                Err(status) if status.get_details_error_info().is_some_and(|e| e.reason == "DOUBLE_FUNDING") => {
                    break Outcome::DoubleFunding;
                }
                Err(status) if retriable(&status) && attempt < 1_000 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(status) => panic!("{agency} worker {n}: {status:?}"),
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// Registers a block of workers in one stream, resending the whole stream until it ends OK; answers the blocks
/// registered.
async fn streamer(urls: [String; 2], key: String, stop: Arc<AtomicBool>) -> u32 {
    let mut blocks = 0;
    let mut attempt = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let first = STREAM_FROM + (blocks % STREAM_BLOCKS) * STREAMED;
        let rows: Vec<pb::UpsertWorkersRequest> = (first..first + STREAMED)
            .map(|n| pb::UpsertWorkersRequest { worker: Some(bogor_worker(n)), client_ref: n.to_string() })
            .collect();
        let mut client = pb::worker_service_client::WorkerServiceClient::with_interceptor(
            channel(urls[attempt % 2].clone()),
            Bearer::new(&key),
        );
        attempt += 1;
        let answered = async {
            let mut replies = client.upsert_workers(tokio_stream::iter(rows)).await?.into_inner();
            let mut count = 0;
            while replies.message().await?.is_some() {
                count += 1;
            }
            Ok::<u32, tonic::Status>(count)
        }
        .await;
        match answered {
            Ok(count) => {
                assert_eq!(count, STREAMED, "a stream that ended OK answered every row");
                blocks += 1;
            }
            Err(status) if retriable(&status) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(status) => panic!("streamer: {status:?}"),
        }
    }
    blocks
}

/// Follows the feed as the insurer, resuming from its last position through either slot, until `stop` and caught
/// up with the head; answers every position received, in order.
async fn follower(urls: [String; 2], key: String, stop: Arc<AtomicBool>, head: Arc<AtomicU64>) -> Vec<u64> {
    let mut positions: Vec<u64> = Vec::new();
    let mut attempt = 0usize;
    loop {
        let after = positions.last().copied().unwrap_or(0);
        let mut client = pb::feed_service_client::FeedServiceClient::with_interceptor(
            Channel::from_shared(urls[attempt % 2].clone()).unwrap().connect_lazy(),
            Bearer::new(&key),
        );
        attempt += 1;
        let mut stream = match client.subscribe(pb::SubscribeRequest { after, kinds: vec![] }).await {
            Ok(stream) => stream.into_inner(),
            Err(status) if retriable(&status) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(status) => panic!("follower: {status:?}"),
        };
        loop {
            match stream.message().await {
                Ok(Some(pb::SubscribeResponse { message: Some(pb::subscribe_response::Message::Event(event)) })) => {
                    positions.push(event.position)
                }
                Ok(Some(pb::SubscribeResponse { message: Some(pb::subscribe_response::Message::Heartbeat(beat)) })) => {
                    let last = positions.last().copied().unwrap_or(0);
                    // `head` is set (non-zero) once the writers stopped and the last events were numbered.
                    let wanted = head.load(Ordering::Relaxed);
                    if stop.load(Ordering::Relaxed) && wanted > 0 && beat.head == last && last >= wanted {
                        return positions;
                    }
                }
                Ok(_) => break,
                Err(status) if retriable(&status) => break,
                Err(status) => panic!("follower: {status:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_kills_of_a_server_lose_nothing_fund_no_one_twice_and_leave_the_feed_and_the_audit_chain_whole() {
    let seconds: u64 = std::env::var("LINDUNG_CHAOS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    // Enough workers that the racers do not run out: they fund a few hundred a second between them.
    let workers = u32::try_from(seconds * 300).unwrap_or(u32::MAX).clamp(6_000, 90_000);
    let app = TestApp::spawn().await;
    register(&app, 0..workers).await;
    let budget = "100000000000000";
    let city = create_subsidy_between(&app, &app.keys.bogor, "32.71", workers, budget, "2025-09", "2025-12").await;
    let province = create_subsidy_between(&app, &app.keys.jabar, "32", workers, budget, "2025-09", "2025-12").await;

    let mut slots: Vec<Slot> =
        (0..2).map(|_| Slot { port: free_port(), dir: tempfile::tempdir().unwrap(), server: None }).collect();
    for slot in &mut slots {
        slot.start(&app).await;
    }
    let urls = [slots[0].url(), slots[1].url()];
    let stop = Arc::new(AtomicBool::new(false));
    let head = Arc::new(AtomicU64::new(0));
    let city_racer =
        tokio::spawn(racer(urls.clone(), app.keys.bogor.clone(), "city", city.clone(), workers, stop.clone()));
    let province_racer =
        tokio::spawn(racer(urls.clone(), app.keys.jabar.clone(), "province", province.clone(), workers, stop.clone()));
    let streams = tokio::spawn(streamer(urls.clone(), app.keys.jabar.clone(), stop.clone()));
    let follow = tokio::spawn(follower(urls.clone(), app.keys.insurer.clone(), stop.clone(), head.clone()));

    // The killer: a random slot every 0.5 to 3 s, restarted at once on its port.
    let started = Instant::now();
    let mut kills = 0;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(500 + next() % 2_500)).await;
        let slot = &mut slots[(next() % 2) as usize];
        slot.kill();
        kills += 1;
        slot.start(&app).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (city_outcomes, province_outcomes, blocks) =
        (city_racer.await.unwrap(), province_racer.await.unwrap(), streams.await.unwrap());
    let stored_head: i64 =
        sqlx::query_scalar("select coalesce(max(position), 0) from feed_events").fetch_one(&app.pool).await.unwrap();
    // Events written by the last calls are numbered by the sequencer within a moment; the follower waits for them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let final_head: i64 =
        sqlx::query_scalar("select coalesce(max(position), 0) from feed_events").fetch_one(&app.pool).await.unwrap();
    assert!(final_head >= stored_head);
    head.store(final_head as u64, Ordering::Relaxed);
    let positions =
        tokio::time::timeout(Duration::from_secs(60), follow).await.expect("the follower caught up").unwrap();

    // Each race won by exactly one funder.
    let raced = city_outcomes.len().min(province_outcomes.len());
    for n in 0..raced {
        let funded =
            [&city_outcomes[n], &province_outcomes[n]].iter().filter(|o| matches!(o, Outcome::Funded(_))).count();
        assert_eq!(funded, 1, "worker {n}: city {:?}, province {:?}", city_outcomes[n], province_outcomes[n]);
    }
    // Every acknowledged enrollment stored exactly once, and nothing stored that was not acknowledged.
    let acknowledged: HashSet<String> = city_outcomes
        .iter()
        .chain(&province_outcomes)
        .filter_map(|o| match o {
            Outcome::Funded(id) => Some(id.clone()),
            Outcome::DoubleFunding => None,
        })
        .collect();
    let stored: Vec<(String, String)> =
        sqlx::query_as("select id::text, worker_nik from enrollments where subsidy_id = any($1::uuid[])")
            .bind(vec![city.clone(), province.clone()])
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let stored_ids: HashSet<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(stored_ids.len(), stored.len());
    assert_eq!(stored_ids, acknowledged, "stored and acknowledged enrollments differ");
    let mut per_worker: HashMap<&str, usize> = HashMap::new();
    for (_, nik) in &stored {
        *per_worker.entry(nik.as_str()).or_default() += 1;
    }
    assert!(per_worker.values().all(|&n| n == 1), "a worker funded twice");
    // Every streamed block stored.
    let streamed: i64 = sqlx::query_scalar("select count(*) from workers").fetch_one(&app.pool).await.unwrap();
    let distinct_blocks = blocks.min(STREAM_BLOCKS);
    assert_eq!(streamed, i64::from(workers + distinct_blocks * STREAMED), "{streamed} workers for {blocks} streams");
    // The feed: positions 1, 2, … up to the head, each once.
    let mut gaps = Vec::new();
    let mut last = 0;
    for &position in &positions {
        if position != last + 1 {
            gaps.push((last, position));
        }
        last = position;
    }
    assert!(
        gaps.is_empty() && last == final_head as u64,
        "the feed has holes or repeats: {} positions, head {final_head}, jumps (from, to) {:?}",
        positions.len(),
        &gaps[..gaps.len().min(10)]
    );
    // The audit chain.
    sealed_and_checkpointed(&app).await;
    let verified = verify(&app);
    assert!(verified.status.success(), "{}", text(&verified));

    eprintln!(
        "chaos: {seconds} s, {kills} kills survived; {} races ({} enrollments), {blocks} streams of {STREAMED} \
         workers, {} feed events in order, audit chain verified",
        raced,
        acknowledged.len(),
        positions.len()
    );
    for slot in &mut slots {
        slot.kill();
    }
    app.stop().await;
}
