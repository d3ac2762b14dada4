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
use crate::math::{PHI_MAX, exp2_weight};
use crate::prefetch;
use crate::time::Nanos;

use self::model::{Model, bucket};
use self::regime::Regime;

/// Configuration of [`Adaptive`], the crate's recommended detector.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `memory` | `1h` | half-life of the lateness histogram: how long a pause is remembered |
/// | `first_interval` | `1s` | prior: before any interval, the expected interval and the scale of the lateness |
/// | `tail_samples` | 4 | how many of the largest lateness values the exponential tail is fitted to (≥ 1) |
/// | `min_tail_ratio` | 0.0625 | floor on the tail's scale θ, as a fraction of the interval (> 0, ≤ 1000) |
/// | `prior_pause` | `1s` | the prior: the tail is at least `prior_pause · w/(w + n)` wide after `n` intervals… |
/// | `prior_weight` | 8 | … with `w` this weight (0: no prior) |
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
    serde(default, deny_unknown_fields)
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
    /// The prior: a pause of this length is taken to have been seen
    /// [`prior_weight`](Self::prior_weight) times before the first heartbeat.
    pub prior_pause: Nanos,
    /// How many times the prior pause counts (0 for none).
    pub prior_weight: f64,
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
            prior_weight: 8.0,
            regime_factor: 3.0,
            regime_window: Nanos::from_secs(10),
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
        check_bounded("adaptive.prior_pause", self.prior_pause)?;
        check_range("adaptive.prior_weight", self.prior_weight, 0.0, 1e6)?;
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
        x as u64 as f64
    } else {
        x
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
///   `(a(x) + 1)/(n + 1)` with `a(x)` the (decayed) lateness mass above `x` and `n` the total,
///   linear between bucket edges; beyond the largest lateness seen, an exponential tail whose
///   scale is the mean excess of the [`tail_samples`](AdaptiveConfig::tail_samples) largest.
///   So nothing the peer did in the memory is ever deemed impossible, and the first heartbeats
///   give a wide, cautious model.
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
/// A deadline `τ = A + η + D` costs `D` of detection time on every heartbeat and risks a false
/// suspicion with probability `S(D)`. With a threshold `Φ`, a false suspicion is priced at
/// `W = 10^Φ · η` of detection time, and `D` minimises `D + W·S(D)`. A peer whose lateness has
/// a long flat tail (rare multi-second pauses) is therefore given a somewhat higher
/// false-suspicion probability than a peer whose lateness falls off steeply: each second of
/// detection time buys as few false suspicions as possible across a whole fleet configured with
/// one threshold, which is how the per-peer hindsight oracle of the detection-quality spec
/// allocates its budget. [`Detector::false_suspicion_probability`] reports the `S(D)` this
/// gives right now.
///
/// φ is the threshold at which the current silence would just be suspected:
/// `φ(t) = log10(W/η)` for the smallest `W` whose deadline lies beyond `t`. It is 0 up to the
/// expected arrival (and up to the regime's floor past it), non-decreasing, and in the tail
/// rises linearly with the silence.
///
/// # Cost
///
/// State is fixed-size and inline: 2,816 bytes per peer (`size_of::<Adaptive>()`); a heartbeat
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
    /// The configuration's [`memory`](AdaptiveConfig::memory), ns, beside the weight it
    /// scales, so that a heartbeat does not read the configuration's line.
    pub(crate) half_life: f64,
    /// `(seq, arrival)` of the first arrival, and of an anchor at least `SPAN` numbers back.
    pub(crate) first: Option<(u64, u64)>,
    pub(crate) anchor: (u64, u64),
    pub(crate) next_anchor: (u64, u64),
    /// The largest recent lateness values.
    pub(crate) regime: Regime,
    /// The lateness distribution.
    pub(crate) model: Model,
    pub(crate) config: AdaptiveConfig,
}

impl Adaptive {
    /// Asks for the line whose place depends on a heartbeat at `at`: the bucket its lateness
    /// would land in, found from the arrival log and the interval estimate (whose lines
    /// [`prefetch_fixed`](Self::prefetch_fixed) asked for). A batch of heartbeats calls both
    /// for every peer before recording any, so that their cache misses overlap.
    pub(crate) fn prefetch_bucket(&self, at: Nanos) {
        let last = self.log.last.map_or(0, Nanos::as_nanos);
        let lateness = at.as_nanos().saturating_sub(last) as f64 - self.eta;
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
            eta,
            unit: 1.0,
            origin: 0,
            half_life: config.memory.as_nanos() as f64,
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

    fn refit(&mut self) {
        let floor = self.eta * self.config.min_tail_ratio;
        let (unit, config) = (self.unit, self.config);
        self.model.refit(unit, floor, &config);
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

    /// The lateness allowed at `threshold`: the model's trade, or the regime's floor if larger.
    fn allowance(&self, threshold: f64) -> f64 {
        let (x, floor) = (
            self.model.allowance(self.price_of(threshold)),
            self.regime_floor(),
        );
        if x < floor { floor } else { x }
    }

    /// The price of a false suspicion at `threshold`, ns.
    fn price_of(&self, threshold: f64) -> f64 {
        libm::exp10(threshold.min(PHI_MAX.log10())) * self.eta
    }

    /// Moves the weights forward to `at`.
    fn age(&mut self, at: u64) {
        let half_life = self.half_life;
        let mut octaves = at.saturating_sub(self.origin) as f64 / half_life;
        if octaves > RESCALE_OCTAVES {
            let scale = libm::exp2(-octaves.floor());
            self.model.rescale(scale);
            self.origin = self
                .origin
                .saturating_add((octaves.floor() * half_life) as u64);
            octaves = at.saturating_sub(self.origin) as f64 / half_life;
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
            self.eta = at.saturating_sub(base.1) as f64 / steps as f64;
        }
    }
}

impl Detector for Adaptive {
    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        let previous = self.log.max_seq.zip(self.log.last.map(Nanos::as_nanos));
        let accepted = match self.log.accept(at, seq) {
            Ok(accepted) => accepted,
            Err(ignored) => return ignored,
        };
        let eta = self.eta;
        self.learn_interval(accepted.seq, at.as_nanos(), previous);
        let Some(interval) = accepted.interval else {
            self.refit();
            return Arrival::Accepted;
        };
        let lateness = interval.as_nanos() as f64 - eta;
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
        let previous = self.log.max_seq.zip(self.log.last.map(Nanos::as_nanos));
        match self.log.accept(at, seq) {
            Ok(accepted) => {
                // The interval is not learned, but a renumbering still restarts the estimate.
                if self.renumbered(accepted.seq, at.as_nanos(), previous) {
                    let here = (accepted.seq, at.as_nanos());
                    (self.first, self.anchor, self.next_anchor) = (Some(here), here, here);
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
        // As the deadline counts it: whole nanoseconds of the interval first, then the fraction.
        let whole = whole_part(self.eta);
        let beyond = elapsed.as_nanos().saturating_sub(whole as u64);
        let x = beyond as f64 - (self.eta - whole);
        if x.is_nan() || x <= 0.0 || x <= self.regime_floor() {
            return 0.0;
        }
        let phi = (self.model.price(x) / self.eta).log10();
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
        Some(deadline_at(last, whole as u64, x + (self.eta - whole)))
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
        Some(self.model.survival(x, self.unit))
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
            offset_of!(Adaptive, half_life) + 8,
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
    /// query), the lateness it allows costs at most 1 % more detection time plus priced false
    /// suspicions, `x + W·S(x)`, than the fresh fit's own choice. (The choices themselves may
    /// differ by a bucket, where two edges cost nearly the same.)
    #[test]
    fn a_model_refitted_on_schedule_stays_close_to_a_fresh_fit() {
        let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut t = 0u64;
        let mut worst = 0f64;
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
                    let w = fresh.price_of(threshold);
                    let cost = |x: f64| x + w * fresh.model.survival(x, fresh.unit);
                    let (a, b) = (d.allowance(threshold), fresh.allowance(threshold));
                    worst = worst.max(cost(a) / cost(b) - 1.0);
                }
            }
        }
        assert!(worst < 0.01, "largest excess cost {worst}");
    }
}
