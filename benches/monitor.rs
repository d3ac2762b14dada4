//! Monitor heartbeat throughput: heartbeats per second into a monitor of 1 thousand, 100
//! thousand and 1 million known peers, from 1 and 2 threads, with the compact configuration
//! (id `fixed`, a fixed timeout) and the default detector (id `adaptive`); one call per
//! heartbeat (`heartbeat_at`, ids `…/1t`, `…/2t`) and batches of 1024 (`heartbeat_batch`, ids `…/1t-batch`, `…/2t-batch`).
//!
//! Each thread owns half of the peers (as a host's receive threads own their sockets) and
//! visits them in a shuffled order, every peer once per round, 100 ms of arrival time apart:
//! the shard locks, the hash lookups and the cache misses of a large table are all measured.
//! Arrival instants are passed in (`heartbeat_at`), so no clock is read in the timed loop.
//!
//! ```text
//! cargo bench --bench monitor
//! ```

use std::time::{Duration, Instant};

use accrual::monitor::BATCH_ROUND;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/monitor_load.rs"]
mod monitor_load;

use monitor_load::{PER_ITERATION, configs, monitor, run_all, senders};

fn heartbeat_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor_heartbeat");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, detector) in configs() {
        for peers in [1_000u64, 100_000, 1_000_000] {
            let monitor = monitor(&detector, peers);
            // Rounds go on across thread counts, so arrival times keep moving forward.
            let mut round = 1;
            for (threads, batch) in [(1usize, 0), (2, 0), (1, BATCH_ROUND), (2, BATCH_ROUND)] {
                // Every peer known, and warm (past the default detector's first 64 samples,
                // each of which refits its model), before timing.
                let warm = if round == 1 { 70 } else { 1 };
                let mut senders = senders(&monitor, peers, threads, round, warm, batch);
                let mode = if batch == 0 { "" } else { "-batch" };
                group.throughput(Throughput::Elements((PER_ITERATION * threads) as u64));
                group.bench_function(
                    BenchmarkId::new(format!("{name}/{threads}t{mode}"), peers),
                    |b| {
                        b.iter_custom(|iters| {
                            let mut total = Duration::ZERO;
                            for _ in 0..iters {
                                let start = Instant::now();
                                run_all(&monitor, &mut senders, PER_ITERATION);
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
