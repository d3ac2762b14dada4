//! The recommended detector (`Adaptive`) against the best fixed timeout chosen with hindsight,
//! cold and warm, over many seeds: the distribution of the ratio of their mean detection times
//! within 1 and 0.1 mistakes per peer-hour.
//!
//! ```text
//! cargo run --release -p accrual-eval --example fleet_ratios -- \
//!     [--scenarios random,lan,...] [--seeds 5001-5010] [--peers 30] [--secs 1800] \
//!     [--warmups 0,1000] [--config '{"memory": "2h"}'] [--oracle]
//! ```
//!
//! For each fleet and seed the detector is replayed once per peer, its deadline asked at every
//! threshold of its grid after each arrival, and each threshold scored as `accrual eval` scores
//! it. The fixed timeout is exact: the smallest `T` whose mistakes (gaps longer than `T`) stay
//! within the budget, so its mean detection time is `T` itself. A ratio below 1 means the
//! detector is faster at the same budget; `inf` means no threshold of the grid met the budget.
//! `--config` takes an [`AdaptiveConfig`] as JSON (fields left out keep their defaults).
//! `--oracle` adds the per-peer hindsight oracle's ratio to the fixed timeout.

use std::error::Error;

use accrual::{Adaptive, AdaptiveConfig, Detector, Nanos};
use accrual_eval::hb_gen::{Scenario, generate};
use accrual_eval::heartbeat::{HeartbeatTrace, PeerReplay, oracle, score};

const BUDGETS: [f64; 2] = [1.0, 0.1];

/// Rates swept, in mistakes per peer-hour: 10 down to 10^−5, four to a decade.
fn grid() -> Vec<f64> {
    (0..=24)
        .map(|k| 10f64.powf(1.0 - f64::from(k) / 4.0))
        .collect()
}

/// The threshold that means `rate` mistakes per hour for a detector whose interval is `eta`.
fn threshold(rate: f64, eta: Nanos) -> f64 {
    -(rate * eta.as_nanos() as f64 / 3.6e12).log10()
}

/// Replays every peer once, asking the deadline at every threshold after each arrival: one
/// replay per threshold, as `replay_peer` would give them.
fn replay_all(trace: &HeartbeatTrace, cfg: AdaptiveConfig, grid: &[f64]) -> Vec<Vec<PeerReplay>> {
    let mut out: Vec<Vec<PeerReplay>> = vec![Vec::new(); grid.len()];
    for peer in &trace.peers {
        let mut rows = peer.rows.clone();
        rows.sort_by_key(|r| (r.recv, r.seq));
        let mut d = Adaptive::new(cfg).expect("valid configuration");
        let mut replays: Vec<PeerReplay> = grid
            .iter()
            .map(|_| PeerReplay {
                name: peer.name.clone(),
                arrivals: Vec::with_capacity(rows.len()),
                deadlines: Vec::with_capacity(rows.len()),
                stale: 0,
            })
            .collect();
        let mut max_seq: Option<u64> = None;
        for r in rows {
            if max_seq.is_some_and(|m| r.seq <= m) {
                for p in &mut replays {
                    p.stale += 1;
                }
                continue;
            }
            max_seq = Some(r.seq);
            d.heartbeat_seq(Nanos(r.recv), r.seq);
            for (p, &t) in replays.iter_mut().zip(grid) {
                p.arrivals.push(r.recv);
                p.deadlines.push(
                    d.deadline(threshold(t, d.interval()))
                        .map(|x| x.as_nanos().max(r.recv)),
                );
            }
        }
        for (all, p) in out.iter_mut().zip(replays) {
            all.push(p);
        }
    }
    out
}

/// The best fixed timeout with hindsight, in seconds: every gap after arrival `warmup` of each
/// peer, the `(allowed + 1)`-th largest.
fn fixed_hindsight(replay: &[PeerReplay], warmup: usize, budget: f64) -> f64 {
    let mut gaps = Vec::new();
    let mut observed = 0u64;
    for p in replay {
        let a = p.arrivals.get(warmup..).unwrap_or_default();
        if let (Some(f), Some(l)) = (a.first(), a.last()) {
            observed += l - f;
        }
        gaps.extend(a.windows(2).map(|w| w[1] - w[0]));
    }
    gaps.sort_unstable_by(|a, b| b.cmp(a));
    let allowed = (budget * observed as f64 / 1e9 / 3600.0).floor() as usize;
    gaps.get(allowed).map_or(0.0, |&g| g as f64 / 1e9)
}

fn quantiles(mut v: Vec<f64>) -> (f64, f64, usize) {
    v.sort_by(f64::total_cmp);
    let met = v.iter().filter(|x| x.is_finite() && **x <= 1.0).count();
    (v[v.len() / 2], v[v.len() - 1], met)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seeds: Vec<u64> = match value("--seeds") {
        Some(s) => match s.split_once('-') {
            Some((a, b)) => (a.parse()?..=b.parse()?).collect(),
            None => s.split(',').map(str::parse).collect::<Result<_, _>>()?,
        },
        None => (5001..=5010).collect(),
    };
    let peers: usize = value("--peers").unwrap_or_else(|| "30".into()).parse()?;
    let secs: u64 = value("--secs").unwrap_or_else(|| "1800".into()).parse()?;
    let warmups: Vec<usize> = value("--warmups")
        .unwrap_or_else(|| "0,1000".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let scenarios: Vec<Scenario> = match value("--scenarios") {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![Scenario::Random],
    };
    let cfg: AdaptiveConfig = match value("--config") {
        Some(json) => serde_json::from_str(&json)?,
        None => AdaptiveConfig::default(),
    };
    let with_oracle = args.iter().any(|a| a == "--oracle");
    let grid = grid();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); warmups.len() * BUDGETS.len()];
    println!(
        "{:<14} {:>5} {:>6} {:>6} {:>9} {:>9} {:>7} {:>8}",
        "scenario", "seed", "warmup", "budget", "adaptive", "fixed", "ratio", "oracle"
    );
    let jobs: Vec<(Scenario, u64)> = scenarios
        .iter()
        .flat_map(|&s| seeds.iter().map(move |&seed| (s, seed)))
        .collect();
    // Two fleets at a time: generated and replayed on their own threads, scored here in order.
    let mut done = Vec::new();
    for pair in jobs.chunks(2) {
        let replayed: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|&(scenario, seed)| {
                    let grid = &grid;
                    s.spawn(move || {
                        let trace = generate(scenario, seed, peers, Nanos::from_secs(secs));
                        let replays = replay_all(&trace, cfg, grid);
                        (scenario, seed, trace, replays)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("replay"))
                .collect()
        });
        done.extend(replayed);
    }
    for (scenario, seed, trace, replays) in done {
        {
            for (w, &warmup) in warmups.iter().enumerate() {
                for (b, &budget) in BUDGETS.iter().enumerate() {
                    let ours = replays
                        .iter()
                        .map(|r| score(r, warmup, &trace.ticks))
                        .filter(|s| s.mistake_rate_per_hour <= budget)
                        .map(|s| s.detection_time_mean_s)
                        .fold(f64::INFINITY, f64::min);
                    let fixed = fixed_hindsight(&replays[0], warmup, budget);
                    let ratio = ours / fixed;
                    ratios[w * BUDGETS.len() + b].push(ratio);
                    let best = if with_oracle {
                        oracle(&trace, warmup, budget).map_or("-".into(), |(s, _)| {
                            format!("{:.3}", s.detection_time_mean_s / fixed)
                        })
                    } else {
                        "-".into()
                    };
                    println!(
                        "{:<14} {:>5} {:>6} {:>6} {:>8.3}s {:>8.3}s {:>7.3} {:>8}",
                        scenario.name(),
                        seed,
                        warmup,
                        budget,
                        ours,
                        fixed,
                        ratio,
                        best
                    );
                }
            }
        }
    }
    println!("\nadaptive ÷ best fixed timeout, over every fleet and seed above");
    println!(
        "{:>6} {:>6} {:>7} {:>7} {:>9}",
        "warmup", "budget", "median", "worst", "met (≤1)"
    );
    for (w, &warmup) in warmups.iter().enumerate() {
        for (b, &budget) in BUDGETS.iter().enumerate() {
            let v = ratios[w * BUDGETS.len() + b].clone();
            let n = v.len();
            let (median, worst, met) = quantiles(v);
            println!("{warmup:>6} {budget:>6} {median:>7.3} {worst:>7.3} {met:>5}/{n}");
        }
    }
    Ok(())
}
