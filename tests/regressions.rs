//! One test per class of bug found in published failure detectors (see the design notes), each
//! showing this crate does not have it.

mod common;

use accrual::math::PHI_MAX;
use accrual::{
    Arrival, Chen, ChenConfig, Detector, Nanos, PhiExponential, PhiExponentialConfig, PhiNormal,
    PhiNormalConfig, Tail,
};

fn normal(window: usize, first: Nanos) -> PhiNormal {
    PhiNormal::new(PhiNormalConfig {
        window,
        first_interval: first,
        ..Default::default()
    })
    .unwrap()
}

/// phi-accrual-failure-detector 0.1.0 kept every sample, so the mean decayed towards the
/// history instead of following the last `window` intervals.
#[test]
fn window_drops_old_samples() {
    let mut d = normal(100, Nanos::from_secs(1));
    let mut t = Nanos::ZERO;
    for _ in 0..500 {
        t += Nanos::from_secs(1);
        d.heartbeat(t);
    }
    for _ in 0..100 {
        t += Nanos::from_millis(100);
        d.heartbeat(t);
    }
    assert_eq!(d.mean(), 100_000_000.0);
    assert_eq!(d.window().len(), 100);
}

/// phi-accrual 0.1.0 inverted the mean: longer intervals made the same silence *more*
/// suspicious. φ must fall as the learned mean grows, and equal −log10 ½ at the mean.
#[test]
fn longer_mean_means_less_suspicion() {
    let mut fast = normal(10, Nanos::from_millis(100));
    let mut slow = normal(10, Nanos::from_secs(2));
    for i in 0..20 {
        fast.heartbeat(Nanos::from_millis(100 * i + (i % 2) * 10));
        slow.heartbeat(Nanos::from_secs(2 * i) + Nanos::from_millis((i % 2) * 10));
    }
    let silence = Nanos::from_millis(500);
    assert!(
        fast.phi(fast.last_arrival().unwrap() + silence)
            > slow.phi(slow.last_arrival().unwrap() + silence)
    );
    let at_mean = slow.last_arrival().unwrap() + Nanos(slow.mean() as u64);
    assert!((slow.phi(at_mean) - 2f64.log10()).abs() < 1e-9);
}

/// phi-accrual-detector 0.3.1 mis-scaled erf; φ at z standard deviations must be −log10 Q(z).
#[test]
fn phi_at_one_threshold_sigma_is_one() {
    let mut d = normal(2, Nanos::from_secs(1));
    d.heartbeat(Nanos::from_secs(10));
    d.heartbeat(Nanos::from_millis(10_900));
    d.heartbeat(Nanos::from_millis(12_000)); // window: 900 ms, 1100 ms
    let last = Nanos::from_millis(12_000);
    // z(φ = 1) = 1.2815515655446004 (mpmath): μ + σ·z = 1000 + 128.155... ms
    assert!((d.phi(last + Nanos(1_128_155_157)) - 1.0).abs() < 1e-8);
}

/// Identical intervals: a naive σ of 0 divides by zero (NaN or ∞). Without a floor the window
/// is a point mass: φ is 0 up to the mean and PHI_MAX after, both finite, and the deadline is
/// the spec's `A + μ`.
#[test]
fn identical_intervals_give_finite_phi() {
    let mut d = normal(1000, Nanos::from_millis(100));
    for i in 0..2_000u64 {
        d.heartbeat(Nanos::from_millis(100 * i));
    }
    let last = d.last_arrival().unwrap();
    assert_eq!(d.std_dev(), 0.0);
    assert_eq!(d.deadline(8.0), Some(last + Nanos::from_millis(100)));
    assert_eq!(d.phi(last + Nanos::from_millis(100)), 0.0);
    assert_eq!(d.phi(last + Nanos::from_millis(100) + Nanos(1)), PHI_MAX);
    // With a floor on σ the curve is smooth again.
    let mut floored = PhiNormal::new(PhiNormalConfig {
        min_std: Nanos::from_millis(1),
        first_interval: Nanos::from_millis(100),
        ..Default::default()
    })
    .unwrap();
    for i in 0..2_000u64 {
        floored.heartbeat(Nanos::from_millis(100 * i));
    }
    let p = floored.phi(last + Nanos::from_millis(102));
    assert!((p - 1.643016080140937).abs() < 1e-9, "{p}"); // z = 2
}

/// Millisecond clocks collapse sub-millisecond LAN intervals to zero variance. Here a 200 µs
/// heartbeat with ±5 µs jitter keeps its exact spread.
#[test]
fn sub_millisecond_intervals_keep_their_spread() {
    let mut d = normal(1000, Nanos::from_micros(200));
    let mut t = 0u64;
    for i in 0..3_000u64 {
        t += if i % 2 == 0 { 195_000 } else { 205_000 };
        d.heartbeat(Nanos(t));
    }
    assert_eq!(d.mean(), 200_000.0);
    assert_eq!(d.std_dev(), 5_000.0);
    let last = d.last_arrival().unwrap();
    // 240 µs of silence is 8σ late: φ = −log10 Q(8) = 15.20614 (mpmath).
    assert!((d.phi(last + Nanos::from_micros(240)) - 15.206142551).abs() < 1e-8);
}

/// With one heartbeat there is no interval: φ and the deadline come from the prior, not from a
/// degenerate one-sample σ.
#[test]
fn one_sample_history_uses_the_prior() {
    let mut d = normal(1000, Nanos::from_millis(400));
    d.heartbeat(Nanos::from_secs(5));
    // Prior window: 300 ms and 500 ms → μ = 400 ms, σ = 100 ms.
    assert_eq!(d.mean(), 400_000_000.0);
    assert_eq!(d.std_dev(), 100_000_000.0);
    let p = d.phi(Nanos::from_secs(5) + Nanos::from_millis(600));
    assert!((p - 1.643016080140937).abs() < 1e-9);

    let mut e = PhiExponential::new(PhiExponentialConfig::default()).unwrap();
    e.heartbeat(Nanos::from_secs(5));
    assert!(e.phi(Nanos::from_secs(6)).is_finite());
    let mut c = Chen::new(ChenConfig::default()).unwrap();
    c.heartbeat(Nanos::from_secs(5));
    assert_eq!(c.deadline(1.0), Some(Nanos::from_millis(6_500)));
}

/// A clock that goes backwards (or calls reordered between threads): no panic, no negative or
/// wrapped interval, the model unchanged, and the event counted.
#[test]
fn clock_going_backwards_is_ignored_and_counted() {
    let mut detectors = common::every_detector();
    for d in &mut detectors {
        for i in 1..=10u64 {
            assert_eq!(d.heartbeat(Nanos::from_secs(i)), Arrival::Accepted);
        }
        let before = (d.deadline(8.0), d.phi(Nanos::from_millis(10_500)));
        assert_eq!(d.heartbeat(Nanos::from_secs(3)), Arrival::Backwards);
        assert_eq!(d.heartbeat(Nanos::ZERO), Arrival::Backwards);
        assert_eq!((d.deadline(8.0), d.phi(Nanos::from_millis(10_500))), before);
        assert_eq!(d.last_arrival(), Some(Nanos::from_secs(10)));
        assert_eq!(d.arrivals().backwards, 2);
        // A query before the last arrival sees zero elapsed time, not a huge one.
        assert_eq!(d.phi(Nanos::from_secs(2)), d.phi(Nanos::from_secs(10)));
        assert!(d.phi(Nanos::from_secs(2)) < 1.0);
    }
}

/// Duplicates and reordered datagrams by sequence number are ignored and counted.
#[test]
fn stale_sequence_numbers_are_ignored_and_counted() {
    let mut d = normal(100, Nanos::from_secs(1));
    assert_eq!(d.heartbeat_seq(Nanos::from_secs(1), 5), Arrival::Accepted);
    assert_eq!(d.heartbeat_seq(Nanos::from_secs(2), 5), Arrival::Stale);
    assert_eq!(d.heartbeat_seq(Nanos::from_secs(3), 4), Arrival::Stale);
    assert_eq!(d.heartbeat_seq(Nanos::from_secs(4), 7), Arrival::Accepted);
    let c = d.arrivals();
    assert_eq!((c.accepted, c.stale, c.backwards), (2, 2, 0));
    assert_eq!(d.last_arrival(), Some(Nanos::from_secs(4)));
}

/// Akka's φ becomes +∞ beyond ~21.6σ; the exact tail and the logistic here stay finite
/// and increasing all the way to the end of time.
#[test]
fn phi_stays_finite_to_the_end_of_time() {
    for tail in [Tail::Normal, Tail::Logistic] {
        let mut d = PhiNormal::new(PhiNormalConfig {
            tail,
            first_interval: Nanos::from_millis(100),
            min_std: Nanos::from_millis(1),
            ..Default::default()
        })
        .unwrap();
        d.heartbeat(Nanos::from_secs(1));
        let mut prev = 0.0;
        for ms in [
            100,
            125,
            200,
            1_000,
            60_000,
            3_600_000,
            u64::MAX / 1_000_000,
        ] {
            let p = d.phi(Nanos::from_secs(1) + Nanos::from_millis(ms));
            assert!(p.is_finite() && p >= prev, "{tail:?} {ms} ms: {p}");
            prev = p;
        }
        assert!(prev > 1e10);
    }
}
