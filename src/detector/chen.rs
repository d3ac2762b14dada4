use crate::config::{ConfigError, check_bounded, check_positive_duration, check_window};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, step_phi};
use crate::time::Nanos;

/// Configuration of [`Chen`], the estimator of Chen, Toueg and Aguilera (2002):
/// the next heartbeat is expected at `EA = mean(A_i − η·s_i) + (s + 1)·η` over the last `window`
/// arrivals, and the peer is suspected once `EA + alpha` passes.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `window` | 1000 | arrivals remembered (1 ..= 2^20) |
/// | `interval` | `1s` | η, the sender's heartbeat interval |
/// | `alpha` | `500ms` | α, the safety margin |
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct ChenConfig {
    /// How many arrivals to remember.
    pub window: usize,
    /// The sender's heartbeat interval η.
    pub interval: Nanos,
    /// The safety margin α.
    pub alpha: Nanos,
}

impl Default for ChenConfig {
    fn default() -> Self {
        ChenConfig {
            window: 1000,
            interval: Nanos::from_secs(1),
            alpha: Nanos::from_millis(500),
        }
    }
}

impl ChenConfig {
    /// Checks every rule; the detector's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_window("chen.window", self.window)?;
        check_positive_duration("chen.interval", self.interval)?;
        check_bounded("chen.alpha", self.alpha)
    }
}

/// Each remembered `A_i − η·s_i` is clamped to ±2^100 ns so that the sum over the largest
/// window stays exact in 128 bits whatever sequence numbers a sender makes up.
pub(crate) const NORMALISED_CAP: i128 = 1 << 100;

/// The failure detector of Chen, Toueg and Aguilera (2002): the next heartbeat, number `s + 1`,
/// is expected at `EA = mean(A_i − η·s_i) + (s + 1)·η` over the last `window` accepted arrivals
/// (`A_i` received with sequence number `s_i`, `η` the sending interval), and the peer is
/// suspected once `EA + α` has passed.
///
/// It is a binary detector: φ is 0 until the deadline and [`PHI_MAX`](crate::math::PHI_MAX)
/// after it, whatever the threshold. The estimate is computed in exact integer arithmetic
/// (rounded down once, at the end). Lost heartbeats are accounted for by the sequence numbers
/// given to [`Detector::heartbeat_seq`]; [`Detector::heartbeat`] numbers arrivals
/// consecutively.
///
/// ```
/// use accrual::{Chen, ChenConfig, Detector, Nanos};
///
/// let cfg = ChenConfig { interval: Nanos::from_millis(100), alpha: Nanos::from_millis(30), ..Default::default() };
/// let mut d = Chen::new(cfg).unwrap();
/// d.heartbeat_seq(Nanos::from_millis(1_005), 10);
/// d.heartbeat_seq(Nanos::from_millis(1_203), 12); // number 11 was lost
/// // mean(A − η·s) = (5 + 3)/2 ms; expected arrival of 13: 4 ms + 1300 ms; plus α.
/// assert_eq!(d.deadline(8.0), Some(Nanos::from_millis(1_334)));
/// ```
#[derive(Debug, Clone)]
pub struct Chen {
    pub(crate) config: ChenConfig,
    /// Ring of `A_i − η·s_i`.
    pub(crate) normalised: Box<[i128]>,
    pub(crate) head: usize,
    pub(crate) len: usize,
    pub(crate) sum: i128,
    pub(crate) log: ArrivalLog,
    /// The deadline after the latest arrival.
    pub(crate) deadline: Option<Nanos>,
}

impl Chen {
    /// A detector with no arrivals yet.
    pub fn new(config: ChenConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Chen {
            normalised: vec![0; config.window].into_boxed_slice(),
            config,
            head: 0,
            len: 0,
            sum: 0,
            log: ArrivalLog::default(),
            deadline: None,
        })
    }

    /// Forgets every arrival.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.sum = 0;
        self.log = ArrivalLog::default();
        self.deadline = None;
    }

    /// The configuration.
    pub fn config(&self) -> &ChenConfig {
        &self.config
    }

    /// The expected arrival of the next heartbeat, `EA` (the deadline minus α).
    pub fn expected_arrival(&self) -> Option<Nanos> {
        self.deadline.map(|d| d - self.config.alpha)
    }
}

impl Detector for Chen {
    fn expected_interval(&self) -> Option<Nanos> {
        Some(self.config.interval)
    }

    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        let accepted = match self.log.accept(at, seq) {
            Ok(accepted) => accepted,
            Err(ignored) => return ignored,
        };
        let eta = i128::from(self.config.interval.as_nanos());
        let s = i128::from(accepted.seq);
        let value = (i128::from(at.as_nanos()) - eta * s).clamp(-NORMALISED_CAP, NORMALISED_CAP);
        let cap = self.normalised.len();
        if self.len == cap {
            self.sum -= self.normalised[self.head];
            self.normalised[self.head] = value;
            self.head = (self.head + 1) % cap;
        } else {
            self.normalised[(self.head + self.len) % cap] = value;
            self.len += 1;
        }
        self.sum += value;
        // ⌊mean + (s + 1)·η + α⌋ = ⌊sum / n⌋ + (s + 1)·η + α, all integers.
        let n = self.len as i128;
        let tau = self.sum.div_euclid(n) + (s + 1) * eta + i128::from(self.config.alpha.as_nanos());
        let tau = tau.clamp(i128::from(at.as_nanos()), i128::from(u64::MAX));
        self.deadline = Some(Nanos(tau as u64));
        Arrival::Accepted
    }

    fn phi(&self, now: Nanos) -> f64 {
        match (self.log.last, self.deadline) {
            (Some(last), Some(deadline)) => step_phi(now - last, deadline - last),
            _ => 0.0,
        }
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        match self.log.deadline_gate(threshold) {
            Ok(_) => self.deadline,
            Err(answer) => answer,
        }
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }

    /// Not a model's: the share of the remembered arrivals that came more than α after the
    /// time the current mean expects of them, by the rule of succession, `(late + 1)/(n + 2)`,
    /// whatever the threshold. `None` before the first arrival. One pass over the window.
    ///
    /// ```
    /// use accrual::{Chen, ChenConfig, Detector, Nanos};
    ///
    /// let cfg = ChenConfig { interval: Nanos::from_millis(100), alpha: Nanos::from_millis(50), ..Default::default() };
    /// let mut d = Chen::new(cfg).unwrap();
    /// for seq in 0..98u64 {
    ///     // on time, but 80 ms late every 10th
    ///     let late = if seq % 10 == 9 { 80 } else { 0 };
    ///     d.heartbeat_seq(Nanos::from_millis(100 * seq + late), seq);
    /// }
    /// // 9 of the 98 arrivals come more than α after the mean's time (7.3 ms late).
    /// assert_eq!(d.false_suspicion_probability(8.0), Some(10.0 / 100.0));
    /// // 0.1 per 100 ms heartbeat: 3,600 an hour.
    /// assert!((d.meaning(8.0).mistakes_per_hour.unwrap() / 3600.0 - 1.0).abs() < 1e-9);
    /// ```
    fn false_suspicion_probability(&self, _threshold: f64) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        let n = self.len as i128;
        let margin = self.sum.div_euclid(n) + i128::from(self.config.alpha.as_nanos());
        // Until the ring is full its entries are the first `len`; after, all of them.
        let late = self.normalised[..self.len]
            .iter()
            .filter(|&&v| v > margin)
            .count();
        Some((late as f64 + 1.0) / (self.len as f64 + 2.0))
    }
}
