//! Configuration: validation through the constructors, serde with human durations, unknown
//! fields rejected.

use accrual::math::MAX_WINDOW;
use accrual::{
    Chen, ChenConfig, ConfigError, Fixed, FixedConfig, Nanos, PhiExponential, PhiExponentialConfig,
    PhiNormal, PhiNormalConfig, Preset, Suspicion, SuspicionConfig,
};

#[test]
fn constructors_validate() {
    assert!(matches!(
        PhiNormal::new(PhiNormalConfig {
            window: 0,
            ..Default::default()
        }),
        Err(ConfigError::EmptyWindow {
            field: "phi_normal.window"
        })
    ));
    assert!(
        PhiExponential::new(PhiExponentialConfig {
            first_interval: Nanos::ZERO,
            ..Default::default()
        })
        .is_err()
    );
    assert!(
        Chen::new(ChenConfig {
            window: 0,
            ..Default::default()
        })
        .is_err()
    );
    assert!(
        Fixed::new(FixedConfig {
            timeout: Nanos::ZERO
        })
        .is_err()
    );
    assert!(
        Suspicion::new(SuspicionConfig {
            suspect_enter: f64::NAN,
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn errors_say_what_and_where() {
    let e = SuspicionConfig {
        suspect_leave: 9.0,
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "suspicion.suspect_leave (9) must not exceed suspicion.suspect_enter (8)"
    );
    let e = PhiNormalConfig {
        window: 0,
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "phi_normal.window: the window must hold at least one sample"
    );
}

#[test]
fn defaults_and_presets_are_valid() {
    assert_eq!(PhiNormalConfig::default().validate(), Ok(()));
    for p in [Preset::Lan, Preset::Datacenter, Preset::Wan] {
        assert_eq!(
            PhiNormalConfig::preset(p, Nanos::from_millis(100)).validate(),
            Ok(())
        );
    }
    assert_eq!(PhiExponentialConfig::default().validate(), Ok(()));
    assert_eq!(ChenConfig::default().validate(), Ok(()));
    assert_eq!(FixedConfig::default().validate(), Ok(()));
    assert_eq!(SuspicionConfig::default().validate(), Ok(()));
}

#[test]
fn each_rule_names_its_field() {
    let bad = PhiNormalConfig {
        window: 0,
        ..Default::default()
    };
    assert_eq!(
        bad.validate(),
        Err(ConfigError::EmptyWindow {
            field: "phi_normal.window"
        })
    );
    let bad = PhiNormalConfig {
        window: MAX_WINDOW + 1,
        ..Default::default()
    };
    assert!(matches!(
        bad.validate(),
        Err(ConfigError::WindowTooLarge {
            field: "phi_normal.window",
            ..
        })
    ));
    let bad = PhiNormalConfig {
        min_std_ratio: f64::NAN,
        ..Default::default()
    };
    assert!(matches!(
        bad.validate(),
        Err(ConfigError::NotFinite {
            field: "phi_normal.min_std_ratio",
            ..
        })
    ));
    let bad = PhiNormalConfig {
        min_std_ratio: -0.5,
        ..Default::default()
    };
    assert_eq!(
        bad.validate(),
        Err(ConfigError::Negative {
            field: "phi_normal.min_std_ratio",
            value: -0.5
        })
    );
    let bad = PhiNormalConfig {
        first_interval: Nanos::ZERO,
        ..Default::default()
    };
    assert_eq!(
        bad.validate(),
        Err(ConfigError::ZeroDuration {
            field: "phi_normal.first_interval"
        })
    );
    let bad = PhiNormalConfig {
        acceptable_pause: Nanos::MAX,
        ..Default::default()
    };
    assert!(matches!(
        bad.validate(),
        Err(ConfigError::DurationTooLarge {
            field: "phi_normal.acceptable_pause",
            ..
        })
    ));
    let bad = FixedConfig {
        timeout: Nanos::ZERO,
    };
    assert_eq!(
        bad.validate(),
        Err(ConfigError::ZeroDuration {
            field: "fixed.timeout"
        })
    );
    let bad = ChenConfig {
        interval: Nanos::ZERO,
        ..Default::default()
    };
    assert_eq!(
        bad.validate(),
        Err(ConfigError::ZeroDuration {
            field: "chen.interval"
        })
    );
    let bad = PhiExponentialConfig {
        window: 0,
        ..Default::default()
    };
    assert_eq!(
        bad.validate(),
        Err(ConfigError::EmptyWindow {
            field: "phi_exp.window"
        })
    );
}

#[test]
fn suspicion_rules() {
    let base = SuspicionConfig::default();
    let with = |f: &dyn Fn(&mut SuspicionConfig)| {
        let mut c = base.clone();
        f(&mut c);
        c.validate()
    };
    assert_eq!(
        with(&|c| c.min_samples = 0),
        Err(ConfigError::ZeroCount {
            field: "suspicion.min_samples"
        })
    );
    assert_eq!(
        with(&|c| c.suspect_enter = 0.0),
        Err(ConfigError::NotPositive {
            field: "suspicion.suspect_enter",
            value: 0.0
        })
    );
    assert!(matches!(
        with(&|c| c.dead_leave = f64::INFINITY),
        Err(ConfigError::NotFinite {
            field: "suspicion.dead_leave",
            ..
        })
    ));
    assert_eq!(
        with(&|c| c.suspect_leave = 9.0),
        Err(ConfigError::InvertedThresholds {
            lower: "suspicion.suspect_leave",
            lower_value: 9.0,
            upper: "suspicion.suspect_enter",
            upper_value: 8.0
        })
    );
    assert!(matches!(
        with(&|c| c.dead_enter = 7.0),
        Err(ConfigError::InvertedThresholds {
            lower: "suspicion.suspect_enter",
            upper: "suspicion.dead_enter",
            ..
        })
    ));
    assert!(matches!(
        with(&|c| c.dead_leave = 17.0),
        Err(ConfigError::InvertedThresholds {
            lower: "suspicion.dead_leave",
            upper: "suspicion.dead_enter",
            ..
        })
    ));
    assert!(matches!(
        with(&|c| c.dead_leave = 3.0),
        Err(ConfigError::InvertedThresholds {
            lower: "suspicion.suspect_leave",
            upper: "suspicion.dead_leave",
            ..
        })
    ));
}

#[cfg(feature = "serde")]
mod serde_support {
    use super::*;
    use accrual::{Preset, Tail};

    #[test]
    fn toml_with_human_durations() {
        let cfg: PhiNormalConfig = toml::from_str(
            r#"
            window = 500
            min_std = "20ms"
            acceptable_pause = "1.5s"
            first_interval = "100ms"
            tail = "logistic"
            "#,
        )
        .unwrap();
        assert_eq!(
            cfg,
            PhiNormalConfig {
                window: 500,
                min_std: Nanos::from_millis(20),
                min_std_ratio: 0.0,
                acceptable_pause: Nanos::from_millis(1_500),
                first_interval: Nanos::from_millis(100),
                tail: Tail::Logistic,
            }
        );
    }

    #[test]
    fn round_trips_every_config() {
        let normal = PhiNormalConfig::preset(Preset::Wan, Nanos::from_millis(250));
        let text = toml::to_string(&normal).unwrap();
        assert!(text.contains("acceptable_pause = \"250ms\""), "{text}");
        assert_eq!(toml::from_str::<PhiNormalConfig>(&text).unwrap(), normal);

        let s = SuspicionConfig::default();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<SuspicionConfig>(&json).unwrap(), s);
        let c = ChenConfig::default();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ChenConfig>(&json).unwrap(), c);
        let f = FixedConfig::default();
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"timeout":"1s"}"#);
        let e = PhiExponentialConfig::default();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            serde_json::from_str::<PhiExponentialConfig>(&json).unwrap(),
            e
        );
    }

    #[test]
    fn missing_fields_take_defaults() {
        let cfg: SuspicionConfig = serde_json::from_str(r#"{"suspect_enter": 10}"#).unwrap();
        assert_eq!(cfg.suspect_enter, 10.0);
        assert_eq!(cfg.dead_enter, SuspicionConfig::default().dead_enter);
    }

    #[test]
    fn rejects_unknown_fields_bare_numbers_and_bad_units() {
        let e = toml::from_str::<PhiNormalConfig>("windw = 5").unwrap_err();
        assert!(e.to_string().contains("unknown field `windw`"), "{e}");
        let e = serde_json::from_str::<FixedConfig>(r#"{"timeout": 250}"#).unwrap_err();
        assert!(e.to_string().contains("a duration with a unit"), "{e}");
        let e = serde_json::from_str::<FixedConfig>(r#"{"timeout": "250 parsecs"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown unit"), "{e}");
    }

    #[test]
    fn invalid_values_parse_but_do_not_build() {
        // serde reads the shape; the constructor applies the rules.
        let cfg: SuspicionConfig = toml::from_str("suspect_enter = nan").unwrap();
        assert!(matches!(
            Suspicion::new(cfg),
            Err(ConfigError::NotFinite {
                field: "suspicion.suspect_enter",
                ..
            })
        ));
    }
}
