//! The suspicion state machine against a model written as a different shape (band numbers),
//! plus its hysteresis and edge cases.

use accrual::{Level, Nanos, Suspicion, SuspicionConfig};
use proptest::prelude::*;

/// The model: a level is a band of φ, entering a band needs its enter threshold, leaving it
/// needs falling below its leave threshold.
fn model(cfg: &SuspicionConfig, level: Level, phi: f64, samples: u64) -> Level {
    if phi.is_nan() {
        return level;
    }
    let band = |l: Level| match l {
        Level::Unknown => -1,
        Level::Alive => 0,
        Level::Suspect => 1,
        Level::Dead => 2,
    };
    let from_band = |b: i32| [Level::Alive, Level::Suspect, Level::Dead][b as usize];
    // The highest band φ has entered.
    let entered = if phi >= cfg.dead_enter {
        2
    } else if phi >= cfg.suspect_enter {
        1
    } else {
        0
    };
    // The lowest band φ is allowed to fall back to from `level`.
    let kept = |b: i32| match b {
        2 if phi >= cfg.dead_leave => 2,
        2 | 1 if phi >= cfg.suspect_leave => 1,
        _ => 0,
    };
    match level {
        Level::Unknown if samples < cfg.min_samples => Level::Unknown,
        Level::Unknown => from_band(entered),
        Level::Dead if !cfg.revive => Level::Dead,
        l => from_band(entered.max(kept(band(l)))),
    }
}

fn config() -> impl Strategy<Value = SuspicionConfig> {
    (
        1u64..4,
        0.1f64..5.0,
        0.0f64..5.0,
        0.0f64..10.0,
        0.0f64..1.0,
        any::<bool>(),
    )
        .prop_map(|(min_samples, sl, gap1, gap2, dl_frac, revive)| {
            let suspect_leave = sl;
            let suspect_enter = sl + gap1;
            let dead_enter = suspect_enter + gap2;
            let dead_leave = suspect_leave + dl_frac * (dead_enter - suspect_leave);
            SuspicionConfig {
                min_samples,
                suspect_enter,
                suspect_leave,
                dead_enter,
                dead_leave,
                revive,
            }
        })
}

proptest! {
    #[test]
    fn matches_the_band_model(
        cfg in config(),
        steps in prop::collection::vec(
            (prop_oneof![0.0f64..20.0, Just(f64::NAN), Just(1e300)], 0u64..5), 0..100),
    ) {
        let mut s = Suspicion::new(cfg.clone()).unwrap();
        let mut level = Level::Unknown;
        for (i, &(phi, samples)) in steps.iter().enumerate() {
            let now = Nanos::from_millis(i as u64);
            let want = model(&cfg, level, phi, samples);
            let t = s.update(now, phi, samples);
            prop_assert_eq!(s.level(), want);
            if want == level {
                prop_assert!(t.is_none());
            } else {
                let t = t.unwrap();
                prop_assert_eq!((t.from, t.to, t.at), (level, want, now));
                prop_assert!(t.phi == phi);
                prop_assert_eq!(s.since(), Some(now));
            }
            level = want;
        }
    }
}

#[test]
fn hovering_at_the_threshold_does_not_flap() {
    let mut s = Suspicion::new(SuspicionConfig::default()).unwrap();
    s.update(Nanos(0), 0.0, 5);
    let mut transitions = 0;
    for i in 0..1_000u64 {
        let phi = if i % 2 == 0 { 7.9 } else { 8.1 };
        transitions += s.update(Nanos(i), phi, 5).is_some() as u32;
    }
    assert_eq!(transitions, 1);
    assert_eq!(s.level(), Level::Suspect);
}

#[test]
fn unknown_until_enough_samples() {
    let cfg = SuspicionConfig {
        min_samples: 3,
        ..Default::default()
    };
    let mut s = Suspicion::new(cfg).unwrap();
    assert!(s.update(Nanos(1), 50.0, 2).is_none());
    assert_eq!(s.level(), Level::Unknown);
    let t = s.update(Nanos(2), 50.0, 3).unwrap();
    assert_eq!((t.from, t.to), (Level::Unknown, Level::Dead));
}

#[test]
fn dead_is_final_without_revive_and_returns_with_it() {
    let mut final_ = Suspicion::new(SuspicionConfig {
        revive: false,
        ..Default::default()
    })
    .unwrap();
    final_.update(Nanos(1), 0.0, 1);
    final_.update(Nanos(2), 20.0, 1);
    assert!(final_.update(Nanos(3), 0.0, 2).is_none());
    assert_eq!(final_.level(), Level::Dead);

    let mut back = Suspicion::new(SuspicionConfig::default()).unwrap();
    back.update(Nanos(1), 0.0, 1);
    back.update(Nanos(2), 20.0, 1);
    assert_eq!(back.update(Nanos(3), 13.0, 1), None); // above dead_leave: still dead
    assert_eq!(back.update(Nanos(4), 6.0, 1).unwrap().to, Level::Suspect);
    assert_eq!(back.update(Nanos(5), 0.1, 2).unwrap().to, Level::Alive);
    back.reset();
    assert_eq!(back.level(), Level::Unknown);
}

#[test]
fn transition_prints_levels_time_and_phi() {
    let mut s = Suspicion::new(SuspicionConfig::default()).unwrap();
    let t = s.update(Nanos::from_millis(1_500), 0.25, 1).unwrap();
    assert_eq!(t.to_string(), "unknown -> alive at 1.5s (φ = 0.250)");
}
