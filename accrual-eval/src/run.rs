//! Sweeps: many detector specs replayed over one trace, in parallel, and their frontiers.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::heartbeat::{
    HeartbeatTrace, NotScored, PeerReplay, Score, replay_peer, replay_peer_rate, scorable, score,
};
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

/// Why [`evaluate`] failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EvalError {
    /// A spec's configuration is invalid.
    Config(ConfigError),
    /// Nothing is scored: every point's metrics would be undefined.
    NotScored(NotScored),
    /// Not even one worker thread could be started.
    Spawn {
        /// What the system said.
        message: String,
    },
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Config(e) => write!(f, "{e}"),
            EvalError::NotScored(e) => write!(f, "{e}"),
            EvalError::Spawn { message } => {
                write!(f, "cannot start a thread for the sweeps: {message}")
            }
        }
    }
}

impl std::error::Error for EvalError {}

impl From<ConfigError> for EvalError {
    fn from(e: ConfigError) -> Self {
        EvalError::Config(e)
    }
}

/// Replays and scores every spec on `trace`, on up to `threads` threads (never more than
/// there are specs, and at least one), calling `progress` with the number of specs done so far
/// (from any thread). Points come back in spec order. If the system refuses a thread, the
/// sweeps run on the threads already started; only when none starts is it an error. When
/// nothing of `trace` is scored with `warmup` ([`scorable`]), nothing is replayed.
pub fn evaluate(
    trace: &HeartbeatTrace,
    specs: &[DetectorSpec],
    warmup: usize,
    threads: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Point>, EvalError> {
    scorable(trace, warmup).map_err(EvalError::NotScored)?;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let threads = threads.clamp(1, specs.len().max(1));
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(spec) = specs.get(i) else { break };
            let point = match replay(trace, spec) {
                Err(e) => Err(EvalError::Config(e)),
                Ok(peers) => score(&peers, warmup, &trace.ticks)
                    .map_err(EvalError::NotScored)
                    .map(|score| Point {
                        detector: spec.to_string(),
                        family: spec.family,
                        knob: spec.knob(),
                        score,
                    }),
            };
            mine.push((i, point));
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
        }
        mine
    };
    let results = std::thread::scope(|s| {
        let mut workers = Vec::new();
        let mut refused = None;
        for _ in 0..threads {
            match std::thread::Builder::new().spawn_scoped(s, work) {
                Ok(w) => workers.push(w),
                Err(e) => {
                    refused = Some(e.to_string());
                    break;
                }
            }
        }
        match (workers.is_empty(), refused) {
            (true, Some(message)) => Err(EvalError::Spawn { message }),
            _ => Ok(workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .collect::<Vec<_>>()),
        }
    })?;
    let mut slots: Vec<Option<Result<Point, EvalError>>> = Vec::new();
    slots.resize_with(specs.len(), || None);
    for (i, r) in results.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|s| {
            s.unwrap_or(Err(EvalError::Config(ConfigError::ZeroCount {
                field: "threads",
            })))
        })
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
