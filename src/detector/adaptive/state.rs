//! Snapshots (feature `serde`): everything the detector learned, floats as their bit patterns so
//! that a restored detector answers exactly as the original did. Reading checks every rule the
//! state obeys (finite, non-negative weights; a hull of increasing edges whose slopes are
//! negative and non-decreasing; a positive tail) and refuses a state that breaks one.

use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::model::{BUCKETS, EDGES, Model};
use super::regime::Regime;
use super::{Adaptive, AdaptiveConfig};
use crate::detector::ArrivalLog;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    config: AdaptiveConfig,
    log: ArrivalLog,
    first: Option<(u64, u64)>,
    anchor: (u64, u64),
    next_anchor: (u64, u64),
    eta: u64,
    unit: u64,
    origin: u64,
    counts: Vec<u32>,
    total: u64,
    samples: u64,
    hull: Vec<u8>,
    slopes: Vec<u64>,
    top: u64,
    s_top: u64,
    theta: u64,
    /// The regime: where its current half began, and the bits of its two pairs (absent
    /// from snapshots taken before it existed: an empty regime).
    #[serde(default)]
    regime_start: u64,
    #[serde(default)]
    regime: [u32; 4],
}

impl Serialize for Adaptive {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = &self.model;
        State {
            config: self.config,
            log: self.log,
            first: self.first,
            anchor: self.anchor,
            next_anchor: self.next_anchor,
            eta: self.eta.to_bits(),
            unit: self.unit.to_bits(),
            origin: self.origin,
            counts: m.counts.iter().map(|c| c.to_bits()).collect(),
            total: m.total.to_bits(),
            samples: m.samples,
            hull: m.hull[..m.hull_len].to_vec(),
            slopes: m.slopes[..m.hull_len].iter().map(|s| s.to_bits()).collect(),
            top: m.top.to_bits(),
            s_top: m.s_top.to_bits(),
            theta: m.theta.to_bits(),
            regime_start: self.regime.start,
            regime: {
                let ([a, b], [c, d]) = (self.regime.current, self.regime.previous);
                [a, b, c, d].map(f32::to_bits)
            },
        }
        .serialize(s)
    }
}

fn check(ok: bool, rule: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("adaptive: {rule}"))
    }
}

impl<'de> Deserialize<'de> for Adaptive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let o = State::deserialize(d)?;
        o.config.validate().map_err(D::Error::custom)?;
        let f = f64::from_bits;
        let (eta, unit, total) = (f(o.eta), f(o.unit), f(o.total));
        let (top, s_top, theta) = (f(o.top), f(o.s_top), f(o.theta));
        let counts: Vec<f32> = o.counts.iter().map(|&c| f32::from_bits(c)).collect();
        let slopes: Vec<f64> = o.slopes.iter().map(|&s| f(s)).collect();
        let [a, b, c, d] = o.regime.map(f32::from_bits);
        let rules = [
            (
                eta.is_finite() && eta > 0.0,
                "the interval must be positive and finite",
            ),
            (
                unit.is_finite() && unit >= 1.0,
                "the weight unit must be finite and at least 1",
            ),
            (
                total.is_finite() && total >= 0.0,
                "the total weight must be finite and not negative",
            ),
            (
                counts.len() == BUCKETS,
                "the histogram has the wrong number of buckets",
            ),
            (
                counts.iter().all(|c| c.is_finite() && *c >= 0.0),
                "a bucket's weight is negative or not finite",
            ),
            (
                o.hull.len() <= EDGES && o.hull.len() == slopes.len(),
                "the hull has too many vertices, or a slope per vertex missing",
            ),
            (
                o.hull.windows(2).all(|w| w[0] < w[1])
                    && o.hull.iter().all(|&v| usize::from(v) <= BUCKETS),
                "the hull's vertices are not increasing bucket edges",
            ),
            (
                slopes.iter().all(|s| s.is_finite() && *s < 0.0)
                    && slopes.windows(2).all(|w| w[0] <= w[1]),
                "the hull's slopes are not negative and non-decreasing",
            ),
            (
                top.is_finite() && top >= 0.0,
                "the tail's start must be finite and not negative",
            ),
            (
                s_top.is_finite() && s_top > 0.0 && s_top <= 1.0,
                "the tail's probability must be in (0, 1]",
            ),
            (
                theta.is_finite() && theta > 0.0,
                "the tail's scale must be positive and finite",
            ),
            (
                [a, b, c, d].iter().all(|x| x.is_finite() && *x >= 0.0) && a >= b && c >= d,
                "the regime's lateness values must be finite, not negative, and in order",
            ),
        ];
        for (ok, rule) in rules {
            check(ok, rule).map_err(D::Error::custom)?;
        }
        let mut model = Model::new(theta);
        model.counts.copy_from_slice(&counts);
        model.total = total;
        model.samples = o.samples;
        model.hull_len = o.hull.len();
        model.hull[..o.hull.len()].copy_from_slice(&o.hull);
        model.slopes[..slopes.len()].copy_from_slice(&slopes);
        model.top = top;
        model.s_top = s_top;
        Ok(Adaptive {
            config: o.config,
            log: o.log,
            first: o.first,
            anchor: o.anchor,
            next_anchor: o.next_anchor,
            regime: Regime {
                start: o.regime_start,
                current: [a, b],
                previous: [c, d],
                ..Regime::new(o.config.regime_window.as_nanos())
            },
            eta,
            unit,
            origin: o.origin,
            half_life: o.config.memory.as_nanos() as f64,
            model,
        })
    }
}
