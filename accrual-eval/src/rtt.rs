//! Round-trip-time traces (`qos-spec.md` §6) and the timeout replay.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use crate::csv::{fields, for_each_row, whole_number};
use accrual::time::Nanos;
use accrual::timeout::TimeoutEstimator;
use accrual::{ConfigError, TimeoutConfig};

/// One probe: when it was sent and, if a reply came, its round-trip time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// When the probe was sent.
    pub sent: Nanos,
    /// Its round-trip time; `None` if no reply came.
    pub rtt: Option<Nanos>,
}

/// The probes to one peer, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RttPeer {
    /// The peer's id.
    pub name: String,
    /// Its probes, sorted by `sent` (ties in file order).
    pub probes: Vec<Probe>,
}

/// A round-trip-time trace: probes per peer.
///
/// The file format (`qos-spec.md` §6): comment lines start with `#`; the header
/// `peer,sent_ns,rtt_ns` is required; `rtt_ns` is empty for a probe that got no reply. Spaces
/// around a field are ignored, peer ids included.
///
/// ```
/// use accrual_eval::RttTrace;
///
/// let text = "# accrual rtt trace v1\npeer,sent_ns,rtt_ns\na,0,90000000\na,10,\n";
/// let trace = RttTrace::parse(text.as_bytes(), "inline").unwrap();
/// assert_eq!(trace.peers[0].probes.len(), 2);
/// assert_eq!(trace.peers[0].probes[1].rtt, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RttTrace {
    /// The peers, in order of first appearance.
    pub peers: Vec<RttPeer>,
}

/// Why a trace could not be read. Every variant names the file; row errors name the line (1 is
/// the first line of the file) and the column (1 is the first field).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceError {
    /// The file could not be read.
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// The file has no header line.
    MissingHeader {
        /// The file.
        path: String,
    },
    /// The header is not the one the format requires. Its message shows the header found
    /// escaped, so that a character one cannot see (a stray byte-order mark, a tab) shows.
    BadHeader {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// The header required.
        expected: &'static str,
        /// The header found.
        found: String,
    },
    /// A row has the wrong number of fields.
    FieldCount {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// Fields required.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A line is longer than [`MAX_LINE`](crate::heartbeat::MAX_LINE) bytes.
    LineTooLong {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// The longest line allowed, in bytes.
        max: usize,
    },
    /// A row's peer id is empty.
    EmptyPeer {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
    },
    /// A field that must be a whole number of nanoseconds is not.
    BadNumber {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// The field's position, from 1.
        column: usize,
        /// The field's name.
        field: &'static str,
        /// The text found.
        text: String,
    },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Io { path, message } => write!(f, "{path}: cannot read: {message}"),
            TraceError::MissingHeader { path } => write!(f, "{path}: no header line"),
            TraceError::BadHeader {
                path,
                line,
                expected,
                found,
            } => write!(
                f,
                "{path}:{line}: header must be `{expected}`, found {found:?}"
            ),
            TraceError::FieldCount {
                path,
                line,
                expected,
                found,
            } => write!(
                f,
                "{path}:{line}: expected {expected} fields, found {found}"
            ),
            TraceError::LineTooLong { path, line, max } => {
                write!(f, "{path}:{line}: line longer than {max} bytes")
            }
            TraceError::EmptyPeer { path, line } => write!(f, "{path}:{line}:1: empty peer id"),
            TraceError::BadNumber {
                path,
                line,
                column,
                field,
                text,
            } => write!(
                f,
                "{path}:{line}:{column}: {field} must be a whole number of nanoseconds, found `{text}`"
            ),
        }
    }
}

impl std::error::Error for TraceError {}

const RTT_HEADER: &str = "peer,sent_ns,rtt_ns";

impl RttTrace {
    /// Reads a trace file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| TraceError::Io {
            path: name.clone(),
            message: e.to_string(),
        })?;
        Self::parse(std::io::BufReader::new(file), &name)
    }

    /// Reads a trace from any reader; `path` names it in errors.
    pub fn parse(reader: impl BufRead, path: &str) -> Result<Self, TraceError> {
        let mut trace = RttTrace::default();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for_each_row(reader, path, RTT_HEADER, |n, line| {
            let [peer, sent, rtt] = fields::<3>(line, path, n)?;
            let peer = peer.trim();
            if peer.is_empty() {
                return Err(TraceError::EmptyPeer {
                    path: path.to_owned(),
                    line: n,
                });
            }
            let sent = whole_number(sent, path, n, 2, "sent_ns")?;
            let rtt = if rtt.trim().is_empty() {
                None
            } else {
                Some(Nanos(whole_number(rtt, path, n, 3, "rtt_ns")?))
            };
            let slot = *index.entry(peer.to_owned()).or_insert_with(|| {
                trace.peers.push(RttPeer {
                    name: peer.to_owned(),
                    probes: Vec::new(),
                });
                trace.peers.len() - 1
            });
            trace.peers[slot].probes.push(Probe {
                sent: Nanos(sent),
                rtt,
            });
            Ok(())
        })?;
        for p in &mut trace.peers {
            p.probes.sort_by_key(|probe| probe.sent);
        }
        Ok(trace)
    }

    /// Writes the trace in the file format.
    pub fn write(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        writeln!(out, "# accrual rtt trace v1")?;
        writeln!(out, "{RTT_HEADER}")?;
        for peer in &self.peers {
            for p in &peer.probes {
                match p.rtt {
                    Some(r) => writeln!(out, "{},{},{}", peer.name, p.sent.0, r.0)?,
                    None => writeln!(out, "{},{},", peer.name, p.sent.0)?,
                }
            }
        }
        Ok(())
    }

    /// All probes.
    pub fn probes(&self) -> usize {
        self.peers.iter().map(|p| p.probes.len()).sum()
    }
}

/// The outcome of a timeout replay (`qos-spec.md` §6).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimeoutReport {
    /// All probes.
    pub probes: u64,
    /// Probes that got a reply.
    pub replied: u64,
    /// Replies that came after the timeout the policy named.
    pub premature: u64,
    /// `premature / replied` (0 when nothing replied).
    pub premature_rate: f64,
    /// The mean timeout named, over all probes, in seconds.
    pub mean_timeout_s: f64,
}

impl TimeoutReport {
    fn from_sums(probes: u64, replied: u64, premature: u64, timeout_sum_ns: f64) -> Self {
        TimeoutReport {
            probes,
            replied,
            premature,
            premature_rate: if replied == 0 {
                0.0
            } else {
                premature as f64 / replied as f64
            },
            mean_timeout_s: if probes == 0 {
                0.0
            } else {
                timeout_sum_ns / probes as f64 / 1e9
            },
        }
    }
}

/// The §6 replay: per peer, in `sent` order, the policy names a timeout `t` before each probe;
/// a probe without a reply waits `t` (a timeout); a reply later than `t` is a premature
/// timeout, of which the policy learns only that it waited `t`; any other reply is recorded.
/// Each peer gets a fresh estimator built from `config`.
pub fn replay_timeouts(
    trace: &RttTrace,
    config: &TimeoutConfig,
) -> Result<TimeoutReport, ConfigError> {
    let (mut probes, mut replied, mut premature, mut sum) = (0u64, 0u64, 0u64, 0f64);
    for peer in &trace.peers {
        let mut est = TimeoutEstimator::new(config.clone())?;
        for p in &peer.probes {
            let t = est.timeout(p.sent);
            probes += 1;
            sum += t.as_nanos() as f64;
            match p.rtt {
                Some(rtt) if rtt <= t => {
                    replied += 1;
                    est.record(rtt, p.sent + rtt);
                }
                Some(_) => {
                    replied += 1;
                    premature += 1;
                    est.record_timeout(t, p.sent + t);
                }
                None => est.record_timeout(t, p.sent + t),
            }
        }
    }
    Ok(TimeoutReport::from_sums(probes, replied, premature, sum))
}

/// The per-peer hindsight oracle for timeouts: each peer gets its own fixed timeout, chosen
/// with the whole trace in view, so that the fleet's premature rate is at most `budget` and
/// the mean timeout is as small as a Lagrangian search over the per-peer trade-offs finds.
/// No fixed per-peer timeout meets the budget with a smaller mean on the lower convex hull of
/// those trade-offs. `None` if no assignment meets the budget (never for `budget ≥ 0` with
/// finite round trips).
pub fn timeout_oracle(trace: &RttTrace, budget: f64) -> Option<TimeoutReport> {
    // Per peer: every probe pays the timeout; replies above it are premature.
    let groups: Vec<(f64, Vec<u64>)> = trace
        .peers
        .iter()
        .map(|p| {
            let mut r: Vec<u64> = p.probes.iter().filter_map(|x| x.rtt.map(|r| r.0)).collect();
            r.sort_unstable();
            (p.probes.len() as f64, r)
        })
        .collect();
    let replied: u64 = groups.iter().map(|(_, r)| r.len() as u64).sum();
    let probes = trace.probes() as u64;
    let allowed = (budget * replied as f64).floor() as u64;
    let h = crate::oracle::hindsight(&groups, allowed)?;
    Some(TimeoutReport::from_sums(probes, replied, h.misses, h.cost))
}

/// One point of a timeout sweep: a family, the knob's value, and what the replay measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutPoint {
    /// The policy family (`fixed`, `rfc6298`, `quantile`, `default`: the adaptive policy).
    pub family: &'static str,
    /// The knob's value for this point (a timeout or floor in seconds, or a multiplier).
    pub knob: f64,
    /// The replay's measurements.
    pub report: TimeoutReport,
}

/// The smallest mean timeout among `points` of `family` whose premature rate is within
/// `budget` (`+∞` when none is).
pub fn best_within(points: &[TimeoutPoint], family: &str, budget: f64) -> f64 {
    points
        .iter()
        .filter(|p| p.family == family && p.report.premature_rate <= budget)
        .map(|p| p.report.mean_timeout_s)
        .fold(f64::INFINITY, f64::min)
}

/// The built-in grids of [`sweep_timeouts`]: `(family, knob, configuration)`.
fn timeout_jobs(base: &TimeoutConfig) -> Vec<(&'static str, f64, TimeoutConfig)> {
    use accrual::TimeoutPolicy;
    let mut jobs: Vec<(&'static str, f64, TimeoutConfig)> = Vec::new();
    let grid = |lo: f64, hi: f64, steps: usize| -> Vec<f64> {
        // Geometric, so each family is resolved finely where it matters.
        (0..steps)
            .map(|i| lo * (hi / lo).powf(i as f64 / (steps - 1) as f64))
            .collect()
    };
    for t in grid(0.05, 30.0, 60) {
        let timeout = Nanos((t * 1e9) as u64);
        jobs.push((
            "fixed",
            t,
            TimeoutConfig {
                policy: TimeoutPolicy::Fixed { timeout },
                ceiling: base.ceiling.max(timeout),
                ..base.clone()
            },
        ));
    }
    for f in grid(0.01, 10.0, 60) {
        let floor = Nanos((f * 1e9) as u64);
        jobs.push((
            "rfc6298",
            f,
            TimeoutConfig {
                policy: TimeoutPolicy::rfc6298(),
                floor,
                ceiling: base.ceiling.max(floor),
                ..base.clone()
            },
        ));
    }
    for m in grid(0.3, 10.0, 40) {
        jobs.push((
            "quantile",
            m,
            TimeoutConfig {
                policy: TimeoutPolicy::Quantile {
                    quantile: 0.99,
                    multiplier: m,
                    margin: Nanos::ZERO,
                },
                ..base.clone()
            },
        ));
    }
    // The adaptive knob: 1 − 10^−x for x from 1 to 5.
    for x in grid(1.0, 5.0, 60) {
        let q = 1.0 - 10f64.powf(-x);
        let policy = TimeoutPolicy::adaptive_at(q);
        jobs.push((
            "default",
            q,
            TimeoutConfig {
                policy,
                ..base.clone()
            },
        ));
    }
    jobs
}

/// Sweeps each canonical family's knob over a built-in grid on `trace`, starting from `base`
/// (its floor, ceiling, initial timeout and histogram): fixed timeouts, RFC 6298 floors,
/// multipliers of the p99 quantile policy, and the adaptive (`default`) policy's quantile.
/// Runs on up to `threads` threads.
pub fn sweep_timeouts(
    trace: &RttTrace,
    base: &TimeoutConfig,
    threads: usize,
) -> Result<Vec<TimeoutPoint>, ConfigError> {
    let jobs = timeout_jobs(base);
    let threads = threads.max(1);
    let chunks: Vec<_> = jobs.chunks(jobs.len().div_ceil(threads)).collect();
    let results: Vec<Result<Vec<TimeoutPoint>, ConfigError>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(family, knob, cfg)| {
                            Ok(TimeoutPoint {
                                family,
                                knob: *knob,
                                report: replay_timeouts(trace, cfg)?,
                            })
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Ok(Vec::new())))
            .collect()
    });
    let mut points = Vec::with_capacity(jobs.len());
    for r in results {
        points.extend(r?);
    }
    Ok(points)
}

/// A timeout policy named by a spec (`qos-spec.md` §6): `fixed:timeout=T`,
/// `rfc6298:floor=F,cap=C,granularity=G,initial=I`, `quantile:quantile=q,multiplier=m,margin=M`
/// or `default:quantile=q` (the adaptive policy). Unset keys keep the spec's defaults
/// (`floor=1s`, `cap=60s`, `granularity=1ms`, `initial=1s` for RFC 6298; the estimator's
/// defaults otherwise).
///
/// ```
/// use accrual_eval::rtt::TimeoutSpec;
///
/// let s: TimeoutSpec = "rfc6298:floor=200ms".parse().unwrap();
/// assert_eq!(s.to_string(), "rfc6298:floor=200ms,cap=60s,granularity=1ms,initial=1s");
/// assert!("rfc6298:flor=1s".parse::<TimeoutSpec>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutSpec {
    /// The family: `fixed`, `rfc6298`, `quantile` or `default`.
    pub family: &'static str,
    /// The estimator configuration the spec stands for.
    pub config: TimeoutConfig,
}

impl TimeoutSpec {
    /// The family names.
    pub const FAMILIES: [&'static str; 4] = ["fixed", "rfc6298", "quantile", "default"];

    /// The family with its defaults.
    pub fn new(family: &str) -> Result<Self, crate::spec::SpecError> {
        use accrual::TimeoutPolicy;
        let (family, config) = match family {
            "fixed" => (
                "fixed",
                TimeoutConfig {
                    policy: TimeoutPolicy::Fixed {
                        timeout: Nanos::from_secs(1),
                    },
                    ..TimeoutConfig::default()
                },
            ),
            "rfc6298" => (
                "rfc6298",
                TimeoutConfig {
                    policy: TimeoutPolicy::rfc6298(),
                    floor: Nanos::from_secs(1),
                    ..TimeoutConfig::default()
                },
            ),
            "quantile" => (
                "quantile",
                TimeoutConfig {
                    policy: TimeoutPolicy::Quantile {
                        quantile: 0.99,
                        multiplier: 1.0,
                        margin: Nanos::ZERO,
                    },
                    ..TimeoutConfig::default()
                },
            ),
            "default" => ("default", TimeoutConfig::default()),
            other => {
                return Err(crate::spec::SpecError::UnknownPolicy(other.to_owned()));
            }
        };
        Ok(TimeoutSpec { family, config })
    }

    /// The built-in sweep of the family's knob (as [`sweep_timeouts`] runs it).
    pub fn grid(family: &str, base: &TimeoutConfig) -> Vec<TimeoutSpec> {
        let label = match family {
            "fixed" => "fixed",
            "rfc6298" => "rfc6298",
            "quantile" => "quantile",
            _ => "default",
        };
        timeout_jobs(base)
            .into_iter()
            .filter(|(f, _, _)| *f == label)
            .map(|(family, _, config)| TimeoutSpec { family, config })
            .collect()
    }
}

impl std::str::FromStr for TimeoutSpec {
    type Err = crate::spec::SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        use crate::spec::{SpecError, duration, number, pairs};
        use accrual::TimeoutPolicy;
        let (family, rest) = match text.split_once(':') {
            Some((f, r)) => (f.trim(), r),
            None => (text.trim(), ""),
        };
        let mut spec = TimeoutSpec::new(family)?;
        let keys: &[&str] = match spec.family {
            "fixed" => &["timeout"],
            "rfc6298" => &["floor", "cap", "granularity", "initial"],
            "quantile" => &["quantile", "multiplier", "margin"],
            _ => &["quantile"],
        };
        for (key, value) in pairs(rest, spec.family, keys)? {
            let c = &mut spec.config;
            // `pairs` admitted only the family's own keys, so every pair below matches.
            match (key, &mut c.policy) {
                ("timeout", TimeoutPolicy::Fixed { timeout }) => *timeout = duration(key, value)?,
                ("floor", _) => c.floor = duration(key, value)?,
                ("cap", _) => c.ceiling = duration(key, value)?,
                ("initial", _) => c.initial = duration(key, value)?,
                ("granularity", TimeoutPolicy::Rfc6298 { granularity }) => {
                    *granularity = duration(key, value)?
                }
                ("quantile", TimeoutPolicy::Quantile { quantile, .. })
                | ("quantile", TimeoutPolicy::Adaptive { quantile, .. }) => {
                    *quantile = number(key, value)?
                }
                ("multiplier", TimeoutPolicy::Quantile { multiplier, .. }) => {
                    *multiplier = number(key, value)?
                }
                ("margin", TimeoutPolicy::Quantile { margin, .. }) => {
                    *margin = duration(key, value)?
                }
                _ => {}
            }
        }
        if let TimeoutPolicy::Fixed { timeout } = spec.config.policy {
            spec.config.ceiling = spec.config.ceiling.max(timeout);
        }
        spec.config.validate().map_err(SpecError::Config)?;
        Ok(spec)
    }
}

/// The spec is written back with [`short`](crate::spec::short) numbers, so that it parses back
/// to itself.
impl fmt::Display for TimeoutSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::spec::short;
        use accrual::TimeoutPolicy;
        let c = &self.config;
        match c.policy {
            TimeoutPolicy::Fixed { timeout } => write!(f, "fixed:timeout={timeout}"),
            TimeoutPolicy::Rfc6298 { granularity } => write!(
                f,
                "rfc6298:floor={},cap={},granularity={granularity},initial={}",
                c.floor, c.ceiling, c.initial
            ),
            TimeoutPolicy::Quantile {
                quantile,
                multiplier,
                margin,
            } => write!(
                f,
                "quantile:quantile={},multiplier={},margin={margin}",
                short(quantile),
                short(multiplier)
            ),
            TimeoutPolicy::Adaptive { quantile, .. } => {
                write!(f, "default:quantile={}", short(quantile))
            }
        }
    }
}
