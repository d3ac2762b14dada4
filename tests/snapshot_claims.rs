//! A snapshot's claims are not allocated while it is parsed: a short document claiming large
//! histograms parses into plain data, and is refused for its configuration before anything is
//! built from it. A counting allocator in this test binary measures what each step allocates.
#![cfg(feature = "serde")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use accrual::monitor::{Monitor, MonitorConfig, SnapshotError};
use accrual::snapshot::Snapshot;
use accrual::{ManualClock, Nanos};
use serde_json::Value;

thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|c| c.set(c.get() + layout.size() as u64));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated (not freed: every allocation counts) by `f` on this thread.
fn allocated<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = ALLOCATED.with(|c| c.get());
    let r = f();
    (ALLOCATED.with(|c| c.get()) - before, r)
}

/// A genuine snapshot of one peer with a request-timeout estimator, edited to claim 200
/// sub-windows (2.8 MB per histogram) for 100 copies of that peer: about 280 MB of claims in
/// a document of a few hundred kilobytes.
fn claiming() -> String {
    let clock = ManualClock::new(Nanos::from_secs(10));
    let m = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    m.heartbeat(&"p".to_string()).unwrap();
    m.record_rtt(&"p".to_string(), Nanos::from_millis(3))
        .unwrap();
    let mut doc = serde_json::to_value(m.snapshot().unwrap()).unwrap();
    let v1 = &mut doc["accrual_monitor_v1"];
    v1["timeout"]["histogram"]["sub_windows"] = 200.into();
    let mut peer = v1["peers"][0].clone();
    let est = &mut peer["rtt"]["estimator"];
    est["config"]["histogram"]["sub_windows"] = 200.into();
    est["histogram"]["config"]["sub_windows"] = 200.into();
    est["histogram"]["subs"] = Value::Array(vec![Value::Array(vec![]); 200]);
    let peers: Vec<Value> = (0..100)
        .map(|i| {
            let mut p = peer.clone();
            p["peer"] = format!("p{i}").into();
            p
        })
        .collect();
    v1["peers"] = Value::Array(peers);
    serde_json::to_string(&doc).unwrap()
}

#[test]
fn parsing_a_snapshot_allocates_what_it_holds_not_what_it_claims() {
    let text = claiming();
    let claimed = 100 * 201 * 13_900u64;
    let (bytes, parsed) = allocated(|| serde_json::from_str::<Snapshot<String>>(&text));
    let snapshot = parsed.expect("well-formed plain data parses");
    assert_eq!(snapshot.len(), 100);
    assert!(
        bytes < 20 * text.len() as u64 && bytes < claimed / 10,
        "parsing {} bytes of text allocated {bytes} bytes (claims: {claimed})",
        text.len()
    );
    // Restoring refuses it before building a histogram: the checksum no longer holds, and
    // even a resealed one would claim another timeout configuration than the monitor's.
    let (bytes, restored) = allocated(|| {
        Monitor::from_snapshot(MonitorConfig::default(), ManualClock::default(), snapshot)
    });
    assert!(
        matches!(restored, Err(SnapshotError::Corrupted { .. })),
        "{restored:?}"
    );
    assert!(bytes < claimed / 10, "restoring allocated {bytes} bytes");
}

#[test]
fn a_snapshot_taken_too_late_is_refused() {
    // A monitor whose time line starts near the end of u64: its snapshot would restore with
    // time stuck at the top, and nobody ever suspected.
    let base = Nanos(u64::MAX - 1_000_000_000);
    let clock = ManualClock::new(base);
    let m = Monitor::with_clock(MonitorConfig::default(), clock).unwrap();
    m.heartbeat(&"p".to_string()).unwrap();
    let snapshot = m.snapshot().unwrap();
    let err = Monitor::from_snapshot(MonitorConfig::default(), ManualClock::default(), snapshot)
        .unwrap_err();
    assert!(
        matches!(err, SnapshotError::TakenTooLate { taken_at } if taken_at >= base),
        "{err}"
    );
    assert!(err.to_string().contains("time would stop"), "{err}");
}
