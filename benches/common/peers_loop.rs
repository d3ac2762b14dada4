//! The inputs of the `heartbeat_phi` loop, shared by `benches/peers.rs` and
//! `examples/heartbeat_phi_loop.rs` (which runs the same loop without the harness, for
//! instruction counts), so that the two cannot drift apart.

use std::time::Duration;

use accrual::math::phi_of_z;
use accrual::{Detector, Nanos, PhiNormal, PhiNormalConfig};

/// The nominal heartbeat interval, in ns.
pub const INTERVAL: u64 = 100_000_000;
/// Intervals in the warm-up, and the length of the cycle of intervals the timed loop replays.
pub const WARM: usize = 1000;
pub const CYCLE: usize = 1024;
/// Query offsets after each heartbeat: `k × STEP` for `k` in `0..QUERIES`.
pub const QUERIES: usize = 64;
pub const STEP: u64 = 2_000_000;

/// `CYCLE` intervals of 100 ms with a deterministic jitter uniform in ±3 ms.
pub fn intervals() -> Vec<u64> {
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

/// Delivers the warm-up every detector gets, a first heartbeat at `INTERVAL` and then the
/// first `WARM` of `intervals`, through `heartbeat`; returns the instant of the last one.
pub fn warm(intervals: &[u64], mut heartbeat: impl FnMut(u64)) -> u64 {
    let mut t = INTERVAL;
    heartbeat(t);
    for &dt in &intervals[..WARM] {
        t += dt;
        heartbeat(t);
    }
    t
}

/// The standard scores `(elapsed − μ) / σ` that `accrual`'s timed loop asks φ of, one period
/// of them: after the warm-up, the window and the query offsets repeat every `CYCLE`
/// iterations (`CYCLE` is a multiple of `QUERIES`). Computed from the detector's public mean
/// and spread, so equal to the detector's own scores up to rounding (checked: φ of each is the
/// detector's φ at that instant, to 1e−9 relative).
pub fn loop_scores(intervals: &[u64]) -> Vec<f64> {
    let mut d =
        PhiNormal::new(PhiNormalConfig::default()).expect("the default configuration is valid");
    let mut t = warm(intervals, |at| {
        Detector::heartbeat(&mut d, Nanos(at));
    });
    let pause = d.config().acceptable_pause.as_nanos() as f64;
    (WARM..WARM + CYCLE)
        .map(|i| {
            t += intervals[i % CYCLE];
            Detector::heartbeat(&mut d, Nanos(t));
            let offset = (i % QUERIES) as u64 * STEP;
            let z = (offset as f64 - pause - d.mean()) / d.std_dev();
            // The scores are the detector's own: φ of each agrees with the detector's answer.
            let (mine, theirs) = (phi_of_z(z), d.phi(Nanos(t + offset)));
            assert!(
                (mine - theirs).abs() <= 1e-9 * theirs.max(1e-300),
                "score {z} at offset {offset}: φ {mine} against the detector's {theirs}"
            );
            z
        })
        .collect()
}

/// A detector as the timed loop drives it: a heartbeat at an instant, then a φ query at a later
/// one (both in ns on one time line).
pub trait HeartbeatPhi {
    /// Records a heartbeat at `at_ns`.
    fn heartbeat(&mut self, at_ns: u64);
    /// φ at `now_ns`.
    fn phi(&mut self, now_ns: u64) -> f64;
}

/// `phi-detector`: a `PingWindow` fed the interval since the previous arrival; φ from the
/// window's `normal_dist()` at the time elapsed since it, as its README uses it.
pub struct PhiDetector {
    pub window: phi_detector::PingWindow,
    pub last: Option<u64>,
}

impl PhiDetector {
    /// A window with `phi-detector`'s default configuration for `INTERVAL` heartbeats.
    pub fn new() -> Self {
        PhiDetector {
            window: phi_detector::PingWindow::new(Duration::from_nanos(INTERVAL)),
            last: None,
        }
    }
}

impl HeartbeatPhi for PhiDetector {
    #[inline]
    fn heartbeat(&mut self, at_ns: u64) {
        if let Some(last) = self.last {
            self.window
                .add_ping(Duration::from_nanos(at_ns.saturating_sub(last)));
        }
        self.last = Some(at_ns);
    }
    #[inline]
    fn phi(&mut self, now_ns: u64) -> f64 {
        let elapsed = self.last.map_or(0, |last| now_ns.saturating_sub(last));
        self.window.normal_dist().phi(Duration::from_nanos(elapsed))
    }
}
