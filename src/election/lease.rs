//! [`Lease`]: the leader's lease, on the followers' promises.

use crate::config::{ConfigError, check_bounded, check_positive_duration, check_range};
use crate::time::Nanos;

/// The largest clock rate error a configuration accepts: 10 %.
const MAX_DRIFT: f64 = 0.1;

/// Configuration of a [`Lease`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `promise` | `150ms` | `M`: how long each follower promises not to vote after a heartbeat; at most every follower's [`lease_promise`](super::LeaderWatchConfig::lease_promise) |
/// | `max_drift` | 0.001 | `ρ`: a bound on every clock's rate error, leader's and followers' (in `[0, 0.1]`) |
/// | `margin` | `1ms` | subtracted from every validity: for the time between checking the lease and acting on it |
///
/// Rules: `promise` positive and at most [`MAX_DURATION`](crate::config::MAX_DURATION);
/// `max_drift` in `[0, 0.1]`; `margin` shorter than the span an acknowledgement buys,
/// `promise · (1 − ρ)/(1 + ρ)`, so that the lease can be valid at all.
///
/// ```
/// use accrual::election::LeaseConfig;
/// use accrual::{ConfigError, Nanos};
///
/// let cfg = LeaseConfig { max_drift: 0.5, ..Default::default() };
/// assert!(matches!(cfg.validate(), Err(ConfigError::OutOfRange { field: "lease.max_drift", .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct LeaseConfig {
    /// `M`, the followers' promise.
    pub promise: Nanos,
    /// `ρ`, the bound on each clock's rate error.
    pub max_drift: f64,
    /// Subtracted from every validity.
    pub margin: Nanos,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            promise: Nanos::from_millis(150),
            max_drift: 1e-3,
            margin: Nanos::from_millis(1),
        }
    }
}

impl LeaseConfig {
    /// Checks every rule; [`Lease::new`] calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive_duration("lease.promise", self.promise)?;
        check_range("lease.max_drift", self.max_drift, 0.0, MAX_DRIFT)?;
        check_bounded("lease.margin", self.margin)?;
        let drifted = drifted_promise(self.promise, self.max_drift);
        if self.margin >= drifted {
            return Err(ConfigError::InvertedDurations {
                lower: "lease.margin",
                lower_value: self.margin,
                upper: "lease.promise",
                upper_value: self.promise,
            });
        }
        Ok(())
    }

    /// The validity one acknowledgement buys past the heartbeat's send time:
    /// `promise · (1 − ρ)/(1 + ρ) − margin`, rounded down (see [`Lease`]).
    pub fn span(&self) -> Nanos {
        drifted_promise(self.promise, self.max_drift).saturating_sub(self.margin)
    }
}

/// `⌊M·(1 − ρ)/(1 + ρ)⌋`, less a nanosecond and the floating-point error of the product (a few
/// parts in 10^16 of `M`): never more than the exact value, so a lease never outlives a
/// promise by rounding.
fn drifted_promise(promise: Nanos, max_drift: f64) -> Nanos {
    if !(0.0..1.0).contains(&max_drift) {
        return Nanos::ZERO;
    }
    let m = promise.as_nanos() as f64;
    let exact = m * ((1.0 - max_drift) / (1.0 + max_drift));
    let slack = 1.0 + m * f64::EPSILON * 4.0;
    let x = (exact - slack).floor();
    if x > 0.0 {
        // `as` saturates; x ≤ M < 2^64.
        Nanos(x as u64)
    } else {
        Nanos::ZERO
    }
}

/// A leader's lease: the span during which no other node can have been elected, so that the
/// leader may serve reads from its own state and act alone.
///
/// # Why it holds
///
/// Every follower that accepts a heartbeat promises not to vote for `M` on its own clock
/// ([`LeaderWatch::may_vote`](super::LeaderWatch::may_vote)); the leader counts as one of the
/// quorum, and keeps the same promise by feeding its own heartbeats to its own watch. When a
/// quorum has acknowledged a heartbeat that the leader sent at `sent` (its own clock), every
/// quorum that could elect another leader contains one of them, which received the heartbeat
/// after it was sent and will not vote until `M` later on its clock.
///
/// The clocks disagree on rates: each runs at between `1 − ρ` and `1 + ρ` times real time
/// ([`max_drift`](LeaseConfig::max_drift)). A span of `M` on a follower's clock lasts at least
/// `M/(1 + ρ)` of real time (the follower's clock fast), during which the leader's clock
/// advances at least `M·(1 − ρ)/(1 + ρ)` (the leader's slow). So the lease is valid until
///
/// ```text
/// sent + M·(1 − ρ)/(1 + ρ) − margin
/// ```
///
/// on the leader's clock. The often quoted `M·(1 − ρ)` is a little longer (by about `M·ρ²`):
/// it assumes the follower's clock is exact, and when both clocks err in opposite directions
/// the lease would outlive the promise by that much. The [`margin`](LeaseConfig::margin) covers
/// the time between checking the lease and acting on it; the bound is rounded down.
///
/// Acknowledgements never move validity backwards. A stall of the leader's own process
/// ([`stalled`](Self::stalled)) voids the lease, and acknowledgements of heartbeats sent
/// before it no longer count. A lease belongs to one term ([`new_term`](Self::new_term)).
/// The host must pass only acknowledgements of heartbeats of the lease's term.
///
/// The lease never reads a clock: the host reads the leader's clock, which must count time the
/// system spends suspended (`BootClock`, feature `boottime`, on Linux) or the followers' promises
/// may run out during a suspension that the leader's clock does not see.
///
/// ```
/// use accrual::Nanos;
/// use accrual::election::{Lease, LeaseConfig};
///
/// let mut lease = Lease::new(LeaseConfig::default())?;
/// lease.new_term(4);
/// assert!(!lease.valid(Nanos::ZERO));
///
/// // A quorum acknowledged the heartbeat sent at 1 s.
/// let sent = Nanos::from_secs(1);
/// assert!(lease.quorum_acknowledged(sent));
/// let until = lease.valid_until().unwrap();
/// // 150 ms · 0.999/1.001 − 1 ms, rounded down.
/// assert_eq!(until, sent + Nanos(148_700_298));
/// assert!(lease.valid(until - Nanos(1)) && !lease.valid(until));
///
/// // The leader noticed it had stalled: the lease is void, and older acknowledgements are
/// // refused.
/// lease.stalled(Nanos::from_millis(1_100));
/// assert!(!lease.valid(Nanos::from_millis(1_100)));
/// assert!(!lease.quorum_acknowledged(Nanos::from_millis(1_050)));
/// assert!(lease.quorum_acknowledged(Nanos::from_millis(1_100)));
/// # Ok::<(), accrual::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Lease {
    config: LeaseConfig,
    span: Nanos,
    term: u64,
    valid_until: Option<Nanos>,
    /// Acknowledgements of heartbeats sent before this instant do not count.
    floor: Nanos,
}

impl Lease {
    /// A lease of term 0, not valid.
    pub fn new(config: LeaseConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Lease {
            config,
            span: config.span(),
            term: 0,
            valid_until: None,
            floor: Nanos::ZERO,
        })
    }

    /// Records that a quorum (the leader included) acknowledged the heartbeat the leader sent
    /// at `sent`, on its clock. Validity extends to `sent + span` unless it already reaches
    /// further; an acknowledgement of a heartbeat sent before the last
    /// [stall](Self::stalled) is refused. Returns whether validity moved.
    pub fn quorum_acknowledged(&mut self, sent: Nanos) -> bool {
        if sent < self.floor {
            return false;
        }
        let until = sent.saturating_add(self.span);
        match self.valid_until {
            Some(current) if current >= until => false,
            _ => {
                self.valid_until = Some(until);
                true
            }
        }
    }

    /// Whether the lease is valid at `now` (the leader's clock): `now < valid_until`.
    pub fn valid(&self, now: Nanos) -> bool {
        self.valid_until.is_some_and(|until| now < until)
    }

    /// The first instant at which the lease is no longer valid; `None` while no
    /// acknowledgement counts (a new term, after a stall).
    pub fn valid_until(&self) -> Option<Nanos> {
        self.valid_until
    }

    /// How long the lease stays valid after `now`: zero if it is not valid.
    pub fn remaining(&self, now: Nanos) -> Nanos {
        self.valid_until.map_or(Nanos::ZERO, |until| until - now)
    }

    /// The leader noticed that its process stalled (a tick that ran late, say), and resumed
    /// at `resumed`: whatever it decided before may rest on a lease that ran out meanwhile.
    /// The lease is void, and acknowledgements of heartbeats sent before `resumed` no longer
    /// extend it.
    pub fn stalled(&mut self, resumed: Nanos) {
        self.valid_until = None;
        self.floor = self.floor.max(resumed);
    }

    /// Moves the lease to `term`, void, if `term` is newer; an older or equal term changes
    /// nothing. A leader calls it when elected (and, when it steps down for a newer term, to
    /// drop its lease).
    pub fn new_term(&mut self, term: u64) {
        if term > self.term {
            self.term = term;
            self.valid_until = None;
        }
    }

    /// The lease's term.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The validity one acknowledgement buys past the heartbeat's send time.
    pub fn span(&self) -> Nanos {
        self.span
    }

    /// The configuration.
    pub fn config(&self) -> &LeaseConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_its_field() {
        let d = LeaseConfig::default();
        assert_eq!(d.validate(), Ok(()));
        let c = LeaseConfig {
            promise: Nanos::ZERO,
            ..d
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::ZeroDuration {
                field: "lease.promise"
            })
        );
        for drift in [-1e-9, 0.2, f64::NAN, f64::INFINITY] {
            let c = LeaseConfig {
                max_drift: drift,
                ..d
            };
            assert!(c.validate().is_err(), "{drift}");
        }
        let c = LeaseConfig {
            margin: Nanos::from_millis(150),
            ..d
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::InvertedDurations {
                lower: "lease.margin",
                upper: "lease.promise",
                ..
            })
        ));
        let c = LeaseConfig {
            margin: Nanos::MAX,
            ..d
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::DurationTooLarge {
                field: "lease.margin",
                ..
            })
        ));
        let c = LeaseConfig {
            max_drift: 0.0,
            margin: Nanos::ZERO,
            ..d
        };
        assert_eq!(c.validate(), Ok(()));
        assert!(
            Lease::new(LeaseConfig {
                promise: Nanos::ZERO,
                ..d
            })
            .is_err()
        );
    }

    /// The span is never more than the exact `M(1 − ρ)/(1 + ρ) − margin`, and within a few
    /// nanoseconds of it.
    #[test]
    fn the_span_is_the_drifted_promise_rounded_down() {
        for (m, rho) in [
            (150_000_000u64, 1e-3),
            (150_000_000, 0.0),
            (1, 0.0),
            (2, 0.0),
            (999_999_937, 0.1),
            (crate::config::MAX_DURATION.as_nanos(), 1e-4),
        ] {
            let cfg = LeaseConfig {
                promise: Nanos(m),
                max_drift: rho,
                margin: Nanos::ZERO,
            };
            let span = cfg.span().as_nanos() as u128;
            // Exact in rationals, with ρ as the double it is: ρ = p/2^70 (exactly, for these).
            let p = (rho * 2f64.powi(70)) as u128;
            assert_eq!(p as f64 / 2f64.powi(70), rho);
            let one = 1u128 << 70;
            let exact_floor = (m as u128 * (one - p)) / (one + p);
            assert!(span <= exact_floor, "{m} {rho}: {span} > {exact_floor}");
            assert!(
                span + 16 >= exact_floor,
                "{m} {rho}: {span} ≪ {exact_floor}"
            );
        }
        // The naive M(1 − ρ) is longer.
        let d = LeaseConfig::default();
        assert!(d.span() < Nanos(149_850_000) - d.margin);
    }

    #[test]
    fn validity_never_moves_backwards_and_belongs_to_one_term() {
        let mut lease = Lease::new(LeaseConfig::default()).unwrap();
        let span = lease.span();
        assert_eq!(lease.valid_until(), None);
        assert_eq!(lease.remaining(Nanos::ZERO), Nanos::ZERO);
        lease.new_term(2);
        assert!(lease.quorum_acknowledged(Nanos(1_000)));
        assert!(!lease.quorum_acknowledged(Nanos(500)));
        assert!(!lease.quorum_acknowledged(Nanos(1_000)));
        assert_eq!(lease.valid_until(), Some(Nanos(1_000) + span));
        assert_eq!(lease.remaining(Nanos(1_000)), span);
        assert!(lease.quorum_acknowledged(Nanos(2_000)));
        assert_eq!(lease.valid_until(), Some(Nanos(2_000) + span));
        // An older or equal term changes nothing; a newer one voids.
        lease.new_term(1);
        lease.new_term(2);
        assert_eq!(lease.term(), 2);
        assert!(lease.valid(Nanos(2_000)));
        lease.new_term(3);
        assert_eq!(lease.term(), 3);
        assert!(!lease.valid(Nanos(2_000)));
        // The end of time saturates.
        assert!(lease.quorum_acknowledged(Nanos::MAX - Nanos(1)));
        assert_eq!(lease.valid_until(), Some(Nanos::MAX));
        assert!(!lease.valid(Nanos::MAX));
    }

    #[test]
    fn a_stall_voids_the_lease_and_refuses_older_acknowledgements() {
        let mut lease = Lease::new(LeaseConfig::default()).unwrap();
        lease.quorum_acknowledged(Nanos::from_millis(100));
        lease.stalled(Nanos::from_millis(400));
        assert_eq!(lease.valid_until(), None);
        assert!(!lease.quorum_acknowledged(Nanos::from_millis(399)));
        // An earlier stall does not lower the floor.
        lease.stalled(Nanos::from_millis(300));
        assert!(!lease.quorum_acknowledged(Nanos::from_millis(399)));
        assert!(lease.quorum_acknowledged(Nanos::from_millis(400)));
        // The floor survives a new term.
        lease.new_term(9);
        assert!(!lease.quorum_acknowledged(Nanos::from_millis(350)));
    }
}
