//! Bytes per peer of a monitor holding a million peers, measured by a counting allocator.
//!
//! `cargo run --release --example monitor_memory [-- PEERS]` (default 1,000,000): builds a
//! monitor with the compact detector (a 500 ms fixed timeout) and one with the default
//! detector, feeds every peer one heartbeat (keys are `u64`), and prints what each holds per
//! peer, with the time a heartbeat from a known peer takes on one thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
use accrual::{FixedConfig, ManualClock, Nanos};

static LIVE: AtomicI64 = AtomicI64::new(0);

struct Counting;

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn measure(name: &str, detector: DetectorConfig, peers: u64) {
    let clock = ManualClock::new(Nanos::from_secs(1));
    let before = LIVE.load(Ordering::Relaxed);
    let monitor = Monitor::with_clock(
        MonitorConfig {
            detector,
            ..Default::default()
        },
        clock.clone(),
    )
    .expect("a valid configuration");
    let empty = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    for p in 0..peers {
        let _ = monitor.heartbeat(&p);
    }
    let insert = start.elapsed();
    let full = LIVE.load(Ordering::Relaxed);
    clock.advance(Nanos::from_millis(100));
    let start = Instant::now();
    for p in 0..peers {
        let _ = monitor.heartbeat(&p);
    }
    let beat = start.elapsed();
    let start = Instant::now();
    let e = monitor.tick(monitor.now());
    let tick = start.elapsed();
    println!(
        "{name:<28} {:>9} peers  {:>8.1} bytes/peer  ({:.1} MiB; monitor itself {} KiB)",
        monitor.len(),
        (full - empty) as f64 / peers as f64,
        (full - before) as f64 / (1 << 20) as f64,
        (empty - before) / 1024,
    );
    println!(
        "{:<28} new peer {:>6.0} ns, heartbeat {:>5.0} ns, tick {:>6.1} ms ({} transitions)",
        "",
        insert.as_nanos() as f64 / peers as f64,
        beat.as_nanos() as f64 / peers as f64,
        tick.as_secs_f64() * 1e3,
        e.transitions.len(),
    );
}

fn main() {
    let peers: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let compact = DetectorConfig::Fixed(FixedConfig {
        timeout: Nanos::from_millis(500),
    });
    measure("compact (fixed timeout)", compact, peers);
    measure("default (adaptive)", DetectorConfig::default(), peers);
}
