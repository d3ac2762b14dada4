//! Synthetic round-trip-time traces: seeded, deterministic, shaped like real links.

use std::fmt;
use std::str::FromStr;

use crate::rng::Rng;
use crate::rtt::{Probe, RttPeer, RttTrace};
use accrual::time::Nanos;

/// A family of links. Every peer of a generated trace draws its own parameters (base delay,
/// episode rates) from the family's ranges, so a fleet is varied but reproducible.
///
/// | scenario | model |
/// |---|---|
/// | `heavy-tail` | base 5–80 ms plus a Pareto excess (tail index 1.3–2.5, scale 5–20% of base) |
/// | `congestion` | base 1–40 ms with ±10% jitter; congestion episodes (one every ~5 min, ~30 s long) multiply delay by 3–10 with exponential queueing jitter |
/// | `loss-bursts` | base 20–150 ms; a Gilbert–Elliott channel (good→bad 0.5%, bad→good 20%) loses 60% of probes while bad; 1% of replies carry a retransmission (+200 ms or +1 s) |
/// | `route-changes` | base 10–200 ms that jumps to a new level (×0.5–×3 of the original) every ~10 min, with ±5% jitter |
/// | `server-pauses` | base 1–30 ms; stop-the-world pauses of 0.1–2 s every ~2 min delay every probe in flight until the pause ends |
/// | `mixed` | each peer takes one of the above in turn |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RttScenario {
    /// Heavy-tailed delays.
    HeavyTail,
    /// Congestion episodes.
    Congestion,
    /// Bursty loss and retransmissions.
    LossBursts,
    /// Route changes that shift the delay for minutes.
    RouteChanges,
    /// Server pauses.
    ServerPauses,
    /// One of each, peer by peer.
    Mixed,
}

impl RttScenario {
    /// Every scenario, `Mixed` last.
    pub const ALL: [RttScenario; 6] = [
        RttScenario::HeavyTail,
        RttScenario::Congestion,
        RttScenario::LossBursts,
        RttScenario::RouteChanges,
        RttScenario::ServerPauses,
        RttScenario::Mixed,
    ];

    /// The scenario's name.
    pub fn name(self) -> &'static str {
        match self {
            RttScenario::HeavyTail => "heavy-tail",
            RttScenario::Congestion => "congestion",
            RttScenario::LossBursts => "loss-bursts",
            RttScenario::RouteChanges => "route-changes",
            RttScenario::ServerPauses => "server-pauses",
            RttScenario::Mixed => "mixed",
        }
    }
}

impl fmt::Display for RttScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for RttScenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        crate::scenario_named(s, &RttScenario::ALL, RttScenario::name)
    }
}

/// Generates `peers` peers of `probes` probes each, one every `interval`, with delays from
/// `scenario`. The same arguments give the same trace.
///
/// ```
/// use accrual_eval::rtt_gen::{RttScenario, generate};
/// use accrual::Nanos;
///
/// let a = generate(RttScenario::Mixed, 42, 6, 100, Nanos::from_secs(1));
/// let b = generate(RttScenario::Mixed, 42, 6, 100, Nanos::from_secs(1));
/// assert_eq!(a, b);
/// assert_eq!(a.probes(), 600);
/// ```
pub fn generate(
    scenario: RttScenario,
    seed: u64,
    peers: usize,
    probes: usize,
    interval: Nanos,
) -> RttTrace {
    let mut trace = RttTrace::default();
    for p in 0..peers {
        let kind = match scenario {
            RttScenario::Mixed => RttScenario::ALL[p % 5],
            s => s,
        };
        let mut rng = Rng::stream(seed, p as u64);
        let probes = link(kind, &mut rng, probes, interval.as_nanos() as f64);
        trace.peers.push(RttPeer {
            name: format!("{}-{p}", kind.name()),
            probes,
        });
    }
    trace
}

const MS: f64 = 1e6;

fn link(kind: RttScenario, rng: &mut Rng, n: usize, interval: f64) -> Vec<Probe> {
    // Not reserved ahead: `n` comes from the caller, and the vector grows as it fills.
    let mut out = Vec::new();
    let between = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.unit();
    match kind {
        // `Mixed` is resolved to a concrete kind per peer before this point.
        RttScenario::HeavyTail | RttScenario::Mixed => {
            let base = between(rng, 5.0, 80.0) * MS;
            let alpha = between(rng, 1.3, 2.5);
            let scale = base * between(rng, 0.05, 0.2);
            for k in 0..n {
                let rtt = base + rng.pareto(scale, alpha) - scale;
                out.push(probe(k, interval, Some(rtt)));
            }
        }
        RttScenario::Congestion => {
            let base = between(rng, 1.0, 40.0) * MS;
            let (mut congested_until, mut factor) = (-1.0f64, 1.0);
            for k in 0..n {
                let t = k as f64 * interval;
                if t >= congested_until && rng.chance(interval / (300.0 * 1e9)) {
                    congested_until = t + rng.exponential(30.0 * 1e9);
                    factor = between(rng, 3.0, 10.0);
                }
                let mut rtt = base * between(rng, 0.9, 1.1);
                if t < congested_until {
                    rtt = rtt * factor + rng.exponential(base * factor * 0.5);
                }
                out.push(probe(k, interval, Some(rtt)));
            }
        }
        RttScenario::LossBursts => {
            let base = between(rng, 20.0, 150.0) * MS;
            let mut bad = false;
            for k in 0..n {
                bad = if bad {
                    !rng.chance(0.2)
                } else {
                    rng.chance(0.005)
                };
                if bad && rng.chance(0.6) {
                    out.push(probe(k, interval, None));
                    continue;
                }
                let mut rtt = base * between(rng, 0.95, 1.15);
                if rng.chance(0.01) {
                    rtt += if rng.chance(0.5) {
                        200.0 * MS
                    } else {
                        1000.0 * MS
                    };
                }
                out.push(probe(k, interval, Some(rtt)));
            }
        }
        RttScenario::RouteChanges => {
            let original = between(rng, 10.0, 200.0) * MS;
            let mut base = original;
            for k in 0..n {
                if rng.chance(interval / (600.0 * 1e9)) {
                    base = original * between(rng, 0.5, 3.0);
                }
                out.push(probe(k, interval, Some(base * between(rng, 0.95, 1.05))));
            }
        }
        RttScenario::ServerPauses => {
            let base = between(rng, 1.0, 30.0) * MS;
            let (mut pause_start, mut pause_end) = (-1.0f64, -1.0f64);
            for k in 0..n {
                let t = k as f64 * interval;
                if t >= pause_end && rng.chance(interval / (120.0 * 1e9)) {
                    pause_start = t + rng.unit() * interval;
                    pause_end = pause_start + between(rng, 100.0, 2000.0) * MS;
                }
                let mut rtt = base * between(rng, 0.9, 1.2);
                // A probe that reaches the server during a pause waits for its end.
                let arrival = t + rtt / 2.0;
                if arrival >= pause_start && arrival < pause_end {
                    rtt += pause_end - arrival;
                }
                out.push(probe(k, interval, Some(rtt)));
            }
        }
    }
    out
}

fn probe(k: usize, interval: f64, rtt: Option<f64>) -> Probe {
    Probe {
        sent: Nanos((k as f64 * interval) as u64),
        rtt: rtt.map(|r| Nanos(r.max(1.0) as u64)),
    }
}
