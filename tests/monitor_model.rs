//! Model-based test: random sequences of operations applied to the monitor and to a simple,
//! single-threaded reference model (one `HashMap`, one real `Suspicion` state machine and one
//! detector per peer, the monitor's rules written out plainly) give the same answers.

use std::collections::HashMap;

use accrual::monitor::{
    Collective, DetectorConfig, Evaluation, Heartbeat, Monitor, MonitorConfig, MonitorError, Stall,
};
use accrual::timeout::TimeoutEstimator;
use accrual::{
    Adaptive, AdaptiveConfig, Arrival, Chen, ChenConfig, Clock, Detector, Fixed, FixedConfig,
    HistogramConfig, Level, ManualClock, Nanos, PhiExponential, PhiExponentialConfig, PhiNormal,
    PhiNormalConfig, Suspicion, SuspicionConfig, TimeoutConfig, Transition,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// The clock moves this many ms.
    Advance(u64),
    /// A heartbeat now, maybe with a sequence number.
    Beat(u8, Option<u64>),
    /// A heartbeat received this many ms ago (less half a microsecond, so that no two
    /// arrivals of different peers ever coincide).
    BeatAt(u8, u64),
    /// Heartbeats through `heartbeat_batch`, each received this many ms ago (less 501 + peer
    /// ns), maybe with a sequence number: applied to the model one by one, in order.
    Batch(Vec<(u8, u64, Option<u64>)>),
    Rtt(u8, u64),
    Timeout(u8, u64),
    Remove(u8),
    Tick,
    Query(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let peer = 0u8..10;
    prop_oneof![
        4 => prop_oneof![6 => 0u64..150, 1 => 150u64..1_500, 1 => 1_500u64..6_000].prop_map(Op::Advance),
        6 => (peer.clone(), proptest::option::of(0u64..40)).prop_map(|(p, s)| Op::Beat(p, s)),
        1 => (peer.clone(), 0u64..500).prop_map(|(p, b)| Op::BeatAt(p, b)),
        // Short batches are recorded one by one; from 64 on they are grouped by shard.
        1 => beats(0..8).prop_map(Op::Batch),
        1 => beats(64..160).prop_map(Op::Batch),
        1 => (peer.clone(), 1u64..300).prop_map(|(p, ms)| Op::Rtt(p, ms)),
        1 => (peer.clone(), 1u64..2_000).prop_map(|(p, ms)| Op::Timeout(p, ms)),
        1 => peer.clone().prop_map(Op::Remove),
        4 => Just(Op::Tick),
        2 => peer.prop_map(Op::Query),
    ]
}

/// `len` heartbeats of a batch: (peer, ms ago, sequence number).
fn beats(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<(u8, u64, Option<u64>)>> {
    proptest::collection::vec((0u8..10, 0u64..300, proptest::option::of(0u64..40)), len)
}

fn config() -> impl Strategy<Value = MonitorConfig> {
    let detector = prop_oneof![
        (100u64..1_500).prop_map(|ms| DetectorConfig::Fixed(FixedConfig {
            timeout: Nanos::from_millis(ms)
        })),
        (1usize..12, 0u64..20).prop_map(|(window, std)| DetectorConfig::PhiNormal(
            PhiNormalConfig {
                window,
                min_std: Nanos::from_millis(std),
                first_interval: Nanos::from_millis(100),
                ..Default::default()
            }
        )),
        (1usize..12).prop_map(
            |window| DetectorConfig::PhiExponential(PhiExponentialConfig {
                window,
                first_interval: Nanos::from_millis(100),
            })
        ),
        (1usize..12, 0u64..300).prop_map(|(window, alpha)| DetectorConfig::Chen(ChenConfig {
            window,
            interval: Nanos::from_millis(100),
            alpha: Nanos::from_millis(alpha),
        })),
        (1u64..600).prop_map(|secs| DetectorConfig::Adaptive(AdaptiveConfig {
            memory: Nanos::from_secs(secs),
            first_interval: Nanos::from_millis(100),
            ..Default::default()
        })),
    ];
    let suspicion = (1u64..3, any::<bool>()).prop_map(|(min_samples, revive)| SuspicionConfig {
        min_samples,
        revive,
        ..Default::default()
    });
    (
        detector,
        suspicion,
        1usize..8,
        1usize..5,
        proptest::option::of(1_000u64..6_000),
        (50u64..500, 0u64..2_000),
        (0.2f64..1.0, 1usize..4, 0u64..3_000),
        0.2f64..1.0,
        prop_oneof![Just(0usize), 1usize..4, Just(1 << 16)],
    )
        .prop_map(
            |(
                detector,
                suspicion,
                max_peers,
                shards,
                expire,
                (stall_ms, grace_ms),
                (fraction, min, hold_ms),
                dead,
                tombstones,
            )| MonitorConfig {
                detector,
                suspicion,
                timeout: TimeoutConfig {
                    histogram: HistogramConfig {
                        sub_windows: 2,
                        sub_window: Nanos::from_secs(5),
                        significant_digits: 1,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                max_peers,
                shards,
                expire_after: expire.map(Nanos::from_millis),
                // Expiries in one tick are remembered in the order of the monitor's shards,
                // which the model cannot know: with expiry, room enough never to forget one.
                tombstones: if expire.is_some() && tombstones < 4 && tombstones > 0 {
                    1 << 16
                } else {
                    tombstones
                },
                tick_interval: Nanos::from_millis(100),
                stall_threshold: Nanos::from_millis(stall_ms),
                stall_grace: Nanos::from_millis(grace_ms),
                collective_fraction: fraction,
                collective_min: min,
                collective_hold: Nanos::from_millis(hold_ms),
                max_dead_fraction: dead,
                mistakes_per_hour: None,
                ejection: Default::default(),
            },
        )
}

struct ModelPeer {
    detector: Box<dyn Detector>,
    suspicion: Suspicion,
    /// The request estimator, when it last heard, and the timeout it published.
    rtt: Option<(TimeoutEstimator, Nanos, Nanos)>,
    /// The largest sequence number accepted, or the tombstone it was created from (heartbeats
    /// without a number count as the next): what the monitor's detector holds.
    max_seq: Option<u64>,
    /// The same, as the model's detector holds it: without the tombstone.
    own_max: Option<u64>,
    /// Heartbeats stale only by the tombstone, which the model's detector did not count.
    stale_extra: u64,
}

impl ModelPeer {
    fn heard(&self) -> Option<Nanos> {
        match (self.detector.last_arrival(), self.rtt.as_ref().map(|r| r.1)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The reference: the monitor's documented rules, applied to one plain map.
struct Model {
    cfg: MonitorConfig,
    peers: HashMap<u8, ModelPeer>,
    rejected: u64,
    last_tick: Option<Nanos>,
    hold_until: Option<Nanos>,
    collective_since: Option<Nanos>,
    /// The latest stall a tick noticed: the tick before it and the one after.
    stall: Option<(Nanos, Nanos)>,
    /// Every removal: the peer, its largest sequence number, and whether it came back since.
    /// The latest `cfg.tombstones` of them are remembered.
    removals: Vec<(u8, u64, bool)>,
    /// Heartbeats refused by a tombstone.
    replays: u64,
}

fn worse(from: Level, to: Level) -> bool {
    let s = |l| match l {
        Level::Unknown | Level::Alive => 0,
        Level::Suspect => 1,
        Level::Dead => 2,
    };
    s(to) > s(from)
}

fn trusted(l: Level) -> bool {
    matches!(l, Level::Unknown | Level::Alive)
}

impl Model {
    fn new(cfg: MonitorConfig) -> Model {
        Model {
            cfg,
            peers: HashMap::new(),
            rejected: 0,
            last_tick: None,
            hold_until: None,
            collective_since: None,
            stall: None,
            removals: Vec::new(),
            replays: 0,
        }
    }

    /// The removals still remembered.
    fn remembered(&mut self) -> &mut [(u8, u64, bool)] {
        let from = self.removals.len().saturating_sub(self.cfg.tombstones);
        &mut self.removals[from..]
    }

    /// `k`'s tombstone: its latest remembered removal, unless it came back since.
    fn tombstone(&mut self, k: u8) -> Option<u64> {
        self.remembered()
            .iter()
            .rev()
            .find(|r| r.0 == k && !r.2)
            .map(|r| r.1)
    }

    /// Forgets `k`, keeping its tombstone; whether it was known.
    fn forget(&mut self, k: u8) -> bool {
        let Some(p) = self.peers.remove(&k) else {
            return false;
        };
        if let (Some(seq), true) = (p.max_seq, self.cfg.tombstones > 0) {
            self.removals.push((k, seq, false));
        }
        true
    }

    fn detector(&self) -> Box<dyn Detector> {
        match &self.cfg.detector {
            DetectorConfig::Fixed(c) => Box::new(Fixed::new(c.clone()).unwrap()),
            DetectorConfig::PhiNormal(c) => Box::new(PhiNormal::new(c.clone()).unwrap()),
            DetectorConfig::PhiExponential(c) => Box::new(PhiExponential::new(c.clone()).unwrap()),
            DetectorConfig::Chen(c) => Box::new(Chen::new(c.clone()).unwrap()),
            DetectorConfig::Adaptive(c) => Box::new(Adaptive::new(*c).unwrap()),
            other => panic!("no model for {other:?}"),
        }
    }

    fn peer(&mut self, k: u8) -> Result<&mut ModelPeer, MonitorError> {
        self.peer_unless_replay(k, None).map(Option::unwrap)
    }

    /// The peer, created if new and there is room; `None` for a heartbeat numbered `seq` of a
    /// peer not held, refused by its tombstone.
    fn peer_unless_replay(
        &mut self,
        k: u8,
        seq: Option<u64>,
    ) -> Result<Option<&mut ModelPeer>, MonitorError> {
        if !self.peers.contains_key(&k) {
            if self.peers.len() >= self.cfg.max_peers {
                self.rejected += 1;
                return Err(MonitorError::PeerLimit {
                    max_peers: self.cfg.max_peers,
                });
            }
            let tomb = self.tombstone(k);
            if let (Some(t), Some(s)) = (tomb, seq)
                && s <= t
            {
                self.replays += 1;
                return Ok(None);
            }
            for r in self.remembered().iter_mut().filter(|r| r.0 == k) {
                r.2 = true;
            }
            let p = ModelPeer {
                detector: self.detector(),
                suspicion: Suspicion::new(self.cfg.suspicion.clone()).unwrap(),
                rtt: None,
                max_seq: tomb,
                own_max: None,
                stale_extra: 0,
            };
            self.peers.insert(k, p);
        }
        Ok(self.peers.get_mut(&k))
    }

    /// A heartbeat: its interval is not learned when the peer is `Dead` (the silence ended in
    /// an outage), or when the monitor was away for part of it, during the latest noticed
    /// stall, or since a tick now overdue by more than `tick_interval + stall_threshold` (a
    /// stall no tick has noticed yet).
    fn beat(&mut self, k: u8, at: Nanos, seq: Option<u64>) -> Result<Arrival, MonitorError> {
        let overdue = self.cfg.tick_interval + self.cfg.stall_threshold;
        let (stall, last_tick) = (self.stall, self.last_tick);
        let Some(p) = self.peer_unless_replay(k, seq)? else {
            return Ok(Arrival::Stale);
        };
        if let Some(s) = seq
            && p.max_seq.is_some_and(|m| s <= m)
        {
            // Stale: by the detector's own numbers, or only by the tombstone.
            if p.own_max.is_some_and(|m| s <= m) {
                return Ok(p.detector.record(at, seq));
            }
            p.stale_extra += 1;
            return Ok(Arrival::Stale);
        }
        let dead = p.suspicion.level() == Level::Dead;
        let away = p.detector.last_arrival().is_some_and(|last| {
            dead || stall.is_some_and(|(from, to)| last < to && at > from)
                || last_tick.is_some_and(|t| at > t + overdue && last + overdue < at)
        });
        // A heartbeat without a number is the next after the largest, the tombstone's included.
        let numbered = seq.or(p.max_seq.map(|m| m.saturating_add(1)));
        let arrival = if away {
            p.detector.record_unlearned(at, numbered)
        } else {
            p.detector.record(at, numbered)
        };
        if arrival == Arrival::Accepted {
            p.max_seq = Some(numbered.unwrap_or(0));
            p.own_max = p.max_seq;
        }
        Ok(arrival)
    }

    /// The peer's estimator, built on first use from the last instant the peer was heard
    /// from (its creation, for a new one); `heard`: a reply, which counts as hearing from it
    /// (a timeout does not).
    fn rtt(
        &mut self,
        k: u8,
        now: Nanos,
        heard: bool,
    ) -> Result<&mut TimeoutEstimator, MonitorError> {
        let timeout = self.cfg.timeout.clone();
        let p = self.peer(k)?;
        let last = p.heard().unwrap_or(now);
        let rtt = p.rtt.get_or_insert_with(|| {
            let e = TimeoutEstimator::new(timeout).unwrap();
            let cold = e.clone().timeout(now);
            (e, last, cold)
        });
        if heard {
            rtt.1 = rtt.1.max(now);
        }
        Ok(&mut rtt.0)
    }

    /// A request sample or timeout: learned, then the timeout published.
    fn sample(
        &mut self,
        k: u8,
        now: Nanos,
        heard: bool,
        learn: impl FnOnce(&mut TimeoutEstimator),
    ) -> Result<(), MonitorError> {
        learn(self.rtt(k, now, heard)?);
        let r = self.peers.get_mut(&k).and_then(|p| p.rtt.as_mut()).unwrap();
        r.2 = r.0.timeout(now);
        Ok(())
    }

    fn dead(&self) -> usize {
        self.peers
            .values()
            .filter(|p| p.suspicion.level() == Level::Dead)
            .count()
    }

    fn tick(&mut self, now: Nanos) -> Evaluation<u8> {
        let cfg = self.cfg.clone();
        let mut e = Evaluation {
            at: now,
            transitions: Vec::new(),
            stall: None,
            holding_until: None,
            collective: None,
            held: 0,
            capped: Vec::new(),
            expired: Vec::new(),
        };
        if let Some(last) = self.last_tick {
            let late = now.saturating_sub(last.saturating_add(cfg.tick_interval));
            if late > cfg.stall_threshold {
                e.stall = Some(Stall {
                    last_tick: last,
                    resumed: now,
                    late,
                });
                self.stall = Some((last, now));
                let until = now.saturating_add(cfg.stall_grace);
                self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
            }
        }
        self.last_tick = Some(self.last_tick.map_or(now, |l| l.max(now)));
        let holding = self.hold_until.is_some_and(|h| now < h);
        if holding {
            e.holding_until = self.hold_until;
        }
        if let (false, Some(ttl)) = (holding, cfg.expire_after) {
            let gone: Vec<u8> = self
                .peers
                .iter()
                .filter(|(_, p)| p.heard().is_some_and(|h| now.saturating_sub(h) > ttl))
                .map(|(k, _)| *k)
                .collect();
            for k in gone {
                self.forget(k);
                e.expired.push(k);
            }
        }
        // (peer, from, to, φ, last arrival)
        let mut proposals: Vec<(u8, Level, Level, f64, Option<Nanos>)> = Vec::new();
        for (k, p) in &self.peers {
            let phi = p.detector.phi(now);
            let to = p.suspicion.next_level(phi, p.detector.arrivals().accepted);
            if to != p.suspicion.level() {
                proposals.push((*k, p.suspicion.level(), to, phi, p.detector.last_arrival()));
            }
        }
        let peers = self.peers.len();
        let hold = if holding {
            self.collective_since = None;
            true
        } else {
            let newly = proposals
                .iter()
                .filter(|p| trusted(p.1) && !trusted(p.2))
                .count();
            if newly >= cfg.collective_min && newly as f64 >= cfg.collective_fraction * peers as f64
            {
                let since = *self.collective_since.get_or_insert(now);
                let held = now.saturating_sub(since) < cfg.collective_hold;
                e.collective = Some(Collective {
                    suspects: newly,
                    peers,
                    since,
                    held,
                });
                held
            } else {
                self.collective_since = None;
                false
            }
        };
        // Recoveries, suspicions, deaths; deaths by φ (highest first), then longest silent.
        proposals.sort_by(|a, b| {
            let rank = |p: &(u8, Level, Level, f64, Option<Nanos>)| match (worse(p.1, p.2), p.2) {
                (false, _) => 0,
                (true, Level::Dead) => 2,
                (true, _) => 1,
            };
            rank(a)
                .cmp(&rank(b))
                .then(b.3.total_cmp(&a.3))
                .then(a.4.cmp(&b.4))
        });
        for (k, from, mut to, phi, _) in proposals {
            if hold && worse(from, to) {
                e.held += 1;
                continue;
            }
            let mut fed = phi;
            if to == Level::Dead
                && (self.dead() + 1) as f64 > cfg.max_dead_fraction * self.peers.len() as f64
            {
                e.capped.push(k);
                to = Level::Suspect;
                fed = cfg.suspicion.suspect_enter;
                if from == Level::Suspect {
                    continue;
                }
            }
            let p = self.peers.get_mut(&k).unwrap();
            let samples = p.detector.arrivals().accepted;
            p.suspicion.update(now, fed, samples);
            assert_eq!(p.suspicion.level(), to);
            e.transitions.push((
                k,
                Transition {
                    from,
                    to,
                    at: now,
                    phi,
                },
            ));
        }
        // Every request estimator publishes its answers afresh.
        for p in self.peers.values_mut() {
            if let Some(r) = p.rtt.as_mut() {
                r.2 = r.0.timeout(now);
                r.0.hedge_delay(now);
            }
        }
        e
    }
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn same_evaluation(got: &Evaluation<u8>, want: &Evaluation<u8>) {
    assert_eq!(got.at, want.at);
    let key = |v: &[(u8, Transition)]| {
        let mut v: Vec<_> = v
            .iter()
            .map(|(k, t)| (*k, t.from, t.to, t.at, t.phi.to_bits()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&got.transitions), key(&want.transitions));
    assert_eq!(got.stall, want.stall);
    assert_eq!(got.holding_until, want.holding_until);
    assert_eq!(got.collective, want.collective);
    assert_eq!(got.held, want.held);
    assert_eq!(sorted(&got.capped), sorted(&want.capped));
    assert_eq!(sorted(&got.expired), sorted(&want.expired));
}

fn run(cfg: MonitorConfig, ops: Vec<Op>) {
    let clock = ManualClock::new(Nanos::from_secs(100));
    let m: Monitor<u8, ManualClock> = Monitor::with_clock(cfg.clone(), clock.clone()).unwrap();
    let mut model = Model::new(cfg.clone());
    let threshold = cfg.suspicion.suspect_enter;
    let mut seqs: HashMap<u8, u64> = HashMap::new();
    for op in ops {
        // Every operation happens at its own microsecond.
        let now = clock.advance(Nanos::from_micros(1));
        match op {
            Op::Advance(ms) => {
                clock.advance(Nanos::from_millis(ms));
            }
            Op::Beat(k, seq) => {
                // Mostly increasing numbers, sometimes repeated or late.
                let seq = seq.map(|s| {
                    let base = seqs.entry(k).or_default();
                    *base += 1;
                    (*base).saturating_sub(s % 3)
                });
                let got = match seq {
                    Some(s) => m.heartbeat_seq(&k, s),
                    None => m.heartbeat(&k),
                };
                let want = model.beat(k, now, seq);
                assert_eq!(got, want);
            }
            Op::BeatAt(k, back) => {
                let at = now
                    .saturating_sub(Nanos::from_millis(back))
                    .saturating_sub(Nanos(500));
                let got = m.heartbeat_at(&k, at, None);
                let want = model.beat(k, at, None);
                assert_eq!(got, want);
            }
            Op::Batch(beats) => {
                let batch: Vec<Heartbeat<u8>> = beats
                    .iter()
                    .map(|&(peer, back, seq)| Heartbeat {
                        peer,
                        // Less 501 to 510 ns, by peer: no two peers' arrivals coincide (nor
                        // with `BeatAt`'s, 500 ns off the millisecond), so that ties in the
                        // latest arrival never decide which peer the ejection cap spares.
                        at: now
                            .saturating_sub(Nanos::from_millis(back))
                            .saturating_sub(Nanos(501 + u64::from(peer))),
                        seq,
                    })
                    .collect();
                let mut got = vec![None; batch.len()];
                m.heartbeat_batch(&batch, |i, outcome| {
                    assert!(got[i].is_none(), "heartbeat {i} reported twice");
                    got[i] = Some(outcome);
                });
                for (hb, got) in batch.iter().zip(got) {
                    let want = model.beat(hb.peer, hb.at, hb.seq);
                    assert_eq!(got, Some(want), "{hb:?}");
                }
            }
            Op::Rtt(k, ms) => {
                let rtt = Nanos::from_millis(ms);
                let got = m.record_rtt(&k, rtt);
                let want = model.sample(k, now, true, |e| e.record(rtt, now));
                assert_eq!(got, want);
            }
            Op::Timeout(k, ms) => {
                let waited = Nanos::from_millis(ms);
                let got = m.record_timeout(&k, waited);
                let want = model.sample(k, now, false, |e| e.record_timeout(waited, now));
                assert_eq!(got, want);
            }
            Op::Remove(k) => {
                assert_eq!(m.remove(&k), model.forget(k));
            }
            Op::Tick => {
                let got = m.tick(m.now());
                let want = model.tick(now);
                same_evaluation(&got, &want);
            }
            Op::Query(k) => {
                let p = model.peers.get_mut(&k);
                let known = p.is_some();
                assert_eq!(m.contains(&k), known);
                let Some(p) = p else {
                    assert_eq!(m.phi(&k), None);
                    assert_eq!(m.level(&k), None);
                    assert_eq!(m.deadline(&k), None);
                    assert_eq!(m.stats(&k), None);
                    continue;
                };
                assert_eq!(
                    m.phi(&k).map(f64::to_bits),
                    Some(p.detector.phi(now).to_bits())
                );
                assert_eq!(m.level(&k), Some(p.suspicion.level()));
                assert_eq!(m.deadline(&k), p.detector.deadline(threshold));
                // As published by the latest sample or tick.
                let want_timeout = p.rtt.as_ref().map(|r| r.2);
                let got_timeout = m.request_timeout(&k);
                match want_timeout {
                    Some(t) => assert_eq!(got_timeout, t),
                    None => assert_eq!(
                        got_timeout,
                        TimeoutEstimator::new(cfg.timeout.clone())
                            .unwrap()
                            .timeout(now)
                    ),
                }
                let s = m.stats(&k).unwrap();
                assert_eq!(s.level, p.suspicion.level());
                assert_eq!(s.since, p.suspicion.since());
                let mut arrivals = p.detector.arrivals();
                arrivals.stale += p.stale_extra;
                assert_eq!(s.arrivals, arrivals);
                assert_eq!(s.last_arrival, p.detector.last_arrival());
                assert_eq!(s.meaning, p.detector.meaning(threshold));
                assert_eq!(s.timeouts, p.rtt.as_mut().map(|r| r.0.stats(now)));
            }
        }
        // After every operation: the same peers, counts and suspects.
        assert_eq!(m.now(), clock.now());
        assert_eq!(m.len(), model.peers.len());
        assert_eq!(m.rejected(), model.rejected);
        assert_eq!(m.replays(), model.replays);
        assert_eq!(m.dead(), model.dead());
        let mut want: Vec<(u8, Level)> = model
            .peers
            .iter()
            .map(|(k, p)| (*k, p.suspicion.level()))
            .filter(|(_, l)| !trusted(*l))
            .collect();
        want.sort();
        assert_eq!(sorted(&m.suspects()), want);
        for (k, p) in &model.peers {
            assert_eq!(m.level(k), Some(p.suspicion.level()), "peer {k}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_monitor_agrees_with_the_reference_model(
        cfg in config(),
        ops in proptest::collection::vec(op(), 1..250),
    ) {
        run(cfg, ops);
    }
}

/// Long runs of one shape the random mixes rarely reach: peers beating steadily, then
/// falling silent in groups, with stalls, so that stalls, collective faults and the cap all
/// fire.
#[test]
fn groups_falling_silent_agree_with_the_model() {
    for detector in [
        DetectorConfig::Fixed(FixedConfig {
            timeout: Nanos::from_millis(400),
        }),
        DetectorConfig::PhiNormal(PhiNormalConfig {
            window: 20,
            min_std: Nanos::from_millis(5),
            first_interval: Nanos::from_millis(100),
            ..Default::default()
        }),
    ] {
        let mut ops = Vec::new();
        for round in 0..400u64 {
            ops.push(Op::Advance(if round % 97 == 96 { 3_000 } else { 99 }));
            for k in 0..8u8 {
                let silent = (u64::from(k) + round / 50) % 3 == 0;
                if !silent {
                    ops.push(Op::Beat(k, Some(0)));
                }
            }
            ops.push(Op::Tick);
            if round % 13 == 0 {
                ops.push(Op::Query((round % 8) as u8));
            }
        }
        let cfg = MonitorConfig {
            detector,
            max_peers: 8,
            collective_min: 2,
            collective_fraction: 0.25,
            collective_hold: Nanos::from_millis(700),
            max_dead_fraction: 0.2,
            // The model judges φ per heartbeat, as the detector defines it.
            mistakes_per_hour: None,
            ..Default::default()
        };
        run(cfg, ops);
    }
}
