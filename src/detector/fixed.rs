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
    /// The first accepted arrival (0 before it): with the latest, the time watched.
    pub(crate) first: Nanos,
    /// Intervals longer than the timeout: the false suspicions it made if the peer was alive.
    pub(crate) late: u64,
}

impl Fixed {
    /// A detector with no arrivals yet.
    pub fn new(config: FixedConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Fixed {
            config,
            log: ArrivalLog::default(),
            first: Nanos::ZERO,
            late: 0,
        })
    }

    /// Forgets every arrival.
    pub fn reset(&mut self) {
        self.log = ArrivalLog::default();
        self.first = Nanos::ZERO;
        self.late = 0;
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
            Ok(accepted) => {
                match accepted.interval {
                    None => self.first = at,
                    Some(i) if i > self.config.timeout => self.late += 1,
                    Some(_) => {}
                }
                Arrival::Accepted
            }
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

    /// Not a model's: the share of the intervals seen that outlasted the timeout, by the rule
    /// of succession, `(late + 1)/(intervals + 2)`, whatever the threshold. `None` before the
    /// first arrival.
    ///
    /// ```
    /// use accrual::{Detector, Fixed, FixedConfig, Nanos};
    ///
    /// let mut d = Fixed::new(FixedConfig { timeout: Nanos::from_millis(150) }).unwrap();
    /// let mut t = Nanos::ZERO;
    /// for i in 0..=98u64 {
    ///     // 100 ms heartbeats, and 200 ms now and then: 98 intervals, 8 of them late
    ///     t += Nanos::from_millis(if i % 12 == 11 { 200 } else { 100 });
    ///     d.heartbeat(t);
    /// }
    /// let m = d.meaning(8.0);
    /// assert_eq!(m.timeout, Some(Nanos::from_millis(150)));
    /// assert_eq!(m.false_suspicion_probability, Some(9.0 / 100.0));
    /// // 98 intervals in 10.6 s: 0.09 per 108 ms heartbeat is 3,000 an hour.
    /// let rate = 0.09 * 3600.0 * 98.0 / 10.6;
    /// assert!((m.mistakes_per_hour.unwrap() / rate - 1.0).abs() < 1e-6);
    /// ```
    fn false_suspicion_probability(&self, _threshold: f64) -> Option<f64> {
        let intervals = self.log.counts.accepted.checked_sub(1)?;
        Some((self.late as f64 + 1.0) / (intervals as f64 + 2.0))
    }

    /// The mean interval seen: `None` before two arrivals.
    fn expected_interval(&self) -> Option<Nanos> {
        let intervals = self.log.counts.accepted.checked_sub(1).filter(|&n| n > 0)?;
        let watched = (self.log.last? - self.first).as_nanos();
        Some(Nanos(watched / intervals)).filter(|eta| *eta > Nanos::ZERO)
    }
}
