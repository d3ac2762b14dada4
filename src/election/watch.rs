//! [`LeaderWatch`]: a follower's view of its leader, its promise not to vote, and when to
//! campaign.

use crate::config::{
    ConfigError, check_bounded, check_duration_order, check_positive, check_positive_duration,
    check_range,
};
use crate::detector::{Adaptive, AdaptiveConfig, Detector};
use crate::time::Nanos;

/// The largest rate of spurious elections a configuration accepts: a thousand a second.
const MAX_ELECTIONS_PER_HOUR: f64 = 3.6e6;

/// Configuration of a [`LeaderWatch`]. The defaults suit a leader that sends a heartbeat
/// every 50 ms.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `detector` | [`AdaptiveConfig`] with `first_interval` 50 ms | the detector that learns the leader's heartbeats; a fresh one per leader and term |
/// | `spurious_elections_per_hour` | 0.1 | how often a live leader may be taken for dead: sets the detector's threshold (in (0, 3.6e6]) |
/// | `lease_promise` | `150ms` | after each leader heartbeat, how long the follower promises not to vote (for anyone, itself included): the leader's lease rests on it |
/// | `max_election_timeout` | `1s` | the latest a follower campaigns after the last heartbeat (or its creation), whatever the detector says |
/// | `jitter` | `150ms` | the random delay added to the instant of a campaign, so that followers do not campaign together |
/// | `backoff` | `50ms` | after `n` failed campaigns, the next waits at least `backoff · 2^(n−1)` after the last one started… |
/// | `max_backoff` | `1s` | … but at most this long (plus the jitter) |
///
/// Rules: every duration positive and at most [`MAX_DURATION`](crate::config::MAX_DURATION);
/// `lease_promise ≤ max_election_timeout`; `backoff ≤ max_backoff`; the rate in `(0, 3.6e6]`;
/// the detector's own rules.
///
/// The leader's side of the promise is [`LeaseConfig::promise`](super::LeaseConfig::promise),
/// which must not exceed every follower's `lease_promise`.
///
/// ```
/// use accrual::election::LeaderWatchConfig;
/// use accrual::{ConfigError, Nanos};
///
/// let cfg = LeaderWatchConfig { lease_promise: Nanos::from_secs(2), ..Default::default() };
/// assert!(matches!(
///     cfg.validate(),
///     Err(ConfigError::InvertedDurations { lower: "election.lease_promise", .. })
/// ));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct LeaderWatchConfig {
    /// The detector that learns the leader's heartbeats.
    pub detector: AdaptiveConfig,
    /// The rate of elections of a live leader, per hour, that sets the detector's threshold
    /// ([`Detector::threshold_for_rate`]).
    pub spurious_elections_per_hour: f64,
    /// After each leader heartbeat, how long the follower promises not to vote.
    pub lease_promise: Nanos,
    /// The latest a campaign starts after the last heartbeat (or the watch's creation).
    pub max_election_timeout: Nanos,
    /// The largest random delay added to the instant of a campaign.
    pub jitter: Nanos,
    /// The back-off after the first failed campaign; it doubles with each further failure.
    pub backoff: Nanos,
    /// The longest back-off.
    pub max_backoff: Nanos,
}

impl Default for LeaderWatchConfig {
    fn default() -> Self {
        LeaderWatchConfig {
            detector: AdaptiveConfig {
                first_interval: Nanos::from_millis(50),
                ..AdaptiveConfig::default()
            },
            spurious_elections_per_hour: 0.1,
            lease_promise: Nanos::from_millis(150),
            max_election_timeout: Nanos::from_secs(1),
            jitter: Nanos::from_millis(150),
            backoff: Nanos::from_millis(50),
            max_backoff: Nanos::from_secs(1),
        }
    }
}

impl LeaderWatchConfig {
    /// Checks every rule; [`LeaderWatch::new`] calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.detector.validate()?;
        check_positive(
            "election.spurious_elections_per_hour",
            self.spurious_elections_per_hour,
        )?;
        check_range(
            "election.spurious_elections_per_hour",
            self.spurious_elections_per_hour,
            0.0,
            MAX_ELECTIONS_PER_HOUR,
        )?;
        check_positive_duration("election.lease_promise", self.lease_promise)?;
        check_positive_duration("election.max_election_timeout", self.max_election_timeout)?;
        check_positive_duration("election.jitter", self.jitter)?;
        check_positive_duration("election.backoff", self.backoff)?;
        check_positive_duration("election.max_backoff", self.max_backoff)?;
        check_bounded("election.max_backoff", self.max_backoff)?;
        check_duration_order(
            ("election.lease_promise", self.lease_promise),
            ("election.max_election_timeout", self.max_election_timeout),
        )?;
        check_duration_order(
            ("election.backoff", self.backoff),
            ("election.max_backoff", self.max_backoff),
        )
    }
}

/// What a [`LeaderWatch`] made of a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Heard {
    /// From the leader it already followed, in the same term.
    Accepted,
    /// From a new leader, or in a newer term: the detector starts afresh.
    NewLeader,
    /// From a term older than one already seen: ignored (no promise, no learning).
    StaleTerm,
}

/// A follower's view of its leader: a failure detector ([`Adaptive`]) on the leader's
/// heartbeats, the follower's promise not to vote while the leader's [`Lease`](super::Lease)
/// may be held, and the randomized instant at which to campaign.
///
/// # The promise
///
/// After every heartbeat it accepts, the follower promises not to vote, for anyone and for
/// itself, for [`lease_promise`](LeaderWatchConfig::lease_promise) on its own clock:
/// [`may_vote`](Self::may_vote) is false until then. This is what lets a leader hold a lease
/// without asking anyone: a quorum that acknowledged its heartbeat will not elect another
/// leader before the lease runs out. Before any heartbeat there is no promise.
///
/// A process that restarts forgets its promises: build its watch with
/// [`restarted`](Self::restarted), which makes one from the restart, in case it had
/// acknowledged a heartbeat just before it went down.
///
/// # When to campaign
///
/// [`election_at`](Self::election_at) is an instant on the follower's clock:
///
/// * never before the promise's end;
/// * never after the last heartbeat (or the watch's creation) plus
///   [`max_election_timeout`](LeaderWatchConfig::max_election_timeout), the cap, until a
///   campaign has started since the last heartbeat;
/// * in between, the detector's deadline at the threshold that means
///   [`spurious_elections_per_hour`](LeaderWatchConfig::spurious_elections_per_hour) (before
///   any heartbeat, the promise's end), plus a random jitter of up to
///   [`jitter`](LeaderWatchConfig::jitter). The deadline is first held to at most the cap
///   minus the jitter, so that the jitter still spreads the followers of a leader whose
///   deadline lies beyond the cap; the sum is then clamped to the promise's end and the cap.
///
/// # Back-off
///
/// The host calls [`campaign_started`](Self::campaign_started) when it campaigns and
/// [`campaign_failed`](Self::campaign_failed) when a campaign ends without a leader. After `n`
/// failed campaigns with no leader heartbeat since, `election_at` is at least the last
/// campaign's start plus `min(backoff · 2^(n−1), max_backoff)`, plus the same jitter; while a
/// campaign runs, it is the instant to give it up and start the next, as if it had failed
/// (`n + 1`). The back-off may pass the cap. A leader heartbeat ends it.
///
/// A new term or a new leader starts a fresh detector, so that the silence between two leaders
/// is never learned as a pause of either. The watch never reads a clock and a heartbeat never
/// allocates.
///
/// ```
/// use accrual::Nanos;
/// use accrual::election::{Heard, LeaderWatch, LeaderWatchConfig};
///
/// let cfg = LeaderWatchConfig::default();
/// let mut watch = LeaderWatch::new(cfg, Nanos::ZERO)?;
/// assert!(watch.may_vote(Nanos::ZERO)); // no leader yet, no promise
///
/// let ms = Nanos::from_millis;
/// assert_eq!(watch.heartbeat(ms(10), 1, 7), Heard::NewLeader);
/// for i in 1..100 {
///     assert_eq!(watch.heartbeat(ms(10 + 50 * i), 1, 7), Heard::Accepted);
/// }
/// let last = ms(10 + 50 * 99);
/// // The promise: no vote within 150 ms of the last heartbeat.
/// assert!(!watch.may_vote(last + ms(149)));
/// assert!(watch.may_vote(last + ms(150)));
/// // A campaign no earlier than the promise's end, no later than the cap.
/// for random in [0, 1 << 20, u64::MAX] {
///     let at = watch.election_at(random);
///     assert!(at >= last + ms(150) && at <= last + Nanos::from_secs(1));
/// }
/// // A heartbeat of an older term is ignored.
/// assert_eq!(watch.heartbeat(last + ms(50), 0, 3), Heard::StaleTerm);
/// # Ok::<(), accrual::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LeaderWatch {
    detector: Adaptive,
    config: LeaderWatchConfig,
    created: Nanos,
    term: u64,
    leader: Option<u64>,
    last_heartbeat: Option<Nanos>,
    /// The start of the latest promise: the latest heartbeat or the restart.
    promised_at: Option<Nanos>,
    failed: u32,
    campaign: Option<Campaign>,
}

/// The latest campaign since the last leader heartbeat.
#[derive(Debug, Clone, Copy)]
struct Campaign {
    started: Nanos,
    running: bool,
}

impl LeaderWatch {
    /// A watch created at `now` (on the follower's clock), with no leader and no promise.
    pub fn new(config: LeaderWatchConfig, now: Nanos) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(LeaderWatch {
            detector: Adaptive::new(config.detector)?,
            config,
            created: now,
            term: 0,
            leader: None,
            last_heartbeat: None,
            promised_at: None,
            failed: 0,
            campaign: None,
        })
    }

    /// A watch for a process that restarted at `now`: as [`new`](Self::new), but promising
    /// not to vote until `now + lease_promise`, since the process may have acknowledged a
    /// leader's heartbeat just before it went down and forgotten it.
    ///
    /// ```
    /// use accrual::Nanos;
    /// use accrual::election::{LeaderWatch, LeaderWatchConfig};
    ///
    /// let now = Nanos::from_secs(5);
    /// let watch = LeaderWatch::restarted(LeaderWatchConfig::default(), now)?;
    /// assert!(!watch.may_vote(now + Nanos::from_millis(100)));
    /// assert!(watch.may_vote(now + Nanos::from_millis(150)));
    /// assert!(watch.election_at(0) >= now + Nanos::from_millis(150));
    /// # Ok::<(), accrual::ConfigError>(())
    /// ```
    pub fn restarted(config: LeaderWatchConfig, now: Nanos) -> Result<Self, ConfigError> {
        let mut watch = LeaderWatch::new(config, now)?;
        watch.promised_at = Some(now);
        Ok(watch)
    }

    /// Records a heartbeat received at `now` from `leader` in `term`.
    ///
    /// A term older than the newest seen is [`Heard::StaleTerm`] and changes nothing. A newer
    /// term, or another leader, is [`Heard::NewLeader`]: the detector starts afresh. Otherwise
    /// [`Heard::Accepted`]. Either way the promise starts again from `now` (never from an
    /// earlier instant than a previous one), and the back-off ends.
    pub fn heartbeat(&mut self, now: Nanos, term: u64, leader: u64) -> Heard {
        if term < self.term {
            return Heard::StaleTerm;
        }
        let new = term > self.term || self.leader != Some(leader);
        if new {
            self.detector.reset();
            self.term = term;
            self.leader = Some(leader);
        }
        self.detector.heartbeat(now);
        self.last_heartbeat = Some(self.last_heartbeat.map_or(now, |t| t.max(now)));
        self.promised_at = Some(self.promised_at.map_or(now, |t| t.max(now)));
        self.failed = 0;
        self.campaign = None;
        if new {
            Heard::NewLeader
        } else {
            Heard::Accepted
        }
    }

    /// Records that `term` exists without a heartbeat (the follower voted in it, or campaigns
    /// in it): heartbeats of older terms are [`Heard::StaleTerm`] from now on. The leader is
    /// forgotten if the term is newer; the promise and the back-off stand.
    pub fn observe_term(&mut self, term: u64) {
        if term > self.term {
            self.term = term;
            self.leader = None;
        }
    }

    /// Whether the follower may vote at `now`: false until `lease_promise` after the last
    /// accepted heartbeat (or the restart, for a [`restarted`](Self::restarted) watch), true
    /// before any.
    pub fn may_vote(&self, now: Nanos) -> bool {
        self.promise_end().is_none_or(|end| now >= end)
    }

    /// The first instant at which [`may_vote`](Self::may_vote) is true, if a promise was made.
    pub fn promise_end(&self) -> Option<Nanos> {
        self.promised_at
            .map(|t| t.saturating_add(self.config.lease_promise))
    }

    /// The instant to campaign at, randomized by `random` (any `u64` from the host's own
    /// random number generator). See [When to campaign](Self#when-to-campaign) and
    /// [Back-off](Self#back-off).
    pub fn election_at(&self, random: u64) -> Nanos {
        let jitter = Nanos(match self.config.jitter.0.checked_add(1) {
            Some(span) => random % span,
            None => random,
        });
        let anchor = self.anchor();
        let earliest = self.promise_end().map_or(anchor, |end| end.min(self.cap()));
        let cap = self.cap();
        let deadline = self
            .detector
            .threshold_for_rate(self.config.spurious_elections_per_hour)
            .and_then(|phi| self.detector.deadline(phi))
            .unwrap_or(earliest);
        let latest_base = (cap - self.config.jitter).max(earliest);
        let mut at = (deadline.min(latest_base) + jitter).clamp(earliest, cap);
        if let Some(campaign) = self.campaign {
            let failures = if campaign.running {
                self.failed.saturating_add(1)
            } else {
                self.failed
            };
            if failures > 0 {
                at = at.max(campaign.started + self.backoff(failures) + jitter);
            }
        }
        at
    }

    /// The back-off after `failures ≥ 1` failed campaigns: `backoff · 2^(failures−1)`, at most
    /// `max_backoff`.
    fn backoff(&self, failures: u32) -> Nanos {
        let doubling = 2u64.saturating_pow(failures.saturating_sub(1));
        self.config
            .backoff
            .saturating_mul(doubling)
            .min(self.config.max_backoff)
    }

    /// The last heartbeat, or the creation (whichever is later).
    fn anchor(&self) -> Nanos {
        self.last_heartbeat
            .map_or(self.created, |t| t.max(self.created))
    }

    /// The latest instant to campaign at before any campaign: the anchor plus
    /// `max_election_timeout`.
    fn cap(&self) -> Nanos {
        self.anchor() + self.config.max_election_timeout
    }

    /// Records that the follower started a campaign at `now` (and voted for itself, if
    /// [`may_vote`](Self::may_vote)).
    pub fn campaign_started(&mut self, now: Nanos) {
        self.campaign = Some(Campaign {
            started: now,
            running: true,
        });
    }

    /// Records that a campaign ended at `now` without a leader: the next one backs off. A
    /// failure with no campaign started counts as one started at `now`.
    pub fn campaign_failed(&mut self, now: Nanos) {
        let started = self.campaign.map_or(now, |c| c.started);
        self.campaign = Some(Campaign {
            started,
            running: false,
        });
        self.failed = self.failed.saturating_add(1);
    }

    /// Failed campaigns since the last leader heartbeat.
    pub fn failed_campaigns(&self) -> u32 {
        self.failed
    }

    /// The newest term seen (in a heartbeat or through [`observe_term`](Self::observe_term)).
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The leader of [`term`](Self::term), once a heartbeat of that term came.
    pub fn leader(&self) -> Option<u64> {
        self.leader
    }

    /// The latest accepted heartbeat.
    pub fn last_heartbeat(&self) -> Option<Nanos> {
        self.last_heartbeat
    }

    /// The detector of the current leader's heartbeats.
    pub fn detector(&self) -> &Adaptive {
        &self.detector
    }

    /// The configuration.
    pub fn config(&self) -> &LeaderWatchConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Nanos {
        Nanos::from_millis(n)
    }

    fn watch() -> LeaderWatch {
        LeaderWatch::new(LeaderWatchConfig::default(), Nanos::ZERO).unwrap()
    }

    /// A stream of pseudo-random numbers for `election_at`.
    fn randoms() -> impl Iterator<Item = u64> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        std::iter::repeat_with(move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        })
    }

    #[test]
    fn every_rule_names_its_field() {
        let d = LeaderWatchConfig::default();
        assert_eq!(d.validate(), Ok(()));
        let zero = |f: fn(&mut LeaderWatchConfig)| {
            let mut c = d;
            f(&mut c);
            c.validate()
        };
        for (field, result) in [
            (
                "election.lease_promise",
                zero(|c| c.lease_promise = Nanos::ZERO),
            ),
            (
                "election.max_election_timeout",
                zero(|c| c.max_election_timeout = Nanos::ZERO),
            ),
            ("election.jitter", zero(|c| c.jitter = Nanos::ZERO)),
            ("election.backoff", zero(|c| c.backoff = Nanos::ZERO)),
            (
                "election.max_backoff",
                zero(|c| c.max_backoff = Nanos::ZERO),
            ),
        ] {
            assert_eq!(result, Err(ConfigError::ZeroDuration { field }));
        }
        for rate in [0.0, -1.0] {
            let c = LeaderWatchConfig {
                spurious_elections_per_hour: rate,
                ..d
            };
            assert_eq!(
                c.validate(),
                Err(ConfigError::NotPositive {
                    field: "election.spurious_elections_per_hour",
                    value: rate
                })
            );
        }
        let c = LeaderWatchConfig {
            spurious_elections_per_hour: f64::NAN,
            ..d
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::NotFinite {
                field: "election.spurious_elections_per_hour",
                ..
            })
        ));
        let c = LeaderWatchConfig {
            spurious_elections_per_hour: 3.6e6 + 1.0,
            ..d
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::OutOfRange {
                field: "election.spurious_elections_per_hour",
                ..
            })
        ));
        let c = LeaderWatchConfig {
            spurious_elections_per_hour: 3.6e6,
            ..d
        };
        assert_eq!(c.validate(), Ok(()));
        let c = LeaderWatchConfig {
            backoff: ms(2_000),
            ..d
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::InvertedDurations {
                lower: "election.backoff",
                upper: "election.max_backoff",
                ..
            })
        ));
        let c = LeaderWatchConfig {
            lease_promise: Nanos::MAX,
            max_election_timeout: Nanos::MAX,
            ..d
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::DurationTooLarge {
                field: "election.lease_promise",
                ..
            })
        ));
        let c = LeaderWatchConfig {
            detector: AdaptiveConfig {
                memory: Nanos::ZERO,
                ..d.detector
            },
            ..d
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::ZeroDuration {
                field: "adaptive.memory"
            })
        );
        assert!(LeaderWatch::new(c, Nanos::ZERO).is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn configurations_read_human_durations_and_refuse_unknown_fields() {
        let cfg: LeaderWatchConfig = serde_json::from_str(
            r#"{ "lease_promise": "200ms", "detector": { "first_interval": "20ms" } }"#,
        )
        .unwrap();
        assert_eq!(cfg.lease_promise, ms(200));
        assert_eq!(cfg.detector.first_interval, ms(20));
        assert_eq!(cfg.max_election_timeout, Nanos::from_secs(1));
        assert!(serde_json::from_str::<LeaderWatchConfig>(r#"{ "promise": "1s" }"#).is_err());
        let lease: super::super::LeaseConfig =
            serde_json::from_str(r#"{ "margin": "2ms", "max_drift": 0.0005 }"#).unwrap();
        assert_eq!(lease.margin, ms(2));
        assert_eq!(lease.promise, ms(150));
        let text = serde_json::to_string(&cfg).unwrap();
        assert_eq!(
            serde_json::from_str::<LeaderWatchConfig>(&text).unwrap(),
            cfg
        );
    }

    #[test]
    fn the_promise_runs_from_the_latest_heartbeat() {
        let mut w = watch();
        assert!(w.may_vote(Nanos::ZERO));
        assert_eq!(w.promise_end(), None);
        w.heartbeat(ms(100), 1, 1);
        assert!(!w.may_vote(ms(100)));
        assert!(!w.may_vote(ms(249)));
        assert!(w.may_vote(ms(250)));
        // A heartbeat reported with an earlier instant never shortens the promise.
        w.heartbeat(ms(200), 1, 1);
        w.heartbeat(ms(150), 1, 1);
        assert_eq!(w.promise_end(), Some(ms(350)));
        assert!(!w.may_vote(ms(349)));
        // A stale term makes no promise.
        assert_eq!(w.heartbeat(ms(300), 0, 2), Heard::StaleTerm);
        assert!(w.may_vote(ms(350)));
    }

    #[test]
    fn a_new_term_or_leader_starts_a_fresh_detector() {
        let mut w = watch();
        assert_eq!(w.heartbeat(ms(0), 3, 1), Heard::NewLeader);
        for i in 1..50 {
            assert_eq!(w.heartbeat(ms(50 * i), 3, 1), Heard::Accepted);
        }
        assert_eq!(w.detector().arrivals().accepted, 50);
        // Another leader in the same term (a confused host): fresh.
        assert_eq!(w.heartbeat(ms(2_600), 3, 2), Heard::NewLeader);
        assert_eq!(w.detector().arrivals().accepted, 1);
        assert_eq!(w.leader(), Some(2));
        // A newer term, the same leader: fresh; the gap is not learned.
        assert_eq!(w.heartbeat(ms(9_000), 4, 2), Heard::NewLeader);
        assert_eq!(w.detector().arrivals().accepted, 1);
        assert_eq!(w.term(), 4);
        assert_eq!(w.heartbeat(ms(9_000), 3, 1), Heard::StaleTerm);
        // A term observed through a vote: older heartbeats are stale, the leader unknown.
        w.observe_term(6);
        assert_eq!(w.leader(), None);
        assert_eq!(w.heartbeat(ms(9_050), 4, 2), Heard::StaleTerm);
        assert_eq!(w.heartbeat(ms(9_100), 6, 2), Heard::NewLeader);
        w.observe_term(5);
        assert_eq!(w.term(), 6);
    }

    #[test]
    fn election_instants_lie_between_the_promise_and_the_cap() {
        let mut w = watch();
        let promise = ms(150);
        let cap = Nanos::from_secs(1);
        // Before any heartbeat: from the creation, spread over the jitter.
        let mut spread = (Nanos::MAX, Nanos::ZERO);
        for r in randoms().take(1_000) {
            let at = w.election_at(r);
            assert!(at <= ms(150), "{at}");
            spread = (spread.0.min(at), spread.1.max(at));
        }
        assert!(spread.1 - spread.0 > ms(100), "{spread:?}");
        // A cold detector's deadline is beyond the cap: the jitter still spreads the instants
        // below it.
        w.heartbeat(ms(1_000), 1, 1);
        let mut spread = (Nanos::MAX, Nanos::ZERO);
        for r in randoms().take(1_000) {
            let at = w.election_at(r);
            assert!(at >= ms(1_000) + promise && at <= ms(1_000) + cap, "{at}");
            spread = (spread.0.min(at), spread.1.max(at));
        }
        assert!(spread.1 - spread.0 > ms(100), "{spread:?}");
        // Extremes of the random number.
        for r in [0, 1, u64::MAX] {
            let at = w.election_at(r);
            assert!(at >= ms(1_150) && at <= ms(2_000));
        }
    }

    #[test]
    fn a_learned_deadline_within_the_bounds_is_used() {
        // A small prior: the deadline is the detector's, well below the cap.
        let cfg = LeaderWatchConfig {
            detector: AdaptiveConfig {
                first_interval: ms(50),
                prior_horizon: Nanos::ZERO,
                ..AdaptiveConfig::default()
            },
            ..LeaderWatchConfig::default()
        };
        let mut w = LeaderWatch::new(cfg, Nanos::ZERO).unwrap();
        // 50 ms heartbeats, and one in 40 comes 250 ms late.
        let mut t = Nanos::ZERO;
        for i in 0..4_000u64 {
            t += ms(if i % 40 == 39 { 300 } else { 50 });
            w.heartbeat(t, 1, 1);
        }
        let phi = w.detector().threshold_for_rate(0.1).unwrap();
        let deadline = w.detector().deadline(phi).unwrap();
        assert!(
            deadline > t + ms(150) && deadline < t + ms(850),
            "{}",
            deadline - t
        );
        assert_eq!(w.election_at(0), deadline);
        assert_eq!(w.election_at(150_000_000), deadline + ms(150));
    }

    #[test]
    fn failed_campaigns_back_off_exponentially_until_a_heartbeat() {
        let mut w = watch();
        w.heartbeat(ms(0), 1, 1);
        let first = w.election_at(0);
        w.campaign_started(first);
        // While it runs: the instant to give it up, as if it had failed.
        assert!(w.election_at(0) >= first + ms(50));
        let mut start = first;
        for n in 1..=8u32 {
            w.campaign_failed(start + ms(10));
            assert_eq!(w.failed_campaigns(), n);
            let step = ms(50 * (1 << (n - 1))).min(Nanos::from_secs(1));
            for r in randoms().take(100) {
                let at = w.election_at(r);
                assert!(at >= start + step, "n = {n}: {at}");
                assert!(at <= start + step + ms(150), "n = {n}: {at}");
            }
            start = w.election_at(n.into());
            w.campaign_started(start);
        }
        // The back-off passed the cap of the last heartbeat.
        assert!(w.election_at(0) > Nanos::from_secs(1));
        w.heartbeat(start + ms(20), 2, 2);
        assert_eq!(w.failed_campaigns(), 0);
        let at = w.election_at(0);
        assert!(at <= start + ms(20) + Nanos::from_secs(1));
    }

    #[test]
    fn a_failure_without_a_start_and_huge_counts_do_not_panic() {
        let mut w = watch();
        w.campaign_failed(ms(5));
        assert!(w.election_at(0) >= ms(55));
        for _ in 0..100 {
            w.campaign_failed(ms(5));
        }
        assert_eq!(w.election_at(0), ms(1_005));
        w.failed = u32::MAX;
        w.campaign_started(Nanos::MAX - ms(1));
        assert_eq!(w.election_at(u64::MAX), Nanos::MAX);
        w.heartbeat(Nanos::MAX, 1, 1);
        assert_eq!(w.election_at(7), Nanos::MAX);
        assert!(!w.may_vote(Nanos::MAX - ms(1)));
        assert!(w.may_vote(Nanos::MAX));
    }
}
