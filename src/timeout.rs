//! Request timeouts that follow the network: a jitter-tracking estimator over windowed HDR
//! histograms and RFC 6298-style running estimates.

use crate::config::{
    ConfigError, check_bounded, check_duration_order, check_finite, check_positive_duration,
    check_range,
};
use crate::histogram::{
    HistogramConfig, HistogramFields, Survival, WindowedHistogram, value_at_rank,
};
use crate::time::Nanos;

/// How a [`TimeoutEstimator`] turns round-trip samples into a
/// request timeout. Every policy's answer is then clamped to the estimator's `floor` and
/// `ceiling`, and a cold estimator answers its `initial` timeout.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)
)]
pub enum TimeoutPolicy {
    /// Always the same timeout.
    Fixed {
        /// The timeout.
        timeout: Nanos,
    },
    /// RFC 6298's retransmission timer: `SRTT + max(G, 4·RTTVAR)` with α = 1/8, β = 1/4; each
    /// timeout doubles it (up to the ceiling) until the next sample.
    Rfc6298 {
        /// The clock granularity `G`.
        granularity: Nanos,
    },
    /// `quantile` of the windowed histogram × `multiplier` + `margin`. A timeout is recorded as
    /// a sample of the time waited.
    Quantile {
        /// The quantile, in `(0, 1]`.
        quantile: f64,
        /// The factor applied to it, in `[0.1, 1e6]`.
        multiplier: f64,
        /// Added after the factor.
        margin: Nanos,
    },
    /// The crate's recommended policy: see [`TimeoutEstimator`].
    /// `quantile` is its one knob: the share of replies that should arrive in time (larger:
    /// fewer premature timeouts, longer waits).
    Adaptive {
        /// The knob: the quantile of round-trip times the timeout aims at, in `(0, 1)`; beyond
        /// what the window resolves it is extrapolated from a fitted exponential tail.
        quantile: f64,
        /// How many of the largest samples the tail is fitted to, ≥ 2.
        tail_samples: u64,
        /// The weight of the prior (pseudo-samples at the estimator's `initial` timeout) in an
        /// empty window; with `n` samples in the window it weighs
        /// `prior_weight · prior_fade / (prior_fade + n)`.
        prior_weight: f64,
        /// Samples in the window at which the prior's weight has halved.
        prior_fade: u64,
    },
}

impl TimeoutPolicy {
    /// The recommended policy with its default settings.
    pub const fn adaptive() -> Self {
        TimeoutPolicy::adaptive_at(0.999)
    }

    /// The recommended policy with its knob set to `quantile`, other settings default.
    pub const fn adaptive_at(quantile: f64) -> Self {
        TimeoutPolicy::Adaptive {
            quantile,
            tail_samples: 5,
            prior_weight: 10.0,
            prior_fade: 300,
        }
    }

    /// RFC 6298 with a 1 ms clock granularity.
    pub const fn rfc6298() -> Self {
        TimeoutPolicy::Rfc6298 {
            granularity: Nanos::from_millis(1),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match *self {
            TimeoutPolicy::Fixed { timeout } => {
                check_positive_duration("timeout.policy.timeout", timeout)
            }
            TimeoutPolicy::Rfc6298 { granularity } => {
                check_bounded("timeout.policy.granularity", granularity)
            }
            TimeoutPolicy::Quantile {
                quantile,
                multiplier,
                margin,
            } => {
                check_quantile("timeout.policy.quantile", quantile)?;
                check_range("timeout.policy.multiplier", multiplier, 0.1, 1e6)?;
                check_bounded("timeout.policy.margin", margin)
            }
            TimeoutPolicy::Adaptive {
                quantile,
                tail_samples,
                prior_weight,
                prior_fade: _,
            } => {
                check_quantile("timeout.policy.quantile", quantile)?;
                if quantile >= 1.0 {
                    return Err(ConfigError::OutOfRange {
                        field: "timeout.policy.quantile",
                        value: quantile,
                        min: 0.0,
                        max: 1.0,
                    });
                }
                check_range("timeout.policy.tail_samples", tail_samples as f64, 2.0, 1e6)?;
                check_range("timeout.policy.prior_weight", prior_weight, 0.0, 1e9)
            }
        }
    }
}

impl Default for TimeoutPolicy {
    fn default() -> Self {
        TimeoutPolicy::adaptive()
    }
}

pub(crate) fn check_quantile(field: &'static str, q: f64) -> Result<(), ConfigError> {
    check_finite(field, q)?;
    if q > 0.0 && q <= 1.0 {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value: q,
            min: 0.0,
            max: 1.0,
        })
    }
}

/// Configuration of a [`TimeoutEstimator`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `policy` | [`TimeoutPolicy::adaptive()`] | how samples become a timeout |
/// | `floor` | `1ms` | no timeout is shorter |
/// | `ceiling` | `60s` | no timeout is longer |
/// | `initial` | `1s` | the answer before any sample (clamped to floor and ceiling) |
/// | `hedge_quantile` | 0.95 | the quantile [`hedge_delay`](crate::timeout::TimeoutEstimator::hedge_delay) answers |
/// | `histogram` | 6 × `600s` (an hour), `1us` ..= `3600s`, 2 digits | the window of round-trip samples |
///
/// Rules: `floor ≤ ceiling`, `floor > 0`, quantiles in `(0, 1]` (the adaptive one below 1),
/// multipliers in `[0.1, 1e6]`, at least two tail samples, and the
/// histogram's own rules.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct TimeoutConfig {
    /// How samples become a timeout.
    pub policy: TimeoutPolicy,
    /// The shortest timeout.
    pub floor: Nanos,
    /// The longest timeout.
    pub ceiling: Nanos,
    /// The timeout before any sample.
    pub initial: Nanos,
    /// The quantile answered by `hedge_delay`.
    pub hedge_quantile: f64,
    /// The window of round-trip samples.
    pub histogram: HistogramConfig,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            policy: TimeoutPolicy::default(),
            floor: Nanos::from_millis(1),
            ceiling: Nanos::from_secs(60),
            initial: Nanos::from_secs(1),
            hedge_quantile: 0.95,
            histogram: HistogramConfig {
                sub_window: Nanos::from_secs(600),
                ..HistogramConfig::default()
            },
        }
    }
}

impl TimeoutConfig {
    /// Checks every rule; the estimator's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.policy.validate()?;
        check_positive_duration("timeout.floor", self.floor)?;
        check_duration_order(
            ("timeout.floor", self.floor),
            ("timeout.ceiling", self.ceiling),
        )?;
        check_quantile("timeout.hedge_quantile", self.hedge_quantile)?;
        self.histogram.validate_as(HistogramFields::TIMEOUT)
    }
}

/// The RFC 6298 running estimates: smoothed RTT and RTT variation, in ns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Smoothed {
    pub(crate) srtt: f64,
    pub(crate) rttvar: f64,
}

impl Smoothed {
    /// RFC 6298 §2: the first sample sets `SRTT = R`, `RTTVAR = R/2`; later ones update
    /// `RTTVAR` first (β = 1/4), then `SRTT` (α = 1/8).
    fn update(previous: Option<Smoothed>, r: f64) -> Smoothed {
        match previous {
            None => Smoothed {
                srtt: r,
                rttvar: r / 2.0,
            },
            Some(s) => {
                let rttvar = 0.75 * s.rttvar + 0.25 * (s.srtt - r).abs();
                Smoothed {
                    srtt: 0.875 * s.srtt + 0.125 * r,
                    rttvar,
                }
            }
        }
    }
}

/// What the estimator knows, at one instant: see [`TimeoutEstimator::stats`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeoutStats {
    /// Round-trip samples in the live window (timeouts recorded as samples included).
    pub count: u64,
    /// Their mean.
    pub mean: Nanos,
    /// Their median.
    pub p50: Nanos,
    /// Their 90th percentile.
    pub p90: Nanos,
    /// Their 99th percentile.
    pub p99: Nanos,
    /// Their 99.9th percentile.
    pub p999: Nanos,
    /// Their maximum.
    pub max: Nanos,
    /// The smoothed RTT (RFC 6298's SRTT), if any sample was seen.
    pub srtt: Option<Nanos>,
    /// The RTT variation (RFC 6298's RTTVAR), if any sample was seen.
    pub rttvar: Option<Nanos>,
    /// Samples accepted since creation.
    pub samples: u64,
    /// Timeouts recorded since creation.
    pub timeouts: u64,
    /// Samples ignored since creation because they came from retried requests (Karn's rule).
    pub retried: u64,
    /// Samples larger than the histogram's range, recorded at its top.
    pub saturated: u64,
}

/// Hands out request timeouts learned from round-trip samples.
///
/// A load balancer keeps one per backend: [`record`](Self::record) each reply's round-trip
/// time, [`record_timeout`](Self::record_timeout) each request that gave up, and ask
/// [`timeout`](Self::timeout) before each request. Every answer is clamped to
/// [`TimeoutConfig::floor`] and [`TimeoutConfig::ceiling`]; before any sample it is
/// [`TimeoutConfig::initial`].
///
/// # Policies
///
/// * [`TimeoutPolicy::Fixed`]: a constant.
/// * [`TimeoutPolicy::Rfc6298`]: RFC 6298's `SRTT + max(G, 4·RTTVAR)`, doubled on each
///   timeout until the next sample.
/// * [`TimeoutPolicy::Quantile`]: a quantile of the windowed histogram × multiplier + margin.
/// * [`TimeoutPolicy::Adaptive`] (the default): `2^b · max(Q, SRTT + 4·RTTVAR)`, where `b` is
///   the number of timeouts since the last reply and `Q` is the `quantile` (the knob, 0.999 by
///   default) of the window's samples pooled with a prior. Where the window holds too few
///   samples to resolve that quantile (fewer than `tail_samples` above it), `Q` is
///   extrapolated from an exponential tail fitted to the `m = tail_samples` largest values:
///   `Q = u + θ·ln((m/N)/(1 − quantile))`, with `u` the smallest of them, `θ` their mean
///   excess over `u` (at least `u/10`) and `N` the pooled count. The window (an hour by
///   default) keeps rare slow replies in view; the smoothed terms follow a sudden shift of the
///   whole distribution within a few samples; the prior (`prior_weight` pseudo-samples at
///   `initial`, weighing `prior_fade / (prior_fade + n)` as much when the window holds `n`
///   samples) keeps an estimator with few samples from trusting its first fast replies, and
///   fades as the window fills.
///
/// # Timeouts are censored samples
///
/// A request that timed out after `waited` says the round trip was *at least* `waited`. The
/// quantile policy records it as a sample of `waited`, which can only raise its quantile; the
/// adaptive policy records the first timeout of a run that way (later ones waited a
/// backed-off time, and a run of them is as likely loss as delay) and doubles its answer for
/// each timeout in a row; RFC 6298 doubles its timer. Timeouts of requests in flight together
/// are one event and double once: a request sent before the latest doubling waited the
/// timeout it was given, which says nothing new. None of them can spiral down while requests keep timing out, the failure of
/// estimators that learn only from successes.
///
/// # Karn's rule
///
/// A reply to a retried request cannot be matched to one attempt: pass it to
/// [`record_retried`](Self::record_retried), which counts it and otherwise ignores it.
///
/// ```
/// use accrual::timeout::TimeoutEstimator;
/// use accrual::{Nanos, TimeoutConfig};
///
/// let mut est = TimeoutEstimator::new(TimeoutConfig::default()).unwrap();
/// assert_eq!(est.timeout(Nanos::ZERO), Nanos::from_secs(1)); // cold: the initial timeout
/// let mut now = Nanos::ZERO;
/// for i in 0..6_000u64 {
///     // ten minutes of replies taking 20 to 29 ms, ten a second
///     now += Nanos::from_millis(100);
///     est.record(Nanos::from_millis(20 + i % 10), now);
/// }
/// let t = est.timeout(now);
/// assert!(t > Nanos::from_millis(29) && t < Nanos::from_millis(60), "{t}");
/// ```
#[derive(Debug, Clone)]
pub struct TimeoutEstimator {
    pub(crate) config: TimeoutConfig,
    pub(crate) histogram: WindowedHistogram,
    pub(crate) smoothed: Option<Smoothed>,
    /// RFC 6298's current RTO, in ns (kept for every policy, used by `Rfc6298`).
    pub(crate) rto: f64,
    /// Timeouts since the last accepted sample, one per event.
    pub(crate) backoff: u32,
    /// When the latest backoff step was taken: a timeout of a request sent before it belongs
    /// to the event that took it.
    pub(crate) backed_off_at: Option<Nanos>,
    pub(crate) samples: u64,
    pub(crate) timeouts: u64,
    pub(crate) retried: u64,
    /// The histogram part of a histogram policy's answer, and when and after how many samples
    /// it was computed: quantile scans cost O(buckets), so they are refreshed only when enough
    /// has changed.
    pub(crate) cached: Option<Cached>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached {
    pub(crate) value: f64,
    pub(crate) at: Nanos,
    pub(crate) samples: u64,
}

/// The largest backoff exponent: timeouts stop doubling after 2^16 (the ceiling applies anyway).
pub(crate) const MAX_BACKOFF: u32 = 16;

impl TimeoutEstimator {
    /// A cold estimator.
    pub fn new(config: TimeoutConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let histogram =
            WindowedHistogram::with_fields(config.histogram.clone(), HistogramFields::TIMEOUT)?;
        let rto = config
            .initial
            .clamp(config.floor, config.ceiling)
            .as_nanos() as f64;
        Ok(TimeoutEstimator {
            config,
            histogram,
            smoothed: None,
            rto,
            backoff: 0,
            backed_off_at: None,
            samples: 0,
            timeouts: 0,
            retried: 0,
            cached: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TimeoutConfig {
        &self.config
    }

    /// Records the round-trip time of a reply received at `now`.
    pub fn record(&mut self, rtt: Nanos, now: Nanos) {
        self.histogram.record(rtt, now);
        let smoothed = Smoothed::update(self.smoothed, rtt.as_nanos() as f64);
        self.smoothed = Some(smoothed);
        self.rto = self.clamp(smoothed.srtt + self.granularity().max(4.0 * smoothed.rttvar));
        self.backoff = 0;
        self.backed_off_at = None;
        self.samples += 1;
    }

    /// Records the reply to a retried request: ambiguous, so only counted (Karn's rule).
    pub fn record_retried(&mut self, _rtt: Nanos, _now: Nanos) {
        self.retried += 1;
    }

    /// Records a request that gave up after `waited` at `now`: the round trip was at least
    /// `waited`.
    ///
    /// Timeouts of requests that were in flight together are one event, and back off once: a
    /// timeout of a request sent before the latest backoff step is counted, and changes
    /// nothing else.
    ///
    /// ```
    /// use accrual::timeout::TimeoutEstimator;
    /// use accrual::{Nanos, TimeoutConfig, TimeoutPolicy};
    ///
    /// let cfg = TimeoutConfig { policy: TimeoutPolicy::Fixed { timeout: Nanos::from_millis(10) }, ..Default::default() };
    /// let mut est = TimeoutEstimator::new(cfg).unwrap();
    /// let now = Nanos::from_secs(1);
    /// // Eight requests sent together time out together: one event, one doubling.
    /// for _ in 0..8 {
    ///     est.record_timeout(Nanos::from_millis(10), now);
    /// }
    /// assert_eq!(est.stats(now).timeouts, 8);
    /// assert_eq!(est.backoff(), 1);
    /// // A request sent after that step times out too: a second event.
    /// est.record_timeout(Nanos::from_millis(20), now + Nanos::from_millis(25));
    /// assert_eq!(est.backoff(), 2);
    /// ```
    pub fn record_timeout(&mut self, waited: Nanos, now: Nanos) {
        self.timeouts += 1;
        let sent = now.saturating_sub(waited);
        if self.backoff > 0 && self.backed_off_at.is_some_and(|step| sent < step) {
            return;
        }
        self.backed_off_at = Some(now);
        let first_in_a_row = self.backoff == 0;
        self.backoff = (self.backoff + 1).min(MAX_BACKOFF);
        self.rto = (2.0 * self.rto).min(self.config.ceiling.as_nanos() as f64);
        match self.config.policy {
            TimeoutPolicy::Fixed { .. } | TimeoutPolicy::Rfc6298 { .. } => {}
            TimeoutPolicy::Quantile { .. } => self.histogram.record(waited, now),
            // Only the first timeout of a run says something about delay: later ones waited
            // a backed-off time, and a run of them is as likely loss as delay.
            TimeoutPolicy::Adaptive { .. } => {
                if first_in_a_row {
                    self.histogram.record(waited, now);
                }
            }
        }
    }

    fn granularity(&self) -> f64 {
        match self.config.policy {
            TimeoutPolicy::Rfc6298 { granularity } => granularity.as_nanos() as f64,
            _ => 0.0,
        }
    }

    fn clamp(&self, ns: f64) -> f64 {
        let (floor, ceiling) = (
            self.config.floor.as_nanos() as f64,
            self.config.ceiling.as_nanos() as f64,
        );
        if ns.is_nan() {
            return ceiling;
        }
        ns.clamp(floor, ceiling)
    }

    fn to_nanos(&self, ns: f64) -> Nanos {
        // Clamped to [floor, ceiling], so the cast cannot saturate unexpectedly.
        Nanos(self.clamp(ns).floor() as u64)
    }

    /// How many times the timeout has backed off since the last reply: one step per event of
    /// timeouts (see [`record_timeout`](Self::record_timeout)).
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// The timeout for a request sent at `now`.
    pub fn timeout(&mut self, now: Nanos) -> Nanos {
        let initial = self.config.initial.as_nanos() as f64;
        let ns = match self.config.policy {
            TimeoutPolicy::Fixed { timeout } => timeout.as_nanos() as f64,
            TimeoutPolicy::Rfc6298 { .. } => self.rto,
            TimeoutPolicy::Quantile {
                quantile,
                multiplier,
                margin,
            } => {
                if self.histogram.count(now) == 0 {
                    initial
                } else {
                    let q = self
                        .cached_quantile(now, |h, _| h.quantile(quantile, now).as_nanos() as f64);
                    q * multiplier + margin.as_nanos() as f64
                }
            }
            TimeoutPolicy::Adaptive {
                quantile,
                tail_samples,
                prior_weight,
                prior_fade,
            } => {
                if self.samples == 0 && self.histogram.count(now) == 0 {
                    initial
                } else {
                    let q = self.cached_quantile(now, |h, now| {
                        // The prior weighs against the samples the window holds now.
                        let live = h.count(now) as f64;
                        let weight = prior_weight * prior_fade as f64 / (prior_fade as f64 + live);
                        Pooled {
                            h,
                            prior: initial,
                            weight,
                            now,
                        }
                        .tail_quantile(quantile, tail_samples as f64)
                    });
                    let spread = self.smoothed.map_or(0.0, |s| s.srtt + 4.0 * s.rttvar);
                    let backoff = f64::from(1u32 << self.backoff.min(MAX_BACKOFF));
                    backoff * q.max(spread)
                }
            }
        };
        self.to_nanos(ns)
    }

    /// The histogram term of a policy, refreshed when 1/64 of the live samples are new or a
    /// sixteenth of a sub-window has passed.
    fn cached_quantile(
        &mut self,
        now: Nanos,
        compute: impl FnOnce(&mut WindowedHistogram, Nanos) -> f64,
    ) -> f64 {
        let live = self.histogram.count(now);
        let refresh = self.config.histogram.sub_window.as_nanos() / 16;
        let recorded = self.samples + self.timeouts;
        if let Some(c) = self.cached
            && recorded - c.samples <= live / 64
            && now >= c.at
            && (now - c.at).as_nanos() < refresh
        {
            return c.value;
        }
        let value = compute(&mut self.histogram, now);
        self.cached = Some(Cached {
            value,
            at: now,
            samples: recorded,
        });
        value
    }

    /// The delay after which to send a hedged (duplicate) request: the
    /// [`hedge_quantile`](TimeoutConfig::hedge_quantile) of the live window, clamped like a
    /// timeout; the initial timeout while the window is empty.
    pub fn hedge_delay(&mut self, now: Nanos) -> Nanos {
        if self.histogram.count(now) == 0 {
            return self.to_nanos(self.config.initial.as_nanos() as f64);
        }
        let q = self
            .histogram
            .quantile(self.config.hedge_quantile, now)
            .as_nanos() as f64;
        self.to_nanos(q)
    }

    /// Counts, quantiles and running estimates at `now`.
    pub fn stats(&mut self, now: Nanos) -> TimeoutStats {
        let h = &mut self.histogram;
        TimeoutStats {
            count: h.count(now),
            mean: Nanos(h.mean(now) as u64),
            p50: h.quantile(0.5, now),
            p90: h.quantile(0.9, now),
            p99: h.quantile(0.99, now),
            p999: h.quantile(0.999, now),
            max: h.max(now),
            srtt: self.smoothed.map(|s| Nanos(s.srtt as u64)),
            rttvar: self.smoothed.map(|s| Nanos(s.rttvar as u64)),
            samples: self.samples,
            timeouts: self.timeouts,
            retried: self.retried,
            saturated: h.saturated(),
        }
    }

    /// φ of a request still outstanding after `waited`: how unlikely, from the round-trip
    /// times in the window, it is that a reply is still on its way (the empirical model of
    /// [`Empirical`](crate::Empirical), with its tail fitted to the 10 largest samples). With
    /// no samples, an exponential with the initial timeout as its mean.
    pub fn phi_no_reply(&mut self, waited: Nanos, now: Nanos) -> f64 {
        self.histogram.advance(now);
        let live = self.histogram.live();
        match Survival::fit(live, 10, self.config.floor.as_nanos() as f64) {
            Some(model) => model.phi(live, waited.as_nanos()),
            None => {
                let mean = self.config.initial.as_nanos() as f64;
                (waited.as_nanos() as f64 / (mean * std::f64::consts::LN_10))
                    .min(crate::math::PHI_MAX)
            }
        }
    }

    /// The windowed histogram of round-trip samples.
    pub fn histogram(&mut self) -> &mut WindowedHistogram {
        &mut self.histogram
    }
}

/// The live samples pooled with `weight` pseudo-samples at `prior`.
struct Pooled<'a> {
    h: &'a mut WindowedHistogram,
    prior: f64,
    weight: f64,
    now: Nanos,
}

impl Pooled<'_> {
    /// The value at weighted rank `rank` (from 1; fractional ranks round up) of the pool.
    fn at_rank(&mut self, rank: f64) -> f64 {
        let n = self.h.count(self.now) as f64;
        if n == 0.0 {
            return self.prior;
        }
        let below = self.h.live().count_between(0, self.prior as u64) as f64;
        let rank = if rank <= below {
            rank
        } else if rank <= below + self.weight {
            return self.prior;
        } else {
            rank - self.weight
        };
        value_at_rank(self.h.live(), rank.ceil().max(1.0) as u64) as f64
    }

    /// The `q`-quantile of the pool; beyond the `m` largest values, extrapolated from an
    /// exponential tail fitted to them (scale: their mean excess over the `m`-th largest,
    /// at least 10% of it).
    fn tail_quantile(&mut self, q: f64, m: f64) -> f64 {
        let total = self.h.count(self.now) as f64 + self.weight;
        if (1.0 - q) * total >= m {
            return self.at_rank((q * total).max(1.0));
        }
        let m = m.min(total);
        let u = self.at_rank((total - m).max(1.0));
        let (mut excess, mut above) = (0.0, 0.0);
        for v in self.h.live().iter_recorded() {
            let value = v.value_iterated_to() as f64;
            if value > u {
                let c = v.count_at_value() as f64;
                excess += (value - u) * c;
                above += c;
            }
        }
        if self.prior > u {
            excess += (self.prior - u) * self.weight;
            above += self.weight;
        }
        // The mean excess of the m largest over the m-th largest (ties at u count, with zero
        // excess).
        let scale = (excess / above.max(m)).max(0.1 * u);
        u + scale * ((m / total) / (1.0 - q)).ln().max(0.0)
    }
}
