//! φ of `accrual` and of the published Rust φ crates on the same inputs, against the exact
//! value: the correctness table beside the speed table of `BENCHMARKS.md`.
//!
//! Every detector receives the same 1000 intervals, alternately 98 ms and 102 ms, so the window
//! has mean μ = 100 ms and population standard deviation σ = 2 ms exactly. φ is then asked at
//! elapsed times `t = μ + z·σ` (whole milliseconds, so that the crates that count in
//! milliseconds lose nothing to rounding), and compared with the exact `−log10 Q(z)`, which
//! `accrual::math::phi_of_z` computes and 50-digit mpmath values below confirm.
//!
//! Each crate is configured as close to that model as it allows: a window of 1000 where it has
//! one, no acceptable pause, a standard-deviation floor below σ.
//!
//! Run with `cargo run --release --example peers_correctness`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use accrual::math::phi_of_z;
use accrual::{Detector, Nanos, PhiNormal, PhiNormalConfig};

const MS: u64 = 1_000_000;
const INTERVALS: u64 = 1000;

/// `(z, −log10 Q(z))` from mpmath at 50 digits
/// (`mpmath.log10(2 / mpmath.erfc(z / mpmath.sqrt(2)))`); the value at 0 is `log10 2`, kept
/// as mpmath printed it.
#[allow(clippy::approx_constant)]
const MPMATH: [(f64, f64); 12] = [
    (-1.0, 0.075_026_012_957_818_02),
    (0.0, 0.301_029_995_663_981_2),
    (1.0, 0.799_545_541_491_970_5),
    (2.0, 1.643_016_080_140_937),
    (3.0, 2.869_699_035_929_369),
    (4.0, 4.499_334_907_556_479),
    (5.0, 6.542_645_672_390_654),
    (6.0, 9.005_864_327_476_704),
    (8.0, 15.206_142_551_017_155),
    (10.0, 23.118_053_405_486_076),
    (20.0, 88.560_095_343_075_59),
    (40.0, 349.437_006_459_345_84),
];

/// The injected clock of `phi-accrual-failure-detector`: an instant in ns that the caller sets.
#[derive(Clone, Default)]
struct SetClock(Rc<Cell<u64>>);

impl phi_accrual_failure_detector::Clock for SetClock {
    type Timestamp = u64;

    fn timestamp(&self) -> u64 {
        self.0.get()
    }

    fn elapsed(before: &u64, after: &u64) -> Duration {
        Duration::from_nanos(after.saturating_sub(*before))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    use phi_accrual_failure_detector::Detector as _;

    // Arrival instants: the first at 1 s, then 98 ms and 102 ms alternately.
    let mut arrivals = vec![1_000 * MS];
    for i in 0..INTERVALS {
        let dt = if i % 2 == 0 { 98 * MS } else { 102 * MS };
        arrivals.push(arrivals[arrivals.len() - 1] + dt);
    }
    let last = arrivals[arrivals.len() - 1];

    // accrual: the exact normal model, window 1000, no floor.
    let mut ours = PhiNormal::new(PhiNormalConfig {
        first_interval: Nanos(100 * MS),
        ..PhiNormalConfig::default()
    })?;
    // phi-detector 0.4.0: a window seeded with one reference interval, fed intervals.
    let mut ping = phi_detector::PingWindow::new(Duration::from_millis(100));
    // phi-accrual-failure-detector 0.1.0 (Pekko's algorithm), clock injected.
    let clock = SetClock::default();
    let pekko = phi_accrual_failure_detector::UnsyncDetector::builder()
        .max_sample_size(INTERVALS as usize)
        .min_std_deviation(Duration::from_millis(1))
        .acceptable_heartbeat_pause(Duration::ZERO)
        .first_heartbeat_estimate(Duration::from_millis(100))
        .clock(clock.clone())
        .build()
        .map_err(|e| format!("phi-accrual-failure-detector: {e}"))?;
    // phi-accrual 0.1.0: instants passed in.
    let mut cstorey = phi_accrual::PhiFailureDetector::new().history_size(INTERVALS as usize);

    for (i, &at) in arrivals.iter().enumerate() {
        ours.heartbeat(Nanos(at));
        if i > 0 {
            ping.add_ping(Duration::from_nanos(at - arrivals[i - 1]));
        }
        clock.0.set(at);
        pekko.heartbeat();
        cstorey.heartbeat(at);
    }
    if (ours.mean(), ours.std_dev()) != (100.0 * MS as f64, 2.0 * MS as f64) {
        return Err("the window should hold μ = 100 ms and σ = 2 ms exactly".into());
    }

    println!(
        "{:>7} {:>4} {:>10} {:>10} {:>17} {:>17} {:>17}",
        "elapsed", "z", "exact", "accrual", "phi-detector", "pekko port", "phi-accrual"
    );
    let mut worst: f64 = 0.0;
    for (z, reference) in MPMATH {
        let exact = phi_of_z(z);
        if (exact - reference).abs() > 1e-12 * reference {
            return Err(format!("phi_of_z({z}) = {exact}, mpmath says {reference}").into());
        }
        let elapsed_ms = (100.0 + 2.0 * z) as u64;
        let now = last + elapsed_ms * MS;
        let a = ours.phi(Nanos(now));
        let p = ping.normal_dist().phi(Duration::from_millis(elapsed_ms));
        clock.0.set(now);
        let k = pekko.phi();
        let c = cstorey.phi(now);
        worst = worst.max((a - exact).abs() / exact);
        println!(
            "{:>5}ms {:>4} {:>10} {:>10} {:>17} {:>17} {:>17}",
            elapsed_ms,
            z,
            fmt(exact),
            fmt(a),
            with_error(p, exact),
            with_error(k, exact),
            with_error(c, exact),
        );
    }
    println!("accrual's largest relative error: {worst:.1e}");
    if worst > 1e-12 {
        return Err("accrual strays from the exact value".into());
    }
    Ok(())
}

/// φ with 4 significant digits, or `inf`/`NaN` as they are.
fn fmt(phi: f64) -> String {
    if phi.is_finite() {
        format!("{phi:.4}")
    } else {
        format!("{phi}")
    }
}

/// φ and its relative error against the exact value, as a percentage.
fn with_error(phi: f64, exact: f64) -> String {
    if phi.is_finite() {
        format!("{} ({:+.0}%)", fmt(phi), 100.0 * (phi - exact) / exact)
    } else {
        fmt(phi)
    }
}
