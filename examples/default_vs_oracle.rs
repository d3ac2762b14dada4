//! The `default` detector against the per-peer hindsight oracle and the best canonical family,
//! on generated fleets: the ratios of mean detection time at budgets of 1 and 0.1 mistakes per
//! peer-hour.
//!
//! ```text
//! cargo run --release --example default_vs_oracle -- [--seeds 1,2] [--peers 20] [--secs 1200]
//!     [--scenarios lan,wan,...] [--mix 'lan=16,jvm=4;wan=10,cloud-vm=10'] [--canonical]
//! ```
//!
//! `--mix` replaces the scenarios with fleets of the given composition (`;` between fleets):
//! each kind's peers are generated with their own seed (the fleet's seed plus the kind's place
//! in the list), so a mix's peers are not copies of one another.

use std::error::Error;

use accrual::eval::hb_gen::{Scenario, generate};
use accrual::eval::heartbeat::{HeartbeatTrace, oracle, replay_peer, score};
use accrual::eval::run::{evaluate, frontier};
use accrual::eval::spec::Family;
use accrual::{Adaptive, AdaptiveConfig, Nanos};

const BUDGETS: [f64; 2] = [1.0, 0.1];
const CANONICAL: [Family; 5] = [
    Family::Fixed,
    Family::Chen,
    Family::PhiNormal,
    Family::PhiAkka,
    Family::PhiExp,
];

fn default_frontier(
    trace: &HeartbeatTrace,
    cfg: AdaptiveConfig,
    budget: f64,
    warmup: usize,
) -> f64 {
    let mut best = f64::INFINITY;
    let mut t = 0.5;
    while t <= 9.0 {
        let peers: Vec<_> = trace
            .peers
            .iter()
            .map(|p| {
                let mut d = Adaptive::new(cfg).expect("valid configuration");
                replay_peer(p, &mut d, t)
            })
            .collect();
        let s = score(&peers, warmup, &trace.ticks);
        if s.mistake_rate_per_hour <= budget {
            best = best.min(s.detection_time_mean_s);
        }
        t += 0.25;
    }
    best
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seeds: Vec<u64> = value("--seeds")
        .unwrap_or_else(|| "1".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let peers: usize = value("--peers").unwrap_or_else(|| "20".into()).parse()?;
    let secs: u64 = value("--secs").unwrap_or_else(|| "1200".into()).parse()?;
    let scenarios: Vec<Scenario> = match value("--scenarios") {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => Scenario::ALL.to_vec(),
    };
    let fleets: Vec<Fleet> = match value("--mix") {
        Some(mixes) => mixes.split(';').map(parse_mix).collect::<Result<_, _>>()?,
        None => scenarios
            .into_iter()
            .map(|s| Fleet {
                name: s.name().to_string(),
                kinds: vec![(s, peers)],
            })
            .collect(),
    };
    let warmup: usize = value("--warmup").unwrap_or_else(|| "0".into()).parse()?;
    let canonical = args.iter().any(|a| a == "--canonical");
    let mut cfg = AdaptiveConfig::default();
    if let Ok(v) = std::env::var("MEM") {
        cfg.memory = Nanos::from_secs(v.parse()?);
    }
    if let Ok(v) = std::env::var("TAIL") {
        cfg.tail_samples = v.parse()?;
    }
    if let Ok(v) = std::env::var("MINTAIL") {
        cfg.min_tail_ratio = v.parse()?;
    }
    if let Ok(v) = std::env::var("PRIOR") {
        cfg.prior_pause = v.parse()?;
    }
    if let Ok(v) = std::env::var("PW") {
        cfg.prior_weight = v.parse()?;
    }
    println!(
        "{:<14} {:>4} {:>6} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "scenario", "seed", "budget", "default", "oracle", "canon", "/oracle", "/canon"
    );
    for fleet in &fleets {
        for &seed in &seeds {
            let trace = fleet.generate(seed, Nanos::from_secs(secs));
            let points = if canonical {
                let specs: Vec<_> = CANONICAL.iter().flat_map(|f| f.grid()).collect();
                evaluate(&trace, &specs, warmup, 2, &|_| {})?
            } else {
                Vec::new()
            };
            for budget in BUDGETS {
                let ours = default_frontier(&trace, cfg, budget, warmup);
                let best = oracle(&trace, warmup, budget)
                    .map_or(f64::INFINITY, |(s, _)| s.detection_time_mean_s);
                let canon = CANONICAL
                    .iter()
                    .map(|&f| frontier(&points, f, budget))
                    .fold(f64::INFINITY, f64::min);
                println!(
                    "{:<14} {:>4} {:>6} {:>8.3}s {:>8.3}s {:>8.3}s {:>8.3} {:>8.3}",
                    fleet.name,
                    seed,
                    budget,
                    ours,
                    best,
                    canon,
                    ours / best,
                    ours / canon
                );
            }
        }
    }
    Ok(())
}

/// A fleet: how many peers of each kind.
struct Fleet {
    name: String,
    kinds: Vec<(Scenario, usize)>,
}

impl Fleet {
    /// The fleet's trace: each kind's peers from its own seed, one tick schedule.
    fn generate(&self, seed: u64, duration: Nanos) -> HeartbeatTrace {
        let mut trace = HeartbeatTrace::default();
        for (i, &(kind, n)) in self.kinds.iter().enumerate() {
            let part = generate(kind, seed + i as u64 * 1000, n, duration);
            trace.peers.extend(part.peers);
            trace.ticks = part.ticks;
        }
        trace
    }
}

/// `kind=count,kind=count`, for example `lan=16,jvm=4`.
fn parse_mix(text: &str) -> Result<Fleet, Box<dyn Error>> {
    let mut kinds = Vec::new();
    for part in text.split(',') {
        let (kind, count) = part
            .split_once('=')
            .ok_or_else(|| format!("mix entry {part:?}: expected kind=count"))?;
        let kind: Scenario = kind.trim().parse()?;
        if matches!(kind, Scenario::Mixed | Scenario::MonitorStall) {
            return Err(
                format!("mix entry {part:?}: {kind} is a fleet, not a kind of peer").into(),
            );
        }
        kinds.push((kind, count.trim().parse()?));
    }
    Ok(Fleet {
        name: text.to_string(),
        kinds,
    })
}
