//! Evaluation: stall detection, the collective guard and the ejection cap.

use std::hash::Hash;
use std::sync::atomic::Ordering;

use crate::detector::Detector;
use crate::monitor::peer::{Slot, next_level, severity};
use crate::monitor::requests::outliers;
use crate::monitor::{Monitor, MonitorConfig};
use crate::suspicion::{Level, Transition};
use crate::time::{Clock, Nanos};

/// A stall of the monitor itself, noticed by a late tick: see [`Monitor::tick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stall {
    /// The previous tick: the monitor was last seen running then.
    pub last_tick: Nanos,
    /// The late tick that noticed the stall.
    pub resumed: Nanos,
    /// How much later than its schedule the tick ran.
    pub late: Nanos,
}

impl Stall {
    /// The time between the two ticks: at most this long, the monitor was absent.
    ///
    /// ```
    /// use accrual::monitor::Stall;
    /// use accrual::Nanos;
    ///
    /// let s = Stall { last_tick: Nanos::from_secs(10), resumed: Nanos::from_secs(14), late: Nanos::from_millis(3_900) };
    /// assert_eq!(s.duration(), Nanos::from_secs(4));
    /// ```
    pub fn duration(&self) -> Nanos {
        self.resumed - self.last_tick
    }
}

/// Many peers turning suspect in one tick: a fault of the monitor's host or its network
/// rather than many independent deaths. See [`MonitorConfig::collective_fraction`](
/// crate::monitor::MonitorConfig::collective_fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Collective {
    /// The peers that would have turned suspect in this tick.
    pub suspects: usize,
    /// The peers watched.
    pub peers: usize,
    /// The first of the consecutive ticks that found this fault.
    pub since: Nanos,
    /// Whether their transitions were held back (false once the fault has lasted
    /// [`collective_hold`](crate::monitor::MonitorConfig::collective_hold)).
    pub held: bool,
}

/// What one [`tick`](Monitor::tick) found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<K> {
    /// The instant evaluated.
    pub at: Nanos,
    /// The level changes applied, by peer.
    pub transitions: Vec<(K, Transition)>,
    /// The stall this tick noticed, if it ran late.
    pub stall: Option<Stall>,
    /// While new suspicions are held back after a stall: until when.
    pub holding_until: Option<Nanos>,
    /// A collective fault, if this tick found one.
    pub collective: Option<Collective>,
    /// Transitions to a more severe level held back, by a stall or a collective fault.
    pub held: usize,
    /// Peers that would have been `Dead` but for the ejection cap: they are kept at
    /// `Suspect`, failing open.
    pub capped: Vec<K>,
    /// Peers removed for having been silent longer than
    /// [`expire_after`](crate::monitor::MonitorConfig::expire_after).
    pub expired: Vec<K>,
}

impl<K> Evaluation<K> {
    /// Whether the tick found anything wrong with the monitor itself (a stall, a hold after
    /// one, or a collective fault) or ran into the ejection cap.
    ///
    /// ```
    /// use accrual::monitor::{Monitor, MonitorConfig};
    /// use accrual::{ManualClock, Nanos};
    ///
    /// let clock = ManualClock::default();
    /// let monitor: Monitor<u8, _> = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    /// assert!(!monitor.tick(monitor.now()).degraded());
    /// clock.advance(Nanos::from_secs(5));
    /// assert!(monitor.tick(monitor.now()).degraded());
    /// ```
    pub fn degraded(&self) -> bool {
        self.stall.is_some()
            || self.holding_until.is_some()
            || self.collective.is_some()
            || !self.capped.is_empty()
    }
}

/// What the ticks remember between them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TickState {
    pub(crate) last_tick: Option<Nanos>,
    pub(crate) hold_until: Option<Nanos>,
    pub(crate) collective_since: Option<Nanos>,
    /// When the current interval of request outcomes began.
    pub(crate) interval_start: Option<Nanos>,
}

/// The level `slot` moves to from its judged φ: the suspicion rules', or `Suspect` while its
/// request outcomes keep it ejected or on probation (heartbeats can only make it worse).
fn judged_level(cfg: &MonitorConfig, slot: &Slot, phi: f64) -> Level {
    let to = next_level(
        &cfg.suspicion,
        slot.level,
        phi,
        slot.detector.arrivals().accepted,
    );
    let out = slot.rtt.as_ref().is_some_and(|r| r.requests.out());
    if out && severity(to) < severity(Level::Suspect) {
        Level::Suspect
    } else {
        to
    }
}

/// A level change found by the first pass.
struct Proposal<K> {
    shard: usize,
    key: K,
    from: Level,
    to: Level,
    phi: f64,
    last: Option<Nanos>,
}

impl<K: Hash + Eq + Clone, C: Clock> Monitor<K, C> {
    /// Evaluates every peer at `now` (on the monitor's time line, [`Monitor::now`]) and returns
    /// what changed. Call it every [`tick_interval`](crate::monitor::MonitorConfig::tick_interval);
    /// ticks are serialised (one at a time), and heartbeats and queries from other threads go
    /// on meanwhile: a shard is locked only while its peers are read or one peer is changed.
    ///
    /// In order:
    ///
    /// 1. A tick later than the previous one plus the interval by more than
    ///    [`stall_threshold`](crate::monitor::MonitorConfig::stall_threshold) reports a
    ///    [`Stall`] and holds back new suspicions until `now +`
    ///    [`stall_grace`](crate::monitor::MonitorConfig::stall_grace).
    /// 2. Peers silent longer than
    ///    [`expire_after`](crate::monitor::MonitorConfig::expire_after) are removed (not while
    ///    holding back).
    /// 3. Every peer's next level is found from its φ at `now` by the
    ///    [suspicion rules](crate::Suspicion).
    /// 4. If enough of them would turn suspect at once, a [`Collective`] fault holds them back.
    /// 5. Recoveries apply first, then suspicions, then deaths, most certain first, each
    ///    checked against the ejection cap.
    ///
    /// ```
    /// use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
    /// use accrual::{FixedConfig, Level, ManualClock, Nanos};
    ///
    /// let cfg = MonitorConfig {
    ///     detector: DetectorConfig::Fixed(FixedConfig { timeout: Nanos::from_secs(1) }),
    ///     ..Default::default()
    /// };
    /// let clock = ManualClock::default();
    /// let monitor = Monitor::with_clock(cfg, clock.clone()).unwrap();
    /// let tick = || monitor.tick(monitor.now());
    /// monitor.heartbeat(&"a").unwrap();
    /// tick();
    /// // The monitor is stopped for 30 s: its next tick is late, and the peer's heartbeats,
    /// // still queued, are read after it.
    /// clock.advance(Nanos::from_secs(30));
    /// let e = tick();
    /// assert_eq!(e.stall.unwrap().duration(), Nanos::from_secs(30));
    /// assert!(e.transitions.is_empty() && e.held == 1);
    /// monitor.heartbeat(&"a").unwrap();
    /// clock.advance(Nanos::from_millis(100));
    /// assert!(tick().transitions.is_empty());
    /// assert_eq!(monitor.level(&"a"), Some(Level::Alive));
    /// ```
    pub fn tick(&self, now: Nanos) -> Evaluation<K> {
        let cfg = &self.config;
        let mut ts = self.ticks.lock();
        let mut eval = Evaluation {
            at: now,
            transitions: Vec::new(),
            stall: None,
            holding_until: None,
            collective: None,
            held: 0,
            capped: Vec::new(),
            expired: Vec::new(),
        };

        // 1. Was the monitor itself absent?
        if let Some(last) = ts.last_tick {
            let late = now - (last + cfg.tick_interval);
            if late > cfg.stall_threshold {
                eval.stall = Some(Stall {
                    last_tick: last,
                    resumed: now,
                    late,
                });
                let until = now + cfg.stall_grace;
                ts.hold_until = Some(ts.hold_until.map_or(until, |h| h.max(until)));
            }
        }
        ts.last_tick = Some(ts.last_tick.map_or(now, |last| last.max(now)));
        self.absence.ticked(
            ts.last_tick.unwrap_or(now),
            eval.stall.as_ref().map(|s| (s.last_tick, s.resumed)),
        );
        let holding = ts.hold_until.is_some_and(|h| now < h);
        if holding {
            eval.holding_until = ts.hold_until;
        }

        // 2 and 3. One pass over every peer, under one shard's read lock at a time.
        let mut proposals: Vec<Proposal<K>> = Vec::new();
        let mut expired: Vec<(usize, K)> = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            let s = shard.0.read();
            for (key, slot) in s.iter() {
                if !holding
                    && let (Some(ttl), Some(heard)) = (cfg.expire_after, slot.heard())
                    && now - heard > ttl
                {
                    expired.push((i, key.clone()));
                    continue;
                }
                let d = &slot.detector;
                let phi = cfg.judged_phi(d, now);
                let to = judged_level(cfg, slot, phi);
                if to != slot.level {
                    proposals.push(Proposal {
                        shard: i,
                        key: key.clone(),
                        from: slot.level,
                        to,
                        phi,
                        last: d.last_arrival(),
                    });
                }
            }
        }
        for (i, key) in expired {
            let h = self.hash(&key);
            let mut s = self.shards[i].0.write();
            let still = s
                .get(h, &key)
                .and_then(|slot| slot.heard())
                .zip(cfg.expire_after)
                .is_some_and(|(heard, ttl)| now - heard > ttl);
            if still && self.remove_locked(&mut s, h, &key).is_some() {
                eval.expired.push(key);
            }
        }

        // 4. Many peers turning suspect at once is the monitor's fault or the network's.
        let peers = self.len();
        let hold_worse = if holding {
            ts.collective_since = None;
            true
        } else {
            let newly = proposals
                .iter()
                .filter(|p| severity(p.from) == 0 && severity(p.to) > 0)
                .count();
            if newly >= cfg.collective_min && newly as f64 >= cfg.collective_fraction * peers as f64
            {
                let since = *ts.collective_since.get_or_insert(now);
                let held = now - since < cfg.collective_hold;
                eval.collective = Some(Collective {
                    suspects: newly,
                    peers,
                    since,
                    held,
                });
                held
            } else {
                ts.collective_since = None;
                false
            }
        };

        // 5. Recoveries, then suspicions, then deaths, the most certain first.
        proposals.sort_by(|a, b| {
            let rank = |p: &Proposal<K>| match (severity(p.to) > severity(p.from), p.to) {
                (false, _) => 0,
                (true, Level::Dead) => 2,
                (true, _) => 1,
            };
            rank(a)
                .cmp(&rank(b))
                .then(b.phi.total_cmp(&a.phi))
                .then(a.last.cmp(&b.last))
        });
        for p in proposals {
            if hold_worse && severity(p.to) > severity(p.from) {
                eval.held += 1;
                continue;
            }
            self.apply(p, now, hold_worse, &mut eval);
        }

        // 6. Requests: ejections that ran their time go on probation, success rates are
        //    judged once an interval, and every backend's answers are refreshed.
        self.tick_requests(now, &mut ts);
        eval
    }

    /// Step 6 of [`tick`](Self::tick).
    fn tick_requests(&self, now: Nanos, ts: &mut TickState) {
        let cfg = &self.config.ejection;
        let judge = match ts.interval_start {
            Some(start) => now.saturating_sub(start) >= cfg.interval,
            None => {
                ts.interval_start = Some(now);
                false
            }
        };
        // (shard, key, successes, failures) of the admitted backends, when judging.
        let mut rates: Vec<(usize, K, u64, u64)> = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            let mut s = shard.0.write();
            for (key, slot) in s.iter_mut() {
                let last_heartbeat = slot.detector.last_arrival();
                let Some(rtt) = slot.rtt.as_mut() else {
                    continue;
                };
                rtt.requests.advance(now, last_heartbeat);
                rtt.publish(now, true);
                if judge {
                    let r = &rtt.requests;
                    if !r.out() && slot.level != Level::Dead {
                        rates.push((i, key.clone(), r.successes, r.failures));
                    }
                    rtt.requests.next_interval(now, cfg);
                }
            }
        }
        if !judge {
            return;
        }
        ts.interval_start = Some(now);
        let counts: Vec<(u64, u64)> = rates.iter().map(|r| (r.2, r.3)).collect();
        for i in outliers(&counts, cfg) {
            let (shard, key) = (rates[i].0, &rates[i].1);
            if !self.room_to_eject() {
                break;
            }
            let h = self.hash(key);
            let mut s = self.shards[shard].0.write();
            if let Some(rtt) = s.get_mut(h, key).and_then(|slot| slot.rtt.as_mut())
                && !rtt.requests.out()
            {
                rtt.requests.eject(now, cfg);
                self.ejected.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Applies one proposal under its shard's write lock, judging the peer again: a heartbeat
    /// may have arrived since the first pass.
    fn apply(&self, p: Proposal<K>, now: Nanos, hold_worse: bool, eval: &mut Evaluation<K>) {
        let cfg = &self.config;
        let h = self.hash(&p.key);
        let mut s = self.shards[p.shard].0.write();
        let Some(slot) = s.get_mut(h, &p.key) else {
            return;
        };
        let from = slot.level;
        let phi = cfg.judged_phi(&slot.detector, now);
        let mut to = judged_level(cfg, slot, phi);
        if to == from {
            return;
        }
        if hold_worse && severity(to) > severity(from) {
            eval.held += 1;
            return;
        }
        if to == Level::Dead {
            let dead = self.dead.load(Ordering::Acquire);
            let peers = self.len();
            if (dead + 1) as f64 > cfg.max_dead_fraction * peers as f64 {
                eval.capped.push(p.key.clone());
                to = Level::Suspect;
                if to == from {
                    return;
                }
            }
        }
        if from == Level::Dead {
            self.dead.fetch_sub(1, Ordering::AcqRel);
        }
        if to == Level::Dead {
            self.dead.fetch_add(1, Ordering::AcqRel);
        }
        slot.level = to;
        slot.since = now;
        eval.transitions.push((
            p.key,
            Transition {
                from,
                to,
                at: now,
                phi,
            },
        ));
    }
}
