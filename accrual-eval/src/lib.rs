//! # accrual-eval
//!
//! Measures failure detectors and request-timeout policies of the `accrual` crate on traces,
//! exactly as the detection-quality spec (`docs/qos-spec.md` in the repository) defines it:
//! trace formats, replays, metrics, per-peer hindsight oracles, detector specs and their
//! sweeps, and seeded synthetic fleets. The `accrual` command of this crate
//! (`cargo run --release -p accrual-eval -- eval`) drives all of it.
//!
//! Heartbeat traces and the detector replay (§1–§3, §5) are in [`heartbeat`];
//! round-trip-time traces and the timeout replay (§6) in [`rtt`].

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod csv;
pub mod hb_gen;
pub mod heartbeat;
pub mod monitor;
mod oracle;
mod rng;
pub mod rtt;
pub mod rtt_gen;
pub mod run;
pub mod spec;

pub use heartbeat::{
    HeartbeatTrace, NotScored, PeerReplay, Score, best_fixed_timeout, oracle, replay_peer,
    replay_peer_rate, replay_peer_rates, scorable, score,
};
pub use rng::Rng;
pub use rtt::{
    Probe, RttPeer, RttTrace, TimeoutPoint, TimeoutReport, TraceError, best_within,
    replay_timeouts, sweep_timeouts, timeout_oracle,
};
pub use run::{EvalError, Point, evaluate, frontier};
pub use spec::{DetectorSpec, Family, SpecError};

/// Looks up a scenario by name among `all`, or says which names exist.
pub(crate) fn scenario_named<T: Copy>(
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, String> {
    all.iter().copied().find(|&x| name(x) == s).ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|&x| name(x)).collect();
        format!("unknown scenario `{s}` (one of {})", names.join(", "))
    })
}
