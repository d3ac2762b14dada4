//! Detection and timeout quality, measured as `qos-spec.md` specifies: trace formats, replays,
//! metrics and synthetic traces.
//!
//! This release covers round-trip-time traces and the timeout replay (§6); heartbeat traces
//! and the detector replay follow the same shape.

mod rng;
pub mod rtt;
pub mod rtt_gen;

pub use rng::Rng;
pub use rtt::{
    Probe, RttPeer, RttTrace, TimeoutPoint, TimeoutReport, TraceError, best_within,
    replay_timeouts, sweep_timeouts, timeout_oracle,
};
