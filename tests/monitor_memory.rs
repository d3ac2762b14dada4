//! The monitor's memory: a counting global allocator in this test binary sees no allocation
//! on the heartbeat path of a known peer, and measures the bytes each peer costs against the
//! budgets (compact at most 128 bytes, the default at most 4 KiB) and the table in the
//! `monitor` module's docs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use accrual::monitor::{DetectorConfig, Heartbeat, Monitor, MonitorConfig};
use accrual::{
    Arrival, ChenConfig, EmpiricalConfig, FixedConfig, ManualClock, Nanos, PhiExponentialConfig,
    PhiNormalConfig,
};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

struct Counting;

fn count(allocs: u64, bytes: i64) {
    // `try_with`: the counters may be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + allocs));
    let _ = LIVE.try_with(|c| c.set(c.get() + bytes));
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as i64);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as i64);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as i64));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

fn live() -> i64 {
    LIVE.with(|c| c.get())
}

fn fixed() -> DetectorConfig {
    DetectorConfig::Fixed(FixedConfig {
        timeout: Nanos::from_millis(500),
    })
}

#[test]
fn heartbeats_and_queries_of_known_peers_do_not_allocate() {
    for detector in [fixed(), DetectorConfig::default()] {
        let clock = ManualClock::new(Nanos::from_secs(1));
        let m = Monitor::with_clock(
            MonitorConfig {
                detector: detector.clone(),
                ..Default::default()
            },
            clock.clone(),
        )
        .unwrap();
        let peers: Vec<u64> = (0..1_000).collect();
        for p in &peers {
            m.heartbeat(p).unwrap();
            m.record_rtt(p, Nanos::from_millis(3)).unwrap();
        }
        m.tick(m.now());
        // A batch of every peer, built once and refilled in place.
        let mut batch: Vec<Heartbeat<u64>> = peers
            .iter()
            .map(|&peer| Heartbeat {
                peer,
                at: Nanos::ZERO,
                seq: None,
            })
            .collect();
        let before = allocations();
        for round in 0..100u64 {
            clock.advance(Nanos::from_millis(100));
            let seq = 1_000 + 3 * round;
            for p in &peers {
                // Every kind of arrival: accepted, numbered, duplicate, backwards.
                assert_eq!(m.heartbeat_seq(p, seq), Ok(Arrival::Accepted));
                assert_eq!(m.heartbeat(p), Ok(Arrival::Accepted)); // numbered seq + 1
                assert_eq!(m.heartbeat_seq(p, seq), Ok(Arrival::Stale));
                assert_eq!(m.heartbeat_at(p, Nanos::ZERO, None), Ok(Arrival::Backwards));
                m.record_rtt(p, Nanos::from_millis(2 + p % 5)).unwrap();
                std::hint::black_box(m.phi(p));
                std::hint::black_box(m.level(p));
                std::hint::black_box(m.deadline(p));
                std::hint::black_box(m.request_timeout(p));
                std::hint::black_box(m.stats(p));
            }
            clock.advance(Nanos::from_millis(1));
            for hb in &mut batch {
                hb.at = m.now();
                hb.seq = Some(seq + 2);
            }
            let mut accepted = 0;
            m.heartbeat_batch(&batch, |_, outcome| {
                accepted += usize::from(outcome == Ok(Arrival::Accepted));
            });
            assert_eq!(accepted, peers.len());
        }
        assert_eq!(allocations(), before, "{detector:?}");
        // The counter itself works.
        std::hint::black_box(vec![1u8; 16]);
        assert_eq!(allocations(), before + 1);
    }
}

/// The live heap bytes per peer of a monitor holding `n` peers with `u64` keys, everything
/// the monitor allocates included, with `rtt` peers also holding a request-timeout estimator.
fn bytes_per_peer(detector: DetectorConfig, n: u64, rtt: bool) -> f64 {
    let start = live();
    let m = Monitor::with_clock(
        MonitorConfig {
            detector,
            max_peers: n as usize,
            ..Default::default()
        },
        ManualClock::default(),
    )
    .unwrap();
    let empty = live();
    for p in 0..n {
        m.heartbeat(&p).unwrap();
        if rtt {
            m.record_rtt(&p, Nanos::from_millis(5)).unwrap();
        }
    }
    assert_eq!(m.len(), n as usize);
    let full = live();
    drop(m);
    assert_eq!(live(), start, "everything is freed");
    (full - empty) as f64 / n as f64
}

/// The budgets (compact at most 128 bytes per peer, the default at most 4 KiB, at 100,000
/// peers), and the table in the `monitor` module's docs: each figure must stay within 5% of
/// what the docs say (the hash index of each shard grows in powers of two, and keys spread
/// over shards at random, so figures move by a percent or so from run to run).
#[test]
fn bytes_per_peer_keep_the_budgets_and_match_the_documented_table() {
    let small_phi = DetectorConfig::PhiNormal(PhiNormalConfig {
        window: 16,
        ..PhiNormalConfig::default()
    });
    let mut empirical = EmpiricalConfig::default();
    empirical.histogram.significant_digits = 1;
    let rows: [(&str, DetectorConfig, u64, bool, f64); 7] = [
        ("fixed (compact)", fixed(), 100_000, false, 120.0),
        ("phi_normal, window 16", small_phi, 10_000, false, 483.0),
        (
            "default",
            DetectorConfig::default(),
            100_000,
            false,
            2_920.0,
        ),
        (
            "phi_exponential, window 256",
            DetectorConfig::PhiExponential(PhiExponentialConfig {
                window: 256,
                ..Default::default()
            }),
            10_000,
            false,
            2_307.0,
        ),
        (
            "chen, window 256",
            DetectorConfig::Chen(ChenConfig {
                window: 256,
                ..Default::default()
            }),
            10_000,
            false,
            4_356.0,
        ),
        (
            "empirical, 1 digit",
            DetectorConfig::Empirical(empirical),
            1_000,
            false,
            14_562.0,
        ),
        ("fixed, with round trips", fixed(), 1_000, true, 97_954.0),
    ];
    for (name, detector, n, rtt, documented) in rows {
        let measured = bytes_per_peer(detector, n, rtt);
        println!("{name}: {measured:.1} bytes per peer at {n} peers (documented {documented})");
        assert!(
            (measured - documented).abs() <= 0.05 * documented,
            "{name}: {measured:.0} bytes per peer, the docs say {documented}"
        );
        match name {
            "fixed (compact)" => assert!(measured <= 128.0, "compact: {measured:.1}"),
            "default" => assert!(measured <= 4_096.0, "default: {measured:.1}"),
            _ => {}
        }
    }
}

/// The heap bytes a removal leaves behind with `tombstones` room, per removed peer, `n` peers
/// with `u64` keys all removed.
fn bytes_per_removal(tombstones: usize, n: u64) -> f64 {
    let m = Monitor::with_clock(
        MonitorConfig {
            detector: fixed(),
            tombstones,
            ..Default::default()
        },
        ManualClock::default(),
    )
    .unwrap();
    for p in 0..n {
        m.heartbeat_seq(&p, 7).unwrap();
    }
    let full = live();
    for p in 0..n {
        assert!(m.remove(&p));
    }
    (live() - full) as f64 / n as f64
}

/// What `MonitorConfig::tombstones` says a tombstone costs with `u64` keys: about 34 bytes,
/// within 10% (the index grows in powers of two).
#[test]
fn a_tombstone_costs_what_the_docs_say() {
    let n = 1 << 16;
    let with = bytes_per_removal(1 << 16, n);
    let without = bytes_per_removal(0, n);
    let per = with - without;
    assert!(
        (per / 34.0 - 1.0).abs() < 0.1,
        "{per:.1} bytes per tombstone"
    );
}
