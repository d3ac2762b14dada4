//! The monitor's configuration: which detector every peer runs, the suspicion levels, request
//! timeouts, bounds, and the rules that keep a stalling monitor from convicting its peers.

use crate::config::{
    ConfigError, check_bounded, check_positive, check_positive_duration, check_range,
};
use crate::detector::{AnyDetector, Detector, DetectorConfig};
use crate::suspicion::SuspicionConfig;
use crate::time::Nanos;
use crate::timeout::TimeoutConfig;

use super::requests::EjectionConfig;

/// Configuration of a [`Monitor`](super::Monitor).
///
/// | field | default | rule | meaning |
/// |---|---|---|---|
/// | `detector` | [`DetectorConfig::default()`] | its own | the detector every peer runs |
/// | `suspicion` | [`SuspicionConfig::default()`] | its own | φ thresholds of the levels, with hysteresis; `suspect_enter` is also the threshold of [`deadline`](super::Monitor::deadline) |
/// | `timeout` | [`TimeoutConfig::default()`] | its own | each peer's request-timeout estimator, built on its first round-trip sample |
/// | `max_peers` | 1,048,576 | 1 ..= 2^32 − 1 | a heartbeat or sample from a new peer beyond this is refused |
/// | `shards` | 64 | 1 ..= 4096 | independently locked parts of the peer table |
/// | `expire_after` | none | positive | a peer silent for longer than this is removed at the next tick |
/// | `tombstones` | 65,536 | 0 ..= 2^32 − 1 | forgotten peers whose largest sequence number is kept, so that replays of their heartbeats stay refused; 0: none |
/// | `tick_interval` | `100ms` | positive | how often the host calls [`tick`](super::Monitor::tick) |
/// | `stall_threshold` | `100ms` | positive | a tick later than its schedule by more than this means the monitor itself stalled |
/// | `stall_grace` | `1s` | | after a stall, new suspicions are held back this long |
/// | `collective_fraction` | 0.5 | (0, 1] | this share of all peers turning suspect in one tick is a local or network fault |
/// | `collective_min` | 3 | ≥ 1 | ... if at least this many peers do |
/// | `collective_hold` | `10s` | | how long a collective fault may hold transitions back before they apply |
/// | `max_dead_fraction` | 0.5 | (0, 1] | at most this share of peers may be `Dead` at once, counting the candidate |
/// | `mistakes_per_hour` | 0.1 | (0, 3.6·10^6] or none | `suspect_enter` means this many false suspicions per hour of a live peer, for every peer and detector |
/// | `ejection` | [`EjectionConfig::default()`] | its own | when request outcomes eject a backend ([`record_outcome`](super::Monitor::record_outcome)) |
///
/// Durations are at most [`MAX_DURATION`](crate::config::MAX_DURATION) (about 104 days). Errors name fields as
/// `monitor.<field>`, or by the nested configuration's own names.
///
/// ```
/// use accrual::monitor::MonitorConfig;
/// use accrual::ConfigError;
///
/// let cfg = MonitorConfig { max_peers: 0, ..Default::default() };
/// assert_eq!(cfg.validate(), Err(ConfigError::ZeroCount { field: "monitor.max_peers" }));
/// assert!(MonitorConfig::default().validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct MonitorConfig {
    /// The detector every peer runs.
    pub detector: DetectorConfig,
    /// The levels and their thresholds.
    pub suspicion: SuspicionConfig,
    /// Each peer's request-timeout estimator.
    pub timeout: TimeoutConfig,
    /// The most peers watched at once.
    pub max_peers: usize,
    /// Independently locked parts of the peer table.
    pub shards: usize,
    /// Peers silent for longer than this are removed (none: never).
    pub expire_after: Option<Nanos>,
    /// How many forgotten peers the monitor remembers, to refuse replays of their heartbeats
    /// (0: none).
    ///
    /// When a peer is [removed](super::Monitor::remove) or expires, the largest sequence
    /// number it sent is kept as its tombstone. A later heartbeat from that peer numbered at or
    /// below it is a replay of an old one: it is ignored as [`Arrival::Stale`](crate::Arrival)
    /// and the peer is not created again (see [`Monitor::replays`](super::Monitor::replays)).
    /// A higher number is the peer coming back: it is accepted, and the peer starts afresh
    /// from that number. A peer created again by a round-trip sample or a request starts from
    /// its tombstone too. Heartbeats without a number are never refused this way. They count
    /// as numbered from 0, so a peer that sent only those leaves a tombstone all the same: a
    /// numbered heartbeat of it is then accepted only from their count up.
    ///
    /// The latest removals are kept, the oldest overwritten first. Tombstones are kept apart
    /// from the peers, looked at only when a new peer would be created, so heartbeats from
    /// known peers never touch them. They are not in snapshots: a monitor restarted without
    /// one has none (the runtime's `NetConfig::max_clock_skew` covers that case; a peer's own
    /// number is in the snapshot).
    ///
    /// Memory: room is taken as peers are forgotten, up to the limit. Each tombstone costs its
    /// key and a sequence number, with the key's alignment, and about 10 bytes of index: about
    /// 34 bytes with `u64` keys, so 2.2 MB for the default 65,536.
    pub tombstones: usize,
    /// The schedule of [`tick`](super::Monitor::tick). Tick at least this often: a host that
    /// ticks less often has every tick judged late, and holds every suspicion back (each
    /// [`Evaluation`](super::Evaluation) then reports a stall).
    pub tick_interval: Nanos,
    /// Lateness of a tick beyond which the monitor itself was stalled.
    pub stall_threshold: Nanos,
    /// How long after a stall new suspicions are held back.
    pub stall_grace: Nanos,
    /// The share of peers turning suspect in one tick that is a collective fault.
    pub collective_fraction: f64,
    /// The fewest peers turning suspect in one tick that can be a collective fault.
    pub collective_min: usize,
    /// How long a collective fault holds transitions back at most.
    pub collective_hold: Nanos,
    /// The largest share of peers that may be `Dead` at once.
    pub max_dead_fraction: f64,
    /// The false suspicions per hour of a live peer that
    /// [`suspect_enter`](crate::SuspicionConfig::suspect_enter) means, for every peer and
    /// every detector: 0.1 by default, one in ten hours (none: thresholds are φ as the detector
    /// defines it, per heartbeat). Each peer's φ is scaled before it is judged, so that
    /// `suspect_enter` falls at
    /// [`Detector::threshold_for_rate`](crate::Detector::threshold_for_rate) for this rate and
    /// the peer's interval, and every other threshold in proportion (with the defaults, `Dead`
    /// at twice that φ: the square of the probability; `Suspect` is left below half of it).
    /// A live peer's φ of 0 stays 0. [`deadline`](super::Monitor::deadline)
    /// and [`stats`](super::Monitor::stats) use the same threshold. A binary detector
    /// ([`Fixed`](crate::Fixed), [`Chen`](crate::Chen)) keeps its own timeout: its φ is 0 or
    /// far beyond every threshold.
    pub mistakes_per_hour: Option<f64>,
    /// When request outcomes eject a backend: see [`EjectionConfig`]. Ejected backends count
    /// against `max_dead_fraction` with the `Dead` ones.
    pub ejection: EjectionConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            detector: DetectorConfig::default(),
            suspicion: SuspicionConfig::default(),
            timeout: TimeoutConfig::default(),
            max_peers: 1 << 20,
            shards: 64,
            expire_after: None,
            tombstones: 1 << 16,
            tick_interval: Nanos::from_millis(100),
            stall_threshold: Nanos::from_millis(100),
            stall_grace: Nanos::from_secs(1),
            collective_fraction: 0.5,
            collective_min: 3,
            collective_hold: Nanos::from_secs(10),
            max_dead_fraction: 0.5,
            mistakes_per_hour: Some(0.1),
            ejection: EjectionConfig::default(),
        }
    }
}

/// The most shards a monitor accepts.
pub const MAX_SHARDS: usize = 4096;
/// The most peers a monitor accepts.
pub const MAX_PEERS: usize = u32::MAX as usize;

fn check_count(field: &'static str, value: usize, max: usize) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::ZeroCount { field });
    }
    if value > max {
        return Err(ConfigError::OutOfRange {
            field,
            value: value as f64,
            min: 1.0,
            max: max as f64,
        });
    }
    Ok(())
}

/// A share in `(0, 1]`.
fn check_fraction(field: &'static str, value: f64) -> Result<(), ConfigError> {
    check_range(field, value, 0.0, 1.0)?;
    if value == 0.0 {
        return Err(ConfigError::NotPositive { field, value });
    }
    Ok(())
}

impl MonitorConfig {
    /// Checks every rule, the nested configurations' included; the monitor's constructor calls
    /// this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.detector.validate()?;
        self.suspicion.validate()?;
        self.timeout.validate()?;
        check_count("monitor.max_peers", self.max_peers, MAX_PEERS)?;
        check_count("monitor.shards", self.shards, MAX_SHARDS)?;
        if let Some(ttl) = self.expire_after {
            check_positive_duration("monitor.expire_after", ttl)?;
        }
        if self.tombstones > MAX_PEERS {
            return Err(ConfigError::OutOfRange {
                field: "monitor.tombstones",
                value: self.tombstones as f64,
                min: 0.0,
                max: MAX_PEERS as f64,
            });
        }
        check_positive_duration("monitor.tick_interval", self.tick_interval)?;
        check_positive_duration("monitor.stall_threshold", self.stall_threshold)?;
        check_bounded("monitor.stall_grace", self.stall_grace)?;
        check_fraction("monitor.collective_fraction", self.collective_fraction)?;
        check_count("monitor.collective_min", self.collective_min, usize::MAX)?;
        check_bounded("monitor.collective_hold", self.collective_hold)?;
        check_fraction("monitor.max_dead_fraction", self.max_dead_fraction)?;
        if let Some(rate) = self.mistakes_per_hour {
            check_positive("monitor.mistakes_per_hour", rate)?;
            check_range("monitor.mistakes_per_hour", rate, 0.0, MAX_RATE)?;
        }
        self.ejection.validate()
    }

    /// The factor `detector`'s φ is multiplied by before it is judged: `suspect_enter` over
    /// the threshold [`mistakes_per_hour`](Self::mistakes_per_hour) gives it (1 when no rate
    /// is set, or the detector has no interval). A scale, not a shift: a live peer's φ of 0 is
    /// judged 0 whatever the rate, below every threshold to leave a level.
    pub(crate) fn phi_scale(&self, detector: &AnyDetector) -> f64 {
        self.mistakes_per_hour
            .and_then(|rate| detector.threshold_for_rate(rate))
            .map_or(1.0, |t| {
                self.suspicion.suspect_enter / t.max(MIN_RATE_THRESHOLD)
            })
    }

    /// φ of `detector` at `now` as the levels judge it.
    pub(crate) fn judged_phi(&self, detector: &AnyDetector, now: Nanos) -> f64 {
        let phi = detector.phi(now);
        let scale = self.phi_scale(detector);
        if scale == 1.0 { phi } else { phi * scale }
    }

    /// The threshold of [`Monitor::deadline`](super::Monitor::deadline) for `detector`: the
    /// φ it judges as `suspect_enter`.
    pub(crate) fn suspect_threshold(&self, detector: &AnyDetector) -> f64 {
        self.suspicion.suspect_enter / self.phi_scale(detector)
    }
}

/// The smallest threshold a rate stands for: a rate at or above one false suspicion per
/// heartbeat (a threshold of 0 or less) suspects a peer as soon as its φ leaves 0.
const MIN_RATE_THRESHOLD: f64 = 1e-6;

/// The largest [`MonitorConfig::mistakes_per_hour`]: one false suspicion a millisecond.
pub const MAX_RATE: f64 = 3.6e6;
