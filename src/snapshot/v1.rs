//! Version 1 of the snapshot format, `accrual_monitor_v1`: see the [module docs](super) for
//! the rules. Nothing here may change what version 1 writes or reads; a change of format is a
//! new version beside this one.
//!
//! Each persisted thing has its type here: plain, owned data with derived serde, its fields in
//! the order they are written. Beside each are its two conversions: from a reference to the
//! runtime type, to write it, and back to the runtime type (`TryFrom`), to read it, checking
//! every rule the runtime state obeys and refusing a state that breaks one with the rule's
//! message. The runtime types' `Serialize` and `Deserialize` (at the end of this file) go
//! through them and do nothing else. Learned floating-point values are written as their bit
//! patterns.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::SnapshotError;
use super::digest::digest;
use crate::config::ConfigError;
use crate::detector::adaptive::model::{BUCKETS, EDGES, Model};
use crate::detector::adaptive::regime::Regime;
use crate::detector::chen::NORMALISED_CAP;
use crate::detector::{
    AdaptiveConfig, AnyDetector, ArrivalCounts, ChenConfig, DetectorConfig, EmpiricalConfig,
    FixedConfig, PhiExponentialConfig, PhiNormalConfig,
};
use crate::histogram::{HistogramConfig, Survival};
use crate::math::{MAX_INTERVAL_NS, MAX_WINDOW};
use crate::monitor::peer;
use crate::suspicion::Level;
use crate::time::Nanos;
use crate::timeout::{MAX_BACKOFF, TimeoutConfig};
use crate::{detector, histogram, math, timeout};

/// The name version 1 is written under, which its checksum covers.
pub(crate) const FORMAT: &str = "accrual_monitor_v1";

/// Why a state of version 1 was refused: the rule it broke.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid(String);

impl Invalid {
    fn new(rule: impl fmt::Display) -> Self {
        Invalid(rule.to_string())
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ConfigError> for Invalid {
    fn from(e: ConfigError) -> Self {
        Invalid::new(e)
    }
}

/// Counters from this on (2^62 arrivals or requests) cannot come from a real peer, and would
/// overflow later.
const MAX_COUNT: u64 = 1 << 62;

/// The document: when it was taken, the configurations the peers ran, the peers, and a
/// checksum of all of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document<K> {
    pub(crate) taken_at: Nanos,
    pub(crate) detector: DetectorConfig,
    pub(crate) timeout: TimeoutConfig,
    pub(crate) peers: Vec<Peer<K>>,
    /// FNV-1a of everything above, as 16 hex digits: see [`Document::sum`].
    pub(crate) checksum: String,
}

/// One peer: its key, its detector's state (tagged with its kind), its level and the instant it
/// entered it (`None` in the initial `Unknown`), and its request-timeout estimator once it has
/// one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Peer<K> {
    pub(crate) peer: K,
    pub(crate) detector: Detector,
    pub(crate) level: Level,
    pub(crate) since: Option<Nanos>,
    pub(crate) rtt: Option<Rtt>,
}

/// A peer's detector as plain data, tagged with its kind as [`AnyDetector`]'s serde tags it
/// (the same names, each kind's state its `v1` type): nothing is built from it while it is
/// parsed, so a snapshot's claims (a histogram's size, a window's capacity) are compared with
/// the restoring monitor's configuration before anything is allocated from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Detector {
    Fixed(Fixed),
    PhiNormal(PhiNormal),
    PhiExponential(PhiExponential),
    Chen(Chen),
    Empirical(Empirical),
    Adaptive(Adaptive),
}

impl Detector {
    /// Whether this state was learned under `config` (compared as plain data).
    pub(crate) fn runs(&self, config: &DetectorConfig) -> bool {
        match (self, config) {
            (Detector::Fixed(o), DetectorConfig::Fixed(c)) => &o.config == c,
            (Detector::PhiNormal(o), DetectorConfig::PhiNormal(c)) => &o.config == c,
            (Detector::PhiExponential(o), DetectorConfig::PhiExponential(c)) => &o.config == c,
            (Detector::Chen(o), DetectorConfig::Chen(c)) => &o.config == c,
            (Detector::Empirical(o), DetectorConfig::Empirical(c)) => {
                &o.config == c && o.histogram.config == c.histogram
            }
            (Detector::Adaptive(o), DetectorConfig::Adaptive(c)) => &o.config == c,
            _ => false,
        }
    }

    /// Whether this is an [`Adaptive`] of the earlier lateness model, which no version after
    /// it restores.
    pub(crate) fn is_earlier_model(&self) -> bool {
        matches!(self, Detector::Adaptive(o) if o.surv.is_none())
    }
}

impl From<&AnyDetector> for Detector {
    fn from(d: &AnyDetector) -> Self {
        match d {
            AnyDetector::Fixed(d) => Detector::Fixed(d.into()),
            AnyDetector::PhiNormal(d) => Detector::PhiNormal((&**d).into()),
            AnyDetector::PhiExponential(d) => Detector::PhiExponential((&**d).into()),
            AnyDetector::Chen(d) => Detector::Chen((&**d).into()),
            AnyDetector::Empirical(d) => Detector::Empirical((&**d).into()),
            AnyDetector::Adaptive(d) => Detector::Adaptive((&**d).into()),
        }
    }
}

impl TryFrom<Detector> for AnyDetector {
    type Error = Invalid;

    fn try_from(d: Detector) -> Result<Self, Invalid> {
        Ok(match d {
            Detector::Fixed(o) => AnyDetector::Fixed(o.try_into()?),
            Detector::PhiNormal(o) => {
                AnyDetector::PhiNormal(Box::new(detector::PhiNormal::try_from(o)?))
            }
            Detector::PhiExponential(o) => {
                AnyDetector::PhiExponential(Box::new(detector::PhiExponential::try_from(o)?))
            }
            Detector::Chen(o) => AnyDetector::Chen(Box::new(detector::Chen::try_from(o)?)),
            Detector::Empirical(o) => {
                AnyDetector::Empirical(Box::new(detector::Empirical::try_from(o)?))
            }
            Detector::Adaptive(o) => {
                AnyDetector::Adaptive(Box::new(detector::Adaptive::try_from(o)?))
            }
        })
    }
}

impl Rtt {
    /// Whether this estimator was learned under `config` (compared as plain data, its
    /// histogram's configuration included).
    pub(crate) fn runs(&self, config: &TimeoutConfig) -> bool {
        &self.estimator.config == config && self.estimator.histogram.config == config.histogram
    }
}

/// What the checksum covers, in this order.
#[derive(Serialize)]
struct Covered<'a, K> {
    format: &'static str,
    taken_at: Nanos,
    detector: &'a DetectorConfig,
    timeout: &'a TimeoutConfig,
    peers: &'a [Peer<K>],
}

impl<K: Serialize> Document<K> {
    /// A document of these contents, sealed with their checksum.
    pub(crate) fn seal(
        taken_at: Nanos,
        detector: DetectorConfig,
        timeout: TimeoutConfig,
        peers: Vec<Peer<K>>,
    ) -> Result<Self, SnapshotError> {
        let mut doc = Document {
            taken_at,
            detector,
            timeout,
            peers,
            checksum: String::new(),
        };
        doc.checksum = doc.sum()?;
        Ok(doc)
    }

    /// The checksum of the contents (to compare with the stored one): FNV-1a over the serde
    /// data model of the format's name, `taken_at`, `detector`, `timeout` and `peers`, as 16
    /// hex digits.
    pub(crate) fn sum(&self) -> Result<String, SnapshotError> {
        let covered = Covered {
            format: FORMAT,
            taken_at: self.taken_at,
            detector: &self.detector,
            timeout: &self.timeout,
            peers: &self.peers,
        };
        digest(&covered)
            .map(|d| format!("{d:016x}"))
            .map_err(|e| SnapshotError::Unserializable(e.to_string()))
    }
}

/// A request-timeout estimator of a peer, and when it last learned something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rtt {
    pub(crate) estimator: TimeoutEstimator,
    pub(crate) last: Nanos,
}

impl From<&peer::Rtt> for Rtt {
    fn from(r: &peer::Rtt) -> Self {
        Rtt {
            estimator: TimeoutEstimator::from(&r.estimator),
            last: r.last,
        }
    }
}

impl TryFrom<Rtt> for peer::Rtt {
    type Error = Invalid;

    fn try_from(r: Rtt) -> Result<Self, Invalid> {
        // Outcomes and ejections are not kept: the restored peer is admitted.
        Ok(peer::Rtt::new(r.estimator.try_into()?, r.last, r.last))
    }
}

/// A detector's arrival log: the latest accepted arrival, the largest sequence number accepted,
/// and the counts of arrivals accepted and ignored. Reading refuses counts of [`MAX_COUNT`] or
/// more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArrivalLog {
    pub(crate) last: Option<Nanos>,
    pub(crate) max_seq: Option<u64>,
    pub(crate) counts: ArrivalCounts,
}

impl From<&detector::ArrivalLog> for ArrivalLog {
    fn from(l: &detector::ArrivalLog) -> Self {
        ArrivalLog {
            last: l.last,
            max_seq: l.max_seq,
            counts: l.counts,
        }
    }
}

impl TryFrom<ArrivalLog> for detector::ArrivalLog {
    type Error = Invalid;

    fn try_from(l: ArrivalLog) -> Result<Self, Invalid> {
        let c = l.counts;
        if [c.accepted, c.stale, c.backwards]
            .iter()
            .any(|&n| n >= MAX_COUNT)
        {
            return Err(Invalid::new("arrival log: a count is out of range"));
        }
        Ok(detector::ArrivalLog {
            last: l.last,
            max_seq: l.max_seq,
            counts: c,
        })
    }
}

/// An [`IntervalWindow`](math::IntervalWindow): its capacity and its samples, oldest first.
/// Reading rebuilds the exact sums by pushing the samples, so a window read back is as
/// consistent as one built by pushing; it refuses a capacity outside `1..=MAX_WINDOW`, more
/// samples than the capacity, and samples beyond `MAX_INTERVAL_NS`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Window {
    pub(crate) capacity: usize,
    pub(crate) samples: Vec<u64>,
}

impl From<&math::IntervalWindow> for Window {
    fn from(w: &math::IntervalWindow) -> Self {
        Window {
            capacity: w.capacity(),
            samples: w.iter().collect(),
        }
    }
}

impl TryFrom<Window> for math::IntervalWindow {
    type Error = Invalid;

    fn try_from(w: Window) -> Result<Self, Invalid> {
        if w.capacity == 0 || w.capacity > MAX_WINDOW {
            return Err(Invalid::new(format_args!(
                "interval window: capacity {} is outside 1..={MAX_WINDOW}",
                w.capacity
            )));
        }
        if w.samples.len() > w.capacity {
            return Err(Invalid::new(format_args!(
                "interval window: {} samples exceed its capacity of {}",
                w.samples.len(),
                w.capacity
            )));
        }
        if let Some(x) = w.samples.iter().find(|&&x| x > MAX_INTERVAL_NS) {
            return Err(Invalid::new(format_args!(
                "interval window: sample {x} exceeds the longest interval, {MAX_INTERVAL_NS}"
            )));
        }
        let mut window = math::IntervalWindow::new(w.capacity);
        for x in w.samples {
            window.push(x);
        }
        Ok(window)
    }
}

/// A [`WindowedHistogram`](histogram::WindowedHistogram): its configuration, its rotation
/// state, and each sub-window's recorded buckets as `[value, count]` pairs, each value the top
/// of its bucket. Reading checks the configuration, that the sub-windows fit it, and that every
/// value is the top of a bucket (anything else was altered); the running total is rebuilt from
/// the sub-windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Histogram {
    pub(crate) config: HistogramConfig,
    pub(crate) current: usize,
    pub(crate) epoch: u64,
    pub(crate) saturated: u64,
    pub(crate) subs: Vec<Vec<(u64, u32)>>,
}

impl From<&histogram::WindowedHistogram> for Histogram {
    fn from(h: &histogram::WindowedHistogram) -> Self {
        Histogram {
            config: h.config().clone(),
            current: h.current,
            epoch: h.epoch,
            saturated: h.saturated,
            subs: h
                .subs
                .iter()
                .map(|sub| {
                    sub.iter_recorded()
                        .map(|v| (v.value_iterated_to(), v.count_at_value()))
                        .collect()
                })
                .collect(),
        }
    }
}

impl TryFrom<Histogram> for histogram::WindowedHistogram {
    type Error = Invalid;

    fn try_from(o: Histogram) -> Result<Self, Invalid> {
        let mut h = histogram::WindowedHistogram::new(o.config)?;
        if o.subs.len() != h.subs.len() || o.current >= h.subs.len() {
            return Err(Invalid::new(format_args!(
                "histogram: {} sub-windows (current {}) do not fit histogram.sub_windows = {}",
                o.subs.len(),
                o.current,
                h.subs.len()
            )));
        }
        for (sub, buckets) in h.subs.iter_mut().zip(&o.subs) {
            for &(value, count) in buckets {
                // Written as the top of its bucket: anything else was altered.
                if sub.highest_equivalent(value) != value {
                    return Err(Invalid::new(format_args!(
                        "histogram: {value} is not the top of a bucket"
                    )));
                }
                sub.saturating_record_n(value, count);
            }
        }
        h.current = o.current;
        h.epoch = o.epoch;
        h.saturated = o.saturated;
        h.rebuild_total();
        Ok(h)
    }
}

/// A [`TimeoutEstimator`](timeout::TimeoutEstimator): every field, including the cached
/// histogram term, so that a restored estimator answers exactly as the original would.
/// `smoothed` is `(SRTT, RTTVAR)`, `rto` the current RTO and `cached` `(value, at, samples)`,
/// each `f64` as its bits. Reading checks the configuration, that the histogram matches it,
/// and that the counters are in range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeoutEstimator {
    pub(crate) config: TimeoutConfig,
    pub(crate) histogram: Histogram,
    pub(crate) smoothed: Option<(u64, u64)>,
    pub(crate) rto: u64,
    pub(crate) backoff: u32,
    pub(crate) samples: u64,
    pub(crate) timeouts: u64,
    pub(crate) retried: u64,
    pub(crate) cached: Option<(u64, Nanos, u64)>,
    /// Absent in documents written before it was kept: the next timeout then backs off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) backed_off_at: Option<Nanos>,
}

impl From<&timeout::TimeoutEstimator> for TimeoutEstimator {
    fn from(e: &timeout::TimeoutEstimator) -> Self {
        TimeoutEstimator {
            config: e.config.clone(),
            histogram: Histogram::from(&e.histogram),
            smoothed: e
                .smoothed
                .map(|sm| (sm.srtt.to_bits(), sm.rttvar.to_bits())),
            rto: e.rto.to_bits(),
            backoff: e.backoff,
            samples: e.samples,
            timeouts: e.timeouts,
            retried: e.retried,
            cached: e.cached.map(|c| (c.value.to_bits(), c.at, c.samples)),
            backed_off_at: e.backed_off_at,
        }
    }
}

impl TryFrom<TimeoutEstimator> for timeout::TimeoutEstimator {
    type Error = Invalid;

    fn try_from(o: TimeoutEstimator) -> Result<Self, Invalid> {
        let histogram = histogram::WindowedHistogram::try_from(o.histogram)?;
        o.config.validate()?;
        if histogram.config() != &o.config.histogram {
            return Err(Invalid::new(
                "timeout: the histogram's configuration differs from timeout.histogram",
            ));
        }
        if o.backoff > MAX_BACKOFF {
            return Err(Invalid::new(format_args!(
                "timeout: backoff {} exceeds {MAX_BACKOFF}",
                o.backoff
            )));
        }
        if o.backed_off_at.is_some() && o.backoff == 0 {
            return Err(Invalid::new(
                "timeout: a backoff instant is given but the backoff is 0",
            ));
        }
        if o.samples >= MAX_COUNT || o.timeouts >= MAX_COUNT || o.retried >= MAX_COUNT {
            return Err(Invalid::new("timeout: a counter is out of range"));
        }
        if o.cached.is_some_and(|c| c.2 > o.samples + o.timeouts) {
            return Err(Invalid::new(
                "timeout: the cached term counts more samples than were recorded",
            ));
        }
        Ok(timeout::TimeoutEstimator {
            config: o.config,
            histogram,
            smoothed: o.smoothed.map(|(srtt, rttvar)| timeout::Smoothed {
                srtt: f64::from_bits(srtt),
                rttvar: f64::from_bits(rttvar),
            }),
            rto: f64::from_bits(o.rto),
            backoff: o.backoff,
            backed_off_at: o.backed_off_at,
            samples: o.samples,
            timeouts: o.timeouts,
            retried: o.retried,
            cached: o.cached.map(|(value, at, samples)| timeout::Cached {
                value: f64::from_bits(value),
                at,
                samples,
            }),
        })
    }
}

/// `Ok` if a window read back for the detector `name` has samples and the capacity it is
/// configured with (`window`); otherwise the reason, naming `name.window`.
fn check_fits(w: &math::IntervalWindow, name: &str, window: usize) -> Result<(), Invalid> {
    if w.capacity() != window || w.is_empty() {
        return Err(Invalid::new(format_args!(
            "{name}: a window of {} samples and capacity {} does not fit {name}.window = {window}",
            w.len(),
            w.capacity(),
        )));
    }
    Ok(())
}

/// A [`Fixed`](detector::Fixed): its configuration, its arrival log, its first arrival and
/// how many intervals outlasted the timeout (absent when the first is the latest, or none was
/// late, as in snapshots written before they were kept). Reading checks
/// the configuration and that the first arrival is not after the latest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fixed {
    pub(crate) config: FixedConfig,
    pub(crate) log: ArrivalLog,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first: Option<Nanos>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) late: u64,
}

/// Whether a count is 0, and so left out of the document.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&detector::Fixed> for Fixed {
    fn from(d: &detector::Fixed) -> Self {
        Fixed {
            config: d.config.clone(),
            log: ArrivalLog::from(&d.log),
            // Left out when it is the latest (one arrival, or a document that did not have
            // it), which is how it reads back.
            first: d.log.last.filter(|&last| last != d.first).map(|_| d.first),
            late: d.late,
        }
    }
}

impl TryFrom<Fixed> for detector::Fixed {
    type Error = Invalid;

    fn try_from(o: Fixed) -> Result<Self, Invalid> {
        let log: detector::ArrivalLog = o.log.try_into()?;
        o.config.validate()?;
        let first = match (o.first, log.last) {
            (Some(first), Some(last)) if first > last => {
                return Err(Invalid::new(format_args!(
                    "fixed: first arrival {first} after the latest {last}"
                )));
            }
            (Some(first), Some(_)) => first,
            (_, last) => last.unwrap_or(Nanos::ZERO),
        };
        if o.late >= log.counts.accepted.max(1) {
            return Err(Invalid::new(format_args!(
                "fixed: {} late intervals among {} arrivals",
                o.late, log.counts.accepted
            )));
        }
        Ok(detector::Fixed {
            config: o.config,
            log,
            first,
            late: o.late,
        })
    }
}

/// A [`PhiNormal`](detector::PhiNormal): its configuration, its window and its arrival log.
/// Reading checks the configuration and that the window fits it; the derived location and scale
/// are recomputed, so they always agree with the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhiNormal {
    pub(crate) config: PhiNormalConfig,
    pub(crate) window: Window,
    pub(crate) log: ArrivalLog,
}

impl From<&detector::PhiNormal> for PhiNormal {
    fn from(d: &detector::PhiNormal) -> Self {
        PhiNormal {
            config: d.config.clone(),
            window: Window::from(&d.window),
            log: ArrivalLog::from(&d.log),
        }
    }
}

impl TryFrom<PhiNormal> for detector::PhiNormal {
    type Error = Invalid;

    fn try_from(o: PhiNormal) -> Result<Self, Invalid> {
        let window = math::IntervalWindow::try_from(o.window)?;
        let log = o.log.try_into()?;
        o.config.validate()?;
        check_fits(&window, "phi_normal", o.config.window)?;
        Ok(detector::PhiNormal::from_parts(o.config, window, log))
    }
}

/// A [`PhiExponential`](detector::PhiExponential): its configuration, its window and its
/// arrival log. Reading checks the configuration and that the window fits it; the mean is
/// recomputed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhiExponential {
    pub(crate) config: PhiExponentialConfig,
    pub(crate) window: Window,
    pub(crate) log: ArrivalLog,
}

impl From<&detector::PhiExponential> for PhiExponential {
    fn from(d: &detector::PhiExponential) -> Self {
        PhiExponential {
            config: d.config.clone(),
            window: Window::from(&d.window),
            log: ArrivalLog::from(&d.log),
        }
    }
}

impl TryFrom<PhiExponential> for detector::PhiExponential {
    type Error = Invalid;

    fn try_from(o: PhiExponential) -> Result<Self, Invalid> {
        let window = math::IntervalWindow::try_from(o.window)?;
        let log = o.log.try_into()?;
        o.config.validate()?;
        check_fits(&window, "phi_exp", o.config.window)?;
        let mean = window.mean();
        Ok(detector::PhiExponential {
            config: o.config,
            window,
            log,
            mean,
        })
    }
}

/// A [`Chen`](detector::Chen): its configuration, the remembered `A_i − η·s_i` (oldest
/// first), its arrival log and its current deadline. Reading checks the configuration, that
/// the values fit the window and stay within ±2^100 ns; the ring and its sum are rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Chen {
    pub(crate) config: ChenConfig,
    pub(crate) values: Vec<i128>,
    pub(crate) log: ArrivalLog,
    pub(crate) deadline: Option<Nanos>,
}

impl From<&detector::Chen> for Chen {
    fn from(d: &detector::Chen) -> Self {
        let cap = d.normalised.len();
        Chen {
            config: d.config.clone(),
            values: (0..d.len)
                .map(|i| d.normalised[(d.head + i) % cap])
                .collect(),
            log: ArrivalLog::from(&d.log),
            deadline: d.deadline,
        }
    }
}

impl TryFrom<Chen> for detector::Chen {
    type Error = Invalid;

    fn try_from(o: Chen) -> Result<Self, Invalid> {
        let log = o.log.try_into()?;
        o.config.validate()?;
        if o.values.len() > o.config.window {
            return Err(Invalid::new(format_args!(
                "chen: {} values exceed chen.window = {}",
                o.values.len(),
                o.config.window
            )));
        }
        if o.values
            .iter()
            .any(|v| !(-NORMALISED_CAP..=NORMALISED_CAP).contains(v))
        {
            return Err(Invalid::new("chen: a value exceeds ±2^100 ns"));
        }
        let mut normalised = vec![0; o.config.window].into_boxed_slice();
        normalised[..o.values.len()].copy_from_slice(&o.values);
        Ok(detector::Chen {
            normalised,
            head: 0,
            len: o.values.len(),
            sum: o.values.iter().sum(),
            config: o.config,
            log,
            deadline: o.deadline,
        })
    }
}

/// An [`Empirical`](detector::Empirical): its configuration, its histogram and its arrival
/// log. Reading checks the configuration and that the histogram matches it; the survival model
/// is refitted, to the same histogram it was fitted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empirical {
    pub(crate) config: EmpiricalConfig,
    pub(crate) histogram: Histogram,
    pub(crate) log: ArrivalLog,
}

impl From<&detector::Empirical> for Empirical {
    fn from(d: &detector::Empirical) -> Self {
        Empirical {
            config: d.config.clone(),
            histogram: Histogram::from(&d.histogram),
            log: ArrivalLog::from(&d.log),
        }
    }
}

impl TryFrom<Empirical> for detector::Empirical {
    type Error = Invalid;

    fn try_from(o: Empirical) -> Result<Self, Invalid> {
        let histogram = histogram::WindowedHistogram::try_from(o.histogram)?;
        let log = o.log.try_into()?;
        o.config.validate()?;
        if histogram.config() != &o.config.histogram {
            return Err(Invalid::new(
                "empirical: the histogram's configuration differs from empirical.histogram",
            ));
        }
        let model = Survival::fit(
            histogram.live(),
            o.config.tail_samples,
            o.config.min_tail.as_nanos() as f64,
        );
        Ok(detector::Empirical {
            config: o.config,
            histogram,
            log,
            model,
        })
    }
}

/// An [`Adaptive`](detector::Adaptive): everything it learned, floats as their bit patterns
/// (`f64`s, and the histogram's and the regime's `f32`s), so that a restored detector answers
/// exactly as the original did. `first`, `anchor` and `next_anchor` are `(seq, arrival)`;
/// `since` is the first arrival ever (the prior fades with the time since); `counts` is the
/// decayed lateness histogram, `surv` its survival at the bucket edges, `top`, `s_top` and
/// `theta` its exponential tail; `regime` is the two pairs of largest recent lateness values
/// and `regime_start` where the current half began (both absent from snapshots taken before
/// the regime existed: an empty regime). Snapshots of the earlier model carry `hull` and
/// `slopes` instead of `surv`: they are refused, saying so. Reading checks every rule the
/// state obeys (finite, non-negative weights; a survival in (0, 1] that never rises; a
/// positive tail; a regime in order) and refuses a state that breaks one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Adaptive {
    pub(crate) config: AdaptiveConfig,
    pub(crate) log: ArrivalLog,
    pub(crate) first: Option<(u64, u64)>,
    pub(crate) anchor: (u64, u64),
    pub(crate) next_anchor: (u64, u64),
    pub(crate) eta: u64,
    pub(crate) unit: u64,
    pub(crate) origin: u64,
    pub(crate) counts: Vec<u32>,
    pub(crate) total: u64,
    pub(crate) samples: u64,
    /// Written before the survival was read at every edge; read and ignored.
    #[serde(default, skip_serializing)]
    pub(crate) hull: Vec<u8>,
    /// Written before the survival was read at every edge; read and ignored.
    #[serde(default, skip_serializing)]
    pub(crate) slopes: Vec<u64>,
    /// The survival at the bucket edges below the tail; absent from snapshots of the earlier
    /// model, which are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) surv: Option<Vec<u64>>,
    /// The first arrival ever; absent from snapshots of the earlier model (the first arrival of
    /// the interval estimate is taken instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<u64>,
    pub(crate) top: u64,
    pub(crate) s_top: u64,
    pub(crate) theta: u64,
    #[serde(default)]
    pub(crate) regime_start: u64,
    #[serde(default)]
    pub(crate) regime: [u32; 4],
}

impl From<&detector::Adaptive> for Adaptive {
    fn from(d: &detector::Adaptive) -> Self {
        let m = &d.model;
        Adaptive {
            config: d.config,
            log: ArrivalLog::from(&d.log),
            first: d.first,
            anchor: d.anchor,
            next_anchor: d.next_anchor,
            eta: d.eta.to_bits(),
            unit: d.unit.to_bits(),
            origin: d.origin,
            counts: m.counts.iter().map(|c| c.to_bits()).collect(),
            total: m.total.to_bits(),
            samples: m.samples,
            hull: Vec::new(),
            slopes: Vec::new(),
            surv: Some(m.surv[..m.len].iter().map(|s| s.to_bits()).collect()),
            since: d.since,
            top: m.top.to_bits(),
            s_top: m.s_top.to_bits(),
            theta: m.theta.to_bits(),
            regime_start: d.regime.start,
            regime: {
                let ([a, b], [c, e]) = (d.regime.current, d.regime.previous);
                [a, b, c, e].map(f32::to_bits)
            },
        }
    }
}

impl TryFrom<Adaptive> for detector::Adaptive {
    type Error = Invalid;

    fn try_from(o: Adaptive) -> Result<Self, Invalid> {
        let log = o.log.try_into()?;
        o.config.validate()?;
        let f = f64::from_bits;
        let (eta, unit, total) = (f(o.eta), f(o.unit), f(o.total));
        let (top, s_top, theta) = (f(o.top), f(o.s_top), f(o.theta));
        let counts: Vec<f32> = o.counts.iter().map(|&c| f32::from_bits(c)).collect();
        let surv: Option<Vec<f64>> = o.surv.as_ref().map(|v| v.iter().map(|&s| f(s)).collect());
        let [a, b, c, d] = o.regime.map(f32::from_bits);
        let rules = [
            (
                eta.is_finite() && eta > 0.0,
                "the interval must be positive and finite",
            ),
            (
                unit.is_finite() && unit >= 1.0,
                "the weight unit must be finite and at least 1",
            ),
            (
                total.is_finite() && total >= 0.0,
                "the total weight must be finite and not negative",
            ),
            (
                counts.len() == BUCKETS,
                "the histogram has the wrong number of buckets",
            ),
            (
                counts.iter().all(|c| c.is_finite() && *c >= 0.0),
                "a bucket's weight is negative or not finite",
            ),
            (
                surv.as_ref().is_none_or(|v| v.len() <= EDGES),
                "the survival has more values than bucket edges",
            ),
            (
                surv.as_ref().is_none_or(|v| {
                    v.iter().all(|s| s.is_finite() && *s > 0.0 && *s <= 1.0)
                        && v.windows(2).all(|w| w[0] >= w[1])
                }),
                "the survival must lie in (0, 1] and never rise",
            ),
            (
                top.is_finite() && top >= 0.0,
                "the tail's start must be finite and not negative",
            ),
            (
                s_top.is_finite() && s_top > 0.0 && s_top <= 1.0,
                "the tail's probability must be in (0, 1]",
            ),
            (
                theta.is_finite() && theta > 0.0,
                "the tail's scale must be positive and finite",
            ),
            (
                [a, b, c, d].iter().all(|x| x.is_finite() && *x >= 0.0) && a >= b && c >= d,
                "the regime's lateness values must be finite, not negative, and in order",
            ),
            (o.samples < MAX_COUNT, "the sample count is out of range"),
        ];
        if let Some((_, rule)) = rules.iter().find(|(ok, _)| !ok) {
            return Err(Invalid::new(format_args!("adaptive: {rule}")));
        }
        let mut model = Model::new(theta);
        model.counts.copy_from_slice(&counts);
        model.total = total;
        model.samples = o.samples;
        model.top = top;
        model.s_top = s_top;
        let Some(surv) = surv else {
            return Err(Invalid::new(
                "adaptive: taken by a version before the survival was kept (no `surv`): its \
                 peers ran the earlier lateness model, which this version cannot restore",
            ));
        };
        model.len = surv.len();
        model.surv[..surv.len()].copy_from_slice(&surv);
        Ok(detector::Adaptive {
            config: o.config,
            log,
            first: o.first,
            anchor: o.anchor,
            next_anchor: o.next_anchor,
            regime: Regime {
                start: o.regime_start,
                current: [a, b],
                previous: [c, d],
                ..Regime::new(o.config.regime_window.as_nanos())
            },
            eta,
            unit,
            origin: o.origin,
            per_half_life: 1.0 / o.config.memory.as_nanos() as f64,
            since: o.since.or(o.first.map(|(_, at)| at)),
            model,
        })
    }
}

/// The runtime types' serde: through their version-1 types, and nothing else.
macro_rules! through_v1 {
    ($($runtime:ty => $v1:ident,)*) => {$(
        impl Serialize for $runtime {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $v1::from(self).serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $runtime {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $v1::deserialize(d)?.try_into().map_err(D::Error::custom)
            }
        }
    )*};
}

through_v1! {
    peer::Rtt => Rtt,
    detector::ArrivalLog => ArrivalLog,
    math::IntervalWindow => Window,
    histogram::WindowedHistogram => Histogram,
    timeout::TimeoutEstimator => TimeoutEstimator,
    detector::Fixed => Fixed,
    detector::PhiNormal => PhiNormal,
    detector::PhiExponential => PhiExponential,
    detector::Chen => Chen,
    detector::Empirical => Empirical,
    detector::Adaptive => Adaptive,
}

/// Documents of version 1 written out by hand, read without any help from the writing side.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Arrival, Detector};

    /// A fixed timeout of 500 ms whose latest heartbeat, number 7, came at 2 s; the first at
    /// 1.3 s, and 3 of the 7 intervals outlasted the timeout.
    const FIXED: &str = r#"{"config":{"timeout":"500ms"},"log":{"last":"2s","max_seq":7,"counts":{"accepted":8,"stale":1,"backwards":2}},"first":"1.3s","late":3}"#;

    /// The same, as written before the first arrival and the late intervals were kept.
    const FIXED_EARLIER: &str = r#"{"config":{"timeout":"500ms"},"log":{"last":"2s","max_seq":7,"counts":{"accepted":8,"stale":1,"backwards":2}}}"#;

    /// Cassandra's φ over a full window of three intervals, 100, 200 and 300 ms (oldest first),
    /// its latest heartbeat, number 3, at 10 s.
    const PHI_EXPONENTIAL: &str = r#"{"config":{"window":3,"first_interval":"1s"},"window":{"capacity":3,"samples":[100000000,200000000,300000000]},"log":{"last":"10s","max_seq":3,"counts":{"accepted":4,"stale":0,"backwards":0}}}"#;

    /// Chen's estimator after heartbeats 10 at 1.005 s and 12 at 1.203 s, sent every 100 ms,
    /// with a margin of 30 ms: it remembers `A − η·s` = 5 ms and 3 ms.
    const CHEN: &str = r#"{"config":{"window":2,"interval":"100ms","alpha":"30ms"},"values":[5000000,3000000],"log":{"last":"1.203s","max_seq":12,"counts":{"accepted":2,"stale":0,"backwards":0}},"deadline":"1.334s"}"#;

    #[test]
    fn a_fixed_detector_reads_from_a_written_document() {
        let v: Fixed = serde_json::from_str(FIXED).unwrap();
        let counts = ArrivalCounts {
            accepted: 8,
            stale: 1,
            backwards: 2,
        };
        assert_eq!(
            v,
            Fixed {
                config: FixedConfig {
                    timeout: Nanos::from_millis(500),
                },
                log: ArrivalLog {
                    last: Some(Nanos::from_secs(2)),
                    max_seq: Some(7),
                    counts,
                },
                first: Some(Nanos::from_millis(1_300)),
                late: 3,
            }
        );
        let mut d: detector::Fixed = serde_json::from_str(FIXED).unwrap();
        // 7 intervals in 0.7 s, 3 late: (3 + 1)/(7 + 2) per 100 ms.
        assert_eq!(d.expected_interval(), Some(Nanos::from_millis(100)));
        assert_eq!(d.false_suspicion_probability(8.0), Some(4.0 / 9.0));
        // The latest arrival plus the timeout.
        assert_eq!(d.deadline(8.0), Some(Nanos::from_millis(2_500)));
        assert_eq!(d.phi(Nanos::from_millis(2_500)), 0.0);
        assert_eq!(d.last_arrival(), Some(Nanos::from_secs(2)));
        assert_eq!(d.arrivals(), counts);
        // Written again, it is the same text, its keys in the same order.
        assert_eq!(serde_json::to_string(&d).unwrap(), FIXED);
        // Number 7 was accepted already, and nothing may arrive before 2 s.
        assert_eq!(d.heartbeat_seq(Nanos::from_secs(3), 7), Arrival::Stale);
        assert_eq!(d.heartbeat_seq(Nanos::from_secs(1), 8), Arrival::Backwards);
        assert_eq!(d.heartbeat_seq(Nanos::from_secs(3), 8), Arrival::Accepted);
        assert_eq!(d.deadline(8.0), Some(Nanos::from_millis(3_500)));
        assert_eq!(d.false_suspicion_probability(8.0), Some(5.0 / 10.0));

        // An earlier document reads as if first seen at the latest arrival, none late.
        let d: detector::Fixed = serde_json::from_str(FIXED_EARLIER).unwrap();
        assert_eq!(d.expected_interval(), None);
        assert_eq!(d.false_suspicion_probability(8.0), Some(1.0 / 9.0));
        assert_eq!(d.deadline(8.0), Some(Nanos::from_millis(2_500)));
        // A first arrival after the latest, or more late intervals than intervals, is refused.
        for bad in [
            FIXED.replace("1.3s", "2.5s"),
            FIXED.replace("\"late\":3", "\"late\":8"),
        ] {
            assert!(
                serde_json::from_str::<detector::Fixed>(&bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_window_reads_from_a_written_document() {
        let w: math::IntervalWindow =
            serde_json::from_str(r#"{"capacity":4,"samples":[10,20,30]}"#).unwrap();
        assert_eq!((w.capacity(), w.len(), w.sum()), (4, 3, 60));
        assert_eq!(w.iter().collect::<Vec<_>>(), [10, 20, 30]);
        assert_eq!(w.mean(), 20.0);
        // Population variance: (10² + 0² + 10²)/3.
        assert_eq!(w.variance(), 200.0 / 3.0);

        let mut d: detector::PhiExponential = serde_json::from_str(PHI_EXPONENTIAL).unwrap();
        assert_eq!(d.mean(), 200_000_000.0);
        // φ = t/(μ·ln 10) reaches 1 after 200 ms · ln 10 = 460,517,018.6 ns: the deadline is
        // the latest arrival plus its whole nanoseconds.
        assert_eq!(d.deadline(1.0), Some(Nanos(10_460_517_018)));
        assert_eq!(serde_json::to_string(&d).unwrap(), PHI_EXPONENTIAL);
        // A 400 ms interval pushes out the oldest, 100 ms: the mean is now 300 ms.
        assert_eq!(d.heartbeat(Nanos::from_millis(10_400)), Arrival::Accepted);
        assert_eq!(d.mean(), 300_000_000.0);
        assert_eq!(
            d.window().iter().collect::<Vec<_>>(),
            [200_000_000, 300_000_000, 400_000_000]
        );
    }

    #[test]
    fn chen_reads_from_a_written_document() {
        let mut d: detector::Chen = serde_json::from_str(CHEN).unwrap();
        // mean(A − η·s) = 4 ms; heartbeat 13 is expected at 4 ms + 1300 ms, then α.
        assert_eq!(d.deadline(8.0), Some(Nanos::from_millis(1_334)));
        assert_eq!(d.expected_arrival(), Some(Nanos::from_millis(1_304)));
        assert_eq!(serde_json::to_string(&d).unwrap(), CHEN);
        // Heartbeat 14 at 1.402 s remembers 2 ms and, the window holding two, forgets the 5 ms:
        // mean 2.5 ms, heartbeat 15 expected at 2.5 ms + 1500 ms, then α.
        assert_eq!(
            d.heartbeat_seq(Nanos::from_millis(1_402), 14),
            Arrival::Accepted
        );
        assert_eq!(d.deadline(8.0), Some(Nanos(1_532_500_000)));
    }

    /// Reads `text` as `T`, and returns the message it was refused with.
    fn refusal<T: serde::de::DeserializeOwned + fmt::Debug>(text: &str) -> String {
        serde_json::from_str::<T>(text).unwrap_err().to_string()
    }

    /// A sample count at the end of the range is refused, not restored to overflow on the
    /// next heartbeat; the largest the range allows restores and keeps counting, saturating.
    #[test]
    fn an_adaptive_sample_count_out_of_range_is_refused() {
        let mut d = detector::Adaptive::new(crate::AdaptiveConfig::default()).unwrap();
        for i in 0..10u64 {
            d.heartbeat(Nanos::from_millis(100 * i));
        }
        let mut v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["samples"], 9);
        v["samples"] = serde_json::json!(u64::MAX);
        let e = serde_json::from_value::<detector::Adaptive>(v.clone()).unwrap_err();
        assert!(
            e.to_string().contains("the sample count is out of range"),
            "{e}"
        );
        v["samples"] = serde_json::json!(MAX_COUNT - 1);
        let mut d: detector::Adaptive = serde_json::from_value(v).unwrap();
        assert_eq!(
            d.heartbeat(Nanos::from_millis(1_000)),
            crate::detector::Arrival::Accepted
        );
        assert_eq!(d.model.samples, MAX_COUNT);
    }

    #[test]
    fn documents_that_break_a_rule_are_refused_with_it() {
        assert_eq!(
            refusal::<math::IntervalWindow>(r#"{"capacity":2,"samples":[10,20,30]}"#),
            "interval window: 3 samples exceed its capacity of 2"
        );
        assert_eq!(
            refusal::<math::IntervalWindow>(r#"{"capacity":0,"samples":[]}"#),
            "interval window: capacity 0 is outside 1..=1048576"
        );
        assert_eq!(
            refusal::<detector::PhiExponential>(
                &PHI_EXPONENTIAL.replace(r#""capacity":3"#, r#""capacity":4"#)
            ),
            "phi_exp: a window of 3 samples and capacity 4 does not fit phi_exp.window = 3"
        );
        assert_eq!(
            refusal::<detector::Fixed>(
                &FIXED.replace(r#""stale":1"#, r#""stale":4611686018427387904"#)
            ),
            "arrival log: a count is out of range"
        );
        assert_eq!(
            refusal::<detector::Fixed>(&FIXED.replace("500ms", "0ns")),
            "fixed.timeout: must be longer than 0ns"
        );
        assert_eq!(
            refusal::<detector::Chen>(
                &CHEN.replace("[5000000,", "[1267650600228229401496703205377,")
            ),
            "chen: a value exceeds ±2^100 ns"
        );
        assert_eq!(
            refusal::<detector::Chen>(&CHEN.replace(r#""window":2"#, r#""window":1"#)),
            "chen: 2 values exceed chen.window = 1"
        );
        // Fields version 1 does not know are refused, not ignored.
        let extra = FIXED.replace(r#"{"config""#, r#"{"extra":1,"config""#);
        assert!(refusal::<detector::Fixed>(&extra).starts_with(
            "unknown field `extra`, expected one of `config`, `log`, `first`, `late`"
        ),);
    }
}
