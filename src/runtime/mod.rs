//! The monitor on tokio (feature `tokio`): a clock on tokio's time, the evaluator task,
//! subscriptions to levels and transitions, and heartbeats and round-trip probes over UDP,
//! optionally authenticated.
//!
//! # Pieces
//!
//! * [`TokioClock`]: the [`Clock`](crate::Clock) on [`tokio::time::Instant`], so that a monitor
//!   and everything around it runs on tokio's paused time in tests.
//! * [`Service`]: starts an evaluator task that calls [`Monitor::tick`](crate::Monitor::tick) every
//!   [`tick_interval`](crate::MonitorConfig::tick_interval), on a [`tokio::time::interval`] with
//!   [`MissedTickBehavior::Delay`](tokio::time::MissedTickBehavior::Delay): a tick that is late
//!   is late once, never followed by a burst of catch-up ticks (which would tell the monitor it
//!   had been present when it was not). Those ticks are what the monitor judges its own stalls
//!   by. The service hands out [`watch`](Service::watch) receivers of one peer's level and a
//!   [`broadcast`](Service::subscribe) of [`Event`]s; a subscriber that falls behind is told
//!   how many events it missed and resynchronises from [`Service::levels`].
//! * [`Service::listen`] (and [`Service::listen_with`], for keys other than the wire's `u64`
//!   ids): receives heartbeats on a UDP socket (the [`wire`] format), answers
//!   pings, and probes the round-trip time of every peer it hears from, feeding each peer's
//!   probe statistics ([`Monitor::record_probe`](crate::Monitor::record_probe)), which are
//!   learned apart from request latencies: a ping is not a request.
//! * [`Heartbeater`]: the other end, sending heartbeats and answering probes.
//!
//! Dropping a [`Service`] or a [`Heartbeater`] stops every task it started; their `shutdown`
//! methods do so gracefully, waiting for each task to finish what it is doing.
//!
//! # Authentication
//!
//! With a [`Key`](wire::Key) configured on both ends, every datagram carries an HMAC-SHA-256
//! tag; forged, tampered and untagged datagrams are refused before they touch the monitor,
//! and a replayed genuine one is refused by its sequence number (which must rise above the
//! last accepted from its sender). All are counted ([`NetStats`]). Without a key, anyone who
//! can reach the socket can keep any peer alive with a made-up heartbeat: configure one
//! wherever the network is not trusted.
//!
//! # The monitor's own stalls
//!
//! When the monitoring process is stopped (a `SIGSTOP`, a suspended VM, an overloaded host),
//! heartbeats queue in the socket. When it resumes, the evaluator's first tick is late and
//! holds new suspicions back ([`MonitorConfig::stall_grace`](crate::MonitorConfig::stall_grace));
//! the receiver reads the queued heartbeats, whose intervals the detectors do not learn (the
//! silence was the monitor's). Either may run first: a heartbeat read before the late tick
//! finds the previous tick overdue and is treated the same way. The prober likewise reads
//! every queued datagram before it declares a probe timed out, and records neither a round
//! trip nor a timeout that spans a stall ([`Monitor::was_absent`](crate::Monitor::was_absent)).
//!
//! ```
//! use std::sync::Arc;
//! use accrual::monitor::{Monitor, MonitorConfig};
//! use accrual::runtime::{Heartbeater, HeartbeatConfig, NetConfig, Service, ServiceConfig, TokioClock};
//! use accrual::{Level, Nanos};
//! use tokio::net::UdpSocket;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
//! let service = Service::start(monitor, ServiceConfig::default()).unwrap();
//! let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
//! let address = socket.local_addr().unwrap();
//! service.listen(socket, NetConfig::default()).unwrap();
//! let mut level = service.watch(&7);
//!
//! // Elsewhere, peer 7:
//! let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
//! let beats = Heartbeater::start(peer, HeartbeatConfig::new(7, address)).unwrap();
//!
//! tokio::time::timeout(std::time::Duration::from_secs(5), level.wait_for(|l| *l == Level::Alive))
//!     .await
//!     .expect("alive within 5 s")
//!     .unwrap();
//! beats.shutdown().await;
//! service.shutdown().await;
//! # });
//! ```

mod clock;
mod net;
mod service;
pub mod wire;

pub use clock::TokioClock;
pub use net::{HeartbeatConfig, HeartbeatStats, Heartbeater, MAX_FIRST_SEQ, NetConfig, NetStats};
pub use service::{Event, Levels, RuntimeError, Service, ServiceConfig};
