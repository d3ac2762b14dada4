//! Many threads at once: heartbeats, round trips, ticks, queries, snapshots and removals on one
//! monitor, with every heartbeat accounted for.

use std::sync::atomic::{AtomicBool, Ordering};

use accrual::monitor::{DetectorConfig, Heartbeat, Monitor, MonitorConfig, MonitorError};
use accrual::{Arrival, Clock, FixedConfig, ManualClock, Nanos, PhiNormalConfig};

const THREADS: u64 = 4;
const HEARTBEATS: u64 = 50_000;
const KEYS: u64 = 2_500;
const MAX_PEERS: usize = 2_000;

/// What a sending thread saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Seen {
    accepted: u64,
    stale: u64,
    backwards: u64,
    refused: u64,
}

/// `THREADS` threads send `HEARTBEATS` heartbeats each to overlapping keys (more keys than the
/// monitor takes), with sequence numbers that collide across threads and a shared clock that
/// other threads move, while a ticker ticks, a reader queries and snapshots. Afterwards the
/// monitor's per-peer counts add up to exactly what the senders were told.
#[test]
fn every_heartbeat_from_every_thread_is_accounted_for() {
    for detector in [
        DetectorConfig::Fixed(FixedConfig {
            timeout: Nanos::from_millis(300),
        }),
        DetectorConfig::PhiNormal(PhiNormalConfig {
            window: 32,
            ..Default::default()
        }),
    ] {
        let clock = ManualClock::new(Nanos::from_secs(1));
        let m = Monitor::with_clock(
            MonitorConfig {
                detector,
                max_peers: MAX_PEERS,
                shards: 8,
                ..Default::default()
            },
            clock.clone(),
        )
        .unwrap();
        let done = AtomicBool::new(false);
        let seen: Vec<Seen> = std::thread::scope(|s| {
            let senders: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (m, clock) = (&m, &clock);
                    s.spawn(move || {
                        let mut seen = Seen::default();
                        let mut count = |result| match result {
                            Ok(Arrival::Accepted) => seen.accepted += 1,
                            Ok(Arrival::Stale) => seen.stale += 1,
                            Ok(Arrival::Backwards) => seen.backwards += 1,
                            Err(MonitorError::PeerLimit { max_peers }) => {
                                assert_eq!(max_peers, MAX_PEERS);
                                seen.refused += 1;
                            }
                            Err(e) => panic!("{e}"),
                        };
                        // Every fourth heartbeat goes through batches of 97 (long enough to be grouped).
                        let mut batch = Vec::new();
                        for i in 0..HEARTBEATS {
                            let key = (i * 7 + t * 13) % KEYS;
                            // Sequence numbers shared by threads: some collide, some are late.
                            let seq = (i / 4) * THREADS + t;
                            match i % 4 {
                                0 => count(m.heartbeat(&key)),
                                1 => count(m.heartbeat_seq(&key, seq)),
                                2 => count(m.heartbeat_at(&key, clock.now(), Some(seq))),
                                _ => {
                                    batch.push(Heartbeat {
                                        peer: key,
                                        at: clock.now(),
                                        seq: Some(seq),
                                    });
                                    if batch.len() == 97 || i + 1 == HEARTBEATS {
                                        m.heartbeat_batch(&batch, |_, r| count(r));
                                        batch.clear();
                                    }
                                }
                            }
                            if i % 64 == 0 {
                                let _ = m.record_rtt(&key, Nanos::from_micros(100 + i % 50));
                            }
                        }
                        seen
                    })
                })
                .collect();
            let ticker = s.spawn(|| {
                let mut ticks = 0;
                while !done.load(Ordering::Acquire) {
                    clock.advance(Nanos::from_millis(1));
                    let e = m.tick(m.now());
                    assert!(e.stall.is_none());
                    assert!(m.dead() <= m.len() / 2);
                    ticks += 1;
                }
                ticks
            });
            let reader = s.spawn(|| {
                let mut reads = 0u64;
                while !done.load(Ordering::Acquire) {
                    for key in (0..KEYS).step_by(97) {
                        if let Some(phi) = m.phi(&key) {
                            assert!(phi >= 0.0 && phi.is_finite());
                        }
                        std::hint::black_box((m.level(&key), m.deadline(&key), m.stats(&key)));
                        std::hint::black_box(m.request_timeout(&key));
                    }
                    std::hint::black_box(m.suspects());
                    #[cfg(feature = "serde")]
                    assert!(m.snapshot().unwrap().len() <= MAX_PEERS);
                    assert!(m.len() <= MAX_PEERS);
                    reads += 1;
                }
                reads
            });
            let seen = senders.into_iter().map(|h| h.join().unwrap()).collect();
            done.store(true, Ordering::Release);
            assert!(ticker.join().unwrap() > 0);
            assert!(reader.join().unwrap() > 0);
            seen
        });

        let told = seen.iter().fold(Seen::default(), |a, s| Seen {
            accepted: a.accepted + s.accepted,
            stale: a.stale + s.stale,
            backwards: a.backwards + s.backwards,
            refused: a.refused + s.refused,
        });
        assert_eq!(
            told.accepted + told.stale + told.backwards + told.refused,
            THREADS * HEARTBEATS
        );
        let mut counted = Seen {
            refused: m.rejected(),
            ..Seen::default()
        };
        let mut known = 0;
        for key in 0..KEYS {
            if let Some(stats) = m.stats(&key) {
                known += 1;
                counted.accepted += stats.arrivals.accepted;
                counted.stale += stats.arrivals.stale;
                counted.backwards += stats.arrivals.backwards;
            }
        }
        // `rejected` also counts the refused round-trip samples of new peers.
        let rtt_refused = counted.refused - told.refused;
        counted.refused = told.refused;
        assert_eq!(counted, told);
        assert!(rtt_refused <= THREADS * HEARTBEATS.div_ceil(64));
        assert_eq!(known, MAX_PEERS);
        assert_eq!(m.len(), MAX_PEERS);
        assert_eq!(m.shard_sizes().iter().sum::<usize>(), MAX_PEERS);
        assert!(told.stale > 0 && told.refused > 0, "{told:?}");
        println!(
            "{THREADS} threads x {HEARTBEATS} heartbeats to {KEYS} keys ({MAX_PEERS} admitted): {told:?}"
        );
    }
}

/// Peers added and removed from several threads at once: the count stays exact and never
/// exceeds the limit.
#[test]
fn concurrent_additions_and_removals_keep_the_count_exact() {
    let m: Monitor<u64, _> = Monitor::with_clock(
        MonitorConfig {
            max_peers: 500,
            shards: 4,
            ..Default::default()
        },
        ManualClock::default(),
    )
    .unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let m = &m;
            s.spawn(move || {
                for i in 0..20_000u64 {
                    let key = (i * 31 + t) % 800;
                    if (i + t) % 3 == 0 {
                        m.remove(&key);
                    } else {
                        let _ = m.heartbeat(&key);
                    }
                    assert!(m.len() <= 500);
                }
            });
        }
    });
    let present = (0..800u64).filter(|k| m.contains(k)).count();
    assert_eq!(m.len(), present);
    assert_eq!(m.shard_sizes().iter().sum::<usize>(), present);
}
