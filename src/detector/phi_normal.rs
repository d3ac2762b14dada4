use crate::config::{
    ConfigError, check_bounded, check_non_negative, check_positive_duration, check_window,
};
use crate::detector::{Arrival, ArrivalCounts, ArrivalLog, Detector, deadline_at};
use crate::math::{
    IntervalWindow, PHI_MAX, phi_logistic, phi_of_z, u128_to_f64, y_of_phi_logistic, z_of_phi,
};
use crate::time::Nanos;

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

/// Configuration of [`PhiNormal`], Hayashibara's φ-accrual detector.
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
/// has no spread: φ then jumps from 0 to [`PHI_MAX`] at the rounded-down
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
/// allocates; it computes `σ'` from exact integer sums with one square root and one division,
/// and a φ query evaluates one polynomial (and one `exp` below the mean): see
/// [`math`](crate::math) for their accuracy. For spreads beyond 2^45 ns (nine hours), where one
/// nanosecond moves the standard score by less than φ's rounding error, the score is rounded
/// to a multiple of 2^−45 so that φ stays non-decreasing (a relative change below 6e−13).
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
    pub(crate) config: PhiNormalConfig,
    pub(crate) window: IntervalWindow,
    pub(crate) log: ArrivalLog,
    /// The window length `n` that `inv_len` belongs to.
    len: u64,
    /// `1/n`, recomputed only while the window fills.
    inv_len: f64,
    /// The width of the range of elapsed times with `|elapsed − pause| < ⌊2^50/n⌋`, clipped
    /// at 0 (it starts at `usual_from`): there `|elapsed − pause|·n` and so
    /// `n·(elapsed − pause) − S` (with `S < 2^50`) fit the exact conversion of `small_to_f64`.
    /// 0 for the logistic tail, which never takes the usual path.
    normal_width: u64,
    /// `n·min_std`, in ns.
    n_min_std: f64,
    /// `σ'`, in ns.
    scale: f64,
    /// `1/(n·σ')`: a φ query's standard score is `(n·(t − pause) − S)` times this, from the
    /// exact integer `n·(t − pause) − S = n·(t − pause − μ)`, so that long intervals with a
    /// small spread keep their nanoseconds. `+∞` when `σ' = 0`.
    inv_n_scale: f64,
    /// The elapsed times a φ query takes the usual path for, `usual_from ≤ elapsed <
    /// usual_from + usual_width`: those with `|elapsed − pause| < ⌊2^50/n⌋` (clipped at 0), as
    /// long as the tail is normal, `0 < σ' ≤ 2^45` ns and `S < 2^50`; an empty range otherwise.
    /// Decided once per heartbeat, so that a query tests one range.
    usual_from: u64,
    usual_width: u64,
    /// Whether the configuration floors `σ` at all (`min_std` or `min_std_ratio` above 0).
    floored: bool,
}

impl PhiNormal {
    /// A detector with no arrivals yet, its window holding the prior.
    pub fn new(config: PhiNormalConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let window = IntervalWindow::new(config.window);
        let mut d = Self::from_parts(config, window, ArrivalLog::default());
        d.reset();
        Ok(d)
    }

    /// A detector from a validated configuration, a window that fits it and an arrival log, its
    /// derived values computed from the window.
    pub(crate) fn from_parts(
        config: PhiNormalConfig,
        window: IntervalWindow,
        log: ArrivalLog,
    ) -> Self {
        let mut d = PhiNormal {
            floored: config.floors_std(),
            config,
            window,
            log,
            len: 0,
            inv_len: 0.0,
            normal_width: 0,
            n_min_std: 0.0,
            scale: 0.0,
            inv_n_scale: f64::INFINITY,
            usual_from: 0,
            usual_width: 0,
        };
        d.refresh();
        d
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

    /// Recomputes `σ'` and `1/(n·σ')` after the window changed. φ queries wait for this, so
    /// its chain of dependent operations is kept short: the exact `n²·var` in integers, then a
    /// square root and a division that do not wait for each other,
    /// `1/(n·σ) = sqrt(n²·var) · (1/(n²·var))`; no quotient of the sums.
    ///
    /// This is the heartbeat's usual case, a full window whose sum is below 2^50 (intervals
    /// shorter than 13 days with a window of a thousand); everything else goes to
    /// [`refresh_full`](Self::refresh_full), which computes the same values for every window.
    /// The usual case makes no call, so a heartbeat needs no stack frame.
    #[inline(always)]
    fn refresh(&mut self) {
        let n = self.window.len() as u64;
        let sum = self.window.sum();
        if n != self.len || sum >> 50 != 0 {
            return self.refresh_full();
        }
        // S < 2^50, so Q ≤ S² < 2^100 (the samples are not negative): the identity of
        // `IntervalWindow::n2_variance` holds without its range checks.
        let s = sum as u64;
        let n2 = u128::from(n) * self.window.sum_sq() - u128::from(s) * u128::from(s);
        if n2 >> 64 != 0 {
            return self.refresh_full();
        }
        let n2 = n2 as u64;
        // The unsigned conversion's sequence writes whole registers, unlike the signed
        // conversion instruction, which merges into its target's old value and so can chain a
        // heartbeat to the previous query's work (measured: slower, despite fewer
        // instructions).
        let n2_var = n2 as f64;
        if self.floored {
            // S < 2^50 converts exactly.
            return self.set_scale(n2_var, small_to_f64(sum as i64), true);
        }
        self.set_spread(n2_var);
        // n²·var < 2^64 puts σ below 2^32 ns, so the usual path needs only a spread.
        self.usual_width = if n2 != 0 { self.normal_width } else { 0 };
    }

    /// Sets `σ'`, `1/(n·σ')` and the usual range from `n²·var` and the sum `S` (each rounded
    /// once), for the window length `self.len`; `small_sum` says whether `S < 2^50`.
    #[inline(always)]
    fn set_scale(&mut self, n2_var: f64, sum: f64, small_sum: bool) {
        // n·max(min_std, min_std_ratio·μ) = max(n·min_std, min_std_ratio·S).
        let n_floor = max(self.n_min_std, self.config.min_std_ratio * sum);
        if self.floored && n2_var <= n_floor * n_floor {
            // The floor applies.
            self.scale = n_floor * self.inv_len;
            self.inv_n_scale = 1.0 / n_floor;
        } else {
            self.set_spread(n2_var);
        }
        // 0 < σ' ≤ 2^45 in one comparison: σ' is never negative or NaN, and the bits of
        // non-negative doubles are ordered as the doubles are (0 wraps to the top). The range
        // is already empty for the logistic tail.
        let usual = small_sum && self.scale.to_bits().wrapping_sub(1) < COARSE_SCALE.to_bits();
        self.usual_width = if usual { self.normal_width } else { 0 };
    }

    /// `σ' = σ`, from `n²·var`. Without spread, 1/(n·σ') is 0·∞, NaN, but then the query
    /// leaves the usual path (σ' = 0) and never reads it.
    #[inline(always)]
    fn set_spread(&mut self, n2_var: f64) {
        let n_sigma = n2_var.sqrt();
        self.scale = n_sigma * self.inv_len;
        self.inv_n_scale = n_sigma * (1.0 / n2_var);
    }

    /// [`refresh`](Self::refresh) for every window: while it fills (the window length and its
    /// derived values change), and for sums from 2^50 or a spread with `n²·var` from 2^64.
    #[cold]
    #[inline(never)]
    fn refresh_full(&mut self) {
        let n = self.window.len() as u64;
        if n != self.len {
            self.len = n;
            // |elapsed − pause| < bound, clipped at 0: the pause is at most 2^53 and the bound
            // at most 2^50, so neither end overflows.
            let bound = (1 << 50) / n.max(1);
            let pause = self.config.acceptable_pause.as_nanos();
            self.usual_from = (pause + 1).saturating_sub(bound);
            self.normal_width = if self.config.tail == Tail::Normal {
                pause + bound - self.usual_from
            } else {
                0
            };
            self.inv_len = 1.0 / n as f64;
            self.n_min_std = self.config.min_std.as_nanos() as f64 * n as f64;
        }
        let sum = self.window.sum();
        let n2_var = match self.window.n2_variance() {
            // Correctly rounded below 2^64, within one unit in the last place above.
            Some(exact) if exact >> 64 == 0 => exact as u64 as f64,
            Some(exact) => u128_to_f64(exact),
            None => self.window.variance() * (n as f64 * n as f64),
        };
        self.set_scale(n2_var, u128_to_f64(sum), sum >> 50 == 0);
    }

    /// `n·(elapsed − pause) − S = n·(elapsed − pause − μ)` in 128-bit integers, where it always
    /// fits (`n ≤ 2^20`, `elapsed < 2^64`, `S < 2^74`): the rare path. Exact; its conversion to
    /// `f64` rounds once, as the usual path's does.
    fn excess_wide(&self, elapsed: u64) -> i128 {
        let e = i128::from(elapsed) - i128::from(self.config.acceptable_pause.as_nanos());
        e * i128::from(self.len) - self.window.sum() as i128
    }

    /// φ off the usual path: no spread, a spread beyond 2^45 ns, the logistic tail, or
    /// integers beyond 2^50. Out of line, so that the usual path carries none of it.
    #[cold]
    #[inline(never)]
    fn phi_unusual(&self, elapsed: u64) -> f64 {
        if self.scale == 0.0 {
            // No spread: a point mass at the mean, crossed after its rounded-down value plus the
            // pause, that is once elapsed − pause > ⌊S/n⌋, or n·(elapsed − pause) > S.
            return if self.excess_wide(elapsed) > 0 {
                PHI_MAX
            } else {
                0.0
            };
        }
        let mut z = self.excess_wide(elapsed) as f64 * self.inv_n_scale;
        if self.scale > COARSE_SCALE {
            // A spread of more than 2^45 ns (nine hours): one nanosecond moves z by less than
            // φ's rounding can move it back, and φ could fall by an ulp between neighbouring
            // instants. On the grid of multiples of 2^−45 every step raises φ by more than its
            // rounding error, so rounding z to that grid keeps φ non-decreasing, at a cost
            // below 6e−13 relative.
            z = (z + Z_GRID_SHIFT) - Z_GRID_SHIFT;
        }
        match self.config.tail {
            Tail::Normal => phi_of_z(z),
            Tail::Logistic => phi_logistic(z),
        }
    }

    fn z_of(&self, phi: f64) -> f64 {
        match self.config.tail {
            Tail::Normal => z_of_phi(phi),
            Tail::Logistic => y_of_phi_logistic(phi),
        }
    }
}

impl Detector for PhiNormal {
    fn expected_interval(&self) -> Option<Nanos> {
        Some(Nanos(self.mean() as u64))
    }

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
        let elapsed = elapsed.as_nanos();
        if elapsed.wrapping_sub(self.usual_from) < self.usual_width {
            // On the usual path |elapsed − pause| < 2^50/n and S < 2^50, so the excess
            // n·(elapsed − pause) − S is below 2^51 in magnitude: exact in i64 (the pause is
            // validated to at most 2^53 and n to at most 2^20), exact in its conversion, then
            // one rounding in the product.
            let e = elapsed as i64 - self.config.acceptable_pause.as_nanos() as i64;
            let excess = e * self.len as i64 - self.window.sum() as i64;
            return phi_of_z(small_to_f64(excess) * self.inv_n_scale);
        }
        self.phi_unusual(elapsed)
    }

    fn deadline(&self, threshold: f64) -> Option<Nanos> {
        let last = match self.log.deadline_gate(threshold) {
            Ok(last) => last,
            Err(answer) => return answer,
        };
        // ⌊last + ⌊μ⌋ + pause + x⌋ for x = frac(μ) + σ'·z, which may be negative. The mean is
        // split exactly, so that long intervals with a small spread keep their nanoseconds.
        let (whole, frac) = self.window.mean_parts();
        let loc_whole = whole.saturating_add(self.config.acceptable_pause.as_nanos());
        let x = if self.scale == 0.0 {
            0.0
        } else {
            frac + self.scale * self.z_of(threshold)
        };
        Some(deadline_at(last, loc_whole, x))
    }

    fn last_arrival(&self) -> Option<Nanos> {
        self.log.last
    }

    fn arrivals(&self) -> ArrivalCounts {
        self.log.counts
    }
}

/// `σ'` beyond which a φ query rounds `z` to the grid of multiples of 2^−45 (2^45 ns).
const COARSE_SCALE: f64 = 35_184_372_088_832.0;
/// 1.5·2^7: adding and subtracting it rounds `|z| < 64` to a multiple of 2^−45 (larger `|z|`
/// to a coarser grid, which is still monotone and far beyond where precision matters).
const Z_GRID_SHIFT: f64 = 192.0;

/// `x as f64` for `|x| < 2^51`, exactly: `1.5·2^52 + x` has `x` in its low bits. The
/// conversion instruction would merge into the old contents of its target register, a false
/// dependency the compiler does not always break, which can chain one call's result to the
/// next call's work; this writes the whole register: an integer addition, a move and a
/// subtraction.
#[inline(always)]
fn small_to_f64(x: i64) -> f64 {
    f64::from_bits(MAGIC.to_bits().wrapping_add(x as u64)) - MAGIC
}

/// 1.5·2^52.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// The larger of two numbers that are never NaN here: one instruction, where `f64::max` adds
/// NaN handling.
#[inline]
fn max(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived values as bits, to compare two ways of computing them exactly.
    fn derived(d: &PhiNormal) -> [u64; 5] {
        [
            d.scale.to_bits(),
            d.inv_n_scale.to_bits(),
            d.usual_from,
            d.usual_width,
            d.len,
        ]
    }

    /// A heartbeat's short refresh gives exactly what the general one gives, for windows on
    /// both sides of each of its limits: floors or none, the logistic tail, no spread, sums
    /// about 2^50 and `n²·var` about 2^64.
    #[test]
    fn the_short_refresh_agrees_with_the_general_one() {
        let base = PhiNormalConfig::default();
        let configs = [
            PhiNormalConfig {
                window: 50,
                ..base.clone()
            },
            PhiNormalConfig {
                window: 50,
                min_std: Nanos::from_millis(2),
                ..base.clone()
            },
            PhiNormalConfig {
                window: 50,
                min_std_ratio: 0.02,
                ..base.clone()
            },
            PhiNormalConfig {
                window: 50,
                tail: Tail::Logistic,
                ..base.clone()
            },
        ];
        // (centre, spread) of the intervals, in ns.
        let laws: [(u64, u64); 6] = [
            (100_000_000, 0),
            (100_000_000, 3_000_000),
            (100_000_000, 150_000_000),
            // n²·var about 2^64 with n = 50: σ near 2^32/50 ≈ 8.6e7.
            (1_000_000_000, 300_000_000),
            // S about 2^50 with n = 50 (intervals near 2^44.4), below and above.
            (1 << 44, 1 << 40),
            (23_000_000_000_000, 1_000_000),
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut checked = 0;
        for config in configs {
            for (centre, spread) in laws {
                let mut d = PhiNormal::new(config.clone()).unwrap();
                for _ in 0..200 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let interval = centre - spread / 2 + x % (spread + 1);
                    d.window.push(interval);
                    let mut general = d.clone();
                    d.refresh();
                    general.refresh_full();
                    assert_eq!(
                        derived(&d),
                        derived(&general),
                        "{config:?} {centre} {spread}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 4 * 6 * 200);
    }
}
