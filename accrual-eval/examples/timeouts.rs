//! Request timeouts measured on real round-trip times: the `qos-spec.md` §6 replay of every
//! timeout policy on a trace (by default the Seattle testbed measurements in
//! `accrual-eval/data/seattle-rtt.csv`), and the best mean timeout each family reaches within a
//! premature-timeout budget of 1% and of 0.1%, beside the per-peer hindsight oracle.
//!
//! Run with `cargo run --release -p accrual-eval --example timeouts [-- TRACE.csv]`.

use std::io::Write;

use accrual::TimeoutConfig;
use accrual_eval::{RttTrace, best_within, sweep_timeouts, timeout_oracle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/seattle-rtt.csv").to_owned());
    let trace = RttTrace::read(&path)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{path}: {} peers, {} probes",
        trace.peers.len(),
        trace.probes()
    )?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let points = sweep_timeouts(&trace, &TimeoutConfig::default(), threads)?;

    writeln!(out, "\nevery point (premature rate, mean timeout):")?;
    for p in &points {
        writeln!(
            out,
            "  {:<9} knob {:>8.3}  premature {:>7.4}%  mean timeout {:>7.3} s",
            p.family,
            p.knob,
            100.0 * p.report.premature_rate,
            p.report.mean_timeout_s
        )?;
    }
    writeln!(
        out,
        "\nbest mean timeout within a premature-timeout budget:"
    )?;
    writeln!(out, "{:<10} {:>10} {:>10}", "family", "1%", "0.1%")?;
    for family in ["fixed", "rfc6298", "quantile", "default"] {
        writeln!(
            out,
            "{:<10} {:>9.3}s {:>9.3}s",
            family,
            best_within(&points, family, 0.01),
            best_within(&points, family, 0.001)
        )?;
    }
    let oracle = |b| timeout_oracle(&trace, b).map_or(f64::INFINITY, |r| r.mean_timeout_s);
    writeln!(
        out,
        "{:<10} {:>9.3}s {:>9.3}s",
        "oracle",
        oracle(0.01),
        oracle(0.001)
    )?;
    Ok(())
}
