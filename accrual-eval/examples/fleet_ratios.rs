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

use accrual::{Adaptive, AdaptiveConfig, Nanos};
use accrual_eval::hb_gen::{Scenario, generate};
use accrual_eval::heartbeat::{
    HeartbeatTrace, PeerReplay, best_fixed_timeout, oracle, replay_peer_rates, score,
};

const BUDGETS: [f64; 2] = [1.0, 0.1];

/// Rates swept, in mistakes per peer-hour: 10 down to 10^−5, four to a decade.
fn grid() -> Vec<f64> {
    (0..=24)
        .map(|k| 10f64.powf(1.0 - f64::from(k) / 4.0))
        .collect()
}

/// Replays every peer once for all rates: one set of replays per rate.
fn replay_all(trace: &HeartbeatTrace, cfg: AdaptiveConfig, grid: &[f64]) -> Vec<Vec<PeerReplay>> {
    let mut out: Vec<Vec<PeerReplay>> = vec![Vec::new(); grid.len()];
    for peer in &trace.peers {
        let mut d = Adaptive::new(cfg).expect("valid configuration");
        for (all, p) in out.iter_mut().zip(replay_peer_rates(peer, &mut d, grid)) {
            all.push(p);
        }
    }
    out
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
                        // A fleet with nothing scored at this warmup has no point.
                        .filter_map(|r| score(r, warmup, &trace.ticks).ok())
                        .filter(|s| s.mistake_rate_per_hour <= budget)
                        .map(|s| s.detection_time_mean_s)
                        .fold(f64::INFINITY, f64::min);
                    let fixed = best_fixed_timeout(&replays[0], warmup, budget).unwrap_or(f64::NAN);
                    let ratio = ours / fixed;
                    ratios[w * BUDGETS.len() + b].push(ratio);
                    let best = if with_oracle {
                        oracle(&trace, warmup, budget)
                            .ok()
                            .flatten()
                            .map_or("-".into(), |(s, _)| {
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
