//! Sweeps: many detector specs replayed over one trace, in parallel, and their frontiers.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::heartbeat::{HeartbeatTrace, PeerReplay, Score, replay_peer, replay_peer_rate, score};
use crate::spec::{DetectorSpec, Family};
use accrual::ConfigError;

/// One replayed spec.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Point {
    /// The expanded spec.
    pub detector: String,
    /// Its family.
    pub family: Family,
    /// The value of the family's knob.
    pub knob: f64,
    /// The §2/§3 metrics.
    #[serde(flatten)]
    pub score: Score,
}

/// Replays every peer of `trace` through a fresh detector built from `spec`.
pub fn replay(trace: &HeartbeatTrace, spec: &DetectorSpec) -> Result<Vec<PeerReplay>, ConfigError> {
    trace
        .peers
        .iter()
        .map(|p| {
            let mut d = spec.build()?;
            Ok(match spec.rate {
                Some(rate) => replay_peer_rate(p, &mut d, rate),
                None => replay_peer(p, &mut d, spec.threshold),
            })
        })
        .collect()
}

/// Replays and scores every spec on `trace`, on up to `threads` threads, calling `progress`
/// with the number of specs done so far (from any thread). Points come back in spec order.
pub fn evaluate(
    trace: &HeartbeatTrace,
    specs: &[DetectorSpec],
    warmup: usize,
    threads: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Point>, ConfigError> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<Point, ConfigError>>> = vec![None; specs.len()];
    let results: Vec<Vec<(usize, Result<Point, ConfigError>)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(spec) = specs.get(i) else { break };
                        let point = replay(trace, spec).map(|peers| Point {
                            detector: spec.to_string(),
                            family: spec.family,
                            knob: spec.knob(),
                            score: score(&peers, warmup, &trace.ticks),
                        });
                        mine.push((i, point));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (i, r) in results.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|s| s.unwrap_or(Err(ConfigError::ZeroCount { field: "threads" })))
        .collect()
}

/// The smallest mean detection time among `family`'s points with at most `budget` mistakes
/// per peer-hour (`+∞` when none).
pub fn frontier(points: &[Point], family: Family, budget: f64) -> f64 {
    points
        .iter()
        .filter(|p| p.family == family && p.score.mistake_rate_per_hour <= budget)
        .map(|p| p.score.detection_time_mean_s)
        .fold(f64::INFINITY, f64::min)
}
