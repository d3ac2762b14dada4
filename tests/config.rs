//! Configuration: validation through the constructors, serde with human durations, unknown
//! fields rejected.

use accrual::{
    Chen, ChenConfig, ConfigError, Fixed, FixedConfig, Nanos, PhiExponential, PhiExponentialConfig,
    PhiNormal, PhiNormalConfig, Suspicion, SuspicionConfig,
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
