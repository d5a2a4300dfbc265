//! The load generator: a closed loop of concurrent callers, each making its next call when the last one answered,
//! until a fixed number of calls (or a deadline) is reached; latencies in an HDR histogram.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;

/// What one closed-loop run measured.
pub struct Run {
    pub calls: u64,
    pub elapsed: Duration,
    latency: Histogram<u64>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0.5, 0.99, 0.999).
    pub fn at(&self, q: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(q))
    }
}

/// Microseconds from 1 µs to 10 min, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("static histogram bounds are valid")
}

/// Runs `callers` callers until `calls` calls were made in all, or `deadline` passed. `call(caller, n)` makes the
/// n-th call; the first error stops the run and is answered (a benchmark that measures failures measures nothing).
pub async fn closed_loop<F, Fut>(callers: usize, calls: u64, deadline: Option<Duration>, call: F) -> anyhow::Result<Run>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let (call, next) = (call.clone(), next.clone());
        tasks.spawn(async move {
            let mut latency = histogram();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls || deadline.is_some_and(|d| start.elapsed() >= d) {
                    break;
                }
                let sent = Instant::now();
                call(caller, n).await?;
                latency.saturating_record(sent.elapsed().as_micros() as u64);
            }
            Ok::<_, anyhow::Error>(latency)
        });
    }
    let mut latency = histogram();
    while let Some(joined) = tasks.join_next().await {
        latency.add(joined??)?;
    }
    Ok(Run { calls: latency.len(), elapsed: start.elapsed(), latency })
}

/// A well-mixed index in `0..n` for call `i` of caller `c`: callers do not walk the table in step.
pub fn spread(c: usize, i: u64, n: u64) -> u64 {
    let mut x = (c as u64) << 40 ^ i;
    // splitmix64
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) % n.max(1)
}

/// A run made of latencies measured elsewhere (the feed's delivery lags) over `elapsed`.
pub fn from_latencies(latencies: &[Duration], elapsed: Duration) -> Run {
    let mut latency = histogram();
    for l in latencies {
        latency.saturating_record(l.as_micros() as u64);
    }
    Run { calls: latency.len(), elapsed, latency }
}
