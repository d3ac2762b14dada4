//! Snapshots: every detector's and estimator's learned state survives a serde round trip
//! exactly, and a monitor restored from a snapshot answers as the original did.
#![cfg(feature = "serde")]

use accrual::histogram::WindowedHistogram;
use accrual::timeout::TimeoutEstimator;
use accrual::{
    Adaptive, AdaptiveConfig, Chen, ChenConfig, Detector, Empirical, EmpiricalConfig, Fixed,
    FixedConfig, HistogramConfig, Nanos, PhiExponential, PhiExponentialConfig, PhiNormal,
    PhiNormalConfig, TimeoutConfig,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod common;

fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    // Writing the copy gives the same text: nothing was lost or reinterpreted.
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    back
}

/// Feeds a jittery trace, round-trips the detector, and checks that φ and deadlines agree now
/// and after more heartbeats fed to both.
fn detector_survives<D: Detector + Serialize + DeserializeOwned>(mut d: D, window: usize) {
    let trace = common::trace(7, window * 3, 100_000_000, 5e6, 0.01);
    let (first, rest) = trace.split_at(window * 2);
    for &(seq, at) in first {
        d.heartbeat_seq(Nanos(at), seq);
    }
    let mut copy = round_trip(&d);
    for &(seq, at) in rest {
        let now = Nanos(at);
        for dt in [0, 50_000_000, 150_000_000, 400_000_000, 2_000_000_000] {
            let t = now + Nanos(dt);
            assert_eq!(d.phi(t).to_bits(), copy.phi(t).to_bits(), "{d:?}");
        }
        for threshold in [0.5, 3.0, 8.0, 16.0] {
            assert_eq!(d.deadline(threshold), copy.deadline(threshold));
        }
        assert_eq!(d.arrivals(), copy.arrivals());
        assert_eq!(d.heartbeat_seq(now, seq), copy.heartbeat_seq(now, seq));
        // Stale and duplicate arrivals are counted the same way.
        assert_eq!(d.heartbeat_seq(now, seq), copy.heartbeat_seq(now, seq));
    }
    assert_eq!(d.arrivals(), copy.arrivals());
}

#[test]
fn every_detector_round_trips_exactly() {
    let w = 50;
    detector_survives(
        PhiNormal::new(PhiNormalConfig {
            window: w,
            min_std: Nanos::from_millis(1),
            ..Default::default()
        })
        .unwrap(),
        w,
    );
    detector_survives(
        PhiExponential::new(PhiExponentialConfig {
            window: w,
            ..Default::default()
        })
        .unwrap(),
        w,
    );
    detector_survives(
        Chen::new(ChenConfig {
            window: w,
            interval: Nanos::from_millis(100),
            ..Default::default()
        })
        .unwrap(),
        w,
    );
    detector_survives(Fixed::new(FixedConfig::default()).unwrap(), w);
    let mut empirical = EmpiricalConfig::default();
    empirical.histogram.sub_window = Nanos::from_secs(2);
    detector_survives(Empirical::new(empirical).unwrap(), w);
    detector_survives(Adaptive::new(AdaptiveConfig::default()).unwrap(), w);
}

#[test]
fn the_default_detector_keeps_its_regime_across_a_snapshot() {
    // In a spell of late heartbeats, the floor they set is part of the state.
    let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
    let mut t = Nanos::ZERO;
    for seq in 0..3_000u64 {
        let late = if seq >= 2_990 { 30 + seq % 7 } else { 0 };
        t += Nanos::from_millis(100 + late);
        d.heartbeat_seq(t, seq);
    }
    let text = serde_json::to_string(&d).unwrap();
    let copy: Adaptive = serde_json::from_str(&text).unwrap();
    for threshold in [0.5, 1.0, 3.0, 8.0] {
        assert_eq!(d.deadline(threshold), copy.deadline(threshold));
    }
    // A snapshot from before the regime existed reads as one with no spell under way.
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fields = value.as_object_mut().unwrap();
    assert!(fields.remove("regime").is_some() && fields.remove("regime_start").is_some());
    let old: Adaptive = serde_json::from_value(value).unwrap();
    let calm = AdaptiveConfig {
        regime_factor: 0.0,
        ..AdaptiveConfig::default()
    };
    let mut no_regime = Adaptive::new(calm).unwrap();
    let mut t = Nanos::ZERO;
    for seq in 0..3_000u64 {
        let late = if seq >= 2_990 { 30 + seq % 7 } else { 0 };
        t += Nanos::from_millis(100 + late);
        no_regime.heartbeat_seq(t, seq);
    }
    assert_eq!(old.deadline(0.5), no_regime.deadline(0.5));
    assert!(d.deadline(0.5) > old.deadline(0.5));
}

#[test]
fn histograms_and_estimators_round_trip_exactly() {
    let mut h = WindowedHistogram::new(HistogramConfig::default()).unwrap();
    let mut est = TimeoutEstimator::new(TimeoutConfig::default()).unwrap();
    let mut now = Nanos::ZERO;
    for i in 0..3_000u64 {
        now += Nanos::from_millis(37);
        let rtt = Nanos::from_micros(20_000 + (i * 7_919) % 30_000);
        h.record(rtt, now);
        if i % 101 == 0 {
            let waited = est.timeout(now);
            est.record_timeout(waited, now);
        } else {
            est.record(rtt, now);
        }
    }
    h.record(Nanos::from_secs(7_200), now); // saturated
    let mut h2 = round_trip(&h);
    let mut est2 = round_trip(&est);
    for later in [0, 5, 30, 61] {
        let t = now + Nanos::from_secs(later);
        for q in [0.1, 0.5, 0.99, 1.0] {
            assert_eq!(h.quantile(q, t), h2.quantile(q, t));
        }
        assert_eq!(h.count(t), h2.count(t));
        assert_eq!(h.saturated(), h2.saturated());
        assert_eq!(est.timeout(t), est2.timeout(t));
        assert_eq!(est.hedge_delay(t), est2.hedge_delay(t));
        assert_eq!(est.stats(t), est2.stats(t));
    }
}

#[test]
fn inconsistent_state_is_rejected_when_read() {
    let mut d = PhiNormal::new(PhiNormalConfig {
        window: 4,
        ..Default::default()
    })
    .unwrap();
    d.heartbeat(Nanos::from_secs(1));
    let text = serde_json::to_string(&d).unwrap();
    let cases = [
        // More samples than the window holds.
        (
            text.replace(r#""capacity":4"#, r#""capacity":1"#),
            "exceed its capacity",
        ),
        // A window that no longer fits the configuration.
        (
            text.replace(r#""window":4"#, r#""window":5"#),
            "does not fit phi_normal.window",
        ),
        // An invalid configuration.
        (
            text.replace(r#""window":4"#, r#""window":0"#),
            "phi_normal.window",
        ),
    ];
    for (bad, why) in cases {
        assert_ne!(bad, text);
        let err = serde_json::from_str::<PhiNormal>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{err}");
    }
    // The default detector's learned model: each rule it obeys is checked.
    let mut adaptive = Adaptive::new(AdaptiveConfig::default()).unwrap();
    for (seq, at) in common::trace(3, 300, 100_000_000, 5e6, 0.01) {
        adaptive.heartbeat_seq(Nanos(at), seq);
    }
    let text = serde_json::to_string(&adaptive).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut bad = value.clone();
        bad[key] = v;
        serde_json::to_string(&bad).unwrap()
    };
    let cases = [
        (with("s_top", 0.into()), "(0, 1]"),
        (with("theta", f64::NAN.to_bits().into()), "tail's scale"),
        (
            with("counts", serde_json::json!([0, 1])),
            "number of buckets",
        ),
        (
            with("surv", {
                let mut h = value["surv"].as_array().unwrap().clone();
                assert!(h.len() >= 2);
                h.reverse();
                h.into()
            }),
            "never rise",
        ),
        (with("eta", 0.into()), "interval must be positive"),
        (
            with(
                "regime",
                serde_json::json!([1.0f32.to_bits(), 2.0f32.to_bits(), 0, 0]),
            ),
            "regime's lateness values",
        ),
    ];
    for (bad, why) in cases {
        let err = serde_json::from_str::<Adaptive>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
    // Counts that would overflow later, and values beyond what Chen's sums hold exactly.
    let mut fixed = Fixed::new(FixedConfig::default()).unwrap();
    fixed.heartbeat(Nanos::from_secs(1));
    let text = serde_json::to_string(&fixed).unwrap();
    let bad = text.replace(r#""accepted":1"#, r#""accepted":18446744073709551615"#);
    let err = serde_json::from_str::<Fixed>(&bad).unwrap_err().to_string();
    assert!(err.contains("count is out of range"), "{err}");
    let mut chen = Chen::new(ChenConfig::default()).unwrap();
    chen.heartbeat_seq(Nanos::from_secs(1), 0);
    let text = serde_json::to_string(&chen).unwrap();
    assert!(text.contains(r#""values":[1000000000]"#), "{text}");
    for v in [i128::MIN, i128::MAX, 1 << 101] {
        let bad = text.replace("[1000000000]", &format!("[{v}]"));
        let err = serde_json::from_str::<Chen>(&bad).unwrap_err().to_string();
        assert!(err.contains("exceeds"), "{err}");
    }
}

mod monitor {
    use accrual::monitor::{
        DetectorConfig, Evaluation, Monitor, MonitorConfig, Snapshot, SnapshotError,
    };
    use accrual::{
        AdaptiveConfig, ChenConfig, Clock, EmpiricalConfig, FixedConfig, Level, ManualClock, Nanos,
        PhiExponentialConfig, TimeoutConfig,
    };

    type M = Monitor<String, ManualClock>;

    fn key(i: u64) -> String {
        format!("peer-{i}")
    }

    /// 40 peers, 100 ms heartbeats with jitter, some with round trips, some falling silent
    /// (suspect or dead), one refusing to number its heartbeats properly.
    fn busy(config: MonitorConfig) -> (M, ManualClock) {
        let clock = ManualClock::new(Nanos::from_secs(5_000));
        let m = Monitor::with_clock(config, clock.clone()).unwrap();
        for round in 0..300u64 {
            clock.advance(Nanos::from_millis(100));
            for i in 0..40u64 {
                if i % 10 == 9 && round > 250 + i / 10 {
                    continue; // falls silent
                }
                clock.advance(Nanos::from_micros((i * 7 + round * 13) % 900));
                m.heartbeat_seq(&key(i), round + (i == 3 && round % 5 == 0) as u64)
                    .unwrap();
                if i % 4 == 0 {
                    m.record_rtt(&key(i), Nanos::from_micros(800 + (round * i) % 700))
                        .unwrap();
                }
                if i % 8 == 0 && round % 50 == 0 {
                    m.record_timeout(&key(i), Nanos::from_secs(1)).unwrap();
                }
            }
            m.tick(m.now());
        }
        (m, clock)
    }

    fn json(m: &M) -> String {
        serde_json::to_string(&m.snapshot().unwrap()).unwrap()
    }

    fn restore(text: &str, config: MonitorConfig) -> Result<M, String> {
        let snapshot: Snapshot<String> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Monitor::from_snapshot(config, ManualClock::default(), snapshot).map_err(|e| e.to_string())
    }

    fn same_answers(a: &M, b: &M) {
        assert_eq!(a.now(), b.now());
        assert_eq!(a.len(), b.len());
        assert_eq!(a.dead(), b.dead());
        for i in 0..40 {
            let k = key(i);
            assert_eq!(
                a.phi(&k).map(f64::to_bits),
                b.phi(&k).map(f64::to_bits),
                "{k}"
            );
            assert_eq!(a.level(&k), b.level(&k));
            assert_eq!(a.deadline(&k), b.deadline(&k));
            assert_eq!(a.request_timeout(&k), b.request_timeout(&k));
            assert_eq!(a.stats(&k), b.stats(&k));
        }
        let mut sa = a.suspects();
        let mut sb = b.suspects();
        sa.sort();
        sb.sort();
        assert_eq!(sa, sb);
    }

    /// Two snapshots hold the same peers in the same states.
    fn same_content(a: &str, b: &str) -> bool {
        let normal = |text: &str| {
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
            let body = &mut v["accrual_monitor_v1"];
            body["checksum"] = serde_json::Value::Null;
            let peers = body["peers"].as_array_mut().unwrap();
            peers.sort_by_key(|p| p["peer"].as_str().unwrap().to_owned());
            v
        };
        normal(a) == normal(b)
    }

    fn sorted(e: Evaluation<String>) -> Vec<(String, Level, Level, Nanos)> {
        let mut v: Vec<_> = e
            .transitions
            .into_iter()
            .map(|(k, t)| (k, t.from, t.to, t.at))
            .collect();
        v.sort();
        v
    }

    /// A restarted host starts warm: the restored monitor answers exactly as the original did
    /// when the snapshot was taken, and goes on answering the same as both are fed alike.
    #[test]
    fn a_restored_monitor_answers_as_the_original_did() {
        let mut empirical = EmpiricalConfig::default();
        empirical.histogram.significant_digits = 1;
        for detector in [
            DetectorConfig::default(),
            DetectorConfig::Fixed(FixedConfig {
                timeout: Nanos::from_millis(400),
            }),
            DetectorConfig::PhiExponential(PhiExponentialConfig {
                window: 64,
                ..Default::default()
            }),
            DetectorConfig::Chen(ChenConfig {
                window: 64,
                interval: Nanos::from_millis(100),
                alpha: Nanos::from_millis(200),
            }),
            DetectorConfig::Empirical(empirical),
        ] {
            let config = MonitorConfig {
                detector,
                ..Default::default()
            };
            let (a, clock) = busy(config.clone());
            assert!(
                a.dead() + a.suspects().len() > 0,
                "some peers are suspected"
            );
            let text = json(&a);
            let b = restore(&text, config).unwrap();
            same_answers(&a, &b);
            // The restored one continues the snapshot's time line: feed both alike.
            let clock_b = b.clock().clone();
            for round in 0..50u64 {
                clock.advance(Nanos::from_millis(100));
                clock_b.advance(Nanos::from_millis(100));
                for i in (0..40u64).filter(|i| i % 3 != 0) {
                    a.heartbeat(&key(i)).unwrap();
                    b.heartbeat(&key(i)).unwrap();
                    if i % 4 == 1 {
                        let rtt = Nanos::from_micros(900 + round);
                        a.record_rtt(&key(i), rtt).unwrap();
                        b.record_rtt(&key(i), rtt).unwrap();
                    }
                }
                assert_eq!(sorted(a.tick(a.now())), sorted(b.tick(b.now())));
            }
            same_answers(&a, &b);
            // A snapshot of the restored monitor is the original's, moved on alike (up to the
            // order of peers, which follows each monitor's own hashing, and so the checksum).
            assert!(same_content(&json(&a), &json(&b)));
        }
    }

    #[test]
    fn the_time_the_host_spent_restarting_is_not_silence() {
        let config = MonitorConfig::default();
        let (a, _) = busy(config.clone());
        let text = json(&a);
        let clock = ManualClock::new(Nanos::from_secs(3)); // a new process's clock
        let snapshot: Snapshot<String> = serde_json::from_str(&text).unwrap();
        assert_eq!(snapshot.taken_at(), a.now());
        assert_eq!(snapshot.len(), 40);
        let b = Monitor::from_snapshot(config, clock.clone(), snapshot).unwrap();
        assert_eq!(b.now(), a.now());
        clock.advance(Nanos::from_millis(30));
        assert_eq!(b.now(), a.now() + Nanos::from_millis(30));
        // The first tick after the restore judges nobody late.
        let e = b.tick(b.now());
        assert!(e.stall.is_none());
    }

    #[test]
    fn a_truncated_snapshot_is_rejected() {
        let (a, _) = busy(MonitorConfig::default());
        let text = json(&a);
        let config = MonitorConfig::default();
        let step = text.len() / 97;
        for cut in (0..text.len()).step_by(step) {
            let err = restore(&text[..cut], config.clone()).unwrap_err();
            assert!(
                err.contains("EOF") || err.contains("expected"),
                "cut at {cut}: {err}"
            );
        }
        assert!(restore(&text, config).is_ok());
    }

    /// Changing any one digit of a snapshot is caught: by a state's own checks when it makes
    /// one inconsistent, by the checksum otherwise.
    #[test]
    fn a_corrupted_snapshot_is_rejected_whole() {
        let (a, _) = busy(MonitorConfig::default());
        let text = json(&a);
        let digits: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| c.is_ascii_digit())
            .map(|(i, _)| i)
            .collect();
        let (mut by_checksum, mut by_checks) = (0, 0);
        for &i in digits.iter().step_by(digits.len() / 1_000) {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = b'0' + (bytes[i] - b'0' + 1) % 10;
            let bad = String::from_utf8(bytes).unwrap();
            match restore(&bad, MonitorConfig::default()) {
                Ok(_) => panic!(
                    "a changed digit at {i} went unnoticed: {}",
                    &bad[i.saturating_sub(150)..(i + 50).min(bad.len())]
                ),
                Err(e) if e.starts_with("corrupted snapshot") => by_checksum += 1,
                Err(_) => by_checks += 1,
            }
        }
        assert!(
            by_checksum > 200,
            "{by_checksum} by checksum, {by_checks} by checks"
        );
    }

    #[test]
    fn an_incompatible_snapshot_is_rejected_with_the_reason() {
        let (a, _) = busy(MonitorConfig::default());
        let text = json(&a);
        // Another version of the format.
        let err = restore(
            &text.replace("accrual_monitor_v1", "accrual_monitor_v2"),
            MonitorConfig::default(),
        )
        .unwrap_err();
        assert!(
            err.contains("accrual_monitor_v2") && err.contains("accrual_monitor_v1"),
            "{err}"
        );
        // Not a snapshot at all.
        assert!(restore(r#"{"peers": []}"#, MonitorConfig::default()).is_err());
        let snapshot = || -> Snapshot<String> { serde_json::from_str(&text).unwrap() };
        let from = |config: MonitorConfig| {
            Monitor::from_snapshot(config, ManualClock::default(), snapshot()).unwrap_err()
        };
        // Another detector, or the same with other settings.
        let other = MonitorConfig {
            detector: DetectorConfig::Fixed(FixedConfig::default()),
            ..Default::default()
        };
        assert_eq!(
            from(other),
            SnapshotError::IncompatibleDetector {
                snapshot: "adaptive",
                monitor: "fixed"
            }
        );
        let other = MonitorConfig {
            detector: DetectorConfig::Adaptive(AdaptiveConfig {
                memory: Nanos::from_secs(60),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = from(other);
        assert_eq!(
            err,
            SnapshotError::IncompatibleDetector {
                snapshot: "adaptive",
                monitor: "adaptive"
            }
        );
        assert!(err.to_string().contains("configured differently"));
        let other = MonitorConfig {
            timeout: TimeoutConfig {
                initial: Nanos::from_millis(300),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(from(other), SnapshotError::IncompatibleTimeout);
        let small = MonitorConfig {
            max_peers: 10,
            ..Default::default()
        };
        assert_eq!(
            from(small),
            SnapshotError::TooManyPeers {
                peers: 40,
                max_peers: 10
            }
        );
        let invalid = MonitorConfig {
            shards: 0,
            ..Default::default()
        };
        assert!(from(invalid).to_string().contains("monitor.shards"));
        // Settings that do not touch the learned state may change across a restart.
        let relaxed = MonitorConfig {
            max_dead_fraction: 1.0,
            stall_grace: Nanos::from_secs(3),
            ..Default::default()
        };
        let b = Monitor::from_snapshot(relaxed, ManualClock::default(), snapshot()).unwrap();
        assert_eq!(b.len(), 40);
        assert!(b.now() > Nanos::ZERO && ManualClock::default().now() == Nanos::ZERO);
    }
}
