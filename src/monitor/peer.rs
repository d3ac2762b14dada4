//! One peer's state: its detector, its level, and its request-timeout estimator once it has
//! round-trip samples.

use crate::detector::{AnyDetector, Detector, DetectorConfig};
use crate::prefetch;
use crate::suspicion::Level;
use crate::time::Nanos;
use crate::timeout::TimeoutEstimator;

use super::requests::Requests;

/// The monitor's use of a peer's detector: which of its lines a heartbeat will touch.
impl AnyDetector {
    /// Asks for the lines of the detector whose place depends on a heartbeat at `at`, after
    /// [`prefetch_fixed`](Self::prefetch_fixed): see [`Adaptive::prefetch_bucket`](crate::Adaptive::prefetch_bucket).
    pub(crate) fn prefetch_dependent(&self, at: Nanos) {
        if let AnyDetector::Adaptive(d) = self {
            d.prefetch_bucket(at);
        }
        // Nothing of the others' depends on the heartbeat.
    }

    /// Whether detectors of `config`'s kind live wholly in the slot (the compact one), with no
    /// lines of their own elsewhere.
    pub(crate) fn is_inline(config: &DetectorConfig) -> bool {
        matches!(config, DetectorConfig::Fixed(_))
    }

    /// How many bytes at the start of a peer's entry (its key, then its slot, whose detector
    /// comes first) a heartbeat reads, for detectors of `config`'s kind: the compact detector
    /// is inline, the others are a pointer.
    pub(crate) fn inline_bytes<K>(config: &DetectorConfig) -> usize {
        let detector = if Self::is_inline(config) {
            size_of::<AnyDetector>()
        } else {
            // The variant's tag and its box, as rustc lays the enum out today (a hint only: a
            // different layout would prefetch too little, never change a result).
            2 * size_of::<usize>()
        };
        std::mem::offset_of!(crate::monitor::store::Entry<K>, slot) + detector
    }

    /// Asks for the lines at fixed places that a heartbeat touches in a boxed detector (see
    /// [`Adaptive::prefetch_fixed`](crate::Adaptive::prefetch_fixed)); the compact one is inline in the slot.
    pub(crate) fn prefetch_fixed(&self) {
        match self {
            AnyDetector::Fixed(_) => {}
            AnyDetector::Adaptive(d) => d.prefetch_fixed(),
            AnyDetector::PhiNormal(d) => prefetch::line(&**d),
            AnyDetector::PhiExponential(d) => prefetch::line(&**d),
            AnyDetector::Chen(d) => prefetch::line(&**d),
            AnyDetector::Empirical(d) => prefetch::line(&**d),
        }
    }
}

/// A peer's request-timeout estimator, and when it last learned something.
#[derive(Debug, Clone)]
pub(crate) struct Rtt {
    pub(crate) estimator: TimeoutEstimator,
    pub(crate) last: Nanos,
    /// Outcomes, ejection, probes, and the answers published to [`Backend`](super::Backend)s.
    pub(crate) requests: Requests,
}

impl Rtt {
    /// A box around `estimator`, publishing its answers at `now` (computed on a copy: the
    /// estimator is kept exactly as given).
    #[cfg(feature = "serde")]
    pub(crate) fn new(estimator: TimeoutEstimator, last: Nanos, now: Nanos) -> Self {
        let mut copy = estimator.clone();
        let requests = Requests::new(copy.timeout(now), copy.hedge_delay(now));
        Rtt {
            estimator,
            last,
            requests,
        }
    }

    /// A fresh box: a copy of `template` (a cold estimator), publishing its cold answers, the
    /// peer last heard from at `last`.
    pub(crate) fn cold(template: &TimeoutEstimator, cold: (Nanos, Nanos), last: Nanos) -> Self {
        Rtt {
            estimator: template.clone(),
            last,
            requests: Requests::new(cold.0, cold.1),
        }
    }

    /// Publishes the request timeout (cheap: its histogram term is cached) and, with `hedge`,
    /// the hedge delay (a quantile of the window).
    pub(crate) fn publish(&mut self, now: Nanos, hedge: bool) {
        let timeout = self.estimator.timeout(now);
        let hedge = if hedge {
            self.estimator.hedge_delay(now)
        } else {
            self.requests.handle().hedge_delay()
        };
        self.requests.publish(timeout, hedge);
    }
}

/// Everything the monitor keeps about one peer (the key lives in the shard's index): 104 bytes
/// with the compact detector, the boxed parts aside.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Slot {
    pub(crate) detector: AnyDetector,
    /// Built on the first round-trip sample: its histograms are large.
    pub(crate) rtt: Option<Box<Rtt>>,
    /// When `level` was entered; meaningless while it is the initial `Unknown`.
    pub(crate) since: Nanos,
    pub(crate) level: Level,
}

impl Slot {
    pub(crate) fn new(detector: AnyDetector) -> Self {
        Slot {
            detector,
            rtt: None,
            since: Nanos::ZERO,
            level: Level::Unknown,
        }
    }

    /// When the current level was entered (`None` in the initial `Unknown`).
    pub(crate) fn since(&self) -> Option<Nanos> {
        (self.level != Level::Unknown).then_some(self.since)
    }

    /// The latest instant the peer was heard from: its latest accepted heartbeat or round-trip
    /// sample.
    pub(crate) fn heard(&self) -> Option<Nanos> {
        let rtt = self.rtt.as_ref().map(|r| r.last);
        match (self.detector.last_arrival(), rtt) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How severe a level is: `Unknown` and `Alive` are trusted, `Suspect` and `Dead` suspected.
pub(crate) fn severity(level: Level) -> u8 {
    match level {
        Level::Unknown | Level::Alive => 0,
        Level::Suspect => 1,
        Level::Dead => 2,
    }
}

pub(crate) use crate::suspicion::next_level;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Suspicion, SuspicionConfig};

    /// The one-byte rules agree with the state machine along random walks of φ.
    #[test]
    fn next_level_agrees_with_suspicion() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for revive in [true, false] {
            for min_samples in [1, 3] {
                let c = SuspicionConfig {
                    min_samples,
                    revive,
                    ..SuspicionConfig::default()
                };
                let mut machine = Suspicion::new(c.clone()).unwrap();
                let mut level = Level::Unknown;
                for i in 0..20_000u64 {
                    let phi = match next() % 10 {
                        0 => f64::NAN,
                        1 => c.suspect_enter,
                        2 => c.dead_enter,
                        3 => c.suspect_leave,
                        4 => c.dead_leave,
                        _ => (next() % 2_000) as f64 / 100.0,
                    };
                    let samples = i / 4;
                    level = next_level(&c, level, phi, samples);
                    machine.update(Nanos(i), phi, samples);
                    assert_eq!(level, machine.level(), "step {i}, φ {phi}");
                }
            }
        }
    }

    #[test]
    fn the_compact_slot_is_small() {
        assert_eq!(std::mem::size_of::<AnyDetector>(), 80);
        assert_eq!(std::mem::size_of::<Slot>(), 104);
        assert_eq!(std::mem::size_of::<Option<Slot>>(), 104);
    }
}
