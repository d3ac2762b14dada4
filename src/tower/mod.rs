//! The monitor behind a load balancer of [the tower crate](::tower) (feature `tower`): which
//! backends are in the pool, how long a request to each may take, how loaded and how suspect
//! each is, when to hedge a request elsewhere, and when to give up waiting for any.
//!
//! # Pieces
//!
//! * [`PoolDiscover`]: a [`Discover`](::tower::discover::Discover) of the pool's trusted
//!   backends, fed by a [`Service`](crate::runtime::Service)'s events. A backend is inserted
//!   when it becomes trusted (`Unknown` or `Alive`) and removed when it is `Dead` or expires;
//!   a `Suspect` backend stays (the [`Load`](::tower::load::Load) steers away from it, and an
//!   ejection makes it unready). A subscriber that lags resynchronises from
//!   [`Service::levels`](crate::runtime::Service::levels) and emits the difference.
//! * [`EndpointLayer`] and [`Endpoint`]: one backend's service with its adaptive request
//!   timeout ([`Backend::request_timeout`](crate::monitor::Backend::request_timeout), read
//!   without a lock on every call), every outcome recorded through a
//!   [`RequestGuard`](crate::monitor::RequestGuard) and judged by a [`Classify`]r, readiness
//!   that is `Pending` (never an error) while the backend is ejected, a single trial request
//!   on probation, and a [`Cost`] that grows with the backend's φ.
//! * [`Hedge`]: a power-of-two-choices balancer over the same discover set that sends a copy
//!   of a slow request to a *different* backend after the first one's hedge delay, within a
//!   retry budget ([`TpsBudget`](::tower::retry::budget::TpsBudget)); the loser is dropped,
//!   which records it as cancelled.
//! * [`FailFast`]: fails a request with [`Error::NoBackend`] when no backend becomes ready
//!   within a bounded wait, instead of waiting for one forever.
//!
//! Every error these services return themselves is an [`Error`], boxed as
//! [`BoxError`](::tower::BoxError) like the rest of tower's; an inner service's errors pass
//! through unchanged.
//!
//! # Example
//!
//! Three backends behind tower's own [`Balance`](::tower::balance::p2c::Balance): one refuses
//! every request, and after three refusals in a row it is ejected and gets no more.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use accrual::monitor::{Admission, Monitor, MonitorConfig};
//! use accrual::runtime::{Service, ServiceConfig, TokioClock};
//! use accrual::tower::{EndpointLayer, FailFast, PoolDiscover};
//! use accrual::Nanos;
//! use tower::balance::p2c::Balance;
//! use tower::{Layer, Service as _, ServiceExt, service_fn};
//!
//! #[derive(Debug)]
//! struct Refused;
//! impl std::fmt::Display for Refused {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("connection refused")
//!     }
//! }
//! impl std::error::Error for Refused {}
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! let config = MonitorConfig { max_dead_fraction: 1.0, ..Default::default() };
//! let monitor = Arc::new(Monitor::with_clock(config, TokioClock::new()).unwrap());
//! for b in 0..3u32 {
//!     monitor.heartbeat(&b).unwrap();
//! }
//! let service = Arc::new(Service::start(monitor.clone(), ServiceConfig::default()).unwrap());
//!
//! // Backend 2 refuses every connection; the others answer.
//! let hits: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
//! let m = monitor.clone();
//! let h = hits.clone();
//! let discover = PoolDiscover::new(&service, move |b: &u32| {
//!     let (b, h) = (*b, h.clone());
//!     let backend = service_fn(move |req: u32| {
//!         h[b as usize].fetch_add(1, Ordering::Relaxed);
//!         async move { if b == 2 { Err(Refused) } else { Ok(req * 10) } }
//!     });
//!     EndpointLayer::new(m.clone(), b).layer(backend)
//! });
//! // Give up after 50 ms when no backend is ready, rather than wait for ever.
//! let mut balancer = FailFast::new(Balance::new(discover), Nanos::from_millis(50));
//!
//! for req in 0..30 {
//!     let _ = balancer.ready().await.unwrap().call(req).await;
//! }
//! // Three refusals in a row ejected backend 2: it got exactly three requests.
//! assert_eq!(hits[2].load(Ordering::Relaxed), 3);
//! assert_eq!(monitor.admission(&2), Some(Admission::Ejected));
//! assert_eq!(hits[0].load(Ordering::Relaxed) + hits[1].load(Ordering::Relaxed), 27);
//! # });
//! ```
//!
//! # Costs
//!
//! An [`Endpoint`]'s [`Load`](::tower::load::Load) is
//!
//! ```text
//! cost = (in_flight + 1) · 2^min(φ, 64)        while it takes requests
//! cost = +∞                                     while it is ejected
//! ```
//!
//! where `in_flight` counts its requests sent and not yet finished and `φ` is the backend's
//! suspicion now ([`Monitor::phi`](crate::Monitor::phi), 0 for a backend the monitor does not
//! know). Power of two choices compares two such costs, so a backend whose heartbeats are late
//! loses to one that is not until the other has `2^Δφ` times as many requests in flight: at
//! φ = 1 (a silence this long happens once in ten intervals) it takes half its share, at the
//! default `Suspect` threshold (φ = 8) a 256th, long before it is suspected, let alone
//! ejected or dead. A backend on probation costs what its φ and its requests say: penalising
//! it further would starve its single trial request, which is what readmits it (and frees
//! its place under the ejection cap). An ejected backend is unready anyway; its infinite cost
//! only keeps a balancer from picking it before noticing.

use std::fmt;

use crate::monitor::MonitorError;
use crate::time::Nanos;

mod discover;
mod endpoint;
mod fail_fast;
mod hedge;

pub use discover::PoolDiscover;
pub use endpoint::{
    Classify, Cost, DefaultClassify, Endpoint, EndpointLayer, HedgeDelay, ResponseFuture, Verdict,
};
pub use fail_fast::{FailFast, FailFastFuture, FailFastLayer};
pub use hedge::{Hedge, HedgeConfig, HedgeFuture, HedgeStats};

/// Why a service of this module failed a request itself (an inner service's own errors pass
/// through unchanged). Returned boxed, as a [`BoxError`](::tower::BoxError): downcast to read
/// it.
///
/// ```
/// use accrual::tower::Error;
/// use accrual::Nanos;
///
/// let e: tower::BoxError = Error::NoBackend { waited: Nanos::from_millis(50) }.into();
/// assert_eq!(e.downcast_ref::<Error>(), Some(&Error::NoBackend { waited: Nanos::from_millis(50) }));
/// assert_eq!(e.to_string(), "no backend became ready within 50ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// No reply within the backend's request timeout, read when the request was sent: it is
    /// recorded as timed out (a censored round trip and a gateway failure).
    TimedOut {
        /// The timeout that elapsed.
        after: Nanos,
    },
    /// The backend did not take the request: it was ejected, or its single trial request was
    /// taken, between `poll_ready` and `call` (or `call` came without `poll_ready`). Nothing
    /// was sent and nothing recorded.
    NotAdmitted,
    /// The monitor would not watch the backend: its peer table is full
    /// ([`MonitorError::PeerLimit`]). Nothing was sent.
    Monitor(MonitorError),
    /// Called outside a tokio runtime, where the request timeout cannot run. Nothing was
    /// sent.
    NoRuntime,
    /// No backend became ready within [`FailFast`]'s wait. Nothing was sent.
    NoBackend {
        /// How long it waited.
        waited: Nanos,
    },
    /// [`Hedge`]: the backend reserved by `poll_ready` was taken by a hedged request in the
    /// meantime, and no other was ready (or `call` came without `poll_ready`). Nothing was
    /// sent.
    Unavailable,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TimedOut { after } => write!(f, "no reply within the request timeout, {after}"),
            Error::NotAdmitted => write!(f, "the backend is not taking requests"),
            Error::Monitor(e) => write!(f, "backend not monitored: {e}"),
            Error::NoRuntime => write!(f, "not inside a tokio runtime"),
            Error::NoBackend { waited } => {
                write!(f, "no backend became ready within {waited}")
            }
            Error::Unavailable => write!(f, "no ready backend left for the request"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Monitor(e) => Some(e),
            _ => None,
        }
    }
}
