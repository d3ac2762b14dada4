//! The timeout estimator: RFC 6298 recomputed independently, Karn's rule, censoring that never
//! lets a timeout spiral down, clamping, and arbitrary input.

mod common;

use accrual::timeout::TimeoutEstimator;
use accrual::{HistogramConfig, Nanos, TimeoutConfig, TimeoutPolicy};
use proptest::prelude::*;

fn config(policy: TimeoutPolicy) -> TimeoutConfig {
    TimeoutConfig {
        policy,
        floor: Nanos::from_millis(200),
        ceiling: Nanos::from_secs(60),
        initial: Nanos::from_secs(1),
        ..Default::default()
    }
}

/// RFC 6298 as `qos-spec.md` §6 states it, written out here, step by step.
#[test]
fn rfc6298_matches_the_spec_step_by_step() {
    let (floor, cap, g, initial): (f64, f64, f64, f64) = (0.2e9, 60e9, 1e6, 1e9);
    let mut est = TimeoutEstimator::new(config(TimeoutPolicy::Rfc6298 {
        granularity: Nanos::from_millis(1),
    }))
    .unwrap();
    let mut rng = common::Rng(99);
    let (mut srtt, mut rttvar, mut rto): (Option<f64>, f64, f64) =
        (None, 0.0, initial.clamp(floor, cap));
    let mut now = 0u64;
    for step in 0..5_000 {
        now += 1_000_000_000;
        let got = est.timeout(Nanos(now));
        assert_eq!(got, Nanos(rto.floor() as u64), "step {step}");
        let rtt = (rng.exp(80e6) + 20e6) as u64;
        if rng.unit() < 0.05 || (rtt as f64) > rto {
            // A timeout: RTO doubles, capped.
            est.record_timeout(got, Nanos(now) + got);
            rto = (2.0 * rto).min(cap);
        } else {
            est.record(Nanos(rtt), Nanos(now + rtt));
            let r = rtt as f64;
            match srtt {
                None => {
                    srtt = Some(r);
                    rttvar = r / 2.0;
                }
                Some(s) => {
                    rttvar = 0.75 * rttvar + 0.25 * (s - r).abs();
                    srtt = Some(0.875 * s + 0.125 * r);
                }
            }
            rto = (srtt.unwrap() + g.max(4.0 * rttvar)).clamp(floor, cap);
        }
    }
}

#[test]
fn karns_rule_ignores_replies_to_retried_requests() {
    for policy in [
        TimeoutPolicy::rfc6298(),
        TimeoutPolicy::adaptive(),
        TimeoutPolicy::Quantile {
            quantile: 0.99,
            multiplier: 2.0,
            margin: Nanos::ZERO,
        },
    ] {
        let mut est = TimeoutEstimator::new(config(policy)).unwrap();
        for i in 0..100u64 {
            est.record(Nanos::from_millis(30), Nanos::from_secs(i));
        }
        let before = est.timeout(Nanos::from_secs(100));
        for i in 0..50u64 {
            est.record_retried(Nanos::from_secs(30), Nanos::from_secs(100 + i));
        }
        assert_eq!(est.timeout(Nanos::from_secs(100)), before, "{policy:?}");
        let stats = est.stats(Nanos::from_secs(150));
        assert_eq!((stats.samples, stats.retried), (100, 50));
    }
}

/// A backend whose replies suddenly take 2 s: every request times out at first. A policy that
/// learned only from successes would keep its timeout; each policy here must raise it until
/// the replies fit, and never lower it while requests keep timing out.
#[test]
fn timeouts_push_estimates_up_and_never_spiral_down() {
    // The plain quantile policy only moves its quantile as timeouts fill the tail of the
    // window, so it takes longer; backoff is what makes the others fast.
    for (policy, within) in [
        (TimeoutPolicy::rfc6298(), 5),
        (TimeoutPolicy::adaptive(), 5),
        (
            TimeoutPolicy::Quantile {
                quantile: 0.99,
                multiplier: 1.5,
                margin: Nanos::ZERO,
            },
            40,
        ),
    ] {
        let mut est = TimeoutEstimator::new(config(policy)).unwrap();
        let mut now = Nanos::ZERO;
        for _ in 0..300 {
            now += Nanos::from_millis(100);
            est.record(Nanos::from_millis(20), now);
        }
        let slow = Nanos::from_secs(2);
        let mut previous = Nanos::ZERO;
        let mut fitted = None;
        for attempt in 0..100 {
            now += Nanos::from_millis(100);
            let t = est.timeout(now);
            if t >= slow {
                fitted = Some(attempt);
                break;
            }
            assert!(t >= previous, "{policy:?}: fell from {previous} to {t}");
            previous = t;
            // The request times out; the next one is sent after it.
            now += t;
            est.record_timeout(t, now);
        }
        let attempts = fitted.unwrap_or_else(|| panic!("{policy:?} never reached 2 s"));
        assert!(
            attempts <= within,
            "{policy:?}: {attempts} timeouts before fitting"
        );
    }
}

/// Eight requests in flight together that time out together are one event: every policy
/// backs off once, not eight times (which took a warm estimator from 6 ms to 1.5 s). A request
/// sent after that step and timing out is a second event.
#[test]
fn requests_that_time_out_together_back_off_once() {
    for policy in [
        TimeoutPolicy::rfc6298(),
        TimeoutPolicy::adaptive(),
        TimeoutPolicy::Fixed {
            timeout: Nanos::from_millis(10),
        },
    ] {
        let mut est = TimeoutEstimator::new(config(policy)).unwrap();
        let mut now = Nanos::ZERO;
        for i in 0..3_000u64 {
            now += Nanos::from_millis(10);
            est.record(Nanos::from_micros(5_000 + 200 * (i % 10)), now);
        }
        let before = est.timeout(now);
        // Eight requests sent within a millisecond, all timing out.
        let sent = now;
        now += before + Nanos::from_millis(1);
        for k in 0..8u64 {
            est.record_timeout(now - (sent + Nanos::from_micros(100 * k)), now);
        }
        assert_eq!(est.backoff(), 1, "{policy:?}");
        assert_eq!(est.stats(now).timeouts, 8, "{policy:?}");
        let after = est.timeout(now);
        assert!(
            after <= before + before + Nanos::from_millis(1),
            "{policy:?}: {before} became {after}"
        );
        // The next request, sent after the step, times out too: a second doubling.
        let sent = now + Nanos::from_millis(1);
        now = sent + after;
        est.record_timeout(after, now);
        assert_eq!(est.backoff(), 2, "{policy:?}");
        // A reply ends the run.
        est.record(Nanos::from_millis(5), now + Nanos::from_millis(5));
        assert_eq!(est.backoff(), 0, "{policy:?}");
    }
}

#[test]
fn cold_estimators_answer_the_initial_timeout_clamped() {
    for policy in [
        TimeoutPolicy::rfc6298(),
        TimeoutPolicy::adaptive(),
        TimeoutPolicy::Quantile {
            quantile: 0.5,
            multiplier: 1.0,
            margin: Nanos::ZERO,
        },
    ] {
        let mut est = TimeoutEstimator::new(config(policy)).unwrap();
        assert_eq!(est.timeout(Nanos::ZERO), Nanos::from_secs(1));
        assert_eq!(est.hedge_delay(Nanos::ZERO), Nanos::from_secs(1));
        let mut low = TimeoutEstimator::new(TimeoutConfig {
            initial: Nanos::from_millis(1),
            ..config(policy)
        })
        .unwrap();
        assert_eq!(low.timeout(Nanos::ZERO), Nanos::from_millis(200)); // the floor
    }
}

#[test]
fn quantile_policy_and_hedge_delay_read_the_window() {
    let mut est = TimeoutEstimator::new(TimeoutConfig {
        policy: TimeoutPolicy::Quantile {
            quantile: 0.9,
            multiplier: 2.0,
            margin: Nanos::from_millis(5),
        },
        floor: Nanos::from_millis(1),
        ..Default::default()
    })
    .unwrap();
    // 1..=100 ms, once each: p90 = 90 ms, p95 = 95 ms (within 1%).
    let mut values: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
    for (i, &v) in values.iter().enumerate() {
        est.record(Nanos(v), Nanos::from_millis(i as u64));
    }
    values.sort_unstable();
    let within = |got: Nanos, want: f64| (got.as_nanos() as f64 - want).abs() <= 0.01 * want;
    assert!(within(est.timeout(Nanos::from_secs(1)), 2.0 * 90e6 + 5e6));
    assert!(within(est.hedge_delay(Nanos::from_secs(1)), 95e6));
    let s = est.stats(Nanos::from_secs(1));
    assert_eq!(s.count, 100);
    assert!(within(s.p50, 50e6) && within(s.p99, 99e6) && within(s.max, 100e6));
    assert!((s.mean.as_nanos() as f64 - 50.5e6).abs() <= 0.01 * 50.5e6);
}

#[test]
fn adaptive_tracks_a_quiet_link_after_warming_up() {
    // 25 ms ± 5 ms at 10 requests a second: after ten minutes the timeout is tens of ms, not
    // the one-second prior.
    let mut est = TimeoutEstimator::new(TimeoutConfig::default()).unwrap();
    let mut rng = common::Rng(5);
    let mut now = Nanos::ZERO;
    for _ in 0..6_000 {
        now += Nanos::from_millis(100);
        est.record(Nanos((20e6 + rng.unit() * 10e6) as u64), now);
    }
    let t = est.timeout(now);
    assert!(
        t > Nanos::from_millis(30) && t < Nanos::from_millis(60),
        "{t}"
    );
}

#[test]
fn no_reply_phi_rises_with_waiting() {
    let mut est = TimeoutEstimator::new(TimeoutConfig::default()).unwrap();
    for i in 0..1_000u64 {
        est.record(Nanos::from_millis(10 + i % 20), Nanos::from_millis(i * 100));
    }
    let now = Nanos::from_secs(100);
    let mut previous = 0.0;
    for ms in [0, 10, 20, 29, 30, 50, 100, 1_000, 100_000] {
        let phi = est.phi_no_reply(Nanos::from_millis(ms), now);
        assert!(phi.is_finite() && phi >= previous, "{ms} ms: {phi}");
        previous = phi;
    }
    assert!(est.phi_no_reply(Nanos::from_millis(5), now) < 0.01);
    assert!(est.phi_no_reply(Nanos::from_secs(1), now) > 10.0);
}

#[derive(Debug, Clone)]
enum Op {
    Reply(u64, u64),
    Retried(u64, u64),
    Timeout(u64),
    Ask(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let dt = prop_oneof![0u64..1_000_000_000, any::<u64>()];
    let v = prop_oneof![0u64..100_000_000, any::<u64>()];
    prop_oneof![
        (dt.clone(), v.clone()).prop_map(|(a, b)| Op::Reply(a, b)),
        (dt.clone(), v).prop_map(|(a, b)| Op::Retried(a, b)),
        dt.clone().prop_map(Op::Timeout),
        dt.prop_map(Op::Ask),
    ]
}

fn policy() -> impl Strategy<Value = TimeoutPolicy> {
    prop_oneof![
        (1u64..10_000_000_000).prop_map(|t| TimeoutPolicy::Fixed { timeout: Nanos(t) }),
        (0u64..10_000_000).prop_map(|g| TimeoutPolicy::Rfc6298 {
            granularity: Nanos(g)
        }),
        (0.01f64..=1.0, 0.1f64..100.0, 0u64..1_000_000_000).prop_map(|(q, m, margin)| {
            TimeoutPolicy::Quantile {
                quantile: q,
                multiplier: m,
                margin: Nanos(margin),
            }
        }),
        (0.5f64..0.99999, 2u64..50, 0.0f64..100.0, 0u64..1_000).prop_map(|(q, m, w, f)| {
            TimeoutPolicy::Adaptive {
                quantile: q,
                tail_samples: m,
                prior_weight: w,
                prior_fade: f,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any sequence of events, times going backwards or jumping to the end of time included:
    /// no panic, every answer within [floor, ceiling], counts exact.
    #[test]
    fn answers_stay_clamped_on_any_input(
        policy in policy(),
        floor_ms in 1u64..1_000,
        extra_ms in 0u64..100_000,
        initial_ms in 0u64..100_000,
        ops in prop::collection::vec(op(), 0..120),
    ) {
        let floor = Nanos::from_millis(floor_ms);
        let ceiling = Nanos::from_millis(floor_ms + extra_ms);
        let cfg = TimeoutConfig {
            policy,
            floor,
            ceiling,
            initial: Nanos::from_millis(initial_ms),
            histogram: HistogramConfig { sub_window: Nanos::from_secs(10), ..Default::default() },
            ..Default::default()
        };
        let mut est = TimeoutEstimator::new(cfg).unwrap();
        let mut now = 0u64;
        let (mut replies, mut retried, mut timeouts) = (0u64, 0u64, 0u64);
        for op in &ops {
            match *op {
                Op::Reply(dt, v) => { now = now.wrapping_add(dt); est.record(Nanos(v), Nanos(now)); replies += 1; }
                Op::Retried(dt, v) => { now = now.wrapping_add(dt); est.record_retried(Nanos(v), Nanos(now)); retried += 1; }
                Op::Timeout(dt) => { now = now.wrapping_add(dt); let t = est.timeout(Nanos(now)); est.record_timeout(t, Nanos(now) + t); timeouts += 1; }
                Op::Ask(dt) => now = now.wrapping_add(dt),
            }
            let t = est.timeout(Nanos(now));
            prop_assert!(t >= floor && t <= ceiling, "{} not in [{}, {}]", t, floor, ceiling);
            let h = est.hedge_delay(Nanos(now));
            prop_assert!(h >= floor && h <= ceiling);
            let phi = est.phi_no_reply(Nanos(dt_of(op)), Nanos(now));
            prop_assert!(phi.is_finite() && phi >= 0.0);
        }
        let s = est.stats(Nanos(now));
        prop_assert_eq!((s.samples, s.retried, s.timeouts), (replies, retried, timeouts));
    }
}

fn dt_of(op: &Op) -> u64 {
    match *op {
        Op::Reply(d, _) | Op::Retried(d, _) | Op::Timeout(d) | Op::Ask(d) => d,
    }
}

#[test]
fn configuration_rules_name_the_field() {
    use accrual::ConfigError;
    let bad = |cfg: TimeoutConfig| TimeoutEstimator::new(cfg).unwrap_err();
    assert!(matches!(
        bad(TimeoutConfig {
            floor: Nanos::from_secs(2),
            ceiling: Nanos::from_secs(1),
            ..Default::default()
        }),
        ConfigError::InvertedDurations {
            lower: "timeout.floor",
            upper: "timeout.ceiling",
            ..
        }
    ));
    assert!(matches!(
        bad(TimeoutConfig {
            policy: TimeoutPolicy::Adaptive {
                quantile: 1.0,
                tail_samples: 10,
                prior_weight: 1.0,
                prior_fade: 1
            },
            ..Default::default()
        }),
        ConfigError::OutOfRange {
            field: "timeout.policy.quantile",
            ..
        }
    ));
    assert!(matches!(
        bad(TimeoutConfig {
            hedge_quantile: f64::NAN,
            ..Default::default()
        }),
        ConfigError::NotFinite {
            field: "timeout.hedge_quantile",
            ..
        }
    ));
    assert!(matches!(
        bad(TimeoutConfig {
            histogram: HistogramConfig {
                sub_windows: 0,
                ..Default::default()
            },
            ..Default::default()
        }),
        ConfigError::ZeroCount {
            field: "timeout.histogram.sub_windows"
        }
    ));
}
