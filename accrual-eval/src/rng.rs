/// A small seeded generator (SplitMix64), public so that simulations and tests built on this
/// crate can be deterministic: the same seed gives the same sequence on every platform.
///
/// ```
/// use accrual_eval::Rng;
///
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!((0.0..1.0).contains(&a.unit()));
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// The state's step per draw (the golden ratio in 64 bits).
const STEP: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's finaliser: a bijection of 64-bit words that scatters every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Generator number `stream` of `seed`: one per peer of a simulated fleet, say. Streams of
    /// one seed are independent of one another, unlike `Rng::new(seed ^ stream)` or
    /// `Rng::new(seed + stream)`: this generator steps its state by a fixed constant, so
    /// generators started a few multiples of that step apart replay each other's sequence a
    /// few draws later; here the starting state is a hash of both numbers.
    ///
    /// ```
    /// use accrual_eval::Rng;
    ///
    /// let mut a = Rng::stream(7, 0);
    /// let mut b = Rng::stream(7, 1);
    /// let (x, y) = (a.next_u64(), b.next_u64());
    /// assert_ne!(x, y);
    /// assert_eq!(Rng::stream(7, 0).next_u64(), x);
    /// ```
    pub fn stream(seed: u64, stream: u64) -> Self {
        Rng(mix(mix(seed) ^ stream))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(STEP);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Pareto with minimum `scale` and tail index `alpha` (heavier for smaller `alpha`).
    pub fn pareto(&mut self, scale: f64, alpha: f64) -> f64 {
        scale / (1.0 - self.unit()).powf(1.0 / alpha)
    }

    /// Log-normal whose logarithm has mean `mu` and standard deviation `sigma`.
    pub fn log_normal(&mut self, mu: f64, sigma: f64) -> f64 {
        // Box–Muller.
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        (mu + sigma * z).exp()
    }
}
