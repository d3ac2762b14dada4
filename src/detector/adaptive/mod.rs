//! The crate's recommended detector: [`Adaptive`], its [`AdaptiveConfig`], and how it turns
//! arrivals into a deadline. The lateness histogram it learns is in `model`, the spell of
//! recent lateness in `regime`. Its snapshot form (feature `serde`) is `v1::Adaptive`, in
//! `src/snapshot/v1.rs`.

pub(crate) mod model;
pub(crate) mod regime;

use crate::config::{
    ConfigError, check_bounded, check_positive, check_positive_duration, check_range,
};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, deadline_at};
use crate::math::{PHI_MAX, exp2_weight, probability_of_phi};
use crate::prefetch;
use crate::time::Nanos;

use self::model::{Model, TAIL_CAP, bucket, pause_survival};
use self::regime::Regime;

/// Configuration of [`Adaptive`], the crate's recommended detector.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `memory` | `1h` | half-life of the lateness histogram: how long a pause is remembered |
/// | `first_interval` | `1s` | prior: before any interval, the expected interval and the scale of the lateness |
/// | `tail_samples` | 4 | how many of the largest lateness values the exponential tail is fitted to (≥ 1) |
/// | `min_tail_ratio` | 0.0625 | floor on the tail's scale θ, as a fraction of the interval (> 0, ≤ 1000) |
/// | `prior_pause` | `1s` | the prior pause law's scale: pause lengths are taken to follow `P(L > x) = (1 + x/prior_pause)^−2` |
/// | `prior_horizon` | `20min` | the prior counts as one such pause in this much watching: pauses come at rate `1/(prior_horizon + T)` after `T` watched (zero: no prior) |
/// | `regime_factor` | 3 | once two heartbeats within `regime_window` came `x` and more late, the next is given at least `regime_factor · x` of lateness (0: off; ≤ 1000) |
/// | `regime_window` | `10s` | how far back that look reaches (between half of it and all of it) |
///
/// ```
/// use accrual::{AdaptiveConfig, ConfigError, Nanos};
///
/// let cfg = AdaptiveConfig { memory: Nanos::ZERO, ..Default::default() };
/// assert_eq!(cfg.validate(), Err(ConfigError::ZeroDuration { field: "adaptive.memory" }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "ConfigDocument")
)]
pub struct AdaptiveConfig {
    /// Half-life of the lateness histogram's weights.
    pub memory: Nanos,
    /// The prior interval before any arrival pair is known.
    pub first_interval: Nanos,
    /// How many of the largest lateness values the tail is fitted to.
    pub tail_samples: f64,
    /// The smallest tail scale, as a fraction of the learned interval.
    pub min_tail_ratio: f64,
    /// The scale of the prior pause law: a pause longer than `x` has probability
    /// `(1 + x/prior_pause)^−2` (a mean of `prior_pause`, a heavy tail).
    pub prior_pause: Nanos,
    /// The prior counts as one pause seen in this much time: after `T` of watching, a pause
    /// is expected at rate `1/(prior_horizon + T)` (zero turns the prior off).
    pub prior_horizon: Nanos,
    /// After two heartbeats came at least `x` late within [`regime_window`](Self::regime_window),
    /// the next is allowed at least this many times `x` of lateness, whatever the threshold
    /// (0 turns it off): a spell of queueing delay lengthens the deadlines while it lasts,
    /// instead of every deadline, always.
    pub regime_factor: f64,
    /// How far back the regime looks: the lateness of the last half window to whole window.
    pub regime_window: Nanos,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            memory: Nanos::from_secs(3600),
            first_interval: Nanos::from_secs(1),
            tail_samples: 4.0,
            min_tail_ratio: 0.0625,
            prior_pause: Nanos::from_secs(1),
            prior_horizon: Nanos::from_secs(1200),
            regime_factor: 3.0,
            regime_window: Nanos::from_secs(10),
        }
    }
}

/// How an [`AdaptiveConfig`] is read: every field optional (the default where absent), and
/// `prior_weight`, which configurations and snapshots written before `prior_horizon` carry,
/// accepted and ignored (the prior it weighed is now the pause law's horizon).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigDocument {
    memory: Nanos,
    first_interval: Nanos,
    tail_samples: f64,
    min_tail_ratio: f64,
    prior_pause: Nanos,
    prior_horizon: Nanos,
    #[serde(rename = "prior_weight")]
    _prior_weight: Option<f64>,
    regime_factor: f64,
    regime_window: Nanos,
}

#[cfg(feature = "serde")]
impl Default for ConfigDocument {
    fn default() -> Self {
        let d = AdaptiveConfig::default();
        ConfigDocument {
            memory: d.memory,
            first_interval: d.first_interval,
            tail_samples: d.tail_samples,
            min_tail_ratio: d.min_tail_ratio,
            prior_pause: d.prior_pause,
            prior_horizon: d.prior_horizon,
            _prior_weight: None,
            regime_factor: d.regime_factor,
            regime_window: d.regime_window,
        }
    }
}

#[cfg(feature = "serde")]
impl From<ConfigDocument> for AdaptiveConfig {
    fn from(d: ConfigDocument) -> Self {
        AdaptiveConfig {
            memory: d.memory,
            first_interval: d.first_interval,
            tail_samples: d.tail_samples,
            min_tail_ratio: d.min_tail_ratio,
            prior_pause: d.prior_pause,
            prior_horizon: d.prior_horizon,
            regime_factor: d.regime_factor,
            regime_window: d.regime_window,
        }
    }
}

impl AdaptiveConfig {
    /// Checks every rule; the detector's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive_duration("adaptive.memory", self.memory)?;
        check_positive_duration("adaptive.first_interval", self.first_interval)?;
        check_range("adaptive.tail_samples", self.tail_samples, 1.0, 1e6)?;
        check_positive("adaptive.min_tail_ratio", self.min_tail_ratio)?;
        check_range("adaptive.min_tail_ratio", self.min_tail_ratio, 0.0, 1000.0)?;
        check_positive_duration("adaptive.prior_pause", self.prior_pause)?;
        check_bounded("adaptive.prior_horizon", self.prior_horizon)?;
        check_range("adaptive.regime_factor", self.regime_factor, 0.0, 1000.0)?;
        check_positive_duration("adaptive.regime_window", self.regime_window)?;
        check_bounded("adaptive.regime_window", self.regime_window)
    }
}

/// Weights are rescaled once they reach `2^RESCALE_OCTAVES`, keeping `f32` counts finite.
const RESCALE_OCTAVES: f64 = 60.0;
/// The interval estimate spans at least this many sequence numbers once it has them.
const SPAN: u64 = 256;
/// The model is refitted at least every `REFIT_MIN` arrivals while it holds little weight…
const REFIT_MIN: u64 = 32;
/// … and at most every `REFIT_MAX` once it holds a lot.
const REFIT_MAX: u64 = 1024;
/// Lateness counts towards the regime from this fraction of the interval on: jitter never
/// raises the floor, queueing delay of a few milliseconds on a 100 ms interval does.
const REGIME_NOTABLE: f64 = 0.125;

/// The bytes at the start of [`Adaptive`] that hold everything an ordinary heartbeat reads,
/// but for its bucket: three cache lines.
const HOT_BYTES: usize = 192;

/// How many arrivals apart the model is refitted when it holds `held` samples' weight: the
/// power of two from [`REFIT_MIN`] to [`REFIT_MAX`] nearest below `held/256`.
fn refit_period(held: f64) -> u64 {
    let share = held / 256.0;
    if share >= REFIT_MAX as f64 {
        REFIT_MAX
    } else if share >= REFIT_MIN as f64 {
        1 << (share as u64).ilog2()
    } else {
        REFIT_MIN
    }
}

/// `⌊x⌋` for `x ≥ 0`, as a conversion: the interval's whole nanoseconds without the library
/// call `f64::floor` makes on the baseline x86-64 target (from 2^52 on every double is whole).
#[inline]
fn whole_part(x: f64) -> f64 {
    if x < 4_503_599_627_370_496.0 {
        // Through i64: one instruction each way on x86-64, where u64 takes several.
        (x as i64).max(0) as f64
    } else {
        x
    }
}

/// `w as u64` for a whole `w` (from [`whole_part`]), through `i64` while it fits.
#[inline(always)]
fn whole_u64(w: f64) -> u64 {
    if w < 9.0e18 {
        w as i64 as u64
    } else {
        w as u64
    }
}

/// `x as f64`, through `i64` while it fits (one instruction on x86-64, where `u64` takes
/// several): the same value, rounded the same way.
#[inline(always)]
fn float(x: u64) -> f64 {
    if x <= i64::MAX as u64 {
        x as i64 as f64
    } else {
        x as f64
    }
}

/// The crate's recommended detector: a per-peer, long-memory model of how late the next
/// heartbeat may be, and a deadline chosen as a trade between detection time and false
/// suspicions.
///
/// # The model
///
/// * **Interval.** The sending interval `η` is learned from the arrivals and their sequence
///   numbers over a long span (hundreds of heartbeats), so lost heartbeats and pauses do not bias
///   it.
/// * **Lateness.** After each arrival the detector records how much later than `η` it came after
///   the previous one: `x = (A_k − A_{k−1}) − η` (0 when early). Lost heartbeats show up as whole
///   multiples of `η`, a sender's or receiver's pause as its length. The lateness values go into a
///   log-spaced histogram (8 buckets per octave, from 8 µs to 137 s) whose weights decay with a
///   half-life of [`memory`](AdaptiveConfig::memory) (one hour by default), so a pause that
///   comes every few minutes is remembered, and a link that changed is relearned.
/// * **Survival.** `S(x)`, the probability that the next heartbeat is more than `x` late, is
///   the histogram's share of lateness above `x`, `(a(x) + 1)/(n + 1)` with `a(x)` the
///   (decayed) mass above `x` and `n` the total (linear between bucket edges), plus the prior:
///   `S(x) = S_hist(x) + π·e^(−x/prior_pause)`. Beyond the largest lateness seen, the
///   histogram's one unit of unseen mass fades with a scale fitted to the
///   [`tail_samples`](AdaptiveConfig::tail_samples) largest values but at most an eighth of
///   that largest lateness: one pause is not a law for longer ones.
/// * **Prior.** Pauses longer than anything seen are the prior's to allow. It takes a pause
///   (of mean [`prior_pause`](AdaptiveConfig::prior_pause), 1 s) to start within one interval
///   with probability `π = η/(prior_horizon + T)`, where `T` is how long the peer has been
///   watched: a rule of succession in time, as if one pause had been seen in
///   [`prior_horizon`](AdaptiveConfig::prior_horizon) (20 min) before the first heartbeat.
///   A peer seen for a minute has not shown that it never pauses; one watched for a day
///   without a pause is expected to pause about once a day. The prior fades only with time
///   watched, never with the number of heartbeats, so it means the same at 20 ms and at 2 s.
/// * **Regime.** The histogram says how late heartbeats come over the hours; queueing delay
///   comes in spells, during which one late heartbeat is followed by more. So the detector also
///   keeps the two largest lateness values above an eighth of `η` in each half of the last
///   [`regime_window`](AdaptiveConfig::regime_window) (10 s by default), and while two of them
///   reach `x`, every deadline allows at least
///   [`regime_factor`](AdaptiveConfig::regime_factor)` · x` (3 by default; 0 turns it off).
///   One pause alone does not set it, jitter never does, and it lapses a window after the
///   spell. It lets the threshold be priced for calm times instead of for the worst spell
///   (what that buys on the scenarios of `accrual eval` is recorded in `CHANGELOG.md`). Where
///   heartbeats come late often but independently (several percent of them lost, say), it
///   allows three times that lateness at any threshold, which only the smallest thresholds
///   would go below.
///
/// # The threshold
///
/// As for every accrual detector of this crate, `Φ` is a false-suspicion probability per
/// heartbeat: the deadline is `τ = A + η + D` with `D` the smallest lateness whose survival
/// `S(D)` is at most `10^−Φ` (or the regime's floor, if larger). In the unit people reason
/// in, a rate of `r` false suspicions per hour is `Φ = −log10(r·η/3600 s)`:
/// [`Detector::threshold_for_rate`] gives it, and a [`Monitor`](crate::Monitor) applies it
/// per peer ([`MonitorConfig::mistakes_per_hour`](crate::MonitorConfig::mistakes_per_hour),
/// 0.1 by default). The recommended range is 0.1 to 1 per peer-hour.
///
/// Cold, with `T = 0`, the prior alone sets the deadline at `prior_pause · ln(3600 s /
/// (r · prior_horizon))` beyond the interval: 3.4 s at 0.1 per hour, 1.1 s at 1 per hour. It
/// shrinks as `T` grows: at 0.1 per hour, to 2.1 s after an hour and to zero (the histogram
/// alone) after about 9 hours.
///
/// # One pause
///
/// After one isolated pause of length `P`, the deadline at a rate in the recommended range is
/// at most `2P + η` beyond the last heartbeat, or the deadline before the pause if that was
/// longer (the prior's, early in the peer's life). The pause is remembered with the
/// histogram's half-life ([`memory`](AdaptiveConfig::memory), 1 h): while its decayed weight
/// is more than the rate's share of the heartbeats, it is waited out. A silence that ended
/// with the peer `Dead` in a [`Monitor`](crate::Monitor) is not learned at all.
///
/// φ is `−log10 S(x)` for the current lateness `x`: 0 up to the expected arrival (and up to
/// the regime's floor past it), non-decreasing, and in the tail rising linearly with the
/// silence.
///
/// # Cost
///
/// State is fixed-size and inline: 2,688 bytes per peer (`size_of::<Adaptive>()`); a heartbeat
/// never allocates.
/// A heartbeat adds one sample; every one of the first 64, every one more than a quarter
/// interval late, and then one whenever a 256th of the weight held is new (every 32nd arrival
/// at first, every 128th with an hour's memory of 100 ms heartbeats, at most every 1024th)
/// also refit the model (one pass over the histogram's buckets), so a lateness never seen
/// before reshapes the tail at once. A φ query is a binary search. For the times of a heartbeat
/// and a query, beside the published crates, see `BENCHMARKS.md`.
///
/// ```
/// use accrual::{Adaptive, AdaptiveConfig, Detector, Nanos};
///
/// let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
/// let mut t = Nanos::ZERO;
/// for seq in 0..3_000u64 {
///     // 100 ms heartbeats, ± 1 ms, and a 2 s pause every 1000
///     t += Nanos::from_millis(if seq % 1000 == 999 { 2_000 } else { 99 + seq % 3 });
///     d.heartbeat_seq(t, seq);
/// }
/// let deadline = d.deadline(5.0).unwrap();
/// // The pauses are remembered: the peer is given more than 2 s before it is suspected.
/// assert!(deadline - t > Nanos::from_secs(2));
/// assert!(d.phi(deadline) <= 5.0 && d.phi(deadline + Nanos(1)) >= 5.0);
/// ```
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct Adaptive {
    // What a heartbeat reads comes first, in the detector's first three cache lines (192
    // bytes, checked by `a_heartbeat_reads_three_lines_and_its_bucket`): a batch of heartbeats
    // then fetches four lines of it from memory, not five.
    pub(crate) log: ArrivalLog,
    /// The interval estimate, ns.
    pub(crate) eta: f64,
    /// The weight of a sample arriving now, `2^((t − origin)/memory)`.
    pub(crate) unit: f64,
    /// The arrival time weights are relative to, ns.
    pub(crate) origin: u64,
    /// One over the configuration's [`memory`](AdaptiveConfig::memory) in ns, beside the
    /// weight it scales, so that a heartbeat neither reads the configuration's line nor
    /// divides.
    pub(crate) per_half_life: f64,
    /// `(seq, arrival)` of the first arrival, and of an anchor at least `SPAN` numbers back.
    pub(crate) first: Option<(u64, u64)>,
    pub(crate) anchor: (u64, u64),
    pub(crate) next_anchor: (u64, u64),
    /// The largest recent lateness values.
    pub(crate) regime: Regime,
    /// The lateness distribution.
    pub(crate) model: Model,
    pub(crate) config: AdaptiveConfig,
    /// The first arrival ever, ns: how long the peer has been watched, for the prior (read by
    /// queries, not by heartbeats after the first).
    pub(crate) since: Option<u64>,
}

impl Adaptive {
    /// Asks for the line whose place depends on a heartbeat at `at`: the bucket its lateness
    /// would land in, found from the arrival log and the interval estimate (whose lines
    /// [`prefetch_fixed`](Self::prefetch_fixed) asked for). A batch of heartbeats calls both
    /// for every peer before recording any, so that their cache misses overlap.
    pub(crate) fn prefetch_bucket(&self, at: Nanos) {
        let last = self.log.last.map_or(0, Nanos::as_nanos);
        let lateness = float(at.as_nanos().saturating_sub(last)) - self.eta;
        prefetch::line(&self.model.counts[bucket(lateness)]);
    }

    /// Asks for the lines at fixed places that every heartbeat touches: the detector's first
    /// three (the arrival log, the interval estimate, the weight and its half-life, the
    /// anchors, the regime, the histogram's total).
    pub(crate) fn prefetch_fixed(&self) {
        prefetch::first(self, HOT_BYTES);
    }

    /// A detector with no arrivals yet.
    pub fn new(config: AdaptiveConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let eta = config.first_interval.as_nanos() as f64;
        let mut d = Adaptive {
            config,
            log: ArrivalLog::default(),
            first: None,
            anchor: (0, 0),
            next_anchor: (0, 0),
            regime: Regime::new(config.regime_window.as_nanos()),
            since: None,
            eta,
            unit: 1.0,
            origin: 0,
            per_half_life: 1.0 / config.memory.as_nanos() as f64,
            model: Model::new(eta),
        };
        d.refit();
        Ok(d)
    }

    /// Forgets every arrival.
    pub fn reset(&mut self) {
        if let Ok(fresh) = Adaptive::new(self.config) {
            *self = fresh;
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AdaptiveConfig {
        &self.config
    }

    /// The learned sending interval `η`.
    pub fn interval(&self) -> Nanos {
        Nanos(self.eta as u64)
    }

    pub(crate) fn refit(&mut self) {
        let floor = self.eta * self.config.min_tail_ratio;
        let (unit, config) = (self.unit, self.config);
        self.model.refit(unit, floor, self.eta * TAIL_CAP, &config);
    }

    /// The prior's probability that a pause begins within one interval, after what has been
    /// watched: `η / (prior_horizon + T)`.
    fn prior_per_heartbeat(&self) -> f64 {
        let horizon = self.config.prior_horizon.as_nanos() as f64;
        if horizon <= 0.0 {
            return 0.0;
        }
        let watched = match (self.since, self.log.last) {
            (Some(since), Some(last)) => float(last.as_nanos().saturating_sub(since)),
            _ => 0.0,
        };
        (self.eta / (horizon + watched)).min(1.0)
    }

    /// The probability, under the model, that the next heartbeat comes more than `x` late.
    fn survival(&self, x: f64) -> f64 {
        let pause = self.config.prior_pause.as_nanos() as f64;
        (self.model.survival(x) + self.prior_per_heartbeat() * pause_survival(x, pause)).min(1.0)
    }

    /// Whether the `accepted`-th arrival, a multiple of [`REFIT_MIN`], refits the model: every
    /// `P`-th does, for `P` the power of two from [`REFIT_MIN`] to [`REFIT_MAX`] nearest below a
    /// 256th of the weight the histogram holds (in samples of this instant's weight), so that
    /// at most a 256th of the evidence is ever left out of the fitted curve.
    fn refit_due(&self, accepted: u64) -> bool {
        accepted.is_multiple_of(refit_period(self.model.total / self.unit))
    }

    /// The lateness every deadline allows for now, whatever the threshold: the regime factor
    /// times the level two recent arrivals reached.
    fn regime_floor(&self) -> f64 {
        let last = self.log.last.map_or(0, Nanos::as_nanos);
        self.config.regime_factor * self.regime.level(last)
    }

    /// The lateness allowed at `threshold`: the model's `1 − 10^−Φ` quantile, or the regime's
    /// floor if larger.
    fn allowance(&self, threshold: f64) -> f64 {
        let p = probability_of_phi(threshold);
        let x = self.model.quantile(
            p,
            self.prior_per_heartbeat(),
            self.config.prior_pause.as_nanos() as f64,
            u64::MAX as f64,
        );
        let floor = self.regime_floor();
        if x < floor { floor } else { x }
    }

    /// Moves the weights forward to `at`.
    fn age(&mut self, at: u64) {
        let per_half_life = self.per_half_life;
        let mut octaves = float(at.saturating_sub(self.origin)) * per_half_life;
        if octaves > RESCALE_OCTAVES {
            let half_life = self.config.memory.as_nanos() as f64;
            let scale = libm::exp2(-octaves.floor());
            self.model.rescale(scale);
            self.origin = self
                .origin
                .saturating_add((octaves.floor() * half_life) as u64);
            octaves = float(at.saturating_sub(self.origin)) * per_half_life;
        }
        self.unit = exp2_weight(octaves);
    }

    /// Updates the interval estimate with an arrival at `at` numbered `seq`.
    /// Whether sequence numbers jumped far beyond what the elapsed time allows since the
    /// previous arrival: a sender that restarted and numbers from somewhere else. The interval
    /// estimate then starts afresh from this arrival, keeping η.
    fn renumbered(&self, seq: u64, at: u64, previous: Option<(u64, u64)>) -> bool {
        previous.is_some_and(|(s, t)| {
            let jump = seq.saturating_sub(s);
            jump > SPAN && (at.saturating_sub(t) as f64) < jump as f64 * self.eta * 0.25
        })
    }

    fn learn_interval(&mut self, seq: u64, at: u64, previous: Option<(u64, u64)>) {
        let first = match self.first {
            Some(first) if !self.renumbered(seq, at, previous) => first,
            _ => {
                self.first = Some((seq, at));
                self.anchor = (seq, at);
                self.next_anchor = (seq, at);
                return;
            }
        };
        if seq.saturating_sub(self.next_anchor.0) >= SPAN {
            self.anchor = self.next_anchor;
            self.next_anchor = (seq, at);
        }
        let base = if seq.saturating_sub(self.anchor.0) >= SPAN {
            self.anchor
        } else {
            first
        };
        let steps = seq.saturating_sub(base.0);
        if steps > 0 {
            self.eta = float(at.saturating_sub(base.1)) / float(steps);
        }
    }
}

impl Detector for Adaptive {
    fn expected_interval(&self) -> Option<Nanos> {
        Some(self.interval())
    }

    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        let previous = self.log.max_seq.zip(self.log.last.map(Nanos::as_nanos));
        let accepted = match self.log.accept(at, seq) {
            Ok(accepted) => accepted,
            Err(ignored) => return ignored,
        };
        let eta = self.eta;
        if self.since.is_none() {
            self.since = Some(at.as_nanos());
        }
        self.learn_interval(accepted.seq, at.as_nanos(), previous);
        let Some(interval) = accepted.interval else {
            self.refit();
            return Arrival::Accepted;
        };
        let lateness = float(interval.as_nanos()) - eta;
        if lateness > eta * REGIME_NOTABLE {
            self.regime.record(at.as_nanos(), lateness);
        }
        self.age(at.as_nanos());
        let unit = self.unit;
        self.model.add(lateness, unit);
        // A refit once a 256th of the evidence is new follows the slow drift of the weights; a
        // notable lateness reshapes the tail at once.
        let accepted = self.log.counts.accepted;
        if lateness > eta * 0.25
            || self.model.samples < 64
            || (accepted.is_multiple_of(REFIT_MIN) && self.refit_due(accepted))
        {
            self.refit();
        }
        Arrival::Accepted
    }

    fn record_unlearned(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        match self.log.accept(at, seq) {
            Ok(accepted) => {
                if self.since.is_none() {
                    self.since = Some(at.as_nanos());
                }
                // Neither the lateness nor the interval is learned: the estimate of η starts
                // afresh from this arrival (keeping η), so that a sender stopped for an hour,
                // whose numbering stopped too, is not taken to send once an hour.
                let here = (accepted.seq, at.as_nanos());
                (self.first, self.anchor, self.next_anchor) = (Some(here), here, here);
                Arrival::Accepted
            }
            Err(ignored) => ignored,
        }
    }

    fn phi(&self, now: Nanos) -> f64 {
        let Some(elapsed) = self.log.elapsed(now) else {
            return 0.0;
        };
        // As the deadline counts it: whole nanoseconds of the interval first, then the fraction.
        let whole = whole_part(self.eta);
        let beyond = elapsed.as_nanos().saturating_sub(whole_u64(whole));
        let x = float(beyond) - (self.eta - whole);
        if x.is_nan() || x <= 0.0 || x <= self.regime_floor() {
            return 0.0;
        }
        let phi = -self.survival(x).ln() * std::f64::consts::LOG10_E;
        if phi.is_nan() {
            return PHI_MAX;
        }
        phi.clamp(0.0, PHI_MAX)
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        let last = match self.log.deadline_gate(threshold) {
            Ok(last) => last,
            Err(answer) => return answer,
        };
        let x = self.allowance(threshold);
        let whole = whole_part(self.eta);
        Some(deadline_at(last, whole_u64(whole), x + (self.eta - whole)))
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }

    fn false_suspicion_probability(&self, threshold: f64) -> Option<f64> {
        if !threshold.is_finite() {
            return None;
        }
        let x = self.allowance(threshold);
        Some(self.survival(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field an ordinary heartbeat reads lies in the first [`HOT_BYTES`] of the detector
    /// (which `prefetch_fixed` asks for), and the detector starts a cache line.
    #[test]
    fn a_heartbeat_reads_three_lines_and_its_bucket() {
        use std::mem::offset_of;
        let model = offset_of!(Adaptive, model);
        let ends = [
            offset_of!(Adaptive, log) + size_of::<ArrivalLog>(),
            offset_of!(Adaptive, eta) + 8,
            offset_of!(Adaptive, unit) + 8,
            offset_of!(Adaptive, origin) + 8,
            offset_of!(Adaptive, per_half_life) + 8,
            offset_of!(Adaptive, first) + size_of::<Option<(u64, u64)>>(),
            offset_of!(Adaptive, anchor) + 16,
            offset_of!(Adaptive, next_anchor) + 16,
            offset_of!(Adaptive, regime) + size_of::<Regime>(),
            model + offset_of!(Model, total) + 8,
            model + offset_of!(Model, samples) + 8,
        ];
        for (i, end) in ends.iter().enumerate() {
            assert!(*end <= HOT_BYTES, "field {i} ends at byte {end}");
        }
        assert_eq!(align_of::<Adaptive>(), 64);
        // The configuration (read by refits, not by heartbeats) lies beyond them.
        assert!(offset_of!(Adaptive, config) >= HOT_BYTES);
    }

    #[test]
    fn whole_part_is_the_floor() {
        let two52 = 4_503_599_627_370_496.0;
        for x in [
            0.0,
            0.25,
            1.0,
            99_999_999.999,
            100_000_000.5,
            two52 - 0.5,
            two52,
            two52 + 2.0,
            1e19,
            1e300,
        ] {
            assert_eq!(whole_part(x), x.floor(), "{x}");
        }
    }

    #[test]
    fn the_refit_period_doubles_with_the_weight_held() {
        assert_eq!(refit_period(0.0), REFIT_MIN);
        assert_eq!(refit_period(256.0 * 63.9), REFIT_MIN);
        assert_eq!(refit_period(256.0 * 64.0), 64);
        assert_eq!(refit_period(256.0 * 1000.0), 512);
        assert_eq!(refit_period(256.0 * 1024.0), REFIT_MAX);
        assert_eq!(refit_period(1e300), REFIT_MAX);
        assert_eq!(refit_period(f64::INFINITY), REFIT_MAX);
    }

    /// A model refitted only on schedule chooses deadlines as good as one refitted on every
    /// heartbeat: judged by the freshly fitted curve (the same detector refitted before the
    /// query), the lateness it allows is within 1 % of the fresh fit's own choice, and its
    /// false-suspicion probability within 5 % of the one asked for.
    #[test]
    fn a_model_refitted_on_schedule_stays_close_to_a_fresh_fit() {
        let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut t = 0u64;
        let (mut worst_x, mut worst_p) = (0f64, 0f64);
        for seq in 0..40_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // 100 ms ± 2 ms, and one heartbeat in 500 lost.
            t += 98_000_000
                + x % 4_000_000
                + if x.is_multiple_of(500) {
                    100_000_000
                } else {
                    0
                };
            d.record(Nanos(t), Some(seq));
            if seq > 2_000 && seq % 97 == 0 {
                let mut fresh = d.clone();
                fresh.refit();
                for threshold in [1.0, 3.0, 6.0] {
                    let (a, b) = (d.allowance(threshold), fresh.allowance(threshold));
                    worst_x = worst_x.max((a / b - 1.0).abs());
                    let p = probability_of_phi(threshold);
                    worst_p = worst_p.max(fresh.survival(a) / p - 1.0);
                }
            }
        }
        assert!(
            worst_x < 0.01,
            "largest difference in lateness allowed {worst_x}"
        );
        assert!(worst_p < 0.05, "largest excess probability {worst_p}");
    }
}
