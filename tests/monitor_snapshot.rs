//! Snapshots: every detector's and estimator's learned state survives a serde round trip
//! exactly, and a monitor restored from a snapshot answers as the original did.
#![cfg(feature = "serde")]

use accrual::histogram::WindowedHistogram;
use accrual::timeout::TimeoutEstimator;
use accrual::{
    Chen, ChenConfig, Detector, Empirical, EmpiricalConfig, Fixed, FixedConfig, HistogramConfig,
    Nanos, PhiExponential, PhiExponentialConfig, PhiNormal, PhiNormalConfig, TimeoutConfig,
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
        let err = serde_json::from_str::<PhiNormal>(&bad).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
}
