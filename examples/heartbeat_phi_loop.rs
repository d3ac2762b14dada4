//! The peers benchmark's timed loop without the benchmark harness, for instruction counts:
//! warm a detector with 1000 intervals (100 ms ± 3 ms), then `N` times deliver the next
//! heartbeat and ask φ at one of 64 offsets, 0 to 126 ms after it (as `benches/peers.rs`
//! does).
//!
//! ```sh
//! cargo build --release --example heartbeat_phi_loop
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/heartbeat_phi_loop phi-normal 100000
//! ```
//!
//! Run it for 100,000 and 200,000 iterations: the difference of the two totals divided by
//! 100,000 is the count per heartbeat and query, without the set-up. `phi-normal`,
//! `fixed`, `phi-detector` or `adaptive` choose the detector, and `phi-of-z` runs the normal
//! tail alone on the standard scores of `phi-normal`'s loop (no heartbeat); a third argument,
//! `heartbeats` or `queries`, runs one
//! half of the loop alone (queries on the warmed window, at the same 64 offsets after its last
//! arrival), to count or time the halves apart. The wall time per iteration is printed too: a
//! rough figure on a busy machine, for runs of tens of millions.

use std::hint::black_box;
use std::time::Instant;

use accrual::math::phi_of_z;
use accrual::{
    Adaptive, AdaptiveConfig, Detector, Fixed, FixedConfig, Nanos, PhiNormal, PhiNormalConfig,
};

#[path = "../benches/common/peers_loop.rs"]
mod peers_loop;

use peers_loop::{
    CYCLE, HeartbeatPhi, PhiDetector, QUERIES, STEP, WARM, intervals, loop_scores, warm,
};

impl<D: Detector> HeartbeatPhi for D {
    fn heartbeat(&mut self, at_ns: u64) {
        Detector::heartbeat(self, Nanos(at_ns));
    }
    fn phi(&mut self, now_ns: u64) -> f64 {
        Detector::phi(self, Nanos(now_ns))
    }
}

/// Warms `d` with 1000 intervals, then runs `n` heartbeats each followed by a query.
#[inline(never)]
fn run(n: usize, part: Part, d: &mut impl HeartbeatPhi) -> f64 {
    let intervals = intervals();
    let mut t = warm(&intervals, |at| d.heartbeat(at));
    let last = t;
    let mut sum = 0.0;
    for i in WARM..WARM + n {
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

/// `n` evaluations of the normal tail alone, on the standard scores of `phi-normal`'s loop in its
/// order (the `phi_floor` group of `benches/peers.rs`).
#[inline(never)]
fn run_phi_of_z(n: usize) -> f64 {
    let scores = loop_scores(&intervals());
    let mut sum = 0.0;
    for i in 0..n {
        sum += black_box(phi_of_z(black_box(scores[i % CYCLE])));
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
    let which = args.next().unwrap_or_else(|| "phi-normal".into());
    let n: usize = args.next().map_or(Ok(1_000_000), |s| s.parse())?;
    let part = match args.next().as_deref() {
        None | Some("both") => Part::Both,
        Some("heartbeats") => Part::Heartbeats,
        Some("queries") => Part::Queries,
        Some(other) => return Err(format!("unknown part {other}").into()),
    };
    let start = Instant::now();
    let sum = match which.as_str() {
        "phi-normal" => run(n, part, &mut PhiNormal::new(PhiNormalConfig::default())?),
        "fixed" => run(n, part, &mut Fixed::new(FixedConfig::default())?),
        "phi-detector" => run(n, part, &mut PhiDetector::new()),
        "adaptive" => run(n, part, &mut Adaptive::new(AdaptiveConfig::default())?),
        "phi-of-z" => run_phi_of_z(n),
        other => return Err(format!("unknown detector {other}").into()),
    };
    let per = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    println!("{sum} ({per:.2} ns per iteration, warm-up included)");
    Ok(())
}
