//! Property tests over arbitrary heartbeat sequences (duplicates, reordering, time going
//! backwards, huge timestamps) for every detector: no panic, φ finite and monotone, deadlines
//! consistent with φ, window statistics equal to a brute-force recomputation.

use accrual::{
    Adaptive, AdaptiveConfig, Arrival, Chen, ChenConfig, Detector, Empirical, EmpiricalConfig,
    Fixed, FixedConfig, HistogramConfig, Nanos, PhiExponential, PhiExponentialConfig, PhiNormal,
    PhiNormalConfig, Tail,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Advance time by this much and send a heartbeat.
    After(u64),
    /// A heartbeat at an absolute instant (may be earlier than the last, or huge).
    At(u64),
    /// A heartbeat with an explicit sequence number, after a delay.
    Seq(u64, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop_oneof![0u64..10, 90_000_000u64..110_000_000, 0u64..10_000_000_000]
            .prop_map(Op::After),
        1 => prop_oneof![any::<u64>(), u64::MAX - 1_000..=u64::MAX, 0u64..1_000_000_000]
            .prop_map(Op::At),
        2 => (0u64..200_000_000, prop_oneof![0u64..50, any::<u64>()])
            .prop_map(|(d, s)| Op::Seq(d, s)),
    ]
}

fn phi_normal_config() -> impl Strategy<Value = PhiNormalConfig> {
    (
        1usize..40,
        prop_oneof![Just(0u64), 1u64..1_000_000_000],
        prop_oneof![Just(0.0), 0.0f64..2.0],
        prop_oneof![Just(0u64), 1u64..10_000_000_000],
        prop_oneof![1u64..10, 1u64..1_000_000_000_000],
        prop_oneof![Just(Tail::Normal), Just(Tail::Logistic)],
    )
        .prop_map(
            |(window, min_std, ratio, pause, first, tail)| PhiNormalConfig {
                window,
                min_std: Nanos(min_std),
                min_std_ratio: ratio,
                acceptable_pause: Nanos(pause),
                first_interval: Nanos(first),
                tail,
            },
        )
}

fn any_detector() -> impl Strategy<Value = Box<dyn Detector>> {
    prop_oneof![
        phi_normal_config().prop_map(|c| Box::new(PhiNormal::new(c).unwrap()) as Box<dyn Detector>),
        (1usize..40, 1u64..1_000_000_000_000).prop_map(|(window, first)| Box::new(
            PhiExponential::new(PhiExponentialConfig {
                window,
                first_interval: Nanos(first)
            })
            .unwrap()
        )
            as Box<dyn Detector>),
        (1usize..40, 1u64..1_000_000_000, 0u64..1_000_000_000).prop_map(
            |(window, interval, alpha)| Box::new(
                Chen::new(ChenConfig {
                    window,
                    interval: Nanos(interval),
                    alpha: Nanos(alpha)
                })
                .unwrap()
            ) as Box<dyn Detector>
        ),
        (
            1usize..4,
            1u64..100_000,
            1u8..3,
            1u64..20,
            1u64..1_000_000_000
        )
            .prop_map(|(sub_windows, sub_ms, digits, tail, min_tail)| Box::new(
                Empirical::new(EmpiricalConfig {
                    histogram: HistogramConfig {
                        sub_windows,
                        sub_window: Nanos::from_millis(sub_ms),
                        significant_digits: digits,
                        ..Default::default()
                    },
                    tail_samples: tail,
                    min_tail: Nanos(min_tail),
                    ..Default::default()
                })
                .unwrap()
            )
                as Box<dyn Detector>),
        (1u64..10_000_000_000).prop_map(|t| Box::new(
            Fixed::new(FixedConfig { timeout: Nanos(t) }).unwrap()
        ) as Box<dyn Detector>),
        (
            1u64..10_000_000_000_000,
            1u64..10_000_000_000,
            1.0f64..30.0,
            1e-6f64..10.0,
            0u64..100_000_000_000_000,
            (0.0f64..20.0, 1u64..100_000_000_000),
        )
            .prop_map(
                |(memory, first, tail, ratio, horizon, (regime, window))| Box::new(
                    Adaptive::new(AdaptiveConfig {
                        memory: Nanos(memory),
                        first_interval: Nanos(first),
                        tail_samples: tail,
                        min_tail_ratio: ratio,
                        prior_pause: Nanos(first),
                        prior_horizon: Nanos(horizon),
                        regime_factor: regime,
                        regime_window: Nanos(window),
                    })
                    .unwrap()
                )
                    as Box<dyn Detector>
            ),
    ]
}

/// Applies one op; returns the instant used, and the sequence number if one was given.
fn apply(d: &mut dyn Detector, now: &mut u64, op: &Op) -> (Arrival, u64, Option<u64>) {
    match *op {
        Op::After(dt) => {
            *now = now.saturating_add(dt);
            (d.heartbeat(Nanos(*now)), *now, None)
        }
        Op::At(t) => {
            *now = t;
            (d.heartbeat(Nanos(t)), t, None)
        }
        Op::Seq(dt, s) => {
            *now = now.saturating_add(dt);
            (d.heartbeat_seq(Nanos(*now), s), *now, Some(s))
        }
    }
}

const THRESHOLDS: [f64; 6] = [1e-3, 0.3, 1.0, 8.0, 16.0, 60.0];

fn check_phi_and_deadlines(d: &dyn Detector, queries: &[u64]) -> Result<(), TestCaseError> {
    let Some(last) = d.last_arrival() else {
        for &q in queries {
            prop_assert_eq!(d.phi(Nanos(q)), 0.0);
        }
        prop_assert_eq!(d.deadline(8.0), None);
        return Ok(());
    };
    // Query instants: arbitrary ones, and around the last arrival and each deadline.
    let mut at: Vec<u64> = queries.to_vec();
    at.extend([0, last.0, last.0.saturating_add(1), u64::MAX]);
    for &th in &THRESHOLDS {
        if let Some(t) = d.deadline(th) {
            at.extend([t.0.saturating_sub(1), t.0, t.0.saturating_add(1)]);
        }
    }
    at.sort_unstable();
    let mut prev = 0.0;
    for &q in &at {
        let p = d.phi(Nanos(q));
        prop_assert!(p.is_finite() && p >= 0.0, "φ({}) = {}", q, p);
        prop_assert!(p >= prev, "φ fell from {} to {} at {}", prev, p, q);
        prev = p;
    }
    for &th in &THRESHOLDS {
        let tol = 1e-9 * th.max(1.0);
        let t = d.deadline(th);
        prop_assert!(t.is_some(), "no deadline for Φ = {}", th);
        let t = t.unwrap();
        prop_assert!(t >= last);
        if t > last {
            prop_assert!(d.phi(t) <= th + tol, "Φ {}: φ(τ) = {}", th, d.phi(t));
        }
        if t < Nanos::MAX {
            let after = d.phi(t + Nanos(1));
            prop_assert!(after >= th - tol, "Φ {}: φ(τ+1) = {}", th, after);
        }
    }
    prop_assert_eq!(d.deadline(f64::NAN), None);
    prop_assert_eq!(d.deadline(f64::INFINITY), None);
    prop_assert_eq!(d.deadline(-1.0), Some(last));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_detector_stays_consistent(
        mut d in any_detector(),
        ops in prop::collection::vec(op(), 0..60),
        queries in prop::collection::vec(any::<u64>(), 0..8),
    ) {
        let mut now = 1_000_000_000u64;
        for op in &ops {
            apply(d.as_mut(), &mut now, op);
            check_phi_and_deadlines(d.as_ref(), &queries)?;
        }
    }

    #[test]
    fn phi_normal_window_equals_brute_force(
        cfg in phi_normal_config(),
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let mut d = PhiNormal::new(cfg.clone()).unwrap();
        // The model: acceptance rules and the window, recomputed from scratch.
        let f = cfg.first_interval.0;
        let mut values: Vec<u64> = vec![f - f / 4, f + f / 4];
        let (mut last, mut max_seq): (Option<u64>, Option<u64>) = (None, None);
        let (mut accepted, mut stale, mut backwards) = (0u64, 0u64, 0u64);
        let mut now = 1_000_000_000u64;
        for op in &ops {
            let (arrival, at, seq) = apply(&mut d, &mut now, op);
            let want = if seq.is_some() && max_seq.is_some() && seq <= max_seq {
                stale += 1;
                Arrival::Stale
            } else if last.is_some_and(|l| at < l) {
                backwards += 1;
                Arrival::Backwards
            } else {
                if let Some(l) = last {
                    values.push((at - l).min(1 << 53));
                }
                last = Some(at);
                max_seq = Some(seq.unwrap_or(max_seq.map_or(0, |m| m.saturating_add(1))));
                accepted += 1;
                Arrival::Accepted
            };
            prop_assert_eq!(arrival, want);
            let window = &values[values.len().saturating_sub(cfg.window)..];
            prop_assert_eq!(d.window().iter().collect::<Vec<_>>(), window.to_vec());
            let n = window.len() as f64;
            let mean = window.iter().map(|&x| x as f64).sum::<f64>() / n;
            let var = window.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
            prop_assert!((d.mean() - mean).abs() <= 1e-9 * mean.max(1.0));
            let floor = (cfg.min_std.0 as f64).max(cfg.min_std_ratio * mean);
            let want_std = var.sqrt().max(floor);
            prop_assert!(
                (d.std_dev() - want_std).abs() <= 1e-6 * want_std.max(1.0),
                "std {} vs {}", d.std_dev(), want_std
            );
        }
        let c = d.arrivals();
        prop_assert_eq!((c.accepted, c.stale, c.backwards), (accepted, stale, backwards));
    }
}
