//! The timeout families on synthetic links (`accrual_eval::rtt_gen`), one scenario at a time:
//! the best mean timeout each reaches within a premature-timeout budget of 1% and 0.1%, and
//! the per-peer hindsight oracle.
//!
//! Run with `cargo run --release -p accrual-eval --example timeouts_synthetic [-- SEED]`.

use std::io::Write;

use accrual::{Nanos, TimeoutConfig};
use accrual_eval::rtt_gen::{RttScenario, generate};
use accrual_eval::{best_within, sweep_timeouts, timeout_oracle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 1,
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut out = std::io::stdout().lock();
    writeln!(out, "seed {seed}: 24 peers x 3000 probes, one per second")?;
    writeln!(
        out,
        "{:<14} {:>8} {:>8} {:>8} {:>8} {:>8}   (1% | 0.1%)",
        "scenario", "fixed", "rfc6298", "quantile", "default", "oracle"
    )?;
    for scenario in RttScenario::ALL {
        let trace = generate(scenario, seed, 24, 3_000, Nanos::from_secs(1));
        let points = sweep_timeouts(&trace, &TimeoutConfig::default(), threads)?;
        for budget in [0.01, 0.001] {
            let oracle = timeout_oracle(&trace, budget).map_or(f64::INFINITY, |r| r.mean_timeout_s);
            writeln!(
                out,
                "{:<14} {:>7.3}s {:>7.3}s {:>7.3}s {:>7.3}s {:>7.3}s   {}",
                scenario.name(),
                best_within(&points, "fixed", budget),
                best_within(&points, "rfc6298", budget),
                best_within(&points, "quantile", budget),
                best_within(&points, "default", budget),
                oracle,
                if budget == 0.01 { "1%" } else { "0.1%" }
            )?;
        }
    }
    Ok(())
}
