//! The tower layer on tokio's paused time: tower's own p2c `Balance` (and the crate's `Hedge`)
//! over a `PoolDiscover` of `Endpoint`s, with fake backends as `service_fn`s that log every
//! request they receive. Every count is checked against those logs, or against an independent
//! replay of the rule in question.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use accrual::monitor::{Admission, EjectionConfig, FailureClass, Monitor, MonitorConfig};
use accrual::runtime::{Service, ServiceConfig, TokioClock};
use accrual::tower::{
    Endpoint, EndpointLayer, Error, FailFast, Hedge, HedgeConfig, PoolDiscover, Verdict,
};
use accrual::{Level, Nanos, TimeoutConfig};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};
use tower::balance::p2c::Balance;
use tower::discover::{Change, Discover};
use tower::load::Load;
use tower::retry::budget::TpsBudget;
use tower::util::BoxCloneService;
use tower::{BoxError, Layer, Service as _, ServiceExt, service_fn};

type Key = u32;
type Mon = Monitor<Key, TokioClock>;
type Inner = BoxCloneService<u64, (Key, u64), Refused>;
type Ep = Endpoint<Inner, Key, TokioClock>;
type Disc = PoolDiscover<Key, Ep, Box<dyn FnMut(&Key) -> Ep + Send>>;

const BEAT: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection refused")
    }
}

impl std::error::Error for Refused {}

/// How a fake backend treats a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Answer,
    Refuse,
    /// Answers after this long.
    Delay(Duration),
}

/// Counts its wake-ups if not marked done before it is dropped.
struct DropFlag<'a>(&'a AtomicUsize, bool);

impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The fake backends: how each answers, and every request each received.
#[derive(Default)]
struct Backends {
    modes: Mutex<HashMap<Key, Mode>>,
    /// (backend, request id), in the order received.
    log: Mutex<Vec<(Key, u64)>>,
    /// Request ids whose first receiver answers only after `SLOW`; later receivers (hedges)
    /// answer at once.
    slow: Mutex<HashSet<u64>>,
    /// Slow first receivers dropped before answering.
    cancelled: AtomicUsize,
}

const SLOW: Duration = Duration::from_millis(200);

impl Backends {
    fn set(&self, b: Key, mode: Mode) {
        self.modes.lock().unwrap().insert(b, mode);
    }

    fn hits(&self, b: Key) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k == b)
            .count()
    }

    fn total(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    fn receivers(&self, id: u64) -> Vec<Key> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(_, i)| *i == id)
            .map(|(k, _)| *k)
            .collect()
    }

    fn service(self: &Arc<Self>, b: Key) -> Inner {
        let this = Arc::clone(self);
        BoxCloneService::new(service_fn(move |id: u64| {
            let mode = *this.modes.lock().unwrap().get(&b).unwrap_or(&Mode::Answer);
            let first = {
                let mut log = this.log.lock().unwrap();
                let first = !log.iter().any(|(_, i)| *i == id);
                log.push((b, id));
                first
            };
            let slow = first && this.slow.lock().unwrap().contains(&id);
            let this = Arc::clone(&this);
            async move {
                if slow {
                    let mut flag = DropFlag(&this.cancelled, false);
                    sleep(SLOW).await;
                    flag.1 = true;
                }
                match mode {
                    Mode::Answer => Ok((b, id)),
                    Mode::Refuse => Err(Refused),
                    Mode::Delay(d) => {
                        sleep(d).await;
                        Ok((b, id))
                    }
                }
            }
        }))
    }
}

/// A monitor on tokio's time, its evaluator, fake backends and their heartbeats.
struct Pool {
    monitor: Arc<Mon>,
    service: Arc<Service<Key, TokioClock>>,
    backends: Arc<Backends>,
    beating: Arc<Mutex<HashSet<Key>>>,
    _beats: JoinHandle<()>,
}

fn config() -> MonitorConfig {
    MonitorConfig {
        // Any backend may be ejected or dead: the cap is not under test here.
        max_dead_fraction: 1.0,
        ejection: EjectionConfig {
            // Only the consecutive-failure rule: three in a row eject for 1 s.
            success_rate_stdev_factor: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

impl Pool {
    /// Backends `0..n`, heartbeating every 100 ms for a second (all `Alive` by then).
    async fn start(n: Key, config: MonitorConfig, events: usize) -> Pool {
        let monitor = Arc::new(Monitor::with_clock(config, TokioClock::new()).unwrap());
        let beating = Arc::new(Mutex::new((0..n).collect::<HashSet<Key>>()));
        let (m, b) = (Arc::clone(&monitor), Arc::clone(&beating));
        let beats = tokio::spawn(async move {
            loop {
                let now: Vec<Key> = b.lock().unwrap().iter().copied().collect();
                for k in now {
                    m.heartbeat(&k).unwrap();
                }
                sleep(BEAT).await;
            }
        });
        let service = Service::start(Arc::clone(&monitor), ServiceConfig { events }).unwrap();
        sleep(Duration::from_secs(1)).await;
        for k in 0..n {
            assert_eq!(monitor.level(&k), Some(Level::Alive));
        }
        Pool {
            monitor,
            service: Arc::new(service),
            backends: Arc::default(),
            beating,
            _beats: beats,
        }
    }

    fn endpoint(&self, b: Key) -> Ep {
        EndpointLayer::new(Arc::clone(&self.monitor), b).layer(self.backends.service(b))
    }

    fn discover(&self) -> Disc {
        let (m, backends) = (Arc::clone(&self.monitor), Arc::clone(&self.backends));
        let make: Box<dyn FnMut(&Key) -> Ep + Send> = Box::new(move |b: &Key| {
            EndpointLayer::new(Arc::clone(&m), *b).layer(backends.service(*b))
        });
        PoolDiscover::new(&self.service, make)
    }

    fn silence(&self, b: Key) {
        self.beating.lock().unwrap().remove(&b);
    }

    fn beat(&self, b: Key) {
        self.beating.lock().unwrap().insert(b);
    }
}

async fn send<S>(svc: &mut S, id: u64) -> Result<S::Response, BoxError>
where
    S: tower::Service<u64, Error = BoxError>,
{
    svc.ready().await?.call(id).await
}

/// A change, without its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Seen {
    Insert(Key),
    Remove(Key),
}

/// Every change the discover has ready now.
fn drain(d: &mut Disc) -> Vec<Seen> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    while let Poll::Ready(Some(Ok(change))) = Pin::new(&mut *d).poll_discover(&mut cx) {
        out.push(match change {
            Change::Insert(k, _) => Seen::Insert(k),
            Change::Remove(k) => Seen::Remove(k),
        });
    }
    out
}

fn no_backend(e: &BoxError) -> Option<Nanos> {
    match e.downcast_ref::<Error>() {
        Some(Error::NoBackend { waited }) => Some(*waited),
        _ => None,
    }
}

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test(start_paused = true)]
async fn a_refusing_backend_is_ejected_and_gets_nothing_until_readmitted() {
    let pool = Pool::start(3, config(), 1024).await;
    let b = &pool.backends;
    b.set(2, Mode::Refuse);
    let mut balance = Balance::new(pool.discover());

    // Until backend 2 has refused three requests in a row.
    let (mut id, mut errors) = (0u64, 0usize);
    while b.hits(2) < 3 {
        match send(&mut balance, id).await {
            Ok((k, i)) => assert_eq!((i, k == 2), (id, false)),
            Err(e) => {
                assert_eq!(e.downcast_ref::<Refused>(), Some(&Refused));
                errors += 1;
            }
        }
        id += 1;
        assert!(id < 1_000, "backend 2 was never chosen");
    }
    assert_eq!(errors, 3);
    assert_eq!(pool.monitor.admission(&2), Some(Admission::Ejected));
    let ejected_at = Instant::now();

    // Ejected: the next 60 requests all go to 0 and 1, and all succeed.
    for _ in 0..60 {
        let (k, _) = send(&mut balance, id).await.unwrap();
        assert_ne!(k, 2);
        id += 1;
    }
    assert_eq!(b.hits(2), 3);
    assert_eq!(b.total() as u64, id);
    assert!(ejected_at.elapsed() < Duration::from_secs(1));
    assert_eq!(pool.monitor.admission(&2), Some(Admission::Ejected));
    // A suspect, ejected backend stays in the set: unready, not removed.
    assert_eq!(balance.len(), 3);

    // After its 1 s ejection a tick puts it on probation: exactly one trial request, which is
    // refused and ejects it again (for 2 s).
    sleep(Duration::from_millis(1_100)).await;
    assert_eq!(pool.monitor.admission(&2), Some(Admission::Probation));
    while b.hits(2) < 4 {
        if send(&mut balance, id).await.is_err() {
            errors += 1;
        }
        id += 1;
        assert!(id < 2_000, "the trial request was never sent");
    }
    assert_eq!(errors, 4);
    assert_eq!(pool.monitor.admission(&2), Some(Admission::Ejected));
    let reejected_at = Instant::now();
    for _ in 0..60 {
        assert_ne!(send(&mut balance, id).await.unwrap().0, 2);
        id += 1;
    }
    assert!(reejected_at.elapsed() < Duration::from_secs(2));
    assert_eq!(b.hits(2), 4);
    assert_eq!(b.hits(0) + b.hits(1) + b.hits(2), b.total());
    assert_eq!(b.total() as u64, id);
}

#[tokio::test(start_paused = true)]
async fn on_probation_a_single_trial_goes_out_and_its_success_readmits() {
    let pool = Pool::start(2, config(), 1024).await;
    let b = &pool.backends;
    b.set(1, Mode::Refuse);
    let mut balance = Balance::new(pool.discover());
    let mut id = 0u64;
    while b.hits(1) < 3 {
        let _ = send(&mut balance, id).await;
        id += 1;
        assert!(id < 1_000);
    }
    assert_eq!(pool.monitor.admission(&1), Some(Admission::Ejected));
    sleep(Duration::from_millis(1_100)).await;
    assert_eq!(pool.monitor.admission(&1), Some(Admission::Probation));

    // Six requests at once, each answered after 100 ms. Power of two choices sends one of
    // the first two to 1 (the other then has one more in flight); that one is its trial, and
    // it is unready until the trial ends: the other five go to 0.
    let slow = Mode::Delay(Duration::from_millis(100));
    b.set(0, slow);
    b.set(1, slow);
    let (before0, before1) = (b.hits(0), b.hits(1));
    let mut out = Vec::new();
    for i in 0..6 {
        out.push(balance.ready().await.unwrap().call(1_000 + i));
    }
    assert_eq!((b.hits(0) - before0, b.hits(1) - before1), (5, 1));
    for f in out {
        f.await.unwrap();
    }
    // The trial succeeded: readmitted, and back in the balancer's ready set.
    assert_eq!(pool.monitor.admission(&1), Some(Admission::Admitted));
    b.set(0, Mode::Answer);
    b.set(1, Mode::Answer);
    for i in 0..40 {
        send(&mut balance, 2_000 + i).await.unwrap();
    }
    assert!(
        b.hits(1) > before1 + 1,
        "the readmitted backend got no request"
    );
    assert_eq!(balance.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn poll_ready_is_pending_never_an_error_while_ejected() {
    let pool = Pool::start(0, config(), 1024).await;
    let b = &pool.backends;
    b.set(7, Mode::Refuse);
    let mut ep = pool.endpoint(7);
    for id in 0..3 {
        let e = send(&mut ep, id).await.unwrap_err();
        assert_eq!(e.downcast_ref::<Refused>(), Some(&Refused));
    }
    assert_eq!(pool.monitor.admission(&7), Some(Admission::Ejected));

    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    for _ in 0..3 {
        assert!(ep.poll_ready(&mut cx).is_pending());
    }
    assert_eq!(ep.load(), accrual::tower::Cost::UNAVAILABLE);
    sleep(Duration::from_millis(900)).await;
    assert!(ep.poll_ready(&mut cx).is_pending());
    assert_eq!(counter.wakes(), 0);

    // Readmitted on probation by a tick after 1 s: woken once, and ready.
    sleep(Duration::from_millis(200)).await;
    assert_eq!(counter.wakes(), 1);
    assert_eq!(pool.monitor.admission(&7), Some(Admission::Probation));
    assert!(matches!(ep.poll_ready(&mut cx), Poll::Ready(Ok(()))));

    // The trial request takes the only place: the endpoint is unready until it ends.
    b.set(7, Mode::Delay(Duration::from_millis(100)));
    let trial = ep.call(3);
    assert!(ep.poll_ready(&mut cx).is_pending());
    assert!(!ep.backend().unwrap().try_acquire());
    let before = counter.wakes();
    assert_eq!(trial.await.unwrap(), (7, 3));
    assert!(
        counter.wakes() > before,
        "the end of the trial must wake the endpoint"
    );
    assert_eq!(pool.monitor.admission(&7), Some(Admission::Admitted));
    assert!(matches!(ep.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    assert_eq!(b.hits(7), 4);

    // Ejected between poll_ready and call: the request is not sent.
    b.set(7, Mode::Answer);
    ep.ready().await.unwrap();
    for _ in 0..3 {
        pool.monitor
            .record_outcome(&7, accrual::monitor::Outcome::Refused)
            .unwrap();
    }
    let e = ep.call(4).await.unwrap_err();
    assert_eq!(e.downcast_ref::<Error>(), Some(&Error::NotAdmitted));
    assert_eq!(b.hits(7), 4);
}

#[tokio::test(start_paused = true)]
async fn fails_fast_when_every_backend_is_ejected() {
    let pool = Pool::start(3, config(), 1024).await;
    let b = &pool.backends;
    for k in 0..3 {
        b.set(k, Mode::Refuse);
    }
    let wait = Nanos::from_millis(50);
    let mut svc = FailFast::new(Balance::new(pool.discover()), wait);

    // Each backend refuses three requests, and is ejected.
    let mut id = 0u64;
    while (0..3).any(|k| pool.monitor.admission(&k) != Some(Admission::Ejected)) {
        assert!(send(&mut svc, id).await.is_err());
        id += 1;
        assert!(id < 100);
    }
    let ejected_at = Instant::now();
    assert_eq!((b.hits(0), b.hits(1), b.hits(2)), (3, 3, 3));
    assert_eq!(id, 9);

    // The next request fails after exactly the wait, and reaches no backend.
    let start = Instant::now();
    let e = send(&mut svc, id).await.unwrap_err();
    assert_eq!(no_backend(&e), Some(wait));
    assert_eq!(start.elapsed(), wait.as_duration());
    assert_eq!(b.total(), 9);

    // Under it, the balancer stays pending, never failing: it kept all three endpoints.
    let balance = svc.get_mut();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), balance.ready())
            .await
            .is_err()
    );
    assert_eq!(balance.len(), 3);
    assert!(ejected_at.elapsed() < Duration::from_secs(1));

    // Readmitted on probation, with backends that answer again: requests succeed.
    for k in 0..3 {
        b.set(k, Mode::Answer);
    }
    sleep(Duration::from_millis(600)).await;
    for id in 100..130 {
        assert_eq!(send(&mut svc, id).await.unwrap().1, id);
    }
    assert_eq!(b.total(), 9 + 30);
}

#[tokio::test(start_paused = true)]
async fn hedges_go_to_another_backend_within_the_budget() {
    let cfg = MonitorConfig {
        // No request timeout under 1 s: a slow reply (200 ms) is never a timeout.
        timeout: TimeoutConfig {
            floor: Nanos::from_secs(1),
            ..Default::default()
        },
        ..config()
    };
    let pool = Pool::start(3, cfg, 1024).await;
    let b = &pool.backends;
    let n = 30u64;
    let slow: HashSet<u64> = (0..n).filter(|i| i % 3 == 0).collect();
    *b.slow.lock().unwrap() = slow.clone();
    // Every backend's hedge delay (1 s here, its timeout's floor) bounded to exactly 50 ms.
    let delay = Nanos::from_millis(50);
    let hedge_config = HedgeConfig {
        min_delay: delay,
        max_delay: delay,
    };
    // No reserve; one hedge per five requests: a hedge withdraws 5, a request deposits 1.
    let budget = TpsBudget::new(Duration::from_secs(10), 0, 0.2);
    let mut hedge = Hedge::new(pool.discover(), budget, hedge_config).unwrap();

    let mut answered = Vec::new();
    for id in 0..n {
        let start = Instant::now();
        let (k, i) = send(&mut hedge, id).await.unwrap();
        assert_eq!(i, id);
        answered.push((k, start.elapsed()));
    }

    // The budget's rule, replayed: request `id` has deposited `id + 1`; a hedge needs 5.
    let (mut balance, mut expected) = (0i64, HashSet::new());
    for id in 0..n {
        balance += 1;
        if slow.contains(&id) && balance >= 5 {
            balance -= 5;
            expected.insert(id);
        }
    }
    assert_eq!(expected.len(), 5);

    for id in 0..n {
        let got = b.receivers(id);
        let (k, elapsed) = answered[id as usize];
        if expected.contains(&id) {
            // Hedged after exactly 50 ms to another backend, which answered.
            assert_eq!(got.len(), 2, "request {id}: {got:?}");
            assert_ne!(got[0], got[1], "request {id} hedged to its own backend");
            assert_eq!((k, elapsed), (got[1], delay.as_duration()));
        } else if slow.contains(&id) {
            // Over budget: the primary's own slow answer.
            assert_eq!(got.len(), 1, "request {id}: {got:?}");
            assert_eq!((k, elapsed), (got[0], SLOW));
        } else {
            assert_eq!(got.len(), 1, "request {id}: {got:?}");
            assert_eq!((k, elapsed), (got[0], Duration::ZERO));
        }
    }
    let stats = hedge.stats();
    assert_eq!(stats.requests, n);
    assert_eq!(stats.hedges, 5);
    assert_eq!(stats.hedge_wins, 5);
    assert_eq!(stats.over_budget, 5);
    assert_eq!(stats.no_alternative, 0);
    // Each losing primary was dropped unanswered (its guard recorded it as cancelled).
    assert_eq!(b.cancelled.load(Ordering::SeqCst), 5);
    assert_eq!(b.total() as u64, n + 5);
}

#[tokio::test(start_paused = true)]
async fn a_hedge_never_goes_to_its_own_backend_even_the_cheapest() {
    let cfg = MonitorConfig {
        timeout: TimeoutConfig {
            floor: Nanos::from_secs(1),
            ..Default::default()
        },
        ..config()
    };
    let pool = Pool::start(2, cfg, 1024).await;
    let b = &pool.backends;
    let delay = Nanos::from_millis(50);
    let config = HedgeConfig {
        min_delay: delay,
        max_delay: delay,
    };
    let budget = TpsBudget::new(Duration::from_secs(10), 100, 1.0);
    let mut hedge = Hedge::new(pool.discover(), budget, config).unwrap();
    send(&mut hedge, 100).await.unwrap();
    assert_eq!(hedge.len(), 2);

    // 1 falls silent: its cost, 2^φ, soon exceeds 0's with four requests in flight. It
    // stays in the set until it is dead.
    pool.silence(1);
    let phi = |k: Key| pool.monitor.phi(&k).unwrap();
    while phi(1) < 6.0 {
        sleep(Duration::from_millis(10)).await;
    }
    assert!(phi(1).exp2() > 5.0 * phi(0).exp2());
    assert_ne!(pool.monitor.level(&1), Some(Level::Dead));

    *b.slow.lock().unwrap() = (0..4).collect();
    // Four requests at once: all go to 0, the cheaper, which is ready again for the hedges.
    let mut out = Vec::new();
    for id in 0..4 {
        out.push(hedge.ready().await.unwrap().call(id));
    }
    for id in 0..4 {
        assert_eq!(b.receivers(id), [0]);
    }
    let start = Instant::now();
    for (id, f) in (0..4).zip(out) {
        assert_eq!(f.await.unwrap(), (1, id));
        assert_eq!(start.elapsed(), delay.as_duration());
        assert_eq!(b.receivers(id), [0, 1]);
    }
    let stats = hedge.stats();
    assert_eq!(
        (stats.hedges, stats.hedge_wins, stats.no_alternative),
        (4, 4, 0)
    );
    assert_eq!(b.cancelled.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn a_lone_backend_is_never_hedged_to_itself() {
    let cfg = MonitorConfig {
        timeout: TimeoutConfig {
            floor: Nanos::from_secs(1),
            ..Default::default()
        },
        ..config()
    };
    let pool = Pool::start(1, cfg, 1024).await;
    let b = &pool.backends;
    *b.slow.lock().unwrap() = (0..10).collect();
    let delay = Nanos::from_millis(50);
    let budget = TpsBudget::new(Duration::from_secs(10), 100, 1.0);
    let config = HedgeConfig {
        min_delay: delay,
        max_delay: delay,
    };
    let mut hedge = Hedge::new(pool.discover(), budget, config).unwrap();
    for id in 0..10 {
        let start = Instant::now();
        assert_eq!(send(&mut hedge, id).await.unwrap(), (0, id));
        assert_eq!(start.elapsed(), SLOW);
    }
    let stats = hedge.stats();
    assert_eq!((stats.hedges, stats.no_alternative), (0, 10));
    assert_eq!(b.total(), 10);
}

#[tokio::test(start_paused = true)]
async fn dead_backends_leave_suspect_ones_stay_revived_ones_return() {
    let pool = Pool::start(3, config(), 1024).await;
    let mut d = pool.discover();
    let mut first = drain(&mut d);
    first.sort_by_key(|c| match c {
        Seen::Insert(k) | Seen::Remove(k) => *k,
    });
    assert_eq!(first, [Seen::Insert(0), Seen::Insert(1), Seen::Insert(2)]);

    pool.silence(2);
    let mut saw_suspect = false;
    loop {
        sleep(BEAT).await;
        let changes = drain(&mut d);
        match pool.monitor.level(&2) {
            Some(Level::Dead) => {
                assert_eq!(changes, [Seen::Remove(2)]);
                break;
            }
            level => {
                saw_suspect |= level == Some(Level::Suspect);
                assert_eq!(changes, [], "at {level:?}");
                assert!(d.contains(&2));
            }
        }
    }
    assert!(saw_suspect);
    assert!(!d.contains(&2));

    pool.beat(2);
    loop {
        sleep(BEAT).await;
        let changes = drain(&mut d);
        match pool.monitor.level(&2) {
            Some(Level::Alive) => {
                assert_eq!(changes, [Seen::Insert(2)]);
                break;
            }
            level => assert_eq!(changes, [], "at {level:?}"),
        }
    }
    assert_eq!(d.resyncs(), 0);
    assert_eq!(d.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_lagging_discover_resynchronises() {
    // One event of room: any tick with two changes makes a subscriber lag.
    let pool = Pool::start(3, config(), 1).await;
    let b = &pool.backends;
    let mut d = pool.discover();
    let mut balance = Balance::new(pool.discover());
    assert_eq!(drain(&mut d).len(), 3);
    for id in 0..30 {
        send(&mut balance, id).await.unwrap();
    }
    assert_eq!(balance.len(), 3);

    // Neither reads its events while 2 dies and 3 joins.
    pool.silence(2);
    pool.beat(3);
    while pool.monitor.level(&2) != Some(Level::Dead)
        || pool.monitor.level(&3) != Some(Level::Alive)
    {
        sleep(BEAT).await;
    }

    let changes = drain(&mut d);
    assert_eq!(changes, [Seen::Remove(2), Seen::Insert(3)]);
    assert_eq!(d.resyncs(), 1);
    // The set is the trusted backends, as the service reads them.
    let trusted: HashSet<Key> = pool
        .service
        .levels()
        .peers
        .into_iter()
        .filter(|(_, l)| matches!(l, Level::Alive | Level::Unknown))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(d.members().copied().collect::<HashSet<_>>(), trusted);
    assert_eq!(trusted, HashSet::from([0, 1, 3]));

    // The balancer resynchronised the same way: 2 gets nothing more, 3 its share.
    let before = b.hits(2);
    for id in 100..160 {
        assert_ne!(send(&mut balance, id).await.unwrap().0, 2);
    }
    assert_eq!(balance.len(), 3);
    assert_eq!(b.hits(2), before);
    assert!(b.hits(3) > 0);
    assert_eq!(b.total(), 30 + 60);
}

#[tokio::test(start_paused = true)]
async fn rising_suspicion_steers_requests_away_before_ejection() {
    let pool = Pool::start(3, config(), 1024).await;
    let b = &pool.backends;
    let mut balance = Balance::new(pool.discover());
    for id in 0..30 {
        send(&mut balance, id).await.unwrap();
    }

    // 2 falls silent. Some time later its φ is above the others', though it is still alive.
    pool.silence(2);
    let phi = |k: Key| pool.monitor.phi(&k).unwrap();
    loop {
        sleep(Duration::from_millis(50)).await;
        if phi(2) > phi(0).max(phi(1)) {
            break;
        }
    }
    assert_eq!(pool.monitor.level(&2), Some(Level::Alive));

    // The cost is (in flight + 1) · 2^φ (time does not move while it is read).
    let mut ep = pool.endpoint(2);
    assert_eq!(ep.load().value(), phi(2).exp2());
    b.set(2, Mode::Delay(Duration::from_secs(1)));
    ep.ready().await.unwrap();
    let pending = ep.call(10_000);
    assert_eq!(ep.in_flight(), 1);
    assert_eq!(ep.load().value(), 2.0 * phi(2).exp2());
    drop(pending);
    assert_eq!(ep.in_flight(), 0);
    b.set(2, Mode::Answer);

    // With every backend idle, power of two choices never picks 2 now.
    let before = b.hits(2);
    for id in 100..140 {
        assert_ne!(send(&mut balance, id).await.unwrap().0, 2);
    }
    assert_eq!(b.hits(2), before);
    assert_eq!(pool.monitor.admission(&2), Some(Admission::Admitted));

    // Still none once it is suspect: it stays in the set, at a higher cost still.
    while pool.monitor.level(&2) != Some(Level::Suspect) {
        sleep(BEAT).await;
    }
    for id in 200..240 {
        assert_ne!(send(&mut balance, id).await.unwrap().0, 2);
    }
    assert_eq!(balance.len(), 3);
    assert_eq!(b.hits(2), before);
}

#[tokio::test(start_paused = true)]
async fn requests_time_out_adaptively_and_are_classified() {
    let pool = Pool::start(0, config(), 1024).await;
    let b = &pool.backends;

    // A backend that never answers in time: the request fails after its timeout, which is
    // recorded.
    b.set(5, Mode::Delay(Duration::from_secs(3_600)));
    let mut ep = pool.endpoint(5);
    let limit = ep.backend().unwrap().request_timeout();
    assert_eq!(limit, Nanos::from_secs(1)); // cold
    let start = Instant::now();
    let e = send(&mut ep, 0).await.unwrap_err();
    assert_eq!(
        e.downcast_ref::<Error>(),
        Some(&Error::TimedOut { after: limit })
    );
    assert_eq!(start.elapsed(), limit.as_duration());
    let stats = pool.monitor.stats(&5).unwrap().timeouts.unwrap();
    assert_eq!((stats.timeouts, stats.samples), (1, 0));

    // Replies judged by the classifier: 503s (ids ≥ 1000) are gateway failures, 404s
    // (ids ≥ 500) the client's. The caller gets every reply unchanged.
    b.set(6, Mode::Answer);
    let classify = |r: Result<&(Key, u64), &Refused>| match r {
        Ok((_, id)) if *id >= 1_000 => Verdict::Failed(FailureClass::Gateway),
        Ok((_, id)) if *id >= 500 => Verdict::Failed(FailureClass::Client),
        Ok(_) => Verdict::Success,
        Err(_) => Verdict::Refused,
    };
    let mut ep = EndpointLayer::new(Arc::clone(&pool.monitor), 6)
        .classify(classify)
        .layer(b.service(6));
    for id in 500..510 {
        assert_eq!(send(&mut ep, id).await.unwrap(), (6, id));
    }
    // Client errors say nothing against the backend: they are round-trip samples.
    assert_eq!(pool.monitor.admission(&6), Some(Admission::Admitted));
    assert_eq!(
        pool.monitor.stats(&6).unwrap().timeouts.unwrap().samples,
        10
    );
    for id in 1_000..1_003 {
        assert_eq!(send(&mut ep, id).await.unwrap(), (6, id));
    }
    assert_eq!(pool.monitor.admission(&6), Some(Admission::Ejected));
    assert_eq!(b.hits(6), 13);
}
