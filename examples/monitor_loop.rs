//! The monitor benchmark's load without the benchmark harness: heartbeats from `THREADS`
//! threads into a monitor of `PEERS` known peers, one call each or in batches, for `SECONDS`,
//! printing heartbeats per second. Its runs can be interleaved with another build's, which is
//! how changes are compared on a noisy machine (see `BENCHMARKS.md`).
//!
//! ```sh
//! cargo build --release --example monitor_loop
//! target/release/examples/monitor_loop adaptive 100000 2 batch 3
//! ```
//!
//! Arguments: `fixed` (the compact configuration) or `adaptive` (the default); peers;
//! threads; `batch` or `single`; seconds.

use std::time::Instant;

use accrual::monitor::BATCH_ROUND;

#[path = "../benches/common/monitor_load.rs"]
mod monitor_load;

use monitor_load::{PER_ITERATION, configs, monitor, run_all, senders};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let name = arg(0, "adaptive");
    let Some((_, detector)) = configs().into_iter().find(|(n, _)| *n == name) else {
        eprintln!("monitor_loop: the configuration is `fixed` or `adaptive`, not `{name}`");
        std::process::exit(2);
    };
    let number = |i: usize, default: &str| -> u64 {
        let text = arg(i, default);
        text.parse().unwrap_or_else(|_| {
            eprintln!("monitor_loop: argument {} is a number, not `{text}`", i + 1);
            std::process::exit(2);
        })
    };
    let peers = number(1, "100000").max(1);
    let threads = number(2, "2").clamp(1, 64) as usize;
    let batch = if arg(3, "batch") == "batch" {
        BATCH_ROUND
    } else {
        0
    };
    let seconds = number(4, "3") as f64;
    let m = monitor(&detector, peers);
    let mut senders = senders(&m, peers, threads, 1, 70, batch);
    let (start, mut sent) = (Instant::now(), 0usize);
    while start.elapsed().as_secs_f64() < seconds {
        run_all(&m, &mut senders, PER_ITERATION);
        sent += PER_ITERATION * threads;
    }
    let rate = sent as f64 / start.elapsed().as_secs_f64();
    println!(
        "{name} {peers} peers {threads}t {}: {:.2} M heartbeats/s",
        if batch == 0 { "single" } else { "batch" },
        rate / 1e6
    );
}
