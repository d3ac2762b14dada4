use std::f64::consts::LN_10;

use crate::config::{ConfigError, check_positive_duration, check_window};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, deadline_at};
use crate::math::{IntervalWindow, PHI_MAX};
use crate::time::Nanos;

/// Configuration of [`PhiExponential`], Cassandra's φ:
/// `φ = t / (μ·ln 10)` after `t` of silence, `μ` the mean of the last `window` intervals.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `window` | 1000 | intervals remembered (1 ..= 2^20) |
/// | `first_interval` | `1s` | prior: the window starts with this one interval |
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct PhiExponentialConfig {
    /// How many inter-arrival intervals to remember.
    pub window: usize,
    /// The prior interval before real intervals exist.
    pub first_interval: Nanos,
}

impl Default for PhiExponentialConfig {
    fn default() -> Self {
        PhiExponentialConfig {
            window: 1000,
            first_interval: Nanos::from_secs(1),
        }
    }
}

impl PhiExponentialConfig {
    /// Checks every rule; the detector's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_window("phi_exp.window", self.window)?;
        check_positive_duration("phi_exp.first_interval", self.first_interval)
    }
}

/// Cassandra's φ: inter-arrival times taken as exponential, so `φ(t) = t / (μ·ln 10)` after `t`
/// of silence, `μ` the mean of the last `window` intervals.
///
/// A threshold Φ is reached after `Φ·ln 10 ≈ 2.3·Φ` mean intervals: Cassandra's default of 8
/// waits 18.4 intervals. Before real intervals exist the window holds the prior
/// [`PhiExponentialConfig::first_interval`].
///
/// ```
/// use accrual::{Detector, Nanos, PhiExponential, PhiExponentialConfig};
///
/// let mut d = PhiExponential::new(PhiExponentialConfig::default()).unwrap();
/// d.heartbeat(Nanos::from_secs(1));
/// // Prior mean 1 s: φ = 1 after ln 10 seconds.
/// assert_eq!(d.deadline(1.0), Some(Nanos(1_000_000_000 + 2_302_585_092)));
/// ```
#[derive(Debug, Clone)]
pub struct PhiExponential {
    pub(crate) config: PhiExponentialConfig,
    pub(crate) window: IntervalWindow,
    pub(crate) log: ArrivalLog,
    pub(crate) mean: f64,
}

impl PhiExponential {
    /// A detector with no arrivals yet, its window holding the prior.
    pub fn new(config: PhiExponentialConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut d = PhiExponential {
            window: IntervalWindow::new(config.window),
            config,
            log: ArrivalLog::default(),
            mean: 0.0,
        };
        d.reset();
        Ok(d)
    }

    /// Forgets every arrival and restores the prior.
    pub fn reset(&mut self) {
        self.window.clear();
        self.window.push(self.config.first_interval.as_nanos());
        self.log = ArrivalLog::default();
        self.mean = self.window.mean();
    }

    /// The configuration.
    pub fn config(&self) -> &PhiExponentialConfig {
        &self.config
    }

    /// The window of intervals (prior included while it lasts).
    pub fn window(&self) -> &IntervalWindow {
        &self.window
    }

    /// The mean interval `μ`, in ns.
    pub fn mean(&self) -> f64 {
        self.mean
    }
}

impl Detector for PhiExponential {
    fn expected_interval(&self) -> Option<Nanos> {
        Some(Nanos(self.mean() as u64))
    }

    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        match self.log.accept(at, seq) {
            Ok(accepted) => {
                if let Some(interval) = accepted.interval {
                    self.window.push(interval.as_nanos());
                    self.mean = self.window.mean();
                }
                Arrival::Accepted
            }
            Err(ignored) => ignored,
        }
    }

    fn phi(&self, now: Nanos) -> f64 {
        let Some(elapsed) = self.log.elapsed(now) else {
            return 0.0;
        };
        if elapsed == Nanos::ZERO {
            return 0.0;
        }
        if self.mean == 0.0 {
            // Every remembered interval was zero: any silence is certain failure.
            return PHI_MAX;
        }
        (elapsed.as_nanos() as f64 / (self.mean * LN_10)).min(PHI_MAX)
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        let last = match self.log.deadline_gate(threshold) {
            Ok(last) => last,
            Err(answer) => return answer,
        };
        Some(deadline_at(last, 0, threshold * LN_10 * self.mean))
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }
}
