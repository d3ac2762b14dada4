//! A bounded wait for readiness: [`FailFast`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tower::{BoxError, Layer, Service};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use super::Error;
use crate::time::Nanos;

/// A [`Layer`] of [`FailFast`]s, each waiting at most `wait` for readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailFastLayer {
    wait: Nanos,
}

impl FailFastLayer {
    /// Layers that wait at most `wait` for the inner service to be ready.
    pub fn new(wait: Nanos) -> Self {
        FailFastLayer { wait }
    }
}

impl<S> Layer<S> for FailFastLayer {
    type Service = FailFast<S>;

    fn layer(&self, inner: S) -> FailFast<S> {
        FailFast::new(inner, self.wait)
    }
}

/// Fails a request with [`Error::NoBackend`] when its inner service (a balancer whose
/// backends are all ejected, or a set with none) is not ready within `wait`, instead of
/// leaving it pending for ever.
///
/// Its `poll_ready` waits for the inner service for at most `wait`, then turns ready anyway
/// (never an error of its own, so callers keep the service); the `call` that follows fails at
/// once, sending nothing. The wait starts afresh for the next request. A zero `wait` fails
/// every request that finds the inner service unready. The wait runs on tokio's timer:
/// outside a tokio runtime it is zero.
///
/// # Panics
///
/// Inside a tokio runtime built without its time driver (`enable_time`), a wait panics, as
/// every tokio timer does.
///
/// ```
/// use accrual::tower::{Error, FailFast};
/// use accrual::Nanos;
/// use tower::{Service, ServiceExt};
///
/// /// A service that is never ready.
/// struct Never;
/// impl Service<()> for Never {
///     type Response = ();
///     type Error = tower::BoxError;
///     type Future = std::future::Ready<Result<(), tower::BoxError>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), tower::BoxError>> {
///         std::task::Poll::Pending
///     }
///     fn call(&mut self, _: ()) -> Self::Future {
///         std::future::ready(Ok(()))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let mut svc = FailFast::new(Never, Nanos::from_millis(50));
/// let start = tokio::time::Instant::now();
/// let err = svc.ready().await.unwrap().call(()).await.unwrap_err();
/// assert_eq!(err.downcast_ref::<Error>(), Some(&Error::NoBackend { waited: Nanos::from_millis(50) }));
/// assert_eq!(start.elapsed(), std::time::Duration::from_millis(50));
/// # });
/// ```
pub struct FailFast<S> {
    inner: S,
    wait: Nanos,
    timer: Option<Pin<Box<Sleep>>>,
    /// The wait ran out: the next `call` fails.
    expired: bool,
}

impl<S> FailFast<S> {
    /// Wraps `inner`, waiting at most `wait` for it to be ready.
    pub fn new(inner: S, wait: Nanos) -> Self {
        FailFast {
            inner,
            wait,
            timer: None,
            expired: false,
        }
    }

    /// The longest wait for readiness.
    pub fn wait(&self) -> Nanos {
        self.wait
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for FailFast<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailFast")
            .field("inner", &self.inner)
            .field("wait", &self.wait)
            .field("waiting", &self.timer.is_some())
            .field("expired", &self.expired)
            .finish()
    }
}

impl<S, Req> Service<Req> for FailFast<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = FailFastFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                self.timer = None;
                self.expired = false;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => {
                if self.expired {
                    return Poll::Ready(Ok(()));
                }
                if self.wait == Nanos::ZERO || tokio::runtime::Handle::try_current().is_err() {
                    self.expired = true;
                    return Poll::Ready(Ok(()));
                }
                let wait = self.wait.as_duration();
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(wait)));
                if timer.as_mut().poll(cx).is_ready() {
                    self.timer = None;
                    self.expired = true;
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending
            }
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        if std::mem::take(&mut self.expired) {
            return FailFastFuture {
                state: State::Failed {
                    error: Some(Error::NoBackend { waited: self.wait }),
                },
            };
        }
        FailFastFuture {
            state: State::Inner {
                inner: self.inner.call(req),
            },
        }
    }
}

pin_project! {
    #[project = StateProj]
    #[derive(Debug)]
    enum State<F> {
        Inner {
            #[pin]
            inner: F,
        },
        Failed {
            error: Option<Error>,
        },
    }
}

pin_project! {
    /// The future of a [`FailFast`]'s request: the inner service's, or
    /// [`Error::NoBackend`].
    #[derive(Debug)]
    pub struct FailFastFuture<F> {
        #[pin]
        state: State<F>,
    }
}

impl<F, T, E> Future for FailFastFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { inner } => inner.poll(cx).map_err(Into::into),
            StateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .unwrap_or(Error::NoBackend {
                    waited: Nanos::ZERO,
                })
                .into())),
        }
    }
}
