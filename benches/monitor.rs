//! Monitor heartbeat throughput: heartbeats per second into a monitor of 1 thousand, 100
//! thousand and 1 million known peers, from 1 and 2 threads, with the compact configuration (a
//! fixed timeout) and the default detector; one call per heartbeat (`heartbeat_at`, ids
//! `…/1t`, `…/2t`) and batches of 1024 (`heartbeat_batch`, ids `…/1t-batch`, `…/2t-batch`).
//!
//! Each thread owns half of the peers (as a host's receive threads own their sockets) and
//! visits them in a shuffled order, every peer once per round, 100 ms of arrival time apart:
//! the shard locks, the hash lookups and the cache misses of a large table are all measured.
//! Arrival instants are passed in (`heartbeat_at`), so no clock is read in the timed loop.
//!
//! ```text
//! cargo bench --bench monitor
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use accrual::monitor::{BATCH_ROUND, DetectorConfig, Heartbeat, Monitor, MonitorConfig};
use accrual::{FixedConfig, ManualClock, Nanos};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Heartbeats per thread per timed iteration.
const PER_ITERATION: usize = 100_000;
const INTERVAL: u64 = 100_000_000;

/// One sender thread's peers, in its shuffled order, and where it is in its rounds. Aligned to
/// its own cache lines: the senders sit side by side in a `Vec` and each writes its position
/// on every heartbeat, which would otherwise bounce a shared line between the threads' cores
/// and charge the monitor for it.
#[repr(align(128))]
struct Sender {
    keys: Vec<u64>,
    next: usize,
    round: u64,
    /// Heartbeats per `heartbeat_batch` call; 0 for one `heartbeat_at` call each.
    batch: usize,
    /// The batch being filled, allocated once.
    buffer: Vec<Heartbeat<u64>>,
}

impl Sender {
    fn new(keys: Vec<u64>, round: u64) -> Self {
        Sender {
            keys,
            next: 0,
            round,
            batch: 0,
            buffer: Vec::with_capacity(BATCH_ROUND),
        }
    }

    fn run(&mut self, m: &Monitor<u64, ManualClock>, n: usize) {
        for _ in 0..n {
            if self.next == self.keys.len() {
                self.next = 0;
                self.round += 1;
            }
            let key = self.keys[self.next];
            self.next += 1;
            // Each peer's heartbeats 100 ms apart, with up to ~1 ms of jitter.
            let at = Nanos(self.round * INTERVAL + (key.wrapping_mul(0x9e37_79b9) % 1_000_000));
            if self.batch == 0 {
                black_box(m.heartbeat_at(&key, at, Some(self.round)).ok());
            } else {
                self.buffer.push(Heartbeat {
                    peer: key,
                    at,
                    seq: Some(self.round),
                });
                if self.buffer.len() == self.batch {
                    self.flush(m);
                }
            }
        }
        self.flush(m);
    }

    fn flush(&mut self, m: &Monitor<u64, ManualClock>) {
        m.heartbeat_batch(&self.buffer, |_, outcome| {
            black_box(outcome.ok());
        });
        self.buffer.clear();
    }
}

fn shuffled(mut keys: Vec<u64>, seed: u64) -> Vec<u64> {
    let mut x = seed | 1;
    for i in (1..keys.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        keys.swap(i, (x % (i as u64 + 1)) as usize);
    }
    keys
}

fn heartbeat_throughput(c: &mut Criterion) {
    let configs = [
        (
            "compact",
            DetectorConfig::Fixed(FixedConfig {
                timeout: Nanos::from_millis(500),
            }),
        ),
        ("default", DetectorConfig::default()),
    ];
    let mut group = c.benchmark_group("monitor_heartbeat");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, detector) in configs {
        for peers in [1_000u64, 100_000, 1_000_000] {
            let monitor = Monitor::new(
                MonitorConfig {
                    detector: detector.clone(),
                    max_peers: peers as usize,
                    ..Default::default()
                },
                ManualClock::default(),
            )
            .unwrap();
            // Rounds go on across thread counts, so arrival times keep moving forward.
            let mut round = 1;
            for (threads, batch) in [(1usize, 0), (2, 0), (1, BATCH_ROUND), (2, BATCH_ROUND)] {
                let mut senders: Vec<Sender> = (0..threads as u64)
                    .map(|t| {
                        let keys = (0..peers).filter(|k| k % threads as u64 == t).collect();
                        Sender::new(shuffled(keys, t + 7), round)
                    })
                    .collect();
                // Every peer known, and warm (past the default detector's first 64 samples,
                // each of which refits its model), before timing.
                for _ in 0..if round == 1 { 70 } else { 1 } {
                    for s in &mut senders {
                        let n = s.keys.len();
                        s.run(&monitor, n);
                    }
                }
                for s in &mut senders {
                    s.batch = batch;
                }
                let mode = if batch == 0 { "" } else { "-batch" };
                group.throughput(Throughput::Elements((PER_ITERATION * threads) as u64));
                group.bench_function(
                    BenchmarkId::new(format!("{name}/{threads}t{mode}"), peers),
                    |b| {
                        b.iter_custom(|iters| {
                            let mut total = Duration::ZERO;
                            for _ in 0..iters {
                                let start = Instant::now();
                                std::thread::scope(|scope| {
                                    for s in &mut senders {
                                        let m = &monitor;
                                        scope.spawn(move || s.run(m, PER_ITERATION));
                                    }
                                });
                                total += start.elapsed();
                            }
                            total
                        })
                    },
                );
                round = senders.iter().map(|s| s.round).max().unwrap_or(round) + 1;
            }
            assert_eq!(monitor.len(), peers as usize);
        }
    }
    group.finish();
}

criterion_group!(benches, heartbeat_throughput);
criterion_main!(benches);
