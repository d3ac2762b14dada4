//! Requests as evidence: each request's outcome, passive ejection, and the per-backend answers
//! (request timeout, hedge delay, admission) that a load balancer reads without a lock.
//!
//! A [`Monitor`](super::Monitor) learns a backend's health from its heartbeats. A load balancer
//! also sees every request it sends, and a refused connection or a run of gateway errors says
//! more, sooner, than a missing heartbeat. [`Monitor::record_outcome`](super::Monitor::record_outcome)
//! takes each outcome; [`EjectionConfig`] says when outcomes eject a backend:
//!
//! * `consecutive_gateway_failures` gateway failures in a row (refused or reset connections,
//!   timeouts, [`FailureClass::Gateway`] errors) eject it at once;
//! * every `interval`, a backend whose success rate is an outlier against the pool's (below
//!   the mean by more than `success_rate_stdev_factor` standard deviations, among at least
//!   `success_rate_min_backends` backends with `success_rate_min_requests` requests each) is
//!   ejected;
//! * an ejected backend is readmitted on probation after its ejection time: one request at
//!   first, and only once it has sent a heartbeat since its ejection, if it sends any. A
//!   success readmits it; a failure ejects it again, for twice as long (from `base_ejection`
//!   up to `max_ejection`). Each `interval` without an ejection halves the next one again.
//!
//! Ejections count against [`max_dead_fraction`](super::MonitorConfig::max_dead_fraction)
//! with the `Dead` peers: beyond it, a backend is not ejected (the pool fails open). An
//! ejected or probationary backend is at least `Suspect` at the next
//! [`tick`](super::Monitor::tick); heartbeats can only make it worse.
//!
//! [`Monitor::backend`](super::Monitor::backend) hands out a [`Backend`]: a shared handle
//! whose answers are atomics, refreshed when outcomes are recorded and at every tick. Reading
//! them takes no lock.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::config::{
    ConfigError, check_bounded, check_duration_order, check_non_negative, check_positive_duration,
};
use crate::monitor::Monitor;
use crate::time::{Clock, Nanos};

/// What became of one request to a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Outcome {
    /// A reply, `latency` after the request was sent: a round-trip sample.
    Success {
        /// From sending the request to its reply.
        latency: Nanos,
    },
    /// The connection was refused or reset before any reply: a gateway failure.
    Refused,
    /// No reply within `waited`: a censored round-trip sample (at least `waited`) and a
    /// gateway failure.
    TimedOut {
        /// How long the request waited.
        waited: Nanos,
    },
    /// An error reply of `class`, `latency` after the request was sent.
    Failed {
        /// Whose fault the error is.
        class: FailureClass,
        /// From sending the request to the error.
        latency: Nanos,
    },
    /// Given up by the caller after `waited` (a hedged request that lost, a client that went
    /// away): the latency was at least `waited`. Not a failure, and never a timeout: it
    /// neither backs the timeout off nor counts against the backend.
    Cancelled {
        /// How long the request had waited.
        waited: Nanos,
    },
}

/// Whose fault an error reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FailureClass {
    /// The backend could not serve at all (HTTP 502, 503, 504; a broken connection): counts
    /// toward consecutive gateway failures and against the success rate.
    Gateway,
    /// The backend served an error of its own (other 5xx): counts against the success rate.
    Server,
    /// The request's own fault (4xx): says nothing against the backend, counted as a success
    /// for its health.
    Client,
}

impl Outcome {
    /// Whether the outcome counts as a gateway failure.
    fn is_gateway_failure(self) -> bool {
        matches!(
            self,
            Outcome::Refused
                | Outcome::TimedOut { .. }
                | Outcome::Failed {
                    class: FailureClass::Gateway,
                    ..
                }
        )
    }

    /// Whether the outcome counts against the backend's success rate.
    fn is_failure(self) -> bool {
        self.is_gateway_failure()
            || matches!(
                self,
                Outcome::Failed {
                    class: FailureClass::Server,
                    ..
                }
            )
    }
}

/// When request outcomes eject a backend
/// ([`Monitor::record_outcome`](super::Monitor::record_outcome)): gateway failures in a row
/// eject it at once; an outlier success rate ejects it at the end of an interval; it returns on
/// probation (one trial request), and each ejection in a row lasts twice as long.
///
/// | field | default | rule |
/// |---|---|---|
/// | `consecutive_gateway_failures` | 3 | 0 (off) or more |
/// | `success_rate_stdev_factor` | 1.9 | finite, ≥ 0 (0: off) |
/// | `success_rate_min_requests` | 20 | ≥ 1 |
/// | `success_rate_min_backends` | 3 | ≥ 2 |
/// | `interval` | `1s` | positive |
/// | `base_ejection` | `1s` | positive |
/// | `max_ejection` | `30s` | ≥ `base_ejection` |
///
/// ```
/// use accrual::monitor::EjectionConfig;
/// use accrual::{ConfigError, Nanos};
///
/// let cfg = EjectionConfig { max_ejection: Nanos::from_millis(10), ..Default::default() };
/// assert!(matches!(cfg.validate(), Err(ConfigError::InvertedDurations { .. })));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct EjectionConfig {
    /// Gateway failures in a row that eject a backend at once (0: never).
    pub consecutive_gateway_failures: u32,
    /// How many standard deviations below the pool's mean success rate a backend's may fall
    /// before it is ejected (0: never).
    pub success_rate_stdev_factor: f64,
    /// The fewest requests in an interval for a backend's success rate to count.
    pub success_rate_min_requests: u64,
    /// The fewest backends with enough requests for success rates to be compared.
    pub success_rate_min_backends: usize,
    /// How often success rates are judged (their counts start afresh each time).
    pub interval: Nanos,
    /// The first ejection's length.
    pub base_ejection: Nanos,
    /// The longest ejection.
    pub max_ejection: Nanos,
}

impl Default for EjectionConfig {
    fn default() -> Self {
        EjectionConfig {
            consecutive_gateway_failures: 3,
            success_rate_stdev_factor: 1.9,
            success_rate_min_requests: 20,
            success_rate_min_backends: 3,
            interval: Nanos::from_secs(1),
            base_ejection: Nanos::from_secs(1),
            max_ejection: Nanos::from_secs(30),
        }
    }
}

impl EjectionConfig {
    /// Checks every rule; [`MonitorConfig::validate`](super::MonitorConfig::validate) calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_non_negative(
            "ejection.success_rate_stdev_factor",
            self.success_rate_stdev_factor,
        )?;
        if self.success_rate_min_requests == 0 {
            return Err(ConfigError::ZeroCount {
                field: "ejection.success_rate_min_requests",
            });
        }
        if self.success_rate_min_backends < 2 {
            return Err(ConfigError::OutOfRange {
                field: "ejection.success_rate_min_backends",
                value: self.success_rate_min_backends as f64,
                min: 2.0,
                max: usize::MAX as f64,
            });
        }
        check_positive_duration("ejection.interval", self.interval)?;
        check_positive_duration("ejection.base_ejection", self.base_ejection)?;
        check_bounded("ejection.max_ejection", self.max_ejection)?;
        check_duration_order(
            ("ejection.base_ejection", self.base_ejection),
            ("ejection.max_ejection", self.max_ejection),
        )?;
        Ok(())
    }

    /// The length of the `n`-th ejection in a row (`n ≥ 1`): doubling, at most the maximum.
    fn ejection(&self, n: u32) -> Nanos {
        let doublings = n.saturating_sub(1).min(40);
        let ns = self
            .base_ejection
            .as_nanos()
            .saturating_mul(1u64 << doublings);
        Nanos(ns.min(self.max_ejection.as_nanos()))
    }
}

/// Whether a backend takes requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Admission {
    /// It takes requests.
    Admitted,
    /// It was ejected, and is back on trial: one request at a time until one succeeds.
    Probation,
    /// Its outcomes ejected it: no requests until it is readmitted on probation.
    Ejected,
}

const ADMITTED: u8 = 0;
const EJECTED: u8 = 1;
/// On probation, its trial request not yet sent.
const PROBATION: u8 = 2;
/// On probation, its trial request in flight.
const TRIAL: u8 = 3;

/// Whether a request may be sent in `state`: admitted, or on probation with no trial out.
fn ready(state: u8) -> bool {
    state == ADMITTED || state == PROBATION
}

/// The answers one backend publishes, read without a lock.
pub(crate) struct Shared {
    timeout: AtomicU64,
    hedge: AtomicU64,
    state: AtomicU8,
    /// Tasks waiting for the backend to take requests again.
    wakers: Mutex<Vec<Waker>>,
}

impl Shared {
    fn new(timeout: Nanos, hedge: Nanos) -> Self {
        Shared {
            timeout: AtomicU64::new(timeout.as_nanos()),
            hedge: AtomicU64::new(hedge.as_nanos()),
            state: AtomicU8::new(ADMITTED),
            wakers: Mutex::new(Vec::new()),
        }
    }

    fn set_state(&self, state: u8) {
        let before = self.state.swap(state, Ordering::AcqRel);
        if !ready(before) && ready(state) {
            self.wake();
        }
    }

    /// Ends a trial request that was cancelled: another may be sent.
    fn free_trial(&self) {
        if self
            .state
            .compare_exchange(TRIAL, PROBATION, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.wake();
        }
    }

    fn wake(&self) {
        for w in self.wakers.lock().drain(..) {
            w.wake();
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("timeout", &Nanos(self.timeout.load(Ordering::Relaxed)))
            .field("hedge", &Nanos(self.hedge.load(Ordering::Relaxed)))
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// One backend's answers for a load balancer, shared with the [`Monitor`] that keeps them
/// current: cheap to clone, and every read is an atomic load.
///
/// ```
/// use accrual::monitor::{Admission, Monitor, MonitorConfig, Outcome};
/// use accrual::{ManualClock, Nanos};
///
/// let monitor = Monitor::with_clock(MonitorConfig::default(), ManualClock::default()).unwrap();
/// let b = monitor.backend(&"10.0.0.1:80").unwrap();
/// assert_eq!(b.request_timeout(), Nanos::from_secs(1)); // cold
/// // Two more backends: ejecting one of three stays within the cap (half the pool).
/// monitor.backend(&"10.0.0.2:80").unwrap();
/// monitor.backend(&"10.0.0.3:80").unwrap();
/// for _ in 0..3 {
///     monitor.record_outcome(&"10.0.0.1:80", Outcome::Refused).unwrap();
/// }
/// // Three refused connections in a row: ejected at once.
/// assert_eq!(b.admission(), Admission::Ejected);
/// ```
#[derive(Debug, Clone)]
pub struct Backend {
    shared: Arc<Shared>,
}

impl Backend {
    /// How long the next request may wait for its reply.
    pub fn request_timeout(&self) -> Nanos {
        Nanos(self.shared.timeout.load(Ordering::Relaxed))
    }

    /// How long to wait before sending a hedged (duplicate) request elsewhere.
    pub fn hedge_delay(&self) -> Nanos {
        Nanos(self.shared.hedge.load(Ordering::Relaxed))
    }

    /// Whether the backend takes requests.
    pub fn admission(&self) -> Admission {
        match self.shared.state.load(Ordering::Acquire) {
            ADMITTED => Admission::Admitted,
            EJECTED => Admission::Ejected,
            _ => Admission::Probation,
        }
    }

    /// Whether a request may be sent now. Admitted: yes. On probation: yes once, for the
    /// trial request (this call takes it), until its outcome is recorded. Ejected: no.
    pub fn try_acquire(&self) -> bool {
        let s = &self.shared.state;
        match s.load(Ordering::Acquire) {
            ADMITTED => true,
            PROBATION => s
                .compare_exchange(PROBATION, TRIAL, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
            _ => false,
        }
    }

    /// `Ready` when a request may be sent (admitted, or on probation with no trial request
    /// out); otherwise `Pending`, and the task is woken when the backend is readmitted or its
    /// trial request ends. Does not take the trial request: see [`try_acquire`](Self::try_acquire).
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        if ready(self.shared.state.load(Ordering::Acquire)) {
            return Poll::Ready(());
        }
        let mut wakers = self.shared.wakers.lock();
        // Checked again under the lock: a readmission in between wakes no one.
        if ready(self.shared.state.load(Ordering::Acquire)) {
            return Poll::Ready(());
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A peer's request evidence: outcome counts, ejection state, probe round trips, and the
/// answers it publishes. Not kept in snapshots: a restored monitor admits every backend.
#[derive(Debug, Clone)]
pub(crate) struct Requests {
    pub(crate) shared: Arc<Shared>,
    /// Gateway failures in a row.
    gateway_run: u32,
    /// Ejections in a row, for the next one's length.
    ejections: u32,
    /// While ejected: until when.
    ejected_until: Option<Nanos>,
    /// The latest ejection.
    ejected_at: Option<Nanos>,
    /// Outcomes this interval.
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    /// Probe round trips (heartbeat-layer pings), learned apart from request latencies.
    pub(crate) probe: ProbeStats,
}

/// Round trips of the heartbeat layer's probes: learned apart from request latencies.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProbeStats {
    /// RFC 6298's smoothed round trip, once there is a sample.
    pub srtt: Option<Nanos>,
    /// RFC 6298's round-trip variation, once there is a sample.
    pub rttvar: Option<Nanos>,
    /// Probes answered.
    pub samples: u64,
    /// Probes unanswered.
    pub timeouts: u64,
    /// Probes unanswered since the last answer.
    pub unanswered: u32,
}

impl ProbeStats {
    /// `SRTT + 4·RTTVAR`, doubled for each unanswered probe since the last answer, within
    /// `[floor, ceiling]`; `None` before the first answer.
    pub fn timeout(&self, floor: Nanos, ceiling: Nanos) -> Option<Nanos> {
        let (srtt, rttvar) = (self.srtt?, self.rttvar?);
        let base = srtt
            .as_nanos()
            .saturating_add(rttvar.as_nanos().saturating_mul(4));
        let doubled = base.saturating_mul(1u64 << self.unanswered.min(16));
        Some(Nanos(doubled).clamp(floor, ceiling.max(floor)))
    }

    fn record(&mut self, rtt: Nanos) {
        let r = rtt.as_nanos() as f64;
        let (srtt, rttvar) = match (self.srtt, self.rttvar) {
            (Some(s), Some(v)) => {
                let (s, v) = (s.as_nanos() as f64, v.as_nanos() as f64);
                (0.875 * s + 0.125 * r, 0.75 * v + 0.25 * (s - r).abs())
            }
            _ => (r, r / 2.0),
        };
        self.srtt = Some(Nanos(srtt as u64));
        self.rttvar = Some(Nanos(rttvar as u64));
        self.samples += 1;
        self.unanswered = 0;
    }
}

/// What recording an outcome did to the backend's admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    /// Ejected: counts against the cap.
    Ejected,
    /// Readmitted after a successful trial: no longer counts.
    Readmitted,
}

impl Requests {
    pub(crate) fn new(timeout: Nanos, hedge: Nanos) -> Self {
        Requests {
            shared: Arc::new(Shared::new(timeout, hedge)),
            gateway_run: 0,
            ejections: 0,
            ejected_until: None,
            ejected_at: None,
            successes: 0,
            failures: 0,
            probe: ProbeStats::default(),
        }
    }

    pub(crate) fn handle(&self) -> Backend {
        Backend {
            shared: Arc::clone(&self.shared),
        }
    }

    pub(crate) fn publish(&self, timeout: Nanos, hedge: Nanos) {
        self.shared
            .timeout
            .store(timeout.as_nanos(), Ordering::Relaxed);
        self.shared.hedge.store(hedge.as_nanos(), Ordering::Relaxed);
    }

    /// Whether it is ejected or on probation (and so counts against the cap).
    pub(crate) fn out(&self) -> bool {
        self.ejected_at.is_some()
    }

    pub(crate) fn admission(&self) -> Admission {
        Backend {
            shared: Arc::clone(&self.shared),
        }
        .admission()
    }

    pub(crate) fn record_probe(&mut self, rtt: Option<Nanos>) {
        match rtt {
            Some(rtt) => self.probe.record(rtt),
            None => {
                self.probe.timeouts += 1;
                self.probe.unanswered = self.probe.unanswered.saturating_add(1);
            }
        }
    }

    /// Takes one outcome at `now`. `may_eject` says whether the cap leaves room for one more
    /// ejection.
    pub(crate) fn record(
        &mut self,
        outcome: Outcome,
        now: Nanos,
        cfg: &EjectionConfig,
        may_eject: bool,
    ) -> Change {
        if matches!(outcome, Outcome::Cancelled { .. }) {
            // A lower bound on the latency: neither a success nor a failure. A cancelled
            // trial request frees the trial for another.
            self.shared.free_trial();
            return Change::None;
        }
        let failed = outcome.is_failure();
        if failed {
            self.failures += 1;
        } else {
            self.successes += 1;
        }
        if outcome.is_gateway_failure() {
            self.gateway_run = self.gateway_run.saturating_add(1);
        } else {
            self.gateway_run = 0;
        }
        let state = self.shared.state.load(Ordering::Acquire);
        if state == PROBATION || state == TRIAL {
            // The trial's verdict.
            if failed {
                self.eject(now, cfg);
                return Change::None;
            }
            self.readmit();
            return Change::Readmitted;
        }
        if state == ADMITTED
            && may_eject
            && cfg.consecutive_gateway_failures > 0
            && self.gateway_run >= cfg.consecutive_gateway_failures
        {
            self.eject(now, cfg);
            return Change::Ejected;
        }
        Change::None
    }

    pub(crate) fn eject(&mut self, now: Nanos, cfg: &EjectionConfig) {
        self.ejections = self.ejections.saturating_add(1);
        self.ejected_until = Some(now + cfg.ejection(self.ejections));
        self.ejected_at = Some(now);
        self.gateway_run = 0;
        self.shared.set_state(EJECTED);
    }

    fn readmit(&mut self) {
        self.ejected_until = None;
        self.ejected_at = None;
        self.gateway_run = 0;
        self.shared.set_state(ADMITTED);
    }

    /// At a tick: an ejection that has run its time goes on probation, if the backend has
    /// shown a sign of life since it was ejected: a heartbeat (a killed or stopped backend
    /// sends none, and its trial would only fail), or none ever (a backend without
    /// heartbeats is tried on the timer alone). Returns whether it did.
    pub(crate) fn advance(&mut self, now: Nanos, last_heartbeat: Option<Nanos>) -> bool {
        let alive = match (last_heartbeat, self.ejected_at) {
            (Some(beat), Some(ejected)) => beat > ejected,
            _ => true,
        };
        if alive
            && self.shared.state.load(Ordering::Acquire) == EJECTED
            && self.ejected_until.is_some_and(|until| now >= until)
        {
            self.ejected_until = None;
            self.shared.set_state(PROBATION);
            return true;
        }
        false
    }

    /// At the end of an interval: counts start afresh, and an interval without an ejection
    /// shortens the next one.
    pub(crate) fn next_interval(&mut self, now: Nanos, cfg: &EjectionConfig) {
        self.successes = 0;
        self.failures = 0;
        let quiet = self
            .ejected_at
            .is_none_or(|at| now.saturating_sub(at) >= cfg.interval);
        if quiet && !self.out() {
            self.ejections = self.ejections.saturating_sub(1);
        }
    }
}

/// The backends whose success rate this interval is an outlier: indices into `rates`
/// (`(successes, failures)` per backend), for backends with enough requests, when enough of
/// them have.
pub(crate) fn outliers(rates: &[(u64, u64)], cfg: &EjectionConfig) -> Vec<usize> {
    if cfg.success_rate_stdev_factor == 0.0 {
        return Vec::new();
    }
    let counted: Vec<(usize, f64)> = rates
        .iter()
        .enumerate()
        .filter(|(_, (s, f))| s + f >= cfg.success_rate_min_requests)
        .map(|(i, (s, f))| (i, *s as f64 / (s + f) as f64))
        .collect();
    if counted.len() < cfg.success_rate_min_backends {
        return Vec::new();
    }
    let n = counted.len() as f64;
    let mean = counted.iter().map(|(_, r)| r).sum::<f64>() / n;
    let var = counted.iter().map(|(_, r)| (r - mean).powi(2)).sum::<f64>() / n;
    let below = mean - cfg.success_rate_stdev_factor * var.sqrt();
    counted
        .into_iter()
        .filter(|(_, r)| *r < below)
        .map(|(i, _)| i)
        .collect()
}

/// A request in flight to one backend: records its outcome when told, and on drop as
/// cancelled (a lower bound on the latency, never a timeout).
///
/// ```
/// use std::sync::Arc;
/// use accrual::monitor::{Monitor, MonitorConfig};
/// use accrual::{ManualClock, Nanos};
///
/// let clock = ManualClock::default();
/// let monitor = Arc::new(Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap());
/// let guard = monitor.start_request(&"b").unwrap();
/// clock.advance(Nanos::from_millis(12));
/// guard.success();
/// assert_eq!(monitor.stats(&"b").unwrap().timeouts.unwrap().samples, 1);
/// ```
#[must_use = "a guard dropped at once records a cancelled request"]
pub struct RequestGuard<K: Hash + Eq + Clone, C: Clock> {
    monitor: Arc<Monitor<K, C>>,
    peer: K,
    sent: Nanos,
    done: bool,
}

impl<K: Hash + Eq + Clone, C: Clock> RequestGuard<K, C> {
    pub(crate) fn new(monitor: Arc<Monitor<K, C>>, peer: K, sent: Nanos) -> Self {
        RequestGuard {
            monitor,
            peer,
            sent,
            done: false,
        }
    }

    /// When the request was sent, on the monitor's time line.
    pub fn sent(&self) -> Nanos {
        self.sent
    }

    /// The backend it went to.
    pub fn peer(&self) -> &K {
        &self.peer
    }

    fn finish(mut self, outcome: impl FnOnce(Nanos) -> Outcome) {
        self.done = true;
        let waited = self.monitor.now().saturating_sub(self.sent);
        // A backend removed meanwhile, or a full table: nothing to record it in.
        let _ = self.monitor.record_outcome(&self.peer, outcome(waited));
    }

    /// The reply came: a success, its latency measured now.
    pub fn success(self) {
        self.finish(|latency| Outcome::Success { latency });
    }

    /// An error reply of `class` came now.
    pub fn failure(self, class: FailureClass) {
        self.finish(|latency| Outcome::Failed { class, latency });
    }

    /// The connection was refused or reset.
    pub fn refused(self) {
        self.finish(|_| Outcome::Refused);
    }

    /// The request timed out now.
    pub fn timed_out(self) {
        self.finish(|waited| Outcome::TimedOut { waited });
    }

    /// The caller gave up on it now (what dropping the guard does).
    pub fn cancel(self) {
        self.finish(|waited| Outcome::Cancelled { waited });
    }
}

impl<K: Hash + Eq + Clone, C: Clock> Drop for RequestGuard<K, C> {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            let waited = self.monitor.now().saturating_sub(self.sent);
            let _ = self
                .monitor
                .record_outcome(&self.peer, Outcome::Cancelled { waited });
        }
    }
}

impl<K: Hash + Eq + Clone + fmt::Debug, C: Clock> fmt::Debug for RequestGuard<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestGuard")
            .field("peer", &self.peer)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ejections_double_up_to_the_maximum() {
        let cfg = EjectionConfig::default();
        let secs: Vec<u64> = (1..=7)
            .map(|n| cfg.ejection(n).as_nanos() / 1_000_000_000)
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(cfg.ejection(u32::MAX), Nanos::from_secs(30));
    }

    #[test]
    fn an_outlier_is_below_the_mean_by_the_factor() {
        let cfg = EjectionConfig::default();
        // Four backends at 99 %, one at 50 %: mean 0.892, σ 0.196, cut 0.519.
        let rates = [(99, 1), (99, 1), (50, 50), (99, 1), (99, 1)];
        assert_eq!(outliers(&rates, &cfg), [2]);
        // Too few requests: not counted, and then too few backends.
        let rates = [(9, 1), (99, 1), (5, 5)];
        assert!(outliers(&rates, &cfg).is_empty());
        // Everyone equally bad: nobody is an outlier.
        assert!(outliers(&[(50, 50); 5], &cfg).is_empty());
    }
}
