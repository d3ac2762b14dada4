use crate::config::{ConfigError, PhiNormalConfig, Tail};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, deadline_at};
use crate::math::{IntervalWindow, PHI_MAX, phi_logistic, phi_of_z, y_of_phi_logistic, z_of_phi};
use crate::time::Nanos;

/// Hayashibara's φ-accrual failure detector with the exact normal tail.
///
/// After `t` of silence, `φ(t) = −log10 Q((t − μ − pause) / σ')`, where `Q` is the standard
/// normal survival function (computed in log space, so φ stays exact and finite far into the
/// tail), `μ` and `σ` are the mean and population standard deviation of the last `window`
/// inter-arrival intervals, and `σ' = max(σ, min_std, min_std_ratio·μ)`. A threshold Φ is
/// crossed with probability `10^−Φ` per heartbeat if intervals really are normal.
///
/// Before real intervals exist the window holds the prior `F ∓ ⌊F/4⌋`
/// ([`PhiNormalConfig::first_interval`]); real intervals push it out. With
/// [`Tail::Logistic`] it reproduces Akka/Pekko's approximation instead.
///
/// Memory: the window's `8 × window` bytes plus about 100 bytes. A heartbeat is O(1) and never
/// allocates.
///
/// ```
/// use accrual::{Detector, Nanos, PhiNormal, PhiNormalConfig, Preset};
///
/// let interval = Nanos::from_millis(100);
/// let mut d = PhiNormal::new(PhiNormalConfig::preset(Preset::Lan, interval)).unwrap();
/// let mut t = Nanos::ZERO;
/// for _ in 0..50 {
///     t += interval;
///     d.heartbeat(t);
/// }
/// // The equivalent timeout of φ = 8 right now: the mean plus 5.6 floored deviations.
/// let m = d.meaning(8.0);
/// assert_eq!(m.timeout, Some(Nanos(100_000_000 + 28_060_006)));
/// assert_eq!(m.false_suspicion_probability, Some(1e-8));
/// ```
#[derive(Debug, Clone)]
pub struct PhiNormal {
    config: PhiNormalConfig,
    window: IntervalWindow,
    log: ArrivalLog,
    /// `⌊μ⌋ + pause`, in whole ns.
    loc_whole: u64,
    /// `μ − ⌊μ⌋`, in `[0, 1)`. Kept apart so that long intervals with a small spread keep
    /// their nanoseconds.
    loc_frac: f64,
    /// `σ'`, in ns.
    scale: f64,
}

impl PhiNormal {
    /// A detector with no arrivals yet, its window holding the prior.
    pub fn new(config: PhiNormalConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut d = PhiNormal {
            window: IntervalWindow::new(config.window),
            config,
            log: ArrivalLog::default(),
            loc_whole: 0,
            loc_frac: 0.0,
            scale: 0.0,
        };
        d.reset();
        Ok(d)
    }

    /// Forgets every arrival and restores the prior.
    pub fn reset(&mut self) {
        self.window.clear();
        let f = self.config.first_interval.as_nanos();
        self.window.push(f - f / 4);
        self.window.push(f + f / 4);
        self.log = ArrivalLog::default();
        self.refresh();
    }

    /// The configuration.
    pub fn config(&self) -> &PhiNormalConfig {
        &self.config
    }

    /// The window of intervals (prior included while it lasts).
    pub fn window(&self) -> &IntervalWindow {
        &self.window
    }

    /// The mean interval `μ`, in ns.
    pub fn mean(&self) -> f64 {
        self.window.mean()
    }

    /// The standard deviation in use, `σ' = max(σ, min_std, min_std_ratio·μ)`, in ns.
    pub fn std_dev(&self) -> f64 {
        self.scale
    }

    fn refresh(&mut self) {
        let (whole, frac, variance) = self.window.moments();
        let mean = whole as f64 + frac;
        self.loc_whole = whole.saturating_add(self.config.acceptable_pause.as_nanos());
        self.loc_frac = frac;
        self.scale = variance
            .sqrt()
            .max(self.config.min_std.as_nanos() as f64)
            .max(self.config.min_std_ratio * mean);
    }

    fn z_of(&self, phi: f64) -> f64 {
        match self.config.tail {
            Tail::Normal => z_of_phi(phi),
            Tail::Logistic => y_of_phi_logistic(phi),
        }
    }
}

impl Detector for PhiNormal {
    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        match self.log.accept(at, seq) {
            Ok(accepted) => {
                if let Some(interval) = accepted.interval {
                    self.window.push(interval.as_nanos());
                    self.refresh();
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
        if self.scale == 0.0 {
            // No spread: a point mass at the mean, crossed after its rounded-down value.
            return if elapsed.as_nanos() > self.loc_whole {
                PHI_MAX
            } else {
                0.0
            };
        }
        let past = i128::from(elapsed.as_nanos()) - i128::from(self.loc_whole);
        let z = (past as f64 - self.loc_frac) / self.scale;
        match self.config.tail {
            Tail::Normal => phi_of_z(z),
            Tail::Logistic => phi_logistic(z),
        }
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        let last = match self.log.deadline_gate(threshold) {
            Ok(last) => last,
            Err(answer) => return answer,
        };
        // ⌊last + ⌊μ⌋ + pause + x⌋ for x = frac(μ) + σ'·z, which may be negative.
        let x = if self.scale == 0.0 {
            0.0
        } else {
            self.loc_frac + self.scale * self.z_of(threshold)
        };
        Some(deadline_at(last, self.loc_whole, x))
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }
}

/// Snapshots (feature `serde`): the configuration, the window and the arrival log; the derived
/// location and scale are recomputed on reading, so they always agree with the window.
#[cfg(feature = "serde")]
mod serde_impl {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::PhiNormal;
    use crate::config::PhiNormalConfig;
    use crate::detector::ArrivalLog;
    use crate::math::IntervalWindow;

    #[derive(Serialize)]
    struct Ref<'a> {
        config: &'a PhiNormalConfig,
        window: &'a IntervalWindow,
        log: &'a ArrivalLog,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Owned {
        config: PhiNormalConfig,
        window: IntervalWindow,
        log: ArrivalLog,
    }

    impl Serialize for PhiNormal {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            Ref {
                config: &self.config,
                window: &self.window,
                log: &self.log,
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for PhiNormal {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let o = Owned::deserialize(d)?;
            o.config.validate().map_err(D::Error::custom)?;
            if o.window.capacity() != o.config.window || o.window.is_empty() {
                return Err(D::Error::custom(format_args!(
                    "phi_normal: a window of {} samples and capacity {} does not fit phi_normal.window = {}",
                    o.window.len(),
                    o.window.capacity(),
                    o.config.window
                )));
            }
            let mut d = PhiNormal {
                config: o.config,
                window: o.window,
                log: o.log,
                loc_whole: 0,
                loc_frac: 0.0,
                scale: 0.0,
            };
            d.refresh();
            Ok(d)
        }
    }
}
