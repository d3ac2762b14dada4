//! What the monitor's own stalls cost: the `monitor-stall` scenario (qos-spec §3) scored with
//! and without its stalls, for baseline detectors and for the monitor.
//!
//! `cargo run --release -p accrual-eval --example monitor_stall [-- SEED [MINUTES]]`
//! (defaults: seed 11, 30 minutes, 20 peers). A suspicion is caused by the stalls when the trace with stalls has it
//! and the same trace without them does not have it at the same tick.

use accrual::FixedConfig;
use accrual::Nanos;
use accrual::monitor::{DetectorConfig, MonitorConfig};
use accrual_eval::hb_gen::{MonitorStalls, Scenario, generate_with, monitor_stalls};
use accrual_eval::monitor::replay_monitor;
use accrual_eval::run::replay;
use accrual_eval::{DetectorSpec, HeartbeatTrace};

const PEERS: usize = 20;

/// §3 tick-sampled suspicions of a baseline: `(peer, tick)` of each trust-to-suspect change.
fn baseline(trace: &HeartbeatTrace, spec: &DetectorSpec) -> Vec<(usize, u64)> {
    let replays = replay(trace, spec).expect("a valid spec");
    let mut out = Vec::new();
    for (i, p) in replays.iter().enumerate() {
        let mut suspect = false;
        for &t in &trace.ticks {
            let k = p.arrivals.partition_point(|&a| a <= t);
            let now = k > 0 && p.deadlines[k - 1].is_some_and(|tau| t > tau);
            if now && !suspect {
                out.push((i, t));
            }
            suspect = now;
        }
    }
    out
}

fn row(name: &str, with: &[(usize, u64)], without: &[(usize, u64)]) {
    let caused = with.iter().filter(|s| !without.contains(s)).count();
    println!(
        "{name:<70} {:>8} {:>8} {:>8}",
        with.len(),
        without.len(),
        caused
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(11);
    let minutes: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let d = Nanos::from_secs(60 * minutes);
    let s = Scenario::MonitorStall;
    let stalled = generate_with(s, seed, PEERS, d, MonitorStalls::On);
    let steady = generate_with(s, seed, PEERS, d, MonitorStalls::Off);
    let stalls = monitor_stalls(s, seed, d);
    let lengths: Vec<String> = stalls.iter().map(|(a, b)| (*b - *a).to_string()).collect();
    println!(
        "monitor-stall, seed {seed}, {PEERS} peers, {minutes} minutes: {} stalls ({})",
        stalls.len(),
        lengths.join(", ")
    );
    println!(
        "{:<70} {:>8} {:>8} {:>8}",
        "tick-sampled suspicions", "stalled", "steady", "caused"
    );
    for spec in [
        "fixed:timeout=500ms",
        "fixed:timeout=2s",
        "fixed:timeout=5s",
        "chen:window=1000,alpha=500ms,interval=100ms",
        "phi-exp:threshold=8,window=1000,first=100ms",
        "phi-normal:threshold=8,window=1000,min-std=10ms,first=100ms",
        "phi-akka:threshold=8,window=1000,min-std=10ms,first=100ms",
        "default:threshold=8",
    ] {
        let spec: DetectorSpec = spec.parse().expect("a valid spec");
        row(
            &spec.to_string(),
            &baseline(&stalled, &spec),
            &baseline(&steady, &spec),
        );
    }
    for (name, config) in [
        ("monitor, default detector", MonitorConfig::default()),
        (
            "monitor, fixed 500ms",
            MonitorConfig {
                detector: DetectorConfig::Fixed(FixedConfig {
                    timeout: Nanos::from_millis(500),
                }),
                ..Default::default()
            },
        ),
    ] {
        let score = |t: &HeartbeatTrace| {
            let r = replay_monitor(t, &config).expect("a valid configuration");
            let list: Vec<(usize, u64)> = r
                .suspicions
                .iter()
                .map(|&(p, t)| (p, t.as_nanos()))
                .collect();
            (list, r.stalls.len(), r.held)
        };
        let (with, noticed, held) = score(&stalled);
        let (without, _, _) = score(&steady);
        row(name, &with, &without);
        println!(
            "{:<70} {noticed} stalls noticed, {held} suspicions held back",
            ""
        );
    }
}
