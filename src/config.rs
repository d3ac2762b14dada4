//! Configurations: plain structs with [`Default`], presets, validation and (with the `serde`
//! feature) human-readable serialisation.
//!
//! A configuration is checked once, when the detector or state machine is built from it
//! ([`PhiNormal::new`](crate::PhiNormal::new) and friends call `validate`); after that
//! heartbeats and queries never fail. Every rule has its own [`ConfigError`] variant, which
//! names the offending field.
//!
//! With the `serde` feature, durations are written as strings with a unit (`"250ms"`,
//! `"1.5s"`), missing fields take their defaults, and unknown fields are rejected:
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use accrual::{Nanos, PhiNormalConfig};
//!
//! let cfg: PhiNormalConfig =
//!     serde_json::from_str(r#"{ "window": 500, "min_std": "20ms" }"#).unwrap();
//! assert_eq!(cfg.window, 500);
//! assert_eq!(cfg.min_std, Nanos::from_millis(20));
//! assert!(serde_json::from_str::<PhiNormalConfig>(r#"{ "windw": 5 }"#).is_err());
//! # }
//! ```

use std::fmt;

use crate::math::{MAX_INTERVAL_NS, MAX_WINDOW};
use crate::time::Nanos;

/// Why a configuration was rejected. One variant per rule; each names the field (as
/// `config.field`, the field being the serde key).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A window must hold at least one sample.
    EmptyWindow {
        /// The offending field.
        field: &'static str,
    },
    /// A window may hold at most [`MAX_WINDOW`] samples.
    WindowTooLarge {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: usize,
        /// The largest value allowed.
        max: usize,
    },
    /// A count that must be at least one is zero.
    ZeroCount {
        /// The offending field.
        field: &'static str,
    },
    /// A duration that must be positive is zero.
    ZeroDuration {
        /// The offending field.
        field: &'static str,
    },
    /// A duration exceeds the longest interval the detectors can hold exactly
    /// ([`MAX_INTERVAL_NS`], about 104 days).
    DurationTooLarge {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: Nanos,
        /// The largest value allowed.
        max: Nanos,
    },
    /// A number is NaN or infinite.
    NotFinite {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A number that must be positive is zero or negative.
    NotPositive {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A number that must not be negative is.
    Negative {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A number lies outside the range its field allows.
    OutOfRange {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The smallest value allowed.
        min: f64,
        /// The largest value allowed.
        max: f64,
    },
    /// Two durations are in the wrong order: `lower` must be at most `upper` (or, for a
    /// histogram's range, at most half of it).
    InvertedDurations {
        /// The field that must be the smaller.
        lower: &'static str,
        /// Its value.
        lower_value: Nanos,
        /// The field that must be the larger.
        upper: &'static str,
        /// Its value.
        upper_value: Nanos,
    },
    /// Two thresholds are in the wrong order: `lower` must not exceed `upper`.
    InvertedThresholds {
        /// The field that must be the smaller.
        lower: &'static str,
        /// Its value.
        lower_value: f64,
        /// The field that must be the larger.
        upper: &'static str,
        /// Its value.
        upper_value: f64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::EmptyWindow { field } => {
                write!(f, "{field}: the window must hold at least one sample")
            }
            ConfigError::WindowTooLarge { field, value, max } => {
                write!(f, "{field}: window of {value} exceeds the maximum of {max}")
            }
            ConfigError::ZeroCount { field } => write!(f, "{field}: must be at least 1"),
            ConfigError::ZeroDuration { field } => write!(f, "{field}: must be longer than 0ns"),
            ConfigError::DurationTooLarge { field, value, max } => {
                write!(f, "{field}: {value} exceeds the maximum of {max}")
            }
            ConfigError::NotFinite { field, value } => {
                write!(f, "{field}: must be a finite number, not {value}")
            }
            ConfigError::NotPositive { field, value } => {
                write!(f, "{field}: must be greater than 0, not {value}")
            }
            ConfigError::Negative { field, value } => {
                write!(f, "{field}: must not be negative, not {value}")
            }
            ConfigError::OutOfRange {
                field,
                value,
                min,
                max,
            } => write!(f, "{field}: {value} is outside {min} ..= {max}"),
            ConfigError::InvertedDurations {
                lower,
                lower_value,
                upper,
                upper_value,
            } => write!(
                f,
                "{lower} ({lower_value}) is too large for {upper} ({upper_value})"
            ),
            ConfigError::InvertedThresholds {
                lower,
                lower_value,
                upper,
                upper_value,
            } => write!(
                f,
                "{lower} ({lower_value}) must not exceed {upper} ({upper_value})"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The longest duration a configuration accepts where it shapes a window (about 104 days).
pub const MAX_DURATION: Nanos = Nanos(MAX_INTERVAL_NS);

pub(crate) fn check_window(field: &'static str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::EmptyWindow { field })
    } else if value > MAX_WINDOW {
        Err(ConfigError::WindowTooLarge {
            field,
            value,
            max: MAX_WINDOW,
        })
    } else {
        Ok(())
    }
}

pub(crate) fn check_bounded(field: &'static str, value: Nanos) -> Result<(), ConfigError> {
    if value > MAX_DURATION {
        Err(ConfigError::DurationTooLarge {
            field,
            value,
            max: MAX_DURATION,
        })
    } else {
        Ok(())
    }
}

pub(crate) fn check_positive_duration(
    field: &'static str,
    value: Nanos,
) -> Result<(), ConfigError> {
    if value == Nanos::ZERO {
        return Err(ConfigError::ZeroDuration { field });
    }
    check_bounded(field, value)
}

pub(crate) fn check_finite(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ConfigError::NotFinite { field, value })
    }
}

pub(crate) fn check_positive(field: &'static str, value: f64) -> Result<(), ConfigError> {
    check_finite(field, value)?;
    if value > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::NotPositive { field, value })
    }
}

pub(crate) fn check_non_negative(field: &'static str, value: f64) -> Result<(), ConfigError> {
    check_finite(field, value)?;
    if value >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError::Negative { field, value })
    }
}

pub(crate) fn check_range(
    field: &'static str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<(), ConfigError> {
    check_finite(field, value)?;
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

/// `lower ≤ upper`, for durations.
pub(crate) fn check_duration_order(
    lower: (&'static str, Nanos),
    upper: (&'static str, Nanos),
) -> Result<(), ConfigError> {
    if lower.1 <= upper.1 {
        Ok(())
    } else {
        Err(ConfigError::InvertedDurations {
            lower: lower.0,
            lower_value: lower.1,
            upper: upper.0,
            upper_value: upper.1,
        })
    }
}

pub(crate) fn check_order(
    lower: (&'static str, f64),
    upper: (&'static str, f64),
) -> Result<(), ConfigError> {
    if lower.1 <= upper.1 {
        Ok(())
    } else {
        Err(ConfigError::InvertedThresholds {
            lower: lower.0,
            lower_value: lower.1,
            upper: upper.0,
            upper_value: upper.1,
        })
    }
}

/// Network presets, for [`PhiNormalConfig::preset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Preset {
    /// Same rack or same LAN: sub-millisecond delays, occasional scheduler spikes of a few ms.
    Lan,
    /// A busy datacenter: congestion episodes of tens of ms.
    Datacenter,
    /// Across a wide-area network: large, shifting delays and bursty loss.
    Wan,
}

/// Which tail the φ-accrual detector assumes for inter-arrival times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Tail {
    /// The exact normal tail, computed in log space (Hayashibara et al. 2004).
    #[default]
    Normal,
    /// Akka/Pekko's logistic approximation `1/(1 + e^(y·(1.5976 + 0.070566·y²)))`, for users
    /// migrating who want the same verdicts. It overstates φ in the tail (9.31 where the exact
    /// value is 8).
    Logistic,
}

/// Configuration of [`PhiNormal`](crate::PhiNormal), Hayashibara's φ-accrual detector.
///
/// φ after `t` of silence is `−log10 Q((t − μ − pause) / σ')`, where `μ` and `σ` are the mean
/// and population standard deviation of the last `window` inter-arrival intervals and
/// `σ' = max(σ, min_std, min_std_ratio·μ)`.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `window` | 1000 | intervals remembered (1 ..= 2^20) |
/// | `min_std` | `0ns` | floor on the standard deviation |
/// | `min_std_ratio` | 0.0 | floor on the standard deviation, as a fraction of the mean |
/// | `acceptable_pause` | `0ns` | silence added to the mean before φ starts to rise |
/// | `first_interval` | `1s` | prior: the window starts with the two intervals `F ∓ ⌊F/4⌋` |
/// | `tail` | `normal` | [`Tail::Normal`] (exact) or [`Tail::Logistic`] (Akka's) |
///
/// The defaults are those of the `phi-normal` family in the detection-quality spec, so that
/// `PhiNormalConfig::default()` is the canonical detector; the [presets](Self::preset) are
/// better starting points for real links. With `min_std = 0` a window of identical intervals
/// has no spread: φ then jumps from 0 to [`PHI_MAX`](crate::math::PHI_MAX) at the rounded-down
/// mean plus pause, exactly where the spec puts the deadline.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct PhiNormalConfig {
    /// How many inter-arrival intervals to remember.
    pub window: usize,
    /// Floor on the standard deviation.
    pub min_std: Nanos,
    /// Floor on the standard deviation as a fraction of the mean (0 for none).
    pub min_std_ratio: f64,
    /// Silence tolerated beyond the mean before φ starts to rise.
    pub acceptable_pause: Nanos,
    /// The prior interval before real intervals exist.
    pub first_interval: Nanos,
    /// The tail model.
    pub tail: Tail,
}

impl Default for PhiNormalConfig {
    fn default() -> Self {
        PhiNormalConfig {
            window: 1000,
            min_std: Nanos::ZERO,
            min_std_ratio: 0.0,
            acceptable_pause: Nanos::ZERO,
            first_interval: Nanos::from_secs(1),
            tail: Tail::Normal,
        }
    }
}

impl PhiNormalConfig {
    /// Whether `σ` is floored at all (`min_std` or `min_std_ratio` above 0).
    pub(crate) fn floors_std(&self) -> bool {
        self.min_std.as_nanos() > 0 || self.min_std_ratio > 0.0
    }

    /// A preset for heartbeats sent every `interval` over the given kind of network.
    ///
    /// | preset | `min_std` | `min_std_ratio` | `acceptable_pause` | why |
    /// |---|---|---|---|---|
    /// | `Lan` | 2 ms | 0.05 | 0 | LAN jitter is microseconds, but scheduler spikes of a few ms are common; an unfloored σ of 50 µs would suspect on each |
    /// | `Datacenter` | 10 ms | 0.10 | 0 | congestion episodes of tens of ms |
    /// | `Wan` | 50 ms | 0.20 | `interval` | delay shifts of tens of ms and bursty loss: one lost heartbeat is not news |
    ///
    /// All use a window of 1000 and `first_interval = interval`.
    ///
    /// ```
    /// use accrual::{Nanos, PhiNormalConfig, Preset};
    ///
    /// let cfg = PhiNormalConfig::preset(Preset::Wan, Nanos::from_secs(1));
    /// assert_eq!(cfg.acceptable_pause, Nanos::from_secs(1));
    /// assert!(cfg.validate().is_ok());
    /// ```
    pub fn preset(preset: Preset, interval: Nanos) -> Self {
        let (min_std, min_std_ratio, acceptable_pause) = match preset {
            Preset::Lan => (Nanos::from_millis(2), 0.05, Nanos::ZERO),
            Preset::Datacenter => (Nanos::from_millis(10), 0.10, Nanos::ZERO),
            Preset::Wan => (Nanos::from_millis(50), 0.20, interval),
        };
        PhiNormalConfig {
            window: 1000,
            min_std,
            min_std_ratio,
            acceptable_pause,
            first_interval: interval,
            tail: Tail::Normal,
        }
    }

    /// Checks every rule; the detector's constructor calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_window("phi_normal.window", self.window)?;
        check_bounded("phi_normal.min_std", self.min_std)?;
        check_non_negative("phi_normal.min_std_ratio", self.min_std_ratio)?;
        check_bounded("phi_normal.acceptable_pause", self.acceptable_pause)?;
        check_positive_duration("phi_normal.first_interval", self.first_interval)
    }
}

/// Configuration of [`PhiExponential`](crate::PhiExponential), Cassandra's φ:
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

/// Configuration of [`Chen`](crate::Chen), the estimator of Chen, Toueg and Aguilera (2002):
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

/// Configuration of [`Fixed`](crate::Fixed): suspect after `timeout` of silence.
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

/// Configuration of the [suspicion state machine](crate::Suspicion).
///
/// | field | default | meaning |
/// |---|---|---|
/// | `min_samples` | 1 | accepted heartbeats before the peer leaves `Unknown` |
/// | `suspect_enter` | 8.0 | φ at which an alive peer becomes `Suspect` |
/// | `suspect_leave` | 4.0 | φ below which a suspect peer is `Alive` again |
/// | `dead_enter` | 16.0 | φ at which the peer becomes `Dead` |
/// | `dead_leave` | 12.0 | φ below which a dead peer is only `Suspect` (when `revive`) |
/// | `revive` | true | whether a `Dead` peer can come back; false makes `Dead` final |
///
/// Rules: every threshold finite and positive; `suspect_leave ≤ suspect_enter ≤ dead_enter`,
/// `dead_leave ≤ dead_enter` and `suspect_leave ≤ dead_leave`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct SuspicionConfig {
    /// Accepted heartbeats needed before the peer leaves `Unknown`.
    pub min_samples: u64,
    /// φ at which an alive peer becomes suspect.
    pub suspect_enter: f64,
    /// φ below which a suspect peer is alive again.
    pub suspect_leave: f64,
    /// φ at which the peer is declared dead.
    pub dead_enter: f64,
    /// φ below which a dead peer is only suspect again.
    pub dead_leave: f64,
    /// Whether a dead peer may come back.
    pub revive: bool,
}

impl Default for SuspicionConfig {
    fn default() -> Self {
        SuspicionConfig {
            min_samples: 1,
            suspect_enter: 8.0,
            suspect_leave: 4.0,
            dead_enter: 16.0,
            dead_leave: 12.0,
            revive: true,
        }
    }
}

impl SuspicionConfig {
    /// Checks every rule; [`Suspicion::new`](crate::Suspicion::new) calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_samples == 0 {
            return Err(ConfigError::ZeroCount {
                field: "suspicion.min_samples",
            });
        }
        let se = ("suspicion.suspect_enter", self.suspect_enter);
        let sl = ("suspicion.suspect_leave", self.suspect_leave);
        let de = ("suspicion.dead_enter", self.dead_enter);
        let dl = ("suspicion.dead_leave", self.dead_leave);
        for (field, value) in [se, sl, de, dl] {
            check_positive(field, value)?;
        }
        check_order(sl, se)?;
        check_order(se, de)?;
        check_order(dl, de)?;
        check_order(sl, dl)
    }
}

/// Configuration of a [`WindowedHistogram`](crate::histogram::WindowedHistogram): its time
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
/// [`WindowedHistogram`](crate::histogram::WindowedHistogram) for measured sizes.
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
        Ok(())
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
    pub(crate) sub_windows: &'static str,
    pub(crate) sub_window: &'static str,
    pub(crate) lowest: &'static str,
    pub(crate) highest: &'static str,
    pub(crate) significant_digits: &'static str,
}

macro_rules! histogram_fields {
    ($prefix:literal) => {
        HistogramFields {
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

/// How a [`TimeoutEstimator`](crate::timeout::TimeoutEstimator) turns round-trip samples into a
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
    /// The crate's recommended policy: see [`TimeoutEstimator`](crate::timeout::TimeoutEstimator).
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

/// Configuration of a [`TimeoutEstimator`](crate::timeout::TimeoutEstimator).
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

/// Configuration of [`Empirical`](crate::Empirical), the distribution-free φ detector.
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

/// Configuration of [`Adaptive`](crate::Adaptive), the crate's recommended detector.
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
