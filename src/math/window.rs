//! A sliding window of intervals with exact mean and variance.

/// Intervals longer than this (2^53 ns, about 104 days) are recorded as this long. The bound
/// keeps the running sums exact in 128-bit integers for windows of up to [`MAX_WINDOW`]
/// intervals.
pub const MAX_INTERVAL_NS: u64 = 1 << 53;
/// The largest window a detector accepts (2^20 intervals, 8 MiB of samples).
pub const MAX_WINDOW: usize = 1 << 20;

/// The last `capacity` intervals (in nanoseconds), with their mean and population variance.
///
/// The window keeps the integer sum and the integer sum of squares of its samples, updated on
/// every push and eviction. Both are exact (no floating-point drift however many millions of
/// samples pass through), and the variance is derived from them with an exact integer identity
/// before one final rounding, so it is never negative and is exactly zero when every sample is
/// equal. Pushing is O(1) and never allocates: the storage is allocated once, when the window
/// is created.
///
/// ```
/// use accrual::math::IntervalWindow;
///
/// let mut w = IntervalWindow::new(3);
/// for x in [10, 20, 30, 40] {
///     w.push(x);
/// }
/// assert_eq!(w.len(), 3); // 10 was pushed out
/// assert_eq!(w.mean(), 30.0);
/// assert!((w.variance() - 200.0 / 3.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalWindow {
    samples: Box<[u64]>,
    /// Index of the oldest sample.
    head: usize,
    len: usize,
    sum: u128,
    sum_sq: u128,
}

impl IntervalWindow {
    /// An empty window holding at most `capacity` samples, clamped to `1..=MAX_WINDOW`
    /// (configurations reject out-of-range sizes before they get here).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, MAX_WINDOW);
        IntervalWindow {
            samples: vec![0; capacity].into_boxed_slice(),
            head: 0,
            len: 0,
            sum: 0,
            sum_sq: 0,
        }
    }

    /// The most samples the window holds.
    pub fn capacity(&self) -> usize {
        self.samples.len()
    }

    /// The number of samples held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the window holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a sample (clamped to [`MAX_INTERVAL_NS`]), pushing out the oldest when full.
    pub fn push(&mut self, interval_ns: u64) {
        let x = interval_ns.min(MAX_INTERVAL_NS);
        let cap = self.samples.len();
        if self.len == cap {
            let old = self.samples[self.head];
            self.sum -= u128::from(old);
            self.sum_sq -= u128::from(old) * u128::from(old);
            self.samples[self.head] = x;
            self.head = if self.head + 1 == cap {
                0
            } else {
                self.head + 1
            };
        } else {
            let mut tail = self.head + self.len;
            if tail >= cap {
                tail -= cap;
            }
            self.samples[tail] = x;
            self.len += 1;
        }
        self.sum += u128::from(x);
        self.sum_sq += u128::from(x) * u128::from(x);
    }

    /// Removes every sample.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.sum = 0;
        self.sum_sq = 0;
    }

    /// The samples from oldest to newest.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (a, b) = self.samples.split_at(self.head);
        b.iter().chain(a.iter()).take(self.len).copied()
    }

    /// The exact integer sum of the samples.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The exact integer sum of the squares of the samples.
    #[inline]
    pub(crate) fn sum_sq(&self) -> u128 {
        self.sum_sq
    }

    /// The mean of the samples (0 when empty).
    pub fn mean(&self) -> f64 {
        let (whole, frac) = self.mean_parts();
        whole as f64 + frac
    }

    /// The mean split exactly into its whole nanoseconds and its fraction of one:
    /// `(⌊S/n⌋, (S mod n)/n)`, so callers can work with large means without losing the
    /// nanoseconds to floating-point rounding. `(0, 0.0)` when empty.
    pub fn mean_parts(&self) -> (u64, f64) {
        if self.len == 0 {
            return (0, 0.0);
        }
        let (q, r) = self.div_len();
        (q, r as f64 / self.len as f64)
    }

    /// `(⌊S/n⌋, S mod n)`, in 64-bit arithmetic whenever the sum allows (the usual case), not
    /// the 128-bit division's library call.
    fn div_len(&self) -> (u64, u64) {
        let n = self.len as u64;
        match u64::try_from(self.sum) {
            Ok(sum) => (sum / n, sum % n),
            // S/n ≤ MAX_INTERVAL_NS and the remainder is below n: both fit in 64 bits.
            Err(_) => (
                (self.sum / u128::from(n)) as u64,
                (self.sum % u128::from(n)) as u64,
            ),
        }
    }

    /// [`mean_parts`](Self::mean_parts) and [`variance`](Self::variance) together, with one
    /// division instead of two: `(whole, frac, variance)`.
    pub fn moments(&self) -> (u64, f64, f64) {
        if self.len == 0 {
            return (0, 0.0, 0.0);
        }
        let (q, r) = self.div_len();
        let nf = self.len as f64;
        let rf = r as f64 / nf;
        if let Some(n2_var) = self.n2_variance() {
            return (q, rf, u128_to_f64(n2_var) / (nf * nf));
        }
        // q ≤ 2^53 and S + r < 2^74, so the product fits in 128 bits; D ≥ 0 by the identity.
        let d = self.sum_sq - u128::from(q) * (self.sum + u128::from(r));
        (q, rf, (u128_to_f64(d) / nf - rf * rf).max(0.0))
    }

    /// `n²·var = n·Q − S²`, exact, when 128-bit integers hold it: `n·Q < 2^127` and
    /// `S² < 2^128` (sums below 2^64, squares below 2^107; intervals of days with a window of a
    /// million). It is not negative, by Cauchy–Schwarz, and needs no quotient, which keeps a
    /// heartbeat's chain of dependent operations short.
    #[inline]
    pub(crate) fn n2_variance(&self) -> Option<u128> {
        if self.sum >> 64 != 0 || self.sum_sq >> 107 != 0 {
            return None;
        }
        let s = self.sum as u64;
        Some(u128::from(self.len as u64) * self.sum_sq - u128::from(s) * u128::from(s))
    }

    /// The population variance of the samples (0 when empty), in ns².
    ///
    /// With `S = Σx`, `Q = Σx²` and `n` samples, `n²·var = n·Q − S²` exactly; it is computed in
    /// 128-bit integers when they hold it (sums below 2^64, squares below 2^107: intervals of
    /// days, windows of a million), so that the only roundings are its conversion and one
    /// division. Otherwise, with `q = ⌊S/n⌋` and `r = S mod n`, the identity
    /// `n²·var = n·D − r²` holds for `D = Σ(x − q)² = Q − q·(S + r)`, which is computed in exact
    /// integers and is of the order of the variance, not of the squared mean, so the few
    /// roundings that remain (`D/n − (r/n)²`) cannot cancel catastrophically. Either way the
    /// result is within a few units in the last place, exactly zero when every sample is equal.
    pub fn variance(&self) -> f64 {
        self.moments().2
    }

    /// The population standard deviation of the samples (0 when empty).
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }
}

/// `x as f64` to within one unit in the last place, without the 128-bit library call: the
/// one-instruction signed conversion below 2^63 (the usual case, a sum of squared deviations),
/// two 64-bit halves above.
#[inline]
pub(crate) fn u128_to_f64(x: u128) -> f64 {
    if x >> 63 == 0 {
        // Below 2^63: the cast to i64 is exact.
        x as i64 as f64
    } else {
        (x >> 64) as u64 as f64 * TWO_POW_64 + x as u64 as f64
    }
}

/// 2^64.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_zero_variance() {
        let mut w = IntervalWindow::new(1000);
        for _ in 0..5000 {
            w.push(100_000_003);
        }
        assert_eq!(w.variance(), 0.0);
        assert_eq!(w.mean(), 100_000_003.0);
    }

    #[test]
    fn large_mean_small_spread_is_exact() {
        // Mean ~ 10 s, spread of 1 ns: naive E[x²] − E[x]² in f64 loses all of it.
        let mut w = IntervalWindow::new(4);
        for x in [
            10_000_000_000u64,
            10_000_000_001,
            10_000_000_000,
            10_000_000_001,
        ] {
            w.push(x);
        }
        assert_eq!(w.variance(), 0.25);
    }

    #[test]
    fn huge_intervals_are_clamped_not_overflowed() {
        let mut w = IntervalWindow::new(MAX_WINDOW);
        for _ in 0..MAX_WINDOW + 10 {
            w.push(u64::MAX);
        }
        assert_eq!(w.mean(), MAX_INTERVAL_NS as f64);
        assert_eq!(w.variance(), 0.0);
    }

    #[test]
    fn capacity_is_clamped() {
        assert_eq!(IntervalWindow::new(0).capacity(), 1);
        assert_eq!(IntervalWindow::new(usize::MAX).capacity(), MAX_WINDOW);
    }
}
