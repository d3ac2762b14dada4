//! Single-peer failure detectors behind one [`Detector`] trait.
//!
//! | detector | model | φ |
//! |---|---|---|
//! | [`PhiNormal`] | Hayashibara et al. 2004: normal inter-arrival times | `−log10 Q((t − μ − pause)/σ)` |
//! | [`PhiExponential`] | Cassandra: exponential inter-arrival times | `t / (μ·ln 10)` |
//! | [`Chen`] | Chen, Toueg, Aguilera 2002: expected arrival plus a margin | binary |
//! | [`Fixed`] | a fixed timeout | binary |
//! | [`Empirical`] | the peer's own interval histogram, with a fitted exponential tail | `−log10 S(t)` |
//! | [`Adaptive`] | the recommended default: long-memory lateness histogram, deadline priced against false suspicions | `log10(W/η)` |
//!
//! # Time
//!
//! Detectors never read a clock: every method takes the instant it is about. An arrival
//! earlier than the latest accepted one (a clock that went backwards, or calls reordered between
//! threads) is not a new interval: it is counted as [`Arrival::Backwards`] and otherwise
//! ignored, so an interval is never negative and never wraps to a huge value. A query at an
//! instant before the latest arrival sees zero elapsed time. An arrival at the same instant as
//! the latest is accepted with an interval of zero.
//!
//! # Sequence numbers
//!
//! [`Detector::heartbeat_seq`] takes the sender's sequence number: an arrival whose number is
//! not greater than the largest accepted so far (a duplicate or a reordered datagram) is
//! counted as [`Arrival::Stale`] and otherwise ignored. [`Detector::heartbeat`] assumes each
//! arrival is the next one sent.
//!
//! # Deadlines and φ
//!
//! [`Detector::deadline`] is the instant `τ` of the detection-quality spec: the last instant at
//! which the peer is still trusted if nothing else arrives, rounded down to a whole nanosecond.
//! For every `t > τ`, `φ(t) ≥ Φ`; at `τ` itself φ is at most Φ, and within `φ'·1ns` of it. The
//! peer is suspected from `τ + 1ns` on. φ is finite, never negative, never NaN, and
//! non-decreasing in `now` between arrivals.

use std::fmt;

use crate::math::probability_of_phi;
use crate::time::Nanos;

pub(crate) mod adaptive;
mod any;
pub(crate) mod chen;
mod empirical;
mod fixed;
mod phi_exponential;
mod phi_normal;

pub use adaptive::{Adaptive, AdaptiveConfig};
pub use any::{AnyDetector, DetectorConfig};
pub use chen::{Chen, ChenConfig};
pub use empirical::{Empirical, EmpiricalConfig};
pub use fixed::{Fixed, FixedConfig};
pub use phi_exponential::{PhiExponential, PhiExponentialConfig};
pub use phi_normal::{PhiNormal, PhiNormalConfig, Preset, Tail};

/// Nanoseconds in an hour, the unit of a rate of false suspicions.
const NANOS_PER_HOUR: f64 = 3.6e12;

/// What a detector made of an arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arrival {
    /// A new heartbeat: it updated the model.
    Accepted,
    /// Its sequence number was not greater than the largest accepted: ignored.
    Stale,
    /// It is earlier than the latest accepted arrival: ignored.
    Backwards,
}

/// How many arrivals a detector accepted and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ArrivalCounts {
    /// Arrivals that updated the model.
    pub accepted: u64,
    /// Arrivals ignored for a sequence number that was not new.
    pub stale: u64,
    /// Arrivals ignored for being earlier than the latest accepted one.
    pub backwards: u64,
}

/// What a threshold means for a detector right now: see [`Detector::meaning`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meaning {
    /// The threshold explained.
    pub threshold: f64,
    /// The silence after the latest arrival at which the threshold is crossed: the fixed
    /// timeout that would behave the same right now. `None` before the first arrival, or if
    /// the threshold is never reached.
    pub timeout: Option<Nanos>,
    /// The probability that a live peer stays silent long enough to cross the threshold after
    /// one heartbeat: under the model, `10^−Φ`, for accrual detectors; for binary ones
    /// ([`Fixed`], [`Chen`]), whose deadline does not depend on the threshold, the share of
    /// the past intervals that outlasted it, by the rule of succession. `None` before the
    /// first arrival.
    pub false_suspicion_probability: Option<f64>,
    /// The false suspicions per hour of a live peer that the threshold means: the probability
    /// per heartbeat times the heartbeats per hour (`3600 s / η`, with η the detector's
    /// [`expected_interval`](Detector::expected_interval)). `None` where either is unknown.
    pub mistakes_per_hour: Option<f64>,
}

impl fmt::Display for Meaning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "φ = {}: ", self.threshold)?;
        match self.timeout {
            Some(t) => write!(f, "suspect after {t} of silence")?,
            None => write!(f, "no timeout yet")?,
        }
        if let Some(p) = self.false_suspicion_probability {
            write!(f, ", false-suspicion probability {p:e} per heartbeat")?;
        }
        if let Some(r) = self.mistakes_per_hour {
            write!(f, ", {r:e} false suspicions per hour")?;
        }
        Ok(())
    }
}

/// A single-peer failure detector. See the [module docs](self) for the time model.
///
/// ```
/// use accrual::{Detector, Nanos, PhiNormal, PhiNormalConfig};
///
/// let cfg = PhiNormalConfig { first_interval: Nanos::from_millis(100), ..Default::default() };
/// let mut d = PhiNormal::new(cfg).unwrap();
/// for i in 0..100u64 {
///     // a heartbeat every 100 ms, ± 1 ms
///     d.heartbeat(Nanos::from_millis(100 * i + i % 3));
/// }
/// let last = d.last_arrival().unwrap();
/// assert!(d.phi(last + Nanos::from_millis(50)) < 0.01);
/// let deadline = d.deadline(8.0).unwrap();
/// assert!(d.phi(deadline + Nanos(1)) >= 8.0);
/// ```
pub trait Detector: fmt::Debug + Send + Sync {
    /// Records a heartbeat received at `at`, with the sender's sequence number if it has one
    /// (without, it is taken to be the next one sent).
    fn record(&mut self, at: Nanos, seq: Option<u64>) -> Arrival;

    /// Records a heartbeat whose interval since the previous one says nothing about the peer,
    /// because the monitor itself was absent for part of it (a stall of its process: the
    /// heartbeat waited, unread, in a socket buffer). The arrival counts as any other (it ends
    /// the silence, its sequence number is checked), but a learning detector does not learn the
    /// interval. Detectors that cannot leave an interval out record it as [`record`](Self::record)
    /// does; [`Adaptive`] leaves it out.
    fn record_unlearned(&mut self, at: Nanos, seq: Option<u64>) -> Arrival {
        self.record(at, seq)
    }

    /// Records a heartbeat received at `at`, taken to be the next one the peer sent.
    fn heartbeat(&mut self, at: Nanos) -> Arrival {
        self.record(at, None)
    }

    /// Records a heartbeat received at `at` carrying the sender's sequence number `seq`.
    fn heartbeat_seq(&mut self, at: Nanos, seq: u64) -> Arrival {
        self.record(at, Some(seq))
    }

    /// The suspicion level at `now`: finite, ≥ 0, non-decreasing in `now`; 0 before the first
    /// arrival.
    fn phi(&self, now: Nanos) -> f64;

    /// The last instant the peer is trusted at `threshold` if nothing else arrives; it is
    /// suspected from one nanosecond later. `None` before the first arrival, when the threshold
    /// is NaN or infinite, or for a detector that would never reach it. A threshold of zero or
    /// less gives the latest arrival (suspected at once).
    fn deadline(&self, threshold: f64) -> Option<Nanos>;

    /// The latest accepted arrival.
    fn last_arrival(&self) -> Option<Nanos>;

    /// How many arrivals were accepted and ignored.
    fn arrivals(&self) -> ArrivalCounts;

    /// The model's probability that a live peer crosses `threshold` after one heartbeat:
    /// `10^−threshold` unless the detector is binary.
    fn false_suspicion_probability(&self, threshold: f64) -> Option<f64> {
        Some(probability_of_phi(threshold))
    }

    /// The interval at which the detector expects heartbeats right now (learned, configured,
    /// or for [`Fixed`] the mean seen): what turns a probability per heartbeat into a rate per
    /// hour. `None` while it has none.
    fn expected_interval(&self) -> Option<Nanos> {
        None
    }

    /// The threshold that means `mistakes_per_hour` false suspicions per hour of a live peer:
    /// `Φ = −log10(mistakes_per_hour · η / 3600 s)`, with η the
    /// [`expected_interval`](Self::expected_interval). It is the same trade for every
    /// detector, whatever its interval; the [`Monitor`](crate::Monitor) applies it per peer
    /// when [`MonitorConfig::mistakes_per_hour`](crate::MonitorConfig::mistakes_per_hour) is
    /// set. `None` if the detector has no interval, or the rate is not positive and finite.
    /// A binary detector's deadline does not depend on its threshold, so the rate does not
    /// move it.
    ///
    /// ```
    /// use accrual::{Adaptive, AdaptiveConfig, Detector, Nanos};
    ///
    /// let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
    /// for i in 0..100u64 {
    ///     d.heartbeat(Nanos::from_millis(100 * i));
    /// }
    /// // 0.1 false suspicions an hour at 36,000 heartbeats an hour: 1 in 360,000.
    /// let phi = d.threshold_for_rate(0.1).unwrap();
    /// assert!((phi - 360_000f64.log10()).abs() < 1e-9);
    /// let meaning = d.meaning(phi);
    /// assert!((meaning.mistakes_per_hour.unwrap() / 0.1 - 1.0).abs() < 1e-9);
    /// ```
    fn threshold_for_rate(&self, mistakes_per_hour: f64) -> Option<f64> {
        if !(mistakes_per_hour > 0.0 && mistakes_per_hour.is_finite()) {
            return None;
        }
        let eta = self.expected_interval()?.as_nanos() as f64;
        (eta > 0.0).then(|| -(mistakes_per_hour * eta / NANOS_PER_HOUR).log10())
    }

    /// What `threshold` means right now: the equivalent fixed timeout, the false-suspicion
    /// probability per heartbeat, and the false suspicions per hour.
    fn meaning(&self, threshold: f64) -> Meaning {
        let timeout = match (self.deadline(threshold), self.last_arrival()) {
            (Some(d), Some(last)) => Some(d - last),
            _ => None,
        };
        let p = self.false_suspicion_probability(threshold);
        let eta = self.expected_interval().map(|e| e.as_nanos() as f64);
        Meaning {
            threshold,
            timeout,
            false_suspicion_probability: p,
            mistakes_per_hour: match (p, eta) {
                (Some(p), Some(eta)) if eta > 0.0 => Some(p * NANOS_PER_HOUR / eta),
                _ => None,
            },
        }
    }
}

/// The acceptance rules shared by every detector: sequence numbers and backwards time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ArrivalLog {
    pub(crate) last: Option<Nanos>,
    pub(crate) max_seq: Option<u64>,
    pub(crate) counts: ArrivalCounts,
}

/// The outcome of [`ArrivalLog::accept`]: the interval since the previous accepted arrival
/// (`None` for the first), and the sequence number assigned.
pub(crate) struct Accepted {
    pub(crate) interval: Option<Nanos>,
    pub(crate) seq: u64,
}

impl ArrivalLog {
    /// Applies the rules; on acceptance records the arrival and returns its interval.
    pub(crate) fn accept(&mut self, at: Nanos, seq: Option<u64>) -> Result<Accepted, Arrival> {
        if let (Some(s), Some(max)) = (seq, self.max_seq)
            && s <= max
        {
            self.counts.stale += 1;
            return Err(Arrival::Stale);
        }
        if let Some(last) = self.last
            && at < last
        {
            self.counts.backwards += 1;
            return Err(Arrival::Backwards);
        }
        let seq = match (seq, self.max_seq) {
            (Some(s), _) => s,
            (None, Some(max)) => max.saturating_add(1),
            (None, None) => 0,
        };
        let interval = self.last.map(|last| at - last);
        self.last = Some(at);
        self.max_seq = Some(seq);
        self.counts.accepted += 1;
        Ok(Accepted { interval, seq })
    }

    /// The rules every deadline shares: `Ok(latest arrival)` when the threshold needs the
    /// model, otherwise `Err(the answer)`: `None` before any arrival or for a NaN or infinite
    /// threshold, the latest arrival for a threshold of zero or less.
    pub(crate) fn deadline_gate(&self, threshold: f64) -> Result<Nanos, Option<Nanos>> {
        let Some(last) = self.last else {
            return Err(None);
        };
        if !threshold.is_finite() {
            return Err(None);
        }
        if threshold <= 0.0 {
            return Err(Some(last));
        }
        Ok(last)
    }

    /// Time since the latest arrival (zero for instants before it).
    pub(crate) fn elapsed(&self, now: Nanos) -> Option<Nanos> {
        self.last.map(|last| now - last)
    }
}

/// `⌊last + whole + x⌋`, clamped to `[last, Nanos::MAX]`: the spec's rounding and clamping,
/// computed in 128 bits so that neither a negative `x` nor the end of time wraps.
pub(crate) fn deadline_at(last: Nanos, whole: u64, x: f64) -> Nanos {
    if x.is_nan() {
        return last;
    }
    // `as` saturates at the bounds of i128, far beyond the u64 range the result is clamped to.
    let tau = i128::from(last.as_nanos())
        .saturating_add(i128::from(whole))
        .saturating_add(x.floor() as i128);
    Nanos(tau.clamp(i128::from(last.as_nanos()), i128::from(u64::MAX)) as u64)
}

/// φ of a step detector: 0 up to and including `threshold_elapsed`, certain after it.
pub(crate) fn step_phi(elapsed: Nanos, threshold_elapsed: Nanos) -> f64 {
    if elapsed > threshold_elapsed {
        crate::math::PHI_MAX
    } else {
        0.0
    }
}
