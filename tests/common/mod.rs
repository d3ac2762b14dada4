//! Shared test helpers: a deterministic generator of heartbeat traces.
#![allow(dead_code)]

/// xorshift64*: small, seeded, deterministic.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// `(seq, recv_ns)` of a peer sending every `interval` ns from `start`, with exponential delay
/// of mean `jitter` ns, a loss probability, and an occasional long pause.
pub fn trace(seed: u64, n: usize, interval: u64, jitter: f64, loss: f64) -> Vec<(u64, u64)> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(n);
    let mut seq = 0u64;
    let mut last = 0u64;
    while out.len() < n {
        seq += 1;
        let mut sent = 1_000_000_000 + seq * interval;
        if rng.unit() < 0.002 {
            sent += interval * 20; // a sender stall
        }
        if rng.unit() < loss {
            continue;
        }
        let recv = (sent + rng.exp(jitter) as u64).max(last);
        last = recv;
        out.push((seq, recv));
    }
    out
}

/// One detector of every kind with its default configuration (both tails for φ-normal).
pub fn every_detector() -> Vec<Box<dyn accrual::Detector>> {
    use accrual::*;
    vec![
        Box::new(PhiNormal::new(PhiNormalConfig::default()).unwrap()),
        Box::new(
            PhiNormal::new(PhiNormalConfig {
                tail: Tail::Logistic,
                ..Default::default()
            })
            .unwrap(),
        ),
        Box::new(PhiExponential::new(PhiExponentialConfig::default()).unwrap()),
        Box::new(Chen::new(ChenConfig::default()).unwrap()),
        Box::new(Fixed::new(FixedConfig::default()).unwrap()),
        Box::new(Adaptive::new(AdaptiveConfig::default()).unwrap()),
    ]
}
