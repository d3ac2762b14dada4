//! Hot paths: one heartbeat followed by one φ query on a warm detector, a deadline query (with
//! `fixed` as the floor), the windowed histogram's record and quantile, and the timeout
//! estimator's record-then-query.

use std::hint::black_box;

use accrual::histogram::WindowedHistogram;
use accrual::timeout::TimeoutEstimator;
use accrual::{
    Adaptive, AdaptiveConfig, Chen, ChenConfig, Detector, Empirical, EmpiricalConfig, Fixed,
    FixedConfig, HistogramConfig, Nanos, PhiExponential, PhiExponentialConfig, PhiNormal,
    PhiNormalConfig, Tail, TimeoutConfig, TimeoutPolicy,
};
use criterion::{Criterion, criterion_group, criterion_main};

const INTERVAL: u64 = 100_000_000;

/// Arrival times with a deterministic jitter of up to ~1 ms.
fn arrivals(n: usize) -> Vec<Nanos> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut t = 0;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t += INTERVAL;
            Nanos(t + x % 1_000_000)
        })
        .collect()
}

fn detectors() -> Vec<(&'static str, Box<dyn Detector>)> {
    vec![
        (
            "phi-normal",
            Box::new(PhiNormal::new(PhiNormalConfig::default()).unwrap()),
        ),
        (
            "phi-akka",
            Box::new(
                PhiNormal::new(PhiNormalConfig {
                    tail: Tail::Logistic,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "phi-exp",
            Box::new(PhiExponential::new(PhiExponentialConfig::default()).unwrap()),
        ),
        (
            "chen",
            Box::new(
                Chen::new(ChenConfig {
                    interval: Nanos(INTERVAL),
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "fixed",
            Box::new(Fixed::new(FixedConfig::default()).unwrap()),
        ),
        (
            "empirical",
            Box::new(Empirical::new(EmpiricalConfig::default()).unwrap()),
        ),
        (
            "default",
            Box::new(Adaptive::new(AdaptiveConfig::default()).unwrap()),
        ),
    ]
}

fn heartbeat_phi(c: &mut Criterion) {
    let times = arrivals(1 << 16);
    let mut group = c.benchmark_group("heartbeat_phi");
    for (name, mut d) in detectors() {
        for &t in &times[..2_000] {
            d.heartbeat(t);
        }
        // Keep time moving forward across iterations: offset each pass by the trace span.
        let span = times[times.len() - 1].as_nanos() + INTERVAL;
        let mut pass = 1u64;
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                if i == times.len() {
                    i = 0;
                    pass += 1;
                }
                let t = Nanos(times[i].as_nanos() + pass * span);
                i += 1;
                d.heartbeat(black_box(t));
                black_box(d.phi(black_box(t + Nanos(50_000_000))))
            })
        });
    }
    group.finish();
}

fn deadline(c: &mut Criterion) {
    let times = arrivals(2_000);
    let mut group = c.benchmark_group("deadline");
    for (name, mut d) in detectors() {
        for &t in &times {
            d.heartbeat(t);
        }
        group.bench_function(name, |b| b.iter(|| black_box(d.deadline(black_box(8.0)))));
    }
    group.finish();
}

/// The windowed histogram: recording a value, and a p99 query.
fn histogram(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram");
    let mut h = WindowedHistogram::new(HistogramConfig::default()).unwrap();
    let mut i = 0u64;
    group.bench_function("record", |b| {
        b.iter(|| {
            i += 1;
            h.record(
                black_box(Nanos(20_000_000 + (i * 7_919) % 10_000_000)),
                Nanos(i * 1_000_000),
            )
        })
    });
    let now = Nanos(i * 1_000_000);
    group.bench_function("quantile", |b| b.iter(|| black_box(h.quantile(0.99, now))));
    group.finish();
}

/// The timeout estimator: one reply recorded and the next timeout asked, per policy.
fn timeout_estimator(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_record_query");
    for (name, policy) in [
        ("adaptive", TimeoutPolicy::adaptive()),
        ("rfc6298", TimeoutPolicy::rfc6298()),
        (
            "quantile",
            TimeoutPolicy::Quantile {
                quantile: 0.99,
                multiplier: 2.0,
                margin: Nanos::ZERO,
            },
        ),
    ] {
        let mut est = TimeoutEstimator::new(TimeoutConfig {
            policy,
            ..Default::default()
        })
        .unwrap();
        let mut i = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                let now = Nanos(i * 10_000_000);
                est.record(black_box(Nanos(20_000_000 + (i * 7_919) % 10_000_000)), now);
                black_box(est.timeout(now))
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    heartbeat_phi,
    deadline,
    histogram,
    timeout_estimator
);
criterion_main!(benches);
