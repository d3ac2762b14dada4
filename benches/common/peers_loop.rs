//! The inputs of the `heartbeat_phi` loop, shared by `benches/peers.rs` and
//! `examples/heartbeat_phi_loop.rs` (which runs the same loop without the harness, for
//! instruction counts), so that the two cannot drift apart.

use std::time::Duration;

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
