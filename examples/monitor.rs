//! A monitor watching a fleet from several threads: heartbeats, a stall of the monitor itself,
//! a peer that dies meanwhile, and (with `--features serde`) a warm restart from a snapshot.
//!
//! `cargo run --example monitor --features serde`
//!
//! Time is a `ManualClock` so that the run is quick and repeatable; in production the monitor
//! reads a `MonotonicClock` and a timer calls `tick` every `tick_interval`.

use accrual::monitor::{Evaluation, Monitor, MonitorConfig};
use accrual::{ManualClock, Nanos};

const PEERS: usize = 20;
const BEAT: Nanos = Nanos::from_millis(100);

fn report(e: &Evaluation<String>) {
    if let Some(stall) = e.stall {
        println!(
            "{}: the monitor itself was stalled for {} (its tick ran {} late); holding suspicions until {}",
            e.at,
            stall.duration(),
            stall.late,
            e.holding_until.unwrap_or(e.at),
        );
    }
    if let Some(c) = e.collective {
        println!(
            "{}: {} of {} peers turned suspect at once: a local or network fault",
            e.at, c.suspects, c.peers
        );
    }
    for (peer, t) in &e.transitions {
        if t.from != accrual::Level::Unknown {
            println!("{}: {peer} {} -> {} (φ = {:.1})", e.at, t.from, t.to, t.phi);
        }
    }
    for peer in &e.capped {
        println!("{}: {peer} kept at suspect by the ejection cap", e.at);
    }
}

fn main() {
    let clock = ManualClock::new(Nanos::from_secs(1));
    let monitor = Monitor::with_clock(MonitorConfig::default(), clock.clone()).expect("valid");
    let names: Vec<String> = (0..PEERS).map(|i| format!("backend-{i:02}")).collect();

    // Heartbeats arrive on several receiver threads; the ticker runs on this one.
    let peers: Vec<(usize, &String)> = names.iter().enumerate().collect();
    let beat_all = |alive: &(dyn Fn(usize) -> bool + Sync)| {
        std::thread::scope(|s| {
            for chunk in peers.chunks(PEERS / 4) {
                let monitor = &monitor;
                s.spawn(move || {
                    for &(i, name) in chunk {
                        if alive(i) {
                            monitor.heartbeat(name).expect("room for every backend");
                        }
                    }
                });
            }
        });
    };

    println!("one minute of steady heartbeats every {BEAT}");
    for _ in 0..600 {
        clock.advance(BEAT);
        beat_all(&|_| true);
        report(&monitor.tick(monitor.now()));
    }

    println!("the monitor stops for 10 s; backend-07 dies 3 s into it");
    clock.advance(Nanos::from_secs(10));
    // The overdue tick runs first, then the queued datagrams are read.
    report(&monitor.tick(monitor.now()));
    clock.advance(Nanos::from_micros(1));
    for queued in 0..100 {
        beat_all(&|p| p != 7 || queued < 30);
    }
    for _ in 0..300 {
        clock.advance(BEAT);
        beat_all(&|p| p != 7);
        report(&monitor.tick(monitor.now()));
    }
    println!("suspects: {:?}", monitor.suspects());

    for name in &names[..3] {
        let s = monitor.stats(name).expect("known");
        println!("{name}: {}, φ = {:.3}, {}", s.level, s.phi, s.meaning);
    }

    #[cfg(feature = "serde")]
    {
        let text = serde_json::to_string(&monitor.snapshot().expect("serialisable")).expect("JSON");
        println!(
            "snapshot: {} peers, {} bytes of JSON",
            monitor.len(),
            text.len()
        );
        let snapshot = serde_json::from_str(&text).expect("a snapshot");
        let restarted =
            Monitor::from_snapshot(MonitorConfig::default(), ManualClock::default(), snapshot)
                .expect("compatible");
        let name = &names[0];
        println!(
            "after a restart: {name} φ = {:.3} (was {:.3}), deadline {:?} (was {:?})",
            restarted.phi(name).unwrap_or(0.0),
            monitor.phi(name).unwrap_or(0.0),
            restarted.deadline(name),
            monitor.deadline(name),
        );
    }
}
