use std::f64::consts::LN_10;

use crate::config::{ConfigError, check_positive_duration};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, deadline_at};
use crate::histogram::{HistogramConfig, HistogramFields, Survival, WindowedHistogram};
use crate::math::PHI_MAX;
use crate::time::Nanos;

/// Configuration of [`Empirical`], the distribution-free φ detector.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `histogram` | 6 × `600s` (one hour), `1us` ..= `3600s`, 2 digits | the window of inter-arrival intervals |
/// | `tail_samples` | 10 | how many of the longest intervals the exponential tail is fitted to (≥ 1) |
/// | `min_tail` | `1ms` | floor on the tail's scale θ |
/// | `first_interval` | `1s` | prior: before any interval, φ is exponential with this mean |
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct EmpiricalConfig {
    /// The window of intervals.
    pub histogram: HistogramConfig,
    /// How many of the longest intervals the tail is fitted to.
    pub tail_samples: u64,
    /// The smallest scale the fitted tail may have.
    pub min_tail: Nanos,
    /// The prior mean interval before any interval is known.
    pub first_interval: Nanos,
}

impl Default for EmpiricalConfig {
    fn default() -> Self {
        EmpiricalConfig {
            histogram: HistogramConfig {
                sub_window: Nanos::from_secs(600),
                ..HistogramConfig::default()
            },
            tail_samples: 10,
            min_tail: Nanos::from_millis(1),
            first_interval: Nanos::from_secs(1),
        }
    }
}

impl EmpiricalConfig {
    /// Checks every rule; the detector's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tail_samples == 0 {
            return Err(ConfigError::ZeroCount {
                field: "empirical.tail_samples",
            });
        }
        check_positive_duration("empirical.min_tail", self.min_tail)?;
        check_positive_duration("empirical.first_interval", self.first_interval)?;
        self.histogram.validate_as(HistogramFields::EMPIRICAL)
    }
}

/// A distribution-free φ: the probability of a silence this long, read from a long-memory
/// histogram of the peer's own inter-arrival times.
///
/// `φ(t) = −log10 S(t)`, where `S` is the empirical survival of the intervals in the window
/// (one hour by default), `S(t) = (a(t) + 1)/(n + 1)` with `a(t)` the intervals longer than `t`,
/// and beyond the longest interval seen an exponential tail
/// `S(t) = e^(−(t − top)/θ)/(n + 1)` whose scale θ is the mean excess of the
/// [`tail_samples`](EmpiricalConfig::tail_samples) longest intervals over the shortest of them
/// (at least [`min_tail`](EmpiricalConfig::min_tail)). φ therefore keeps rising linearly past
/// everything observed: it never saturates and is never infinite. A threshold Φ means a
/// false-suspicion probability of `10^−Φ` per heartbeat under this model; thresholds beyond
/// `log10(n + 1)` are reached only in the fitted tail.
///
/// No shape is assumed: a pause of several seconds every few minutes (a garbage collector, a
/// backup job) is remembered for the whole window (an hour, about 36,000 intervals at 100 ms),
/// where a 1000-sample window would have forgotten it after 100 s. The model is updated at
/// each arrival (the histogram rotates with arrival times), so between arrivals φ rises on a
/// fixed curve, and the deadline is exact for the model.
///
/// Before any interval, φ is exponential with mean
/// [`first_interval`](EmpiricalConfig::first_interval). A φ or deadline query costs O(buckets)
/// of the histogram (3,456 with the default range and precision); memory is that of the
/// [histogram](WindowedHistogram) (97 KB by default; 14 KB with one significant digit). A
/// heartbeat refits the tail, also O(buckets), where a heartbeat of
/// [`PhiNormal`](crate::PhiNormal) is O(1): see `BENCHMARKS.md` for their times.
///
/// ```
/// use accrual::{Detector, Empirical, EmpiricalConfig, Nanos};
///
/// let mut d = Empirical::new(EmpiricalConfig::default()).unwrap();
/// let mut t = Nanos::ZERO;
/// for i in 0..3_000u64 {
///     // 100 ms heartbeats, and a 2 s pause every 1000
///     t += if i % 1000 == 999 { Nanos::from_secs(2) } else { Nanos::from_millis(100) };
///     d.heartbeat(t);
/// }
/// // 1.5 s of silence is unusual but has been seen: φ is moderate, not astronomical.
/// let phi = d.phi(t + Nanos::from_millis(1_500));
/// assert!(phi > 2.0 && phi < 4.0, "{phi}");
/// ```
#[derive(Debug, Clone)]
pub struct Empirical {
    pub(crate) config: EmpiricalConfig,
    pub(crate) histogram: WindowedHistogram,
    pub(crate) log: ArrivalLog,
    /// The model as of the latest arrival (`None` before the first interval).
    pub(crate) model: Option<Survival>,
}

impl Empirical {
    /// A detector with no arrivals yet.
    pub fn new(config: EmpiricalConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let histogram =
            WindowedHistogram::with_fields(config.histogram.clone(), HistogramFields::EMPIRICAL)?;
        Ok(Empirical {
            config,
            histogram,
            log: ArrivalLog::default(),
            model: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EmpiricalConfig {
        &self.config
    }

    /// Intervals in the window as of the latest arrival.
    pub fn intervals(&self) -> u64 {
        self.histogram.live().len()
    }
}

impl Detector for Empirical {
    fn expected_interval(&self) -> Option<Nanos> {
        let live = self.histogram.live();
        Some(if live.is_empty() {
            self.config.first_interval
        } else {
            Nanos(live.mean() as u64)
        })
    }

    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        match self.log.accept(at, seq) {
            Ok(accepted) => {
                if let Some(interval) = accepted.interval {
                    self.histogram.record(interval, at);
                } else {
                    self.histogram.advance(at);
                }
                self.model = Survival::fit(
                    self.histogram.live(),
                    self.config.tail_samples,
                    self.config.min_tail.as_nanos() as f64,
                );
                Arrival::Accepted
            }
            Err(ignored) => ignored,
        }
    }

    fn phi(&self, now: Nanos) -> f64 {
        let Some(elapsed) = self.log.elapsed(now) else {
            return 0.0;
        };
        match &self.model {
            Some(model) => model.phi(self.histogram.live(), elapsed.as_nanos()),
            None => {
                let mean = self.config.first_interval.as_nanos() as f64;
                (elapsed.as_nanos() as f64 / (mean * LN_10)).min(PHI_MAX)
            }
        }
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        let last = match self.log.deadline_gate(threshold) {
            Ok(last) => last,
            Err(answer) => return answer,
        };
        let offset = match &self.model {
            Some(model) => model.last_below(self.histogram.live(), threshold),
            None => threshold * LN_10 * self.config.first_interval.as_nanos() as f64,
        };
        Some(deadline_at(last, 0, offset))
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }
}
