//! The lateness model of [`Adaptive`](super::Adaptive): a decayed, log-spaced histogram of
//! how late heartbeats came, and the survival curve fitted to it (a lower hull over the bucket
//! edges and an exponential tail).

use super::AdaptiveConfig;

/// Buckets of lateness below `2^LOW_OCTAVE` ns (8 µs) share bucket 0.
const LOW_OCTAVE: u32 = 13;
/// The highest octave: lateness of `2^HIGH_OCTAVE` ns (about 137 s) or more share the last bucket.
const HIGH_OCTAVE: u32 = 37;
/// Sub-buckets per octave (a bucket spans 12.5 % of its lower edge).
const SUB: u32 = 8;
/// Number of buckets.
pub(crate) const BUCKETS: usize = 1 + ((HIGH_OCTAVE - LOW_OCTAVE) * SUB) as usize;
/// Hull vertices: bucket edges `0..=BUCKETS`.
pub(crate) const EDGES: usize = BUCKETS + 1;

/// Sub-buckets are the top `SUB_BITS` bits of the mantissa.
const SUB_BITS: u32 = SUB.trailing_zeros();

/// The lower edge of bucket `b` in nanoseconds (`b == BUCKETS` gives the top of the range):
/// `2^octave · (1 + sub/SUB)`, built from its bits, exactly.
fn edge(b: usize) -> f64 {
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

/// One lateness distribution: a decayed histogram and the fitted survival curve.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Model {
    pub(crate) total: f64,
    /// Samples recorded (undecayed), for the prior's fading.
    pub(crate) samples: u64,
    /// The tail: beyond `top` ns, `S = s_top · e^(−(x − top)/θ)`.
    pub(crate) top: f64,
    pub(crate) s_top: f64,
    pub(crate) theta: f64,
    pub(crate) hull_len: usize,
    /// Decayed lateness mass per bucket, in units of the detector's `unit`.
    pub(crate) counts: [f32; BUCKETS],
    /// Lower-hull vertices (bucket edges) of `(x, S(x))`, and the slope of the hull edge
    /// leaving each vertex (the last one leaves into the tail).
    pub(crate) hull: [u8; EDGES],
    pub(crate) slopes: [f64; EDGES],
}

impl Model {
    pub(crate) fn new(theta: f64) -> Self {
        Model {
            counts: [0.0; BUCKETS],
            total: 0.0,
            samples: 0,
            hull: [0; EDGES],
            slopes: [0.0; EDGES],
            hull_len: 0,
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
        self.samples += 1;
    }

    /// Recomputes the hull of the survival curve and its tail from the counts.
    pub(super) fn refit(&mut self, unit: f64, floor: f64, config: &AdaptiveConfig) {
        let prior = {
            let w0 = config.prior_weight;
            if w0 > 0.0 {
                config.prior_pause.as_nanos() as f64 * w0 / (w0 + self.samples as f64)
            } else {
                0.0
            }
        };
        let n = self.total + unit;
        let Some(top_bucket) = self.counts.iter().rposition(|&c| c > 0.0) else {
            // No lateness yet: the prior alone.
            self.hull_len = 0;
            self.top = 0.0;
            self.s_top = 1.0;
            self.theta = prior
                .max(floor)
                .max(config.first_interval.as_nanos() as f64);
            return;
        };
        // The lower convex hull of (edge(b), S(edge(b))), b = 0..=top_bucket + 1, by monotone
        // chain; S at an edge is (mass at or above it + one unit) / (n + one unit).
        let mut above = self.total;
        let mut len = 0usize;
        let mut hx = [0f64; EDGES];
        let mut hs = [0f64; EDGES];
        for b in 0..=top_bucket + 1 {
            let x = edge(b);
            let s = (above.max(0.0) + unit) / n;
            while len >= 2 {
                let (x1, s1, x2, s2) = (hx[len - 2], hs[len - 2], hx[len - 1], hs[len - 1]);
                // Drop the middle vertex unless it lies strictly below the chord.
                if (s2 - s1) * (x - x1) >= (s - s1) * (x2 - x1) {
                    len -= 1;
                } else {
                    break;
                }
            }
            hx[len] = x;
            hs[len] = s;
            self.hull[len] = b as u8;
            len += 1;
            if b <= top_bucket {
                above -= f64::from(self.counts[b]);
            }
        }
        // The tail: the mean excess of the largest `tail_samples` over where they begin.
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
        let s_top = unit / n;
        let mut theta = if mass > 0.0 {
            sum / mass - edge(start)
        } else {
            0.0
        };
        theta = theta.max(floor).max(prior);
        for i in 0..len.saturating_sub(1) {
            self.slopes[i] = (hs[i + 1] - hs[i]) / (hx[i + 1] - hx[i]);
        }
        // The tail's scale is widened if needed so that the curve stays convex where it leaves
        // the last vertex.
        if len >= 2 {
            let last = (hs[len - 1] - hs[len - 2]) / (hx[len - 1] - hx[len - 2]);
            if last < 0.0 {
                theta = theta.max(s_top / -last);
            }
        }
        self.slopes[len - 1] = (-s_top / theta).min(-f64::MIN_POSITIVE);
        // Rounding must not break the order of the slopes (φ would then fall): each is at
        // most the next, and all are negative.
        for i in (0..len - 1).rev() {
            self.slopes[i] = self.slopes[i].min(self.slopes[i + 1]);
        }
        self.hull_len = len;
        self.top = edge(top_bucket + 1);
        self.s_top = s_top;
        self.theta = theta;
    }

    /// The lateness allowed when a false suspicion costs `w` ns.
    pub(super) fn allowance(&self, w: f64) -> f64 {
        // Into the tail once the tail's slope at its start is steeper than 1/W.
        if w * self.s_top >= self.theta {
            return self.top + self.theta * (w * self.s_top / self.theta).ln();
        }
        let limit = -1.0 / w;
        for i in 0..self.hull_len {
            if self.slopes[i] >= limit {
                return edge(usize::from(self.hull[i]));
            }
        }
        self.top
    }

    /// The smallest price `W` whose allowance reaches beyond lateness `x > 0` (0 if none needed).
    pub(super) fn price(&self, x: f64) -> f64 {
        if x > self.top {
            let s = self.s_top * (-(x - self.top) / self.theta).exp();
            return self.theta / s;
        }
        let b = self.hull[..self.hull_len].partition_point(|&v| edge(usize::from(v)) < x);
        if b == 0 {
            return 0.0;
        }
        -1.0 / self.slopes[b - 1]
    }

    /// The model's probability that the lateness exceeds `x`.
    pub(super) fn survival(&self, x: f64, unit: f64) -> f64 {
        if x >= self.top {
            return (self.s_top * (-(x - self.top) / self.theta).exp()).min(1.0);
        }
        // S is linear between edges: find the bucket and interpolate.
        let b = bucket(x);
        let n = self.total + unit;
        let above: f64 = self.counts[b + 1..].iter().map(|&c| f64::from(c)).sum();
        let inside = f64::from(self.counts[b]);
        let frac = ((edge(b + 1) - x) / (edge(b + 1) - edge(b))).clamp(0.0, 1.0);
        ((above + inside * frac + unit) / n).min(1.0)
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
