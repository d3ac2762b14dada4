//! Monitor stalls (qos-spec §3): what a stalling monitor costs baseline detectors and the
//! monitor, measured by tick-sampled scoring of the same trace with and without the stalls
//! (20 peers, 30 minutes, 10 stalls of 0.67 to 7.9 s).

use accrual::monitor::{DetectorConfig, MonitorConfig};
use accrual::{FixedConfig, Nanos};
use accrual_eval::hb_gen::{
    INTERVAL, MonitorStalls, RELEASE_LAG, Scenario, generate_with, monitor_stalls,
};
use accrual_eval::monitor::replay_monitor;
use accrual_eval::run::replay;
use accrual_eval::{DetectorSpec, HeartbeatTrace, score};

const SEED: u64 = 11;
const PEERS: usize = 20;
const DURATION: Nanos = Nanos::from_secs(1_800);

fn traces() -> (HeartbeatTrace, HeartbeatTrace, Vec<(Nanos, Nanos)>) {
    let s = Scenario::MonitorStall;
    (
        generate_with(s, SEED, PEERS, DURATION, MonitorStalls::On),
        generate_with(s, SEED, PEERS, DURATION, MonitorStalls::Off),
        monitor_stalls(s, SEED, DURATION),
    )
}

fn tick_sampled(trace: &HeartbeatTrace, spec: &str) -> u64 {
    let spec: DetectorSpec = spec.parse().unwrap();
    score(&replay(trace, &spec).unwrap(), 0, &trace.ticks)
        .unwrap()
        .tick_sampled_suspicions
        .unwrap()
}

#[test]
fn the_stall_free_trace_differs_only_where_the_monitor_stalled() {
    let (stalled, steady, stalls) = traces();
    assert!(stalls.len() >= 6, "{} stalls", stalls.len());
    let in_stall = |t: u64| stalls.iter().find(|(a, b)| t >= a.0 && t < b.0);
    let mut queued = 0;
    for (p, q) in stalled.peers.iter().zip(&steady.peers) {
        assert_eq!(p.name, q.name);
        assert_eq!(p.rows.len(), q.rows.len());
        for (r, s) in p.rows.iter().zip(&q.rows) {
            assert_eq!((r.seq, r.send), (s.seq, s.send));
            match in_stall(s.recv) {
                // Arrived while the monitor was stalled: received just after its overdue tick.
                Some(&(_, end)) => {
                    assert_eq!(r.recv, end.as_nanos() + RELEASE_LAG.as_nanos());
                    assert!(stalled.ticks.binary_search(&end.as_nanos()).is_ok());
                    queued += 1;
                }
                None => assert_eq!(r.recv, s.recv),
            }
        }
    }
    assert!(queued > 0);
    // No tick while stalled; every other tick of the steady schedule is kept.
    for &t in &steady.ticks {
        assert_eq!(
            stalled.ticks.binary_search(&t).is_ok(),
            in_stall(t).is_none()
        );
    }
    assert_eq!(stalled.ticks.len(), {
        let skipped = steady
            .ticks
            .iter()
            .filter(|&&t| in_stall(t).is_some())
            .count();
        let resumed = stalls
            .iter()
            .filter(|(_, b)| steady.ticks.binary_search(&b.as_nanos()).is_err())
            .count();
        steady.ticks.len() - skipped + resumed
    });
}

/// A fixed timeout `T` suspects every peer once at the overdue tick of each stall longer than
/// `T` (a stall up to one heartbeat interval shorter may catch peers whose last heartbeat came
/// early), and nowhere else that the stall-free trace does not.
#[test]
fn fixed_timeouts_suspect_every_peer_once_per_stall_longer_than_the_timeout() {
    let (stalled, steady, stalls) = traces();
    let longer = |t: Nanos| stalls.iter().filter(|(a, b)| *b - *a > t).count() as u64;
    for ms in [500u64, 1_000, 2_000, 4_000, 8_000] {
        let spec = format!("fixed:timeout={ms}ms");
        let caused = tick_sampled(&stalled, &spec) as i64 - tick_sampled(&steady, &spec) as i64;
        let t = Nanos::from_millis(ms);
        let (lo, hi) = (
            PEERS as u64 * longer(t),
            PEERS as u64 * longer(t - Nanos::from_millis(150)),
        );
        println!("{spec}: {caused} stall-caused suspicions, expected {lo}..={hi}");
        assert!(
            caused >= lo as i64 && caused <= hi as i64,
            "{spec}: {caused}"
        );
    }
}

/// §3's sampling, written out again: every trust-to-suspect change of every peer at every
/// tick, as `(peer, tick)`.
fn suspicions(trace: &HeartbeatTrace, spec: &str) -> Vec<(usize, u64)> {
    let spec: DetectorSpec = spec.parse().unwrap();
    let replays = replay(trace, &spec).unwrap();
    let mut out = Vec::new();
    for (i, p) in replays.iter().enumerate() {
        let mut suspect = false;
        for &t in &trace.ticks {
            // The latest accepted arrival at or before the tick.
            let k = p.arrivals.partition_point(|&a| a <= t);
            if k == 0 {
                continue;
            }
            let now = p.deadlines[k - 1].is_some_and(|tau| t > tau);
            if now && !suspect {
                out.push((i, t));
            }
            suspect = now;
        }
    }
    // The library's count agrees.
    assert_eq!(
        score(&replays, 0, &trace.ticks)
            .unwrap()
            .tick_sampled_suspicions,
        Some(out.len() as u64)
    );
    out
}

/// Every baseline detector, replayed as §3 specifies (ignoring ticks), suspects every peer at
/// the overdue tick of each stall longer than its timeout: suspicions the stall-free trace
/// does not have at that tick. All of these suspect within 2 s of silence, so each pays at
/// least one per peer for every stall longer than 2 s, and at most one per peer per stall.
#[test]
fn every_baseline_pays_for_the_stalls() {
    let (stalled, steady, stalls) = traces();
    let longer_than_2s = stalls
        .iter()
        .filter(|(a, b)| *b - *a > Nanos::from_secs(2))
        .count();
    assert!(longer_than_2s >= 5);
    let resumed: Vec<u64> = stalls.iter().map(|(_, b)| b.as_nanos()).collect();
    for spec in [
        "fixed:timeout=1s",
        "chen:window=1000,alpha=500ms,interval=100ms",
        "phi-exp:threshold=8,window=1000,first=100ms",
        "phi-normal:threshold=8,window=1000,min-std=10ms,first=100ms",
        "phi-akka:threshold=8,window=1000,min-std=10ms,first=100ms",
    ] {
        let (with, without) = (suspicions(&stalled, spec), suspicions(&steady, spec));
        let caused: Vec<_> = with.iter().filter(|s| !without.contains(s)).collect();
        println!(
            "{spec}: {} suspicions with stalls, {} without, {} caused by the stalls",
            with.len(),
            without.len(),
            caused.len()
        );
        // All at the overdue ticks, at most one per peer per stall.
        assert!(caused.iter().all(|(_, t)| resumed.contains(t)), "{spec}");
        assert!(caused.len() >= PEERS * longer_than_2s, "{spec}");
        assert!(caused.len() <= PEERS * stalls.len(), "{spec}");
    }
    // The default detector alone takes the monitor's stalls for its peers' pauses: it pays
    // at the first stall longer than it expects, one suspicion per peer, and from then on waits
    // out stalls as long as it has seen (in continuous scoring, seconds of detection time).
    // Only the monitor, which knows it was away, avoids both.
    let spec = "default:threshold=8";
    let (with, without) = (suspicions(&stalled, spec), suspicions(&steady, spec));
    let caused: Vec<_> = with.iter().filter(|s| !without.contains(s)).collect();
    println!("{spec}: {} caused by the stalls", caused.len());
    assert!(caused.iter().all(|(_, t)| resumed.contains(t)), "{spec}");
    assert!(
        !caused.is_empty() && caused.len() <= PEERS,
        "{}",
        caused.len()
    );
}

/// The monitor judges by its own verdicts at its ticks: it notices every stall, holds its
/// suspicions back until the queued heartbeats are read, and so suspects nobody because of
/// a stall. Every suspicion it makes with the stalls, it also makes at the same tick without
/// them.
#[test]
fn the_default_monitor_suspects_nobody_because_of_a_stall() {
    let (stalled, steady, stalls) = traces();
    for (name, config) in [
        ("default", MonitorConfig::default()),
        (
            "fixed 500ms",
            MonitorConfig {
                detector: DetectorConfig::Fixed(FixedConfig {
                    timeout: Nanos::from_millis(500),
                }),
                ..Default::default()
            },
        ),
    ] {
        let with = replay_monitor(&stalled, &config).unwrap();
        let without = replay_monitor(&steady, &config).unwrap();
        let caused: Vec<_> = with
            .suspicions
            .iter()
            .filter(|s| !without.suspicions.contains(s))
            .collect();
        println!(
            "monitor ({name}): {} suspicions with stalls, {} without, {} caused by the stalls; {} stalls noticed, {} suspicions held",
            with.tick_sampled_suspicions,
            without.tick_sampled_suspicions,
            caused.len(),
            with.stalls.len(),
            with.held,
        );
        assert!(caused.is_empty(), "{name}: {caused:?}");
        assert!(with.tick_sampled_suspicions <= without.tick_sampled_suspicions);
        // Every stall was noticed, at the tick that ended it, and none was imagined.
        assert!(without.stalls.is_empty());
        assert_eq!(with.stalls.len(), stalls.len());
        for (seen, (start, end)) in with.stalls.iter().zip(&stalls) {
            assert_eq!(seen.resumed, *end);
            assert!(seen.last_tick <= *start && *start - seen.last_tick <= INTERVAL);
        }
        // A stall longer than 4 s outlasts every peer's suspect deadline (3.4 s at most
        // here, cold): each peer's suspicion was due in it, and held back.
        let long = stalls
            .iter()
            .filter(|(start, end)| *end - *start > Nanos::from_secs(4))
            .count() as u64;
        assert!(long > 0);
        assert!(
            with.held >= PEERS as u64 * long,
            "{name}: {} held",
            with.held
        );
        assert_eq!((with.collective_faults, with.capped), (0, 0));
        // Reordered heartbeats are stale for the monitor exactly as for the §2 replay.
        let spec: DetectorSpec = "fixed:timeout=1s".parse().unwrap();
        let stale = |t: &HeartbeatTrace| score(&replay(t, &spec).unwrap(), 0, &[]).unwrap().stale;
        assert!(with.stale > 0);
        assert_eq!(
            (with.stale, without.stale),
            (stale(&stalled), stale(&steady))
        );
    }
}
