//! Monitor stalls (qos-spec §3): what a stalling monitor costs baseline detectors, measured by
//! tick-sampled scoring of the same trace with and without the stalls.

use accrual::Nanos;
use accrual::eval::hb_gen::{MonitorStalls, RELEASE_LAG, Scenario, generate_with, monitor_stalls};
use accrual::eval::run::replay;
use accrual::eval::{DetectorSpec, HeartbeatTrace, score};

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
