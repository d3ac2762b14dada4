//! The heartbeat replay (qos-spec §1–§5) against independent computations: the §4 deadlines
//! written out here, closed forms for the metrics, causality, tick-sampled scoring and the
//! oracle.

// Reference values are quoted with more digits than an f64 holds.
#![allow(clippy::excessive_precision)]

use accrual::Nanos;
use accrual_eval::hb_gen::{MAX_PEERS, Mix, MixError, Scenario, generate, generate_mix};
use accrual_eval::heartbeat::{Heartbeat, HeartbeatPeer, MAX_LINE, PeerReplay};
use accrual_eval::run::replay;
use accrual_eval::{
    DetectorSpec, EvalError, Family, HeartbeatTrace, NotScored, Rng, TraceError,
    best_fixed_timeout, evaluate, oracle, scorable, score,
};

/// z with −log10 Q(z) = 8 (mpmath, 60 digits).
const Z8: f64 = 5.6120012441747887315497253314;

/// The accepted arrivals of a peer, by the §2 rules written out again.
fn accepted(peer: &HeartbeatPeer) -> (Vec<(u64, u64)>, u64) {
    let mut rows = peer.rows.clone();
    rows.sort_by_key(|r| (r.recv, r.seq));
    let (mut out, mut stale, mut max) = (Vec::new(), 0, None::<u64>);
    for r in rows {
        if max.is_some_and(|m| r.seq <= m) {
            stale += 1;
        } else {
            max = Some(r.seq);
            out.push((r.seq, r.recv));
        }
    }
    (out, stale)
}

/// §4 deadlines, independently: windows rebuilt from scratch at every arrival.
fn spec_deadlines(spec: &str, arrivals: &[(u64, u64)]) -> Vec<u64> {
    let mut out = Vec::new();
    for k in 0..arrivals.len() {
        let (s, a) = arrivals[k];
        let intervals = |first: &[f64]| -> Vec<f64> {
            let mut v = first.to_vec();
            v.extend((1..=k).map(|i| (arrivals[i].1 - arrivals[i - 1].1) as f64));
            v
        };
        let offset = match spec {
            "fixed:timeout=350ms" => 350e6,
            "chen:window=50,alpha=40ms,interval=100ms" => {
                let lo = (k + 1).saturating_sub(50);
                let w = &arrivals[lo..=k];
                let mean = w
                    .iter()
                    .map(|&(s, a)| a as f64 - 1e8 * s as f64)
                    .sum::<f64>()
                    / w.len() as f64;
                mean + (s + 1) as f64 * 1e8 + 40e6 - a as f64
            }
            "phi-normal:threshold=8,window=100,min-std=1ms,first=100ms" => {
                let v = intervals(&[75e6, 125e6]);
                let w = &v[v.len().saturating_sub(100)..];
                let mean = w.iter().sum::<f64>() / w.len() as f64;
                let sd =
                    (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
                mean + sd.max(1e6) * Z8
            }
            "phi-exp:threshold=3,window=200,first=100ms" => {
                let v = intervals(&[100e6]);
                let w = &v[v.len().saturating_sub(200)..];
                3.0 * std::f64::consts::LN_10 * w.iter().sum::<f64>() / w.len() as f64
            }
            other => panic!("no reference for {other}"),
        };
        out.push(a + offset.max(0.0).floor() as u64);
    }
    out
}

#[test]
fn canonical_deadlines_match_spec_section_4_on_generated_traces() {
    for scenario in [Scenario::Wan, Scenario::Jvm, Scenario::CloudVm] {
        let trace = generate(scenario, 5, 4, Nanos::from_secs(300));
        for text in [
            "fixed:timeout=350ms",
            "chen:window=50,alpha=40ms,interval=100ms",
            "phi-normal:threshold=8,window=100,min-std=1ms,first=100ms",
            "phi-exp:threshold=3,window=200,first=100ms",
        ] {
            let spec: DetectorSpec = text.parse().unwrap();
            let replays = replay(&trace, &spec).unwrap();
            for (peer, r) in trace.peers.iter().zip(&replays) {
                let (arrivals, stale) = accepted(peer);
                assert_eq!(r.stale, stale);
                assert_eq!(r.arrivals, arrivals.iter().map(|a| a.1).collect::<Vec<_>>());
                let want = spec_deadlines(text, &arrivals);
                let got: Vec<u64> = r.deadlines.iter().map(|d| d.unwrap()).collect();
                let off = got.iter().zip(&want).filter(|(g, w)| g != w).count();
                for (g, w) in got.iter().zip(&want) {
                    assert!(g.abs_diff(*w) <= 1, "{scenario} {text}: {g} vs {w}");
                }
                assert!(
                    off * 1000 <= got.len(),
                    "{scenario} {text}: {off} off by 1 ns"
                );
            }
        }
    }
}

/// Independent exponential gaps of mean m and a fixed timeout T: a mistake happens when a gap
/// exceeds T (probability e^(−T/m)), and by memorylessness it lasts m on average.
#[test]
fn metrics_match_closed_forms_for_exponential_gaps() {
    let (m, t, n) = (100e6f64, 250e6f64, 400_000usize);
    let mut rng = Rng::new(77);
    let mut at = 0u64;
    let rows = (0..n)
        .map(|i| {
            at += rng.exponential(m).max(1.0) as u64;
            Heartbeat {
                seq: i as u64,
                send: None,
                recv: at,
            }
        })
        .collect();
    let trace = HeartbeatTrace {
        peers: vec![HeartbeatPeer {
            name: "exp".into(),
            rows,
        }],
        ticks: vec![],
    };
    let spec: DetectorSpec = "fixed:timeout=250ms".parse().unwrap();
    let s = score(&replay(&trace, &spec).unwrap(), 0, &[]).unwrap();
    let expected = (n - 1) as f64 * (-t / m).exp();
    let sd = expected.sqrt();
    assert!(
        (s.mistakes as f64 - expected).abs() < 4.0 * sd,
        "{} mistakes, expected {expected:.0} ± {sd:.0}",
        s.mistakes
    );
    // The mean of ~33,000 exponential excesses: standard error m/√n ≈ 0.55%.
    let d = s.mistake_duration_mean_s * 1e9;
    assert!(
        (d - m).abs() < 4.0 * m / (s.mistakes as f64).sqrt(),
        "{d} vs {m}"
    );
    assert!((s.detection_time_mean_s - 0.25).abs() < 1e-12);
    assert!((s.detection_time_p99_s - 0.25).abs() < 1e-12);
    // Query accuracy: the share of time not spent in a mistake, e^(−T/m) of it in mistakes.
    let qa = 1.0 - (-t / m).exp();
    assert!(
        (s.query_accuracy - qa).abs() < 0.01,
        "{} vs {qa}",
        s.query_accuracy
    );
    let hours = s.observed_s / 3600.0;
    assert!((s.mistake_rate_per_hour - s.mistakes as f64 / hours).abs() < 1e-9);
}

#[test]
fn replaying_a_prefix_gives_the_prefix_of_the_deadlines() {
    let trace = generate(Scenario::Mixed, 9, 5, Nanos::from_secs(120));
    for family in Family::ALL {
        let spec = DetectorSpec::new(family);
        let full = replay(&trace, &spec).unwrap();
        // Cut every peer at a point, keeping only rows received by then.
        let cut = 60_000_000_000u64;
        let prefix = HeartbeatTrace {
            peers: trace
                .peers
                .iter()
                .map(|p| HeartbeatPeer {
                    name: p.name.clone(),
                    rows: p.rows.iter().filter(|r| r.recv <= cut).copied().collect(),
                })
                .collect(),
            ticks: vec![],
        };
        let part = replay(&prefix, &spec).unwrap();
        for (f, p) in full.iter().zip(&part) {
            let n = p.arrivals.len();
            assert!(n > 100);
            assert_eq!(&f.arrivals[..n], &p.arrivals[..], "{family}");
            assert_eq!(&f.deadlines[..n], &p.deadlines[..], "{family}");
        }
    }
}

#[test]
fn tick_sampled_scoring_counts_trust_to_suspect_changes() {
    // Arrivals at 0, 1 s, 5 s with deadlines +2 s: suspect at ticks 4 s (> 3 s), not at 5 s.
    let peer = PeerReplay {
        name: "p".into(),
        arrivals: vec![0, 1_000_000_000, 5_000_000_000],
        deadlines: vec![
            Some(2_000_000_000),
            Some(3_000_000_000),
            Some(7_000_000_000),
        ],
        stale: 0,
    };
    let ticks: Vec<u64> = (0..10).map(|s| s * 1_000_000_000).collect();
    // Ticks 4 s (suspect), 5 s (trusted again), 8 s and 9 s (suspect): two changes.
    let s = score(std::slice::from_ref(&peer), 0, &ticks).unwrap();
    assert_eq!(s.tick_sampled_suspicions, Some(2));
    assert_eq!(
        score(&[peer], 0, &[]).unwrap().tick_sampled_suspicions,
        None
    );
}

#[test]
fn stale_rows_are_counted_not_fed() {
    let rows = [(0, 1_000), (1, 2_000), (1, 2_500), (0, 3_000), (2, 4_000)]
        .iter()
        .map(|&(seq, recv)| Heartbeat {
            seq,
            send: None,
            recv,
        })
        .collect();
    let trace = HeartbeatTrace {
        peers: vec![HeartbeatPeer {
            name: "p".into(),
            rows,
        }],
        ticks: vec![],
    };
    let r = replay(&trace, &"fixed:timeout=1s".parse().unwrap()).unwrap();
    assert_eq!(r[0].arrivals, vec![1_000, 2_000, 4_000]);
    assert_eq!(score(&r, 0, &[]).unwrap().stale, 2);
}

#[test]
fn the_oracle_meets_the_budget_and_beats_one_shared_timeout() {
    let trace = generate(Scenario::Mixed, 2, 10, Nanos::from_secs(600));
    for budget in [10.0, 1.0, 0.1] {
        let (o, timeouts) = oracle(&trace, 0, budget).unwrap().unwrap();
        assert!(o.mistake_rate_per_hour <= budget + 1e-9);
        assert_eq!(timeouts.len(), 10);
        let best_fixed = Family::Fixed
            .grid()
            .iter()
            .map(|spec| score(&replay(&trace, spec).unwrap(), 0, &[]).unwrap())
            .filter(|s| s.mistake_rate_per_hour <= budget)
            .map(|s| s.detection_time_mean_s)
            .fold(f64::INFINITY, f64::min);
        assert!(o.detection_time_mean_s <= best_fixed, "{budget}");
    }
}

#[test]
fn generated_traces_are_deterministic_and_round_trip() {
    for scenario in Scenario::ALL {
        let a = generate(scenario, 4, 3, Nanos::from_secs(30));
        let mut bytes = Vec::new();
        a.write(&mut bytes).unwrap();
        let mut again = Vec::new();
        generate(scenario, 4, 3, Nanos::from_secs(30))
            .write(&mut again)
            .unwrap();
        assert_eq!(bytes, again, "{scenario}");
        let back = HeartbeatTrace::parse(&bytes[..], "gen").unwrap();
        assert_eq!(back.peers, a.peers);
        assert_eq!(back.ticks, a.ticks);
    }
}

#[test]
fn rng_streams_do_not_replay_one_another() {
    // A generator that steps its state by a constant replays, a few draws later, any generator
    // started a multiple of that step away (as `seed ^ (p + 1)·step` used to start peer p).
    // Streams of one seed share no value among their first draws.
    use std::collections::HashSet;
    for seed in [0, 1, 5, u64::MAX] {
        let mut seen = HashSet::new();
        for stream in 0..32 {
            let mut rng = Rng::stream(seed, stream);
            for _ in 0..2_000 {
                assert!(
                    seen.insert(rng.next_u64()),
                    "seed {seed}: stream {stream} repeats"
                );
            }
        }
    }
}

/// The seconds in which a peer's heartbeat came more than `late_ns` after the one before, the
/// first of each episode only (20 s or more after the previous late one).
fn late_episodes(peer: &HeartbeatPeer, late_ns: u64) -> Vec<u64> {
    let mut recv: Vec<u64> = peer.rows.iter().map(|r| r.recv).collect();
    recv.sort_unstable();
    let mut starts: Vec<u64> = Vec::new();
    let mut last: Option<u64> = None;
    for w in recv.windows(2).filter(|w| w[1] - w[0] > late_ns) {
        let sec = w[1] / 1_000_000_000;
        if last.is_none_or(|l| sec >= l + 20) {
            starts.push(sec);
        }
        last = Some(sec);
    }
    starts
}

#[test]
fn the_peers_of_a_generated_fleet_are_independent() {
    // Each kind's random events (scheduler spikes, congestion, loss, stalls, pauses) must strike
    // each peer at its own times: a fleet whose peers replay one another's events is a fleet
    // of fewer peers. With independent peers, an episode of one starts within a second of one
    // of another's with probability about 3 s times the other's episode rate (below 0.1 here).
    let d = Nanos::from_secs(1800);
    for (scenario, late_ms) in [
        (Scenario::Lan, 101),
        (Scenario::Datacenter, 130),
        (Scenario::Wan, 300),
        (Scenario::CloudVm, 300),
        (Scenario::Jvm, 300),
    ] {
        let trace = generate(scenario, 1, 12, d);
        let events: Vec<Vec<u64>> = trace
            .peers
            .iter()
            .map(|p| late_episodes(p, late_ms * 1_000_000))
            .collect();
        for (i, a) in events.iter().enumerate() {
            assert!(
                a.len() >= 5,
                "{scenario} peer {i}: only {} episodes",
                a.len()
            );
            for (j, b) in events.iter().enumerate().skip(i + 1) {
                let shared = a
                    .iter()
                    .filter(|&&x| b.iter().any(|&y| x.abs_diff(y) <= 1))
                    .count();
                assert!(
                    shared * 3 <= a.len(),
                    "{scenario}: peers {i} and {j} share {shared} of {} episodes",
                    a.len()
                );
            }
        }
    }
}

#[test]
fn a_mix_is_its_kinds_peers_in_order() {
    let d = Nanos::from_secs(120);
    // The mixed scenario deals the five kinds out in turn: a mix of one of each, in that
    // order, is the same fleet, and a mix of one kind is that scenario.
    let one_each: Mix = "lan=1,datacenter=1,wan=1,cloud-vm=1,jvm=1".parse().unwrap();
    assert_eq!(
        generate_mix(&one_each, 9, d),
        generate(Scenario::Mixed, 9, 5, d)
    );
    let jvm: Mix = "jvm=3".parse().unwrap();
    assert_eq!(generate_mix(&jvm, 9, d), generate(Scenario::Jvm, 9, 3, d));
    let mix: Mix = " lan = 2 ,jvm=1,wan=0".parse().unwrap();
    assert_eq!(mix.to_string(), "lan=2,jvm=1,wan=0");
    assert_eq!(mix.to_string().parse::<Mix>().unwrap(), mix);
    let trace = generate_mix(&mix, 9, d);
    let names: Vec<&str> = trace.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["lan-0", "lan-1", "jvm-2"]);
    assert_eq!(trace.ticks, generate(Scenario::Lan, 9, 1, d).ticks);
}

#[test]
fn a_bad_mix_says_which_entry_and_why() {
    let err = |s: &str| s.parse::<Mix>().unwrap_err();
    assert_eq!(
        err("lan=2,jvm"),
        MixError::Syntax {
            entry: "jvm".into()
        }
    );
    assert_eq!(
        err("lan=two"),
        MixError::Count {
            entry: "lan=two".into()
        }
    );
    assert_eq!(err("lan=0"), MixError::Empty);
    for (text, needle) in [
        ("moon=1", "unknown kind `moon`"),
        ("mixed=3", "`mixed` is a fleet"),
        ("monitor-stall=3", "`monitor-stall` is a fleet"),
    ] {
        let e = err(text);
        assert!(matches!(e, MixError::Kind { .. }), "{text}: {e:?}");
        assert!(e.to_string().contains(needle), "{text}: {e}");
        assert!(e.to_string().contains(text), "{text}: {e}");
    }
    assert!(matches!(
        Mix::new(vec![(Scenario::Mixed, 2)]),
        Err(MixError::Kind { .. })
    ));
    // The counts may not add up to more than MAX_PEERS, nor overflow while adding up.
    assert_eq!(
        err(&format!("lan={},jvm=1", usize::MAX)),
        MixError::TooManyPeers {
            total: usize::MAX as u128 + 1
        }
    );
    assert_eq!(
        err(&format!("lan={MAX_PEERS},jvm=1")),
        MixError::TooManyPeers {
            total: MAX_PEERS as u128 + 1
        }
    );
    let most: Mix = format!("lan={MAX_PEERS}").parse().unwrap();
    assert_eq!(most.peers(), MAX_PEERS);
}

/// A line is read whole, so a file without line ends is refused after a bounded read.
#[test]
fn an_overlong_line_is_refused_without_reading_it_whole() {
    let long = "a".repeat(MAX_LINE + 1);
    let text = format!("peer,seq,send_ns,recv_ns\n{long},1,,5\n");
    let e = HeartbeatTrace::parse(text.as_bytes(), "t.csv").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("t.csv:2: line longer than {MAX_LINE} bytes")
    );
    // An endless stream of bytes without a line end: refused after MAX_LINE + 3 bytes.
    let endless = std::io::BufReader::new(std::io::repeat(b'x'));
    let e = HeartbeatTrace::parse(endless, "endless").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("endless:1: line longer than {MAX_LINE} bytes")
    );
    let e = accrual_eval::RttTrace::parse(std::io::BufReader::new(std::io::repeat(b'x')), "r")
        .unwrap_err();
    assert!(matches!(e, TraceError::LineTooLong { line: 1, .. }), "{e}");
    // A line of exactly MAX_LINE bytes, with a `\r\n` end, is read.
    let id = "b".repeat(MAX_LINE - ",1,,5".len());
    let text = format!("peer,seq,send_ns,recv_ns\r\n{id},1,,5\r\n");
    let t = HeartbeatTrace::parse(text.as_bytes(), "t.csv").unwrap();
    assert_eq!(t.peers[0].name, id);
}

#[test]
fn spec_errors_say_what_is_wrong() {
    let err = |s: &str| s.parse::<DetectorSpec>().unwrap_err().to_string();
    assert!(err("phi-gamma").contains("unknown detector family `phi-gamma`"));
    assert!(err("fixed:timout=1s").contains("unknown key `timout` for fixed"));
    assert!(err("fixed:timeout=1 fortnight").contains("unknown unit"));
    assert!(err("phi-normal:threshold=x").contains("threshold: `x` is not a number"));
    assert!(err("phi-normal:window=0").contains("phi_normal.window"));
    assert!(err("chen:alpha").contains("not of the form key=value"));
    assert!(err("fixed:timeout=1s,timeout=2s").contains("given twice"));
    // A rate and a threshold set the same trade: either order is refused, naming both.
    for spec in ["adaptive:rate=1,threshold=5", "adaptive:threshold=5,rate=1"] {
        let e = err(spec);
        assert!(
            e.contains("`rate`") && e.contains("`threshold`") && e.contains("give one"),
            "{spec}: {e}"
        );
    }
    let t: DetectorSpec = "adaptive:threshold=5".parse().unwrap();
    assert_eq!((t.rate, t.threshold), (None, 5.0));
    let r: DetectorSpec = "adaptive:rate=0.5".parse().unwrap();
    assert_eq!(r.rate, Some(0.5));
    let full: DetectorSpec = "phi-akka:threshold=3".parse().unwrap();
    assert_eq!(
        full.to_string(),
        "phi-akka:threshold=3,window=1000,min-std=0ns,pause=0ns,first=1s"
    );
}

/// Every peer of a `random` fleet draws its own link: intervals span two decades, some peers
/// lose heartbeats and some fall silent for far longer than their interval, and each peer's
/// sender clock runs at its own rate.
#[test]
fn random_fleets_draw_every_peer_from_wide_priors() {
    let trace = generate(Scenario::Random, 9, 40, Nanos::from_secs(1_800));
    assert_eq!(trace.peers.len(), 40);
    let mut intervals = Vec::new();
    let (mut lossy, mut silent) = (0, 0);
    for peer in &trace.peers {
        assert!(peer.name.starts_with("random-"), "{}", peer.name);
        let mut rows = peer.rows.clone();
        rows.sort_by_key(|r| (r.recv, r.seq));
        // The sender's own interval, from its clock and its numbering: robust to loss.
        let (a, b) = (rows.first().unwrap(), rows.last().unwrap());
        let sent = (b.send.unwrap() - a.send.unwrap()) as f64 / (b.seq - a.seq) as f64;
        intervals.push(sent);
        if b.seq - a.seq + 1 > rows.len() as u64 {
            lossy += 1;
        }
        let longest = rows
            .windows(2)
            .map(|w| w[1].recv - w[0].recv)
            .max()
            .unwrap();
        if longest as f64 > 10.0 * sent {
            silent += 1;
        }
    }
    intervals.sort_by(f64::total_cmp);
    let (lo, hi) = (intervals[0], intervals[intervals.len() - 1]);
    assert!(lo >= 19e6 && hi <= 2.1e9, "intervals {lo}..{hi} ns");
    assert!(hi / lo > 10.0, "intervals {lo}..{hi} ns");
    assert!(lossy >= 10, "{lossy} of 40 peers lost a heartbeat");
    assert!(
        (3..40).contains(&silent),
        "{silent} of 40 peers fell silent"
    );
    // Another seed is another fleet.
    assert_ne!(
        trace,
        generate(Scenario::Random, 10, 40, Nanos::from_secs(1_800))
    );
}

/// §2 step 3: when nothing is scored the metrics are undefined, never 0. Every function that
/// scores says why instead: the warmup skips every heartbeat with a next one, or no peer has
/// two heartbeats.
#[test]
fn nothing_scored_is_an_error_naming_why() {
    let beats = |n: u64| HeartbeatPeer {
        name: format!("p{n}"),
        rows: (0..n)
            .map(|k| Heartbeat {
                seq: k,
                send: None,
                recv: 1_000_000_000 * (k + 1),
            })
            .collect(),
    };
    let trace = HeartbeatTrace {
        peers: vec![beats(3), beats(5)],
        ticks: vec![],
    };
    let spec: DetectorSpec = "fixed:timeout=1500ms".parse().unwrap();
    let replays = replay(&trace, &spec).unwrap();
    // Warmup 3 leaves one gap of the five-heartbeat peer: one sample, 1.5 s.
    let s = score(&replays, 3, &[]).unwrap();
    assert_eq!(s.detection_time_mean_s, 1.5);
    assert_eq!(scorable(&trace, 3), Ok(()));
    // Warmup 4 leaves none.
    let too_large = NotScored::WarmupTooLarge { warmup: 4, most: 5 };
    assert_eq!(score(&replays, 4, &[]), Err(too_large));
    assert_eq!(
        score(&replays, usize::MAX, &[]),
        Err(NotScored::WarmupTooLarge {
            warmup: usize::MAX,
            most: 5
        })
    );
    assert_eq!(scorable(&trace, 4), Err(too_large));
    assert_eq!(oracle(&trace, 4, 1.0), Err(too_large));
    assert_eq!(best_fixed_timeout(&replays, 4, 1.0), None);
    assert_eq!(
        evaluate(&trace, std::slice::from_ref(&spec), 4, 1, &|_| {}),
        Err(EvalError::NotScored(too_large))
    );
    let text = too_large.to_string();
    assert!(
        text.contains("warmup of 4") && text.contains("at most 3"),
        "{text}"
    );
    // One heartbeat per peer: nothing to score whatever the warmup.
    let single = HeartbeatTrace {
        peers: vec![beats(1), beats(1)],
        ticks: vec![],
    };
    let few = NotScored::TooFewHeartbeats { most: 1 };
    assert_eq!(score(&replay(&single, &spec).unwrap(), 0, &[]), Err(few));
    assert_eq!(
        evaluate(&single, &[spec], 0, 1, &|_| {}),
        Err(EvalError::NotScored(few))
    );
    assert!(few.to_string().contains("too few heartbeats"));
    // Built by hand with counts `score` never gives, the message still prints.
    let odd = NotScored::WarmupTooLarge { warmup: 0, most: 0 };
    assert!(odd.to_string().contains("at most 0"), "{odd}");
    assert_eq!(score(&[], 0, &[]), Err(NotScored::NoPeers));
}

/// A detector spec prints back to itself, its numbers in a short form: a spec parsed from any
/// text prints to text that parses to the same spec.
#[test]
fn specs_print_back_to_themselves_with_short_numbers() {
    for text in [
        "phi-normal:threshold=1e308",
        "phi-akka:threshold=1e-300",
        "phi-exp:threshold=0.30000000000000004",
        "adaptive:rate=1e-300",
        "adaptive:rate=5e300",
        "adaptive:threshold=123456789012345678901234567890",
        "default:regime=1e-300",
        "default:regime=999.9999999999999",
        "chen:alpha=1ns,window=7",
        "fixed:timeout=8640000s",
    ] {
        let spec: DetectorSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        let shown = spec.to_string();
        assert!(shown.len() < 120, "{text}: {shown}");
        assert_eq!(
            shown.parse::<DetectorSpec>().unwrap(),
            spec,
            "{text}: {shown}"
        );
    }
    let spec: DetectorSpec = "phi-normal:threshold=1e308".parse().unwrap();
    assert_eq!(
        spec.to_string(),
        "phi-normal:threshold=1e308,window=1000,min-std=0ns,pause=0ns,first=1s"
    );
    // Errors print numbers short too.
    let e = "default:regime=1e308".parse::<DetectorSpec>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "adaptive.regime_factor: 1e308 is outside 0 ..= 1000"
    );
}

/// Peer ids and empty fields are trimmed in heartbeat traces, as in RTT traces; a byte-order
/// mark at the start is skipped.
#[test]
fn heartbeat_fields_are_trimmed_and_a_leading_bom_skipped() {
    let text =
        "\u{feff}peer,seq,send_ns,recv_ns\n db-1 ,0, ,1000\ndb-1,1,,2000\n @monitor ,0,5,5\n";
    let t = HeartbeatTrace::parse(text.as_bytes(), "t.csv").unwrap();
    assert_eq!(t.peers.len(), 1);
    assert_eq!(t.peers[0].name, "db-1");
    assert_eq!(t.peers[0].rows.len(), 2);
    assert_eq!(t.peers[0].rows[0].send, None);
    assert_eq!(t.ticks, vec![5]);
    let e = HeartbeatTrace::parse(" ,0,,1000\n".as_bytes(), "t.csv");
    assert!(e.is_err());
    let e = HeartbeatTrace::parse("peer,seq,send_ns,recv_ns\n  ,0,,1000\n".as_bytes(), "t.csv")
        .unwrap_err();
    assert_eq!(e.to_string(), "t.csv:2:1: empty peer id");
}
