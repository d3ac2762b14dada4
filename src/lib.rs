//! # accrual
//!
//! Adaptive failure detection. Feed `accrual` the arrival times of a peer's heartbeats; it
//! answers how suspicious the peer's silence is (φ), when it will be suspected if nothing else
//! arrives, and whether it is alive, suspect or dead. It also answers how long the next
//! request to a peer may take.
//!
//! ## The recommended path
//!
//! One [`Monitor`] for all peers, with the default detector ([`Adaptive`]) on the process's
//! monotonic clock:
//!
//! ```
//! use accrual::{Monitor, MonitorConfig};
//!
//! let monitor = Monitor::new(MonitorConfig::default())?;
//! let peer = "db-1".to_string();
//! monitor.heartbeat(&peer)?; // on every heartbeat, from any thread
//! let events = monitor.tick(monitor.now()); // every `tick_interval`: level changes
//! let suspect_after = monitor.deadline(&peer); // the last instant it is trusted
//! let timeout = monitor.request_timeout(&peer); // for the next request to it
//! # let _ = (events, suspect_after, timeout);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Monitor::with_clock`] takes a [`ManualClock`] in tests and simulations. Each detector
//! lives in its own file under [`detector`], with its configuration; [`DetectorConfig`] lists
//! them all.
//!
//! ## The model
//!
//! A φ-accrual detector (Hayashibara, Défago, Yared and Katayama, *The φ accrual failure
//! detector*, 2004) learns the distribution of a peer's inter-arrival times and turns the
//! silence since its last heartbeat into `φ = −log10 P(an interval this long)`. A threshold Φ
//! then has a meaning: a live peer is wrongly suspected with probability `10^−Φ` per heartbeat,
//! if the model fits. [`PhiNormal`] computes the normal tail exactly, in log space, so φ is
//! right and finite far beyond where approximations overflow; [`PhiExponential`] (Cassandra's
//! model), [`Chen`] (Chen, Toueg and Aguilera, *On the quality of service of failure
//! detectors*, 2002) and [`Fixed`] timeouts are the canonical baselines. A [`Suspicion`] state
//! machine turns φ into [`Level`]s with hysteresis.
//!
//! [`Adaptive`] is the recommended default: it learns how late each peer's heartbeats come, in
//! a fixed-size histogram with an hour of memory and a fitted tail, and places the deadline
//! where a second more of detection time would no longer buy enough fewer false suspicions,
//! the price of one being set by the threshold.
//!
//! [`Empirical`] assumes no distribution at all: it reads φ from an hour of the peer's own
//! intervals in a [windowed HDR histogram](histogram::WindowedHistogram), with a fitted
//! exponential tail beyond the longest, so rare pauses are remembered.
//!
//! For request timeouts, a [`timeout::TimeoutEstimator`] per backend learns round-trip times
//! (RFC 6298, quantile and an adaptive policy that treats timeouts as censored samples) and
//! answers how long the next request may take. The `accrual-eval` crate of this repository
//! measures all of this on traces, as the detection-quality spec (`docs/qos-spec.md`) defines
//! it.
//!
//! A [`Monitor`] watches many peers at once, from many threads: every peer's detector, level
//! and request-timeout estimator sit in sharded tables that a heartbeat reaches without a
//! global lock or an allocation, bounded in peers and in bytes (at most 128 bytes per peer with
//! a fixed timeout and 4 KiB with the default detector, as its tests check; measured figures
//! are in `BENCHMARKS.md`). The monitor notices its own stalls (a
//! tick that runs late means it, not the peers, was absent) and holds new suspicions back until
//! the heartbeats queued meanwhile are read; it reports many peers turning suspect at once as
//! a local or network fault, caps how many may be dead at once, and, with the `serde` feature,
//! snapshots every peer's learned state so that a restarted host starts warm. See [`monitor`].
//!
//! With the `tokio` feature, [`runtime`] puts a monitor to work in a networked program: a
//! [`TokioClock`] (so tests run on paused time), an evaluator task that
//! ticks the monitor and publishes every level change to [`watch`](runtime::Service::watch)
//! and [`broadcast`](runtime::Service::subscribe) subscribers, and heartbeats and round-trip
//! probes over UDP in a small versioned format, authenticated with HMAC-SHA-256 when a key is
//! shared: forged, tampered, replayed and malformed datagrams are refused and counted.
//!
//! ## Time
//!
//! The detectors never read a clock: every call takes `now` as a [`Nanos`], nanoseconds on a
//! monotonic time line. Hosts read a [`Clock`]: [`MonotonicClock`] in production,
//! [`ManualClock`] in tests and simulations. Time that goes backwards never panics and never
//! yields a negative interval (see [`detector`]).
//!
//! ```
//! use accrual::{Detector, Level, ManualClock, Clock, Nanos, PhiNormal, PhiNormalConfig, Preset,
//!               Suspicion, SuspicionConfig};
//!
//! let clock = ManualClock::new(Nanos::ZERO);
//! let interval = Nanos::from_millis(100);
//! let mut detector = PhiNormal::new(PhiNormalConfig::preset(Preset::Lan, interval)).unwrap();
//! let mut level = Suspicion::new(SuspicionConfig::default()).unwrap();
//!
//! for _ in 0..20 {
//!     clock.advance(interval);
//!     detector.heartbeat(clock.now());
//! }
//! let samples = detector.arrivals().accepted;
//! level.update(clock.now(), detector.phi(clock.now()), samples);
//! assert_eq!(level.level(), Level::Alive);
//!
//! // The peer falls silent: half a second later it is dead.
//! clock.advance(Nanos::from_millis(500));
//! let now = clock.now();
//! let t = level.update(now, detector.phi(now), samples).unwrap();
//! assert_eq!(t.to, Level::Dead);
//! ```
//!
//! ## Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `serde` | no | `Serialize`/`Deserialize` for configurations (durations as `"250ms"`), levels and transitions |
//! | `tokio` | no | [`runtime`]: `TokioClock`, the evaluator task, subscriptions, UDP heartbeats and probes with HMAC authentication (adds `tokio`, `hmac`, `sha2`) |
//! | `tower` | no | `tower`: a `Discover` of the pool's trusted backends, an endpoint layer with adaptive timeouts and outcome recording, a suspicion-aware `Load`, hedging under a retry budget, fail-fast readiness (enables `tokio`, adds `tower`) |
//! | `boottime` | no | `election::BootClock`, a clock on `CLOCK_BOOTTIME` that counts suspended time, for leases (Linux and Android; adds `rustix`) |
//!
//! The core has no dependency on an async runtime: only the `tokio` feature brings one.
//!
//! ## Accuracy and limits
//!
//! * `ln Q(z)` is accurate to 1e−12 relative for `|z| ≤ 37` and finite for every `z`; φ never
//!   exceeds [`math::PHI_MAX`].
//! * Window statistics are exact integer sums; intervals longer than about 104 days
//!   ([`math::MAX_INTERVAL_NS`]) are recorded as that long.
//! * Nothing in this crate panics on any input; configurations are validated when built.

// One exception, documented and tested where it is: the prefetch hint of `prefetch.rs`.
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

pub mod config;
pub mod detector;
pub mod election;
pub mod histogram;
pub mod math;
pub mod monitor;
mod prefetch;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod runtime;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod snapshot;
pub mod suspicion;
pub mod time;
pub mod timeout;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

pub use config::ConfigError;
pub use detector::{
    Adaptive, AdaptiveConfig, AnyDetector, Arrival, ArrivalCounts, Chen, ChenConfig, Detector,
    DetectorConfig, Empirical, EmpiricalConfig, Fixed, FixedConfig, Meaning, PhiExponential,
    PhiExponentialConfig, PhiNormal, PhiNormalConfig, Preset, Tail,
};
pub use histogram::HistogramConfig;
pub use monitor::{Monitor, MonitorConfig, MonitorError};
pub use suspicion::{Level, Suspicion, SuspicionConfig, Transition};
pub use time::{Clock, ManualClock, MonotonicClock, Nanos, ParseNanosError};
pub use timeout::{TimeoutConfig, TimeoutPolicy};

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use runtime::TokioClock;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The guides' examples, compiled and run as doctests.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../docs/detectors.md")]
    struct Detectors;
    #[doc = include_str!("../docs/monitor.md")]
    struct Monitor;
    #[doc = include_str!("../docs/runtime.md")]
    struct Runtime;
    #[doc = include_str!("../docs/timeouts.md")]
    struct Timeouts;
    #[doc = include_str!("../docs/load-balancing.md")]
    struct LoadBalancing;
    #[doc = include_str!("../docs/election.md")]
    struct Election;
}
