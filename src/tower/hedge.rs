//! Hedged requests over a discover set: [`Hedge`].

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use ::tower::discover::{Change, Discover};
use ::tower::load::Load;
use ::tower::ready_cache::ReadyCache;
use ::tower::retry::budget::{Budget, TpsBudget};
use ::tower::util::rng::{HasherRng, Rng};
use ::tower::{BoxError, Service};
use parking_lot::Mutex;
use tokio::time::Sleep;

use super::{Error, HedgeDelay};
use crate::config::{ConfigError, check_bounded, check_duration_order};
use crate::time::Nanos;

/// Bounds on the delay after which a [`Hedge`] copies a request to another backend: each
/// backend's own [hedge delay](HedgeDelay), at least `min_delay` and at most `max_delay`.
///
/// | field | default | rule |
/// |---|---|---|
/// | `min_delay` | `0ns` | ≤ `max_delay` |
/// | `max_delay` | `60s` | at most about 104 days |
///
/// ```
/// use accrual::tower::HedgeConfig;
/// use accrual::{ConfigError, Nanos};
///
/// let cfg = HedgeConfig { min_delay: Nanos::from_secs(2), max_delay: Nanos::from_secs(1) };
/// assert!(matches!(cfg.validate(), Err(ConfigError::InvertedDurations { .. })));
/// assert!(HedgeConfig::default().validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HedgeConfig {
    /// Never hedge sooner than this.
    pub min_delay: Nanos,
    /// Never wait longer than this before hedging.
    pub max_delay: Nanos,
}

impl Default for HedgeConfig {
    fn default() -> Self {
        HedgeConfig {
            min_delay: Nanos::ZERO,
            max_delay: Nanos::from_secs(60),
        }
    }
}

impl HedgeConfig {
    /// Checks every rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_bounded("tower.hedge.max_delay", self.max_delay)?;
        check_duration_order(
            ("tower.hedge.min_delay", self.min_delay),
            ("tower.hedge.max_delay", self.max_delay),
        )
    }

    fn clamp(&self, delay: Nanos) -> Nanos {
        delay.max(self.min_delay).min(self.max_delay)
    }
}

/// What a [`Hedge`] has done so far: see [`Hedge::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HedgeStats {
    /// Requests sent (each deposits into the budget).
    pub requests: u64,
    /// Hedged copies sent (each withdrew from the budget).
    pub hedges: u64,
    /// Requests answered by their hedged copy first.
    pub hedge_wins: u64,
    /// Hedges the budget refused.
    pub over_budget: u64,
    /// Hedges not sent for want of another ready backend.
    pub no_alternative: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    hedges: AtomicU64,
    hedge_wins: AtomicU64,
    over_budget: AtomicU64,
    no_alternative: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The ready set, as the service and its requests in flight share it.
type SharedPool<K, S, Req> = Arc<Mutex<Pool<K, S, Req>>>;

/// The ready set, shared by the service and its requests in flight (which send the hedges).
struct Pool<K: Hash + Eq, S, Req> {
    services: ReadyCache<K, S, Req>,
    rng: HasherRng,
    /// The waker of the task that last polled the service ready. The requests in flight
    /// poll the cache with it too, so that a service turning ready always wakes that task
    /// (the cache remembers one waker for all its pending services).
    waker: Option<Waker>,
}

impl<K, S, Req> Pool<K, S, Req>
where
    K: Hash + Eq + Clone,
    S: Service<Req> + Load,
    S::Error: Into<BoxError>,
    S::Metric: PartialOrd,
{
    /// Power of two choices among the ready services other than `except`: two distinct ones at
    /// random, the less loaded (the first of the two on a tie).
    fn p2c(&mut self, except: Option<&K>) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.services.ready_len())
            .filter(|&i| {
                except.is_none_or(|x| self.services.get_ready_index(i).is_none_or(|(k, _)| k != x))
            })
            .collect();
        let n = candidates.len() as u64;
        match n {
            0 => None,
            1 => Some(candidates[0]),
            _ => {
                let a = self.rng.next_range(0..n);
                let mut b = self.rng.next_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                let (a, b) = (candidates[a as usize], candidates[b as usize]);
                let load = |i| self.services.get_ready_index(i).map(|(_, s)| s.load());
                match (load(a), load(b)) {
                    (Some(la), Some(lb)) if lb < la => Some(b),
                    _ => Some(a),
                }
            }
        }
    }

    /// The key of a ready service and its hedge delay.
    fn describe(&self, index: usize) -> Option<(K, Option<Nanos>)>
    where
        S: HedgeDelay,
    {
        self.services
            .get_ready_index(index)
            .map(|(k, s)| (k.clone(), s.hedge_delay()))
    }
}

/// A power-of-two-choices balancer over a discover set (a [`PoolDiscover`](super::PoolDiscover)
/// of [`Endpoint`](super::Endpoint)s) that hedges: a request still unanswered after its
/// backend's [hedge delay](HedgeDelay) (within [`HedgeConfig`]'s bounds) is copied to another
/// ready backend, never the same one, if the retry budget allows.
///
/// * Every request deposits into the budget `B` (a [`TpsBudget`] by default); every hedge
///   withdraws from it, and is not sent when it is empty. With `TpsBudget::new(ttl,
///   min_per_sec, percent)`, hedges are at most `percent` of the requests of the last `ttl`,
///   plus `min_per_sec` a second.
/// * The first reply wins; the other request is dropped at once, which an
///   [`Endpoint`](super::Endpoint) records as cancelled (neither a success nor a failure).
///   An error waits for the other request, if one is still out; the later error is returned
///   when both fail.
/// * The primary is chosen as tower's [`Balance`](::tower::balance::p2c::Balance) chooses:
///   two ready services at random, the lower [`Load`]. The hedge is chosen the same way among
///   the ready services other than the primary's.
///
/// `poll_ready` is `Pending` while no service is ready: wrap the hedge in a
/// [`FailFast`](super::FailFast) to bound the wait. Requests must be `Clone` (a copy is kept
/// for the hedge). Hedge delays run on tokio's timer: outside a tokio runtime requests are
/// not hedged.
///
/// # Panics
///
/// Inside a tokio runtime built without its time driver (`enable_time`), `call` panics, as
/// every tokio timer does.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use accrual::monitor::{Monitor, MonitorConfig};
/// use accrual::runtime::{Service, ServiceConfig, TokioClock};
/// use accrual::tower::{EndpointLayer, Hedge, HedgeConfig, PoolDiscover};
/// use accrual::Nanos;
/// use tower::retry::budget::TpsBudget;
/// use tower::{Layer, Service as _, ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
/// monitor.heartbeat(&"a").unwrap();
/// monitor.heartbeat(&"b").unwrap();
/// let service = Arc::new(Service::start(monitor.clone(), ServiceConfig::default()).unwrap());
/// let m = monitor.clone();
/// let discover = PoolDiscover::new(&service, move |b: &&'static str| {
///     let b = *b;
///     // "a" takes a second to answer, "b" answers at once.
///     let inner = service_fn(move |_req: ()| async move {
///         if b == "a" {
///             tokio::time::sleep(Duration::from_secs(1)).await;
///         }
///         Ok::<_, std::io::Error>(b)
///     });
///     EndpointLayer::new(m.clone(), b).layer(inner)
/// });
/// let config = HedgeConfig { max_delay: Nanos::from_millis(20), ..Default::default() };
/// let mut hedge = Hedge::new(discover, TpsBudget::new(Duration::from_secs(10), 1, 0.2), config).unwrap();
/// let mut answers = Vec::new();
/// for _ in 0..10 {
///     answers.push(hedge.ready().await.unwrap().call(()).await.unwrap());
/// }
/// // Every request sent to "a" was hedged to "b" after 20 ms, and "b" answered it.
/// assert!(answers.iter().all(|b| *b == "b"));
/// let stats = hedge.stats();
/// assert_eq!(stats.requests, 10);
/// assert_eq!(stats.hedges, stats.hedge_wins);
/// # });
/// ```
pub struct Hedge<D, Req, B = TpsBudget>
where
    D: Discover,
    D::Key: Hash,
{
    discover: D,
    pool: SharedPool<D::Key, D::Service, Req>,
    /// The service the latest `poll_ready` found ready, by key: a hedge may have taken it
    /// (and shifted the ready set) before `call`.
    reserved: Option<D::Key>,
    budget: Arc<B>,
    config: HedgeConfig,
    counters: Arc<Counters>,
}

impl<D, Req, B> Hedge<D, Req, B>
where
    D: Discover,
    D::Key: Hash + Eq + Clone,
    D::Service: Service<Req>,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    /// A hedging balancer over `discover`, hedging within `budget`, after `config`'s bounds on
    /// each backend's hedge delay, once `config` is checked.
    pub fn new(discover: D, budget: B, config: HedgeConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Hedge {
            discover,
            pool: Arc::new(Mutex::new(Pool {
                services: ReadyCache::default(),
                rng: HasherRng::default(),
                waker: None,
            })),
            reserved: None,
            budget: Arc::new(budget),
            config,
            counters: Arc::default(),
        })
    }

    /// What it has done so far.
    pub fn stats(&self) -> HedgeStats {
        let c = &self.counters;
        HedgeStats {
            requests: c.requests.load(Ordering::Relaxed),
            hedges: c.hedges.load(Ordering::Relaxed),
            hedge_wins: c.hedge_wins.load(Ordering::Relaxed),
            over_budget: c.over_budget.load(Ordering::Relaxed),
            no_alternative: c.no_alternative.load(Ordering::Relaxed),
        }
    }

    /// The services it balances, ready or not.
    pub fn len(&self) -> usize {
        self.pool.lock().services.len()
    }

    /// Whether it balances no service.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The budget.
    pub fn budget(&self) -> &B {
        &self.budget
    }
}

impl<D, Req, B> fmt::Debug for Hedge<D, Req, B>
where
    D: Discover + fmt::Debug,
    D::Key: Hash + fmt::Debug,
    B: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedge")
            .field("discover", &self.discover)
            .field("reserved", &self.reserved)
            .field("budget", &self.budget)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<D, Req, B> Service<Req> for Hedge<D, Req, B>
where
    D: Discover + Unpin,
    D::Key: Hash + Eq + Clone,
    D::Error: Into<BoxError>,
    D::Service: Service<Req> + Load + HedgeDelay,
    <D::Service as Load>::Metric: PartialOrd,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
    Req: Clone,
    B: Budget,
{
    type Response = <D::Service as Service<Req>>::Response;
    type Error = BoxError;
    type Future = HedgeFuture<D::Key, D::Service, Req, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let mut pool = self.pool.lock();
        if !pool.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            pool.waker = Some(cx.waker().clone());
        }
        loop {
            match Pin::new(&mut self.discover).poll_discover(cx) {
                Poll::Ready(Some(Ok(Change::Insert(key, svc)))) => pool.services.push(key, svc),
                Poll::Ready(Some(Ok(Change::Remove(key)))) => {
                    pool.services.evict(&key);
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e.into())),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        // A service that fails readiness is dropped by the cache; keep promoting the others.
        while let Poll::Ready(Err(_)) = pool.services.poll_pending(cx) {}
        loop {
            if let Some(key) = self.reserved.take()
                && let Ok(true) = pool.services.check_ready(cx, &key)
            {
                self.reserved = Some(key);
                return Poll::Ready(Ok(()));
            }
            let Some((key, _)) = pool.p2c(None).and_then(|i| pool.describe(i)) else {
                return Poll::Pending;
            };
            self.reserved = Some(key);
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let mut pool = self.pool.lock();
        let index = match self.reserved.take() {
            Some(key) => match pool.services.get_ready(&key) {
                Some((i, _, _)) => Some(i),
                // A hedge took it: any other ready service was checked ready too.
                None => pool.p2c(None),
            },
            None => None,
        };
        let Some((index, (key, delay))) = index.and_then(|i| Some((i, pool.describe(i)?))) else {
            return HedgeFuture::failed(Error::Unavailable, self);
        };
        self.budget.deposit();
        bump(&self.counters.requests);
        let runtime = tokio::runtime::Handle::try_current().is_ok();
        let sleep = delay
            .filter(|_| runtime)
            .map(|d| Box::pin(tokio::time::sleep(self.config.clamp(d).as_duration())));
        let copy = sleep.as_ref().map(|_| req.clone());
        let primary = pool.services.call_ready_index(index, req);
        HedgeFuture {
            primary: Some(Box::pin(primary)),
            primary_key: Some(key),
            hedge: None,
            sleep,
            request: copy,
            error: None,
            pool: Arc::clone(&self.pool),
            budget: Arc::clone(&self.budget),
            counters: Arc::clone(&self.counters),
        }
    }
}

/// The future of a [`Hedge`]'s request: the first reply of the request and its hedged copy.
pub struct HedgeFuture<K, S, Req, B>
where
    K: Hash + Eq,
    S: Service<Req>,
{
    primary: Option<Pin<Box<S::Future>>>,
    primary_key: Option<K>,
    hedge: Option<Pin<Box<S::Future>>>,
    sleep: Option<Pin<Box<Sleep>>>,
    request: Option<Req>,
    error: Option<BoxError>,
    pool: SharedPool<K, S, Req>,
    budget: Arc<B>,
    counters: Arc<Counters>,
}

// No field is ever pinned in place: the futures and the timer are boxed.
impl<K: Hash + Eq, S: Service<Req>, Req, B> Unpin for HedgeFuture<K, S, Req, B> {}

impl<K, S, Req, B> HedgeFuture<K, S, Req, B>
where
    K: Hash + Eq,
    S: Service<Req>,
{
    fn failed<D>(error: Error, hedge: &Hedge<D, Req, B>) -> Self
    where
        D: Discover<Key = K, Service = S>,
    {
        HedgeFuture {
            primary: None,
            primary_key: None,
            hedge: None,
            sleep: None,
            request: None,
            error: Some(error.into()),
            pool: Arc::clone(&hedge.pool),
            budget: Arc::clone(&hedge.budget),
            counters: Arc::clone(&hedge.counters),
        }
    }
}

impl<K, S, Req, B> HedgeFuture<K, S, Req, B>
where
    K: Hash + Eq + Clone,
    S: Service<Req> + Load,
    S::Error: Into<BoxError>,
    S::Metric: PartialOrd,
    B: Budget,
{
    /// Sends the hedged copy to another ready backend, if there is one and the budget allows.
    fn send_hedge(&mut self) {
        let Some(req) = self.request.take() else {
            return;
        };
        let mut pool = self.pool.lock();
        // The cache is polled with the service's waker, never this request's: see `Pool`.
        let waker = pool.waker.clone().unwrap_or_else(|| Waker::noop().clone());
        let mut cx = Context::from_waker(&waker);
        // Services called since the service was last polled ready are pending: promote
        // those that are ready again (a failed one is dropped by the cache).
        while let Poll::Ready(Err(_)) = pool.services.poll_pending(&mut cx) {}
        let index = loop {
            let Some(i) = pool.p2c(self.primary_key.as_ref()) else {
                bump(&self.counters.no_alternative);
                return;
            };
            // Ready when last polled; checked again now (one that is no longer ready goes
            // back to the pending set, one that failed is dropped).
            if let Ok(true) = pool.services.check_ready_index(&mut cx, i) {
                break i;
            }
        };
        if !self.budget.withdraw() {
            bump(&self.counters.over_budget);
            return;
        }
        bump(&self.counters.hedges);
        self.hedge = Some(Box::pin(pool.services.call_ready_index(index, req)));
    }
}

impl<K, S, Req, B> Future for HedgeFuture<K, S, Req, B>
where
    K: Hash + Eq + Clone,
    S: Service<Req> + Load,
    S::Error: Into<BoxError>,
    S::Metric: PartialOrd,
    B: Budget,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is boxed or `Unpin`: nothing here is pinned in place.
        let this = self.get_mut();
        loop {
            if let Some(f) = this.primary.as_mut()
                && let Poll::Ready(result) = f.as_mut().poll(cx)
            {
                this.primary = None;
                match result {
                    Ok(response) => {
                        // The hedge lost: dropped now, recorded as cancelled.
                        this.hedge = None;
                        this.sleep = None;
                        return Poll::Ready(Ok(response));
                    }
                    Err(e) => this.error = Some(e.into()),
                }
            }
            if let Some(f) = this.hedge.as_mut()
                && let Poll::Ready(result) = f.as_mut().poll(cx)
            {
                this.hedge = None;
                match result {
                    Ok(response) => {
                        // The primary lost: dropped now, recorded as cancelled.
                        this.primary = None;
                        bump(&this.counters.hedge_wins);
                        return Poll::Ready(Ok(response));
                    }
                    Err(e) => this.error = Some(e.into()),
                }
            }
            if this.primary.is_none() && this.hedge.is_none() {
                this.sleep = None;
                this.request = None;
                let error = this
                    .error
                    .take()
                    .unwrap_or_else(|| Error::Unavailable.into());
                return Poll::Ready(Err(error));
            }
            // Time to hedge? Only while the primary is still out.
            match this.sleep.as_mut() {
                Some(sleep) if this.primary.is_some() => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.sleep = None;
                    this.send_hedge();
                    if this.hedge.is_none() {
                        return Poll::Pending;
                    }
                    // Poll the new hedge once, to register its wake-up.
                }
                _ => return Poll::Pending,
            }
        }
    }
}

impl<K: Hash + Eq + fmt::Debug, S, Req, B> fmt::Debug for HedgeFuture<K, S, Req, B>
where
    S: Service<Req>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HedgeFuture")
            .field("primary", &self.primary_key)
            .field("primary_out", &self.primary.is_some())
            .field("hedge_out", &self.hedge.is_some())
            .field("hedge_pending", &self.sleep.is_some())
            .finish_non_exhaustive()
    }
}
