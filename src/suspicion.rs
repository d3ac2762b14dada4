//! Suspicion levels: a pure state machine from φ to [`Level`], with hysteresis.

use std::fmt;

use crate::config::{ConfigError, check_order, check_positive};
use crate::time::Nanos;

/// Configuration of the [suspicion state machine](crate::Suspicion).
///
/// | field | default | meaning |
/// |---|---|---|
/// | `min_samples` | 1 | accepted heartbeats before the peer leaves `Unknown` |
/// | `suspect_enter` | 8.0 | φ at which an alive peer becomes `Suspect` |
/// | `suspect_leave` | 4.0 | φ below which a suspect peer is `Alive` again |
/// | `dead_enter` | 16.0 | φ at which the peer becomes `Dead` |
/// | `dead_leave` | 12.0 | φ below which a dead peer is only `Suspect` (when `revive`) |
/// | `revive` | true | whether a `Dead` peer can come back; false makes `Dead` final |
///
/// Rules: every threshold finite and positive; `suspect_leave ≤ suspect_enter ≤ dead_enter`,
/// `dead_leave ≤ dead_enter` and `suspect_leave ≤ dead_leave`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct SuspicionConfig {
    /// Accepted heartbeats needed before the peer leaves `Unknown`.
    pub min_samples: u64,
    /// φ at which an alive peer becomes suspect.
    pub suspect_enter: f64,
    /// φ below which a suspect peer is alive again.
    pub suspect_leave: f64,
    /// φ at which the peer is declared dead.
    pub dead_enter: f64,
    /// φ below which a dead peer is only suspect again.
    pub dead_leave: f64,
    /// Whether a dead peer may come back.
    pub revive: bool,
}

impl Default for SuspicionConfig {
    fn default() -> Self {
        SuspicionConfig {
            min_samples: 1,
            suspect_enter: 8.0,
            suspect_leave: 4.0,
            dead_enter: 16.0,
            dead_leave: 12.0,
            revive: true,
        }
    }
}

impl SuspicionConfig {
    /// Checks every rule; [`Suspicion::new`](crate::Suspicion::new) calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_samples == 0 {
            return Err(ConfigError::ZeroCount {
                field: "suspicion.min_samples",
            });
        }
        let se = ("suspicion.suspect_enter", self.suspect_enter);
        let sl = ("suspicion.suspect_leave", self.suspect_leave);
        let de = ("suspicion.dead_enter", self.dead_enter);
        let dl = ("suspicion.dead_leave", self.dead_leave);
        for (field, value) in [se, sl, de, dl] {
            check_positive(field, value)?;
        }
        check_order(sl, se)?;
        check_order(se, de)?;
        check_order(dl, de)?;
        check_order(sl, dl)
    }
}

/// How a peer is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Level {
    /// Too few heartbeats to judge ([`SuspicionConfig::min_samples`]).
    Unknown,
    /// Trusted.
    Alive,
    /// Late enough to be doubted: route around it, do not act irrevocably.
    Suspect,
    /// Late enough to be given up on.
    Dead,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Level::Unknown => "unknown",
            Level::Alive => "alive",
            Level::Suspect => "suspect",
            Level::Dead => "dead",
        })
    }
}

/// A change of level, with when it happened and the φ that caused it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transition {
    /// The level before.
    pub from: Level,
    /// The level after.
    pub to: Level,
    /// The instant of the update that changed it.
    pub at: Nanos,
    /// φ at that instant, as the levels judged it (in a [`Monitor`](crate::Monitor) with
    /// [`mistakes_per_hour`](crate::MonitorConfig::mistakes_per_hour) set, scaled by the
    /// peer's factor).
    pub phi: f64,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} at {} (φ = {:.3})",
            self.from, self.to, self.at, self.phi
        )
    }
}

/// The suspicion state machine: `Unknown → Alive ⇄ Suspect → Dead`, with separate thresholds to
/// enter and to leave each level so that a peer hovering at a threshold does not flap.
///
/// From the current level and a new φ:
///
/// | level | becomes `Dead` when | `Suspect` when | `Alive` when |
/// |---|---|---|---|
/// | `Unknown` (enough samples) | φ ≥ `dead_enter` | φ ≥ `suspect_enter` | otherwise |
/// | `Alive` | φ ≥ `dead_enter` | φ ≥ `suspect_enter` | — |
/// | `Suspect` | φ ≥ `dead_enter` | — | φ < `suspect_leave` |
/// | `Dead` (if `revive`) | — | `suspect_leave` ≤ φ < `dead_leave` | φ < `suspect_leave` |
///
/// The machine is pure: it never reads a clock or a detector; the host passes `now`, φ and the
/// number of accepted heartbeats. A NaN φ changes nothing.
///
/// ```
/// use accrual::{Level, Nanos, Suspicion, SuspicionConfig};
///
/// let mut s = Suspicion::new(SuspicionConfig::default()).unwrap();
/// assert_eq!(s.level(), Level::Unknown);
/// let t = s.update(Nanos::from_secs(1), 0.1, 1).unwrap();
/// assert_eq!((t.from, t.to), (Level::Unknown, Level::Alive));
/// assert_eq!(s.update(Nanos::from_secs(2), 9.0, 1).unwrap().to, Level::Suspect);
/// // Hysteresis: φ must fall below suspect_leave (4) to be trusted again.
/// assert!(s.update(Nanos::from_secs(3), 6.0, 2).is_none());
/// assert_eq!(s.update(Nanos::from_secs(4), 0.5, 3).unwrap().to, Level::Alive);
/// ```
#[derive(Debug, Clone)]
pub struct Suspicion {
    config: SuspicionConfig,
    level: Level,
    since: Option<Nanos>,
}

impl Suspicion {
    /// A machine in `Unknown`.
    pub fn new(config: SuspicionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Suspicion {
            config,
            level: Level::Unknown,
            since: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SuspicionConfig {
        &self.config
    }

    /// The current level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// When the current level was entered (`None` while still in the initial `Unknown`).
    pub fn since(&self) -> Option<Nanos> {
        self.since
    }

    /// The level the rules give for `phi` from the current level, given `samples` accepted
    /// heartbeats, without changing anything.
    pub fn next_level(&self, phi: f64, samples: u64) -> Level {
        next_level(&self.config, self.level, phi, samples)
    }

    /// Applies φ at `now`; returns the transition if the level changed.
    pub fn update(&mut self, now: Nanos, phi: f64, samples: u64) -> Option<Transition> {
        let to = self.next_level(phi, samples);
        if to == self.level {
            return None;
        }
        let from = std::mem::replace(&mut self.level, to);
        self.since = Some(now);
        Some(Transition {
            from,
            to,
            at: now,
            phi,
        })
    }

    /// Back to `Unknown`, as for a peer never heard from.
    pub fn reset(&mut self) {
        self.level = Level::Unknown;
        self.since = None;
    }
}

/// The level the rules of `c` give for `phi` from `level`, given `samples` accepted
/// heartbeats: the state machine's transition function, shared with the monitor, which keeps a
/// peer's level in one byte instead of a whole [`Suspicion`].
pub(crate) fn next_level(c: &SuspicionConfig, level: Level, phi: f64, samples: u64) -> Level {
    if phi.is_nan() {
        return level;
    }
    match level {
        Level::Unknown if samples < c.min_samples => Level::Unknown,
        Level::Unknown | Level::Alive => {
            if phi >= c.dead_enter {
                Level::Dead
            } else if phi >= c.suspect_enter {
                Level::Suspect
            } else {
                Level::Alive
            }
        }
        Level::Suspect => {
            if phi >= c.dead_enter {
                Level::Dead
            } else if phi < c.suspect_leave {
                Level::Alive
            } else {
                Level::Suspect
            }
        }
        Level::Dead if !c.revive => Level::Dead,
        Level::Dead => {
            if phi < c.suspect_leave {
                Level::Alive
            } else if phi < c.dead_leave {
                Level::Suspect
            } else {
                Level::Dead
            }
        }
    }
}
