//! Detectors against independent truth: Akka's published table, 60-digit reference values,
//! and the deadlines of `qos-spec.md` §4 recomputed from scratch.

// Reference values are quoted as mpmath printed them, beyond f64 precision.
#![allow(clippy::excessive_precision)]

mod common;

use accrual::{
    Chen, ChenConfig, Detector, Fixed, FixedConfig, Nanos, PhiExponential, PhiExponentialConfig,
    PhiNormal, PhiNormalConfig, Tail,
};

/// z with −log10 Q(z) = 8, from tests/data/normal_reference.csv (mpmath, 60 digits).
const Z8: f64 = 5.6120012441747887315497253314;
/// z with −log10 Q(z) = 3.
const Z3: f64 = 3.09023230616781354154039983011;

/// A detector whose window holds exactly μ = 1000 ms, σ = 100 ms, last arrival at `last`.
fn mu1000_sigma100(tail: Tail) -> (PhiNormal, Nanos) {
    let cfg = PhiNormalConfig {
        window: 10,
        tail,
        ..Default::default()
    };
    let mut d = PhiNormal::new(cfg).unwrap();
    let mut t = Nanos::from_secs(100);
    d.heartbeat(t);
    for i in 0..10 {
        t += Nanos::from_millis(if i % 2 == 0 { 900 } else { 1_100 });
        d.heartbeat(t);
    }
    assert_eq!(d.mean(), 1e9);
    assert_eq!(d.std_dev(), 1e8);
    (d, t)
}

#[test]
fn logistic_tail_reproduces_akkas_published_table() {
    let (d, last) = mu1000_sigma100(Tail::Logistic);
    let table = [
        (0, 0.0),
        (500, 0.1),
        (1_000, 0.3),
        (1_200, 1.6),
        (1_400, 4.7),
        (1_600, 10.8),
        (1_700, 15.3),
    ];
    for (ms, want) in table {
        let got = d.phi(last + Nanos::from_millis(ms));
        assert!(
            (got - want).abs() <= 0.1,
            "{ms} ms: φ = {got}, Akka says {want}"
        );
    }
    // Where Akka's own code overflows to +∞ (beyond ~21.6σ), this stays finite.
    assert!(d.phi(last + Nanos::from_secs(10)).is_finite());
    assert!(d.phi(Nanos::MAX).is_finite());
}

#[test]
fn normal_tail_is_exact_on_the_same_window() {
    let (d, last) = mu1000_sigma100(Tail::Normal);
    // −log10 Q(z) for z = 0, 2, 4, 6 (mpmath, 60 digits).
    let exact = [
        (1_000, std::f64::consts::LOG10_2),
        (1_200, 1.64301608014093704798436636735),
        (1_400, 4.49933490755647886477878488857),
        (1_600, 9.00586432747670420919629783153),
    ];
    for (ms, want) in exact {
        let got = d.phi(last + Nanos::from_millis(ms));
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "{ms} ms: {got} vs {want}"
        );
    }
    // And its deadline for Φ = 8 is μ + σ·z(8), rounded down.
    let want = last + Nanos((1e9 + 1e8 * Z8).floor() as u64);
    assert_eq!(d.deadline(8.0), Some(want));
}

/// φ of `d` after `elapsed` from its window's exact sums, recomputed here in 128-bit integers:
/// `z = (n·(elapsed − pause) − S)/(n·σ')`.
fn phi_from_sums(d: &PhiNormal, elapsed: u64) -> f64 {
    let n = d.window().len() as i128;
    let s = d.window().sum() as i128;
    let pause = i128::from(d.config().acceptable_pause.as_nanos());
    let excess = (i128::from(elapsed) - pause) * n - s;
    accrual::math::phi_of_z(excess as f64 / (n as f64 * d.std_dev()))
}

#[test]
fn phi_normal_is_exact_across_the_edges_of_its_fast_path() {
    // A φ query takes a fast path while |elapsed − pause|·n stays below 2^50 (2^48 ns, some 78
    // hours, for this window of 4), and a 128-bit one beyond: both must give the same φ on
    // either side of the edges, and the fast path must never take an elapsed time near the end
    // of the clock's range for a short one.
    for pause in [0, 2_000_000_000, 1 << 49, 1 << 53] {
        let mut d = PhiNormal::new(PhiNormalConfig {
            window: 4,
            acceptable_pause: Nanos(pause),
            ..Default::default()
        })
        .unwrap();
        let mut t = Nanos::from_secs(100);
        d.heartbeat(t);
        for i in 0..4 {
            t += Nanos::from_millis(if i % 2 == 0 { 900 } else { 1_100 });
            d.heartbeat(t);
        }
        let bound: u64 = (1 << 50) / 4;
        let mut elapsed = vec![0, 1, pause, u64::MAX - t.as_nanos(), (1 << 63) + pause];
        for edge in [pause.saturating_sub(bound), pause + bound] {
            elapsed.extend((edge.saturating_sub(2)..=edge + 2).filter(|&e| e <= u64::MAX / 2));
        }
        elapsed.sort_unstable();
        let mut previous = 0.0;
        for e in elapsed {
            let got = d.phi(t + Nanos(e));
            let want = phi_from_sums(&d, e);
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "pause {pause}, elapsed {e}: {got} vs {want}"
            );
            assert!(got >= previous, "pause {pause}, elapsed {e}: φ fell");
            previous = got;
        }
    }
}

/// The §4 deadline of `phi-normal`/`phi-akka`, recomputed from scratch: the window is the last
/// `n` of [seeds, intervals], statistics by two-pass floating point.
fn spec_phi_deadline(
    arrivals: &[u64],
    n: usize,
    first: u64,
    min_std: f64,
    pause: u64,
    z: f64,
) -> Vec<u64> {
    let mut values: Vec<f64> = vec![(first - first / 4) as f64, (first + first / 4) as f64];
    let mut out = Vec::new();
    for k in 0..arrivals.len() {
        if k > 0 {
            values.push((arrivals[k] - arrivals[k - 1]) as f64);
        }
        let w = &values[values.len().saturating_sub(n)..];
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64;
        let offset = mean + pause as f64 + var.sqrt().max(min_std) * z;
        out.push(arrivals[k] + offset.max(0.0).floor() as u64);
    }
    out
}

/// Equal, or one apart where the exact offset is within float noise of a whole nanosecond.
fn assert_deadlines(got: &[u64], want: &[u64], what: &str) {
    assert_eq!(got.len(), want.len());
    let mut off_by_one = 0;
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            assert_eq!(g.abs_diff(*w), 1, "{what}: arrival {k}: {g} vs {w}");
            off_by_one += 1;
        }
    }
    assert!(
        off_by_one * 1000 <= got.len(),
        "{what}: {off_by_one} of {} deadlines one ns apart",
        got.len()
    );
}

fn deadlines(d: &mut dyn Detector, trace: &[(u64, u64)], threshold: f64) -> Vec<u64> {
    trace
        .iter()
        .map(|&(seq, at)| {
            d.heartbeat_seq(Nanos(at), seq);
            d.deadline(threshold).unwrap().as_nanos()
        })
        .collect()
}

#[test]
fn phi_normal_deadlines_match_spec_section_4() {
    for (seed, window, min_std, pause) in [
        (1, 1000, 0u64, 0u64),
        (2, 50, 2_000_000, 0),
        (3, 7, 0, 100_000_000),
        (4, 1, 0, 0),
    ] {
        let trace = common::trace(seed, 3_000, 100_000_000, 3e6, 0.01);
        let arrivals: Vec<u64> = trace.iter().map(|t| t.1).collect();
        let cfg = PhiNormalConfig {
            window,
            min_std: Nanos(min_std),
            acceptable_pause: Nanos(pause),
            first_interval: Nanos::from_millis(100),
            ..Default::default()
        };
        for (phi, z) in [(8.0, Z8), (3.0, Z3)] {
            let mut d = PhiNormal::new(cfg.clone()).unwrap();
            let got = deadlines(&mut d, &trace, phi);
            let want = spec_phi_deadline(&arrivals, window, 100_000_000, min_std as f64, pause, z);
            assert_deadlines(&got, &want, &format!("phi-normal seed {seed} Φ {phi}"));
        }
    }
}

/// Akka's z for Φ, by bisection on its logistic formula (independent of the library's Cardano).
fn akka_z(phi: f64) -> f64 {
    let c = (10f64.powf(phi) - 1.0).ln();
    let (mut lo, mut hi) = (-100.0f64, 100.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid * (1.5976 + 0.070566 * mid * mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn phi_akka_deadlines_match_spec_section_4() {
    let trace = common::trace(11, 3_000, 100_000_000, 5e6, 0.02);
    let arrivals: Vec<u64> = trace.iter().map(|t| t.1).collect();
    let cfg = PhiNormalConfig {
        window: 200,
        tail: Tail::Logistic,
        first_interval: Nanos::from_millis(100),
        ..Default::default()
    };
    for phi in [1.0, 8.0, 12.0] {
        let mut d = PhiNormal::new(cfg.clone()).unwrap();
        let got = deadlines(&mut d, &trace, phi);
        let want = spec_phi_deadline(&arrivals, 200, 100_000_000, 0.0, 0, akka_z(phi));
        assert_deadlines(&got, &want, &format!("phi-akka Φ {phi}"));
    }
}

#[test]
fn phi_exp_deadlines_match_spec_section_4() {
    let trace = common::trace(21, 3_000, 100_000_000, 5e6, 0.02);
    for window in [1, 30, 1000] {
        let cfg = PhiExponentialConfig {
            window,
            first_interval: Nanos::from_millis(250),
        };
        let mut d = PhiExponential::new(cfg).unwrap();
        let got = deadlines(&mut d, &trace, 8.0);
        let mut values = vec![250_000_000f64];
        let want: Vec<u64> = trace
            .iter()
            .enumerate()
            .map(|(k, &(_, at))| {
                if k > 0 {
                    values.push((at - trace[k - 1].1) as f64);
                }
                let w = &values[values.len().saturating_sub(window)..];
                let mean = w.iter().sum::<f64>() / w.len() as f64;
                at + (8.0 * std::f64::consts::LN_10 * mean).floor() as u64
            })
            .collect();
        assert_deadlines(&got, &want, &format!("phi-exp window {window}"));
    }
}

#[test]
fn chen_deadlines_match_spec_section_4() {
    let trace = common::trace(31, 3_000, 100_000_000, 5e6, 0.05);
    for (window, alpha) in [(1, 0u64), (100, 30_000_000), (1000, 250_000_000)] {
        let eta = 100_000_000u64;
        let cfg = ChenConfig {
            window,
            interval: Nanos(eta),
            alpha: Nanos(alpha),
        };
        let mut d = Chen::new(cfg).unwrap();
        let got = deadlines(&mut d, &trace, 8.0);
        // EA = mean(A_i − η·s_i) + (s_k + 1)·η, in f64 over the last n arrivals.
        let want: Vec<u64> = (0..trace.len())
            .map(|k| {
                let w = &trace[(k + 1).saturating_sub(window)..=k];
                let mean = w
                    .iter()
                    .map(|&(s, a)| a as f64 - eta as f64 * s as f64)
                    .sum::<f64>()
                    / w.len() as f64;
                let ea = mean + (trace[k].0 + 1) as f64 * eta as f64;
                ((ea + alpha as f64).floor() as u64).max(trace[k].1)
            })
            .collect();
        assert_deadlines(&got, &want, &format!("chen window {window}"));
    }
}

#[test]
fn fixed_deadline_is_arrival_plus_timeout() {
    let trace = common::trace(41, 500, 100_000_000, 5e6, 0.05);
    let mut d = Fixed::new(FixedConfig {
        timeout: Nanos::from_millis(350),
    })
    .unwrap();
    for (seq, at) in trace {
        d.heartbeat_seq(Nanos(at), seq);
        assert_eq!(d.deadline(3.0), Some(Nanos(at + 350_000_000)));
        assert_eq!(d.phi(Nanos(at + 350_000_000)), 0.0);
        assert!(d.phi(Nanos(at + 350_000_001)) >= 3.0);
    }
}

#[test]
fn phi_reaches_the_threshold_at_the_deadline_for_realistic_spreads() {
    // With σ' of a few ms or more, φ rises by less than 1e−6 per ns, so φ at the rounded-down
    // deadline is within 1e−6 of Φ, and below Φ one nanosecond earlier.
    let trace = common::trace(51, 2_000, 100_000_000, 5e6, 0.01);
    for tail in [Tail::Normal, Tail::Logistic] {
        let cfg = PhiNormalConfig {
            min_std: Nanos::from_millis(5),
            tail,
            first_interval: Nanos::from_millis(100),
            ..Default::default()
        };
        let mut d = PhiNormal::new(cfg).unwrap();
        for &(_, at) in &trace {
            d.heartbeat(Nanos(at));
            for threshold in [0.5, 1.0, 3.0, 8.0, 16.0] {
                let t = d.deadline(threshold).unwrap();
                let at_t = d.phi(t);
                assert!(
                    (at_t - threshold).abs() <= 1e-6,
                    "{tail:?} Φ {threshold}: {at_t}"
                );
                assert!(d.phi(t - Nanos(1)) < threshold);
                assert!(d.phi(t + Nanos(1)) >= threshold);
            }
        }
    }
}

#[test]
fn meaning_reports_timeout_and_probability() {
    let (d, last) = mu1000_sigma100(Tail::Normal);
    let m = d.meaning(8.0);
    assert_eq!(m.timeout, Some(d.deadline(8.0).unwrap() - last));
    assert_eq!(m.false_suspicion_probability, Some(1e-8));
    assert!(m.to_string().contains("suspect after 1.561200124s"), "{m}");
    let f = Fixed::new(FixedConfig::default()).unwrap();
    assert_eq!(f.meaning(8.0).timeout, None);
    assert_eq!(f.meaning(8.0).false_suspicion_probability, None);
}
