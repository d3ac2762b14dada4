//! The per-request cost of `accrual::tower`'s layers beside tower's own power-of-two-choices
//! balancer over `PeakEwma`, in one run (group `tower_overhead`).
//!
//! Four backends are `service_fn`s that answer at once, so what is timed is the balancing and
//! the bookkeeping, not a backend. Each iteration sends one request through `ready().await`
//! and `call(..).await` on a current-thread tokio runtime:
//!
//! * `bare`: one backend called directly, the floor every balancer adds to;
//! * `p2c-peak-ewma`: tower's `Balance` over `PeakEwma` endpoints (a `ServiceList` wrapped in
//!   `PeakEwmaDiscover`), tower's default for latency-aware balancing;
//! * `p2c-peak-ewma-timeout`: the same with a fixed 1 s `tower::timeout::Timeout` on each
//!   endpoint, as proxies run it (every accrual endpoint has a timeout, an adaptive one);
//! * `p2c-accrual`: tower's `Balance` over `accrual::tower::Endpoint`s: the adaptive timeout
//!   read without a lock, the outcome recorded in the monitor through a `RequestGuard`, the
//!   suspicion-aware cost, and the monitor's clock read twice;
//! * `accrual-hedge`: `accrual::tower::Hedge` over the same endpoints, with a hedge delay that
//!   never fires here (the backends answer at once), so it measures the hedging balancer's own
//!   bookkeeping and its budget deposit.
//!
//! The overhead of a balancer is its time less `bare`'s.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accrual::monitor::{Monitor, MonitorConfig};
use accrual::tower::{DefaultClassify, Endpoint, EndpointLayer, Hedge, HedgeConfig};
use accrual::{MonotonicClock, Nanos};
use criterion::{Criterion, criterion_group, criterion_main};
use tower::balance::p2c::Balance;
use tower::discover::ServiceList;
use tower::load::{CompleteOnResponse, PeakEwmaDiscover};
use tower::retry::budget::TpsBudget;
use tower::timeout::Timeout;
use tower::util::ServiceFn;
use tower::{Layer, Service, ServiceExt, service_fn};

const BACKENDS: u32 = 4;

/// A backend that answers at once.
type Backend = ServiceFn<fn(u32) -> Ready<Result<u32, Infallible>>>;

fn answer(req: u32) -> Ready<Result<u32, Infallible>> {
    ready(Ok(req))
}

fn backend() -> Backend {
    service_fn(answer as fn(u32) -> Ready<Result<u32, Infallible>>)
}

/// Times `iters` requests through `svc`, each awaited before the next.
fn drive<S>(rt: &tokio::runtime::Runtime, svc: &mut S, iters: u64) -> Duration
where
    S: Service<u32>,
    S::Error: std::fmt::Debug,
{
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..iters {
            let r = svc
                .ready()
                .await
                .expect("ready")
                .call(i as u32)
                .await
                .expect("answered");
            black_box(r);
        }
        start.elapsed()
    })
}

/// The endpoints of the accrual configurations: every backend behind an `EndpointLayer` of one
/// monitor (which knows them from a heartbeat each).
fn accrual_endpoints(
    monitor: &Arc<Monitor<u32, MonotonicClock>>,
) -> Vec<Endpoint<Backend, u32, MonotonicClock, DefaultClassify>> {
    (0..BACKENDS)
        .map(|b| {
            monitor.heartbeat(&b).expect("room for the backend");
            EndpointLayer::new(Arc::clone(monitor), b).layer(backend())
        })
        .collect()
}

fn tower_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let mut group = c.benchmark_group("tower_overhead");

    let mut bare = backend();
    group.bench_function("bare", |b| b.iter_custom(|n| drive(&rt, &mut bare, n)));

    let mut peak = rt.block_on(async {
        let list = ServiceList::new((0..BACKENDS).map(|_| backend()).collect::<Vec<_>>());
        Balance::new(PeakEwmaDiscover::new(
            list,
            Duration::from_millis(10),
            Duration::from_secs(10),
            CompleteOnResponse::default(),
        ))
    });
    group.bench_function("p2c-peak-ewma", |b| {
        b.iter_custom(|n| drive(&rt, &mut peak, n))
    });

    // The same with a fixed 1 s timeout on every endpoint, as proxies run it (and as accrual's
    // endpoints always have one, adaptive).
    let mut peak_timeout = rt.block_on(async {
        let list = ServiceList::new(
            (0..BACKENDS)
                .map(|_| Timeout::new(backend(), Duration::from_secs(1)))
                .collect::<Vec<_>>(),
        );
        Balance::new(PeakEwmaDiscover::new(
            list,
            Duration::from_millis(10),
            Duration::from_secs(10),
            CompleteOnResponse::default(),
        ))
    });
    group.bench_function("p2c-peak-ewma-timeout", |b| {
        b.iter_custom(|n| drive(&rt, &mut peak_timeout, n))
    });

    let monitor = Arc::new(
        Monitor::with_clock(MonitorConfig::default(), MonotonicClock::new()).expect("valid"),
    );
    let mut p2c =
        rt.block_on(async { Balance::new(ServiceList::new(accrual_endpoints(&monitor))) });
    group.bench_function("p2c-accrual", |b| {
        b.iter_custom(|n| drive(&rt, &mut p2c, n))
    });

    let hedging = Arc::new(
        Monitor::with_clock(MonitorConfig::default(), MonotonicClock::new()).expect("valid"),
    );
    let mut hedge = rt.block_on(async {
        let list = ServiceList::new(accrual_endpoints(&hedging));
        let config = HedgeConfig {
            min_delay: Nanos::from_secs(1),
            max_delay: Nanos::from_secs(1),
        };
        Hedge::new(
            list,
            TpsBudget::new(Duration::from_secs(10), 10, 0.1),
            config,
        )
        .expect("a valid hedge configuration")
    });
    group.bench_function("accrual-hedge", |b| {
        b.iter_custom(|n| drive(&rt, &mut hedge, n))
    });
    group.finish();
}

criterion_group!(benches, tower_overhead);
criterion_main!(benches);
