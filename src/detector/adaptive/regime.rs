//! The regime of [`Adaptive`](super::Adaptive): the largest lateness of the last
//! [`regime_window`](super::AdaptiveConfig::regime_window), which sets a floor under every
//! deadline while a spell of queueing delay lasts.

/// The two largest lateness values (ns, as `f32`: a few parts in 10^8) of the current half of
/// the regime window and of the half before it, each pair in decreasing order, and where the
/// current half began. Half the window is kept here too, beside the values, so that a
/// heartbeat reads no more cache lines for the regime than it did without one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Regime {
    pub(crate) start: u64,
    pub(crate) half: u64,
    pub(crate) current: [f32; 2],
    pub(crate) previous: [f32; 2],
}

impl Regime {
    /// An empty regime over windows of `window` ns.
    pub(crate) fn new(window: u64) -> Self {
        Regime {
            start: 0,
            half: window / 2,
            current: [0.0; 2],
            previous: [0.0; 2],
        }
    }

    /// The two pairs as of `now`: moved on by one half (the current pair becomes the previous
    /// one, the current is empty) or by two or more (both empty) since the current half began.
    fn as_of(&self, now: u64) -> ([f32; 2], [f32; 2]) {
        let elapsed = now.saturating_sub(self.start);
        if elapsed < self.half {
            (self.current, self.previous)
        } else if elapsed < self.half.saturating_mul(2) {
            ([0.0; 2], self.current)
        } else {
            ([0.0; 2], [0.0; 2])
        }
    }

    /// Adds the notable lateness `x` of an arrival at `now`. Only notable lateness is recorded:
    /// the halves move on lazily, here and in [`level`](Self::level), so that an ordinary
    /// heartbeat does no work for the regime.
    pub(super) fn record(&mut self, now: u64, x: f64) {
        if now.saturating_sub(self.start) >= self.half {
            (self.current, self.previous) = self.as_of(now);
            self.start = now;
        }
        let x = x as f32;
        let [a, b] = self.current;
        self.current = if x > a {
            [x, a]
        } else if x > b {
            [a, x]
        } else {
            [a, b]
        };
    }

    /// The second largest value of the two halves as of `now` (the last arrival): a level two
    /// recent arrivals reached, so that one pause alone does not set it.
    pub(super) fn level(&self, now: u64) -> f64 {
        let ([a, b], [c, d]) = self.as_of(now);
        f64::from(a.min(c).max(b).max(d))
    }
}
