//! The persisted form of a [`Monitor`]'s learned state: [`Snapshot`], taken with
//! [`Monitor::snapshot`] and restored with [`Monitor::from_snapshot`], and its format, which is
//! defined here and nowhere else.
//!
//! # The format
//!
//! A snapshot is written as a map of one entry: the name of its format and version
//! ([`SNAPSHOT_FORMAT`], `accrual_monitor_v1`), holding the document of that version.
//!
//! ```text
//! { "accrual_monitor_v1": {
//!     "taken_at": "7049.492374355s",
//!     "detector": { "fixed": { "timeout": "1s" } },
//!     "timeout": { "policy": { "kind": "adaptive", ... }, "floor": "1ms", ... },
//!     "peers": [
//!       { "peer": "db-1",
//!         "detector": { "fixed": { "config": { "timeout": "1s" },
//!                                  "log": { "last": "7049.4s", "max_seq": 399,
//!                                           "counts": { "accepted": 388, ... } } } },
//!         "level": "alive", "since": "7001.2s", "rtt": null },
//!       ...
//!     ],
//!     "checksum": "0f3c2a9e5d7b1846" } }
//! ```
//!
//! * The document holds the instant the snapshot was taken, the detector and timeout
//!   configurations the peers ran, every peer (its key, its detector's state, its level, the
//!   instant it entered it and its request-timeout estimator) and a checksum of all of that.
//! * A peer's detector is a map of one entry, its kind as [`DetectorConfig::kind`] names it,
//!   holding that kind's state.
//! * Configurations, instants ([`Nanos`], written as `"7.5s"`), levels and
//!   arrival counts are written in their own public serde forms, the forms of configuration
//!   files; they are part of version 1 as well.
//! * Learned floating-point values are written as the bit patterns of their `f64`s (of their
//!   `f32`s for the adaptive detector's histogram and regime), which every format restores
//!   exactly. The configurations' own numbers (`0.999`) are decimals.
//! * Every map refuses fields it does not know, and reading checks every rule the state obeys
//!   (a window that fits its configuration, histogram values that are the tops of their
//!   buckets, counters in range, a well-formed survival curve), refusing the state that breaks
//!   one with the rule it broke.
//! * The checksum is FNV-1a (64 bits, written as 16 hex digits) over a self-delimiting encoding
//!   of the serde data model, not of the text, of the format's name followed by `taken_at`,
//!   `detector`, `timeout` and `peers`, in that order: the same in every serde format, and
//!   changed by any edit of a value, a field's name or the fields' order.
//!
//! # Version 1
//!
//! Version 1 is made of plain data types, one per persisted thing, each with derived serde,
//! in `src/snapshot/v1.rs`:
//!
//! | type | what it holds | fields, in order |
//! |---|---|---|
//! | `v1::Document` | the document | `taken_at`, `detector`, `timeout`, `peers`, `checksum` |
//! | `v1::Peer` | one peer | `peer`, `detector`, `level`, `since`, `rtt` |
//! | `v1::Rtt` | a peer's request-timeout estimator | `estimator`, `last` |
//! | `v1::TimeoutEstimator` | a [`TimeoutEstimator`](crate::timeout::TimeoutEstimator) | `config`, `histogram`, `smoothed`, `rto`, `backoff`, `samples`, `timeouts`, `retried`, `cached` |
//! | `v1::Histogram` | a [`WindowedHistogram`](crate::histogram::WindowedHistogram) | `config`, `current`, `epoch`, `saturated`, `subs` |
//! | `v1::Window` | an [`IntervalWindow`](crate::math::IntervalWindow) | `capacity`, `samples` |
//! | `v1::ArrivalLog` | a detector's arrival log | `last`, `max_seq`, `counts` |
//! | `v1::Fixed` | a [`Fixed`](crate::Fixed) | `config`, `log` |
//! | `v1::PhiNormal` | a [`PhiNormal`](crate::PhiNormal) | `config`, `window`, `log` |
//! | `v1::PhiExponential` | a [`PhiExponential`](crate::PhiExponential) | `config`, `window`, `log` |
//! | `v1::Chen` | a [`Chen`](crate::Chen) | `config`, `values`, `log`, `deadline` |
//! | `v1::Empirical` | an [`Empirical`](crate::Empirical) | `config`, `histogram`, `log` |
//! | `v1::Adaptive` | an [`Adaptive`](crate::Adaptive) | `config`, `log`, `first`, `anchor`, `next_anchor`, `eta`, `unit`, `origin`, `counts`, `total`, `samples`, `hull`, `slopes`, `top`, `s_top`, `theta`, `regime_start`, `regime` |
//!
//! Beside each type from `v1::Rtt` down are its two conversions: from the runtime type, to
//! write it, and back to the runtime type, checking every rule on the way, to read it. The
//! runtime types' `Serialize` and `Deserialize` do nothing but go through them, so a runtime
//! type can change its fields freely: only its conversions change with it, and version 1 does
//! not. The document and its peers hold plain data only: a peer's detector is a `v1::Detector`,
//! tagged with the kind's name as [`AnyDetector`](crate::AnyDetector)'s serde tags it, and its
//! estimator a `v1::Rtt`. Nothing is built while a snapshot is parsed: [`Monitor::from_snapshot`]
//! first checks the checksum, then each peer's configurations against the restoring monitor's
//! (so that no claimed size is allocated unless the monitor's own configuration allows it),
//! and only then builds each state, checking every rule on the way.
//!
//! # Versions
//!
//! What version 1 writes and reads never changes: snapshots written by the first release, one
//! per detector kind, are checked in under `tests/data/snapshot_v1/` and must keep restoring to
//! the answers the monitor that wrote them gave. A change to the format (a field added,
//! removed, renamed, reordered, or written or read differently) is a new version, never an edit
//! of `v1.rs`:
//!
//! 1. `v2.rs` beside `v1.rs`, with the new version's types and conversions; the runtime types'
//!    serde goes through the new types;
//! 2. a second variant of the version enum, serialised as `accrual_monitor_v2`, with
//!    [`SNAPSHOT_VERSION`] and [`SNAPSHOT_FORMAT`] raised to it;
//! 3. version 1 keeps reading: its types and their conversions to the runtime types stay, and
//!    [`Monitor::from_snapshot`] restores either version. (Version 1's peers hold their
//!    detector as a `v1::Detector`, an enum of the same kind names and version 1's types.)
//!
//! A build reading a version it does not know fails with serde's `unknown variant` error, naming
//! the versions it knows.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::detector::DetectorConfig;
#[cfg(doc)]
use crate::monitor::Monitor;
use crate::suspicion::Level;
use crate::time::Nanos;

mod digest;
pub(crate) mod v1;

/// The version of the snapshot format this build writes; it reads every version up to it.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The name a snapshot carries, with its version: `accrual_monitor_v1`.
pub const SNAPSHOT_FORMAT: &str = v1::FORMAT;

/// The learned state of every peer of a [`Monitor`], taken with [`Monitor::snapshot`] and
/// restored with [`Monitor::from_snapshot`]; serialise it with any serde format that supports
/// 128-bit integers (JSON does; TOML does not). Learned floating-point values are written as
/// their bit patterns, so every format restores them exactly; the configurations' own numbers
/// (`0.1`, `0.999`) are written as decimals, and must read back to the same `f64`, as they do
/// in JSON (enable `serde_json`'s `float_roundtrip` for computed values with 17 digits).
///
/// The format is versioned (see the [module docs](self)): the serialised value is one map
/// entry, `accrual_monitor_v1`, holding the instant it was taken, the detector and timeout
/// configurations, every peer (its key, its detector's state, its level and its
/// request-timeout estimator) and a checksum of all of it. A build reading a version it does
/// not know fails with serde's `unknown variant` error naming both versions; a truncated
/// snapshot fails to parse; a damaged or edited one fails its checksum
/// ([`SnapshotError::Corrupted`]); one taken with another detector or timeout configuration is
/// refused as incompatible. Nothing is applied unless everything is right: restoring builds a
/// new monitor or nothing.
///
/// ```
/// use accrual::monitor::{Monitor, MonitorConfig};
/// use accrual::snapshot::Snapshot;
/// use accrual::{ManualClock, Nanos};
///
/// let clock = ManualClock::new(Nanos::from_secs(1_000));
/// let before = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
/// for _ in 0..20 {
///     clock.advance(Nanos::from_millis(500));
///     before.heartbeat(&"db-1".to_string()).unwrap();
/// }
/// clock.advance(Nanos::from_millis(300));
/// let text = serde_json::to_string(&before.snapshot().unwrap()).unwrap();
///
/// // A new process, a new clock.
/// let snapshot: Snapshot<String> = serde_json::from_str(&text).unwrap();
/// let after = Monitor::from_snapshot(MonitorConfig::default(), ManualClock::default(), snapshot).unwrap();
/// let peer = "db-1".to_string();
/// assert_eq!(after.now(), before.now());
/// assert_eq!(after.phi(&peer), before.phi(&peer));
/// assert_eq!(after.deadline(&peer), before.deadline(&peer));
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Snapshot<K> {
    pub(crate) inner: Versioned<K>,
}

/// Every version this build reads, each serialised under its format's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Versioned<K> {
    /// Version 1: [`v1::FORMAT`].
    #[serde(rename = "accrual_monitor_v1")]
    V1(v1::Document<K>),
}

impl<K> Snapshot<K> {
    fn v1(&self) -> &v1::Document<K> {
        match &self.inner {
            Versioned::V1(v) => v,
        }
    }

    /// The instant (on the monitor's time line) the snapshot was taken.
    pub fn taken_at(&self) -> Nanos {
        self.v1().taken_at
    }

    /// The number of peers.
    pub fn len(&self) -> usize {
        self.v1().peers.len()
    }

    /// Whether it holds no peer.
    pub fn is_empty(&self) -> bool {
        self.v1().peers.is_empty()
    }

    /// The peers and their levels, in the snapshot's order.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Level, ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::new(Nanos::from_secs(7))).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// monitor.tick(monitor.now());
    /// let snapshot = monitor.snapshot().unwrap();
    /// assert_eq!(snapshot.peers().collect::<Vec<_>>(), vec![(&"a", Level::Alive)]);
    /// assert_eq!(snapshot.taken_at(), Nanos::from_secs(7));
    /// assert!(!snapshot.is_empty() && snapshot.detector().kind() == "adaptive");
    /// ```
    pub fn peers(&self) -> impl Iterator<Item = (&K, Level)> + '_ {
        self.v1().peers.iter().map(|p| (&p.peer, p.level))
    }

    /// The detector configuration the peers ran.
    pub fn detector(&self) -> &DetectorConfig {
        &self.v1().detector
    }
}

/// Why a snapshot could not be taken or restored. Parsing errors (a truncated snapshot, an
/// unknown version) come from the serde format before these.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The checksum does not match the contents: the snapshot was damaged or edited.
    Corrupted {
        /// The checksum stored in the snapshot.
        stored: String,
        /// The checksum of what the snapshot holds.
        computed: String,
    },
    /// The new monitor's configuration is invalid.
    Config(ConfigError),
    /// The snapshot's peers ran another detector, or another configuration of it, than the
    /// new monitor's: their learned state would not mean the same.
    IncompatibleDetector {
        /// The snapshot's detector kind.
        snapshot: &'static str,
        /// The monitor's detector kind (the same kind when only its settings differ).
        monitor: &'static str,
    },
    /// The snapshot's request-timeout estimators were configured differently from the new
    /// monitor's.
    IncompatibleTimeout,
    /// The snapshot holds more peers than the new monitor's `max_peers`.
    TooManyPeers {
        /// The peers in the snapshot.
        peers: usize,
        /// The monitor's limit.
        max_peers: usize,
    },
    /// A peer appears twice.
    DuplicatePeer {
        /// Its second position in the snapshot.
        index: usize,
    },
    /// A peer's state contradicts the snapshot's configuration or itself.
    InvalidPeer {
        /// Its position in the snapshot.
        index: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// A peer's learned state breaks a rule its detector or estimator obeys (checked after its
    /// configuration matched the monitor's, before the state is built).
    InvalidState {
        /// Its position in the snapshot.
        index: usize,
        /// The rule it breaks.
        problem: String,
    },
    /// The snapshot was taken at an instant so late that the restored monitor's time would
    /// stop: at most [`MAX_TAKEN_AT`] (2^62 ns, about 146 years of the monitor's time line).
    TakenTooLate {
        /// The snapshot's instant.
        taken_at: Nanos,
    },
    /// A key or a state refused to serialise while the snapshot was taken.
    Unserializable(String),
}

/// The latest [`Snapshot::taken_at`] a monitor restores from: 2^62 ns, leaving the restored
/// time line room for more than a century.
pub const MAX_TAKEN_AT: Nanos = Nanos(1 << 62);

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Corrupted { stored, computed } => write!(
                f,
                "corrupted snapshot: its checksum is {stored} but its contents sum to {computed}"
            ),
            SnapshotError::Config(e) => write!(f, "invalid monitor configuration: {e}"),
            SnapshotError::IncompatibleDetector { snapshot, monitor } => write!(
                f,
                "incompatible snapshot: its peers ran a {snapshot} detector configured differently from the monitor's {monitor}"
            ),
            SnapshotError::IncompatibleTimeout => write!(
                f,
                "incompatible snapshot: its timeout configuration differs from the monitor's"
            ),
            SnapshotError::TooManyPeers { peers, max_peers } => write!(
                f,
                "the snapshot holds {peers} peers, more than monitor.max_peers = {max_peers}"
            ),
            SnapshotError::DuplicatePeer { index } => {
                write!(f, "peer {index} of the snapshot appears twice")
            }
            SnapshotError::InvalidPeer { index, problem } => {
                write!(f, "peer {index} of the snapshot is invalid: {problem}")
            }
            SnapshotError::InvalidState { index, problem } => {
                write!(f, "peer {index} of the snapshot is invalid: {problem}")
            }
            SnapshotError::TakenTooLate { taken_at } => write!(
                f,
                "snapshot taken at {taken_at}, later than {MAX_TAKEN_AT}: the restored monitor's time would stop"
            ),
            SnapshotError::Unserializable(e) => write!(f, "cannot serialise the snapshot: {e}"),
        }
    }
}

impl std::error::Error for SnapshotError {}
