//! The lateness model of [`Adaptive`](super::Adaptive): a decayed, log-spaced histogram of
//! how late heartbeats came, the survival curve read from it (with a short exponential tail
//! beyond the largest lateness seen), and the prior pause law added to it.

use super::AdaptiveConfig;
use crate::math::exp_neg;

/// Buckets of lateness below `2^LOW_OCTAVE` ns (8 µs) share bucket 0.
const LOW_OCTAVE: u32 = 13;
/// The highest octave: lateness of `2^HIGH_OCTAVE` ns (about 137 s) or more share the last bucket.
const HIGH_OCTAVE: u32 = 37;
/// Sub-buckets per octave (a bucket spans 12.5 % of its lower edge).
const SUB: u32 = 8;
/// Number of buckets.
pub(crate) const BUCKETS: usize = 1 + ((HIGH_OCTAVE - LOW_OCTAVE) * SUB) as usize;
/// Bucket edges `0..=BUCKETS`.
pub(crate) const EDGES: usize = BUCKETS + 1;
/// The learned tail's scale is at most this fraction of the largest lateness seen: beyond what
/// the peer did, the histogram's own evidence fades within a few eighths of it. Longer
/// silences are the prior pause law's to allow.
pub(crate) const TAIL_CAP: f64 = 0.125;

/// Sub-buckets are the top `SUB_BITS` bits of the mantissa.
const SUB_BITS: u32 = SUB.trailing_zeros();

/// The lower edge of bucket `b` in nanoseconds (`b == BUCKETS` gives the top of the range):
/// `2^octave · (1 + sub/SUB)`, built from its bits, exactly.
pub(crate) fn edge(b: usize) -> f64 {
    if b == 0 {
        return 0.0;
    }
    let i = (b - 1) as u64;
    let octave = u64::from(LOW_OCTAVE) + i / u64::from(SUB);
    let sub = i % u64::from(SUB);
    f64::from_bits(((octave + 1023) << 52) | (sub << (52 - SUB_BITS)))
}

/// The bucket holding lateness `x` ns: its octave is the exponent of `x`, its sub-bucket the
/// top bits of the mantissa, read from the bits (no logarithm, no rounding).
pub(super) fn bucket(x: f64) -> usize {
    if x.is_nan() || x < edge(1) {
        return 0;
    }
    let bits = x.to_bits();
    let octave = (bits >> 52) as u32 - 1023; // x ≥ 2^13: positive, normal
    if octave >= HIGH_OCTAVE {
        return BUCKETS - 1;
    }
    let sub = ((bits >> (52 - SUB_BITS)) as u32) & (SUB - 1);
    (1 + (octave - LOW_OCTAVE) * SUB + sub) as usize
}

/// The prior pause law's survival: `e^(−x/scale)`, pauses of mean `scale`.
#[inline]
pub(crate) fn pause_survival(x: f64, scale: f64) -> f64 {
    exp_neg(x / scale)
}

/// One lateness distribution: a decayed histogram and the survival curve read from it.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Model {
    pub(crate) total: f64,
    /// Samples recorded (undecayed).
    pub(crate) samples: u64,
    /// The tail: beyond `top` ns, `S = s_top · e^(−(x − top)/θ)`.
    pub(crate) top: f64,
    pub(crate) s_top: f64,
    pub(crate) theta: f64,
    /// Edges `0..len` hold the survival read from the histogram (0 while it is empty).
    pub(crate) len: usize,
    /// Decayed lateness mass per bucket, in units of the detector's `unit`.
    pub(crate) counts: [f32; BUCKETS],
    /// `S` at each bucket edge: `(mass at or above it + one unit) / (total + one unit)`.
    pub(crate) surv: [f64; EDGES],
}

impl Model {
    pub(crate) fn new(theta: f64) -> Self {
        Model {
            counts: [0.0; BUCKETS],
            total: 0.0,
            samples: 0,
            surv: [0.0; EDGES],
            len: 0,
            top: 0.0,
            s_top: 1.0,
            theta,
        }
    }

    pub(super) fn rescale(&mut self, scale: f64) {
        for c in &mut self.counts {
            *c = (f64::from(*c) * scale) as f32;
        }
        self.total *= scale;
    }

    pub(super) fn add(&mut self, lateness: f64, unit: f64) {
        let b = bucket(lateness);
        self.counts[b] = (f64::from(self.counts[b]) + unit) as f32;
        self.total += unit;
        self.samples = self.samples.saturating_add(1);
    }

    /// Recomputes the survival at the bucket edges and the tail from the counts. `floor` is the
    /// smallest tail scale, `empty` the scale while nothing has been seen.
    pub(super) fn refit(&mut self, unit: f64, floor: f64, empty: f64, config: &AdaptiveConfig) {
        let n = self.total + unit;
        let Some(top_bucket) = self.counts.iter().rposition(|&c| c > 0.0) else {
            self.len = 0;
            self.top = 0.0;
            self.s_top = 1.0;
            self.theta = floor.max(empty);
            return;
        };
        let mut above = self.total;
        for b in 0..=top_bucket + 1 {
            self.surv[b] = ((above.max(0.0) + unit) / n).min(1.0);
            if b <= top_bucket {
                above -= f64::from(self.counts[b]);
            }
        }
        // The tail: the mean excess of the largest `tail_samples` over where they begin, at
        // most `TAIL_CAP` of the top, at least the floor.
        let want = config.tail_samples * unit;
        let (mut mass, mut sum, mut start) = (0.0, 0.0, 0usize);
        for b in (0..=top_bucket).rev() {
            let c = f64::from(self.counts[b]);
            mass += c;
            sum += c * 0.5 * (edge(b) + edge(b + 1));
            start = b;
            if mass >= want {
                break;
            }
        }
        let top = edge(top_bucket + 1);
        let fitted = if mass > 0.0 {
            sum / mass - edge(start)
        } else {
            0.0
        };
        self.len = top_bucket + 2;
        self.top = top;
        self.s_top = unit / n;
        self.theta = fitted.min(top * TAIL_CAP).max(floor);
    }

    /// The histogram's probability that the lateness exceeds `x`.
    #[inline]
    pub(super) fn survival(&self, x: f64) -> f64 {
        if x >= self.top {
            return (self.s_top * exp_neg((x - self.top) / self.theta)).min(1.0);
        }
        if x <= 0.0 {
            return 1.0;
        }
        // S is linear between edges.
        let b = bucket(x);
        let (x0, x1) = (edge(b), edge(b + 1));
        let (s0, s1) = (self.surv[b], self.surv[b + 1]);
        s0 + (s1 - s0) * ((x - x0) / (x1 - x0))
    }

    /// The smallest lateness `x ≥ 0` at which `survival(x) + prior · pause_survival(x, scale)`
    /// is at most `p` (to the last bit), or `limit` if none below it is.
    pub(super) fn quantile(&self, p: f64, prior: f64, scale: f64, limit: f64) -> f64 {
        let f = |x: f64| self.survival(x) + prior * pause_survival(x, scale);
        if p.is_nan() || p <= 0.0 {
            return limit;
        }
        if f(0.0) <= p {
            return 0.0;
        }
        // Bracket: the first edge whose survival is small enough (it is monotone), else the
        // tail, doubled until it is.
        let (mut lo, mut hi);
        let inside = (1..self.len).find(|&b| f(edge(b)) <= p);
        if let Some(b) = inside {
            (lo, hi) = (edge(b - 1), edge(b));
        } else {
            lo = self.top;
            hi = (self.top + self.theta).max(scale).max(1.0);
            while f(hi) > p {
                lo = hi;
                hi *= 2.0;
                if hi >= limit {
                    if f(limit) > p {
                        return limit;
                    }
                    hi = limit;
                    break;
                }
            }
        }
        // To the last bit: the deadline is floored from it, and φ must not exceed the
        // threshold there even where it rises steeply.
        loop {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if f(mid) <= p {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_their_edges() {
        for b in 0..BUCKETS {
            assert!(edge(b) < edge(b + 1), "{b}");
            if b > 0 {
                assert_eq!(bucket(edge(b)), b, "{b}");
            }
            assert_eq!(bucket(edge(b + 1) - 1.0), b.min(BUCKETS - 1), "{b}");
        }
        assert_eq!(bucket(-5.0), 0);
        assert_eq!(bucket(f64::NAN), 0);
        assert_eq!(bucket(1e30), BUCKETS - 1);
    }
}
