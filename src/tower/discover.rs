//! The pool's trusted backends as a tower `Discover`: [`PoolDiscover`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, ready};

use ::tower::discover::Change;
use futures_core::Stream;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::runtime::{Event, Levels, Service};
use crate::suspicion::Level;
use crate::time::Clock;

/// The next event, and the receiver to read the one after from.
type Recv<K> = Pin<
    Box<dyn Future<Output = (Result<Event<K>, RecvError>, broadcast::Receiver<Event<K>>)> + Send>,
>;

/// Where a resynchronisation reads every peer's level from; `None` once it is gone.
type LevelsSource<K> = Box<dyn FnMut() -> Option<Levels<K>> + Send>;

fn next_event<K: Clone + Send + 'static>(mut rx: broadcast::Receiver<Event<K>>) -> Recv<K> {
    Box::pin(async move {
        let event = rx.recv().await;
        (event, rx)
    })
}

/// Whether a backend at `level` joins the pool: `Unknown` and `Alive` are trusted.
fn trusted(level: Level) -> bool {
    matches!(level, Level::Unknown | Level::Alive)
}

/// A [`Discover`](::tower::discover::Discover) of a pool's backends, fed by a
/// [`Service`]'s [events](Service::subscribe): give it to tower's
/// [`Balance`](::tower::balance::p2c::Balance) or to a [`Hedge`](super::Hedge).
///
/// * A backend that becomes trusted (`Unknown` or `Alive`) is inserted, with the service
///   `make_endpoint(&key)` builds for it (typically an [`Endpoint`](super::Endpoint)).
/// * A backend that becomes `Dead`, or expires, is removed.
/// * A `Suspect` backend stays where it is: in the set if it was (its
///   [`Cost`](super::Cost) steers requests away from it, and an ejection makes it unready),
///   out of it if it was not (a `Dead` backend comes back once it is `Alive` again).
///
/// It starts from the pool as it is ([`Service::levels`]: every trusted backend is inserted
/// first). A subscriber that falls more than
/// [`ServiceConfig::events`](crate::runtime::ServiceConfig::events) behind is told it lagged:
/// it then reads every level again, emits the difference (removals first) and skips the
/// events of the ticks that reading already reflects, so the set comes out as if it had
/// missed nothing.
///
/// The stream ends when the service is gone. It never fails.
///
/// ```
/// use std::sync::Arc;
/// use std::task::{Context, Poll, Waker};
/// use accrual::monitor::{Monitor, MonitorConfig};
/// use accrual::runtime::{Service, ServiceConfig, TokioClock};
/// use accrual::tower::PoolDiscover;
/// use tower::discover::{Change, Discover};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
/// monitor.heartbeat(&"db-1").unwrap();
/// let service = Arc::new(Service::start(monitor, ServiceConfig::default()).unwrap());
/// let mut pool = PoolDiscover::new(&service, |key: &&str| key.len());
/// let mut cx = Context::from_waker(Waker::noop());
/// match std::pin::Pin::new(&mut pool).poll_discover(&mut cx) {
///     Poll::Ready(Some(Ok(Change::Insert(key, len)))) => assert_eq!((key, len), ("db-1", 4)),
///     _ => unreachable!(),
/// }
/// assert!(pool.contains(&"db-1"));
/// # });
/// ```
pub struct PoolDiscover<K, S, F> {
    recv: Option<Recv<K>>,
    levels: LevelsSource<K>,
    make_endpoint: F,
    members: HashSet<K>,
    queue: VecDeque<Change<K, S>>,
    /// Events of ticks up to this one are reflected in the latest reading of the levels.
    seen: u64,
    resyncs: u64,
}

// No field is ever pinned: the receiver's future is boxed.
impl<K, S, F> Unpin for PoolDiscover<K, S, F> {}

impl<K, S, F> PoolDiscover<K, S, F>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    F: FnMut(&K) -> S,
{
    /// The trusted backends of `service`'s monitor, each served by `make_endpoint(&key)`.
    /// It holds the service weakly: dropping the service ends the stream.
    pub fn new<C: Clock + 'static>(service: &Arc<Service<K, C>>, make_endpoint: F) -> Self {
        let events = service.subscribe();
        let service: Weak<Service<K, C>> = Arc::downgrade(service);
        Self::from_parts(
            events,
            move || service.upgrade().map(|s| s.levels()),
            make_endpoint,
        )
    }

    /// The same from its parts: a receiver of events and where to read every level from (a
    /// service's [`levels`](Service::levels), or anything that numbers ticks the same way),
    /// `None` once it is gone. Subscribe `events` before building this, so that no event
    /// falls between the two.
    pub fn from_parts(
        events: broadcast::Receiver<Event<K>>,
        levels: impl FnMut() -> Option<Levels<K>> + Send + 'static,
        make_endpoint: F,
    ) -> Self {
        let mut pool = PoolDiscover {
            recv: Some(next_event(events)),
            levels: Box::new(levels),
            make_endpoint,
            members: HashSet::new(),
            queue: VecDeque::new(),
            seen: 0,
            resyncs: 0,
        };
        if !pool.sync() {
            pool.recv = None;
        }
        pool
    }
}

impl<K, S, F> PoolDiscover<K, S, F>
where
    K: Hash + Eq + Clone,
    F: FnMut(&K) -> S,
{
    /// The backends in the set, as of the changes emitted and queued so far.
    pub fn members(&self) -> impl Iterator<Item = &K> {
        self.members.iter()
    }

    /// Whether `key` is in the set, as of the changes emitted and queued so far.
    pub fn contains(&self, key: &K) -> bool {
        self.members.contains(key)
    }

    /// How many backends are in the set.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// How many times it lagged behind the events and resynchronised.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    fn insert(&mut self, key: K) {
        if !self.members.contains(&key) {
            let svc = (self.make_endpoint)(&key);
            self.members.insert(key.clone());
            self.queue.push_back(Change::Insert(key, svc));
        }
    }

    fn remove(&mut self, key: K) {
        if self.members.remove(&key) {
            self.queue.push_back(Change::Remove(key));
        }
    }

    fn apply(&mut self, event: Event<K>) {
        match event {
            Event::Transition {
                tick,
                peer,
                transition,
            } if tick > self.seen => match transition.to {
                Level::Unknown | Level::Alive => self.insert(peer),
                Level::Dead => self.remove(peer),
                Level::Suspect => {}
            },
            Event::Expired { tick, peer } if tick > self.seen => self.remove(peer),
            _ => {}
        }
    }

    /// Reads every level and queues the difference: trusted backends join, `Dead` and
    /// vanished ones leave, `Suspect` ones stay as they are. Returns false if the source is
    /// gone.
    fn sync(&mut self) -> bool {
        let Some(levels) = (self.levels)() else {
            return false;
        };
        self.seen = self.seen.max(levels.tick);
        let now: HashMap<K, Level> = levels.peers.into_iter().collect();
        let gone: Vec<K> = self
            .members
            .iter()
            .filter(|k| now.get(*k).is_none_or(|l| *l == Level::Dead))
            .cloned()
            .collect();
        for k in gone {
            self.remove(k);
        }
        for (k, level) in now {
            if trusted(level) {
                self.insert(k);
            }
        }
        true
    }
}

impl<K, S, F> Stream for PoolDiscover<K, S, F>
where
    K: Hash + Eq + Clone + Send + 'static,
    F: FnMut(&K) -> S,
{
    type Item = Result<Change<K, S>, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(change) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(change)));
            }
            let Some(recv) = this.recv.as_mut() else {
                return Poll::Ready(None);
            };
            let (event, rx) = ready!(recv.as_mut().poll(cx));
            match event {
                Ok(event) => {
                    this.recv = Some(next_event(rx));
                    this.apply(event);
                }
                Err(RecvError::Lagged(_)) => {
                    this.resyncs += 1;
                    this.recv = this.sync().then(|| next_event(rx));
                }
                Err(RecvError::Closed) => this.recv = None,
            }
        }
    }
}

impl<K: fmt::Debug, S, F> fmt::Debug for PoolDiscover<K, S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolDiscover")
            .field("members", &self.members)
            .field("queued", &self.queue.len())
            .field("seen", &self.seen)
            .field("resyncs", &self.resyncs)
            .field("open", &self.recv.is_some())
            .finish_non_exhaustive()
    }
}
