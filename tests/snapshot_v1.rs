//! The version-1 snapshot format is frozen: snapshots written by the first release, one per
//! detector kind and checked in under `tests/data/snapshot_v1/`, must keep restoring to the
//! same φ, deadlines, levels and request timeouts that the monitor which wrote them answered.
//!
//! The one exception is `adaptive`: its peers ran the earlier lateness model, which a later
//! model cannot answer for, so its snapshot is refused with an error that says so.
//!
//! The expected answers were recorded from the writing monitor itself, at the instant the
//! snapshot was taken and at later instants, before any restore: they are independent of the
//! restoring code. An edit to any serde mirror that changes version 1 fails here.
//!
//! To write the fixtures anew (only when a new format version is added, never to make this
//! test pass): `ACCRUAL_WRITE_SNAPSHOT_V1=1 cargo test --all-features --test snapshot_v1`.
#![cfg(feature = "serde")]

use std::fmt::Write as _;
use std::path::PathBuf;

use accrual::monitor::Snapshot;
use accrual::{
    AdaptiveConfig, ChenConfig, DetectorConfig, EmpiricalConfig, FixedConfig, ManualClock, Monitor,
    MonitorConfig, Nanos, PhiExponentialConfig, PhiNormalConfig,
};

type M = Monitor<String, ManualClock>;

/// Instants after the snapshot at which answers are compared, in ms of silence.
const LATER_MS: [u64; 5] = [0, 40, 150, 700, 4_000];

fn kinds() -> Vec<(&'static str, DetectorConfig)> {
    vec![
        (
            "phi_normal",
            DetectorConfig::PhiNormal(PhiNormalConfig::default()),
        ),
        (
            "phi_exponential",
            DetectorConfig::PhiExponential(PhiExponentialConfig::default()),
        ),
        ("chen", DetectorConfig::Chen(ChenConfig::default())),
        ("fixed", DetectorConfig::Fixed(FixedConfig::default())),
        (
            "empirical",
            DetectorConfig::Empirical(EmpiricalConfig::default()),
        ),
        (
            "adaptive",
            DetectorConfig::Adaptive(AdaptiveConfig::default()),
        ),
    ]
}

/// The writing monitor's configuration: thresholds judged per heartbeat, as every monitor of
/// the first release judged them (the snapshot carries peers, not thresholds).
fn config(detector: DetectorConfig) -> MonitorConfig {
    MonitorConfig {
        detector,
        mistakes_per_hour: None,
        ..MonitorConfig::default()
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/snapshot_v1")
}

/// Three peers with different timing, fed from a fixed pseudo-random sequence: a regular one,
/// a jittery one with a pause and round trips, and one that falls silent.
fn busy(detector: DetectorConfig) -> (M, ManualClock) {
    let clock = ManualClock::new(Nanos::from_secs(7_000));
    let m = Monitor::with_clock(config(detector), clock.clone()).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..400u64 {
        clock.advance(Nanos::from_millis(100));
        for (i, peer) in ["steady", "jittery", "silent"].iter().enumerate() {
            if i == 2 && round > 360 {
                continue;
            }
            if i == 1 && (200..212).contains(&round) {
                continue; // a 1.2 s pause
            }
            let jitter = match i {
                0 => next() % 300_000,
                _ => next() % 25_000_000,
            };
            clock.advance(Nanos(jitter));
            m.heartbeat_seq(&peer.to_string(), round).unwrap();
            if i == 1 {
                let rtt = Nanos(2_000_000 + next() % 3_000_000);
                m.record_rtt(&peer.to_string(), rtt).unwrap();
                if round % 97 == 0 {
                    m.record_timeout(&peer.to_string(), Nanos::from_millis(30))
                        .unwrap();
                }
            }
        }
        m.tick(m.now());
    }
    (m, clock)
}

/// One line per peer and instant: the answers a restored monitor must give.
fn answers(m: &M, clock: &ManualClock) -> String {
    let mut out = String::new();
    let start = m.now();
    for ms in LATER_MS {
        let target = start + Nanos::from_millis(ms);
        clock.advance(target.saturating_sub(m.now()));
        m.tick(m.now());
        for peer in ["steady", "jittery", "silent"] {
            let p = peer.to_string();
            let phi = m.phi(&p).map(f64::to_bits);
            writeln!(
                out,
                "{ms} {peer} phi_bits={phi:?} deadline={:?} level={:?} request_timeout={}",
                m.deadline(&p).map(|d| d.0),
                m.level(&p),
                m.request_timeout(&p).0
            )
            .unwrap();
        }
    }
    out
}

#[test]
fn version_1_snapshots_restore_to_the_answers_they_were_taken_with() {
    let write = std::env::var_os("ACCRUAL_WRITE_SNAPSHOT_V1").is_some();
    for (name, detector) in kinds() {
        let json_path = dir().join(format!("{name}.json"));
        let expected_path = dir().join(format!("{name}.expected"));
        if write {
            let (m, clock) = busy(detector.clone());
            let text = serde_json::to_string_pretty(&m.snapshot().unwrap()).unwrap();
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&json_path, text + "\n").unwrap();
            std::fs::write(&expected_path, answers(&m, &clock)).unwrap();
            continue;
        }
        let text = std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let read: Result<Snapshot<String>, _> = serde_json::from_str(&text);
        if name == "adaptive" {
            // Its peers ran the earlier lateness model: it parses (as plain data), but is
            // refused, saying so, never restored to different answers.
            let snapshot =
                read.unwrap_or_else(|e| panic!("{name}: version 1 no longer reads: {e}"));
            let clock = ManualClock::new(Nanos::from_secs(1));
            let error = Monitor::from_snapshot(config(detector), clock, snapshot)
                .expect_err("an earlier adaptive model must not restore")
                .to_string();
            assert!(error.contains("earlier lateness model"), "{error}");
            continue;
        }
        let snapshot = read.unwrap_or_else(|e| panic!("{name}: version 1 no longer reads: {e}"));
        let clock = ManualClock::new(Nanos::from_secs(1));
        let restored = Monitor::from_snapshot(config(detector), clock.clone(), snapshot)
            .unwrap_or_else(|e| panic!("{name}: version 1 no longer restores: {e}"));
        assert_eq!(
            answers(&restored, &clock),
            expected,
            "{name}: a restored version-1 snapshot answers differently"
        );
        // Written again, it is the same document: no field was dropped or reinterpreted.
        // (The peers' order and so the checksum may differ: the order is the table's.)
        let again = canonical(serde_json::to_value(restored_snapshot_of(&text)).unwrap());
        let original = canonical(serde_json::from_str(&text).unwrap());
        assert!(
            again == original,
            "{name}: version 1 does not write back unchanged"
        );
    }
    assert!(
        !write,
        "fixtures written; run again without ACCRUAL_WRITE_SNAPSHOT_V1"
    );
}

/// The document with its peers sorted by key and without its checksum.
fn canonical(mut doc: serde_json::Value) -> serde_json::Value {
    let v1 = doc
        .get_mut("accrual_monitor_v1")
        .expect("a version-1 document");
    let object = v1.as_object_mut().unwrap();
    object.remove("checksum").expect("a checksum");
    let peers = object.get_mut("peers").unwrap().as_array_mut().unwrap();
    peers.sort_by(|a, b| a["peer"].as_str().cmp(&b["peer"].as_str()));
    doc
}

/// The snapshot read from `text`, restored into a monitor and taken again at once.
fn restored_snapshot_of(text: &str) -> Snapshot<String> {
    let snapshot: Snapshot<String> = serde_json::from_str(text).unwrap();
    let detector = snapshot.detector().clone();
    let clock = ManualClock::new(Nanos::from_secs(1));
    let m: M = Monitor::from_snapshot(config(detector), clock, snapshot).unwrap();
    m.snapshot().unwrap()
}
