use crate::config::{ConfigError, check_positive_duration};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, step_phi};
use crate::time::Nanos;

/// Configuration of [`Fixed`]: suspect after `timeout` of silence.
///
/// | field | default |
/// |---|---|
/// | `timeout` | `1s` |
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct FixedConfig {
    /// The silence after which the peer is suspected.
    pub timeout: Nanos,
}

impl Default for FixedConfig {
    fn default() -> Self {
        FixedConfig {
            timeout: Nanos::from_secs(1),
        }
    }
}

impl FixedConfig {
    /// Checks every rule; the detector's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive_duration("fixed.timeout", self.timeout)
    }
}

/// A fixed timeout: the peer is suspected once `timeout` has passed since the latest arrival.
///
/// The baseline every adaptive detector is measured against. It is binary: φ is 0 up to the
/// deadline and [`PHI_MAX`](crate::math::PHI_MAX) after it, whatever the threshold.
///
/// ```
/// use accrual::{Detector, Fixed, FixedConfig, Nanos};
///
/// let mut d = Fixed::new(FixedConfig { timeout: Nanos::from_millis(500) }).unwrap();
/// d.heartbeat(Nanos::from_secs(2));
/// assert_eq!(d.deadline(8.0), Some(Nanos::from_millis(2_500)));
/// assert_eq!(d.phi(Nanos::from_millis(2_500)), 0.0);
/// assert!(d.phi(Nanos::from_millis(2_500) + Nanos(1)) >= 8.0);
/// ```
#[derive(Debug, Clone)]
pub struct Fixed {
    pub(crate) config: FixedConfig,
    pub(crate) log: ArrivalLog,
}

impl Fixed {
    /// A detector with no arrivals yet.
    pub fn new(config: FixedConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Fixed {
            config,
            log: ArrivalLog::default(),
        })
    }

    /// Forgets every arrival.
    pub fn reset(&mut self) {
        self.log = ArrivalLog::default();
    }

    /// The configuration.
    pub fn config(&self) -> &FixedConfig {
        &self.config
    }
}

impl Detector for Fixed {
    #[inline]
    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        match self.log.accept(at, seq) {
            Ok(_) => Arrival::Accepted,
            Err(ignored) => ignored,
        }
    }

    #[inline]
    fn phi(&self, now: Nanos) -> f64 {
        match self.log.elapsed(now) {
            Some(elapsed) => step_phi(elapsed, self.config.timeout),
            None => 0.0,
        }
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        let last = match self.log.deadline_gate(threshold) {
            Ok(last) => last,
            Err(answer) => return answer,
        };
        Some(last + self.config.timeout)
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }

    fn false_suspicion_probability(&self, _threshold: f64) -> Option<f64> {
        None
    }
}
