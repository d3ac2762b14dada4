//! Heartbeat traces (`qos-spec.md` §1), the detector replay (§2), tick-sampled scoring (§3)
//! and the per-peer oracle (§5).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

pub use crate::csv::MAX_LINE;
use crate::csv::{fields, for_each_row, whole_number};
use crate::rtt::TraceError;
use accrual::detector::{Arrival, Detector};
use accrual::time::Nanos;

/// The reserved peer id of the monitor's own evaluation ticks.
pub const MONITOR: &str = "@monitor";

const HEADER: &str = "peer,seq,send_ns,recv_ns";

/// One received heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The sender's sequence number.
    pub seq: u64,
    /// The sender's clock at sending, if recorded.
    pub send: Option<u64>,
    /// The monitor's clock at receipt.
    pub recv: u64,
}

/// The heartbeats received from one peer, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatPeer {
    /// The peer's id.
    pub name: String,
    /// Its heartbeats.
    pub rows: Vec<Heartbeat>,
}

/// A heartbeat trace: heartbeats per peer, and the monitor's own ticks.
///
/// The file format (`qos-spec.md` §1): comment lines start with `#`; the header
/// `peer,seq,send_ns,recv_ns` is required; `send_ns` may be empty; rows need not be sorted;
/// rows of the peer `@monitor` are the monitor's evaluation ticks. Spaces around a field are
/// ignored, peer ids included.
///
/// ```
/// use accrual_eval::HeartbeatTrace;
///
/// let text = "peer,seq,send_ns,recv_ns\ndb-1,0,,1000\n@monitor,0,500,500\ndb-1,1,,2000\n";
/// let t = HeartbeatTrace::parse(text.as_bytes(), "inline").unwrap();
/// assert_eq!(t.peers[0].rows.len(), 2);
/// assert_eq!(t.ticks, vec![500]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatTrace {
    /// The peers, in order of first appearance (`@monitor` excluded).
    pub peers: Vec<HeartbeatPeer>,
    /// The monitor's ticks, sorted.
    pub ticks: Vec<u64>,
}

impl HeartbeatTrace {
    /// Reads a trace file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| TraceError::Io {
            path: name.clone(),
            message: e.to_string(),
        })?;
        Self::parse(std::io::BufReader::with_capacity(1 << 16, file), &name)
    }

    /// Reads a trace from any reader, line by line; `path` names it in errors.
    pub fn parse(reader: impl BufRead, path: &str) -> Result<Self, TraceError> {
        let mut trace = HeartbeatTrace::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        for_each_row(reader, path, HEADER, |n, line| {
            let [peer, seq, send, recv] = fields::<4>(line, path, n)?;
            // Ids are trimmed, as in RTT traces: `db-1` and ` db-1` are one peer.
            let peer = peer.trim();
            if peer.is_empty() {
                return Err(TraceError::EmptyPeer {
                    path: path.to_owned(),
                    line: n,
                });
            }
            let seq = whole_number(seq, path, n, 2, "seq")?;
            let send = if send.trim().is_empty() {
                None
            } else {
                Some(whole_number(send, path, n, 3, "send_ns")?)
            };
            let recv = whole_number(recv, path, n, 4, "recv_ns")?;
            if peer == MONITOR {
                trace.ticks.push(recv);
                return Ok(());
            }
            let slot = match index.get(peer) {
                Some(&i) => i,
                None => {
                    index.insert(peer.to_owned(), trace.peers.len());
                    trace.peers.push(HeartbeatPeer {
                        name: peer.to_owned(),
                        rows: Vec::new(),
                    });
                    trace.peers.len() - 1
                }
            };
            trace.peers[slot].rows.push(Heartbeat { seq, send, recv });
            Ok(())
        })?;
        trace.ticks.sort_unstable();
        Ok(trace)
    }

    /// Writes the trace in the file format: peers in order, then the ticks.
    pub fn write(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(out);
        writeln!(out, "# accrual heartbeat trace v1")?;
        writeln!(out, "{HEADER}")?;
        for p in &self.peers {
            for r in &p.rows {
                match r.send {
                    Some(s) => writeln!(out, "{},{},{},{}", p.name, r.seq, s, r.recv)?,
                    None => writeln!(out, "{},{},,{}", p.name, r.seq, r.recv)?,
                }
            }
        }
        for (i, t) in self.ticks.iter().enumerate() {
            writeln!(out, "{MONITOR},{i},{t},{t}")?;
        }
        out.flush()
    }

    /// All heartbeat rows (ticks excluded).
    pub fn rows(&self) -> usize {
        self.peers.iter().map(|p| p.rows.len()).sum()
    }
}

/// One peer's replay: every accepted arrival and the deadline the detector gave right after
/// it (`None`: never suspects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerReplay {
    /// The peer's id.
    pub name: String,
    /// Accepted arrivals, in order.
    pub arrivals: Vec<u64>,
    /// The deadline after each arrival, clamped to it.
    pub deadlines: Vec<Option<u64>>,
    /// Rows not fed to the detector (sequence number not new).
    pub stale: u64,
}

/// Replays one peer (§2 steps 1–2): rows sorted by receipt (ties by sequence number), stale
/// rows counted and skipped, each accepted arrival fed to `detector` and followed by a deadline
/// query at `threshold`.
pub fn replay_peer(
    peer: &HeartbeatPeer,
    detector: &mut dyn Detector,
    threshold: f64,
) -> PeerReplay {
    replay_peer_with(peer, detector, &|_| Some(threshold))
}

/// As [`replay_peer`], with the deadline asked at the threshold that means `mistakes_per_hour`
/// false suspicions an hour for the detector right now
/// ([`Detector::threshold_for_rate`]); a detector without an interval never suspects.
pub fn replay_peer_rate(
    peer: &HeartbeatPeer,
    detector: &mut dyn Detector,
    mistakes_per_hour: f64,
) -> PeerReplay {
    replay_peer_with(peer, detector, &|d| d.threshold_for_rate(mistakes_per_hour))
}

/// As [`replay_peer_rate`] for many rates at once: the detector is fed once, and after each
/// arrival its deadline is asked at the threshold every rate means. One replay per rate, each
/// equal to what `replay_peer_rate` gives for it.
pub fn replay_peer_rates(
    peer: &HeartbeatPeer,
    detector: &mut dyn Detector,
    rates: &[f64],
) -> Vec<PeerReplay> {
    let mut rows = peer.rows.clone();
    rows.sort_by_key(|r| (r.recv, r.seq));
    let mut out: Vec<PeerReplay> = rates
        .iter()
        .map(|_| PeerReplay {
            name: peer.name.clone(),
            arrivals: Vec::with_capacity(rows.len()),
            deadlines: Vec::with_capacity(rows.len()),
            stale: 0,
        })
        .collect();
    let mut max_seq: Option<u64> = None;
    for r in rows {
        if max_seq.is_some_and(|m| r.seq <= m) {
            out.iter_mut().for_each(|p| p.stale += 1);
            continue;
        }
        max_seq = Some(r.seq);
        detector.heartbeat_seq(Nanos(r.recv), r.seq);
        for (p, &rate) in out.iter_mut().zip(rates) {
            p.arrivals.push(r.recv);
            p.deadlines.push(
                detector
                    .threshold_for_rate(rate)
                    .and_then(|t| detector.deadline(t))
                    .map(|d| d.as_nanos().max(r.recv)),
            );
        }
    }
    out
}

/// The best fixed timeout chosen with hindsight on replayed peers, scored from arrival
/// `warmup` of each: the smallest `T` with at most `budget` gaps longer than it per peer-hour,
/// in seconds (its mean detection time is `T` itself). `None` when no gap is scored.
pub fn best_fixed_timeout(replay: &[PeerReplay], warmup: usize, budget: f64) -> Option<f64> {
    let (mut gaps, mut observed) = (Vec::new(), 0u64);
    for p in replay {
        let a = p.arrivals.get(warmup..).unwrap_or_default();
        if let (Some(f), Some(l)) = (a.first(), a.last()) {
            observed += l - f;
        }
        gaps.extend(a.windows(2).map(|w| w[1] - w[0]));
    }
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable_by(|a, b| b.cmp(a));
    let allowed = (budget * observed as f64 / 3.6e12).floor() as usize;
    // More gaps allowed than there are: no gap need be waited out.
    Some(gaps.get(allowed).map_or(0.0, |&g| g as f64 / 1e9))
}

/// The replay of §2, asking each deadline at the threshold `threshold` names for the detector
/// as it stands after the arrival.
fn replay_peer_with(
    peer: &HeartbeatPeer,
    detector: &mut dyn Detector,
    threshold: &dyn Fn(&dyn Detector) -> Option<f64>,
) -> PeerReplay {
    let mut rows = peer.rows.clone();
    rows.sort_by_key(|r| (r.recv, r.seq));
    let mut out = PeerReplay {
        name: peer.name.clone(),
        arrivals: Vec::with_capacity(rows.len()),
        deadlines: Vec::with_capacity(rows.len()),
        stale: 0,
    };
    let mut max_seq: Option<u64> = None;
    for r in rows {
        if max_seq.is_some_and(|m| r.seq <= m) {
            out.stale += 1;
            continue;
        }
        max_seq = Some(r.seq);
        // Sorted by receipt, so the detector accepts every row the spec accepts.
        let accepted = detector.heartbeat_seq(Nanos(r.recv), r.seq);
        debug_assert_eq!(accepted, Arrival::Accepted);
        out.arrivals.push(r.recv);
        out.deadlines.push(
            threshold(&*detector)
                .and_then(|t| detector.deadline(t))
                .map(|d| d.as_nanos().max(r.recv)),
        );
    }
    out
}

/// The §2 and §3 metrics of a replayed fleet. Durations in seconds; `+∞` (JSON `null`) where a
/// detector never suspects.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Score {
    /// Peers scored (`@monitor` excluded).
    pub peers: u64,
    /// The sum of the peers' observed times.
    pub observed_s: f64,
    /// Mistakes: a next arrival later than the deadline.
    pub mistakes: u64,
    /// Mistakes per peer-hour.
    pub mistake_rate_per_hour: f64,
    /// Mean mistake duration (0 when none).
    pub mistake_duration_mean_s: f64,
    /// `1 − total mistake time / observed time`.
    pub query_accuracy: f64,
    /// Mean detection time `τ_k − A_k`.
    pub detection_time_mean_s: f64,
    /// The detection-time sample at index `⌊0.99·n⌋` of the sorted samples.
    pub detection_time_p99_s: f64,
    /// Stale rows.
    pub stale: u64,
    /// Trust-to-suspect changes when every peer is sampled at every monitor tick; `None`
    /// without ticks.
    pub tick_sampled_suspicions: Option<u64>,
}

/// Why nothing could be scored (`qos-spec.md` §2 step 3): the metrics are then undefined,
/// never 0. A peer is scored from its accepted arrival `warmup` on, and only an arrival with a
/// next one gives a sample, so at least one peer needs `warmup + 2` accepted arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotScored {
    /// The trace has no peers.
    NoPeers,
    /// No peer has two accepted heartbeats, whatever the warmup.
    TooFewHeartbeats {
        /// The most accepted heartbeats of any peer (0 or 1).
        most: usize,
    },
    /// The warmup skips every heartbeat that has a next one.
    WarmupTooLarge {
        /// The warmup asked for.
        warmup: usize,
        /// The most accepted heartbeats of any peer: the warmup must be below `most − 1`.
        most: usize,
    },
}

impl NotScored {
    /// Why nothing is scored, given the most accepted arrivals of any peer (`None`: no peers);
    /// `None` when something is.
    fn of(most: Option<usize>, warmup: usize) -> Option<NotScored> {
        match most {
            None => Some(NotScored::NoPeers),
            Some(most) if most < 2 => Some(NotScored::TooFewHeartbeats { most }),
            Some(most) if most < warmup.saturating_add(2) => {
                Some(NotScored::WarmupTooLarge { warmup, most })
            }
            Some(_) => None,
        }
    }
}

impl std::fmt::Display for NotScored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotScored::NoPeers => write!(f, "nothing scored: the trace has no peers"),
            NotScored::TooFewHeartbeats { most } => write!(
                f,
                "nothing scored: too few heartbeats (no peer has two accepted heartbeats; the most is {most})"
            ),
            NotScored::WarmupTooLarge { warmup, most } => write!(
                f,
                "nothing scored: the warmup of {warmup} heartbeats is too large (the most any peer has is {most}, so the warmup must be at most {})",
                most.saturating_sub(2)
            ),
        }
    }
}

impl std::error::Error for NotScored {}

/// Whether anything of `trace` is scored with `warmup`: the accepted arrivals (§2 step 1) of
/// each peer, counted without a detector. [`score`] of any replay of `trace` fails exactly when
/// this does.
///
/// ```
/// use accrual_eval::HeartbeatTrace;
/// use accrual_eval::heartbeat::{NotScored, scorable};
///
/// let text = "peer,seq,send_ns,recv_ns\na,0,,1000\na,1,,2000\na,2,,3000\n";
/// let t = HeartbeatTrace::parse(text.as_bytes(), "inline").unwrap();
/// assert_eq!(scorable(&t, 1), Ok(()));
/// assert_eq!(scorable(&t, 2), Err(NotScored::WarmupTooLarge { warmup: 2, most: 3 }));
/// ```
pub fn scorable(trace: &HeartbeatTrace, warmup: usize) -> Result<(), NotScored> {
    let most = trace
        .peers
        .iter()
        .map(|p| replay_peer(p, &mut Never::default(), 1.0).arrivals.len())
        .max();
    NotScored::of(most, warmup).map_or(Ok(()), Err)
}

/// Scores replayed peers (§2 steps 3–5 and the fleet metrics; §3 when `ticks` is not empty),
/// skipping the first `warmup` accepted arrivals of each peer. Fails when nothing is scored:
/// no peer has `warmup + 2` accepted arrivals.
pub fn score(peers: &[PeerReplay], warmup: usize, ticks: &[u64]) -> Result<Score, NotScored> {
    let most = peers.iter().map(|p| p.arrivals.len()).max();
    if let Some(why) = NotScored::of(most, warmup) {
        return Err(why);
    }
    let (mut observed, mut mistakes, mut mistake_time, mut stale) = (0f64, 0u64, 0f64, 0u64);
    let mut detection: Vec<f64> = Vec::new();
    for p in peers {
        stale += p.stale;
        let n = p.arrivals.len();
        if n > warmup {
            observed += (p.arrivals[n - 1] - p.arrivals[warmup]) as f64;
        }
        for k in warmup..n.saturating_sub(1) {
            let (a, next) = (p.arrivals[k], p.arrivals[k + 1]);
            match p.deadlines[k] {
                Some(tau) => {
                    detection.push((tau - a) as f64);
                    if next > tau {
                        mistakes += 1;
                        mistake_time += (next - tau) as f64;
                    }
                }
                None => detection.push(f64::INFINITY),
            }
        }
    }
    detection.sort_by(f64::total_cmp);
    let observed_s = observed / 1e9;
    // Not empty: some peer has `warmup + 2` arrivals, each of which but the last gives a sample.
    let mean = detection.iter().sum::<f64>() / detection.len() as f64 / 1e9;
    let i = ((0.99 * detection.len() as f64).floor() as usize).min(detection.len() - 1);
    let p99 = detection.get(i).map_or(f64::NAN, |d| d / 1e9);
    Ok(Score {
        peers: peers.len() as u64,
        observed_s,
        mistakes,
        mistake_rate_per_hour: if observed_s > 0.0 {
            mistakes as f64 / (observed_s / 3600.0)
        } else {
            0.0
        },
        mistake_duration_mean_s: if mistakes > 0 {
            mistake_time / mistakes as f64 / 1e9
        } else {
            0.0
        },
        query_accuracy: if observed > 0.0 {
            1.0 - mistake_time / observed
        } else {
            1.0
        },
        detection_time_mean_s: mean,
        detection_time_p99_s: p99,
        stale,
        tick_sampled_suspicions: (!ticks.is_empty()).then(|| tick_sampled(peers, ticks)),
    })
}

/// §3: each peer's verdict at each tick (suspect iff the tick is later than the deadline of
/// the latest arrival at or before it; not sampled before its first arrival), counting
/// trust-to-suspect changes from an initial trust.
fn tick_sampled(peers: &[PeerReplay], ticks: &[u64]) -> u64 {
    let mut changes = 0;
    for p in peers {
        let mut suspect = false;
        let mut k = 0usize; // arrivals at or before the current tick
        for &t in ticks {
            while k < p.arrivals.len() && p.arrivals[k] <= t {
                k += 1;
            }
            if k == 0 {
                continue;
            }
            let now = match p.deadlines[k - 1] {
                Some(tau) => t > tau,
                None => false,
            };
            if now && !suspect {
                changes += 1;
            }
            suspect = now;
        }
    }
    changes
}

/// The per-peer oracle of §5: each peer's own fixed timeout, chosen with the whole trace in
/// view, minimising the fleet's mean detection time with at most `budget` mistakes per
/// peer-hour; returns the score of that assignment and the timeouts chosen. `Ok(None)` only if
/// no assignment meets the budget; an error when nothing is scored.
pub fn oracle(
    trace: &HeartbeatTrace,
    warmup: usize,
    budget: f64,
) -> Result<Option<(Score, Vec<Nanos>)>, NotScored> {
    let replays: Vec<PeerReplay> = trace
        .peers
        .iter()
        .map(|p| replay_peer(p, &mut Never::default(), 1.0))
        .collect();
    let most = replays.iter().map(|p| p.arrivals.len()).max();
    if let Some(why) = NotScored::of(most, warmup) {
        return Err(why);
    }
    let mut observed = 0f64;
    // Per peer: each scored arrival with a successor waits the timeout; gaps above it are
    // mistakes.
    let groups: Vec<(f64, Vec<u64>)> = replays
        .iter()
        .map(|p| {
            let n = p.arrivals.len();
            if n > warmup {
                observed += (p.arrivals[n - 1] - p.arrivals[warmup]) as f64;
            }
            let mut gaps: Vec<u64> = (warmup..n.saturating_sub(1))
                .map(|k| p.arrivals[k + 1] - p.arrivals[k])
                .collect();
            gaps.sort_unstable();
            (gaps.len() as f64, gaps)
        })
        .collect();
    let allowed = (budget * observed / 1e9 / 3600.0).floor().max(0.0) as u64;
    let Some(chosen) = crate::oracle::hindsight(&groups, allowed).map(|h| h.choices) else {
        return Ok(None);
    };
    let fixed: Vec<PeerReplay> = replays
        .into_iter()
        .zip(&chosen)
        .map(|(p, &t)| PeerReplay {
            deadlines: p
                .arrivals
                .iter()
                .map(|&a| Some(a.saturating_add(t)))
                .collect(),
            ..p
        })
        .collect();
    let scored = score(&fixed, warmup, &trace.ticks)?;
    Ok(Some((scored, chosen.into_iter().map(Nanos).collect())))
}

/// A detector that never suspects: the replay's acceptance rules with no model.
#[derive(Debug, Default)]
struct Never {
    last: Option<Nanos>,
}

impl Detector for Never {
    fn record(&mut self, at: Nanos, _seq: Option<u64>) -> Arrival {
        self.last = Some(at);
        Arrival::Accepted
    }
    fn phi(&self, _now: Nanos) -> f64 {
        0.0
    }
    fn deadline(&self, _threshold: f64) -> Option<Nanos> {
        None
    }
    fn last_arrival(&self) -> Option<Nanos> {
        self.last
    }
    fn arrivals(&self) -> accrual::detector::ArrivalCounts {
        accrual::detector::ArrivalCounts::default()
    }
}
