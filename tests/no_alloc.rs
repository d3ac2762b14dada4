//! The heartbeat path never allocates: a counting global allocator in this test binary sees no
//! allocation from heartbeats, φ queries or deadline queries once a detector is built.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use accrual::histogram::WindowedHistogram;
use accrual::timeout::TimeoutEstimator;
use accrual::{
    Detector, Empirical, EmpiricalConfig, HistogramConfig, Nanos, Suspicion, SuspicionConfig,
    TimeoutConfig, TimeoutPolicy,
};

mod common;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

#[test]
fn heartbeats_and_queries_do_not_allocate() {
    let detectors = common::every_detector();
    let mut suspicion = Suspicion::new(SuspicionConfig::default()).unwrap();
    for mut d in detectors {
        let before = allocations();
        let mut t = Nanos::from_secs(1);
        // Many more heartbeats than the window holds, so eviction runs too.
        for i in 0..5_000u64 {
            t += Nanos::from_millis(100 + i % 7);
            d.heartbeat(t);
            d.heartbeat_seq(t, i); // stale or accepted: both paths
            let phi = d.phi(t + Nanos::from_millis(120));
            std::hint::black_box(d.deadline(8.0));
            std::hint::black_box(d.meaning(3.0));
            suspicion.update(t, phi, i);
        }
        assert_eq!(allocations(), before, "{d:?}");
        // The counter itself works.
        std::hint::black_box(vec![1u8; 16]);
        assert_eq!(allocations(), before + 1);
    }
}

#[test]
fn empirical_heartbeats_and_queries_do_not_allocate() {
    let mut d = Empirical::new(EmpiricalConfig::default()).unwrap();
    let before = allocations();
    let mut t = Nanos::from_secs(1);
    for i in 0..5_000u64 {
        t += Nanos::from_millis(100 + i % 13);
        d.heartbeat(t);
        std::hint::black_box(d.phi(t + Nanos::from_millis(150)));
        std::hint::black_box(d.deadline(8.0));
    }
    assert_eq!(allocations(), before);
}

#[test]
fn histogram_records_and_estimator_queries_do_not_allocate() {
    let mut h = WindowedHistogram::new(HistogramConfig::default()).unwrap();
    let mut estimators: Vec<TimeoutEstimator> = [
        TimeoutPolicy::adaptive(),
        TimeoutPolicy::rfc6298(),
        TimeoutPolicy::Quantile {
            quantile: 0.99,
            multiplier: 2.0,
            margin: Nanos::ZERO,
        },
    ]
    .into_iter()
    .map(|policy| {
        TimeoutEstimator::new(TimeoutConfig {
            policy,
            ..Default::default()
        })
        .unwrap()
    })
    .collect();
    let before = allocations();
    for i in 0..20_000u64 {
        let now = Nanos::from_millis(i * 50);
        let rtt = Nanos::from_micros(20_000 + (i * 7_919) % 30_000);
        h.record(rtt, now);
        std::hint::black_box(h.quantile(0.99, now));
        for est in &mut estimators {
            if i % 97 == 0 {
                let waited = est.timeout(now);
                est.record_timeout(waited, now);
            } else {
                est.record(rtt, now);
            }
            std::hint::black_box(est.timeout(now));
            std::hint::black_box(est.hedge_delay(now));
        }
    }
    assert_eq!(allocations(), before);
}
