//! The evaluator, subscriptions and shutdown of `runtime::Service`, on tokio's paused time:
//! every test is deterministic and takes no real time.
#![cfg(feature = "tokio")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
use accrual::runtime::{Event, RuntimeError, Service, ServiceConfig, TokioClock};
use accrual::{Clock, ConfigError, FixedConfig, Level, Nanos};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

const TICK: Duration = Duration::from_millis(100);

fn fixed(timeout_ms: u64) -> MonitorConfig {
    MonitorConfig {
        detector: DetectorConfig::Fixed(FixedConfig {
            timeout: Nanos::from_millis(timeout_ms),
        }),
        ..MonitorConfig::default()
    }
}

fn start(config: MonitorConfig, events: usize) -> (Arc<Monitor<u32, TokioClock>>, Service<u32>) {
    let monitor = Arc::new(Monitor::with_clock(config, TokioClock::new()).unwrap());
    let service = Service::start(monitor.clone(), ServiceConfig { events }).unwrap();
    (monitor, service)
}

/// Lets every ready task run, without moving the paused clock.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn drain<K: Clone>(rx: &mut tokio::sync::broadcast::Receiver<Event<K>>) -> Vec<Event<K>> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn tokio_clock_follows_paused_time_exactly() {
    let clock = TokioClock::new();
    assert_eq!(clock.now(), Nanos::ZERO);
    // Timers fire on whole milliseconds; the clock itself has nanoseconds.
    tokio::time::advance(Duration::from_nanos(1_234_567_891)).await;
    assert_eq!(clock.now(), Nanos(1_234_567_891));
    tokio::time::advance(Duration::from_nanos(9)).await;
    assert_eq!(clock.now(), Nanos(1_234_567_900));
    let a = clock.now();
    assert!(clock.now() >= a);
}

#[tokio::test(start_paused = true)]
async fn the_evaluator_ticks_every_tick_interval_on_the_monitors_time_line() {
    let (monitor, service) = start(MonitorConfig::default(), 16);
    settle().await;
    assert_eq!(service.ticks(), 1, "the first tick is at once");
    tokio::time::sleep(TICK * 10 + Duration::from_millis(1)).await;
    assert_eq!(service.ticks(), 11);
    // The evaluator ticks at monitor.now(): a tick 100 ms after another is on time.
    monitor.heartbeat(&1).unwrap();
    tokio::time::sleep(TICK).await;
    assert_eq!(monitor.level(&1), Some(Level::Alive));
}

#[tokio::test(start_paused = true)]
async fn a_late_tick_is_one_tick_not_a_burst_and_reports_the_stall() {
    let (_monitor, service) = start(MonitorConfig::default(), 16);
    let mut events = service.subscribe();
    tokio::time::sleep(TICK * 3 + Duration::from_millis(1)).await;
    let before = service.ticks();
    // The runtime does not get to run the evaluator for 5 s (the process was stopped).
    tokio::time::advance(Duration::from_secs(5)).await;
    settle().await;
    assert_eq!(service.ticks(), before + 1, "one late tick, no catch-up");
    tokio::time::sleep(TICK / 2).await;
    assert_eq!(service.ticks(), before + 1);
    tokio::time::sleep(TICK).await;
    assert_eq!(
        service.ticks(),
        before + 2,
        "then on schedule from the late tick"
    );
    let stalls: Vec<_> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e {
            Event::Stall {
                stall,
                holding_until,
                tick,
            } => Some((stall, holding_until, tick)),
            _ => None,
        })
        .collect();
    assert_eq!(stalls.len(), 1, "{stalls:?}");
    let (stall, holding, tick) = stalls[0];
    assert_eq!(tick, before + 1);
    assert!(stall.duration() >= Nanos::from_secs(5), "{stall:?}");
    assert_eq!(holding, Some(stall.resumed + Nanos::from_secs(1)));
}

/// Heartbeats from `peers` every 100 ms for `beats` rounds, from a task of their own.
async fn beat(monitor: &Monitor<u32, TokioClock>, peers: &[u32], beats: usize) {
    for _ in 0..beats {
        for p in peers {
            monitor.heartbeat(p).unwrap();
        }
        tokio::time::sleep(TICK).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_monitor_suspects_nobody_and_a_silent_peer_is_still_caught() {
    let (monitor, service) = start(fixed(500), 64);
    let mut events = service.subscribe();
    beat(&monitor, &[1, 2, 3, 4], 20).await;
    assert!(monitor.levels().iter().all(|(_, l)| *l == Level::Alive));
    drain(&mut events);

    // The monitor's process is stopped for 3 s: its evaluator does not run, and the peers'
    // heartbeats wait in its socket. On resuming, the late tick comes first, then the
    // queued heartbeats are read.
    tokio::time::advance(Duration::from_secs(3)).await;
    settle().await;
    for p in [1, 2, 3] {
        monitor.heartbeat(&p).unwrap();
    }
    beat(&monitor, &[1, 2, 3], 30).await;
    let events = drain(&mut events);
    assert!(
        events.iter().any(|e| matches!(e, Event::Stall { .. })),
        "{events:?}"
    );
    let suspected: Vec<(u32, Level)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Transition {
                peer, transition, ..
            } => Some((*peer, transition.to)),
            _ => None,
        })
        .collect();
    // Peer 4 fell silent for real: suspected after the hold, then dead. Nobody else.
    assert!(suspected.iter().all(|(p, _)| *p == 4), "{suspected:?}");
    assert_eq!(monitor.level(&4), Some(Level::Dead));
    for p in [1, 2, 3] {
        assert_eq!(monitor.level(&p), Some(Level::Alive));
    }
}

#[tokio::test(start_paused = true)]
async fn the_same_silence_with_timely_ticks_is_the_peers() {
    let (monitor, service) = start(fixed(500), 64);
    beat(&monitor, &[1, 2, 3, 4], 20).await;
    let mut events = service.subscribe();
    // 3 s of silence from every peer while the monitor runs: that is theirs, and after the
    // collective guard's hold they are suspected.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events = drain(&mut events);
    assert!(events.iter().any(|e| matches!(e, Event::Collective { .. })));
    assert!(!events.iter().any(|e| matches!(e, Event::Stall { .. })));
    assert!(
        monitor.suspects().is_empty(),
        "held by the collective guard"
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(monitor.suspects().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn watch_follows_one_peer_and_reads_unknown_after_expiry() {
    let config = MonitorConfig {
        expire_after: Some(Nanos::from_secs(30)),
        ..fixed(500)
    };
    let (monitor, service) = start(config, 16);
    let mut one = service.watch(&1);
    let mut again = service.watch(&1);
    let mut other = service.watch(&2);
    assert_eq!(*one.borrow_and_update(), Level::Unknown);
    beat(&monitor, &[1, 2], 5).await;
    assert!(one.has_changed().unwrap());
    assert_eq!(*one.borrow_and_update(), Level::Alive);
    assert_eq!(*again.borrow_and_update(), Level::Alive);
    // 2 goes on beating, 1 falls silent.
    let seen = tokio::spawn(async move {
        let mut seen = vec![*one.borrow_and_update()];
        while one.changed().await.is_ok() {
            seen.push(*one.borrow_and_update());
            if seen.last() == Some(&Level::Unknown) {
                break;
            }
        }
        seen
    });
    beat(&monitor, &[2], 400).await;
    assert_eq!(
        seen.await.unwrap(),
        // A fixed timeout is binary: from alive straight to dead.
        [Level::Alive, Level::Dead, Level::Unknown]
    );
    assert!(!monitor.contains(&1));
    assert_eq!(*other.borrow_and_update(), Level::Alive);
    assert!(!other.has_changed().unwrap());
    // A late watcher starts at the current level.
    assert_eq!(*service.watch(&2).borrow(), Level::Alive);
}

/// A subscriber's state: every peer's level, as of a tick.
#[derive(Default)]
struct Follower {
    levels: HashMap<u32, Level>,
    as_of: u64,
    lagged: u64,
}

impl Follower {
    /// Reads every pending event; on a lag, resynchronises from the service's levels and skips
    /// the events they already reflect.
    fn catch_up(
        &mut self,
        rx: &mut tokio::sync::broadcast::Receiver<Event<u32>>,
        service: &Service<u32>,
    ) {
        loop {
            match rx.try_recv() {
                Ok(Event::Transition {
                    tick,
                    peer,
                    transition,
                }) if tick > self.as_of => {
                    self.levels.insert(peer, transition.to);
                }
                Ok(_) => {}
                Err(TryRecvError::Lagged(n)) => {
                    self.lagged += n;
                    let now = service.levels();
                    self.as_of = now.tick;
                    self.levels = now.peers.into_iter().collect();
                }
                Err(TryRecvError::Empty) => return,
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    fn sorted(&self) -> Vec<(u32, Level)> {
        let mut v: Vec<_> = self.levels.iter().map(|(&p, &l)| (p, l)).collect();
        v.sort();
        v
    }
}

#[tokio::test(start_paused = true)]
async fn a_lagging_subscriber_is_told_and_resynchronises_from_levels() {
    let (monitor, service) = start(fixed(300), 4);
    let mut rx = service.subscribe();
    let mut follower = Follower::default();
    let truth = || {
        let mut v = monitor.levels();
        v.sort();
        v
    };
    // 20 peers turn alive in one tick: 20 events into a buffer of 4.
    let peers: Vec<u32> = (0..20).collect();
    beat(&monitor, &peers, 3).await;
    follower.catch_up(&mut rx, &service);
    assert_eq!(follower.lagged, 16);
    assert_eq!(follower.sorted(), truth());

    // Half of them fall silent: held 10 s by the collective guard, then dead at once (as
    // many as the ejection cap allows). The follower reads every tick, and stays exact.
    let half: Vec<u32> = (0..10).collect();
    for _ in 0..15 {
        beat(&monitor, &half, 10).await;
        follower.catch_up(&mut rx, &service);
        assert_eq!(follower.sorted(), truth());
    }
    assert_eq!(follower.lagged, 16 + 6, "the 10 deaths came in one tick");
    assert_eq!(monitor.dead(), 10);

    // They come back, all in one tick: lagged again, exact again.
    for _ in 0..5 {
        beat(&monitor, &peers, 2).await;
        follower.catch_up(&mut rx, &service);
        assert_eq!(follower.sorted(), truth());
    }
    assert_eq!(follower.lagged, 16 + 6 + 6);
    assert!(truth().iter().all(|(_, l)| *l == Level::Alive));
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_the_evaluator_and_closes_the_subscriptions() {
    let (monitor, service) = start(MonitorConfig::default(), 16);
    let mut rx = service.subscribe();
    let mut w = service.watch(&1);
    tokio::time::sleep(TICK * 2).await;
    service.shutdown().await;
    // The evaluator has finished and dropped its share of the monitor.
    assert_eq!(Arc::strong_count(&monitor), 1);
    assert!(matches!(rx.recv().await, Err(RecvError::Closed)));
    assert!(w.changed().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_service_stops_its_tasks() {
    let (monitor, service) = start(MonitorConfig::default(), 16);
    tokio::time::sleep(TICK * 2).await;
    drop(service);
    settle().await;
    assert_eq!(Arc::strong_count(&monitor), 1);
    // Nothing ticks any more: levels stay as they were.
    monitor.heartbeat(&1).unwrap();
    tokio::time::sleep(TICK * 5).await;
    assert_eq!(monitor.level(&1), Some(Level::Unknown));
}

#[tokio::test(start_paused = true)]
async fn configurations_are_checked() {
    let monitor: Arc<Monitor<u32, TokioClock>> =
        Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    let err = Service::start(monitor.clone(), ServiceConfig { events: 0 }).unwrap_err();
    assert_eq!(
        err,
        RuntimeError::Config(ConfigError::ZeroCount {
            field: "runtime.events"
        })
    );
    let err = Service::start(monitor, ServiceConfig { events: 1 << 21 }).unwrap_err();
    assert!(err.to_string().contains("runtime.events"), "{err}");
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let monitor: Arc<Monitor<u32, TokioClock>> =
        Arc::new(Monitor::with_clock(MonitorConfig::default(), TokioClock::new()).unwrap());
    assert_eq!(
        Service::start(monitor, ServiceConfig::default()).unwrap_err(),
        RuntimeError::NoRuntime
    );
}
