//! The empirical detector against a brute-force model of its survival function, its long
//! memory against a 1000-sample window, and its tail.

mod common;

use accrual::{Detector, Empirical, EmpiricalConfig, Nanos, PhiNormal, PhiNormalConfig};

/// Brute force: the same model, from a plain list of intervals rounded to the histogram's
/// buckets (read from a separate HDR histogram of the same precision).
fn brute_phi(intervals: &[u64], t: u64, tail_samples: usize, min_tail: f64) -> f64 {
    let h = hdrhistogram::Histogram::<u32>::new_with_bounds(1_000, 3_600_000_000_000, 2).unwrap();
    let bucket_top = |v: u64| h.highest_equivalent(v);
    let mut xs: Vec<u64> = intervals.iter().map(|&v| bucket_top(v)).collect();
    xs.sort_unstable();
    let n = xs.len() as f64;
    let top = *xs.last().unwrap() as f64;
    let m = tail_samples.min(xs.len());
    let u = xs[xs.len() - m] as f64;
    let excess: f64 = xs.iter().map(|&x| (x as f64 - u).max(0.0)).sum();
    let theta = (excess / m as f64).max(min_tail).max(1.0);
    let ln_s = if (t as f64) < top {
        let above = xs.iter().filter(|&&x| x > bucket_top(t)).count() as f64;
        ((above + 1.0) / (n + 1.0)).ln()
    } else {
        -(t as f64 - top) / theta - (n + 1.0).ln()
    };
    -ln_s / std::f64::consts::LN_10
}

#[test]
fn phi_matches_brute_force_inside_and_beyond_the_observed_range() {
    let trace = common::trace(9, 2_000, 100_000_000, 8e6, 0.01);
    let mut d = Empirical::new(EmpiricalConfig::default()).unwrap();
    let mut intervals = Vec::new();
    for w in trace.windows(2) {
        intervals.push(w[1].1 - w[0].1);
    }
    for &(_, at) in &trace {
        d.heartbeat(Nanos(at));
    }
    let last = d.last_arrival().unwrap();
    assert_eq!(d.intervals(), intervals.len() as u64);
    for ms in [
        0u64, 50, 99, 100, 105, 120, 150, 300, 1_000, 2_500, 5_000, 60_000,
    ] {
        let t = ms * 1_000_000;
        let got = d.phi(last + Nanos(t));
        let want = brute_phi(&intervals, t, 10, 1e6);
        assert!(
            (got - want).abs() <= 1e-9 * want.max(1.0),
            "{ms} ms: {got} vs {want}"
        );
    }
}

#[test]
fn deadline_is_exact_for_the_model() {
    let trace = common::trace(10, 3_000, 100_000_000, 5e6, 0.02);
    let mut d = Empirical::new(EmpiricalConfig::default()).unwrap();
    for &(seq, at) in &trace {
        d.heartbeat_seq(Nanos(at), seq);
    }
    for threshold in [0.5, 1.0, 2.0, 3.0, 3.4, 4.0, 8.0, 16.0, 100.0] {
        let tau = d.deadline(threshold).unwrap();
        assert!(
            d.phi(tau) < threshold,
            "Φ {threshold}: φ(τ) = {}",
            d.phi(tau)
        );
        assert!(d.phi(tau + Nanos(1)) >= threshold - 1e-9, "Φ {threshold}");
    }
}

#[test]
fn rare_pauses_are_remembered_far_longer_than_a_1000_sample_window() {
    // 100 ms heartbeats, and a 3 s pause every 5 minutes, for 40 minutes.
    let mut empirical = Empirical::new(EmpiricalConfig::default()).unwrap();
    let mut normal = PhiNormal::new(PhiNormalConfig {
        first_interval: Nanos::from_millis(100),
        ..Default::default()
    })
    .unwrap();
    let mut t = Nanos::ZERO;
    let mut since_pause = Nanos::ZERO;
    while t < Nanos::from_secs(2_400) {
        let step = if since_pause >= Nanos::from_secs(300) {
            since_pause = Nanos::ZERO;
            Nanos::from_secs(3)
        } else {
            Nanos::from_millis(100)
        };
        t += step;
        since_pause += step;
        empirical.heartbeat(t);
        normal.heartbeat(t);
    }
    // Over 2000 intervals since the last pause: the normal window forgot every pause, the
    // empirical histogram (one hour) holds all seven.
    assert!(since_pause > Nanos::from_secs(200));
    let silence = t + Nanos::from_millis(2_500);
    let (pe, pn) = (empirical.phi(silence), normal.phi(silence));
    println!("after 2.5 s of silence: empirical φ = {pe:.2}, normal φ = {pn:.2e}");
    assert!(pe < 5.0, "{pe}");
    assert!(pn > 1e6, "{pn}");
}

#[test]
fn phi_keeps_rising_beyond_everything_seen_and_stays_finite() {
    let mut d = Empirical::new(EmpiricalConfig::default()).unwrap();
    for i in 0..500u64 {
        d.heartbeat(Nanos::from_millis(100 * i));
    }
    let last = d.last_arrival().unwrap();
    let mut previous = 0.0;
    for s in [1u64, 10, 100, 10_000, 1_000_000, u64::MAX / 1_000_000_000] {
        let p = d.phi(last + Nanos::from_secs(s));
        assert!(p.is_finite() && p > previous, "{s} s: {p}");
        previous = p;
    }
}

#[test]
fn before_any_interval_phi_is_exponential_in_the_prior() {
    let mut d = Empirical::new(EmpiricalConfig::default()).unwrap();
    assert_eq!(d.phi(Nanos::from_secs(5)), 0.0);
    d.heartbeat(Nanos::from_secs(1));
    let p = d.phi(Nanos::from_secs(1) + Nanos(2_302_585_093));
    assert!((p - 1.0).abs() < 1e-9, "{p}");
    assert_eq!(
        d.deadline(1.0),
        Some(Nanos::from_secs(1) + Nanos(2_302_585_092))
    );
}
