//! What every configuration shares: the error a rejected one returns ([`ConfigError`]), the
//! longest duration one accepts ([`MAX_DURATION`]), and the checks that each configuration's
//! `validate` is built from.
//!
//! Each configuration lives beside what it configures, and is re-exported at the crate root:
//!
//! | configuration | module |
//! |---|---|
//! | [`PhiNormalConfig`](crate::PhiNormalConfig), [`Tail`](crate::Tail), [`Preset`](crate::Preset) | [`detector`](crate::detector) |
//! | [`PhiExponentialConfig`](crate::PhiExponentialConfig) | [`detector`](crate::detector) |
//! | [`ChenConfig`](crate::ChenConfig) | [`detector`](crate::detector) |
//! | [`FixedConfig`](crate::FixedConfig) | [`detector`](crate::detector) |
//! | [`EmpiricalConfig`](crate::EmpiricalConfig) | [`detector`](crate::detector) |
//! | [`AdaptiveConfig`](crate::AdaptiveConfig) | [`detector`](crate::detector) |
//! | [`SuspicionConfig`](crate::SuspicionConfig) | [`suspicion`](crate::suspicion) |
//! | [`HistogramConfig`](crate::HistogramConfig) | [`histogram`](crate::histogram) |
//! | [`TimeoutConfig`](crate::TimeoutConfig), [`TimeoutPolicy`](crate::TimeoutPolicy) | [`timeout`](crate::timeout) |
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
    /// A structure would take more memory than its bound: a histogram more than
    /// [`MAX_HISTOGRAM_BYTES`](crate::histogram::MAX_HISTOGRAM_BYTES).
    TooLarge {
        /// The offending structure (every field of it shapes its size).
        field: &'static str,
        /// The bytes it would take.
        bytes: u64,
        /// The most bytes allowed.
        max: u64,
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
            ConfigError::TooLarge { field, bytes, max } => write!(
                f,
                "{field}: would take {bytes} bytes, above the bound of {max}; use fewer \
                 sub-windows, fewer significant digits or a larger lowest value"
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
