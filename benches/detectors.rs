//! Hot paths: one heartbeat followed by one φ query on a warm detector, a deadline query (with
//! `fixed` as the floor), the windowed histogram's record and quantile, and the timeout
//! estimator's record and query, together and apart.

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
            "adaptive",
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

/// The timeout estimator's policies, each as `(name, policy)`.
fn timeout_policies() -> [(&'static str, TimeoutPolicy); 3] {
    [
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
    ]
}

/// An estimator with `policy` and the default windows.
fn estimator(policy: TimeoutPolicy) -> TimeoutEstimator {
    TimeoutEstimator::new(TimeoutConfig {
        policy,
        ..Default::default()
    })
    .unwrap()
}

/// The round trip of reply `i`: 20 to 30 ms, spread deterministically.
fn rtt(i: u64) -> Nanos {
    Nanos(20_000_000 + (i * 7_919) % 10_000_000)
}

/// Replies arrive every 10 ms.
const REPLY_EVERY: u64 = 10_000_000;

/// One reply recorded per iteration, 10 ms apart, and the next timeout asked after it if
/// `ask`, per policy, as group `name`.
fn bench_replies(c: &mut Criterion, name: &str, ask: bool) {
    let mut group = c.benchmark_group(name);
    for (policy_name, policy) in timeout_policies() {
        let mut est = estimator(policy);
        let mut i = 0u64;
        group.bench_function(policy_name, |b| {
            b.iter(|| {
                i += 1;
                let now = Nanos(i * REPLY_EVERY);
                est.record(black_box(rtt(i)), now);
                ask.then(|| black_box(est.timeout(now)))
            })
        });
    }
    group.finish();
}

/// The timeout estimator, per policy: one reply recorded and the next timeout asked
/// (`timeout_record_query`, what a client does per request), a reply recorded alone
/// (`timeout_record`), and a timeout asked alone (`timeout_query`) of an estimator warmed with
/// 6,000 replies (the whole default window), at the instant of its last reply, as when many
/// requests go out between two replies: the policies' cached quantile, refreshed when a 64th
/// of the window is new or a sixteenth of a sub-window has passed, is what such queries read.
fn timeout_estimator(c: &mut Criterion) {
    bench_replies(c, "timeout_record_query", true);
    bench_replies(c, "timeout_record", false);

    let mut group = c.benchmark_group("timeout_query");
    for (name, policy) in timeout_policies() {
        let mut est = estimator(policy);
        let warm = 6_000;
        for i in 1..=warm {
            est.record(rtt(i), Nanos(i * REPLY_EVERY));
        }
        let now = Nanos(warm * REPLY_EVERY);
        group.bench_function(name, |b| b.iter(|| black_box(est.timeout(black_box(now)))));
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
