//! Replaying a [`Monitor`] over a heartbeat trace, ticks included (`qos-spec.md` §3): the
//! monitor's own verdict at each tick is what is scored, so a monitor that knows about its own
//! stalls is credited for holding its suspicions back.

use crate::heartbeat::HeartbeatTrace;
use accrual::ConfigError;
use accrual::Level;
use accrual::monitor::{Monitor, MonitorConfig, Stall};
use accrual::time::{ManualClock, Nanos};

/// What a monitor did over a trace: see [`replay_monitor`].
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorScore {
    /// Peers in the trace (`@monitor` excluded).
    pub peers: u64,
    /// Ticks replayed.
    pub ticks: u64,
    /// §3's count: every peer's verdict sampled at every tick (suspect at `Suspect` or
    /// `Dead`), each trust-to-suspect change counting one.
    pub tick_sampled_suspicions: u64,
    /// Each of those changes: the peer (its index in the trace) and the tick.
    pub suspicions: Vec<(usize, Nanos)>,
    /// The stalls the monitor noticed.
    pub stalls: Vec<Stall>,
    /// Transitions to a more severe level held back, after a stall or by a collective fault.
    pub held: u64,
    /// Ticks that found a collective fault.
    pub collective_faults: u64,
    /// Deaths refused by the ejection cap.
    pub capped: u64,
    /// Heartbeats ignored for a sequence number that was not new.
    pub stale: u64,
    /// Heartbeats refused because the monitor was full.
    pub rejected: u64,
}

/// Replays `trace` through a monitor built from `config`: every row and every tick in receipt
/// order (a peer's rows sorted by `recv_ns`, ties by `seq`, as §2 sorts them; rows at the
/// instant of a tick before it, as §3 samples "the latest arrival at or before `t`"), each row
/// a [`heartbeat_at`](Monitor::heartbeat_at) with its sequence number, each tick a
/// [`tick`](Monitor::tick). A peer is judged from its first row on, like §3's sampling. Set
/// [`MonitorConfig::tick_interval`] to the trace's tick interval (100 ms for generated traces,
/// the default).
///
/// ```
/// use accrual_eval::hb_gen::{Scenario, generate};
/// use accrual_eval::monitor::replay_monitor;
/// use accrual::monitor::MonitorConfig;
/// use accrual::Nanos;
///
/// let trace = generate(Scenario::Lan, 1, 4, Nanos::from_secs(60));
/// let score = replay_monitor(&trace, &MonitorConfig::default()).unwrap();
/// assert_eq!(score.peers, 4);
/// assert_eq!(score.ticks, 600);
/// assert!(score.stalls.is_empty());
/// ```
pub fn replay_monitor(
    trace: &HeartbeatTrace,
    config: &MonitorConfig,
) -> Result<MonitorScore, ConfigError> {
    let clock = ManualClock::new(Nanos::ZERO);
    let monitor: Monitor<usize, ManualClock> = Monitor::with_clock(config.clone(), clock.clone())?;
    // (instant, 0 for a row or 1 for a tick, peer, seq)
    let mut events: Vec<(u64, u8, usize, u64)> =
        Vec::with_capacity(trace.rows() + trace.ticks.len());
    for (i, p) in trace.peers.iter().enumerate() {
        events.extend(p.rows.iter().map(|r| (r.recv, 0, i, r.seq)));
    }
    events.extend(trace.ticks.iter().map(|&t| (t, 1, 0, 0)));
    events.sort_unstable();

    let mut score = MonitorScore {
        peers: trace.peers.len() as u64,
        ticks: trace.ticks.len() as u64,
        tick_sampled_suspicions: 0,
        suspicions: Vec::new(),
        stalls: Vec::new(),
        held: 0,
        collective_faults: 0,
        capped: 0,
        stale: 0,
        rejected: 0,
    };
    let suspected = |l: Level| matches!(l, Level::Suspect | Level::Dead);
    for (at, kind, peer, seq) in events {
        clock.set(Nanos(at));
        if kind == 0 {
            // A refused row is counted by the monitor; the replay goes on.
            let _ = monitor.heartbeat_at(&peer, Nanos(at), Some(seq));
            continue;
        }
        let e = monitor.tick(Nanos(at));
        for (peer, t) in &e.transitions {
            if !suspected(t.from) && suspected(t.to) {
                score.tick_sampled_suspicions += 1;
                score.suspicions.push((*peer, t.at));
            }
        }
        score.stalls.extend(e.stall);
        score.held += e.held as u64;
        score.collective_faults += u64::from(e.collective.is_some());
        score.capped += e.capped.len() as u64;
    }
    score.stale = (0..trace.peers.len())
        .filter_map(|p| monitor.stats(&p))
        .map(|s| s.arrivals.stale)
        .sum();
    score.rejected = monitor.rejected();
    Ok(score)
}
