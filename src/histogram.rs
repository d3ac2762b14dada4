//! Time-windowed HDR histograms: rotating sub-windows over [`hdrhistogram`], rotated by the
//! `now` passed in.

use hdrhistogram::Histogram;

use crate::config::{ConfigError, check_duration_order, check_range};
use crate::time::Nanos;

/// Configuration of a [`WindowedHistogram`]: its time
/// window, value range and precision.
///
/// The window is `sub_windows` rotating sub-windows of `sub_window` each; the live window
/// always holds the current (partial) sub-window and the `sub_windows − 1` before it. Values
/// are nanoseconds, tracked from `lowest` (the resolution of small values) to `highest`
/// (larger values are recorded as `highest` and counted), to `significant_digits` decimal
/// digits: 2 means within 1%.
///
/// | field | default | rule |
/// |---|---|---|
/// | `sub_windows` | 6 | 1 ..= 1024 |
/// | `sub_window` | `10s` | positive |
/// | `lowest` | `1us` | positive, at most half of `highest` |
/// | `highest` | `3600s` | |
/// | `significant_digits` | 2 | 0 ..= 5 |
///
/// Memory: `sub_windows + 1` HDR histograms of 32-bit counters; see
/// [`WindowedHistogram`] for measured sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct HistogramConfig {
    /// How many sub-windows rotate.
    pub sub_windows: usize,
    /// The span of one sub-window.
    pub sub_window: Nanos,
    /// The smallest value told apart from zero.
    pub lowest: Nanos,
    /// The largest value tracked; larger ones saturate.
    pub highest: Nanos,
    /// Decimal digits of precision (2: within 1%).
    pub significant_digits: u8,
}

impl Default for HistogramConfig {
    fn default() -> Self {
        HistogramConfig {
            sub_windows: 6,
            sub_window: Nanos::from_secs(10),
            lowest: Nanos::from_micros(1),
            highest: Nanos::from_secs(3600),
            significant_digits: 2,
        }
    }
}

/// The most sub-windows a histogram accepts.
pub const MAX_SUB_WINDOWS: usize = 1024;

/// The most bytes one [`WindowedHistogram`] may take ([`HistogramConfig::heap_bytes`]):
/// 16 MiB, room for 1,024 sub-windows of the default histogram. A configuration beyond it is
/// refused by validation ([`ConfigError::TooLarge`]) before anything is allocated.
pub const MAX_HISTOGRAM_BYTES: u64 = 16 << 20;

/// The bytes of one HDR histogram's header, as `hdrhistogram` lays it out (its counts are on
/// the heap, 4 bytes each).
const HDR_HEADER_BYTES: u64 = size_of::<Histogram<u32>>() as u64;

impl HistogramConfig {
    /// Checks every rule, naming fields as `names` says.
    pub(crate) fn validate_as(&self, prefix: HistogramFields) -> Result<(), ConfigError> {
        if self.sub_windows == 0 {
            return Err(ConfigError::ZeroCount {
                field: prefix.sub_windows,
            });
        }
        if self.sub_windows > MAX_SUB_WINDOWS {
            return Err(ConfigError::OutOfRange {
                field: prefix.sub_windows,
                value: self.sub_windows as f64,
                min: 1.0,
                max: MAX_SUB_WINDOWS as f64,
            });
        }
        if self.sub_window == Nanos::ZERO {
            return Err(ConfigError::ZeroDuration {
                field: prefix.sub_window,
            });
        }
        if self.lowest == Nanos::ZERO {
            return Err(ConfigError::ZeroDuration {
                field: prefix.lowest,
            });
        }
        check_duration_order(
            (prefix.lowest, self.lowest.saturating_mul(2)),
            (prefix.highest, self.highest),
        )?;
        check_range(
            prefix.significant_digits,
            f64::from(self.significant_digits),
            0.0,
            5.0,
        )?;
        // HDR cannot resolve 10^digits steps below a lowest value this large.
        let unit = 63 - self.lowest.as_nanos().leading_zeros();
        let sub_bucket_bits = (2.0 * 10f64.powi(i32::from(self.significant_digits)))
            .log2()
            .ceil() as u32;
        if unit + sub_bucket_bits > 63 {
            return Err(ConfigError::OutOfRange {
                field: prefix.lowest,
                value: self.lowest.as_nanos() as f64,
                min: 1.0,
                max: (1u64 << (63 - sub_bucket_bits)) as f64,
            });
        }
        let bytes = self.heap_bytes();
        if bytes > MAX_HISTOGRAM_BYTES {
            return Err(ConfigError::TooLarge {
                field: prefix.whole,
                bytes,
                max: MAX_HISTOGRAM_BYTES,
            });
        }
        Ok(())
    }

    /// The buckets (32-bit counters) of one HDR histogram of this range and precision, as
    /// `hdrhistogram` sizes it: `(b + 1)·2^(m − 1)` for `2^m` sub-buckets, the fewest
    /// above `2·10^digits`, and `b` buckets, each twice the range of the one before, from
    /// `2^m` units of `lowest`'s power of two until one reaches past `highest`. Computed
    /// without allocating; meaningful for a configuration that
    /// [validates](Self::validate) its range.
    pub fn buckets(&self) -> u64 {
        let digits = u32::from(self.significant_digits.min(5));
        let single_unit = 2 * 10u64.pow(digits);
        // ⌈log2(2·10^digits)⌉ sub-bucket bits, at least 1.
        let m = (64 - (single_unit - 1).leading_zeros()).max(1);
        let sub_buckets = 1u64 << m;
        let unit = 63 - self.lowest.as_nanos().max(1).leading_zeros();
        let highest = self.highest.as_nanos();
        let mut untrackable = sub_buckets.checked_shl(unit).unwrap_or(u64::MAX);
        let mut buckets = 1u64;
        while untrackable <= highest {
            if untrackable > u64::MAX / 2 {
                buckets += 1;
                break;
            }
            untrackable <<= 1;
            buckets += 1;
        }
        (buckets + 1) * (sub_buckets / 2)
    }

    /// The bytes a [`WindowedHistogram`] of this configuration takes: `sub_windows + 1` HDR
    /// histograms (the sub-windows and their running total), each a header and 4 bytes per
    /// [bucket](Self::buckets). Validation refuses more than [`MAX_HISTOGRAM_BYTES`].
    ///
    /// ```
    /// use accrual::HistogramConfig;
    ///
    /// // The default: 7 histograms of 3,456 buckets.
    /// let bytes = HistogramConfig::default().heap_bytes();
    /// assert!((97_000..98_000).contains(&bytes), "{bytes}");
    /// ```
    pub fn heap_bytes(&self) -> u64 {
        // A vector of counters grown from empty holds at least four.
        let one = HDR_HEADER_BYTES + 4 * self.buckets().max(4);
        one.saturating_mul(self.sub_windows as u64 + 1)
    }

    /// Checks every rule, naming fields `histogram.*`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_as(HistogramFields::HISTOGRAM)
    }

    /// The span of the whole window.
    pub fn span(&self) -> Nanos {
        self.sub_window.saturating_mul(self.sub_windows as u64)
    }
}

/// The field names a [`HistogramConfig`] reports errors under, so that a histogram nested in
/// another configuration names its full path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HistogramFields {
    pub(crate) whole: &'static str,
    pub(crate) sub_windows: &'static str,
    pub(crate) sub_window: &'static str,
    pub(crate) lowest: &'static str,
    pub(crate) highest: &'static str,
    pub(crate) significant_digits: &'static str,
}

macro_rules! histogram_fields {
    ($prefix:literal) => {
        HistogramFields {
            whole: $prefix,
            sub_windows: concat!($prefix, ".sub_windows"),
            sub_window: concat!($prefix, ".sub_window"),
            lowest: concat!($prefix, ".lowest"),
            highest: concat!($prefix, ".highest"),
            significant_digits: concat!($prefix, ".significant_digits"),
        }
    };
}

impl HistogramFields {
    pub(crate) const HISTOGRAM: HistogramFields = histogram_fields!("histogram");
    pub(crate) const TIMEOUT: HistogramFields = histogram_fields!("timeout.histogram");
    pub(crate) const EMPIRICAL: HistogramFields = histogram_fields!("empirical.histogram");
}

/// A histogram of nanosecond values over a sliding time window.
///
/// The window is [`HistogramConfig::sub_windows`] sub-windows of
/// [`HistogramConfig::sub_window`] each, aligned to multiples of the sub-window on the time
/// line. Every method takes `now` and first retires the sub-windows that have ended, so the
/// answers always cover the live window: the current sub-window and the ones before it. A
/// running total of the live sub-windows is kept, so queries read one histogram.
///
/// * Recording is O(1) and never allocates: all storage is allocated when the histogram is
///   built. Retiring a sub-window costs O(buckets), once per sub-window.
/// * Values above [`HistogramConfig::highest`] are recorded as `highest` and counted
///   ([`saturated`](Self::saturated)); nothing is an error and nothing panics.
/// * A `now` earlier than one already seen (a clock that went backwards) does not rotate
///   anything: the value goes into the current sub-window.
/// * A gap longer than the whole window empties it.
///
/// Quantiles are those of HDR histograms: the `q`-quantile is the smallest recorded value
/// whose rank reaches `⌈q·n⌉`, rounded up to the top of its bucket, so it is within
/// `10^−significant_digits` relative of the exact answer (and within `lowest` for values
/// below it).
///
/// # Memory
///
/// `sub_windows + 1` histograms of 32-bit counters, about 96 bytes of header each plus 4 bytes
/// per bucket. Measured heap bytes (by a counting allocator in `tests/histogram.rs`, which
/// fails if this table goes stale):
///
/// | `lowest` | `highest` | digits | buckets | bytes per histogram | whole, 6 sub-windows |
/// |---|---|---|---|---|---|
/// | `1us` | `3600s` | 2 (default) | 3,456 | 13,824 | 97,344 |
/// | `1us` | `3600s` | 1 | 480 | 1,920 | 14,016 |
/// | `1us` | `60s` | 3 | 18,432 | 73,728 | 516,672 |
/// | `1ms` | `3600s` | 1 | 320 | 1,280 | 9,536 |
///
/// ```
/// use accrual::histogram::WindowedHistogram;
/// use accrual::{HistogramConfig, Nanos};
///
/// let mut h = WindowedHistogram::new(HistogramConfig::default()).unwrap();
/// for ms in 1..=100 {
///     h.record(Nanos::from_millis(ms), Nanos::from_secs(1));
/// }
/// let p99 = h.quantile(0.99, Nanos::from_secs(2));
/// assert!((p99.as_secs_f64() - 0.099).abs() < 0.001);
/// // A minute later every sub-window has ended.
/// assert_eq!(h.count(Nanos::from_secs(62)), 0);
/// ```
#[derive(Debug, Clone)]
pub struct WindowedHistogram {
    config: HistogramConfig,
    pub(crate) subs: Box<[Histogram<u32>]>,
    total: Histogram<u32>,
    /// Index in `subs` of the current sub-window.
    pub(crate) current: usize,
    /// The sub-window number (`now / sub_window`) of the current sub-window.
    pub(crate) epoch: u64,
    pub(crate) saturated: u64,
}

impl WindowedHistogram {
    /// An empty histogram.
    pub fn new(config: HistogramConfig) -> Result<Self, ConfigError> {
        Self::with_fields(config, HistogramFields::HISTOGRAM)
    }

    pub(crate) fn with_fields(
        config: HistogramConfig,
        fields: HistogramFields,
    ) -> Result<Self, ConfigError> {
        config.validate_as(fields)?;
        let make = || {
            Histogram::<u32>::new_with_bounds(
                config.lowest.as_nanos(),
                config.highest.as_nanos(),
                config.significant_digits,
            )
            // Validation rules out every creation error; report one as a range error anyway.
            .map_err(|_| ConfigError::OutOfRange {
                field: fields.lowest,
                value: config.lowest.as_nanos() as f64,
                min: 1.0,
                max: config.highest.as_nanos() as f64 / 2.0,
            })
        };
        let total = make()?;
        let subs = (0..config.sub_windows)
            .map(|_| make())
            .collect::<Result<Vec<_>, _>>()?
            .into_boxed_slice();
        Ok(WindowedHistogram {
            config,
            subs,
            total,
            current: 0,
            epoch: 0,
            saturated: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HistogramConfig {
        &self.config
    }

    /// Retires the sub-windows that ended before `now`.
    pub fn advance(&mut self, now: Nanos) {
        let epoch = now.as_nanos() / self.config.sub_window.as_nanos();
        if epoch <= self.epoch {
            return;
        }
        let steps = epoch - self.epoch;
        self.epoch = epoch;
        let n = self.subs.len();
        if steps >= n as u64 {
            for sub in self.subs.iter_mut() {
                sub.reset();
            }
            self.total.reset();
            return;
        }
        for _ in 0..steps {
            self.current = (self.current + 1) % n;
            let current = self.current;
            if self.subs[current].is_empty() {
                continue;
            }
            let failed = self.total.subtract(&self.subs[current]).is_err();
            self.subs[current].reset();
            if failed {
                // Only possible if a 32-bit count saturated: rebuild from the live parts.
                self.rebuild_total();
            }
        }
    }

    /// Rebuilds the running total from the sub-windows.
    pub(crate) fn rebuild_total(&mut self) {
        self.total.reset();
        for sub in self.subs.iter() {
            // Same bounds, so adding cannot fail; a failure would only lose counts already
            // saturated.
            let _ = self.total.add(sub);
        }
    }

    /// Records `value` at `now`.
    pub fn record(&mut self, value: Nanos, now: Nanos) {
        self.record_n(value, 1, now);
    }

    /// Records `count` occurrences of `value` at `now`.
    pub fn record_n(&mut self, value: Nanos, count: u32, now: Nanos) {
        self.advance(now);
        let mut v = value.as_nanos();
        if v > self.config.highest.as_nanos() {
            v = self.config.highest.as_nanos();
            self.saturated = self.saturated.saturating_add(u64::from(count));
        }
        self.subs[self.current].saturating_record_n(v, count);
        self.total.saturating_record_n(v, count);
    }

    /// The number of values recorded above [`HistogramConfig::highest`] since creation.
    pub fn saturated(&self) -> u64 {
        self.saturated
    }

    /// The number of values in the live window.
    pub fn count(&mut self, now: Nanos) -> u64 {
        self.advance(now);
        self.total.len()
    }

    /// The `q`-quantile of the live window (`q` clamped to `[0, 1]`; NaN reads as 0), or zero
    /// when it is empty: the top of the bucket holding the sample of rank `max(⌈q·n⌉, 1)`, for
    /// every `q` including 0 (where `hdrhistogram` alone reports the bucket's bottom).
    pub fn quantile(&mut self, q: f64, now: Nanos) -> Nanos {
        self.advance(now);
        if self.total.is_empty() {
            return Nanos::ZERO;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let v = self.total.value_at_quantile(q);
        Nanos(if q == 0.0 {
            self.total.highest_equivalent(v)
        } else {
            v
        })
    }

    /// The mean of the live window (0 when empty), in ns.
    pub fn mean(&mut self, now: Nanos) -> f64 {
        self.advance(now);
        if self.total.is_empty() {
            return 0.0;
        }
        self.total.mean()
    }

    /// The largest value in the live window (top of its bucket), or zero when empty. A window
    /// of zeros reports the top of zero's bucket too (`hdrhistogram` alone reports 0 there).
    pub fn max(&mut self, now: Nanos) -> Nanos {
        self.advance(now);
        if self.total.is_empty() {
            return Nanos::ZERO;
        }
        // `highest_equivalent` is idempotent, so only a maximum of 0 changes.
        Nanos(self.total.highest_equivalent(self.total.max()))
    }

    /// The live window as one HDR histogram, for queries this type does not offer. Call
    /// [`advance`](Self::advance) first.
    pub fn live(&self) -> &Histogram<u32> {
        &self.total
    }

    /// Empties every sub-window (the saturation count is kept).
    pub fn clear(&mut self) {
        for sub in self.subs.iter_mut() {
            sub.reset();
        }
        self.total.reset();
    }
}

/// The empirical survival model shared by [`Empirical`](crate::Empirical) and
/// [`TimeoutEstimator::phi_no_reply`](crate::timeout::TimeoutEstimator::phi_no_reply): the
/// probability that a duration exceeds `t`, read from a histogram of `n` past durations.
///
/// * Up to the largest value seen, `S(t) = (a(t) + 1) / (n + 1)`, with `a(t)` the samples
///   above `t` (at bucket resolution). The `+ 1` keeps `S` above zero: a silence as long as
///   the longest ever seen is rare (`1/(n + 1)`), not impossible.
/// * Beyond it, an exponential tail: `S(t) = e^(−(t − top)/θ) / (n + 1)`, with `θ` the mean
///   excess of the `tail_samples` largest values over the smallest of them, at least
///   `min_tail`. φ then rises linearly with `t`, never saturating and never infinite.
///
/// `φ(t) = −log10 S(t)` is non-decreasing in `t`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Survival {
    n: f64,
    /// The top of the largest value's bucket.
    top: f64,
    /// The tail's scale θ, in ns (> 0).
    theta: f64,
}

impl Survival {
    /// The model of `live`'s values, or `None` if it is empty.
    pub(crate) fn fit(live: &Histogram<u32>, tail_samples: u64, min_tail: f64) -> Option<Self> {
        let n = live.len();
        if n == 0 {
            return None;
        }
        let top = live.highest_equivalent(live.max()) as f64;
        let m = tail_samples.clamp(1, n);
        // The m-th largest value, and the mean excess of the values above it.
        let u = value_at_rank(live, n - m + 1) as f64;
        let (mut excess, mut above) = (0.0, 0.0);
        for v in live.iter_recorded() {
            let value = v.value_iterated_to() as f64;
            if value > u {
                let c = v.count_at_value() as f64;
                excess += (value - u) * c;
                above += c;
            }
        }
        // Mean excess of the m largest over the m-th largest: ties at u count, with zero excess.
        let theta = excess / above.max(m as f64);
        Some(Survival {
            n: n as f64,
            top,
            theta: theta.max(min_tail).max(1.0),
        })
    }

    /// φ of a duration `t` (ns).
    pub(crate) fn phi(&self, live: &Histogram<u32>, t: u64) -> f64 {
        let tf = t as f64;
        let ln_s = if tf < self.top {
            let at_or_below = live.count_between(0, t) as f64;
            let above = (self.n - at_or_below).max(0.0);
            ((above + 1.0) / (self.n + 1.0)).ln()
        } else {
            -(tf - self.top) / self.theta - (self.n + 1.0).ln()
        };
        (-ln_s / std::f64::consts::LN_10).clamp(0.0, crate::math::PHI_MAX)
    }

    /// The last duration (ns) at which φ is still at most `threshold` (> 0, finite): the spec's
    /// rounded-down deadline offset.
    pub(crate) fn last_below(&self, live: &Histogram<u32>, threshold: f64) -> f64 {
        let ln_p = -threshold * std::f64::consts::LN_10;
        let ln_floor = -(self.n + 1.0).ln();
        if ln_p >= ln_floor {
            // Inside the observed range: the first bucket whose survival is ≤ p. φ is
            // constant within a bucket, so the deadline is the end of the bucket before it.
            let p = ln_p.exp();
            let allowed_above = (p * (self.n + 1.0) - 1.0).floor().max(0.0);
            let rank = (self.n - allowed_above).max(1.0) as u64;
            // φ first reaches the threshold at the lowest value of the bucket where the count
            // at or below reaches `rank`.
            let first = live.lowest_equivalent(value_at_rank(live, rank));
            return (first as f64 - 1.0).max(0.0);
        }
        // In the tail: e^(−(t − top)/θ)/(n + 1) = p.
        (self.top + self.theta * (ln_floor - ln_p)).floor()
    }
}

/// The top of the bucket holding the `rank`-th smallest value (from 1; clamped to the count),
/// found by counting, so no floating-point quantile can land one bucket off.
pub(crate) fn value_at_rank(live: &Histogram<u32>, rank: u64) -> u64 {
    let mut seen = 0u64;
    let mut last = 0;
    for v in live.iter_recorded() {
        seen += v.count_at_value() as u64;
        last = v.value_iterated_to();
        if seen >= rank {
            break;
        }
    }
    last
}
