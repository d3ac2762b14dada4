//! Snapshots of every peer's learned state, so that a restarted host starts warm.

use std::fmt;
use std::hash::Hash;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::detector::AnyDetector;
use crate::detector::DetectorConfig;
use crate::monitor::Monitor;
use crate::monitor::config::MonitorConfig;
use crate::monitor::digest::digest;
use crate::monitor::peer::{Rtt, Slot};
use crate::suspicion::Level;
use crate::time::{Clock, Nanos};
use crate::timeout::TimeoutConfig;

/// The version of the snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The name a snapshot carries, with its version: `accrual_monitor_v1`.
pub const SNAPSHOT_FORMAT: &str = "accrual_monitor_v1";

/// The learned state of every peer of a [`Monitor`], taken with [`Monitor::snapshot`] and
/// restored with [`Monitor::from_snapshot`]; serialise it with any serde format that supports
/// 128-bit integers (JSON does; TOML does not). Learned floating-point values are written as
/// their bit patterns, so every format restores them exactly; the configurations' own numbers
/// (`0.1`, `0.999`) are written as decimals, and must read back to the same `f64`, as they do
/// in JSON (enable `serde_json`'s `float_roundtrip` for computed values with 17 digits).
///
/// The format is versioned: the serialised value is one map entry, `accrual_monitor_v1`,
/// holding the instant it was taken, the detector and timeout configurations, every peer
/// (its key, its detector's state, its level and its request-timeout estimator) and a
/// checksum of all of it. A build reading a version it does not know fails with serde's
/// `unknown variant` error naming both versions; a truncated snapshot fails to parse; a
/// damaged or edited one fails its checksum ([`SnapshotError::Corrupted`]); one taken with
/// another detector or timeout configuration is refused as incompatible. Nothing is applied
/// unless everything is right: restoring builds a new monitor or nothing.
///
/// ```
/// use accrual::monitor::{Monitor, MonitorConfig, Snapshot};
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
    inner: Versioned<K>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Versioned<K> {
    #[serde(rename = "accrual_monitor_v1")]
    V1(V1<K>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct V1<K> {
    taken_at: Nanos,
    detector: DetectorConfig,
    timeout: TimeoutConfig,
    peers: Vec<PeerSnapshot<K>>,
    /// FNV-1a of everything above, as 16 hex digits.
    checksum: String,
}

/// One peer in a [`Snapshot`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerSnapshot<K> {
    peer: K,
    detector: AnyDetector,
    level: Level,
    since: Option<Nanos>,
    rtt: Option<Rtt>,
}

/// What the checksum covers.
#[derive(Serialize)]
struct Covered<'a, K> {
    format: &'static str,
    taken_at: Nanos,
    detector: &'a DetectorConfig,
    timeout: &'a TimeoutConfig,
    peers: &'a [PeerSnapshot<K>],
}

fn checksum<K: Serialize>(
    taken_at: Nanos,
    detector: &DetectorConfig,
    timeout: &TimeoutConfig,
    peers: &[PeerSnapshot<K>],
) -> Result<String, SnapshotError> {
    let covered = Covered {
        format: SNAPSHOT_FORMAT,
        taken_at,
        detector,
        timeout,
        peers,
    };
    digest(&covered)
        .map(|d| format!("{d:016x}"))
        .map_err(|e| SnapshotError::Unserializable(e.to_string()))
}

impl<K> Snapshot<K> {
    fn v1(&self) -> &V1<K> {
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
    /// A key or a state refused to serialise while the snapshot was taken.
    Unserializable(String),
}

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
            SnapshotError::Unserializable(e) => write!(f, "cannot serialise the snapshot: {e}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

impl<K: Hash + Eq + Clone + Serialize, C: Clock> Monitor<K, C> {
    /// Every peer's learned state, at one instant: all shards are read-locked together for the
    /// copy, so heartbeats wait meanwhile (a few hundred milliseconds for a million peers).
    /// Levels, request-timeout estimators and the instant are included; the ticks' memory
    /// (stall holds, collective faults) is not.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&1u64).unwrap();
    /// let snapshot = monitor.snapshot().unwrap();
    /// assert_eq!(snapshot.len(), 1);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn snapshot(&self) -> Result<Snapshot<K>, SnapshotError> {
        let guards: Vec<_> = self.shards.iter().map(|s| s.0.read()).collect();
        let taken_at = self.now();
        let peers: Vec<PeerSnapshot<K>> = guards
            .iter()
            .flat_map(|s| s.iter())
            .map(|(k, slot)| PeerSnapshot {
                peer: k.clone(),
                detector: slot.detector.clone(),
                level: slot.level,
                since: slot.since(),
                rtt: slot.rtt.as_deref().cloned(),
            })
            .collect();
        drop(guards);
        let detector = self.config.detector.clone();
        let timeout = self.config.timeout.clone();
        let checksum = checksum(taken_at, &detector, &timeout, &peers)?;
        Ok(Snapshot {
            inner: Versioned::V1(V1 {
                taken_at,
                detector,
                timeout,
                peers,
                checksum,
            }),
        })
    }

    /// A new monitor holding the snapshot's peers, reading `clock`, after checking `config`
    /// and the snapshot: its checksum, that its detector and timeout configurations are
    /// `config`'s, that its peers fit `max_peers`, and each peer's state. The new monitor's
    /// time line continues the snapshot's ([`Monitor::now`] starts at
    /// [`Snapshot::taken_at`]), so every peer has the same φ, deadline and request timeout it
    /// had when the snapshot was taken, and the time the host spent restarting does not count
    /// as the peers' silence. Its first tick judges nobody late.
    ///
    /// ```
    /// use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig, SnapshotError};
    /// use accrual::{FixedConfig, ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&1u64).unwrap();
    /// let snapshot = monitor.snapshot().unwrap();
    /// let other = MonitorConfig {
    ///     detector: DetectorConfig::Fixed(FixedConfig::default()),
    ///     ..Default::default()
    /// };
    /// let err = Monitor::from_snapshot(other, ManualClock::default(), snapshot).unwrap_err();
    /// assert!(matches!(err, SnapshotError::IncompatibleDetector { snapshot: "adaptive", monitor: "fixed" }));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn from_snapshot(
        config: MonitorConfig,
        clock: C,
        snapshot: Snapshot<K>,
    ) -> Result<Self, SnapshotError> {
        let Versioned::V1(s) = snapshot.inner;
        let computed = checksum(s.taken_at, &s.detector, &s.timeout, &s.peers)?;
        if computed != s.checksum {
            return Err(SnapshotError::Corrupted {
                stored: s.checksum,
                computed,
            });
        }
        let mut m = Monitor::with_clock(config, clock).map_err(SnapshotError::Config)?;
        if s.detector != m.config.detector {
            return Err(SnapshotError::IncompatibleDetector {
                snapshot: s.detector.kind(),
                monitor: m.config.detector.kind(),
            });
        }
        if s.timeout != m.config.timeout {
            return Err(SnapshotError::IncompatibleTimeout);
        }
        if s.peers.len() > m.config.max_peers {
            return Err(SnapshotError::TooManyPeers {
                peers: s.peers.len(),
                max_peers: m.config.max_peers,
            });
        }
        let mut dead = 0;
        for (index, p) in s.peers.into_iter().enumerate() {
            let invalid = |problem| Err(SnapshotError::InvalidPeer { index, problem });
            if !p.detector.runs(&s.detector) {
                return invalid("its detector differs from the snapshot's configuration");
            }
            if p.rtt
                .as_ref()
                .is_some_and(|r| r.estimator.config() != &s.timeout)
            {
                return invalid("its timeout estimator differs from the snapshot's configuration");
            }
            if (p.level == Level::Unknown) != p.since.is_none() {
                return invalid("its level and the instant it was entered disagree");
            }
            let (h, shard) = m.locate(&p.peer);
            let mut shard = shard.write();
            if shard.get(h, &p.peer).is_some() {
                return Err(SnapshotError::DuplicatePeer { index });
            }
            if p.level == Level::Dead {
                dead += 1;
            }
            shard.insert(
                &m.hasher,
                h,
                p.peer,
                Slot {
                    detector: p.detector,
                    rtt: p.rtt.map(Box::new),
                    since: p.since.unwrap_or(Nanos::ZERO),
                    level: p.level,
                },
            );
            m.len.fetch_add(1, Ordering::AcqRel);
        }
        m.dead.store(dead, Ordering::Release);
        m.base = s.taken_at;
        m.clock_base = m.clock.now();
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::FixedConfig;
    use crate::time::ManualClock;

    /// A snapshot of three peers, and a way to alter it and seal it again with a valid
    /// checksum, as a forger (not a damaged disk) would.
    fn forge(alter: impl FnOnce(&mut V1<u32>)) -> Result<Monitor<u32, ManualClock>, SnapshotError> {
        let m = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
        for p in 0..3 {
            m.heartbeat(&p).unwrap();
        }
        let Versioned::V1(mut v) = m.snapshot().unwrap().inner;
        alter(&mut v);
        v.checksum = checksum(v.taken_at, &v.detector, &v.timeout, &v.peers).unwrap();
        let snapshot = Snapshot {
            inner: Versioned::V1(v),
        };
        Monitor::from_snapshot(MonitorConfig::default(), ManualClock::default(), snapshot)
    }

    #[test]
    fn well_sealed_but_inconsistent_snapshots_are_rejected() {
        assert!(forge(|_| {}).is_ok());
        let err = forge(|v| {
            let copy = v.peers[0].clone();
            v.peers.push(copy);
        })
        .unwrap_err();
        assert_eq!(err, SnapshotError::DuplicatePeer { index: 3 });
        let err = forge(|v| v.peers[1].level = Level::Dead).unwrap_err();
        assert!(
            matches!(err, SnapshotError::InvalidPeer { index: 1, .. }),
            "{err}"
        );
        let err = forge(|v| {
            v.peers[2].detector =
                AnyDetector::new(&DetectorConfig::Fixed(FixedConfig::default())).unwrap();
        })
        .unwrap_err();
        assert!(
            matches!(err, SnapshotError::InvalidPeer { index: 2, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("peer 2 of the snapshot is invalid")
        );
    }
}
