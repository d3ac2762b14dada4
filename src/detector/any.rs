//! The one list of detector kinds: [`DetectorConfig`] (which detector, with its settings) and
//! [`AnyDetector`] (a detector of any kind, built from one).
//!
//! Both enums, their checks, names and dispatch are generated from the single list in
//! `kinds!` below. A new detector kind is one line there; the monitor, snapshots and the
//! measuring tool (`accrual-eval`) all take their kinds from here.

use crate::config::ConfigError;
use crate::detector::{
    Adaptive, Arrival, ArrivalCounts, Chen, Detector, Empirical, Fixed, PhiExponential, PhiNormal,
};
use crate::time::Nanos;
use crate::{
    AdaptiveConfig, ChenConfig, EmpiricalConfig, FixedConfig, PhiExponentialConfig, PhiNormalConfig,
};

/// Generates [`DetectorConfig`] and [`AnyDetector`] from one list of kinds:
/// `Variant(Detector, Config, "serialised name", how AnyDetector holds it)`, with the
/// variant's docs.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($det:ident, $cfg:ident, $name:literal, $held:ty), )*) => {
        /// Which detector every peer of a [`Monitor`](crate::Monitor) runs, with its
        /// configuration; [`AnyDetector::new`] builds one.
        ///
        /// The default is [`Adaptive`] with [`AdaptiveConfig::default()`], the crate's
        /// recommended detector, which learns each peer's own lateness.
        ///
        /// | variant | detector state per peer |
        /// |---|---|
        /// | [`Fixed`](Self::Fixed) | 80 bytes, inline: the compact choice |
        /// | [`PhiNormal`](Self::PhiNormal) | 224 bytes + 8 per window slot, boxed |
        /// | [`PhiExponential`](Self::PhiExponential) | 144 bytes + 8 per window slot, boxed |
        /// | [`Chen`](Self::Chen) | 144 bytes + 16 per window slot, boxed |
        /// | [`Empirical`](Self::Empirical) | its histograms (97 KB by default), boxed |
        /// | [`Adaptive`](Self::Adaptive) | 2,688 bytes, boxed |
        ///
        /// The [monitor's docs](crate::monitor) list bytes per peer, map and bookkeeping
        /// included.
        ///
        /// ```
        /// use accrual::{DetectorConfig, FixedConfig, Nanos};
        ///
        /// let compact = DetectorConfig::Fixed(FixedConfig { timeout: Nanos::from_millis(500) });
        /// assert!(compact.validate().is_ok());
        /// assert!(matches!(DetectorConfig::default(), DetectorConfig::Adaptive(_)));
        /// ```
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(
            feature = "serde",
            derive(serde::Serialize, serde::Deserialize),
            serde(rename_all = "snake_case")
        )]
        #[non_exhaustive]
        pub enum DetectorConfig {
            $( $(#[$doc])* $variant($cfg), )*
        }

        impl DetectorConfig {
            /// Checks the detector's own rules.
            ///
            /// ```
            /// use accrual::{ConfigError, DetectorConfig, PhiNormalConfig};
            ///
            /// let bad = DetectorConfig::PhiNormal(PhiNormalConfig { window: 0, ..Default::default() });
            /// assert_eq!(bad.validate(), Err(ConfigError::EmptyWindow { field: "phi_normal.window" }));
            /// ```
            pub fn validate(&self) -> Result<(), ConfigError> {
                match self {
                    $( DetectorConfig::$variant(c) => c.validate(), )*
                }
            }

            /// The detector kind's name, as the serialised form spells it.
            ///
            /// ```
            /// use accrual::DetectorConfig;
            ///
            /// assert_eq!(DetectorConfig::default().kind(), "adaptive");
            /// ```
            pub fn kind(&self) -> &'static str {
                match self {
                    $( DetectorConfig::$variant(_) => $name, )*
                }
            }
        }

        /// A detector of any kind, as a [`DetectorConfig`] names it: one value that the
        /// monitor keeps per peer and a host or a measuring tool can hold without a box of
        /// `dyn Detector`. The compact [`Fixed`] is kept inline (the enum is 64 bytes); the
        /// others are boxed so that the compact configuration does not pay for them.
        ///
        /// ```
        /// use accrual::{AnyDetector, Detector, DetectorConfig, Nanos};
        ///
        /// let mut d = AnyDetector::new(&DetectorConfig::default()).unwrap();
        /// d.heartbeat(Nanos::from_millis(100));
        /// assert_eq!(d.last_arrival(), Some(Nanos::from_millis(100)));
        /// ```
        #[derive(Debug, Clone)]
        #[cfg_attr(
            feature = "serde",
            derive(serde::Serialize, serde::Deserialize),
            serde(rename_all = "snake_case")
        )]
        #[non_exhaustive]
        pub enum AnyDetector {
            $( $(#[$doc])* $variant($held), )*
        }

        impl AnyDetector {
            /// A detector with no arrivals, built from (and checking) `config`.
            pub fn new(config: &DetectorConfig) -> Result<Self, ConfigError> {
                Ok(match config {
                    $( DetectorConfig::$variant(c) => {
                        AnyDetector::$variant(<$held>::from($det::new(c.clone())?))
                    } )*
                })
            }

            /// The configuration the detector runs.
            pub fn config(&self) -> DetectorConfig {
                match self {
                    $( AnyDetector::$variant(d) => DetectorConfig::$variant(d.config().clone()), )*
                }
            }

            /// Whether this detector is of `config`'s kind and runs exactly that
            /// configuration.
            pub fn runs(&self, config: &DetectorConfig) -> bool {
                match (self, config) {
                    $( (AnyDetector::$variant(d), DetectorConfig::$variant(c)) => d.config() == c, )*
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }
        }

        impl AnyDetector {
            /// The largest sequence number accepted (heartbeats without one count as the next
            /// after it), or given by [`continue_from`](Self::continue_from).
            pub(crate) fn max_seq(&self) -> Option<u64> {
                match self { $( AnyDetector::$variant(d) => d.log.max_seq, )* }
            }

            /// Makes a detector with no arrivals take `seq` as the largest number accepted: a
            /// forgotten peer's, so that its old heartbeats stay stale.
            pub(crate) fn continue_from(&mut self, seq: u64) {
                match self {
                    $( AnyDetector::$variant(d) => {
                        d.log.max_seq = Some(d.log.max_seq.map_or(seq, |m| m.max(seq)));
                    } )*
                }
            }
        }

        impl Detector for AnyDetector {
            fn record_unlearned(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
                match self { $( AnyDetector::$variant(d) => d.record_unlearned(at, seq), )* }
            }
            fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
                match self { $( AnyDetector::$variant(d) => d.record(at, seq), )* }
            }
            fn phi(&self, now: Nanos) -> f64 {
                match self { $( AnyDetector::$variant(d) => d.phi(now), )* }
            }
            fn deadline(&self, threshold: f64) -> Option<Nanos> {
                match self { $( AnyDetector::$variant(d) => d.deadline(threshold), )* }
            }
            fn last_arrival(&self) -> Option<Nanos> {
                match self { $( AnyDetector::$variant(d) => d.last_arrival(), )* }
            }
            fn arrivals(&self) -> ArrivalCounts {
                match self { $( AnyDetector::$variant(d) => d.arrivals(), )* }
            }
            fn false_suspicion_probability(&self, threshold: f64) -> Option<f64> {
                match self {
                    $( AnyDetector::$variant(d) => d.false_suspicion_probability(threshold), )*
                }
            }
            fn expected_interval(&self) -> Option<Nanos> {
                match self { $( AnyDetector::$variant(d) => d.expected_interval(), )* }
            }
        }
    };
}

kinds! {
    /// [`PhiNormal`], Hayashibara's φ with the exact normal tail.
    PhiNormal(PhiNormal, PhiNormalConfig, "phi_normal", Box<PhiNormal>),
    /// [`PhiExponential`], Cassandra's φ.
    PhiExponential(PhiExponential, PhiExponentialConfig, "phi_exponential", Box<PhiExponential>),
    /// [`Chen`], Chen–Toueg–Aguilera.
    Chen(Chen, ChenConfig, "chen", Box<Chen>),
    /// [`Fixed`], a fixed timeout.
    Fixed(Fixed, FixedConfig, "fixed", Fixed),
    /// [`Empirical`], φ from the peer's own interval histogram.
    Empirical(Empirical, EmpiricalConfig, "empirical", Box<Empirical>),
    /// [`Adaptive`], the crate's recommended detector: the default.
    Adaptive(Adaptive, AdaptiveConfig, "adaptive", Box<Adaptive>),
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig::Adaptive(AdaptiveConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind builds, names itself as serde does, and reports the configuration it runs.
    #[test]
    fn every_kind_builds_and_runs_its_configuration() {
        let all = [
            DetectorConfig::PhiNormal(PhiNormalConfig::default()),
            DetectorConfig::PhiExponential(PhiExponentialConfig::default()),
            DetectorConfig::Chen(ChenConfig::default()),
            DetectorConfig::Fixed(FixedConfig::default()),
            DetectorConfig::Empirical(EmpiricalConfig::default()),
            DetectorConfig::Adaptive(AdaptiveConfig::default()),
        ];
        let names = [
            "phi_normal",
            "phi_exponential",
            "chen",
            "fixed",
            "empirical",
            "adaptive",
        ];
        for (config, name) in all.iter().zip(names) {
            assert_eq!(config.kind(), name);
            let d = AnyDetector::new(config).unwrap();
            assert!(d.runs(config));
            assert_eq!(&d.config(), config);
            for other in all.iter().filter(|o| o.kind() != name) {
                assert!(!d.runs(other), "{name} claims to run {}", other.kind());
            }
        }
    }

    #[test]
    fn the_compact_detector_is_inline() {
        assert_eq!(std::mem::size_of::<AnyDetector>(), 80);
    }
}
