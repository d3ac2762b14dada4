//! Heartbeats, probes and authentication over UDP on 127.0.0.1, in real time. Every wait is
//! bounded; each test takes well under two seconds.
#![cfg(feature = "tokio")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
use accrual::runtime::wire::{Key, Kind, Message};
use accrual::runtime::{
    HeartbeatConfig, Heartbeater, NetConfig, NetStats, RuntimeError, Service, ServiceConfig,
    TokioClock,
};
use accrual::{ConfigError, FixedConfig, Level, Nanos, TimeoutConfig};
use tokio::net::UdpSocket;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

async fn socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

fn monitor_config() -> MonitorConfig {
    MonitorConfig {
        detector: DetectorConfig::Fixed(FixedConfig {
            timeout: Nanos::from_millis(500),
        }),
        timeout: TimeoutConfig {
            initial: Nanos::from_millis(100),
            ..TimeoutConfig::default()
        },
        // One peer may die: these tests watch one or two.
        max_dead_fraction: 1.0,
        ..MonitorConfig::default()
    }
}

async fn service(net: NetConfig) -> (Service<u64>, SocketAddr) {
    let monitor = Arc::new(Monitor::with_clock(monitor_config(), TokioClock::new()).unwrap());
    let service = Service::start(monitor, ServiceConfig::default()).unwrap();
    let address = service.listen(socket().await, net).unwrap();
    (service, address)
}

fn keyed() -> NetConfig {
    NetConfig {
        key: Some(Key::new(KEY).unwrap()),
        probe_interval: Some(Nanos::from_millis(50)),
        ..NetConfig::default()
    }
}

fn node(id: u64, to: SocketAddr, key: Option<&[u8]>) -> HeartbeatConfig {
    let mut c = HeartbeatConfig::new(id, to);
    c.interval = Nanos::from_millis(20);
    c.key = key.map(|k| Key::new(k).unwrap());
    c
}

/// Waits at most 3 s for `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(3);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn stats(s: &Service<u64>) -> NetStats {
    s.net_stats().unwrap()
}

#[tokio::test]
async fn authenticated_heartbeats_keep_a_peer_alive_and_probes_measure_it() {
    let (service, address) = service(keyed()).await;
    let mut level = service.watch(&1);
    let beats = Heartbeater::start(socket().await, node(1, address, Some(KEY))).unwrap();
    tokio::time::timeout(
        Duration::from_secs(3),
        level.wait_for(|l| *l == Level::Alive),
    )
    .await
    .unwrap()
    .unwrap();
    until("round-trip samples", || {
        service
            .monitor()
            .stats(&1)
            .and_then(|s| s.probe)
            .is_some_and(|p| p.samples >= 3)
    })
    .await;
    let s = stats(&service);
    assert!(
        s.heartbeats > 0 && s.pongs >= 3 && s.probes >= s.pongs,
        "{s:?}"
    );
    assert_eq!(s.rejected(), 0);
    assert!(beats.stats().pongs >= 3);
    // A loopback round trip is well under the 100 ms initial timeout.
    // Probes are learned apart: the request estimator has no samples from them.
    let peer = service.monitor().stats(&1).unwrap();
    assert!(peer.probe.unwrap().srtt.unwrap() < Nanos::from_millis(100));
    assert_eq!(peer.timeouts.map_or(0, |t| t.samples), 0);
    beats.shutdown().await;
    service.shutdown().await;
}

#[tokio::test]
async fn forged_tampered_untagged_replayed_and_malformed_datagrams_change_nothing() {
    let (service, address) = service(keyed()).await;
    let beats = Heartbeater::start(socket().await, node(1, address, Some(KEY))).unwrap();
    until("peer 1 alive", || {
        service.monitor().level(&1) == Some(Level::Alive)
    })
    .await;
    let before = stats(&service);
    let phi_before = service.monitor().stats(&1).unwrap().arrivals;

    let attacker = socket().await;
    let key = Key::new(KEY).unwrap();
    let wrong = Key::new(b"a guess at the key, wrong").unwrap();
    let beat = |sender, seq| Message {
        kind: Kind::Heartbeat,
        sender,
        seq,
        timestamp: Nanos(0),
    };
    let mut sent = (0, 0, 0, 0); // forged, untagged, replayed, malformed
    for i in 0..20u64 {
        // Forged: another key, for the real peer and for a made-up one.
        let d = beat(if i % 2 == 0 { 1 } else { 77 }, u64::MAX - i).encode(Some(&wrong));
        attacker.send_to(d.as_bytes(), address).await.unwrap();
        // Tampered: a genuine datagram with its sequence number changed.
        let mut t = beat(1, 5).encode(Some(&key)).as_bytes().to_vec();
        t[18] ^= 0x40;
        attacker.send_to(&t, address).await.unwrap();
        sent.0 += 2;
        let d = beat(77, i).encode(None);
        attacker.send_to(d.as_bytes(), address).await.unwrap();
        sent.1 += 1;
        // Replayed: genuine tags, sequence numbers long past.
        let d = beat(1, i).encode(Some(&key));
        attacker.send_to(d.as_bytes(), address).await.unwrap();
        sent.2 += 1;
    }
    for len in (0..100).chain([1_000, 65_000]) {
        let junk: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        attacker.send_to(&junk, address).await.unwrap();
        sent.3 += 1;
        if len % 16 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    until("every bad datagram counted", || {
        let s = stats(&service);
        s.forged - before.forged == sent.0
            && s.untagged - before.untagged == sent.1
            && s.replayed - before.replayed == sent.2
            && s.malformed - before.malformed == sent.3
    })
    .await;
    // No peer was added and the real one saw none of it.
    assert_eq!(service.monitor().len(), 1);
    assert!(!service.monitor().contains(&77));
    let after = service.monitor().stats(&1).unwrap().arrivals;
    assert_eq!(after.stale - phi_before.stale, sent.2);
    assert_eq!(service.monitor().level(&1), Some(Level::Alive));
    beats.shutdown().await;
    service.shutdown().await;
}

#[tokio::test]
async fn the_forged_heartbeats_of_a_dead_peer_do_not_revive_it() {
    let (service, address) = service(keyed()).await;
    let mut level = service.watch(&1);
    let beats = Heartbeater::start(socket().await, node(1, address, Some(KEY))).unwrap();
    until("peer 1 alive", || {
        service.monitor().level(&1) == Some(Level::Alive)
    })
    .await;
    drop(beats);
    tokio::time::timeout(
        Duration::from_secs(3),
        level.wait_for(|l| *l == Level::Dead),
    )
    .await
    .unwrap()
    .unwrap();
    // Someone keeps the dead leader "alive" with heartbeats under a guessed key, untagged,
    // and as replays of its own.
    let attacker = socket().await;
    let wrong = Key::new(b"a guess at the key, wrong").unwrap();
    let key = Key::new(KEY).unwrap();
    for i in 0..30u64 {
        let m = Message {
            kind: Kind::Heartbeat,
            sender: 1,
            seq: u64::MAX - i,
            timestamp: Nanos(0),
        };
        attacker
            .send_to(m.encode(Some(&wrong)).as_bytes(), address)
            .await
            .unwrap();
        attacker
            .send_to(m.encode(None).as_bytes(), address)
            .await
            .unwrap();
        let old = Message { seq: i, ..m };
        attacker
            .send_to(old.encode(Some(&key)).as_bytes(), address)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(*level.borrow(), Level::Dead);
    assert!(!level.has_changed().unwrap());
    let s = stats(&service);
    assert_eq!((s.forged, s.untagged, s.replayed), (30, 30, 30));
    service.shutdown().await;
}

#[tokio::test]
async fn without_a_key_tagged_datagrams_cannot_be_checked_and_are_refused() {
    let (service, address) = service(NetConfig::default()).await;
    let beats = Heartbeater::start(socket().await, node(5, address, Some(KEY))).unwrap();
    until("refusals", || stats(&service).unverifiable >= 3).await;
    assert!(service.monitor().is_empty());
    drop(beats);
    // Untagged heartbeats are accepted.
    let beats = Heartbeater::start(socket().await, node(5, address, None)).unwrap();
    until("peer 5 alive", || {
        service.monitor().level(&5) == Some(Level::Alive)
    })
    .await;
    beats.shutdown().await;
}

#[tokio::test]
async fn probes_without_answers_are_timeouts() {
    let (service, _) = service(keyed()).await;
    // A target that never answers: its socket is bound but nobody reads it.
    let silent = socket().await;
    service.monitor().heartbeat(&9).unwrap();
    assert!(service.probe(9, silent.local_addr().unwrap()));
    let before = service.monitor().probe_timeout(&9);
    until("a probe timeout", || stats(&service).probe_timeouts >= 2).await;
    let probe = service.monitor().stats(&9).unwrap().probe.unwrap();
    assert!(probe.timeouts >= 2 && probe.unanswered >= 2 && probe.samples == 0);
    // Nothing answered yet: the probe's timeout stays the cold one, and requests are untouched.
    assert_eq!(service.monitor().probe_timeout(&9), before);
    assert_eq!(service.monitor().request_timeout(&9), before);
    // A stray pong (no probe of that number outstanding) is counted, not recorded.
    let key = Key::new(KEY).unwrap();
    let pong = Message {
        kind: Kind::Pong,
        sender: 9,
        seq: 123_456,
        timestamp: Nanos(1),
    };
    silent
        .send_to(
            pong.encode(Some(&key)).as_bytes(),
            service.local_addr().unwrap(),
        )
        .await
        .unwrap();
    until("a stray pong", || stats(&service).stray_pongs == 1).await;
    assert_eq!(
        service
            .monitor()
            .stats(&9)
            .unwrap()
            .timeouts
            .unwrap()
            .samples,
        0
    );
    service.shutdown().await;
}

#[tokio::test]
async fn pings_are_answered_by_both_ends() {
    let (service, address) = service(keyed()).await;
    let prober = socket().await;
    let key = Key::new(KEY).unwrap();
    let ping = Message {
        kind: Kind::Ping,
        sender: 42,
        seq: 7,
        timestamp: Nanos(99),
    };
    prober
        .send_to(ping.encode(Some(&key)).as_bytes(), address)
        .await
        .unwrap();
    let mut buf = [0u8; 128];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), prober.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let pong = Message::decode(&buf[..n], Some(&key)).unwrap();
    assert_eq!(
        (pong.kind, pong.seq, pong.timestamp, pong.sender),
        (Kind::Pong, 7, Nanos(99), 0)
    );
    service.shutdown().await;
}

#[tokio::test]
async fn one_socket_per_service_and_shutdown_releases_it() {
    let (service, address) = service(NetConfig::default()).await;
    assert_eq!(service.local_addr(), Some(address));
    let err = service
        .listen(socket().await, NetConfig::default())
        .unwrap_err();
    assert_eq!(err, RuntimeError::AlreadyListening);
    let bad = NetConfig {
        probe_interval: Some(Nanos::ZERO),
        ..NetConfig::default()
    };
    let other = Service::start(service.monitor().clone(), ServiceConfig::default()).unwrap();
    assert!(matches!(
        other.listen(socket().await, bad),
        Err(RuntimeError::Config(_))
    ));
    drop(other);
    service.shutdown().await;
    // The socket was dropped with its task: the address can be bound again.
    UdpSocket::bind(address).await.unwrap();
}

#[tokio::test]
async fn a_heartbeater_numbers_its_heartbeats_and_stops_when_dropped() {
    let monitor = socket().await;
    let to = monitor.local_addr().unwrap();
    let mut cfg = node(3, to, None);
    cfg.first_seq = Some(1_000);
    let beats = Heartbeater::start(socket().await, cfg).unwrap();
    let mut buf = [0u8; 64];
    for want in 1_000..1_005 {
        let (n, _) = tokio::time::timeout(Duration::from_secs(3), monitor.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let m = Message::decode(&buf[..n], None).unwrap();
        assert_eq!((m.kind, m.sender, m.seq), (Kind::Heartbeat, 3, want));
    }
    drop(beats);
    tokio::time::sleep(Duration::from_millis(60)).await;
    // Drain what was in flight, then nothing more comes.
    while monitor.try_recv_from(&mut buf).is_ok() {}
    let quiet = tokio::time::timeout(Duration::from_millis(100), monitor.recv_from(&mut buf)).await;
    assert!(quiet.is_err(), "a heartbeat after the drop");
}

/// A recording of a peer's genuine, tagged heartbeats, played back after the monitor forgot
/// the peer, does not bring it back.
#[tokio::test]
async fn a_recording_does_not_revive_a_forgotten_peer() {
    let (service, address) = service(keyed()).await;
    let key = Key::new(KEY).unwrap();
    let peer = socket().await;
    let beat = |seq| Message {
        kind: Kind::Heartbeat,
        sender: 4,
        seq,
        timestamp: wall_clock(),
    };
    // The genuine heartbeats, as an eavesdropper records them.
    let recording: Vec<_> = (100..110).map(|s| beat(s).encode(Some(&key))).collect();
    for d in &recording {
        peer.send_to(d.as_bytes(), address).await.unwrap();
    }
    until("10 heartbeats", || stats(&service).heartbeats == 10).await;
    assert!(service.monitor().remove(&4));
    let attacker = socket().await;
    for d in &recording {
        attacker.send_to(d.as_bytes(), address).await.unwrap();
    }
    until("10 replays", || stats(&service).replayed == 10).await;
    assert!(!service.monitor().contains(&4));
    assert_eq!(stats(&service).heartbeats, 10);
    service.shutdown().await;
}

/// A heartbeat's timestamp is the sender's wall clock, which a monitor on another host can
/// compare with its own.
#[tokio::test]
async fn a_heartbeater_stamps_its_heartbeats_with_the_wall_clock() {
    let monitor = socket().await;
    let before = wall_clock();
    let beats =
        Heartbeater::start(socket().await, node(3, monitor.local_addr().unwrap(), None)).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), monitor.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let after = wall_clock();
    let m = Message::decode(&buf[..n], None).unwrap();
    assert!(before <= m.timestamp && m.timestamp <= after, "{m:?}");
    beats.shutdown().await;
}

/// A first sequence number that leaves too little room before `u64::MAX` is refused.
#[test]
fn a_first_sequence_number_without_room_is_refused() {
    let to: SocketAddr = "127.0.0.1:9".parse().unwrap();
    for first in [u64::MAX / 2 + 1, u64::MAX - 1, u64::MAX] {
        let mut cfg = node(1, to, None);
        cfg.first_seq = Some(first);
        assert!(
            matches!(
                cfg.validate(),
                Err(ConfigError::OutOfRange {
                    field: "runtime.first_seq",
                    ..
                })
            ),
            "{first}"
        );
    }
    let mut cfg = node(1, to, None);
    cfg.first_seq = Some(u64::MAX / 2);
    assert_eq!(cfg.validate(), Ok(()));
}

/// The wall clock in ns since the Unix epoch.
fn wall_clock() -> Nanos {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Nanos::from_duration(since)
}

/// After a restart without a snapshot, the monitor holds nothing to compare sequence numbers
/// with: a clock-skew window refuses a recording older than it, and a heartbeat stamped in the
/// future, while the heartbeats of a live peer pass.
#[tokio::test]
async fn a_clock_skew_window_refuses_old_recordings_after_a_restart() {
    let net = NetConfig {
        max_clock_skew: Some(Nanos::from_secs(30)),
        ..keyed()
    };
    // The monitor that just restarted: it has never heard of peer 4.
    let (service, address) = service(net).await;
    let key = Key::new(KEY).unwrap();
    let attacker = socket().await;
    let hour = Nanos::from_secs(3_600);
    for (i, timestamp) in [wall_clock() - hour, wall_clock() + hour]
        .into_iter()
        .enumerate()
    {
        let old = Message {
            kind: Kind::Heartbeat,
            sender: 4,
            seq: 1_000 + i as u64,
            timestamp,
        };
        attacker
            .send_to(old.encode(Some(&key)).as_bytes(), address)
            .await
            .unwrap();
    }
    until("2 refusals", || stats(&service).untimely == 2).await;
    assert!(service.monitor().is_empty());
    // A live peer, whose clock agrees, is heard.
    let beats = Heartbeater::start(socket().await, node(4, address, Some(KEY))).unwrap();
    until("peer 4 alive", || {
        service.monitor().level(&4) == Some(Level::Alive)
    })
    .await;
    let s = stats(&service);
    assert_eq!((s.untimely, s.replayed), (2, 0));
    assert!(s.heartbeats > 0);
    beats.shutdown().await;
    service.shutdown().await;
}

#[test]
fn the_clock_skew_window_must_be_positive() {
    let net = NetConfig {
        max_clock_skew: Some(Nanos::ZERO),
        ..NetConfig::default()
    };
    assert_eq!(
        net.validate(),
        Err(ConfigError::ZeroDuration {
            field: "runtime.max_clock_skew"
        })
    );
}
