//! Many peers at once, from many threads: a [`Monitor`] holds every peer's detector, level and
//! request-timeout estimator, and knows when the monitoring process itself was absent.
//!
//! # Storage
//!
//! Peers live in [`shards`](MonitorConfig::shards), each behind its own `parking_lot`
//! read-write lock and chosen by the key's hash, so heartbeats from many threads rarely meet on
//! a lock and never on a global one. A heartbeat from a known peer takes one shard lock, looks
//! the key up and updates its detector: it never allocates. The key is hashed once, and that
//! hash both chooses the shard and finds the peer in it. Hosts never hold a guard: every
//! method locks, does its work and unlocks.
//!
//! A receive loop that reads many datagrams at once hands them over together with
//! [`Monitor::heartbeat_batch`]: the same result as one call each, with each shard's lock taken
//! once per round of up to [`BATCH_ROUND`] heartbeats, and the lines each heartbeat reads
//! prefetched several heartbeats ahead of it, so that the cache misses of a large table overlap
//! each other and the work. How much that gains depends on the table's size against the
//! caches: see `BENCHMARKS.md`. Prefetching is the crate's one use of `unsafe`: a call to the
//! processor's prefetch hint, which cannot fault or change memory.
//!
//! The table is bounded: a new peer beyond [`max_peers`](MonitorConfig::max_peers) is refused
//! with [`MonitorError::PeerLimit`] (known peers are never refused), so a flood of forged ids
//! cannot exhaust memory, and peers silent for longer than
//! [`expire_after`](MonitorConfig::expire_after) are removed at the next tick. A removed peer
//! leaves a [tombstone](MonitorConfig::tombstones), its largest sequence number, so that a
//! replay of its old heartbeats does not bring it back. Tombstones sit behind one lock, taken
//! only to remove a peer and to create one.
//!
//! # Evaluation and the monitor's own pauses
//!
//! Levels change only in [`Monitor::tick`], which the host calls every
//! [`tick_interval`](MonitorConfig::tick_interval) with the current instant (tests and replays
//! pass their own). A tick evaluates every peer's φ against the [suspicion
//! rules](crate::Suspicion) and returns the [transitions](Evaluation::transitions). Three guards
//! stand between φ and a verdict:
//!
//! 1. **Local pauses.** Ticks are scheduled on the monotonic clock; a tick that runs more than
//!    [`stall_threshold`](MonitorConfig::stall_threshold) later than its schedule means the
//!    monitor was stalled (garbage collection, `SIGSTOP`, a suspended VM, an overloaded
//!    runtime): it, not the peers, was absent, and the heartbeats sent meanwhile are still
//!    queued, unread. For the stall and [`stall_grace`](MonitorConfig::stall_grace) after it,
//!    the monitor holds back every new suspicion (transitions to a more severe level), long
//!    enough for the queued heartbeats to be read; recoveries still apply. A peer that really
//!    died during the stall is suspected at the first tick after the grace period. The interval
//!    that ends with a heartbeat read after the stall (or after a tick that is overdue) is not
//!    learned ([`Detector::record_unlearned`]): the silence
//!    was the monitor's, and the default detector would otherwise wait it out on every later
//!    heartbeat.
//! 2. **Collective faults.** When at least [`collective_min`](MonitorConfig::collective_min)
//!    peers and [`collective_fraction`](MonitorConfig::collective_fraction) of all peers turn
//!    suspect in one tick, the tick reports a [`Collective`] fault (the monitor's host or its
//!    network, not many independent deaths) and holds those transitions back, for at most
//!    [`collective_hold`](MonitorConfig::collective_hold) of consecutive such ticks.
//! 3. **The ejection cap.** At most [`max_dead_fraction`](MonitorConfig::max_dead_fraction) of
//!    the peers may be `Dead` at once, checked after counting the candidate: a pool of 3 with a
//!    34% cap can lose one peer, not two. A peer beyond the cap is held at `Suspect` (the
//!    monitor fails open) and listed in [`Evaluation::capped`]. When several peers would die
//!    in one tick, the most certain go first (highest φ, then the longest silent).
//!
//! # Memory
//!
//! A peer costs an entry of its key and a slot of 104 bytes (its detector's inline part, level,
//! the instant it entered it, and a pointer to its request-timeout estimator), a 4-byte place
//! and a control byte in its shard's hash index with the index's spare capacity, and whatever
//! its detector keeps on the heap. Measured with `u64` keys and the default 64 shards, by a counting allocator
//! (`tests/monitor_memory.rs`, which fails if this table goes stale): everything the monitor
//! allocates, divided by the number of peers. The index grows in powers of two and keys spread
//! over shards at random, so figures move by a percent or so.
//!
//! | detector | bytes per peer | peers |
//! |---|---|---|
//! | [`DetectorConfig::Fixed`], the compact choice | 120 | 100,000 |
//! | [`DetectorConfig::PhiNormal`], window 16 | 483 | 10,000 |
//! | [`DetectorConfig::default()`]: [`Adaptive`](crate::Adaptive) | 2,920 | 100,000 |
//! | [`DetectorConfig::PhiExponential`], window 256 | 2,307 | 10,000 |
//! | [`DetectorConfig::Chen`], window 256 | 4,356 | 10,000 |
//! | [`DetectorConfig::Empirical`], histogram at one significant digit | 14,562 | 1,000 |
//! | [`DetectorConfig::Fixed`], with a request-timeout estimator | 97,954 | 1,000 |
//!
//! The same test holds the compact configuration to at most 128 bytes per peer and the default
//! to at most 4 KiB. `cargo run --release --example monitor_memory` measures a million peers;
//! `BENCHMARKS.md` has its figures.
//!
//! A peer's [`TimeoutEstimator`] is built only on its first round-trip sample or timeout, so
//! peers that only send heartbeats never pay for it. With the default
//! [`TimeoutConfig`](crate::TimeoutConfig) its histograms hold an hour of round-trip times at
//! two significant digits, 98 KB; a smaller [`HistogramConfig`](crate::HistogramConfig) in
//! [`MonitorConfig::timeout`] shrinks it (about 14 KB at one significant digit).
//!
//! # Time
//!
//! The monitor reads its [`Clock`] for heartbeats, samples and queries, and takes the instant of
//! a tick as an argument. Its time line is the clock's, except in a monitor restored from a
//! snapshot (`Monitor::from_snapshot`, feature `serde`), whose time line continues the
//! snapshot's: see [`Monitor::now`].
//!
//! ```
//! use accrual::monitor::{Monitor, MonitorConfig};
//! use accrual::{Clock, Level, ManualClock, Nanos};
//!
//! let clock = ManualClock::new(Nanos::ZERO);
//! let monitor = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
//! for _ in 0..50 {
//!     clock.advance(Nanos::from_millis(100));
//!     for peer in ["db-1", "db-2", "db-3", "db-4"] {
//!         monitor.heartbeat(&peer).unwrap();
//!     }
//!     monitor.tick(monitor.now());
//! }
//! assert_eq!(monitor.level(&"db-1"), Some(Level::Alive));
//!
//! // db-4 falls silent; the others keep beating. Seen for five seconds, it is given a
//! // few seconds before it is suspected and some more before it is declared dead.
//! let mut died = None;
//! for _ in 0..400 {
//!     clock.advance(Nanos::from_millis(100));
//!     for peer in ["db-1", "db-2", "db-3"] {
//!         monitor.heartbeat(&peer).unwrap();
//!     }
//!     for (peer, t) in monitor.tick(monitor.now()).transitions {
//!         if t.to == Level::Dead {
//!             died = Some(peer);
//!         }
//!     }
//! }
//! assert_eq!(died, Some("db-4"));
//! assert_eq!(monitor.suspects(), vec![("db-4", Level::Dead)]);
//! ```

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::config::ConfigError;
use crate::detector::{Arrival, ArrivalCounts, Detector, Meaning};
use crate::suspicion::Level;
use crate::time::{Clock, MonotonicClock, Nanos};
use crate::timeout::{TimeoutEstimator, TimeoutStats};

mod batch;
mod config;
mod error;
pub(crate) mod peer;
mod requests;
mod store;
mod tick;
mod tombstones;

#[cfg(feature = "serde")]
mod snapshot;

pub use crate::detector::DetectorConfig;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use crate::snapshot::{SNAPSHOT_FORMAT, SNAPSHOT_VERSION, Snapshot, SnapshotError};
pub use batch::{BATCH_ROUND, Heartbeat};
pub use config::{MAX_PEERS, MAX_SHARDS, MonitorConfig};
pub use error::MonitorError;
pub use requests::{
    Admission, Backend, EjectionConfig, FailureClass, Outcome, ProbeStats, RequestGuard,
};
pub use tick::{Collective, Evaluation, Stall};

use crate::detector::AnyDetector;
use peer::{Rtt, Slot};
use store::{PeerHash, Shard};
use tick::TickState;
use tombstones::Tombstones;

/// A shard on its own cache lines, so that locking one does not slow its neighbours.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// What the monitor knows about one peer: see [`Monitor::stats`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerStats {
    /// Its level as of the latest tick.
    pub level: Level,
    /// When it entered that level (`None` while still in the initial `Unknown`).
    pub since: Option<Nanos>,
    /// φ now.
    pub phi: f64,
    /// The last instant it is trusted if nothing else arrives, at the `Suspect` threshold.
    pub deadline: Option<Nanos>,
    /// Its latest accepted heartbeat.
    pub last_arrival: Option<Nanos>,
    /// Heartbeats accepted, and ignored as stale or duplicate, or earlier than the latest.
    pub arrivals: ArrivalCounts,
    /// What the `Suspect` threshold means for it right now.
    pub meaning: Meaning,
    /// Its round-trip statistics, once it has any samples.
    pub timeouts: Option<TimeoutStats>,
    /// Whether it takes requests, by its outcomes, once it has had any.
    pub admission: Option<Admission>,
    /// Its probes' round trips, learned apart from request latencies.
    pub probe: Option<ProbeStats>,
}

/// Watches many peers: their heartbeats and round-trip times in, their φ, levels, deadlines and
/// request timeouts out. See the [module docs](self).
///
/// `K` is any key (`Hash + Eq + Clone`); `C` the [`Clock`] it reads. Every method takes
/// `&self`: share a monitor between threads with an `Arc` or a scoped reference.
pub struct Monitor<K, C: Clock = MonotonicClock> {
    config: MonitorConfig,
    clock: C,
    /// The monitor's time line is `base + (clock − clock_base)`.
    base: Nanos,
    clock_base: Nanos,
    hasher: RandomState,
    shards: Box<[Padded<RwLock<Shard<K>>>]>,
    /// A fresh detector, cloned for each new peer.
    template: AnyDetector,
    /// A fresh estimator, cloned for a peer's first round-trip sample.
    rtt_template: TimeoutEstimator,
    /// What a cold estimator answers: its request timeout and hedge delay.
    cold_timeout: Nanos,
    cold_hedge: Nanos,
    /// Backends ejected by their request outcomes (or on probation after it).
    ejected: AtomicUsize,
    len: AtomicUsize,
    dead: AtomicUsize,
    rejected: AtomicU64,
    /// Heartbeats of forgotten peers refused by their tombstone.
    replays: AtomicU64,
    /// Forgotten peers' largest sequence numbers: see [`MonitorConfig::tombstones`]. Locked
    /// only to forget a peer and to create one, inside its shard's lock.
    tombstones: Mutex<Tombstones<K>>,
    /// Whether any peer was ever forgotten with a tombstone: until then, creating a peer does
    /// not lock `tombstones` (a start-up storm of new peers meets on no global lock).
    tombstoned: AtomicBool,
    ticks: Mutex<TickState>,
    /// When the monitor was last known present and absent, read on the heartbeat path without
    /// a lock: see [`Absence`].
    absence: Absence,
}

impl<K, C: Clock> fmt::Debug for Monitor<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("peers", &self.len.load(Ordering::Relaxed))
            .field("dead", &self.dead.load(Ordering::Relaxed))
            .field("rejected", &self.rejected.load(Ordering::Relaxed))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Monitor<K, MonotonicClock> {
    /// An empty monitor on the process's monotonic clock, after checking `config`: the
    /// simple path. [`with_clock`](Self::with_clock) takes any other [`Clock`].
    ///
    /// ```
    /// use accrual::{Monitor, MonitorConfig};
    ///
    /// let monitor: Monitor<String> = Monitor::new(MonitorConfig::default())?;
    /// monitor.heartbeat(&"db-1".to_string())?;
    /// assert_eq!(monitor.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: MonitorConfig) -> Result<Self, ConfigError> {
        Self::with_clock(config, MonotonicClock::new())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> Monitor<K, C> {
    /// An empty monitor reading `clock`, after checking `config`: a
    /// [`ManualClock`](crate::ManualClock) in tests and simulations, a runtime's clock in
    /// async programs.
    ///
    /// ```
    /// use accrual::{ManualClock, Monitor, MonitorConfig, Nanos};
    ///
    /// let clock = ManualClock::new(Nanos::from_secs(1));
    /// let monitor: Monitor<String, _> = Monitor::with_clock(MonitorConfig::default(), clock)?;
    /// assert!(monitor.is_empty());
    /// # Ok::<(), accrual::ConfigError>(())
    /// ```
    pub fn with_clock(config: MonitorConfig, clock: C) -> Result<Self, ConfigError> {
        config.validate()?;
        let template = AnyDetector::new(&config.detector)?;
        let mut rtt_template = TimeoutEstimator::new(config.timeout.clone())?;
        // A cold estimator's answer does not depend on the instant.
        let cold_timeout = rtt_template.timeout(Nanos::ZERO);
        let cold_hedge = rtt_template.hedge_delay(Nanos::ZERO);
        let shards = (0..config.shards)
            .map(|_| Padded::default())
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ok(Monitor {
            base: Nanos::ZERO,
            clock_base: Nanos::ZERO,
            clock,
            hasher: RandomState::new(),
            shards,
            template,
            rtt_template,
            cold_timeout,
            cold_hedge,
            ejected: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            dead: AtomicUsize::new(0),
            rejected: AtomicU64::new(0),
            replays: AtomicU64::new(0),
            tombstones: Mutex::new(Tombstones::new(config.tombstones)),
            tombstoned: AtomicBool::new(false),
            ticks: Mutex::new(TickState::default()),
            absence: Absence::default(),
            config,
        })
    }

    /// The configuration.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor: Monitor<u8, _> = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// assert_eq!(monitor.config().shards, 64);
    /// ```
    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// The clock.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Clock, ManualClock, Nanos};
    ///
    /// let monitor: Monitor<u8, _> = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.clock().advance(Nanos::from_secs(1));
    /// assert_eq!(monitor.clock().now(), monitor.now());
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The current instant on the monitor's time line: the clock's reading, except in a monitor
    /// restored from a snapshot, whose time line continues the snapshot's (it starts at the
    /// instant the snapshot was taken and advances with the clock), so that the learned
    /// arrival times stay meaningful across a restart. Pass instants of this time line to
    /// [`tick`](Self::tick) and [`heartbeat_at`](Self::heartbeat_at).
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let clock = ManualClock::new(Nanos::from_secs(5));
    /// let monitor: Monitor<u32, _> = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    /// clock.advance(Nanos::from_secs(1));
    /// assert_eq!(monitor.now(), Nanos::from_secs(6));
    /// ```
    pub fn now(&self) -> Nanos {
        self.base + (self.clock.now() - self.clock_base)
    }

    /// The peer's hash, computed once per call: it chooses the shard and places the peer in
    /// the shard's index.
    fn hash(&self, peer: &K) -> PeerHash {
        PeerHash::of(&self.hasher, peer)
    }

    /// The peer's hash and its shard.
    fn locate(&self, peer: &K) -> (PeerHash, &RwLock<Shard<K>>) {
        let h = self.hash(peer);
        (h, &self.shards[h.shard(self.shards.len())].0)
    }

    /// Counts a new peer in, unless the table is full.
    fn admit(&self) -> Result<(), MonitorError> {
        let max = self.config.max_peers;
        self.len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map(drop)
            .map_err(|_| {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                MonitorError::PeerLimit { max_peers: max }
            })
    }

    /// Applies `f` to the peer's slot, creating the peer if it is new and there is room.
    fn upsert<R>(&self, peer: &K, f: impl FnOnce(&mut Slot) -> R) -> Result<R, MonitorError> {
        self.upsert_unless(peer, f, |_| false)
    }

    /// [`upsert`](Self::upsert), except that a new peer with a tombstone is left uncreated
    /// when `replay` says what `f` made of its fresh slot (which starts from the tombstone's
    /// number) is a replay.
    fn upsert_unless<R>(
        &self,
        peer: &K,
        f: impl FnOnce(&mut Slot) -> R,
        replay: impl FnOnce(&R) -> bool,
    ) -> Result<R, MonitorError> {
        let (h, shard) = self.locate(peer);
        if let Some(slot) = shard.write().get_mut(h, peer) {
            return Ok(f(slot));
        }
        self.admit()?;
        // Built outside the lock: a new peer allocates its detector.
        let mut fresh = Slot::new(self.template.clone());
        let mut s = shard.write();
        if let Some(slot) = s.get_mut(h, peer) {
            // Another thread added it meanwhile.
            self.len.fetch_sub(1, Ordering::AcqRel);
            return Ok(f(slot));
        }
        // Under the shard's lock, as its removal was: the tombstone cannot change meanwhile.
        let tomb = self.tombstone(peer);
        if let Some(seq) = tomb {
            fresh.detector.continue_from(seq);
        }
        let r = f(&mut fresh);
        if tomb.is_some() {
            if replay(&r) {
                self.len.fetch_sub(1, Ordering::AcqRel);
                self.replays.fetch_add(1, Ordering::Relaxed);
                return Ok(r);
            }
            self.tombstones.lock().take(&self.hasher, peer);
        }
        s.insert(&self.hasher, h, peer.clone(), fresh);
        Ok(r)
    }

    /// The tombstone of `peer`, if the monitor keeps tombstones and has one.
    fn tombstone(&self, peer: &K) -> Option<u64> {
        // Set under the lock of the removed peer's shard, which the caller holds for `peer`.
        if !self.tombstoned.load(Ordering::Acquire) {
            return None;
        }
        self.tombstones.lock().get(&self.hasher, peer)
    }

    fn read<R>(&self, peer: &K, f: impl FnOnce(&Slot) -> R) -> Option<R> {
        let (h, shard) = self.locate(peer);
        shard.read().get(h, peer).map(f)
    }

    fn write<R>(&self, peer: &K, f: impl FnOnce(&mut Slot) -> R) -> Option<R> {
        let (h, shard) = self.locate(peer);
        shard.write().get_mut(h, peer).map(f)
    }

    /// Records a heartbeat from `peer`, received now, taken to be the next one it sent.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Arrival, ManualClock};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// assert_eq!(monitor.heartbeat(&7u64), Ok(Arrival::Accepted));
    /// assert_eq!(monitor.len(), 1);
    /// ```
    pub fn heartbeat(&self, peer: &K) -> Result<Arrival, MonitorError> {
        self.heartbeat_at(peer, self.now(), None)
    }

    /// Records a heartbeat from `peer`, received now, carrying the sender's sequence number: a
    /// number not greater than the largest accepted (a duplicate or a reordered datagram) is
    /// ignored and counted in [`PeerStats::arrivals`].
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Arrival, ManualClock};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// assert_eq!(monitor.heartbeat_seq(&"a", 5), Ok(Arrival::Accepted));
    /// assert_eq!(monitor.heartbeat_seq(&"a", 5), Ok(Arrival::Stale));
    /// assert_eq!(monitor.stats(&"a").unwrap().arrivals.stale, 1);
    /// ```
    pub fn heartbeat_seq(&self, peer: &K, seq: u64) -> Result<Arrival, MonitorError> {
        self.heartbeat_at(peer, self.now(), Some(seq))
    }

    /// Records a heartbeat from `peer` received at `at` (on the monitor's time line, for
    /// example a socket's receive timestamp), with the sender's sequence number if it has one.
    /// For a known peer this takes one shard lock and never allocates. For a peer the monitor
    /// forgot, a number at or below its [tombstone](MonitorConfig::tombstones) is ignored as
    /// [`Arrival::Stale`] and creates no peer.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Arrival, ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat_at(&1u8, Nanos::from_secs(2), Some(0)).unwrap();
    /// // Earlier than the latest arrival: ignored and counted, never a negative interval.
    /// assert_eq!(monitor.heartbeat_at(&1u8, Nanos::from_secs(1), None), Ok(Arrival::Backwards));
    /// ```
    pub fn heartbeat_at(
        &self,
        peer: &K,
        at: Nanos,
        seq: Option<u64>,
    ) -> Result<Arrival, MonitorError> {
        self.upsert_unless(
            peer,
            |slot| self.record_heartbeat(slot, at, seq),
            |arrival| *arrival == Arrival::Stale,
        )
    }

    /// A heartbeat into a known peer's slot: not learned from when the interval since the
    /// previous one overlaps a time the monitor was away.
    #[inline]
    /// Records a heartbeat in the peer's detector. The silence before it is not learned when
    /// the monitor itself was absent during it, nor when it ended in `Dead`: an outage, a
    /// restarted peer or a replaced leader is not lateness the peer's next heartbeats may show.
    fn record_heartbeat(&self, slot: &mut Slot, at: Nanos, seq: Option<u64>) -> Arrival {
        let interval = self.config.tick_interval + self.config.stall_threshold;
        let dead = slot.level == Level::Dead;
        let d = &mut slot.detector;
        let unlearned = d
            .last_arrival()
            .is_some_and(|last| dead || self.absence.overlaps(last, at, interval));
        if unlearned {
            d.record_unlearned(at, seq)
        } else {
            d.record(at, seq)
        }
    }

    /// Feeds `peer`'s estimator; `heard`: whether the sample is a reply, which counts as
    /// hearing from the peer (a timeout does not).
    fn record_rtt_with(
        &self,
        peer: &K,
        heard: bool,
        f: impl FnOnce(&mut TimeoutEstimator, Nanos),
    ) -> Result<(), MonitorError> {
        let now = self.now();
        self.upsert(peer, |slot| {
            let rtt = self.rtt_of(slot, now);
            f(&mut rtt.estimator, now);
            if heard {
                rtt.last = rtt.last.max(now);
            }
            rtt.publish(now, false);
        })
    }

    /// The peer's request box, built cold on first use. Building it is not hearing from the
    /// peer: it starts from the latest instant the peer was heard from, or from `now` for a
    /// peer created by this call (so that [`expire_after`](MonitorConfig::expire_after) counts
    /// from its creation).
    fn rtt_of<'s>(&self, slot: &'s mut Slot, now: Nanos) -> &'s mut Rtt {
        let heard = slot.heard().unwrap_or(now);
        slot.rtt.get_or_insert_with(|| {
            Box::new(Rtt::cold(
                &self.rtt_template,
                (self.cold_timeout, self.cold_hedge),
                heard,
            ))
        })
    }

    /// Records what became of one request to `peer`, now: a round-trip sample for a reply, a
    /// censored one for a timeout, and evidence for passive ejection (see
    /// [`EjectionConfig`]). A gateway failure that reaches
    /// [`consecutive_gateway_failures`](EjectionConfig::consecutive_gateway_failures) ejects
    /// the backend at once, unless the ejection cap
    /// ([`max_dead_fraction`](MonitorConfig::max_dead_fraction), counting `Dead` and ejected
    /// peers together) is reached. Only replies count as hearing from the peer.
    ///
    /// ```
    /// use accrual::monitor::{Admission, FailureClass, Monitor, MonitorConfig, Outcome};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// let ok = Outcome::Success { latency: Nanos::from_millis(3) };
    /// for b in ["a", "b"] {
    ///     monitor.record_outcome(&b, ok).unwrap();
    /// }
    /// let gateway = Outcome::Failed { class: FailureClass::Gateway, latency: Nanos::from_millis(1) };
    /// for _ in 0..3 {
    ///     monitor.record_outcome(&"b", gateway).unwrap();
    /// }
    /// assert_eq!(monitor.admission(&"a"), Some(Admission::Admitted));
    /// assert_eq!(monitor.admission(&"b"), Some(Admission::Ejected));
    /// ```
    pub fn record_outcome(&self, peer: &K, outcome: Outcome) -> Result<(), MonitorError> {
        let now = self.now();
        let cfg = &self.config.ejection;
        let change = self.upsert(peer, |slot| {
            let dead = slot.level == Level::Dead;
            let rtt = self.rtt_of(slot, now);
            match outcome {
                Outcome::Success { latency }
                | Outcome::Failed {
                    class: FailureClass::Client,
                    latency,
                } => {
                    rtt.estimator.record(latency, now);
                    rtt.last = rtt.last.max(now);
                }
                Outcome::Failed { .. } => rtt.last = rtt.last.max(now),
                Outcome::TimedOut { waited } => rtt.estimator.record_timeout(waited, now),
                Outcome::Refused | Outcome::Cancelled { .. } => {}
            }
            let may_eject = !dead && self.room_to_eject();
            let change = rtt.requests.record(outcome, now, cfg, may_eject);
            rtt.publish(now, false);
            change
        })?;
        match change {
            requests::Change::Ejected => {
                self.ejected.fetch_add(1, Ordering::AcqRel);
            }
            requests::Change::Readmitted => {
                self.ejected.fetch_sub(1, Ordering::AcqRel);
            }
            requests::Change::None => {}
        }
        Ok(())
    }

    /// Whether one more backend may be ejected: the `Dead` and ejected peers, with it, stay
    /// within [`max_dead_fraction`](MonitorConfig::max_dead_fraction).
    fn room_to_eject(&self) -> bool {
        let out = self.dead.load(Ordering::Acquire) + self.ejected.load(Ordering::Acquire);
        (out + 1) as f64 <= self.config.max_dead_fraction * self.len() as f64
    }

    /// Starts a request to `peer` now, creating the peer if it is new: the guard records its
    /// outcome, and records it as cancelled if dropped untold.
    pub fn start_request(self: &Arc<Self>, peer: &K) -> Result<RequestGuard<K, C>, MonitorError> {
        let now = self.now();
        self.upsert(peer, |slot| {
            self.rtt_of(slot, now);
        })?;
        Ok(RequestGuard::new(Arc::clone(self), peer.clone(), now))
    }

    /// A handle on `peer`'s answers for a load balancer (request timeout, hedge delay,
    /// admission), creating the peer if it is new. Every read of the handle is an atomic load;
    /// the monitor refreshes it as outcomes are recorded and at every tick.
    pub fn backend(&self, peer: &K) -> Result<Backend, MonitorError> {
        let now = self.now();
        self.upsert(peer, |slot| self.rtt_of(slot, now).requests.handle())
    }

    /// Whether `peer` takes requests, by its outcomes; `None` for an unknown peer, or one that
    /// has had no requests.
    pub fn admission(&self, peer: &K) -> Option<Admission> {
        self.read(peer, |slot| {
            slot.rtt.as_ref().map(|r| r.requests.admission())
        })
        .flatten()
    }

    /// The delay after which to hedge a request to `peer` (send a duplicate elsewhere): the
    /// [`hedge_quantile`](crate::TimeoutConfig::hedge_quantile) of its round trips, as of the
    /// latest tick; the cold answer for a peer with no requests.
    pub fn hedge_delay(&self, peer: &K) -> Nanos {
        self.read(peer, |slot| {
            slot.rtt.as_ref().map(|r| r.requests.handle().hedge_delay())
        })
        .flatten()
        .unwrap_or(self.cold_hedge)
    }

    /// How long to wait for the answer to a probe of `peer`: RFC 6298's `SRTT + 4·RTTVAR` of
    /// its probes, within the request timeout's floor and ceiling; the cold request timeout
    /// before any probe was answered. Doubles with each unanswered probe since the last
    /// answer, up to the ceiling.
    pub fn probe_timeout(&self, peer: &K) -> Nanos {
        let t = &self.config.timeout;
        self.read(peer, |slot| slot.rtt.as_ref().map(|r| r.requests.probe))
            .flatten()
            .and_then(|p| p.timeout(t.floor, t.ceiling))
            .unwrap_or(self.cold_timeout)
    }

    /// Records the round trip of a probe of `peer` (a ping of the heartbeat layer, not a
    /// request), received now: `None` for a probe that went unanswered. Probes are learned
    /// apart from request latencies ([`PeerStats::probe`]); an answered one counts as hearing
    /// from the peer, an unanswered one does not. A probe never creates a peer: the result for
    /// a peer the monitor no longer holds (removed or expired while the probe was out) is
    /// dropped, and `false` returned, so that probes cannot keep a silent peer alive.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert!(monitor.record_probe(&"a", Some(Nanos::from_millis(2))));
    /// assert!(!monitor.record_probe(&"gone", None));
    /// assert!(!monitor.contains(&"gone"));
    /// ```
    pub fn record_probe(&self, peer: &K, rtt: Option<Nanos>) -> bool {
        let now = self.now();
        self.write(peer, |slot| {
            let r = self.rtt_of(slot, now);
            r.requests.record_probe(rtt);
            if rtt.is_some() {
                r.last = r.last.max(now);
            }
        })
        .is_some()
    }

    /// Records the round-trip time of a reply from `peer` received now. The peer's estimator is
    /// built on its first sample.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.record_rtt(&"backend-1", Nanos::from_millis(20)).unwrap();
    /// assert_eq!(monitor.stats(&"backend-1").unwrap().timeouts.unwrap().samples, 1);
    /// ```
    pub fn record_rtt(&self, peer: &K, rtt: Nanos) -> Result<(), MonitorError> {
        self.record_rtt_with(peer, true, |est, now| est.record(rtt, now))
    }

    /// Records a request to `peer` that gave up after `waited`, now: a censored sample (see
    /// [`TimeoutEstimator::record_timeout`]).
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// let before = monitor.request_timeout(&"b");
    /// monitor.record_timeout(&"b", before).unwrap();
    /// assert!(monitor.request_timeout(&"b") > before);
    /// ```
    pub fn record_timeout(&self, peer: &K, waited: Nanos) -> Result<(), MonitorError> {
        self.record_rtt_with(peer, false, |est, now| est.record_timeout(waited, now))
    }

    /// How long the next request to `peer` may take: its estimator's answer as published at
    /// its latest sample or the latest tick (under a shard's read lock; a [`Backend`] handle
    /// reads it with no lock at all), or the cold answer
    /// ([`TimeoutConfig::initial`](crate::TimeoutConfig::initial) for the default policy) for a
    /// peer with no round-trip samples or not known at all. Never creates a peer.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// assert_eq!(monitor.request_timeout(&"never-seen"), Nanos::from_secs(1));
    /// assert!(monitor.is_empty());
    /// ```
    pub fn request_timeout(&self, peer: &K) -> Nanos {
        self.read(peer, |slot| {
            slot.rtt
                .as_ref()
                .map(|r| r.requests.handle().request_timeout())
        })
        .flatten()
        .unwrap_or(self.cold_timeout)
    }

    /// φ of `peer` now; `None` for a peer the monitor does not know.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert!(monitor.phi(&"a").unwrap() < 0.001);
    /// assert_eq!(monitor.phi(&"b"), None);
    /// ```
    pub fn phi(&self, peer: &K) -> Option<f64> {
        let now = self.now();
        self.read(peer, |slot| slot.detector.phi(now))
    }

    /// The level of `peer` as of the latest [`tick`](Self::tick) (`Unknown` until a tick has
    /// judged it); `None` for a peer the monitor does not know.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Level, ManualClock};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert_eq!(monitor.level(&"a"), Some(Level::Unknown));
    /// monitor.tick(monitor.now());
    /// assert_eq!(monitor.level(&"a"), Some(Level::Alive));
    /// ```
    pub fn level(&self, peer: &K) -> Option<Level> {
        self.read(peer, |slot| slot.level)
    }

    /// The last instant `peer` is trusted if nothing else arrives: when its φ reaches
    /// [`suspect_enter`](crate::SuspicionConfig::suspect_enter). `None` for an unknown peer, one
    /// with no heartbeat yet, or a detector that would never get there.
    ///
    /// ```
    /// use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
    /// use accrual::{FixedConfig, ManualClock, Nanos};
    ///
    /// let cfg = MonitorConfig {
    ///     detector: DetectorConfig::Fixed(FixedConfig { timeout: Nanos::from_millis(300) }),
    ///     ..Default::default()
    /// };
    /// let monitor = Monitor::with_clock(cfg, ManualClock::new(Nanos::from_secs(1))).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert_eq!(monitor.deadline(&"a"), Some(Nanos::from_millis(1_300)));
    /// ```
    pub fn deadline(&self, peer: &K) -> Option<Nanos> {
        self.read(peer, |slot| {
            let threshold = self.config.suspect_threshold(&slot.detector);
            slot.detector.deadline(threshold)
        })
        .flatten()
    }

    /// Everything the monitor knows about `peer` now; `None` for a peer it does not know.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Level, ManualClock, Nanos};
    ///
    /// let clock = ManualClock::default();
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    /// for seq in 0..10 {
    ///     clock.advance(Nanos::from_secs(1));
    ///     monitor.heartbeat_seq(&"a", seq).unwrap();
    /// }
    /// let stats = monitor.stats(&"a").unwrap();
    /// assert_eq!(stats.arrivals.accepted, 10);
    /// assert_eq!(stats.last_arrival, Some(Nanos::from_secs(10)));
    /// assert!(stats.meaning.timeout.unwrap() > Nanos::from_secs(1));
    /// assert_eq!(stats.timeouts, None);
    /// ```
    pub fn stats(&self, peer: &K) -> Option<PeerStats> {
        let now = self.now();
        self.write(peer, |slot| {
            let threshold = self.config.suspect_threshold(&slot.detector);
            PeerStats {
                level: slot.level,
                since: slot.since(),
                phi: slot.detector.phi(now),
                deadline: slot.detector.deadline(threshold),
                last_arrival: slot.detector.last_arrival(),
                arrivals: slot.detector.arrivals(),
                meaning: slot.detector.meaning(threshold),
                timeouts: slot.rtt.as_mut().map(|rtt| rtt.estimator.stats(now)),
                admission: slot.rtt.as_ref().map(|r| r.requests.admission()),
                probe: slot
                    .rtt
                    .as_ref()
                    .map(|r| r.requests.probe)
                    .filter(|p| p.samples + p.timeouts > 0),
            }
        })
    }

    /// Every peer at `Suspect` or `Dead` as of the latest tick, in no particular order.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert!(monitor.suspects().is_empty());
    /// ```
    pub fn suspects(&self) -> Vec<(K, Level)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let s = shard.0.read();
            out.extend(
                s.iter()
                    .filter(|(_, slot)| matches!(slot.level, Level::Suspect | Level::Dead))
                    .map(|(k, slot)| (k.clone(), slot.level)),
            );
        }
        out
    }

    /// Every peer and its level as of the latest tick, in no particular order: with
    /// [`suspects`](Self::suspects)' filter left out, what a subscriber that missed transitions
    /// resynchronises from. Each shard is read-locked in turn, so the list is exact between
    /// ticks (levels change only in [`tick`](Self::tick)).
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Level, ManualClock};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// monitor.heartbeat(&"b").unwrap();
    /// monitor.tick(monitor.now());
    /// let mut levels = monitor.levels();
    /// levels.sort();
    /// assert_eq!(levels, vec![("a", Level::Alive), ("b", Level::Alive)]);
    /// ```
    pub fn levels(&self) -> Vec<(K, Level)> {
        let mut out = Vec::with_capacity(self.len());
        for shard in self.shards.iter() {
            let s = shard.0.read();
            out.extend(s.iter().map(|(k, slot)| (k.clone(), slot.level)));
        }
        out
    }

    /// Whether the monitor was away during any of `(from, to]`: the latest stall a
    /// [`tick`](Self::tick) noticed overlaps it, or it runs past a tick that is overdue by more
    /// than `tick_interval + stall_threshold` (a stall no tick has noticed yet). A
    /// measurement spanning such a time measures the monitor's absence, not the peer: the
    /// heartbeat path leaves such intervals unlearned, and a prober can leave such round trips
    /// (a reply that waited unread) unrecorded.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let clock = ManualClock::default();
    /// let monitor: Monitor<u8, _> = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    /// monitor.tick(monitor.now());
    /// clock.advance(Nanos::from_millis(100));
    /// monitor.tick(monitor.now());
    /// assert!(!monitor.was_absent(Nanos::ZERO, monitor.now()));
    /// // Stopped for 5 s: until a tick notices, the overdue tick says so; after, the stall does.
    /// clock.advance(Nanos::from_secs(5));
    /// assert!(monitor.was_absent(Nanos::from_millis(50), monitor.now()));
    /// monitor.tick(monitor.now());
    /// assert!(monitor.was_absent(Nanos::from_millis(50), monitor.now()));
    /// assert!(!monitor.was_absent(monitor.now(), monitor.now() + Nanos::from_millis(50)));
    /// ```
    pub fn was_absent(&self, from: Nanos, to: Nanos) -> bool {
        let overdue = self.config.tick_interval + self.config.stall_threshold;
        self.absence.overlaps(from, to, overdue)
    }

    /// Forgets `peer`; whether it was known.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert!(monitor.remove(&"a"));
    /// assert!(!monitor.remove(&"a"));
    /// assert!(monitor.is_empty());
    /// ```
    pub fn remove(&self, peer: &K) -> bool {
        let (h, shard) = self.locate(peer);
        self.remove_locked(&mut shard.write(), h, peer).is_some()
    }

    /// Removes `peer` from a locked shard, keeping the counts right and its tombstone.
    fn remove_locked(&self, s: &mut Shard<K>, h: PeerHash, peer: &K) -> Option<Slot> {
        let slot = s.remove(h, peer)?;
        if self.config.tombstones > 0
            && let Some(seq) = slot.detector.max_seq()
        {
            self.tombstones
                .lock()
                .insert(&self.hasher, peer.clone(), seq);
            self.tombstoned.store(true, Ordering::Release);
        }
        self.len.fetch_sub(1, Ordering::AcqRel);
        if slot.level == Level::Dead {
            self.dead.fetch_sub(1, Ordering::AcqRel);
        }
        if slot.rtt.as_ref().is_some_and(|r| r.requests.out()) {
            self.ejected.fetch_sub(1, Ordering::AcqRel);
        }
        Some(slot)
    }

    /// Whether the monitor knows `peer`.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// assert!(monitor.contains(&"a") && !monitor.contains(&"b"));
    /// ```
    pub fn contains(&self, peer: &K) -> bool {
        self.read(peer, |_| ()).is_some()
    }

    /// The number of peers watched.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// for p in 0..5u32 {
    ///     monitor.heartbeat(&p).unwrap();
    /// }
    /// monitor.heartbeat(&0).unwrap();
    /// assert_eq!(monitor.len(), 5);
    /// ```
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether no peer is watched.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let monitor: Monitor<u8, _> = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// assert!(monitor.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of peers at `Dead`, which the
    /// [ejection cap](MonitorConfig::max_dead_fraction) bounds.
    ///
    /// ```
    /// use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
    /// use accrual::{FixedConfig, ManualClock, Nanos};
    ///
    /// let cfg = MonitorConfig {
    ///     detector: DetectorConfig::Fixed(FixedConfig { timeout: Nanos::from_millis(200) }),
    ///     ..Default::default()
    /// };
    /// let clock = ManualClock::default();
    /// let monitor = Monitor::with_clock(cfg, clock.clone()).unwrap();
    /// monitor.heartbeat(&"a").unwrap();
    /// monitor.heartbeat(&"b").unwrap();
    /// monitor.tick(monitor.now());
    /// clock.advance(Nanos::from_millis(100));
    /// monitor.heartbeat(&"a").unwrap();
    /// monitor.tick(monitor.now());
    /// clock.advance(Nanos::from_millis(150));
    /// monitor.heartbeat(&"a").unwrap();
    /// monitor.tick(monitor.now());
    /// // b has been silent for 250 ms: dead, and one of two is within the 50% cap.
    /// assert_eq!(monitor.dead(), 1);
    /// ```
    pub fn dead(&self) -> usize {
        self.dead.load(Ordering::Acquire)
    }

    /// How many heartbeats and samples from new peers were refused for want of room.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let cfg = MonitorConfig { max_peers: 2, ..Default::default() };
    /// let monitor = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
    /// for p in 0..5u32 {
    ///     let _ = monitor.heartbeat(&p);
    /// }
    /// assert_eq!((monitor.len(), monitor.rejected()), (2, 3));
    /// ```
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// How many heartbeats from forgotten peers were refused as replays: numbered at or below
    /// the largest number the peer had sent before it was removed or expired (see
    /// [`MonitorConfig::tombstones`]). They are returned as [`Arrival::Stale`] and create no
    /// peer.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{Arrival, ManualClock};
    ///
    /// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
    /// monitor.heartbeat_seq(&"a", 41).unwrap();
    /// monitor.remove(&"a");
    /// // A captured heartbeat, played again: refused, and "a" stays forgotten.
    /// assert_eq!(monitor.heartbeat_seq(&"a", 41), Ok(Arrival::Stale));
    /// assert_eq!((monitor.len(), monitor.replays()), (0, 1));
    /// // A new number is "a" itself, back.
    /// assert_eq!(monitor.heartbeat_seq(&"a", 42), Ok(Arrival::Accepted));
    /// ```
    pub fn replays(&self) -> u64 {
        self.replays.load(Ordering::Relaxed)
    }

    /// The peers per shard, for checking that keys spread evenly.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::ManualClock;
    ///
    /// let cfg = MonitorConfig { shards: 4, ..Default::default() };
    /// let monitor = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
    /// for p in 0..4_000u32 {
    ///     monitor.heartbeat(&p).unwrap();
    /// }
    /// let sizes = monitor.shard_sizes();
    /// assert_eq!(sizes.iter().sum::<usize>(), 4_000);
    /// assert!(sizes.iter().all(|&n| n > 800 && n < 1_200));
    /// ```
    pub fn shard_sizes(&self) -> Vec<usize> {
        self.shards.iter().map(|s| s.0.read().len()).collect()
    }
}

/// The monitor's own absences, as the heartbeat path needs them: the latest stall a tick
/// noticed, and the latest tick. An interval between two heartbeats that overlaps a stall, or
/// that runs past an overdue tick (a stall no tick has noticed yet), was partly spent with the
/// monitor away: the heartbeat ending it may have waited unread, so its interval says nothing
/// about the peer and a learning detector does not learn it
/// ([`Detector::record_unlearned`]).
#[derive(Debug)]
pub(crate) struct Absence {
    /// Nanoseconds of the last tick before the latest stall, and of the tick that noticed it
    /// (`0, 0`: none yet).
    stall_from: AtomicU64,
    stall_to: AtomicU64,
    /// Nanoseconds of the latest tick (`u64::MAX`: none yet).
    last_tick: AtomicU64,
}

impl Default for Absence {
    fn default() -> Self {
        Absence {
            stall_from: AtomicU64::new(0),
            stall_to: AtomicU64::new(0),
            last_tick: AtomicU64::new(u64::MAX),
        }
    }
}

impl Absence {
    /// Records a tick at `now`, and the stall it noticed.
    pub(crate) fn ticked(&self, now: Nanos, stall: Option<(Nanos, Nanos)>) {
        if let Some((from, to)) = stall {
            self.stall_from.store(from.as_nanos(), Ordering::Release);
            self.stall_to.store(to.as_nanos(), Ordering::Release);
        }
        self.last_tick.store(now.as_nanos(), Ordering::Release);
    }

    /// Whether the interval `(last, at]` overlaps a time the monitor was away: the latest
    /// stall, or the time since a tick that is overdue by more than `overdue`.
    fn overlaps(&self, last: Nanos, at: Nanos, overdue: Nanos) -> bool {
        let (last, at) = (last.as_nanos(), at.as_nanos());
        let from = self.stall_from.load(Ordering::Acquire);
        let to = self.stall_to.load(Ordering::Acquire);
        if to > from && last < to && at > from {
            return true;
        }
        let tick = self.last_tick.load(Ordering::Acquire);
        tick != u64::MAX
            && at > tick.saturating_add(overdue.as_nanos())
            && last < at.saturating_sub(overdue.as_nanos())
    }
}
