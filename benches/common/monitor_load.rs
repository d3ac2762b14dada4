//! The load of the `monitor_heartbeat` benchmark, shared by `benches/monitor.rs` and
//! `examples/monitor_loop.rs` (which runs the same load without the harness, for A/B rounds
//! interleaved on a noisy machine), so that the two cannot drift apart.

use std::hint::black_box;

use accrual::monitor::{BATCH_ROUND, DetectorConfig, Heartbeat, Monitor, MonitorConfig};
use accrual::{FixedConfig, ManualClock, Nanos};

/// The configurations measured, named by their detector: `fixed` (the compact one, a 500 ms
/// timeout) and `adaptive` (the default).
pub fn configs() -> [(&'static str, DetectorConfig); 2] {
    [
        (
            "fixed",
            DetectorConfig::Fixed(FixedConfig {
                timeout: Nanos::from_millis(500),
            }),
        ),
        ("adaptive", DetectorConfig::default()),
    ]
}

/// A monitor of `detector`s with peers `0..peers`, each of which has sent one heartbeat (at 0,
/// numbered 0), with the default monitor configuration otherwise.
///
/// The peers join in the order of their keys, which the senders' shuffled order does not
/// follow: peers that joined one after another sit side by side in memory, and visiting them
/// in that order would let the hardware prefetcher fetch the next peer's lines before they
/// are asked for, which a fleet's heartbeats, each on its own phase, do not allow.
pub fn monitor(detector: &DetectorConfig, peers: u64) -> Monitor<u64, ManualClock> {
    let m = Monitor::with_clock(
        MonitorConfig {
            detector: detector.clone(),
            max_peers: peers as usize,
            ..Default::default()
        },
        ManualClock::default(),
    )
    .unwrap();
    for key in 0..peers {
        m.heartbeat_at(&key, Nanos::ZERO, Some(0)).unwrap();
    }
    m
}

/// `threads` senders sharing peers `0..peers`, from `round` on, each of which has then run
/// `warm` rounds over its peers (one call per heartbeat) and sends `batch` at a time from there.
pub fn senders(
    m: &Monitor<u64, ManualClock>,
    peers: u64,
    threads: usize,
    round: u64,
    warm: usize,
    batch: usize,
) -> Vec<Sender> {
    let mut senders: Vec<Sender> = (0..threads as u64)
        .map(|t| {
            let keys = (0..peers).filter(|k| k % threads as u64 == t).collect();
            Sender::new(shuffled(keys, t + 7), round)
        })
        .collect();
    for _ in 0..warm {
        for s in &mut senders {
            let n = s.keys.len();
            s.run(m, n);
        }
    }
    for s in &mut senders {
        s.batch = batch;
    }
    senders
}

/// Each sender sends `n` heartbeats, on a thread of its own.
pub fn run_all(m: &Monitor<u64, ManualClock>, senders: &mut [Sender], n: usize) {
    std::thread::scope(|scope| {
        for s in senders {
            scope.spawn(move || s.run(m, n));
        }
    });
}

/// Heartbeats per thread per timed iteration.
pub const PER_ITERATION: usize = 100_000;
pub const INTERVAL: u64 = 100_000_000;

/// One sender thread's peers, in its shuffled order, and where it is in its rounds. Aligned to
/// its own cache lines: the senders sit side by side in a `Vec` and each writes its position
/// on every heartbeat, which would otherwise bounce a shared line between the threads' cores
/// and charge the monitor for it.
#[repr(align(128))]
pub struct Sender {
    keys: Vec<u64>,
    next: usize,
    pub round: u64,
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

    pub fn run(&mut self, m: &Monitor<u64, ManualClock>, n: usize) {
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
