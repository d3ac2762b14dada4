//! The monitor's rules, one by one, on a `ManualClock`: bounds, expiry, the cap on ejections,
//! collective faults, and the monitor's own stalls.

use accrual::monitor::{DetectorConfig, Evaluation, Monitor, MonitorConfig, MonitorError};
use accrual::{
    Arrival, ChenConfig, ConfigError, FixedConfig, Level, ManualClock, Nanos, PhiExponentialConfig,
    Transition,
};

const BEAT: Nanos = Nanos::from_millis(100);

fn fixed(ms: u64) -> DetectorConfig {
    DetectorConfig::Fixed(FixedConfig {
        timeout: Nanos::from_millis(ms),
    })
}

/// A monitor, its clock, and the sequence numbers its peers send.
struct Sim {
    clock: ManualClock,
    m: Monitor<u32, ManualClock>,
    seq: Vec<u64>,
    /// Every transition seen, with the evaluation it came from.
    log: Vec<(u32, Transition)>,
}

impl Sim {
    fn new(config: MonitorConfig, peers: usize) -> Sim {
        let clock = ManualClock::new(Nanos::from_secs(1_000));
        Sim {
            m: Monitor::with_clock(config, clock.clone()).unwrap(),
            clock,
            seq: vec![0; peers],
            log: Vec::new(),
        }
    }

    fn now(&self) -> Nanos {
        self.m.now()
    }

    fn beat(&mut self, peer: u32) {
        let s = &mut self.seq[peer as usize];
        *s += 1;
        assert_eq!(self.m.heartbeat_seq(&peer, *s), Ok(Arrival::Accepted));
    }

    fn tick(&mut self) -> Evaluation<u32> {
        let e = self.m.tick(self.m.now());
        self.log.extend(e.transitions.iter().cloned());
        e
    }

    /// `steps` rounds of: the clock moves one beat, `alive` peers beat, the monitor ticks.
    fn run(&mut self, steps: usize, alive: &[u32]) {
        for _ in 0..steps {
            self.clock.advance(BEAT);
            for &p in alive {
                self.beat(p);
            }
            self.tick();
        }
    }

    fn suspicions(&self) -> Vec<(u32, Transition)> {
        self.log
            .iter()
            .filter(|(_, t)| matches!(t.to, Level::Suspect | Level::Dead))
            .cloned()
            .collect()
    }
}

fn all(n: u32) -> Vec<u32> {
    (0..n).collect()
}

#[test]
fn every_rule_of_the_configuration_names_its_field() {
    let bad = |f: &dyn Fn(&mut MonitorConfig)| {
        let mut c = MonitorConfig::default();
        f(&mut c);
        let err = c.validate().unwrap_err();
        // The constructor refuses it the same way (compared as text: NaN is not equal to
        // itself).
        assert_eq!(
            Monitor::<u8, _>::with_clock(c, ManualClock::default())
                .unwrap_err()
                .to_string(),
            err.to_string()
        );
        err
    };
    assert_eq!(
        bad(&|c| c.max_peers = 0),
        ConfigError::ZeroCount {
            field: "monitor.max_peers"
        }
    );
    assert!(matches!(
        bad(&|c| c.max_peers = usize::MAX),
        ConfigError::OutOfRange {
            field: "monitor.max_peers",
            ..
        }
    ));
    assert_eq!(
        bad(&|c| c.shards = 0),
        ConfigError::ZeroCount {
            field: "monitor.shards"
        }
    );
    assert!(matches!(
        bad(&|c| c.shards = 5_000),
        ConfigError::OutOfRange {
            field: "monitor.shards",
            ..
        }
    ));
    assert_eq!(
        bad(&|c| c.expire_after = Some(Nanos::ZERO)),
        ConfigError::ZeroDuration {
            field: "monitor.expire_after"
        }
    );
    assert_eq!(
        bad(&|c| c.tick_interval = Nanos::ZERO),
        ConfigError::ZeroDuration {
            field: "monitor.tick_interval"
        }
    );
    assert_eq!(
        bad(&|c| c.stall_threshold = Nanos::ZERO),
        ConfigError::ZeroDuration {
            field: "monitor.stall_threshold"
        }
    );
    assert!(matches!(
        bad(&|c| c.stall_grace = Nanos::MAX),
        ConfigError::DurationTooLarge {
            field: "monitor.stall_grace",
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| c.collective_fraction = 0.0),
        ConfigError::NotPositive {
            field: "monitor.collective_fraction",
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| c.collective_fraction = 1.5),
        ConfigError::OutOfRange {
            field: "monitor.collective_fraction",
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| c.collective_fraction = f64::NAN),
        ConfigError::NotFinite {
            field: "monitor.collective_fraction",
            ..
        }
    ));
    assert_eq!(
        bad(&|c| c.collective_min = 0),
        ConfigError::ZeroCount {
            field: "monitor.collective_min"
        }
    );
    assert!(matches!(
        bad(&|c| c.collective_hold = Nanos::MAX),
        ConfigError::DurationTooLarge {
            field: "monitor.collective_hold",
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| c.max_dead_fraction = -0.1),
        ConfigError::OutOfRange {
            field: "monitor.max_dead_fraction",
            ..
        }
    ));
    // Nested configurations keep their own names.
    assert_eq!(
        bad(&|c| c.detector = fixed(0)),
        ConfigError::ZeroDuration {
            field: "fixed.timeout"
        }
    );
    assert!(matches!(
        bad(&|c| c.suspicion.dead_enter = 1.0),
        ConfigError::InvertedThresholds { .. }
    ));
    assert!(matches!(
        bad(&|c| c.timeout.floor = Nanos::ZERO),
        ConfigError::ZeroDuration {
            field: "timeout.floor"
        }
    ));
}

#[test]
fn stale_duplicate_and_backwards_heartbeats_are_ignored_and_counted() {
    let clock = ManualClock::new(Nanos::from_secs(10));
    let m = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    let p = "p".to_string();
    assert_eq!(m.heartbeat_seq(&p, 10), Ok(Arrival::Accepted));
    clock.advance(BEAT);
    assert_eq!(m.heartbeat_seq(&p, 10), Ok(Arrival::Stale)); // duplicate
    assert_eq!(m.heartbeat_seq(&p, 9), Ok(Arrival::Stale)); // reordered
    assert_eq!(m.heartbeat_seq(&p, 12), Ok(Arrival::Accepted));
    assert_eq!(m.heartbeat(&p), Ok(Arrival::Accepted)); // numbered 13
    assert_eq!(m.heartbeat_seq(&p, 13), Ok(Arrival::Stale));
    assert_eq!(
        m.heartbeat_at(&p, Nanos::from_secs(1), Some(99)),
        Ok(Arrival::Backwards)
    );
    let s = m.stats(&p).unwrap();
    assert_eq!(
        (s.arrivals.accepted, s.arrivals.stale, s.arrivals.backwards),
        (3, 3, 1)
    );
    assert_eq!(s.last_arrival, Some(Nanos::from_secs(10) + BEAT));
}

#[test]
fn new_peers_beyond_the_limit_are_refused_and_known_ones_never() {
    let m = Monitor::with_clock(
        MonitorConfig {
            max_peers: 3,
            shards: 2,
            ..Default::default()
        },
        ManualClock::default(),
    )
    .unwrap();
    for p in 0..3u64 {
        m.heartbeat(&p).unwrap();
    }
    let refused = MonitorError::PeerLimit { max_peers: 3 };
    assert_eq!(m.heartbeat(&3), Err(refused));
    assert_eq!(m.heartbeat_seq(&4, 1), Err(refused));
    assert_eq!(m.record_rtt(&5, Nanos::from_millis(1)), Err(refused));
    assert_eq!(m.record_timeout(&6, Nanos::from_secs(1)), Err(refused));
    assert!(refused.to_string().contains("monitor.max_peers = 3"));
    assert_eq!(m.rejected(), 4);
    assert_eq!(m.len(), 3);
    // Known peers still get through; a removed one makes room.
    for p in 0..3u64 {
        assert_eq!(m.heartbeat(&p), Ok(Arrival::Accepted));
    }
    assert!(m.remove(&1));
    assert_eq!(m.heartbeat(&3), Ok(Arrival::Accepted));
    assert!(m.contains(&3) && !m.contains(&1));
    assert_eq!(m.len(), 3);
    assert_eq!(m.shard_sizes().iter().sum::<usize>(), 3);
}

#[test]
fn peers_silent_longer_than_the_expiry_are_removed_at_a_tick() {
    let mut sim = Sim::new(
        MonitorConfig {
            expire_after: Some(Nanos::from_secs(5)),
            ..Default::default()
        },
        3,
    );
    sim.run(10, &all(3));
    sim.m.record_rtt(&7, Nanos::from_millis(3)).unwrap(); // heard only by round trips
    let silent_since = sim.now();
    let mut expired = Vec::new();
    while sim.now() < silent_since + Nanos::from_secs(6) {
        sim.clock.advance(BEAT);
        sim.beat(0);
        sim.beat(1);
        let e = sim.tick();
        for p in e.expired {
            // Removed at the first tick after more than 5 s of silence.
            assert!(sim.now() - silent_since > Nanos::from_secs(5));
            assert!(sim.now() - silent_since <= Nanos::from_secs(5) + BEAT);
            expired.push(p);
        }
    }
    expired.sort_unstable();
    assert_eq!(expired, vec![2, 7]);
    assert_eq!(sim.m.len(), 2);
    assert!(!sim.m.contains(&2) && sim.m.contains(&0));
    // An expired peer that comes back starts afresh.
    sim.beat(2);
    assert_eq!(sim.m.level(&2), Some(Level::Unknown));
    assert_eq!(sim.m.stats(&2).unwrap().arrivals.accepted, 1);
}

#[test]
fn nothing_expires_while_the_monitor_is_recovering_from_a_stall() {
    let mut sim = Sim::new(
        MonitorConfig {
            expire_after: Some(Nanos::from_secs(5)),
            ..Default::default()
        },
        2,
    );
    sim.run(10, &all(2));
    sim.clock.advance(Nanos::from_secs(20));
    let e = sim.tick();
    assert!(e.stall.is_some() && e.expired.is_empty());
    // The queued heartbeats are read; after the grace period both peers are still there.
    sim.beat(0);
    sim.beat(1);
    sim.run(20, &all(2));
    assert_eq!(sim.m.len(), 2);
    assert!(sim.suspicions().is_empty());
}

/// The monitor stops for 30 s while every peer keeps sending. When it resumes, its overdue
/// tick runs first, then it reads the heartbeats queued meanwhile. No peer is suspected, with
/// any detector.
#[test]
fn a_30_s_stall_with_all_peers_healthy_suspects_nobody() {
    let detectors = [
        DetectorConfig::default(),
        fixed(500),
        DetectorConfig::Chen(ChenConfig {
            window: 100,
            interval: BEAT,
            alpha: Nanos::from_millis(200),
        }),
        DetectorConfig::PhiExponential(PhiExponentialConfig {
            window: 100,
            first_interval: BEAT,
        }),
    ];
    for detector in detectors {
        let mut sim = Sim::new(
            MonitorConfig {
                detector: detector.clone(),
                ..Default::default()
            },
            10,
        );
        sim.run(600, &all(10));
        assert_eq!(sim.m.level(&3), Some(Level::Alive));
        // Stalled: 300 heartbeats per peer pile up unread.
        sim.clock.advance(Nanos::from_secs(30));
        let resumed = sim.tick();
        let stall = resumed.stall.expect("the late tick notices the stall");
        assert_eq!(stall.duration(), Nanos::from_secs(30));
        assert!(resumed.transitions.is_empty(), "{detector:?}");
        assert!(resumed.held >= 10, "{detector:?}: {}", resumed.held);
        assert_eq!(resumed.holding_until, Some(sim.now() + Nanos::from_secs(1)));
        assert!(resumed.degraded());
        sim.clock.advance(Nanos::from_micros(1));
        for _ in 0..300 {
            for p in 0..10 {
                sim.beat(p);
            }
        }
        sim.run(600, &all(10));
        assert!(
            sim.suspicions().is_empty(),
            "{detector:?}: {:?}",
            sim.suspicions()
        );
        assert_eq!(sim.m.suspects(), vec![]);
    }
}

/// The same stall, but peer 9 dies 5 s into it: after the grace period it is detected, and
/// only it.
#[test]
fn a_peer_that_died_during_the_stall_is_still_detected_after_it() {
    for (detector, within) in [(DetectorConfig::default(), 20u64), (fixed(500), 2)] {
        let mut sim = Sim::new(
            MonitorConfig {
                detector: detector.clone(),
                ..Default::default()
            },
            10,
        );
        sim.run(600, &all(10));
        sim.clock.advance(Nanos::from_secs(30));
        let resumed = sim.tick();
        assert!(resumed.stall.is_some());
        let at = sim.now();
        sim.clock.advance(Nanos::from_micros(1));
        for i in 0..300 {
            for p in 0..10 {
                if p != 9 || i < 50 {
                    sim.beat(p);
                }
            }
        }
        sim.run(10 * within as usize, &all(9));
        let s = sim.suspicions();
        assert!(!s.is_empty(), "{detector:?}: peer 9 never detected");
        assert!(s.iter().all(|(p, _)| *p == 9), "{detector:?}: {s:?}");
        let first = s[0].1.at;
        // Not during the grace period; within `within` seconds of the resumption.
        assert!(first >= at + Nanos::from_secs(1), "{detector:?}: {first}");
        assert!(
            first <= at + Nanos::from_secs(within),
            "{detector:?}: {first}"
        );
        assert!(matches!(
            sim.m.level(&9),
            Some(Level::Suspect | Level::Dead)
        ));
    }
}

#[test]
fn a_slightly_late_tick_is_not_a_stall() {
    let mut sim = Sim::new(MonitorConfig::default(), 1);
    sim.run(5, &[0]);
    sim.clock.advance(Nanos::from_millis(190)); // 90 ms late: under the 100 ms threshold
    assert!(sim.tick().stall.is_none());
    sim.clock.advance(Nanos::from_millis(201)); // 101 ms late
    assert_eq!(
        sim.tick().stall.map(|s| s.late),
        Some(Nanos::from_millis(101))
    );
}

#[test]
fn many_peers_falling_silent_at_once_is_a_collective_fault() {
    let config = MonitorConfig {
        detector: fixed(500),
        collective_hold: Nanos::from_secs(2),
        ..Default::default()
    };
    // They come back within the hold: nobody was ever suspected.
    let mut sim = Sim::new(config.clone(), 10);
    sim.run(50, &all(10));
    sim.run(15, &[]);
    let e = sim.tick();
    let c = e.collective.expect("a collective fault");
    assert_eq!((c.suspects, c.peers, c.held), (10, 10, true));
    assert!(e.transitions.is_empty() && e.held == 10 && e.degraded());
    sim.run(5, &all(10));
    assert!(sim.suspicions().is_empty());

    // They stay silent: after the hold, the transitions apply, within the ejection cap.
    let mut sim = Sim::new(config, 10);
    sim.run(50, &all(10));
    let mut first = None;
    for _ in 0..50 {
        sim.clock.advance(BEAT);
        let e = sim.tick();
        if let Some(c) = e.collective {
            first.get_or_insert(c.since);
            if !c.held {
                assert_eq!(e.capped.len(), 5);
            }
        }
    }
    let first = first.unwrap();
    let applied: Vec<_> = sim.suspicions().iter().map(|(_, t)| t.at).collect();
    assert_eq!(applied.len(), 10);
    assert!(applied.iter().all(|&at| at >= first + Nanos::from_secs(2)));
    assert_eq!(sim.m.dead(), 5);
    let mut levels: Vec<Level> = (0..10).map(|p| sim.m.level(&p).unwrap()).collect();
    levels.sort();
    assert_eq!(levels, [[Level::Suspect; 5], [Level::Dead; 5]].concat());
}

#[test]
fn the_ejection_cap_counts_the_candidate() {
    // A pool of three with a 34% cap can lose one peer, not all three.
    let config = MonitorConfig {
        detector: fixed(1_000),
        max_dead_fraction: 0.34,
        collective_min: 100,
        tick_interval: Nanos::from_secs(2),
        ..Default::default()
    };
    let mut sim = Sim::new(config, 3);
    sim.run(5, &all(3));
    // Peer 2 falls silent 300 ms before the others; one tick sees all three past their
    // deadline, and the longest silent goes first.
    sim.run(3, &[0, 1]);
    sim.clock.advance(Nanos::from_millis(1_500));
    let e = sim.tick();
    assert!(e.stall.is_none());
    let dead: Vec<u32> = e
        .transitions
        .iter()
        .filter(|(_, t)| t.to == Level::Dead)
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(dead, vec![2]);
    let mut capped = e.capped.clone();
    capped.sort_unstable();
    assert_eq!(capped, vec![0, 1]);
    assert_eq!(sim.m.level(&0), Some(Level::Suspect));
    assert_eq!(sim.m.dead(), 1);
    // The cap keeps saying so.
    sim.clock.advance(Nanos::from_secs(2));
    let e = sim.tick();
    assert!(e.transitions.is_empty() && e.capped.len() == 2 && e.degraded());
    // Removing the dead peer leaves a pool of two, which cannot lose one under a 34% cap.
    assert!(sim.m.remove(&2));
    assert_eq!(sim.m.dead(), 0);
    sim.clock.advance(Nanos::from_secs(2));
    let e = sim.tick();
    assert!(e.transitions.is_empty() && e.capped.len() == 2);
    // A third peer joins: one of the two may go now.
    sim.clock.advance(Nanos::from_secs(2));
    sim.m.heartbeat(&9).unwrap();
    let e = sim.tick();
    let died = e.transitions.iter().filter(|(_, t)| t.to == Level::Dead);
    assert_eq!(died.count(), 1);
    assert_eq!(e.capped.len(), 1);
    assert_eq!(sim.m.dead(), 1);
}

#[test]
fn a_dead_peer_that_comes_back_is_alive_again() {
    let mut sim = Sim::new(
        MonitorConfig {
            detector: fixed(500),
            ..Default::default()
        },
        4,
    );
    sim.run(10, &all(4));
    sim.run(10, &[0, 1, 2]);
    assert_eq!(sim.m.level(&3), Some(Level::Dead));
    assert_eq!(sim.m.suspects(), vec![(3, Level::Dead)]);
    assert_eq!(sim.m.dead(), 1);
    sim.run(1, &all(4));
    assert_eq!(sim.m.level(&3), Some(Level::Alive));
    assert_eq!(sim.m.dead(), 0);
    let t = sim.log.last().unwrap();
    assert_eq!((t.0, t.1.from, t.1.to), (3, Level::Dead, Level::Alive));
    assert_eq!(sim.m.stats(&3).unwrap().since, Some(sim.now()));
}

#[test]
fn request_timeouts_start_cold_and_learn_per_peer() {
    let clock = ManualClock::default();
    let m = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    let cold = Nanos::from_secs(1);
    assert_eq!(m.request_timeout(&"a"), cold);
    m.heartbeat(&"a").unwrap();
    assert_eq!(m.request_timeout(&"a"), cold);
    assert_eq!(m.stats(&"a").unwrap().timeouts, None);
    for i in 0..2_000u64 {
        clock.advance(Nanos::from_millis(50));
        m.record_rtt(&"a", Nanos::from_millis(20 + i % 10)).unwrap();
    }
    let t = m.request_timeout(&"a");
    assert!(t > Nanos::from_millis(29) && t < cold, "{t}");
    assert_eq!(m.request_timeout(&"b"), cold);
    let stats = m.stats(&"a").unwrap().timeouts.unwrap();
    assert_eq!(stats.samples, 2_000);
    // A peer heard from only by round trips is known, but has no heartbeat to judge.
    m.record_rtt(&"c", Nanos::from_millis(5)).unwrap();
    assert_eq!(m.level(&"c"), Some(Level::Unknown));
    assert_eq!(m.deadline(&"c"), None);
    m.tick(m.now());
    assert_eq!(m.level(&"c"), Some(Level::Unknown));
}

/// A configuration file: durations with units, defaults for what is left out, typos refused.
#[cfg(feature = "serde")]
#[test]
fn configurations_read_from_toml() {
    let text = r#"
        max_peers = 5000
        expire_after = "3600s"
        stall_grace = "2s"
        max_dead_fraction = 0.34

        [detector.fixed]
        timeout = "500ms"

        [suspicion]
        suspect_enter = 6.0
    "#;
    let cfg: MonitorConfig = toml::from_str(text).unwrap();
    assert_eq!(cfg.max_peers, 5_000);
    assert_eq!(cfg.expire_after, Some(Nanos::from_secs(3_600)));
    assert_eq!(cfg.detector, fixed(500));
    assert_eq!(cfg.suspicion.suspect_enter, 6.0);
    assert_eq!(cfg.shards, MonitorConfig::default().shards);
    assert!(cfg.validate().is_ok());
    let back: MonitorConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
    assert!(toml::from_str::<MonitorConfig>("max_peer = 3").is_err());
    assert!(toml::from_str::<MonitorConfig>("[detector.phi_gamma]\nwindow = 3").is_err());
}

/// The silence a stall puts between two heartbeats is the monitor's, not the peer's: the
/// default detector does not learn it, whether a tick noticed the stall before the queued
/// heartbeats were read or not. Fed the same intervals directly, the detector learns the
/// stall as a pause and waits it out on every later heartbeat.
#[test]
fn the_default_detector_does_not_learn_the_monitors_stalls() {
    for tick_first in [true, false] {
        let mut sim = Sim::new(MonitorConfig::default(), 1);
        sim.run(600, &all(1));
        let before = sim.m.deadline(&0).unwrap() - sim.now();
        sim.clock.advance(Nanos::from_secs(30));
        if tick_first {
            assert!(sim.tick().stall.is_some());
        }
        sim.clock.advance(Nanos::from_micros(1));
        sim.beat(0);
        if !tick_first {
            assert!(sim.tick().stall.is_some());
        }
        sim.run(600, &all(1));
        let after = sim.m.deadline(&0).unwrap() - sim.now();
        // Not learned: the deadline did not grow (the prior only fades with the time watched).
        assert!(after <= before, "{tick_first}: {before} then {after}");
        assert!(sim.suspicions().is_empty(), "{tick_first}");
    }
    // The same arrivals fed to a bare detector: the 30 s gap is learned.
    use accrual::Detector;
    let mut d = accrual::Adaptive::new(accrual::AdaptiveConfig::default()).unwrap();
    let mut t = Nanos::from_secs(1_000);
    for seq in 1..=1_201u64 {
        t += if seq == 601 {
            Nanos::from_secs(30)
        } else {
            BEAT
        };
        d.heartbeat_seq(t, seq);
    }
    assert!(d.deadline(8.0).unwrap() - t > Nanos::from_secs(30));
}

/// A batch longer than several rounds, with peers repeated within and across rounds, some new
/// and some known, leaves every peer exactly as one `heartbeat_at` call per heartbeat in batch
/// order does; each outcome is reported once, and `outcome` may call the monitor.
#[test]
fn a_batch_is_one_call_per_heartbeat_in_batch_order() {
    use accrual::monitor::{BATCH_ROUND, Heartbeat};
    for detector in [fixed(500), DetectorConfig::default()] {
        let cfg = MonitorConfig {
            detector,
            max_peers: 300,
            shards: 16,
            ..Default::default()
        };
        let batched = Monitor::with_clock(cfg.clone(), ManualClock::default()).unwrap();
        let single = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
        // Known peers 0..100 before the batch.
        for p in 0..100u32 {
            batched
                .heartbeat_at(&p, Nanos::from_millis(1), Some(0))
                .unwrap();
            single
                .heartbeat_at(&p, Nanos::from_millis(1), Some(0))
                .unwrap();
        }
        // 2.5 rounds of heartbeats over 400 ids (100 more than fit), each peer's in time order,
        // with some repeated numbers and instants (stale and backwards arrivals).
        let n = BATCH_ROUND * 5 / 2;
        let batch: Vec<Heartbeat<u32>> = (0..n as u64)
            .map(|i| {
                let peer = ((i * 7_919) % 400) as u32;
                let k = i / 400;
                Heartbeat {
                    peer,
                    at: Nanos::from_millis(
                        100 * (k + 2) + i % 3 - if i % 11 == 0 { 150 } else { 0 },
                    ),
                    seq: (i % 5 != 0).then_some(k + 1 - u64::from(i % 13 == 0)),
                }
            })
            .collect();
        let mut outcomes = vec![None; n];
        batched.heartbeat_batch(&batch, |i, outcome| {
            assert!(outcomes[i].is_none(), "heartbeat {i} reported twice");
            // Calling the monitor from `outcome` does not deadlock.
            std::hint::black_box(batched.stats(&batch[i].peer));
            outcomes[i] = Some(outcome);
        });
        let want: Vec<_> = batch
            .iter()
            .map(|hb| Some(single.heartbeat_at(&hb.peer, hb.at, hb.seq)))
            .collect();
        assert_eq!(outcomes, want);
        // Every kind of outcome occurred, and the peer limit was reached.
        for kind in [
            Ok(Arrival::Accepted),
            Ok(Arrival::Stale),
            Ok(Arrival::Backwards),
            Err(MonitorError::PeerLimit { max_peers: 300 }),
        ] {
            assert!(want.contains(&Some(kind)), "{kind:?}");
        }
        assert_eq!(batched.len(), single.len());
        for p in 0..400u32 {
            let (b, s) = (batched.stats(&p), single.stats(&p));
            assert_eq!(
                b.map(|s| (s.arrivals, s.last_arrival)),
                s.map(|s| (s.arrivals, s.last_arrival))
            );
            assert_eq!(batched.deadline(&p), single.deadline(&p), "peer {p}");
        }
        // An empty batch reports nothing.
        batched.heartbeat_batch(&[], |_, _| panic!("nothing to report"));
    }
}

/// A silence that ended in `Dead` (here a minute of heartbeats lost in the network) is not
/// learned as lateness: once the peer is back, its deadline is where it was before the outage.
/// The same arrivals fed to a detector that learns every interval stretch it many times over,
/// which is what this rule prevents.
#[test]
fn an_outage_that_ended_in_dead_is_not_learned() {
    use accrual::{Adaptive, AdaptiveConfig, Detector};

    let mut sim = Sim::new(MonitorConfig::default(), 4);
    let mut learner = Adaptive::new(AdaptiveConfig::default()).unwrap();
    let mut feed = |sim: &mut Sim, rounds: usize, alive: &[u32]| {
        for _ in 0..rounds {
            sim.run(1, alive);
            if alive.contains(&3) {
                learner.heartbeat_seq(sim.now(), sim.seq[3]);
            }
        }
    };
    feed(&mut sim, 3_000, &all(4));
    let span =
        |sim: &Sim| sim.m.deadline(&3).unwrap() - sim.m.stats(&3).unwrap().last_arrival.unwrap();
    let before = span(&sim);
    // A minute of peer 3's heartbeats lost: it goes on numbering them.
    feed(&mut sim, 600, &[0, 1, 2]);
    sim.seq[3] += 600;
    assert_eq!(sim.m.level(&3), Some(Level::Dead));
    feed(&mut sim, 50, &all(4));
    assert_eq!(sim.m.level(&3), Some(Level::Alive));
    let after = span(&sim);
    assert!(after <= before, "before the outage {before}, after {after}");
    let threshold = MonitorConfig::default().suspicion.suspect_enter;
    let learned = learner.deadline(threshold).unwrap() - learner.last_arrival().unwrap();
    assert!(
        learned.0 > after.0 * 10,
        "a learner allows {learned}, the monitor {after}"
    );
}

/// With a rate set, a peer whose heartbeats come slowly (so that the rate's threshold is far
/// below `suspect_enter`) still returns to `Alive` after an outage: a live peer's φ of 0 is
/// judged 0, below every leave threshold, for every detector with an interval.
#[test]
fn a_slow_peer_recovers_from_dead_under_a_rate() {
    for (name, detector, every) in [
        ("adaptive", DetectorConfig::default(), 2),
        (
            "chen",
            DetectorConfig::Chen(ChenConfig {
                interval: Nanos::from_secs(10),
                ..Default::default()
            }),
            10,
        ),
    ] {
        let (clock, m) = slow_monitor(detector);
        let mut seq = 0;
        for _ in 0..200 {
            seconds(&clock, &m, every);
            beat(&m, &mut seq);
        }
        assert_eq!(
            m.level(&0),
            Some(Level::Alive),
            "{name}: alive while beating"
        );
        // An hour of lost heartbeats: the peer goes on numbering them.
        seconds(&clock, &m, 3_600);
        seq += 3_600 / every;
        assert_eq!(m.level(&0), Some(Level::Dead), "{name}: dead after an hour");
        for _ in 0..5 {
            beat(&m, &mut seq);
            seconds(&clock, &m, every);
        }
        assert_eq!(m.level(&0), Some(Level::Alive), "{name}: alive again");
    }
}

/// A sender stopped for an hour (its numbering stopped too) ends `Dead`; when it resumes, the
/// hour is not taken for one long interval: the default detector's deadline comes back to
/// what it was.
#[test]
fn a_stopped_sender_does_not_stretch_the_interval() {
    let (clock, m) = slow_monitor(DetectorConfig::default());
    let mut seq = 0;
    for _ in 0..200 {
        seconds(&clock, &m, 2);
        beat(&m, &mut seq);
    }
    let span = |m: &Monitor<u32, ManualClock>| {
        m.deadline(&0).unwrap() - m.stats(&0).unwrap().last_arrival.unwrap()
    };
    let before = span(&m);
    seconds(&clock, &m, 3_600);
    assert_eq!(m.level(&0), Some(Level::Dead));
    for _ in 0..5 {
        seconds(&clock, &m, 2);
        beat(&m, &mut seq);
    }
    assert_eq!(m.level(&0), Some(Level::Alive));
    let after = span(&m);
    assert!(after <= before, "before the stop {before}, after {after}");
}

/// A one-peer monitor at one false suspicion an hour, ticked every second, whose peer may be
/// `Dead`.
fn slow_monitor(detector: DetectorConfig) -> (ManualClock, Monitor<u32, ManualClock>) {
    let clock = ManualClock::new(Nanos::from_secs(1_000));
    let cfg = MonitorConfig {
        detector,
        mistakes_per_hour: Some(1.0),
        tick_interval: Nanos::from_secs(1),
        max_dead_fraction: 1.0,
        ..Default::default()
    };
    let m = Monitor::with_clock(cfg, clock.clone()).unwrap();
    (clock, m)
}

/// `n` seconds pass, ticked every second.
fn seconds(clock: &ManualClock, m: &Monitor<u32, ManualClock>, n: u64) {
    for _ in 0..n {
        clock.advance(Nanos::from_secs(1));
        m.tick(m.now());
    }
}

fn beat(m: &Monitor<u32, ManualClock>, seq: &mut u64) {
    *seq += 1;
    assert_eq!(m.heartbeat_seq(&0, *seq), Ok(Arrival::Accepted));
}

/// A captured heartbeat replayed after the monitor forgot its peer: refused as stale, and the
/// peer is not created again. A heartbeat numbered above it is a live peer coming back.
#[test]
fn a_removed_peer_is_not_revived_by_a_replay() {
    let clock = ManualClock::new(Nanos::from_secs(1));
    let m: Monitor<&str, _> = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    for seq in 10..20 {
        clock.advance(BEAT);
        assert_eq!(m.heartbeat_seq(&"a", seq), Ok(Arrival::Accepted));
    }
    assert!(m.remove(&"a"));
    for seq in [0, 10, 19] {
        clock.advance(BEAT);
        assert_eq!(m.heartbeat_seq(&"a", seq), Ok(Arrival::Stale), "seq {seq}");
        assert!(!m.contains(&"a"), "seq {seq} re-created the peer");
    }
    assert_eq!(m.heartbeat_seq(&"a", 20), Ok(Arrival::Accepted));
    assert_eq!(m.stats(&"a").unwrap().arrivals.accepted, 1);
}

/// The same after expiry: the recording of a peer that stopped cannot keep it alive.
#[test]
fn an_expired_peer_is_not_revived_by_a_replay() {
    let mut sim = Sim::new(
        MonitorConfig {
            expire_after: Some(Nanos::from_secs(5)),
            ..Default::default()
        },
        2,
    );
    sim.run(10, &all(2));
    let last = sim.seq[1];
    let mut gone = false;
    for _ in 0..60 {
        sim.clock.advance(BEAT);
        sim.beat(0);
        gone |= sim.tick().expired.contains(&1);
    }
    assert!(gone && !sim.m.contains(&1));
    for seq in (1..=last).rev() {
        assert_eq!(
            sim.m.heartbeat_seq(&1, seq),
            Ok(Arrival::Stale),
            "seq {seq}"
        );
    }
    assert!(!sim.m.contains(&1));
    assert_eq!(sim.m.heartbeat_seq(&1, last + 1), Ok(Arrival::Accepted));
}

/// Tombstones: at most `MAX_PEERS`; with none, the monitor forgets the numbers with the peer.
#[test]
fn tombstones_are_bounded_and_can_be_turned_off() {
    let cfg = MonitorConfig {
        tombstones: accrual::monitor::MAX_PEERS + 1,
        ..Default::default()
    };
    assert!(matches!(
        cfg.validate(),
        Err(ConfigError::OutOfRange {
            field: "monitor.tombstones",
            ..
        })
    ));
    let cfg = MonitorConfig {
        tombstones: 0,
        ..Default::default()
    };
    let m = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
    m.heartbeat_seq(&1u8, 9).unwrap();
    m.remove(&1);
    assert_eq!(m.heartbeat_seq(&1, 9), Ok(Arrival::Accepted));
    assert_eq!(m.replays(), 0);
}

/// Only the latest removals are remembered: with room for one, the second removal overwrites
/// the first's tombstone.
#[test]
fn the_oldest_tombstone_goes_first() {
    let cfg = MonitorConfig {
        tombstones: 1,
        ..Default::default()
    };
    let m = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
    m.heartbeat_seq(&1u8, 9).unwrap();
    m.heartbeat_seq(&2u8, 9).unwrap();
    m.remove(&1);
    m.remove(&2);
    assert_eq!(m.heartbeat_seq(&2, 9), Ok(Arrival::Stale));
    assert_eq!(m.heartbeat_seq(&1, 9), Ok(Arrival::Accepted));
    // A peer that comes back by a round-trip sample keeps its numbers.
    m.heartbeat_seq(&2, 10).unwrap();
    m.remove(&2);
    m.record_rtt(&2, Nanos::from_millis(1)).unwrap();
    assert_eq!(m.heartbeat_seq(&2, 10), Ok(Arrival::Stale));
    assert!(m.contains(&2));
    assert_eq!(m.replays(), 1);
}
