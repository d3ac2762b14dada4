//! The monitor's side of snapshots: taking one from the shards and restoring a monitor from
//! one. The format itself, and the checks of every state read back, are in
//! [`crate::snapshot`]; what is checked here is what only the monitor knows (its
//! configuration, its limits, and each peer against the snapshot's configurations).

use std::hash::Hash;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::detector::AnyDetector;
use crate::monitor::Monitor;
use crate::monitor::config::MonitorConfig;
use crate::monitor::peer;
use crate::monitor::peer::Slot;
use crate::snapshot::{MAX_TAKEN_AT, Snapshot, SnapshotError, Versioned, v1};
use crate::suspicion::Level;
use crate::time::{Clock, Nanos};

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
        let peers: Vec<v1::Peer<K>> = guards
            .iter()
            .flat_map(|s| s.iter())
            .map(|(k, slot)| v1::Peer {
                peer: k.clone(),
                detector: v1::Detector::from(&slot.detector),
                level: slot.level,
                since: slot.since(),
                rtt: slot.rtt.as_deref().map(v1::Rtt::from),
            })
            .collect();
        drop(guards);
        let document = v1::Document::seal(
            taken_at,
            self.config.detector.clone(),
            self.config.timeout.clone(),
            peers,
        )?;
        Ok(Snapshot {
            inner: Versioned::V1(document),
        })
    }

    /// A new monitor holding the snapshot's peers, reading `clock`, after checking `config`
    /// and the snapshot: its checksum, that it was taken no later than
    /// [`MAX_TAKEN_AT`](crate::snapshot::MAX_TAKEN_AT), that its detector and timeout
    /// configurations are `config`'s, that its peers fit `max_peers`, and each peer's
    /// configurations, all as parsed plain data; only then is each peer's state built, and
    /// checked. Nothing is allocated from a snapshot's claims beyond what `config` allows. The new monitor's
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
        // Before the checksum: the earlier model wrote fields this version reads and ignores,
        // so its checksum no longer verifies, and the reason to give is the model.
        if let Some(index) = s.peers.iter().position(|p| p.detector.is_earlier_model()) {
            return Err(SnapshotError::InvalidState {
                index,
                problem: "adaptive: taken by a version before the survival was kept (no `surv`): \
                          its peers ran the earlier lateness model, which this version cannot \
                          restore"
                    .to_owned(),
            });
        }
        let computed = s.sum()?;
        if computed != s.checksum {
            return Err(SnapshotError::Corrupted {
                stored: s.checksum,
                computed,
            });
        }
        if s.taken_at > MAX_TAKEN_AT {
            return Err(SnapshotError::TakenTooLate {
                taken_at: s.taken_at,
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
            if p.rtt.as_ref().is_some_and(|r| !r.runs(&s.timeout)) {
                return invalid("its timeout estimator differs from the snapshot's configuration");
            }
            if (p.level == Level::Unknown) != p.since.is_none() {
                return invalid("its level and the instant it was entered disagree");
            }
            // Only now, its configurations being the monitor's, is anything built from it.
            let state = |e: v1::Invalid| SnapshotError::InvalidState {
                index,
                problem: e.to_string(),
            };
            let detector = AnyDetector::try_from(p.detector).map_err(state)?;
            let rtt = p.rtt.map(peer::Rtt::try_from).transpose().map_err(state)?;
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
                    detector,
                    rtt: rtt.map(Box::new),
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
    use crate::detector::{AnyDetector, DetectorConfig, FixedConfig};
    use crate::time::ManualClock;

    /// A snapshot of three peers, and a way to alter it and seal it again with a valid
    /// checksum, as a forger (not a damaged disk) would.
    fn forge(
        alter: impl FnOnce(&mut v1::Document<u32>),
    ) -> Result<Monitor<u32, ManualClock>, SnapshotError> {
        let m = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
        for p in 0..3 {
            m.heartbeat(&p).unwrap();
        }
        let Versioned::V1(mut v) = m.snapshot().unwrap().inner;
        alter(&mut v);
        v.checksum = v.sum().unwrap();
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
            let fixed = AnyDetector::new(&DetectorConfig::Fixed(FixedConfig::default())).unwrap();
            v.peers[2].detector = v1::Detector::from(&fixed);
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
