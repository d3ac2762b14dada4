//! Detector specs (`qos-spec.md` §4): `family:key=value,...`, their parsing, their expansion
//! and the built-in grids that `accrual eval` sweeps.

use std::fmt;
use std::str::FromStr;

use accrual::detector::{AnyDetector, DetectorConfig};
use accrual::time::{Nanos, ParseNanosError};
use accrual::{
    AdaptiveConfig, ChenConfig, ConfigError, FixedConfig, PhiExponentialConfig, PhiNormalConfig,
    Tail,
};

/// A detector family.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
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
    /// `adaptive:threshold=Φ`, the crate's recommended detector ([`Adaptive`](accrual::Adaptive)); `default` is
    /// accepted as an alias.
    Adaptive,
}

impl Family {
    /// Every family, in the order reports list them.
    pub const ALL: [Family; 6] = [
        Family::Fixed,
        Family::Chen,
        Family::PhiNormal,
        Family::PhiAkka,
        Family::PhiExp,
        Family::Adaptive,
    ];

    /// The family's name in specs.
    pub fn name(self) -> &'static str {
        match self {
            Family::Fixed => "fixed",
            Family::Chen => "chen",
            Family::PhiNormal => "phi-normal",
            Family::PhiAkka => "phi-akka",
            Family::PhiExp => "phi-exp",
            Family::Adaptive => "adaptive",
        }
    }

    /// The key a sweep varies.
    pub fn knob(self) -> &'static str {
        match self {
            Family::Fixed => "timeout",
            Family::Chen => "alpha",
            Family::Adaptive => "rate",
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
            Family::Adaptive => &[
                "rate",
                "threshold",
                "memory",
                "first",
                "regime",
                "regime-window",
            ],
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
            Family::Adaptive => geometric(10.0, 1e-5, 31)
                .into_iter()
                .map(|r| DetectorSpec {
                    rate: Some(r),
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
        if s == "default" {
            return Ok(Family::Adaptive);
        }
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
    /// The family is not one of `fixed`, `chen`, `phi-normal`, `phi-akka`, `phi-exp`, `adaptive`
    /// (alias `default`).
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
    /// Two keys set the same thing in different units (`rate` and `threshold`): give one.
    ConflictingKeys {
        /// The key given first.
        first: &'static str,
        /// The key given after it.
        second: &'static str,
    },
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
            SpecError::ConflictingKeys { first, second } => write!(
                f,
                "`{first}` and `{second}` both set the trade-off (a rate per hour, or a threshold): give one"
            ),
            SpecError::BadDuration { key, error } => write!(f, "{key}: {error}"),
            SpecError::BadNumber { key, value } => write!(f, "{key}: `{value}` is not a number"),
            SpecError::Config(e) => config_error(e, f),
        }
    }
}

/// A number in a short form that parses back to the same `f64`: as written in decimal when
/// that is short (`8`, `0.25`, `1000`), in scientific notation otherwise (`1e308`, `1.5e-7`).
/// Both forms are Rust's shortest round-trip digits.
///
/// ```
/// use accrual_eval::spec::short;
///
/// assert_eq!(short(8.0), "8");
/// assert_eq!(short(0.001), "0.001");
/// assert_eq!(short(1e308), "1e308");
/// assert_eq!(short(-2.5e-9), "-2.5e-9");
/// assert_eq!(short(0.1 + 0.2).parse::<f64>().unwrap(), 0.1 + 0.2);
/// ```
pub fn short(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !a.is_finite() || (1e-4..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A configuration error as the library words it, its numbers in the [`short`] form.
fn config_error(e: &ConfigError, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match e {
        ConfigError::NotFinite { field, value } => {
            write!(f, "{field}: must be a finite number, not {}", short(*value))
        }
        ConfigError::NotPositive { field, value } => {
            write!(f, "{field}: must be greater than 0, not {}", short(*value))
        }
        ConfigError::Negative { field, value } => {
            write!(f, "{field}: must not be negative, not {}", short(*value))
        }
        ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        } => write!(
            f,
            "{field}: {} is outside {} ..= {}",
            short(*value),
            short(*min),
            short(*max)
        ),
        ConfigError::InvertedThresholds {
            lower,
            lower_value,
            upper,
            upper_value,
        } => write!(
            f,
            "{lower} ({}) must not exceed {upper} ({})",
            short(*lower_value),
            short(*upper_value)
        ),
        other => write!(f, "{other}"),
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
    /// The φ families, and `adaptive` when no rate is set: the threshold Φ.
    pub threshold: f64,
    /// `adaptive` only: false suspicions per peer-hour, turned into each peer's threshold as
    /// its interval stands ([`Detector::threshold_for_rate`](accrual::Detector::threshold_for_rate));
    /// `None` asks every deadline at [`threshold`](Self::threshold).
    pub rate: Option<f64>,
}

impl DetectorSpec {
    /// The family with the spec's defaults: `window=1000`, `min-std=0ns`, `pause=0ns`,
    /// `first=1s`, `threshold=8`, `timeout=1s`, `alpha=500ms`, `interval=100ms`. The `adaptive`
    /// family is [`Adaptive`](accrual::Adaptive) with [`AdaptiveConfig::default`] and `rate=0.1`.
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
            threshold: 8.0,
            rate: (family == Family::Adaptive).then_some(0.1),
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

    /// The value of the family's knob (seconds for `fixed` and `chen`, the rate per hour for
    /// `adaptive` when set, Φ otherwise).
    pub fn knob(&self) -> f64 {
        match self.family {
            Family::Fixed => self.timeout.as_secs_f64(),
            Family::Chen => self.chen.alpha.as_secs_f64(),
            _ => self.rate.unwrap_or(self.threshold),
        }
    }

    /// The detector configuration the spec stands for, one of the library's kinds.
    pub fn config(&self) -> DetectorConfig {
        match self.family {
            Family::Fixed => DetectorConfig::Fixed(FixedConfig {
                timeout: self.timeout,
            }),
            Family::Chen => DetectorConfig::Chen(self.chen.clone()),
            Family::PhiNormal | Family::PhiAkka => DetectorConfig::PhiNormal(self.phi.clone()),
            Family::Adaptive => DetectorConfig::Adaptive(self.adaptive),
            Family::PhiExp => DetectorConfig::PhiExponential(PhiExponentialConfig {
                window: self.phi.window,
                first_interval: self.phi.first_interval,
            }),
        }
    }

    /// Builds the detector and checks its configuration.
    pub fn build(&self) -> Result<AnyDetector, ConfigError> {
        AnyDetector::new(&self.config())
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
        // The first of `rate` and `threshold` given, to refuse the other.
        let mut trade: Option<&'static str> = None;
        let mut set_trade = |key: &'static str| match trade {
            Some(first) if first != key => Err(SpecError::ConflictingKeys { first, second: key }),
            _ => {
                trade = Some(key);
                Ok(())
            }
        };
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
                "rate" => {
                    let r = number(key, value)?;
                    if !r.is_finite() || r <= 0.0 {
                        return Err(SpecError::Config(ConfigError::NotPositive {
                            field: "rate",
                            value: r,
                        }));
                    }
                    set_trade("rate")?;
                    spec.rate = Some(r);
                }
                _ => {
                    // "threshold", the only other key any family has.
                    let t = number(key, value)?;
                    if !t.is_finite() || t <= 0.0 {
                        return Err(SpecError::Config(ConfigError::NotPositive {
                            field: "threshold",
                            value: t,
                        }));
                    }
                    set_trade("threshold")?;
                    spec.threshold = t;
                    spec.rate = None;
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
    /// The expanded spec: every key of the family, with its value, numbers in the [`short`]
    /// form. It parses back to the same spec.
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
                short(self.threshold),
                p.window,
                p.min_std,
                p.acceptable_pause,
                p.first_interval
            ),
            Family::PhiExp => write!(
                f,
                "phi-exp:threshold={},window={},first={}",
                short(self.threshold),
                p.window,
                p.first_interval
            ),
            Family::Adaptive => write!(
                f,
                "adaptive:{},memory={},first={},regime={},regime-window={}",
                match self.rate {
                    Some(r) => format!("rate={}", short(r)),
                    None => format!("threshold={}", short(self.threshold)),
                },
                self.adaptive.memory,
                self.adaptive.first_interval,
                short(self.adaptive.regime_factor),
                self.adaptive.regime_window
            ),
        }
    }
}

/// A tuned [`Adaptive`](accrual::Adaptive) configuration as `accrual tune` prints it (TOML or JSON), and as the
/// library reads it back: the threshold and the [`Adaptive`](accrual::Adaptive) configuration behind it.
///
/// ```
/// use accrual_eval::spec::Tuned;
///
/// let text = "threshold = 4.5\n[detector]\nmemory = \"3600s\"\nfirst_interval = \"100ms\"\n";
/// let tuned: Tuned = toml::from_str(text).unwrap();
/// assert_eq!(tuned.threshold, 4.5);
/// let spec = tuned.spec().unwrap();
/// assert_eq!(
///     spec.to_string(),
///     "adaptive:threshold=4.5,memory=3600s,first=100ms,regime=3,regime-window=10s"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuned {
    /// The threshold Φ (used when no rate is set).
    pub threshold: f64,
    /// False suspicions per peer-hour, each peer's threshold following from its interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mistakes_per_hour: Option<f64>,
    /// The detector's configuration.
    pub detector: AdaptiveConfig,
}

impl Tuned {
    /// The `adaptive` family's configuration at `threshold`.
    pub fn at(threshold: f64) -> Self {
        Tuned {
            threshold,
            mistakes_per_hour: None,
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
        if let Some(r) = self.mistakes_per_hour
            && !(r.is_finite() && r > 0.0)
        {
            return Err(SpecError::Config(ConfigError::NotPositive {
                field: "mistakes_per_hour",
                value: r,
            }));
        }
        let spec = DetectorSpec {
            adaptive: self.detector,
            threshold: self.threshold,
            rate: self.mistakes_per_hour,
            ..DetectorSpec::new(Family::Adaptive)
        };
        spec.build().map_err(SpecError::Config)?;
        Ok(spec)
    }
}
