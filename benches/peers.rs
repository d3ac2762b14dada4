//! This crate's detectors side by side with the published Rust φ crates: one heartbeat
//! followed by one φ query on a warm detector (`heartbeat_phi`).
//!
//! Every detector is warmed with the same 1000 intervals (100 ms with up to ±3 ms of
//! deterministic jitter), then each timed iteration delivers the next heartbeat and asks φ a
//! little later. The query instants cycle through 64 offsets, 0 to 126 ms after the heartbeat in
//! steps of 2 ms, as a monitor polling every 2 ms would see them: most find the peer on time
//! (φ near 0), some find it late (φ up to far in the tail). Every detector gets the same
//! instants, and no timed loop reads a clock:
//!
//! * `phi-normal` ([`PhiNormal`]), `adaptive` ([`Adaptive`]) and `fixed-timeout` take the
//!   instant as an argument;
//! * `phi-detector` (0.4.0) takes intervals and elapsed times, computed here from the same
//!   instants, as its README does;
//! * `phi-accrual-failure-detector` (0.1.0, a port of Pekko's detector) reads its `Clock`,
//!   injected here as a counter the loop sets before each call;
//! * `phi-accrual` (0.1.0) takes the instant as an argument.
//!
//! A second group, `phi_floor`, takes `phi-normal`'s and `adaptive`'s iterations apart, beside
//! their wholes and `fixed-timeout`'s: the heartbeat alone, the query alone on a warmed window, and the normal
//! tail alone on the standard scores of the loop (the part of an exact φ that no heartbeat
//! bookkeeping can remove), also through `libm`'s `erfc`.
//!
//! Each peer runs its default configuration, which is how its documentation uses it; the
//! correctness of each peer's φ on the same inputs is `examples/peers_correctness.rs`.

use std::cell::Cell;
use std::f64::consts::LOG10_E;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use accrual::math::{ln_q_erfc, phi_of_z};
use accrual::{
    Adaptive, AdaptiveConfig, Detector, Fixed, FixedConfig, Nanos, PhiNormal, PhiNormalConfig,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

#[path = "common/peers_loop.rs"]
mod peers_loop;

use peers_loop::{
    CYCLE, HeartbeatPhi, PhiDetector, QUERIES, STEP, WARM, intervals, loop_scores, warm,
};

/// Any `accrual` detector.
struct Accrual<D>(D);

impl<D: Detector> HeartbeatPhi for Accrual<D> {
    #[inline]
    fn heartbeat(&mut self, at_ns: u64) {
        self.0.heartbeat(Nanos(at_ns));
    }
    #[inline]
    fn phi(&mut self, now_ns: u64) -> f64 {
        self.0.phi(Nanos(now_ns))
    }
}

/// The injected clock of `phi-accrual-failure-detector`: an instant in ns that the loop sets.
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

/// `phi-accrual-failure-detector`, single-threaded flavour, on the injected clock.
struct PekkoPort {
    detector: phi_accrual_failure_detector::FailureDetector<
        phi_accrual_failure_detector::UnsyncState<SetClock>,
    >,
    clock: SetClock,
}

impl PekkoPort {
    fn new() -> Self {
        let clock = SetClock::default();
        let detector = phi_accrual_failure_detector::UnsyncDetector::builder()
            .clock(clock.clone())
            .build()
            .expect("the default configuration is valid");
        PekkoPort { detector, clock }
    }
}

impl HeartbeatPhi for PekkoPort {
    #[inline]
    fn heartbeat(&mut self, at_ns: u64) {
        use phi_accrual_failure_detector::Detector as _;
        self.clock.0.set(at_ns);
        self.detector.heartbeat();
    }
    #[inline]
    fn phi(&mut self, now_ns: u64) -> f64 {
        use phi_accrual_failure_detector::Detector as _;
        self.clock.0.set(now_ns);
        self.detector.phi()
    }
}

/// `phi-accrual`: instants passed in directly.
struct PhiAccrual(phi_accrual::PhiFailureDetector);

impl HeartbeatPhi for PhiAccrual {
    #[inline]
    fn heartbeat(&mut self, at_ns: u64) {
        self.0.heartbeat(at_ns);
    }
    #[inline]
    fn phi(&mut self, now_ns: u64) -> f64 {
        self.0.phi(now_ns)
    }
}

/// `accrual`'s exact normal model in its default configuration.
fn exact() -> PhiNormal {
    PhiNormal::new(PhiNormalConfig::default()).expect("the default configuration is valid")
}

/// `accrual`'s recommended detector in its default configuration.
fn default_adaptive() -> Adaptive {
    Adaptive::new(AdaptiveConfig::default()).expect("the default configuration is valid")
}

/// The two halves of an `accrual` detector's iteration apart, as `<id>-heartbeat` and
/// `<id>-query`: heartbeats alone, and queries alone on a warmed detector at the same offsets
/// after its last arrival.
fn halves<D: Detector>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    intervals: &[u64],
    make: impl Fn() -> D,
) {
    let (mut d, mut t) = warmed(Accrual(make()));
    let mut i = WARM;
    group.bench_function(format!("{id}-heartbeat"), |b| {
        b.iter(|| {
            t += intervals[i % CYCLE];
            i += 1;
            d.heartbeat(black_box(t));
        })
    });
    let (mut q, last) = warmed(Accrual(make()));
    let mut i = 0;
    group.bench_function(format!("{id}-query"), |b| {
        b.iter(|| {
            let at = last + (i % QUERIES) as u64 * STEP;
            i += 1;
            black_box(q.phi(black_box(at)))
        })
    });
}

/// `d` after the warm-up every detector gets, and the instant of its last heartbeat.
fn warmed<H: HeartbeatPhi>(mut d: H) -> (H, u64) {
    let t = warm(&intervals(), |at| d.heartbeat(at));
    (d, t)
}

/// Builds a detector with `make`, warms it with the same `WARM` intervals as every other, and
/// times one heartbeat plus one φ query under `id`.
fn bench_one<H: HeartbeatPhi>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    intervals: &[u64],
    make: impl FnOnce() -> H,
) {
    let (mut d, mut t) = warmed(make());
    let mut i = WARM;
    group.bench_function(id, |b| {
        b.iter(|| {
            t += intervals[i % CYCLE];
            let query = t + (i % QUERIES) as u64 * STEP;
            i += 1;
            d.heartbeat(black_box(t));
            black_box(d.phi(black_box(query)))
        })
    });
}

/// [`bench_one`] for any `accrual` detector.
fn bench_accrual<D: Detector>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    intervals: &[u64],
    make: impl FnOnce() -> D,
) {
    bench_one(group, id, intervals, || Accrual(make()));
}

fn heartbeat_phi(c: &mut Criterion) {
    let intervals = intervals();
    let mut group = c.benchmark_group("heartbeat_phi");
    bench_accrual(&mut group, "phi-normal", &intervals, exact);
    bench_accrual(&mut group, "adaptive", &intervals, default_adaptive);
    bench_accrual(&mut group, "fixed-timeout", &intervals, || {
        Fixed::new(FixedConfig::default()).expect("the default configuration is valid")
    });
    bench_one(&mut group, "phi-detector", &intervals, PhiDetector::new);
    bench_one(
        &mut group,
        "phi-accrual-failure-detector",
        &intervals,
        PekkoPort::new,
    );
    bench_one(&mut group, "phi-accrual", &intervals, || {
        PhiAccrual(phi_accrual::PhiFailureDetector::new())
    });
    group.finish();
}

/// What an exact φ is made of, in one run: the whole heartbeat and query of `fixed-timeout`,
/// of `phi-normal` and of `adaptive`, each accrual one's heartbeat alone and query alone, and
/// the normal tail
/// alone on the standard scores of `phi-normal`'s loop. `phi-of-z` is the crate's evaluation
/// ([`phi_of_z`]),
/// `phi-of-z-erfc` the same value through `libm`'s `erfc` and `ln` ([`ln_q_erfc`]), as a
/// detector built on the usual library functions would compute it.
fn phi_floor(c: &mut Criterion) {
    let intervals = intervals();
    let scores = loop_scores(&intervals);
    let mut group = c.benchmark_group("phi_floor");
    bench_accrual(&mut group, "fixed-timeout", &intervals, || {
        Fixed::new(FixedConfig::default()).expect("the default configuration is valid")
    });
    bench_accrual(&mut group, "phi-normal", &intervals, exact);
    halves(&mut group, "phi-normal", &intervals, exact);
    bench_accrual(&mut group, "adaptive", &intervals, default_adaptive);
    halves(&mut group, "adaptive", &intervals, default_adaptive);
    let mut i = 0;
    group.bench_function("phi-of-z", |b| {
        b.iter(|| {
            let z = scores[i % CYCLE];
            i += 1;
            black_box(phi_of_z(black_box(z)))
        })
    });
    group.bench_function("phi-of-z-erfc", |b| {
        b.iter(|| {
            let z = scores[i % CYCLE];
            i += 1;
            black_box(-ln_q_erfc(black_box(z)) * LOG10_E)
        })
    });
    group.finish();
}

criterion_group!(benches, heartbeat_phi, phi_floor);
criterion_main!(benches);
