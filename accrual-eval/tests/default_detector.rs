//! The `default` detector ([`Adaptive`]): causality, the shape of its trade-off, its memory, and
//! its quality on a generated fleet against the per-peer hindsight oracle computed in the same
//! test. (No NaN, no panic and the deadline/φ contract on arbitrary input are in
//! `invariants.rs`, which draws `Adaptive` configurations with the other detectors.)

use accrual::{Adaptive, AdaptiveConfig, Detector, Nanos};
use accrual_eval::hb_gen::{Scenario, generate};
use accrual_eval::heartbeat::{
    HeartbeatPeer, HeartbeatTrace, PeerReplay, Score, best_fixed_timeout, oracle, replay_peer,
    replay_peer_rate, replay_peer_rates, score,
};
use accrual_eval::run::{evaluate, frontier};
use accrual_eval::spec::Family;

fn replay_fleet(trace: &HeartbeatTrace, threshold: f64, warmup: usize) -> Score {
    let peers: Vec<_> = trace
        .peers
        .iter()
        .map(|p| {
            replay_peer(
                p,
                &mut Adaptive::new(AdaptiveConfig::default()).unwrap(),
                threshold,
            )
        })
        .collect();
    score(&peers, warmup, &trace.ticks).expect("scored")
}

#[test]
fn deadlines_depend_only_on_the_past() {
    // §2: replaying a prefix gives the prefix of the full replay's deadlines.
    let trace = generate(Scenario::Mixed, 3, 5, Nanos::from_secs(300));
    for peer in &trace.peers {
        let full = replay_peer(
            peer,
            &mut Adaptive::new(AdaptiveConfig::default()).unwrap(),
            4.0,
        );
        let mut rows = peer.rows.clone();
        rows.sort_by_key(|r| (r.recv, r.seq));
        for cut in [1, 2, 10, 500, rows.len() / 2, rows.len() - 1] {
            let prefix = HeartbeatPeer {
                name: peer.name.clone(),
                rows: rows[..cut].to_vec(),
            };
            let part = replay_peer(
                &prefix,
                &mut Adaptive::new(AdaptiveConfig::default()).unwrap(),
                4.0,
            );
            assert_eq!(
                part.deadlines[..],
                full.deadlines[..part.deadlines.len()],
                "{}",
                peer.name
            );
        }
    }
}

#[test]
fn a_larger_threshold_never_suspects_sooner() {
    // The knob traces a trade-off: every deadline is non-decreasing in Φ, so over a fleet the
    // mean detection time rises and the mistakes fall as Φ grows.
    let trace = generate(Scenario::Wan, 5, 4, Nanos::from_secs(600));
    let thresholds = [0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0];
    for peer in &trace.peers {
        let replays: Vec<_> = thresholds
            .iter()
            .map(|&t| {
                replay_peer(
                    peer,
                    &mut Adaptive::new(AdaptiveConfig::default()).unwrap(),
                    t,
                )
            })
            .collect();
        for pair in replays.windows(2) {
            for (a, b) in pair[0].deadlines.iter().zip(&pair[1].deadlines) {
                assert!(a <= b, "{}: {a:?} > {b:?}", peer.name);
            }
        }
    }
    let scores: Vec<Score> = thresholds
        .iter()
        .map(|&t| replay_fleet(&trace, t, 0))
        .collect();
    for pair in scores.windows(2) {
        assert!(pair[0].detection_time_mean_s <= pair[1].detection_time_mean_s);
        assert!(pair[0].mistakes >= pair[1].mistakes);
    }
    assert!(
        scores[0].mistakes > 10 * scores[7].mistakes.max(1),
        "{scores:?}"
    );
}

#[test]
fn state_is_small_and_fixed() {
    // Everything the detector learns lives inline: no heap, whatever the traffic.
    let size = std::mem::size_of::<Adaptive>();
    eprintln!("Adaptive: {size} bytes");
    assert!(size <= 3 * 1024, "{size} bytes");
}

#[test]
fn the_threshold_means_a_price_and_a_probability() {
    // 100 ms heartbeats with up to 1 ms of jitter; one in ten arrives a whole interval late
    // (and the next one right after it). Without the regime floor, which would allow three
    // times that lateness at every threshold (tested below).
    let mut d = Adaptive::new(AdaptiveConfig {
        regime_factor: 0.0,
        ..AdaptiveConfig::default()
    })
    .unwrap();
    let mut t = Nanos::ZERO;
    for seq in 0..20_000u64 {
        let late = if seq % 10 == 9 { 100 } else { 0 };
        t += Nanos::from_millis(100 + late)
            - Nanos::from_millis(if seq % 10 == 0 { 100 } else { 0 });
        t += Nanos::from_micros(seq % 1000);
        d.heartbeat_seq(t, seq);
    }
    let eta = d.interval().as_secs_f64();
    assert!((eta - 0.1005).abs() < 0.002, "{eta}");
    // Lateness above the loss (≈ 0.1 s) is unseen, so its survival is the fitted tail's. A
    // price of W seconds buys silence while W·S(D) ≥ the tail scale: as Φ grows by 1, the
    // model's false-suspicion probability falls about tenfold.
    let p5 = d.false_suspicion_probability(5.0).unwrap();
    let p6 = d.false_suspicion_probability(6.0).unwrap();
    assert!(p5 > 0.0 && p6 > 0.0 && p6 < p5 / 5.0, "{p5} {p6}");
    let deadline = d.deadline(5.0).unwrap();
    assert!(deadline - t > Nanos::from_millis(200), "{}", deadline - t);
    assert!(d.phi(deadline) <= 5.0 && d.phi(deadline + Nanos(1)) >= 5.0);
}

/// A detector that has learned 100 ms heartbeats with 1 ms of jitter for ten minutes, and the
/// instant of its last heartbeat.
fn calm_detector(config: AdaptiveConfig) -> (Adaptive, Nanos, u64) {
    let mut d = Adaptive::new(config).unwrap();
    let mut t = Nanos::ZERO;
    for seq in 0..6_000u64 {
        t += Nanos::from_micros(99_500 + (seq * 7919) % 1000);
        d.heartbeat_seq(t, seq);
    }
    (d, t, 6_000)
}

#[test]
fn a_spell_of_late_heartbeats_raises_every_deadline_while_it_lasts() {
    let config = AdaptiveConfig::default();
    let (k, window) = (config.regime_factor, config.regime_window);
    let (mut d, mut t, mut seq) = calm_detector(config);
    let (mut calm, _, _) = calm_detector(AdaptiveConfig {
        regime_factor: 0.0,
        ..config
    });
    let eta = d.interval();
    let threshold = 1.0;
    let before = d.deadline(threshold).unwrap() - t;
    assert_eq!(before, calm.deadline(threshold).unwrap() - t);
    // Queueing delay: two heartbeats 40 and 30 ms late (each one interval after the last).
    for late in [40, 30] {
        t += eta + Nanos::from_millis(late);
        d.heartbeat_seq(t, seq);
        calm.heartbeat_seq(t, seq);
        seq += 1;
    }
    // The second largest recent lateness is 30 ms, less what the late arrivals moved the
    // interval estimate (at most 70 ms over the 256 or more intervals it spans): at least k
    // times that is allowed beyond the expected arrival, at any threshold.
    let floor = k * (0.030 - 0.070 / 256.0);
    for threshold in [0.5, 1.0, 2.0] {
        let allowed = (d.deadline(threshold).unwrap() - t).as_secs_f64() - eta.as_secs_f64();
        assert!(allowed >= floor, "{allowed} {floor}");
        assert!(d.phi(d.deadline(threshold).unwrap()) <= threshold);
        assert!(d.phi(d.deadline(threshold).unwrap() + Nanos(1)) >= threshold);
    }
    let raised = d.deadline(threshold).unwrap() - t;
    assert!(raised > calm.deadline(threshold).unwrap() - t + Nanos::from_millis(80));
    // A whole window of calm heartbeats later, the floor is gone.
    let end = t + window;
    while t <= end {
        t += eta;
        d.heartbeat_seq(t, seq);
        calm.heartbeat_seq(t, seq);
        seq += 1;
    }
    assert_eq!(
        d.deadline(threshold).unwrap(),
        calm.deadline(threshold).unwrap()
    );
}

#[test]
fn one_pause_alone_does_not_raise_the_floor() {
    let (mut d, mut t, seq) = calm_detector(AdaptiveConfig::default());
    let (mut calm, _, _) = calm_detector(AdaptiveConfig {
        regime_factor: 0.0,
        ..AdaptiveConfig::default()
    });
    // One 2 s pause: the model learns it, the regime's second largest value stays jitter.
    t += Nanos::from_secs(2);
    d.heartbeat_seq(t, seq);
    calm.heartbeat_seq(t, seq);
    for threshold in [0.5, 1.0, 4.0, 8.0] {
        assert_eq!(
            d.deadline(threshold),
            calm.deadline(threshold),
            "{threshold}"
        );
    }
}

/// Mean detection time of the default detector within `budget`, over the `adaptive` grid of
/// rates.
fn default_frontier(trace: &HeartbeatTrace, budget: f64, warmup: usize) -> f64 {
    sweep(trace, &rates(), AdaptiveConfig::default())
        .iter()
        .map(|peers| score(peers, warmup, &trace.ticks).expect("scored"))
        .filter(|s| s.mistake_rate_per_hour <= budget)
        .map(|s| s.detection_time_mean_s)
        .fold(f64::INFINITY, f64::min)
}

/// The `adaptive` family's grid: false suspicions per peer-hour.
fn rates() -> Vec<f64> {
    Family::Adaptive
        .grid()
        .iter()
        .map(|s| s.rate.expect("the adaptive grid sweeps rates"))
        .collect()
}

/// Every peer replayed once for all rates ([`replay_peer_rates`]), one replay per rate;
/// checked on the first peer against `replay_peer_rate`.
fn sweep(trace: &HeartbeatTrace, rates: &[f64], cfg: AdaptiveConfig) -> Vec<Vec<PeerReplay>> {
    let mut out: Vec<Vec<PeerReplay>> = vec![Vec::new(); rates.len()];
    for (i, peer) in trace.peers.iter().enumerate() {
        let each = replay_peer_rates(peer, &mut Adaptive::new(cfg).unwrap(), rates);
        if i == 0 {
            let rate = rates[rates.len() / 2];
            let one = replay_peer_rate(peer, &mut Adaptive::new(cfg).unwrap(), rate);
            assert_eq!(one.deadlines, each[rates.len() / 2].deadlines);
        }
        for (all, p) in out.iter_mut().zip(each) {
            all.push(p);
        }
    }
    out
}

/// From its first heartbeat, on a randomized fleet it was not tuned on (seed 7001; tuning used
/// seeds 1001–1008), the default detector needs less mean detection time than the best fixed
/// timeout chosen with hindsight on the same trace, within 1 and within 0.1 false suspicions
/// per peer-hour, and it stays ahead once warm.
#[test]
fn from_its_first_heartbeat_it_beats_the_best_fixed_timeout_on_an_unseen_random_fleet() {
    let trace = generate(Scenario::Random, 7001, 20, Nanos::from_secs(1800));
    let replays = sweep(&trace, &rates(), AdaptiveConfig::default());
    for warmup in [0, 1000] {
        for budget in [1.0, 0.1] {
            let ours = replays
                .iter()
                .map(|peers| score(peers, warmup, &trace.ticks).expect("scored"))
                .filter(|s| s.mistake_rate_per_hour <= budget)
                .map(|s| s.detection_time_mean_s)
                .fold(f64::INFINITY, f64::min);
            let fixed = best_fixed_timeout(&replays[0], warmup, budget).expect("scored");
            eprintln!("warmup {warmup}, budget {budget}: {ours:.3} s against {fixed:.3} s");
            assert!(
                ours / fixed <= 1.0,
                "warmup {warmup}, budget {budget}: {:.3}",
                ours / fixed
            );
        }
    }
}

/// Configured in false suspicions per peer-hour, the detector makes about that many on
/// randomized fleets it was not tuned on, within a small factor: the measured rate over the
/// configured one, from the first heartbeat, over five fleets of ten peer-hours. Measured:
/// at 1 per hour a median of 1.5 and a worst of 2.3; at 0.1 (one expected mistake a fleet) a
/// median of 3 and a worst of 7. The knob runs hot at small rates: first pauses longer than
/// the prior's mean come more often in these fleets than the prior assumes.
#[test]
fn a_configured_rate_is_met_on_average_on_random_fleets() {
    let configured = [1.0, 0.1];
    let mut ratios = vec![Vec::new(); configured.len()];
    for seed in 7101..=7105 {
        let trace = generate(Scenario::Random, seed, 20, Nanos::from_secs(1800));
        for (i, peers) in sweep(&trace, &configured, AdaptiveConfig::default())
            .iter()
            .enumerate()
        {
            let measured = score(peers, 0, &trace.ticks)
                .expect("scored")
                .mistake_rate_per_hour;
            ratios[i].push(measured / configured[i]);
        }
    }
    for ((rate, mut r), (most_median, most)) in
        configured.iter().zip(ratios).zip([(2.0, 3.0), (4.0, 8.0)])
    {
        r.sort_by(f64::total_cmp);
        let (median, worst) = (r[r.len() / 2], r[r.len() - 1]);
        eprintln!("{rate} per hour: measured/configured {r:.2?}");
        assert!(median <= most_median, "{rate}: median {median}");
        assert!(worst <= most, "{rate}: worst {worst}");
    }
}

#[test]
fn on_an_unseen_mixed_fleet_it_beats_every_constant_and_nears_the_oracle() {
    // A fleet the detector was not tuned on (seed 11; the suite uses seed 1), half an hour,
    // scored after the first ten minutes as in the suite.
    let trace = generate(Scenario::Mixed, 11, 10, Nanos::from_secs(1800));
    let warmup = 6000;
    let budget = 1.0;
    let ours = default_frontier(&trace, budget, warmup);
    let best = oracle(&trace, warmup, budget)
        .expect("scored")
        .expect("the budget is met")
        .0
        .detection_time_mean_s;
    let specs: Vec<_> = [Family::Fixed, Family::Chen, Family::PhiExp]
        .iter()
        .flat_map(|f| f.grid())
        .collect();
    let points = evaluate(&trace, &specs, warmup, 2, &|_| {}).unwrap();
    let canonical = [Family::Fixed, Family::Chen, Family::PhiExp]
        .iter()
        .map(|&f| frontier(&points, f, budget))
        .fold(f64::INFINITY, f64::min);
    eprintln!("default {ours:.3}s, oracle {best:.3}s, best canonical {canonical:.3}s");
    assert!(ours / best <= 1.6, "default/oracle = {}", ours / best);
    assert!(
        ours / canonical <= 0.5,
        "default/canonical = {}",
        ours / canonical
    );
}

#[test]
fn a_sender_that_renumbers_does_not_shrink_the_interval() {
    // 100 ms heartbeats; the sender restarts and numbers from a wall-clock value. Fewer than
    // a thousand heartbeats could have been sent, so the jump is a renumbering, not losses.
    let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
    let mut t = Nanos::from_secs(10);
    for seq in 0..1_000u64 {
        t += Nanos::from_millis(100);
        d.heartbeat_seq(t, seq);
    }
    let before = d.deadline(5.0).unwrap() - t;
    for seq in 1_700_000_000_000_000_000..1_700_000_000_000_000_600u64 {
        t += Nanos::from_millis(100);
        d.heartbeat_seq(t, seq);
        let eta = d.interval().as_secs_f64();
        assert!((eta - 0.1).abs() < 1e-3, "η = {eta} at {seq}");
    }
    let after = d.deadline(5.0).unwrap() - t;
    assert!(
        after <= before + Nanos::from_millis(20),
        "{before} then {after}"
    );
    // Real losses (time passes as the numbers say) are not a renumbering.
    t += Nanos::from_secs(60);
    d.heartbeat_seq(t, 1_700_000_000_000_001_199);
    assert!((d.interval().as_secs_f64() - 0.1).abs() < 1e-3);
}
