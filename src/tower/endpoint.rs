//! One backend's service: [`EndpointLayer`] and [`Endpoint`].

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use ::tower::load::Load;
use ::tower::{BoxError, Layer, Service};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use super::Error;
use crate::monitor::{Admission, Backend, FailureClass, Monitor, RequestGuard};
use crate::time::{Clock, Nanos};

/// What a reply or an error says about the backend that sent it: how an [`Endpoint`] records
/// the request's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The backend served the request: a round-trip sample.
    Success,
    /// The connection was refused or reset before any reply: a gateway failure.
    Refused,
    /// An error of this class, replied by the backend or met on the way.
    Failed(FailureClass),
}

/// Judges each result of a backend's inner service: see [`Verdict`]. The result reaches the
/// caller unchanged whatever the verdict; only what is recorded about the backend differs.
///
/// Closures taking `Result<&Response, &Error>` are classifiers (annotate the argument's type
/// so that the closure is general over its lifetime):
///
/// ```
/// use accrual::monitor::FailureClass;
/// use accrual::tower::{Classify, Verdict};
///
/// // A reply of 503 is the backend's failure; any error, a refused connection.
/// let classify = |r: Result<&u16, &std::io::Error>| match r {
///     Ok(503) => Verdict::Failed(FailureClass::Gateway),
///     Ok(s) if *s >= 500 => Verdict::Failed(FailureClass::Server),
///     Ok(s) if *s >= 400 => Verdict::Failed(FailureClass::Client),
///     Ok(_) => Verdict::Success,
///     Err(_) => Verdict::Refused,
/// };
/// assert_eq!(classify.classify(Ok(&503)), Verdict::Failed(FailureClass::Gateway));
/// assert_eq!(classify.classify(Ok(&200)), Verdict::Success);
/// ```
pub trait Classify<Resp, E> {
    /// The verdict on one result.
    fn classify(&self, result: Result<&Resp, &E>) -> Verdict;
}

impl<F, Resp, E> Classify<Resp, E> for F
where
    F: Fn(Result<&Resp, &E>) -> Verdict,
{
    fn classify(&self, result: Result<&Resp, &E>) -> Verdict {
        self(result)
    }
}

/// The classifier an [`EndpointLayer`] starts with: every reply is a success, and every error
/// of the inner service a refused connection (for a client, an error with no reply is a
/// transport failure: refused, reset, unreachable).
///
/// ```
/// use accrual::tower::{Classify, DefaultClassify, Verdict};
///
/// assert_eq!(Classify::<u8, ()>::classify(&DefaultClassify, Ok(&7)), Verdict::Success);
/// assert_eq!(Classify::<u8, ()>::classify(&DefaultClassify, Err(&())), Verdict::Refused);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultClassify;

impl<Resp, E> Classify<Resp, E> for DefaultClassify {
    fn classify(&self, result: Result<&Resp, &E>) -> Verdict {
        match result {
            Ok(_) => Verdict::Success,
            Err(_) => Verdict::Refused,
        }
    }
}

/// An [`Endpoint`]'s load, as power of two choices compares it: lower is better. See the
/// [module docs](super#costs) for the formula.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Cost(f64);

impl Cost {
    /// The cost of a backend that takes no requests.
    pub const UNAVAILABLE: Cost = Cost(f64::INFINITY);

    /// The cost as a number: `(in_flight + 1) · 2^min(φ, 64)`, or `+∞`.
    pub fn value(self) -> f64 {
        self.0
    }
}

/// The largest φ the cost weighs: `2^64` is already beyond any count of requests in flight.
const MAX_PHI: f64 = 64.0;

/// One request counted in flight until dropped.
#[derive(Debug)]
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A [`Layer`] that wraps one backend's inner service in an [`Endpoint`]: build one per
/// backend, with the backend's key, typically in the `make_endpoint` closure of a
/// [`PoolDiscover`](super::PoolDiscover).
///
/// ```
/// use std::sync::Arc;
/// use accrual::monitor::{FailureClass, Monitor, MonitorConfig};
/// use accrual::runtime::TokioClock;
/// use accrual::tower::{EndpointLayer, Verdict};
/// use tower::{Layer, service_fn};
///
/// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
/// let inner = service_fn(|req: u16| async move { Ok::<u16, std::io::Error>(req) });
/// let endpoint = EndpointLayer::new(monitor.clone(), "10.0.0.1:80")
///     .classify(|r: Result<&u16, &std::io::Error>| match r {
///         Ok(s) if *s >= 500 => Verdict::Failed(FailureClass::Server),
///         Ok(_) => Verdict::Success,
///         Err(_) => Verdict::Refused,
///     })
///     .layer(inner);
/// assert_eq!(endpoint.key(), &"10.0.0.1:80");
/// assert!(monitor.contains(&"10.0.0.1:80"));
/// ```
pub struct EndpointLayer<K, C: Clock, Cl = DefaultClassify> {
    monitor: Arc<Monitor<K, C>>,
    key: K,
    classify: Cl,
}

impl<K: Hash + Eq + Clone, C: Clock> EndpointLayer<K, C, DefaultClassify> {
    /// A layer for the backend `key` of `monitor`, with the [`DefaultClassify`]r.
    pub fn new(monitor: Arc<Monitor<K, C>>, key: K) -> Self {
        EndpointLayer {
            monitor,
            key,
            classify: DefaultClassify,
        }
    }
}

impl<K, C: Clock, Cl> EndpointLayer<K, C, Cl> {
    /// The same layer judging results with `classify`.
    pub fn classify<Cl2>(self, classify: Cl2) -> EndpointLayer<K, C, Cl2> {
        EndpointLayer {
            monitor: self.monitor,
            key: self.key,
            classify,
        }
    }
}

impl<K: Clone, C: Clock, Cl: Clone> Clone for EndpointLayer<K, C, Cl> {
    fn clone(&self) -> Self {
        EndpointLayer {
            monitor: Arc::clone(&self.monitor),
            key: self.key.clone(),
            classify: self.classify.clone(),
        }
    }
}

impl<K: fmt::Debug, C: Clock, Cl> fmt::Debug for EndpointLayer<K, C, Cl> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointLayer")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<S, K, C, Cl> Layer<S> for EndpointLayer<K, C, Cl>
where
    K: Hash + Eq + Clone,
    C: Clock,
    Cl: Clone,
{
    type Service = Endpoint<S, K, C, Cl>;

    fn layer(&self, inner: S) -> Self::Service {
        Endpoint {
            inner,
            // Refused only when the monitor's table is full: tried again in `poll_ready`.
            backend: self.monitor.backend(&self.key).ok(),
            key: self.key.clone(),
            monitor: Arc::clone(&self.monitor),
            classify: self.classify.clone(),
            in_flight: Arc::default(),
        }
    }
}

/// One backend's inner service `S`, watched by the monitor: see the [module docs](super).
///
/// * `poll_ready` is `Pending` while the backend is ejected, or on probation with its trial
///   request out, and the task is woken when that changes. Ejection is never an error, so a
///   balancer never drops the endpoint for it. Then the inner service's readiness.
/// * `call` takes the backend's trial request on probation
///   ([`Backend::try_acquire`]); reads the backend's request timeout; and sends the request.
///   The reply or error is [classified](Classify) and recorded through a
///   [`RequestGuard`]; no reply within the timeout fails the request with
///   [`Error::TimedOut`] and records it as timed out; a request dropped unfinished (a hedge
///   that lost, a caller gone) is recorded as cancelled.
/// * Its [`Load`] is a [`Cost`] that grows with its requests in flight and with its φ.
///
/// Outside a tokio runtime, `call` fails with [`Error::NoRuntime`].
///
/// # Panics
///
/// Inside a tokio runtime built without its time driver (`enable_time`), `call` panics, as
/// every tokio timer does.
pub struct Endpoint<S, K, C: Clock, Cl = DefaultClassify> {
    inner: S,
    key: K,
    monitor: Arc<Monitor<K, C>>,
    backend: Option<Backend>,
    classify: Cl,
    in_flight: Arc<AtomicUsize>,
}

impl<S, K, C: Clock, Cl> Endpoint<S, K, C, Cl> {
    /// The backend's key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The backend's handle in the monitor (`None` while the monitor's table is full).
    pub fn backend(&self) -> Option<&Backend> {
        self.backend.as_ref()
    }

    /// Its requests sent and not yet finished.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: fmt::Debug, K: fmt::Debug, C: Clock, Cl> fmt::Debug for Endpoint<S, K, C, Cl> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("key", &self.key)
            .field("backend", &self.backend)
            .field("in_flight", &self.in_flight())
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, K, C, Cl, Req> Service<Req> for Endpoint<S, K, C, Cl>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    K: Hash + Eq + Clone,
    C: Clock,
    Cl: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, K, C, Cl>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let backend = match &self.backend {
            Some(b) => b,
            None => match self.monitor.backend(&self.key) {
                Ok(b) => self.backend.insert(b),
                Err(e) => return Poll::Ready(Err(Error::Monitor(e).into())),
            },
        };
        // Ejected, or its trial request out: the backend wakes the task when that ends.
        if backend.poll_ready(cx).is_pending() {
            return Poll::Pending;
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let failed = |error| ResponseFuture {
            state: State::Failed { error: Some(error) },
        };
        let Some(backend) = &self.backend else {
            return failed(Error::NotAdmitted);
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return failed(Error::NoRuntime);
        }
        if !backend.try_acquire() {
            return failed(Error::NotAdmitted);
        }
        let guard = match self.monitor.start_request(&self.key) {
            Ok(g) => g,
            // Only for a backend removed since: its handle is stale, and the discover set
            // replaces the endpoint.
            Err(e) => return failed(Error::Monitor(e)),
        };
        let timeout = backend.request_timeout();
        let in_flight = InFlight::new(&self.in_flight);
        ResponseFuture {
            state: State::Running {
                inner: self.inner.call(req),
                sleep: tokio::time::sleep(timeout.as_duration()),
                guard: Some(guard),
                classify: self.classify.clone(),
                timeout,
                in_flight: Some(in_flight),
            },
        }
    }
}

impl<S, K, C, Cl> Load for Endpoint<S, K, C, Cl>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    type Metric = Cost;

    /// `(in_flight + 1) · 2^min(φ, 64)`; `+∞` while ejected. See the
    /// [module docs](super#costs).
    fn load(&self) -> Cost {
        let Some(backend) = &self.backend else {
            return Cost::UNAVAILABLE;
        };
        if backend.admission() == Admission::Ejected {
            return Cost::UNAVAILABLE;
        }
        let phi = self.monitor.phi(&self.key).unwrap_or(0.0);
        // NaN (never expected) counts as the most suspect.
        let phi = if phi.is_nan() {
            MAX_PHI
        } else {
            phi.clamp(0.0, MAX_PHI)
        };
        let requests = self.in_flight() as f64 + 1.0;
        Cost(requests * phi.exp2())
    }
}

/// How long to wait before hedging a request sent to a service: what [`Hedge`](super::Hedge)
/// asks of the services it balances.
pub trait HedgeDelay {
    /// The delay after which a request still unanswered is copied to another backend; `None`
    /// for never.
    fn hedge_delay(&self) -> Option<Nanos>;
}

impl<S, K, C: Clock, Cl> HedgeDelay for Endpoint<S, K, C, Cl> {
    /// The backend's own hedge delay ([`Backend::hedge_delay`]), learned from its round
    /// trips and read without a lock.
    fn hedge_delay(&self) -> Option<Nanos> {
        self.backend.as_ref().map(Backend::hedge_delay)
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, K, C, Cl>
    where
        K: Hash,
        K: Eq,
        K: Clone,
        C: Clock,
    {
        Failed { error: Option<Error> },
        Running {
            #[pin]
            inner: F,
            #[pin]
            sleep: Sleep,
            guard: Option<RequestGuard<K, C>>,
            classify: Cl,
            timeout: Nanos,
            in_flight: Option<InFlight>,
        },
    }
}

pin_project! {
    /// The future of an [`Endpoint`]'s request: its reply, an inner error, or an [`Error`].
    pub struct ResponseFuture<F, K, C, Cl>
    where
        K: Hash,
        K: Eq,
        K: Clone,
        C: Clock,
    {
        #[pin]
        state: State<F, K, C, Cl>,
    }
}

impl<F, K, C, Cl> fmt::Debug for ResponseFuture<F, K, C, Cl>
where
    K: Hash + Eq + Clone + fmt::Debug,
    C: Clock,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Failed { error } => f
                .debug_struct("ResponseFuture")
                .field("error", error)
                .finish(),
            State::Running { guard, timeout, .. } => f
                .debug_struct("ResponseFuture")
                .field("guard", guard)
                .field("timeout", timeout)
                .finish_non_exhaustive(),
        }
    }
}

impl<F, T, E, K, C, Cl> Future for ResponseFuture<F, K, C, Cl>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    K: Hash + Eq + Clone,
    C: Clock,
    Cl: Classify<T, E>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Failed { error } => {
                Poll::Ready(Err(error.take().unwrap_or(Error::NotAdmitted).into()))
            }
            StateProj::Running {
                inner,
                sleep,
                guard,
                classify,
                timeout,
                in_flight,
            } => {
                if let Poll::Ready(result) = inner.poll(cx) {
                    if let Some(g) = guard.take() {
                        match classify.classify(result.as_ref()) {
                            Verdict::Success => g.success(),
                            Verdict::Refused => g.refused(),
                            Verdict::Failed(class) => g.failure(class),
                        }
                    }
                    drop(in_flight.take());
                    return Poll::Ready(result.map_err(Into::into));
                }
                if sleep.poll(cx).is_ready() {
                    if let Some(g) = guard.take() {
                        g.timed_out();
                    }
                    drop(in_flight.take());
                    return Poll::Ready(Err(Error::TimedOut { after: *timeout }.into()));
                }
                Poll::Pending
            }
        }
    }
}
