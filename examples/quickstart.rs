//! A detector at work: a peer heartbeats every 100 ms with jitter on a simulated clock, then
//! falls silent. Prints what the detector learned, what its thresholds mean, and every change of
//! level with the instant it happened.
//!
//! Run with `cargo run --release --example quickstart`.

use std::io::Write;

use accrual::{
    Clock, Detector, Fixed, FixedConfig, ManualClock, Nanos, PhiNormal, PhiNormalConfig, Preset,
    Suspicion, SuspicionConfig, Tail,
};

/// A small deterministic generator (xorshift64*), so every run prints the same thing.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A delay of about `scale` ns with an exponential tail.
    fn jitter(&mut self, scale: f64) -> Nanos {
        Nanos((-scale * (1.0 - self.next_f64()).ln()) as u64)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Write through a handle so that a closed pipe (`| head`) ends the program with an error
    // instead of a panic.
    let mut out = std::io::stdout().lock();
    let clock = ManualClock::new(Nanos::ZERO);
    let interval = Nanos::from_millis(100);
    let mut rng = Rng(0x5eed);

    let mut exact = PhiNormal::new(PhiNormalConfig::preset(Preset::Lan, interval))?;
    let mut akka = PhiNormal::new(PhiNormalConfig {
        tail: Tail::Logistic,
        ..PhiNormalConfig::preset(Preset::Lan, interval)
    })?;
    let mut fixed = Fixed::new(FixedConfig {
        timeout: Nanos::from_millis(500),
    })?;
    let mut level = Suspicion::new(SuspicionConfig::default())?;

    // Five minutes of heartbeats: 100 ms apart, plus up to a few ms of network delay.
    let mut sent = Nanos::ZERO;
    for _ in 0..3_000 {
        sent += interval;
        let received = sent + rng.jitter(400_000.0);
        clock.set(received.max(clock.now()));
        let now = clock.now();
        exact.heartbeat(now);
        akka.heartbeat(now);
        fixed.heartbeat(now);
        if let Some(t) = level.update(now, exact.phi(now), exact.arrivals().accepted) {
            writeln!(out, "{t}")?;
        }
    }
    writeln!(
        out,
        "learned: mean interval {}, standard deviation in use {}",
        Nanos(exact.mean() as u64),
        Nanos(exact.std_dev() as u64)
    )?;
    for threshold in [1.0, 3.0, 8.0, 16.0] {
        writeln!(out, "  {}", exact.meaning(threshold))?;
    }

    // The peer dies. Sample φ every 10 ms until the state machine declares it dead.
    let last = exact.last_arrival().expect("heartbeats were recorded");
    writeln!(out, "\nsilence after the last heartbeat at {last}:")?;
    writeln!(
        out,
        "{:>8}  {:>10}  {:>10}  {:>6}",
        "silence", "φ exact", "φ akka", "fixed"
    )?;
    loop {
        let now = clock.advance(Nanos::from_millis(10));
        let phi = exact.phi(now);
        writeln!(
            out,
            "{:>8}  {:>10.3}  {:>10.3}  {:>6}",
            (now - last).to_string(),
            phi,
            akka.phi(now),
            if fixed.phi(now) > 0.0 { "late" } else { "ok" }
        )?;
        if let Some(t) = level.update(now, phi, exact.arrivals().accepted) {
            writeln!(out, "{t}")?;
            if t.to == accrual::Level::Dead {
                break;
            }
        }
    }
    Ok(())
}
