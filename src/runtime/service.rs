//! The evaluator task and the subscriptions: [`Service`].

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::config::ConfigError;
use crate::monitor::{Collective, Monitor, Stall};
use crate::suspicion::{Level, Transition};
use crate::time::{Clock, Nanos};

use super::TokioClock;
use super::net::Net;

/// The largest [`ServiceConfig::events`] capacity.
const MAX_EVENTS: usize = 1 << 20;
/// Watchers whose receivers are all gone are dropped every this many ticks.
const PRUNE_EVERY: u64 = 64;

/// Configuration of a [`Service`].
///
/// | field | default | rule | meaning |
/// |---|---|---|---|
/// | `events` | 1,024 | 1 ..= 2^20 | events the [broadcast](Service::subscribe) keeps for its slowest subscriber; one that falls further behind is told it lagged |
///
/// ```
/// use accrual::runtime::ServiceConfig;
/// use accrual::ConfigError;
///
/// assert_eq!(ServiceConfig { events: 0 }.validate(), Err(ConfigError::ZeroCount { field: "runtime.events" }));
/// assert!(ServiceConfig::default().validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Capacity of the event broadcast.
    pub events: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig { events: 1024 }
    }
}

impl ServiceConfig {
    /// Checks every rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.events == 0 {
            return Err(ConfigError::ZeroCount {
                field: "runtime.events",
            });
        }
        if self.events > MAX_EVENTS {
            return Err(ConfigError::OutOfRange {
                field: "runtime.events",
                value: self.events as f64,
                min: 1.0,
                max: MAX_EVENTS as f64,
            });
        }
        Ok(())
    }
}

/// Why a runtime piece could not start.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RuntimeError {
    /// It was started outside a tokio runtime, where it cannot spawn its tasks.
    NoRuntime,
    /// Its configuration broke a rule.
    Config(ConfigError),
    /// The service already listens on a socket: one per service.
    AlreadyListening,
    /// The socket's local address could not be read.
    Socket(String),
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::NoRuntime => write!(f, "not inside a tokio runtime"),
            RuntimeError::Config(e) => write!(f, "invalid configuration: {e}"),
            RuntimeError::AlreadyListening => write!(f, "the service already listens on a socket"),
            RuntimeError::Socket(e) => write!(f, "unusable socket: {e}"),
        }
    }
}

impl std::error::Error for RuntimeError {}

impl From<ConfigError> for RuntimeError {
    fn from(e: ConfigError) -> Self {
        RuntimeError::Config(e)
    }
}

/// Something a tick of the [`Service`]'s evaluator found, in the order found. Every event
/// carries the number of the tick (counted from 1) that found it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event<K> {
    /// A peer changed level.
    Transition {
        /// The tick.
        tick: u64,
        /// The peer.
        peer: K,
        /// Its change.
        transition: Transition,
    },
    /// A peer was removed for having been silent longer than
    /// [`expire_after`](crate::MonitorConfig::expire_after); its [watch](Service::watch) reads
    /// `Unknown`.
    Expired {
        /// The tick.
        tick: u64,
        /// The peer.
        peer: K,
    },
    /// The monitor noticed a stall of its own: new suspicions are held back until
    /// `holding_until`.
    Stall {
        /// The tick.
        tick: u64,
        /// The stall.
        stall: Stall,
        /// The end of the hold.
        holding_until: Option<Nanos>,
    },
    /// A collective fault began: many peers turned suspect at once (reported on its first
    /// tick only).
    Collective {
        /// The tick.
        tick: u64,
        /// The fault.
        collective: Collective,
    },
}

impl<K> Event<K> {
    /// The number of the tick that found it.
    pub fn tick(&self) -> u64 {
        match self {
            Event::Transition { tick, .. }
            | Event::Expired { tick, .. }
            | Event::Stall { tick, .. }
            | Event::Collective { tick, .. } => *tick,
        }
    }
}

/// Every peer's level between two ticks: what a subscriber resynchronises from. Events with a
/// `tick` up to [`Levels::tick`] are already reflected in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Levels<K> {
    /// The number of the latest tick (0 before the first).
    pub tick: u64,
    /// Every peer and its level, in no particular order.
    pub peers: Vec<(K, Level)>,
}

/// What the evaluator and the subscriptions share.
struct State<K> {
    ticks: u64,
    watchers: HashMap<K, watch::Sender<Level>>,
}

pub(crate) struct Shared<K, C: Clock> {
    pub(crate) monitor: Arc<Monitor<K, C>>,
    state: Mutex<State<K>>,
    events: broadcast::Sender<Event<K>>,
}

impl<K: Hash + Eq + Clone, C: Clock> Shared<K, C> {
    /// One tick, published under the state lock so that [`Service::levels`] and
    /// [`Service::watch`] always see levels and tick numbers that agree.
    fn tick(&self) {
        let mut st = self.state.lock();
        let e = self.monitor.tick(self.monitor.now());
        st.ticks += 1;
        let tick = st.ticks;
        let send = |event| {
            // No subscriber is not an error.
            let _ = self.events.send(event);
        };
        if let Some(stall) = e.stall {
            send(Event::Stall {
                tick,
                stall,
                holding_until: e.holding_until,
            });
        }
        if let Some(collective) = e.collective
            && collective.since == e.at
        {
            send(Event::Collective { tick, collective });
        }
        for (peer, transition) in e.transitions {
            if let Some(w) = st.watchers.get(&peer) {
                w.send_if_modified(|l| std::mem::replace(l, transition.to) != transition.to);
            }
            send(Event::Transition {
                tick,
                peer,
                transition,
            });
        }
        for peer in e.expired {
            if let Some(w) = st.watchers.get(&peer) {
                w.send_if_modified(|l| std::mem::replace(l, Level::Unknown) != Level::Unknown);
            }
            send(Event::Expired { tick, peer });
        }
        if tick.is_multiple_of(PRUNE_EVERY) {
            st.watchers.retain(|_, w| w.receiver_count() > 0);
        }
    }
}

/// A [`Monitor`] at work on tokio: its evaluator task, the subscriptions to its levels and
/// transitions, and its network tasks: [`listen`](Service::listen) for `u64` peer ids, and
/// [`listen_with`](Service::listen_with) for any key (an address, a name).
///
/// The evaluator calls `monitor.tick(monitor.now())` every
/// [`tick_interval`](crate::MonitorConfig::tick_interval) with
/// [`MissedTickBehavior::Delay`]; nothing else should tick the monitor. Dropping the service
/// stops every task it started at their next await; [`shutdown`](Service::shutdown) waits for
/// them.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use accrual::monitor::{Monitor, MonitorConfig};
/// use accrual::runtime::{Event, Service, ServiceConfig, TokioClock};
/// use accrual::Level;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// // One peer, which may die: the ejection cap would otherwise hold it at suspect.
/// let config = MonitorConfig { max_dead_fraction: 1.0, ..Default::default() };
/// let monitor = Arc::new(Monitor::with_clock(config, TokioClock::new()).unwrap());
/// let service = Service::start(monitor.clone(), ServiceConfig::default()).unwrap();
/// let mut events = service.subscribe();
/// let mut db = service.watch(&"db-1");
/// for _ in 0..30 {
///     monitor.heartbeat(&"db-1").unwrap();
///     tokio::time::sleep(Duration::from_millis(100)).await;
/// }
/// assert_eq!(*db.borrow_and_update(), Level::Alive);
/// // Silence: within a few seconds db-1 is suspected, then dead.
/// // (Paused time runs ahead while the test waits: a minute costs nothing.)
/// tokio::time::timeout(Duration::from_secs(60), db.wait_for(|l| *l == Level::Dead))
///     .await
///     .expect("dead within a minute")
///     .unwrap();
/// let mut seen = Vec::new();
/// while let Ok(Event::Transition { transition, .. }) = events.try_recv() {
///     seen.push(transition.to);
/// }
/// assert_eq!(seen, [Level::Alive, Level::Suspect, Level::Dead]);
/// service.shutdown().await;
/// # });
/// ```
pub struct Service<K, C: Clock = TokioClock> {
    shared: Arc<Shared<K, C>>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) net: Mutex<Option<Arc<Net>>>,
}

impl<K, C: Clock> fmt::Debug for Service<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("monitor", &self.shared.monitor)
            .field("tasks", &self.tasks.lock().len())
            .finish_non_exhaustive()
    }
}

impl<K, C> Service<K, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    C: Clock + 'static,
{
    /// Starts the evaluator of `monitor` on the current tokio runtime.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::runtime::{RuntimeError, Service, ServiceConfig, TokioClock};
    ///
    /// let monitor: Arc<Monitor<u64, _>> = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    /// // Outside a runtime: refused, not a panic.
    /// let err = Service::start(monitor, ServiceConfig::default()).unwrap_err();
    /// assert_eq!(err, RuntimeError::NoRuntime);
    /// ```
    pub fn start(monitor: Arc<Monitor<K, C>>, config: ServiceConfig) -> Result<Self, RuntimeError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| RuntimeError::NoRuntime)?;
        let (events, _) = broadcast::channel(config.events);
        let shared = Arc::new(Shared {
            monitor,
            state: Mutex::new(State {
                ticks: 0,
                watchers: HashMap::new(),
            }),
            events,
        });
        let (shutdown, stop) = watch::channel(false);
        let task = runtime.spawn(evaluate(shared.clone(), stop));
        Ok(Service {
            shared,
            shutdown,
            tasks: Mutex::new(vec![task]),
            net: Mutex::new(None),
        })
    }

    /// The monitor.
    pub fn monitor(&self) -> &Arc<Monitor<K, C>> {
        &self.shared.monitor
    }

    /// A receiver of `peer`'s level, updated by every tick that changes it. It starts at the
    /// peer's level as of the latest tick (`Unknown` for a peer the monitor does not know yet),
    /// and reads `Unknown` again if the peer expires.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::runtime::{Service, ServiceConfig, TokioClock};
    /// use accrual::Level;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    /// let service = Service::start(monitor.clone(), ServiceConfig::default()).unwrap();
    /// let mut level = service.watch(&1u64);
    /// assert_eq!(*level.borrow(), Level::Unknown);
    /// monitor.heartbeat(&1).unwrap();
    /// level.changed().await.unwrap();
    /// assert_eq!(*level.borrow(), Level::Alive);
    /// # });
    /// ```
    pub fn watch(&self, peer: &K) -> watch::Receiver<Level> {
        let mut st = self.shared.state.lock();
        if let Some(w) = st.watchers.get(peer) {
            return w.subscribe();
        }
        let level = self.shared.monitor.level(peer).unwrap_or(Level::Unknown);
        let (w, r) = watch::channel(level);
        st.watchers.insert(peer.clone(), w);
        r
    }

    /// A receiver of every [`Event`] from now on. A subscriber more than
    /// [`ServiceConfig::events`] behind gets
    /// [`RecvError::Lagged`](broadcast::error::RecvError::Lagged) with the number it missed;
    /// it then reads [`levels`](Self::levels) and skips the events of the ticks it reflects.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::collections::HashMap;
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::runtime::{Event, Service, ServiceConfig, TokioClock};
    /// use accrual::Level;
    /// use tokio::sync::broadcast::error::RecvError;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    /// let service = Service::start(monitor.clone(), ServiceConfig { events: 2 }).unwrap();
    /// let mut events = service.subscribe();
    /// for peer in 0..5u32 {
    ///     monitor.heartbeat(&peer).unwrap();
    /// }
    /// tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    ///
    /// // Five transitions into a buffer of two: told so, then resynchronised.
    /// let mut levels = HashMap::new();
    /// let mut seen = 0;
    /// loop {
    ///     match events.try_recv() {
    ///         Ok(Event::Transition { tick, peer, transition }) if tick > seen => {
    ///             levels.insert(peer, transition.to);
    ///         }
    ///         Ok(_) => {}
    ///         Err(tokio::sync::broadcast::error::TryRecvError::Lagged(missed)) => {
    ///             assert_eq!(missed, 3);
    ///             let now = service.levels();
    ///             seen = now.tick;
    ///             levels = now.peers.into_iter().collect();
    ///         }
    ///         Err(_) => break,
    ///     }
    /// }
    /// assert_eq!(levels.len(), 5);
    /// assert!(levels.values().all(|l| *l == Level::Alive));
    /// # });
    /// ```
    pub fn subscribe(&self) -> broadcast::Receiver<Event<K>> {
        self.shared.events.subscribe()
    }

    /// Every peer's level and the number of the tick they are as of, read between two ticks.
    pub fn levels(&self) -> Levels<K> {
        let st = self.shared.state.lock();
        Levels {
            tick: st.ticks,
            peers: self.shared.monitor.levels(),
        }
    }

    /// The number of ticks so far.
    pub fn ticks(&self) -> u64 {
        self.shared.state.lock().ticks
    }

    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub(crate) fn adopt(&self, task: JoinHandle<()>) {
        self.tasks.lock().push(task);
    }

    /// Stops every task the service started, letting each finish what it is doing (a tick, a
    /// datagram), and waits for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl<K, C: Clock> Drop for Service<K, C> {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

async fn evaluate<K: Hash + Eq + Clone, C: Clock>(
    shared: Arc<Shared<K, C>>,
    mut stop: watch::Receiver<bool>,
) {
    let period = shared.monitor.config().tick_interval.as_duration();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => break,
            _ = ticks.tick() => shared.tick(),
        }
    }
}

/// Completes when `stop` turns true or its sender is gone.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
