//! Heartbeats and round-trip probes over UDP: [`Service::listen`] on the monitor's side,
//! [`Heartbeater`] on the peer's.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::Hash;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::{ConfigError, check_positive_duration};
use crate::detector::Arrival;
use crate::monitor::{Monitor, MonitorError};
use crate::time::{Clock, Nanos};

use super::service::{RuntimeError, Service, stopped};
use super::wire::{Key, Kind, Message, WireError};

/// The receive buffer: the largest UDP payload, so that every datagram is read whole and its
/// real length judged. Allocated once per socket, never per datagram.
const RECV_BUFFER: usize = 65_536;
/// Queued datagrams read before a probe is judged timed out, at most.
const DRAIN_MAX: usize = 4_096;

/// Configuration of [`Service::listen`].
///
/// | field | default | rule | meaning |
/// |---|---|---|---|
/// | `key` | none | 16 to 1024 bytes | the shared key: datagrams must carry its tag, and pongs and pings are tagged with it |
/// | `max_clock_skew` | none | positive | a heartbeat whose timestamp is further than this from the monitor's wall clock is refused |
/// | `id` | 0 | | this end's id in the pings it sends and the pongs it answers |
/// | `probe_interval` | `1s` | positive, or none | how often every peer heard from (at the address its heartbeats come from) and every [`probe`](Service::probe) target is pinged; none: never |
/// | `answer_pings` | true | | whether pings are answered |
///
/// ```
/// use accrual::runtime::NetConfig;
/// use accrual::{ConfigError, Nanos};
///
/// let cfg = NetConfig { probe_interval: Some(Nanos::ZERO), ..Default::default() };
/// assert_eq!(cfg.validate(), Err(ConfigError::ZeroDuration { field: "runtime.probe_interval" }));
/// ```
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The shared key, if datagrams are authenticated.
    pub key: Option<Key>,
    /// How far a heartbeat's timestamp (the sender's wall clock when it sent it) may be from
    /// the monitor's wall clock when it is received, either way (none: not checked).
    ///
    /// A heartbeat further off is refused and counted in [`NetStats::untimely`]. This bounds
    /// replays that sequence numbers cannot stop: after a restart without a snapshot, or once
    /// a forgotten peer's tombstone is gone (see
    /// [`MonitorConfig::tombstones`](crate::MonitorConfig::tombstones)), a recording is
    /// refused once it is older than this. It needs a key (without one, anyone can write any
    /// timestamp) and clocks kept in step, by NTP for example: set it well above their worst
    /// disagreement plus the network's delay, say `30s`. Senders must put their wall clock in
    /// the timestamp, as [`Heartbeater`] does.
    pub max_clock_skew: Option<Nanos>,
    /// This end's id.
    pub id: u64,
    /// How often to probe each peer's round-trip time.
    pub probe_interval: Option<Nanos>,
    /// Whether to answer pings.
    pub answer_pings: bool,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            key: None,
            max_clock_skew: None,
            id: 0,
            probe_interval: Some(Nanos::from_secs(1)),
            answer_pings: true,
        }
    }
}

impl NetConfig {
    /// Checks every rule (the key's were checked when it was made).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(w) = self.max_clock_skew {
            check_positive_duration("runtime.max_clock_skew", w)?;
        }
        if let Some(p) = self.probe_interval {
            check_positive_duration("runtime.probe_interval", p)?;
        }
        Ok(())
    }
}

/// What the network side of a [`Service`] has seen: see [`Service::net_stats`]. Every datagram
/// received is counted exactly once among `heartbeats`, `replayed`, `untimely`, `refused`, `pings`,
/// `pongs`, `stray_pongs`, `malformed`, `forged`, `untagged` and `unverifiable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetStats {
    /// Datagrams received.
    pub received: u64,
    /// Heartbeats accepted by the monitor.
    pub heartbeats: u64,
    /// Heartbeats (authentic, if a key is set) whose sequence number was not above the last
    /// accepted from their sender, or that were earlier than its latest: replays, duplicates
    /// and reordered datagrams, ignored.
    pub replayed: u64,
    /// Heartbeats refused for a timestamp further than
    /// [`NetConfig::max_clock_skew`] from the monitor's wall clock: old recordings, or a
    /// sender whose clock is off.
    pub untimely: u64,
    /// Heartbeats from new peers refused because the monitor was full.
    pub refused: u64,
    /// Pings received (answered if [`NetConfig::answer_pings`]).
    pub pings: u64,
    /// Pongs matching an outstanding probe.
    pub pongs: u64,
    /// Pongs matching no outstanding probe: late (the probe had timed out), duplicated or
    /// replayed.
    pub stray_pongs: u64,
    /// Datagrams that broke the format: [`WireError::is_malformed`].
    pub malformed: u64,
    /// Datagrams whose tag did not match ([`WireError::BadTag`]): forged or tampered with.
    pub forged: u64,
    /// Untagged datagrams where a key is set ([`WireError::MissingTag`]).
    pub untagged: u64,
    /// Tagged datagrams where no key is set ([`WireError::UnexpectedTag`]).
    pub unverifiable: u64,
    /// Pings sent.
    pub probes: u64,
    /// Probes that got no pong in time, recorded as timeouts.
    pub probe_timeouts: u64,
    /// Round trips and timeouts not recorded because they spanned a stall of the monitor.
    pub probes_discarded: u64,
    /// Sends and receives that failed (the datagram is lost; the socket is kept).
    pub io_errors: u64,
}

impl NetStats {
    /// Datagrams refused before they reached the monitor: malformed, forged, untagged or
    /// unverifiable.
    pub fn rejected(&self) -> u64 {
        self.malformed + self.forged + self.untagged + self.unverifiable
    }
}

macro_rules! counters {
    ($name:ident { $($field:ident),* $(,)? }) => {
        #[derive(Debug, Default)]
        pub(crate) struct $name { $($field: AtomicU64,)* }
        impl $name {
            fn snapshot(&self) -> NetStats {
                NetStats { $($field: self.$field.load(Ordering::Relaxed),)* }
            }
        }
    };
}

counters!(Counters {
    received,
    heartbeats,
    replayed,
    untimely,
    refused,
    pings,
    pongs,
    stray_pongs,
    malformed,
    forged,
    untagged,
    unverifiable,
    probes,
    probe_timeouts,
    probes_discarded,
    io_errors,
});

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The network side of a service, shared with its task.
#[derive(Debug)]
pub(crate) struct Net {
    counters: Counters,
    /// Peers to probe, and where.
    targets: Mutex<HashMap<u64, SocketAddr>>,
    local: SocketAddr,
}

impl Counters {
    fn reject(&self, e: &WireError) {
        match e {
            WireError::BadTag => bump(&self.forged),
            WireError::MissingTag => bump(&self.untagged),
            WireError::UnexpectedTag => bump(&self.unverifiable),
            _ => bump(&self.malformed),
        }
    }
}

impl<C: Clock + 'static> Service<u64, C> {
    /// Receives heartbeats on `socket` (which must have been made on the service's runtime)
    /// and feeds them to the monitor, at the instant they are read, with their sequence
    /// numbers; answers pings; and probes every peer heard from. At most one socket per
    /// service.
    ///
    /// Datagrams are checked ([`Message::decode`]) before anything else happens: a malformed,
    /// forged or untagged one changes no state but a counter. The receive buffer is allocated
    /// once; nothing is allocated per datagram but a peer's first heartbeat and probe.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::runtime::{NetConfig, Service, ServiceConfig, TokioClock};
    /// use tokio::net::UdpSocket;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    /// let service = Service::start(monitor, ServiceConfig::default()).unwrap();
    /// let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let address = socket.local_addr().unwrap();
    /// service.listen(socket, NetConfig::default()).unwrap();
    ///
    /// let junk = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// junk.send_to(b"not a heartbeat", address).await.unwrap();
    /// while service.net_stats().unwrap().malformed == 0 {
    ///     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    /// }
    /// assert!(service.monitor().is_empty());
    /// # });
    /// ```
    pub fn listen(&self, socket: UdpSocket, config: NetConfig) -> Result<SocketAddr, RuntimeError> {
        self.listen_with(socket, config, |id, _| id)
    }
}

/// How a heartbeat's sender (its wire id and the address it came from) becomes the host's key.
type KeyOf<K> = Arc<dyn Fn(u64, SocketAddr) -> K + Send + Sync>;

impl<K, C> Service<K, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    C: Clock + 'static,
{
    /// [`listen`](Service::listen) for a monitor keyed by anything the host uses: `key_of`
    /// turns a sender's wire id (the `u64` its [`Heartbeater`] sends) and the address its
    /// datagram came from into the key. The same sender must always get the same key.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use std::sync::Arc;
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::runtime::{HeartbeatConfig, Heartbeater, NetConfig, Service, ServiceConfig, TokioClock};
    /// use accrual::Level;
    /// use tokio::net::UdpSocket;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Backends known by name.
    /// let monitor: Arc<Monitor<String, _>> =
    ///     Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    /// let service = Service::start(monitor, ServiceConfig::default()).unwrap();
    /// let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let address = socket.local_addr().unwrap();
    /// service
    ///     .listen_with(socket, NetConfig::default(), |id, _from: SocketAddr| format!("backend-{id}"))
    ///     .unwrap();
    /// let beats = Heartbeater::start(
    ///     UdpSocket::bind("127.0.0.1:0").await.unwrap(),
    ///     HeartbeatConfig::new(7, address),
    /// )
    /// .unwrap();
    /// let mut level = service.watch(&"backend-7".to_string());
    /// tokio::time::timeout(std::time::Duration::from_secs(5), level.wait_for(|l| *l == Level::Alive))
    ///     .await
    ///     .expect("alive within 5 s")
    ///     .unwrap();
    /// beats.shutdown().await;
    /// # });
    /// ```
    pub fn listen_with(
        &self,
        socket: UdpSocket,
        config: NetConfig,
        key_of: impl Fn(u64, SocketAddr) -> K + Send + Sync + 'static,
    ) -> Result<SocketAddr, RuntimeError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| RuntimeError::NoRuntime)?;
        let local = socket
            .local_addr()
            .map_err(|e| RuntimeError::Socket(e.to_string()))?;
        let mut slot = self.net.lock();
        if slot.is_some() {
            return Err(RuntimeError::AlreadyListening);
        }
        let net = Arc::new(Net {
            counters: Counters::default(),
            targets: Mutex::new(HashMap::new()),
            local,
        });
        *slot = Some(net.clone());
        let endpoint = Endpoint {
            monitor: self.monitor().clone(),
            key_of: Arc::new(key_of),
            net,
            socket,
            config,
            outstanding: HashMap::new(),
            deadlines: BTreeSet::new(),
            next_ping: 0,
        };
        self.adopt(runtime.spawn(endpoint.run(self.stop_signal())));
        Ok(local)
    }

    /// What the network side has seen so far; `None` before [`listen`](Self::listen).
    pub fn net_stats(&self) -> Option<NetStats> {
        self.net.lock().as_ref().map(|n| n.counters.snapshot())
    }

    /// The address the service listens on; `None` before [`listen`](Self::listen).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.net.lock().as_ref().map(|n| n.local)
    }

    /// Probes `peer` at `address` from now on (peers heard from are probed at the address
    /// their heartbeats come from without this). Returns false, doing nothing, before
    /// [`listen`](Self::listen) or when as many targets as the monitor's
    /// [`max_peers`](crate::MonitorConfig::max_peers) are already set.
    pub fn probe(&self, peer: u64, address: SocketAddr) -> bool {
        let net = self.net.lock().clone();
        let Some(net) = net else {
            return false;
        };
        let mut targets = net.targets.lock();
        if targets.len() >= self.monitor().config().max_peers && !targets.contains_key(&peer) {
            return false;
        }
        targets.insert(peer, address);
        true
    }
}

/// A probe waiting for its pong, and the key of the peer it probes.
#[derive(Debug, Clone)]
struct Probe<K> {
    seq: u64,
    sent: Nanos,
    timeout: Nanos,
    key: K,
}

/// The monitor's socket task.
struct Endpoint<K, C: Clock> {
    monitor: Arc<Monitor<K, C>>,
    key_of: KeyOf<K>,
    net: Arc<Net>,
    socket: UdpSocket,
    config: NetConfig,
    outstanding: HashMap<u64, Probe<K>>,
    /// `(deadline, peer)` of every outstanding probe.
    deadlines: BTreeSet<(Nanos, u64)>,
    next_ping: u64,
}

impl<K: Hash + Eq + Clone, C: Clock> Endpoint<K, C> {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut buf = vec![0u8; RECV_BUFFER];
        let probing = self.config.probe_interval.is_some();
        let period = self
            .config
            .probe_interval
            .unwrap_or(Nanos::from_secs(1))
            .as_duration();
        let mut probes = tokio::time::interval(period);
        probes.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let deadline = self.deadlines.first().map(|&(d, _)| {
                // Timeouts are bounded by their configuration; saturate all the same.
                let now = Instant::now();
                now.checked_add((d - self.monitor.now()).as_duration())
                    .unwrap_or(now)
            });
            tokio::select! {
                biased;
                _ = stopped(&mut stop) => break,
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.handle(&buf[..n.min(buf.len())], from),
                    Err(_) => {
                        bump(&self.net.counters.io_errors);
                        tokio::task::yield_now().await;
                    }
                },
                _ = sleep_until(deadline) => {
                    // Read what is queued first: after a stall of the monitor, the pongs wait
                    // there.
                    self.drain(&mut buf);
                    self.expire();
                }
                _ = probes.tick(), if probing => self.send_probes(),
            }
        }
    }

    fn handle(&mut self, bytes: &[u8], from: SocketAddr) {
        let net = self.net.clone();
        let c = &net.counters;
        bump(&c.received);
        let m = match Message::decode(bytes, self.config.key.as_ref()) {
            Ok(m) => m,
            Err(e) => return c.reject(&e),
        };
        let now = self.monitor.now();
        match m.kind {
            Kind::Heartbeat if !self.timely(m.timestamp) => bump(&c.untimely),
            Kind::Heartbeat => {
                match self
                    .monitor
                    .heartbeat_at(&(self.key_of)(m.sender, from), now, Some(m.seq))
                {
                    Ok(Arrival::Accepted) => {
                        bump(&c.heartbeats);
                        if self.config.probe_interval.is_some() {
                            let mut targets = self.net.targets.lock();
                            if targets.get(&m.sender) != Some(&from) {
                                // Bounded: only peers the monitor holds are added.
                                targets.insert(m.sender, from);
                            }
                        }
                    }
                    Ok(_) => bump(&c.replayed),
                    Err(MonitorError::PeerLimit { .. }) => bump(&c.refused),
                }
            }
            Kind::Ping => {
                bump(&c.pings);
                if self.config.answer_pings {
                    let pong = Message {
                        kind: Kind::Pong,
                        sender: self.config.id,
                        seq: m.seq,
                        timestamp: m.timestamp,
                    };
                    self.send(&pong, from);
                }
            }
            Kind::Pong => match self.outstanding.get(&m.sender) {
                Some(p) if p.seq == m.seq && p.sent == m.timestamp => {
                    let p = p.clone();
                    self.settle(m.sender, &p);
                    bump(&c.pongs);
                    if self.monitor.was_absent(p.sent, now) {
                        bump(&c.probes_discarded);
                    } else {
                        let _ = self.monitor.record_probe(&p.key, Some(now - p.sent));
                    }
                }
                _ => bump(&c.stray_pongs),
            },
        }
    }

    /// Whether a heartbeat stamped `sent` on its sender's wall clock is within
    /// [`NetConfig::max_clock_skew`] of this host's wall clock.
    fn timely(&self, sent: Nanos) -> bool {
        self.config.max_clock_skew.is_none_or(|skew| {
            let now = wall_clock().as_nanos();
            now.abs_diff(sent.as_nanos()) <= skew.as_nanos()
        })
    }

    fn send(&self, m: &Message, to: SocketAddr) {
        let d = m.encode(self.config.key.as_ref());
        if self.socket.try_send_to(d.as_bytes(), to).is_err() {
            bump(&self.net.counters.io_errors);
        }
    }

    fn settle(&mut self, peer: u64, p: &Probe<K>) {
        self.outstanding.remove(&peer);
        self.deadlines.remove(&(p.sent + p.timeout, peer));
    }

    /// Handles every datagram already queued, without waiting.
    fn drain(&mut self, buf: &mut [u8]) {
        for _ in 0..DRAIN_MAX {
            match self.socket.try_recv_from(buf) {
                Ok((n, from)) => self.handle(&buf[..n.min(buf.len())], from),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => bump(&self.net.counters.io_errors),
            }
        }
    }

    /// Records the probes whose deadline has passed as timeouts.
    fn expire(&mut self) {
        let now = self.monitor.now();
        while let Some(&(deadline, peer)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(p) = self.outstanding.remove(&peer) else {
                continue;
            };
            if self.monitor.was_absent(p.sent, now) {
                bump(&self.net.counters.probes_discarded);
            } else {
                bump(&self.net.counters.probe_timeouts);
                let _ = self.monitor.record_probe(&p.key, None);
            }
        }
    }

    /// Pings every target without an outstanding probe, and forgets targets the monitor no
    /// longer holds.
    fn send_probes(&mut self) {
        let targets: Vec<(u64, SocketAddr)> = {
            let mut t = self.net.targets.lock();
            t.retain(|&peer, &mut address| self.monitor.contains(&(self.key_of)(peer, address)));
            t.iter().map(|(&p, &a)| (p, a)).collect()
        };
        let now = self.monitor.now();
        for (peer, address) in targets {
            if self.outstanding.contains_key(&peer) {
                continue;
            }
            self.next_ping = self.next_ping.wrapping_add(1);
            let key = (self.key_of)(peer, address);
            let probe = Probe {
                seq: self.next_ping,
                sent: now,
                timeout: self.monitor.probe_timeout(&key),
                key,
            };
            self.send(
                &Message {
                    kind: Kind::Ping,
                    sender: self.config.id,
                    seq: probe.seq,
                    timestamp: now,
                },
                address,
            );
            bump(&self.net.counters.probes);
            self.deadlines.insert((now + probe.timeout, peer));
            self.outstanding.insert(peer, probe);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Configuration of a [`Heartbeater`].
///
/// | field | default | rule | meaning |
/// |---|---|---|---|
/// | `id` | (required) | | this peer's id, the monitor's key for it |
/// | `to` | (required) | | the monitor's address |
/// | `interval` | `100ms` | positive | how often a heartbeat is sent |
/// | `key` | none | | the shared key |
/// | `first_seq` | the wall clock in ns | at most 2^63 − 1 | the first heartbeat's sequence number; each next one adds one |
/// | `answer_pings` | true | | whether pings are answered with pongs |
///
/// Sequence numbers start from the wall clock so that a restarted peer continues above the
/// numbers it sent before (the monitor ignores numbers not above the last it accepted, which
/// is what stops replays); set `first_seq` to number from a counter of your own. Numbers never
/// wrap: a `first_seq` above [`MAX_FIRST_SEQ`] is refused, which leaves 2^63 heartbeats
/// (292 years at one a nanosecond), and a heartbeater that used up the last number
/// stops sending (see [`HeartbeatStats::exhausted`]). The wall clock's default, about 2^60.6
/// in 2026, stays below the limit until the year 2262.
///
/// Each heartbeat's timestamp is the sender's wall clock, in ns since the Unix epoch, for
/// [`NetConfig::max_clock_skew`].
///
/// ```
/// use accrual::runtime::HeartbeatConfig;
/// use accrual::Nanos;
///
/// let cfg = HeartbeatConfig::new(7, "127.0.0.1:9000".parse().unwrap());
/// assert_eq!(cfg.interval, Nanos::from_millis(100));
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct HeartbeatConfig {
    /// This peer's id.
    pub id: u64,
    /// Where heartbeats go.
    pub to: SocketAddr,
    /// How often.
    pub interval: Nanos,
    /// The shared key, if datagrams are authenticated.
    pub key: Option<Key>,
    /// The first sequence number (`None`: the wall clock in ns since the Unix epoch).
    pub first_seq: Option<u64>,
    /// Whether to answer pings.
    pub answer_pings: bool,
}

impl HeartbeatConfig {
    /// Peer `id` beating to `to` with the defaults.
    pub fn new(id: u64, to: SocketAddr) -> Self {
        HeartbeatConfig {
            id,
            to,
            interval: Nanos::from_millis(100),
            key: None,
            first_seq: None,
            answer_pings: true,
        }
    }

    /// Checks every rule.
    ///
    /// ```
    /// use accrual::runtime::{HeartbeatConfig, MAX_FIRST_SEQ};
    /// use accrual::ConfigError;
    ///
    /// let mut cfg = HeartbeatConfig::new(7, "127.0.0.1:9000".parse().unwrap());
    /// cfg.first_seq = Some(MAX_FIRST_SEQ + 1);
    /// assert!(matches!(cfg.validate(), Err(ConfigError::OutOfRange { field: "runtime.first_seq", .. })));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive_duration("runtime.interval", self.interval)?;
        if let Some(first) = self.first_seq
            && first > MAX_FIRST_SEQ
        {
            return Err(ConfigError::OutOfRange {
                field: "runtime.first_seq",
                value: first as f64,
                min: 0.0,
                max: MAX_FIRST_SEQ as f64,
            });
        }
        Ok(())
    }
}

/// The largest [`HeartbeatConfig::first_seq`]: `u64::MAX / 2`, which leaves at least 2^63
/// sequence numbers.
pub const MAX_FIRST_SEQ: u64 = u64::MAX / 2;

/// The wall clock in ns since the Unix epoch (0 before it).
fn wall_clock() -> Nanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(Nanos::from_duration)
        .unwrap_or(Nanos::ZERO)
}

/// What a [`Heartbeater`] has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeartbeatStats {
    /// Heartbeats sent.
    pub sent: u64,
    /// Pings answered.
    pub pongs: u64,
    /// Datagrams received that were not an acceptable ping (malformed, badly tagged, or not a
    /// ping): dropped.
    pub rejected: u64,
    /// Sends and receives that failed.
    pub io_errors: u64,
    /// Whether the sequence numbers ran out: the last one, `u64::MAX`, was used, and no more
    /// heartbeats are sent (pings are still answered). Start a new heartbeater with a lower
    /// [`first_seq`](HeartbeatConfig::first_seq).
    pub exhausted: bool,
}

#[derive(Debug, Default)]
struct BeatCounters {
    sent: AtomicU64,
    pongs: AtomicU64,
    rejected: AtomicU64,
    io_errors: AtomicU64,
    exhausted: AtomicBool,
}

/// A peer's side: sends a heartbeat every [`interval`](HeartbeatConfig::interval) to the
/// monitor and answers its pings, on one UDP socket. Heartbeats are paced by a
/// [`tokio::time::interval`] with [`MissedTickBehavior::Delay`]: after a pause of the peer,
/// one heartbeat goes out at once and the rest follow at the interval, with no burst.
/// Dropping it stops its task; [`shutdown`](Self::shutdown) waits for it.
///
/// ```
/// use accrual::runtime::{Heartbeater, HeartbeatConfig};
/// use tokio::net::UdpSocket;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let monitor = UdpSocket::bind("127.0.0.1:0").await.unwrap();
/// let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
/// let mut cfg = HeartbeatConfig::new(3, monitor.local_addr().unwrap());
/// cfg.first_seq = Some(0);
/// let beats = Heartbeater::start(socket, cfg).unwrap();
/// let mut buf = [0u8; 64];
/// let (n, _) = monitor.recv_from(&mut buf).await.unwrap();
/// let m = accrual::runtime::wire::Message::decode(&buf[..n], None).unwrap();
/// assert_eq!((m.sender, m.seq), (3, 0));
/// beats.shutdown().await;
/// # });
/// ```
pub struct Heartbeater {
    counters: Arc<BeatCounters>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Heartbeater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heartbeater")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Heartbeater {
    /// Starts sending on `socket` (made on the current runtime).
    pub fn start(socket: UdpSocket, config: HeartbeatConfig) -> Result<Heartbeater, RuntimeError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| RuntimeError::NoRuntime)?;
        let counters = Arc::new(BeatCounters::default());
        let (shutdown, stop) = watch::channel(false);
        let first = config
            .first_seq
            .unwrap_or_else(|| wall_clock().as_nanos().min(MAX_FIRST_SEQ));
        let task = runtime.spawn(beat(socket, config, first, counters.clone(), stop));
        Ok(Heartbeater {
            counters,
            shutdown,
            task: Some(task),
        })
    }

    /// What it has done so far.
    pub fn stats(&self) -> HeartbeatStats {
        let c = &self.counters;
        HeartbeatStats {
            sent: c.sent.load(Ordering::Relaxed),
            pongs: c.pongs.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            io_errors: c.io_errors.load(Ordering::Relaxed),
            exhausted: c.exhausted.load(Ordering::Relaxed),
        }
    }

    /// Stops sending, letting the task finish what it is doing, and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Heartbeater {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn beat(
    socket: UdpSocket,
    config: HeartbeatConfig,
    first: u64,
    c: Arc<BeatCounters>,
    mut stop: watch::Receiver<bool>,
) {
    let key = config.key.as_ref();
    // The next number to send; none once `u64::MAX` was sent.
    let mut seq = Some(first);
    let mut ticks = tokio::time::interval(config.interval.as_duration());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut buf = vec![0u8; RECV_BUFFER];
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => break,
            _ = ticks.tick(), if seq.is_some() => {
                let Some(n) = seq else { continue };
                let m = Message { kind: Kind::Heartbeat, sender: config.id, seq: n, timestamp: wall_clock() };
                seq = n.checked_add(1);
                match socket.send_to(m.encode(key).as_bytes(), config.to).await {
                    Ok(_) => bump(&c.sent),
                    Err(_) => bump(&c.io_errors),
                }
                if seq.is_none() {
                    c.exhausted.store(true, Ordering::Relaxed);
                }
            }
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => match Message::decode(&buf[..n.min(buf.len())], key) {
                    Ok(m) if m.kind == Kind::Ping && config.answer_pings => {
                        let pong = Message { kind: Kind::Pong, sender: config.id, seq: m.seq, timestamp: m.timestamp };
                        match socket.try_send_to(pong.encode(key).as_bytes(), from) {
                            Ok(_) => bump(&c.pongs),
                            Err(_) => bump(&c.io_errors),
                        }
                    }
                    _ => bump(&c.rejected),
                },
                Err(_) => {
                    // On some systems an unreachable monitor is reported here.
                    bump(&c.io_errors);
                    tokio::task::yield_now().await;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Started two numbers short of the end (which `HeartbeatConfig::validate` refuses), the
    /// heartbeater sends the last two and then stops, instead of wrapping to 0.
    #[test]
    fn sequence_numbers_never_wrap() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let monitor = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let mut cfg = HeartbeatConfig::new(1, monitor.local_addr().unwrap());
            cfg.interval = Nanos::from_millis(1);
            let counters = Arc::new(BeatCounters::default());
            let (_stop, stop) = watch::channel(false);
            let task = tokio::spawn(beat(socket, cfg, u64::MAX - 1, counters.clone(), stop));
            let mut buf = [0u8; 64];
            let mut seqs = Vec::new();
            while seqs.len() < 2 {
                let (n, _) = monitor.recv_from(&mut buf).await.unwrap();
                seqs.push(Message::decode(&buf[..n], None).unwrap().seq);
            }
            assert_eq!(seqs, [u64::MAX - 1, u64::MAX]);
            // Give a wrapping heartbeater time for a few more; a correct one has stopped.
            for _ in 0..20 {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                if let Ok((n, _)) = monitor.try_recv_from(&mut buf) {
                    let m = Message::decode(&buf[..n], None).unwrap();
                    panic!("a heartbeat after the last number: seq {}", m.seq);
                }
            }
            assert_eq!(counters.sent.load(Ordering::Relaxed), 2);
            assert!(counters.exhausted.load(Ordering::Relaxed));
            task.abort();
        });
    }
}
