//! The peers benchmark's timed loop without the benchmark harness, for instruction counts:
//! warm a detector with 1000 intervals (100 ms ± 3 ms), then `N` times deliver the next
//! heartbeat and ask φ at one of 64 offsets, 0 to 126 ms after it (as `benches/peers.rs`
//! does).
//!
//! ```sh
//! cargo build --release --example heartbeat_phi_loop
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/heartbeat_phi_loop accrual 100000
//! ```
//!
//! Run it for 100,000 and 200,000 iterations: the difference of the two totals divided by
//! 100,000 is the count per heartbeat and query, without the set-up. `accrual`, `fixed` or
//! `phi-detector` choose the detector; a third argument, `heartbeats` or `queries`, runs one
//! half of the loop alone (queries on the warmed window, at the same 64 offsets after its last
//! arrival), to count or time the halves apart. The wall time per iteration is printed too: a
//! rough figure on a busy machine, for runs of tens of millions.

use std::hint::black_box;
use std::time::{Duration, Instant};

use accrual::{Detector, Fixed, FixedConfig, Nanos, PhiNormal, PhiNormalConfig};

const INTERVAL: u64 = 100_000_000;
const CYCLE: usize = 1024;
const QUERIES: usize = 64;
const STEP: u64 = 2_000_000;

/// The benchmark's intervals: 100 ms with a deterministic jitter uniform in ±3 ms.
fn intervals() -> Vec<u64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..CYCLE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            INTERVAL - 3_000_000 + x % 6_000_001
        })
        .collect()
}

/// A detector as the loop drives it (as in `benches/peers.rs`).
trait HeartbeatPhi {
    fn heartbeat(&mut self, at_ns: u64);
    fn phi(&mut self, now_ns: u64) -> f64;
}

impl<D: Detector> HeartbeatPhi for D {
    fn heartbeat(&mut self, at_ns: u64) {
        Detector::heartbeat(self, Nanos(at_ns));
    }
    fn phi(&mut self, now_ns: u64) -> f64 {
        Detector::phi(self, Nanos(now_ns))
    }
}

/// `phi-detector`'s window, fed the interval since the previous arrival.
struct PhiDetector(phi_detector::PingWindow, Option<u64>);

impl HeartbeatPhi for PhiDetector {
    fn heartbeat(&mut self, at_ns: u64) {
        if let Some(last) = self.1 {
            self.0
                .add_ping(Duration::from_nanos(at_ns.saturating_sub(last)));
        }
        self.1 = Some(at_ns);
    }
    fn phi(&mut self, now_ns: u64) -> f64 {
        let elapsed = self.1.map_or(0, |last| now_ns.saturating_sub(last));
        self.0.normal_dist().phi(Duration::from_nanos(elapsed))
    }
}

/// Warms `d` with 1000 intervals, then runs `n` heartbeats each followed by a query.
#[inline(never)]
fn run(n: usize, part: Part, d: &mut impl HeartbeatPhi) -> f64 {
    let intervals = intervals();
    let mut t = INTERVAL;
    d.heartbeat(t);
    for &dt in &intervals[..1000] {
        t += dt;
        d.heartbeat(t);
    }
    let last = t;
    let mut sum = 0.0;
    for i in 1000..1000 + n {
        t += intervals[i % CYCLE];
        let query = t + (i % QUERIES) as u64 * STEP;
        if part != Part::Queries {
            d.heartbeat(black_box(t));
        }
        if part != Part::Heartbeats {
            // With queries only, the window stays as warmed and `t` moves on with the cycle:
            // elapsed times then grow, so queries are taken after the last arrival instead.
            let at = if part == Part::Queries {
                last + (i % QUERIES) as u64 * STEP
            } else {
                query
            };
            sum += black_box(d.phi(black_box(at)));
        }
    }
    sum
}

/// Which half of the loop runs: both (the benchmark's loop), or one alone, to time them apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Both,
    Heartbeats,
    Queries,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "accrual".into());
    let n: usize = args.next().map_or(Ok(1_000_000), |s| s.parse())?;
    let part = match args.next().as_deref() {
        None | Some("both") => Part::Both,
        Some("heartbeats") => Part::Heartbeats,
        Some("queries") => Part::Queries,
        Some(other) => return Err(format!("unknown part {other}").into()),
    };
    let start = Instant::now();
    let sum = match which.as_str() {
        "accrual" => run(n, part, &mut PhiNormal::new(PhiNormalConfig::default())?),
        "fixed" => run(n, part, &mut Fixed::new(FixedConfig::default())?),
        "phi-detector" => run(
            n,
            part,
            &mut PhiDetector(
                phi_detector::PingWindow::new(Duration::from_nanos(INTERVAL)),
                None,
            ),
        ),
        other => return Err(format!("unknown detector {other}").into()),
    };
    let per = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    println!("{sum} ({per:.2} ns per iteration, warm-up included)");
    Ok(())
}
