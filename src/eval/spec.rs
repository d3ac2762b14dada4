//! Detector specs (`qos-spec.md` §4): `family:key=value,...`, their parsing, their expansion
//! and the built-in grids that `accrual eval` sweeps.

use std::fmt;
use std::str::FromStr;

use crate::detector::{Adaptive, Chen, Detector, Fixed, PhiExponential, PhiNormal};
use crate::time::{Nanos, ParseNanosError};
use crate::{
    AdaptiveConfig, ChenConfig, ConfigError, FixedConfig, PhiExponentialConfig, PhiNormalConfig,
    Tail,
};

/// A detector family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Family {
    /// `fixed:timeout=T`.
    Fixed,
    /// `chen:window=n,alpha=α,interval=η`.
    Chen,
    /// `phi-normal:threshold=Φ,window=n,min-std=σ₀,pause=P,first=F`.
    PhiNormal,
    /// `phi-akka:...`, the same keys with Akka's logistic tail.
    PhiAkka,
    /// `phi-exp:threshold=Φ,window=n,first=F`.
    PhiExp,
    /// `default:threshold=Φ`, the crate's recommended detector.
    Default,
}

impl Family {
    /// Every family, in the order reports list them.
    pub const ALL: [Family; 6] = [
        Family::Fixed,
        Family::Chen,
        Family::PhiNormal,
        Family::PhiAkka,
        Family::PhiExp,
        Family::Default,
    ];

    /// The family's name in specs.
    pub fn name(self) -> &'static str {
        match self {
            Family::Fixed => "fixed",
            Family::Chen => "chen",
            Family::PhiNormal => "phi-normal",
            Family::PhiAkka => "phi-akka",
            Family::PhiExp => "phi-exp",
            Family::Default => "default",
        }
    }

    /// The key a sweep varies.
    pub fn knob(self) -> &'static str {
        match self {
            Family::Fixed => "timeout",
            Family::Chen => "alpha",
            _ => "threshold",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Family::Fixed => &["timeout"],
            Family::Chen => &["window", "alpha", "interval"],
            Family::PhiNormal | Family::PhiAkka => {
                &["threshold", "window", "min-std", "pause", "first"]
            }
            Family::PhiExp => &["threshold", "window", "first"],
            Family::Default => &["threshold", "memory", "first", "regime", "regime-window"],
        }
    }

    /// The built-in sweep of the family's knob, on a geometric grid: timeouts from 50 ms to
    /// 30 s and Chen margins from 1 ms to 20 s (40 values each), φ thresholds from 0.3 to
    /// 100,000 (60 values: a normal tail fitted to sub-millisecond jitter needs very large φ to
    /// wait out a pause).
    pub fn grid(self) -> Vec<DetectorSpec> {
        let geometric = |lo: f64, hi: f64, n: usize| -> Vec<f64> {
            (0..n)
                .map(|i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
                .collect()
        };
        let base = DetectorSpec::new(self);
        match self {
            Family::Fixed => geometric(0.05, 30.0, 40)
                .into_iter()
                .map(|s| base.clone().with_duration(Nanos((s * 1e9) as u64)))
                .collect(),
            Family::Chen => geometric(0.001, 20.0, 40)
                .into_iter()
                .map(|s| base.clone().with_duration(Nanos((s * 1e9) as u64)))
                .collect(),
            Family::Default => (1..=36)
                .map(|i| DetectorSpec {
                    threshold: 0.25 * f64::from(i),
                    ..base.clone()
                })
                .collect(),
            _ => geometric(0.3, 1e5, 60)
                .into_iter()
                .map(|t| DetectorSpec {
                    threshold: t,
                    ..base.clone()
                })
                .collect(),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Family {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| SpecError::UnknownFamily(s.to_owned()))
    }
}

/// Why a spec did not parse.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SpecError {
    /// The family is not one of `fixed`, `chen`, `phi-normal`, `phi-akka`, `phi-exp`, `default`.
    UnknownFamily(String),
    /// The timeout policy is not one of `fixed`, `rfc6298`, `quantile`, `default`.
    UnknownPolicy(String),
    /// The family has no such key.
    UnknownKey {
        /// The family.
        family: &'static str,
        /// The key given.
        key: String,
        /// The family's keys.
        keys: &'static [&'static str],
    },
    /// A `key=value` pair has no `=`.
    MissingValue(String),
    /// A key is given twice.
    DuplicateKey(String),
    /// A duration does not parse.
    BadDuration {
        /// The key.
        key: String,
        /// Why.
        error: ParseNanosError,
    },
    /// A number does not parse.
    BadNumber {
        /// The key.
        key: String,
        /// The text given.
        value: String,
    },
    /// The values parse but break a configuration rule.
    Config(ConfigError),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::UnknownFamily(s) => write!(
                f,
                "unknown detector family `{s}` (one of fixed, chen, phi-normal, phi-akka, phi-exp, default)"
            ),
            SpecError::UnknownPolicy(s) => write!(
                f,
                "unknown timeout policy `{s}` (one of fixed, rfc6298, quantile, default)"
            ),
            SpecError::UnknownKey { family, key, keys } => write!(
                f,
                "unknown key `{key}` for {family} (keys: {})",
                keys.join(", ")
            ),
            SpecError::MissingValue(s) => write!(f, "`{s}` is not of the form key=value"),
            SpecError::DuplicateKey(k) => write!(f, "key `{k}` given twice"),
            SpecError::BadDuration { key, error } => write!(f, "{key}: {error}"),
            SpecError::BadNumber { key, value } => write!(f, "{key}: `{value}` is not a number"),
            SpecError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SpecError {}

/// A detector named by a spec: its family, the configuration the keys set, and the threshold
/// its deadlines are asked at.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorSpec {
    /// The family.
    pub family: Family,
    /// `fixed` only: the timeout.
    pub timeout: Nanos,
    /// `chen` only.
    pub chen: ChenConfig,
    /// The φ families: the window, floors, pause and prior.
    pub phi: PhiNormalConfig,
    /// `default` only: the detector's configuration.
    pub adaptive: AdaptiveConfig,
    /// The φ families and `default`: the threshold Φ.
    pub threshold: f64,
}

impl DetectorSpec {
    /// The family with the spec's defaults: `window=1000`, `min-std=0ns`, `pause=0ns`,
    /// `first=1s`, `threshold=8`, `timeout=1s`, `alpha=500ms`, `interval=100ms`. The `default`
    /// family is [`Adaptive`] with [`AdaptiveConfig::default`] and `threshold=5`.
    pub fn new(family: Family) -> Self {
        let mut phi = PhiNormalConfig::default();
        if family == Family::PhiAkka {
            phi.tail = Tail::Logistic;
        }
        DetectorSpec {
            family,
            timeout: Nanos::from_secs(1),
            chen: ChenConfig {
                window: 1000,
                interval: Nanos::from_millis(100),
                alpha: Nanos::from_millis(500),
            },
            phi,
            adaptive: AdaptiveConfig::default(),
            threshold: if family == Family::Default { 5.0 } else { 8.0 },
        }
    }

    fn with_duration(mut self, d: Nanos) -> Self {
        match self.family {
            Family::Fixed => self.timeout = d,
            Family::Chen => self.chen.alpha = d,
            _ => {}
        }
        self
    }

    /// The value of the family's knob (seconds for `fixed` and `chen`, Φ otherwise).
    pub fn knob(&self) -> f64 {
        match self.family {
            Family::Fixed => self.timeout.as_secs_f64(),
            Family::Chen => self.chen.alpha.as_secs_f64(),
            _ => self.threshold,
        }
    }

    /// Builds the detector and checks its configuration.
    pub fn build(&self) -> Result<Box<dyn Detector>, ConfigError> {
        Ok(match self.family {
            Family::Fixed => Box::new(Fixed::new(FixedConfig {
                timeout: self.timeout,
            })?),
            Family::Chen => Box::new(Chen::new(self.chen.clone())?),
            Family::PhiNormal | Family::PhiAkka => Box::new(PhiNormal::new(self.phi.clone())?),
            Family::Default => Box::new(Adaptive::new(self.adaptive)?),
            Family::PhiExp => Box::new(PhiExponential::new(PhiExponentialConfig {
                window: self.phi.window,
                first_interval: self.phi.first_interval,
            })?),
        })
    }
}

impl FromStr for DetectorSpec {
    type Err = SpecError;

    /// Parses `family` or `family:key=value,...`; unset keys keep [`DetectorSpec::new`]'s
    /// defaults, and the result is checked by building it.
    fn from_str(text: &str) -> Result<Self, SpecError> {
        let (family, rest) = match text.split_once(':') {
            Some((f, r)) => (f.trim(), Some(r)),
            None => (text.trim(), None),
        };
        let family: Family = family.parse()?;
        let mut spec = DetectorSpec::new(family);
        for (key, value) in pairs(rest.unwrap_or(""), family.name(), family.keys())? {
            let count = || {
                value.parse::<usize>().map_err(|_| SpecError::BadNumber {
                    key: key.to_owned(),
                    value: value.to_owned(),
                })
            };
            match key {
                "timeout" => spec.timeout = duration(key, value)?,
                "alpha" => spec.chen.alpha = duration(key, value)?,
                "interval" => spec.chen.interval = duration(key, value)?,
                "window" => {
                    let n = count()?;
                    spec.chen.window = n;
                    spec.phi.window = n;
                }
                "min-std" => spec.phi.min_std = duration(key, value)?,
                "pause" => spec.phi.acceptable_pause = duration(key, value)?,
                "first" => {
                    let first = duration(key, value)?;
                    spec.phi.first_interval = first;
                    spec.adaptive.first_interval = first;
                }
                "memory" => spec.adaptive.memory = duration(key, value)?,
                "regime" => spec.adaptive.regime_factor = number(key, value)?,
                "regime-window" => spec.adaptive.regime_window = duration(key, value)?,
                _ => {
                    // "threshold", the only other key any family has.
                    let t = number(key, value)?;
                    if !t.is_finite() || t <= 0.0 {
                        return Err(SpecError::Config(ConfigError::NotPositive {
                            field: "threshold",
                            value: t,
                        }));
                    }
                    spec.threshold = t;
                }
            }
        }
        spec.build().map_err(SpecError::Config)?;
        Ok(spec)
    }
}

/// Splits `key=value,...` (empty items ignored), checking every key against `keys` and
/// rejecting duplicates.
pub(crate) fn pairs<'a>(
    rest: &'a str,
    family: &'static str,
    keys: &'static [&'static str],
) -> Result<Vec<(&'a str, &'a str)>, SpecError> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for item in rest.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, value) = item
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| SpecError::MissingValue(item.to_owned()))?;
        if !keys.contains(&key) {
            return Err(SpecError::UnknownKey {
                family,
                key: key.to_owned(),
                keys,
            });
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(SpecError::DuplicateKey(key.to_owned()));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// A spec value that must be a duration.
pub(crate) fn duration(key: &str, value: &str) -> Result<Nanos, SpecError> {
    value.parse().map_err(|error| SpecError::BadDuration {
        key: key.to_owned(),
        error,
    })
}

/// A spec value that must be a number.
pub(crate) fn number(key: &str, value: &str) -> Result<f64, SpecError> {
    value.parse().map_err(|_| SpecError::BadNumber {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}

impl fmt::Display for DetectorSpec {
    /// The expanded spec: every key of the family, with its value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.phi;
        match self.family {
            Family::Fixed => write!(f, "fixed:timeout={}", self.timeout),
            Family::Chen => write!(
                f,
                "chen:window={},alpha={},interval={}",
                self.chen.window, self.chen.alpha, self.chen.interval
            ),
            Family::PhiNormal | Family::PhiAkka => write!(
                f,
                "{}:threshold={},window={},min-std={},pause={},first={}",
                self.family,
                self.threshold,
                p.window,
                p.min_std,
                p.acceptable_pause,
                p.first_interval
            ),
            Family::PhiExp => write!(
                f,
                "phi-exp:threshold={},window={},first={}",
                self.threshold, p.window, p.first_interval
            ),
            Family::Default => write!(
                f,
                "default:threshold={},memory={},first={},regime={},regime-window={}",
                self.threshold,
                self.adaptive.memory,
                self.adaptive.first_interval,
                self.adaptive.regime_factor,
                self.adaptive.regime_window
            ),
        }
    }
}

/// A `default` detector configuration as `accrual tune` prints it (TOML or JSON), and as the
/// library reads it back: the threshold and the [`Adaptive`] configuration behind it.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use accrual::eval::spec::DefaultDetector;
///
/// let text = "threshold = 4.5\n[detector]\nmemory = \"3600s\"\nfirst_interval = \"100ms\"\n";
/// let tuned: DefaultDetector = toml::from_str(text).unwrap();
/// assert_eq!(tuned.threshold, 4.5);
/// let spec = tuned.spec().unwrap();
/// assert_eq!(
///     spec.to_string(),
///     "default:threshold=4.5,memory=3600s,first=100ms,regime=3,regime-window=10s"
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct DefaultDetector {
    /// The threshold Φ.
    pub threshold: f64,
    /// The detector's configuration.
    pub detector: AdaptiveConfig,
}

impl DefaultDetector {
    /// The `default` family's configuration at `threshold`.
    pub fn at(threshold: f64) -> Self {
        DefaultDetector {
            threshold,
            detector: AdaptiveConfig::default(),
        }
    }

    /// The spec it stands for, checked.
    pub fn spec(&self) -> Result<DetectorSpec, SpecError> {
        if !self.threshold.is_finite() || self.threshold <= 0.0 {
            return Err(SpecError::Config(ConfigError::NotPositive {
                field: "threshold",
                value: self.threshold,
            }));
        }
        let spec = DetectorSpec {
            adaptive: self.detector,
            threshold: self.threshold,
            ..DetectorSpec::new(Family::Default)
        };
        spec.build().map_err(SpecError::Config)?;
        Ok(spec)
    }
}
