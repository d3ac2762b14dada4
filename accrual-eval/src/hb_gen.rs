//! Synthetic heartbeat traces: seeded, deterministic fleets whose links look like real ones.

use std::fmt;
use std::str::FromStr;

use crate::heartbeat::{Heartbeat, HeartbeatPeer, HeartbeatTrace};
use crate::rng::Rng;
use accrual::time::Nanos;

/// A kind of link or host. Every peer draws its own parameters from the scenario's ranges.
///
/// | scenario | model |
/// |---|---|
/// | `lan` | same rack: base delay 0.1–0.5 ms plus exponential jitter (mean 50 µs); 0.1% of heartbeats hit a scheduler spike of 1–10 ms |
/// | `datacenter` | busy datacenter: base 0.5–2 ms, jitter 0.3 ms; congestion episodes (one every ~2 min per peer, ~10 s long) add exponential queueing delay of mean 5–40 ms |
/// | `wan` | cross-continent: base 30–150 ms, jitter 2 ms; Gilbert–Elliott loss (good→bad 0.2%, bad→good 30%, 70% loss while bad, 0.1% while good); route changes every ~10 min move the base by −20…+60 ms for the next stretch |
/// | `cloud-vm` | noisy cloud VM: base 0.5–3 ms plus a Pareto tail (index 1.5, scale 0.5 ms); the sender stalls for 50–800 ms about once a minute, sending nothing while stalled |
/// | `jvm` | JVM-like service: LAN delays; stop-the-world pauses of 100 ms–3 s every ~3 min (per peer), during which nothing is sent; the heartbeats due are sent together when the pause ends |
/// | `monitor-stall` | LAN and datacenter peers, while the monitor itself stalls for 0.5–10 s every ~3 min: its ticks stop; when it resumes, its overdue tick runs at once, and every heartbeat that arrived meanwhile is received 1 µs after that tick, as a real monitor reads its queued datagrams only after the tick that was due. [`generate_with`] and [`MonitorStalls::Off`] give the same trace (same seed, same peers, same heartbeats) with a monitor that never stalls; [`monitor_stalls`] lists the stalls |
/// | `mixed` | a fleet of all of the above (monitor stalls excepted), peer by peer |
/// | `random` | every peer draws its whole link and host from wide priors (see [`RANDOM_PRIORS`]): its heartbeat interval, clock drift and timer noise, delay law, loss bursts, congestion, route changes, and pauses as rare as once in six hours; a fleet is only as benign as its draw |
///
/// Heartbeats are sent every 100 ms (in `random`, every peer's own interval); the monitor ticks
/// every 100 ms (`@monitor` rows). A peer's `send_ns` is its own clock: the true send time plus
/// a random offset of up to an hour (in `random`, also running fast or slow by its drift).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Same-rack LAN.
    Lan,
    /// Busy datacenter.
    Datacenter,
    /// Cross-continent WAN.
    Wan,
    /// Noisy cloud VM.
    CloudVm,
    /// JVM-like service with stop-the-world pauses.
    Jvm,
    /// Healthy peers, stalling monitor.
    MonitorStall,
    /// A fleet of every kind.
    Mixed,
    /// Every peer drawn from wide priors.
    Random,
}

/// The heartbeat interval of generated traces.
pub const INTERVAL: Nanos = Nanos::from_millis(100);

/// The most peers a [`Mix`] may hold, and the most the `accrual` command generates.
pub const MAX_PEERS: usize = 100_000;

impl Scenario {
    /// The built-in suite, in report order.
    pub const ALL: [Scenario; 8] = [
        Scenario::Lan,
        Scenario::Datacenter,
        Scenario::Wan,
        Scenario::CloudVm,
        Scenario::Jvm,
        Scenario::MonitorStall,
        Scenario::Mixed,
        Scenario::Random,
    ];

    /// The kinds of peer a fleet is made of: every scenario but the two fleets (`monitor-stall`
    /// and `mixed`), in the order `mixed` deals them out.
    pub const KINDS: [Scenario; 5] = [
        Scenario::Lan,
        Scenario::Datacenter,
        Scenario::Wan,
        Scenario::CloudVm,
        Scenario::Jvm,
    ];

    /// The shortest time between two heartbeats a peer of this scenario is scheduled to send:
    /// [`INTERVAL`], or in `random` the shortest interval its priors draw (20 ms) run fast by
    /// the largest clock drift.
    pub fn shortest_interval(self) -> Nanos {
        match self {
            // 20 ms / (1 + 200 ppm), rounded down.
            Scenario::Random => Nanos::from_nanos(19_996_000),
            _ => INTERVAL,
        }
    }

    /// An upper bound on the rows a trace of `peers` peers over `duration` can hold: every
    /// peer's heartbeats, at most one per [`shortest_interval`](Self::shortest_interval) plus
    /// one, and the monitor's ticks, counted as one more such peer. Callers check it against a
    /// limit of their own before generating, since a generated trace is held in memory.
    ///
    /// ```
    /// use accrual_eval::hb_gen::{Scenario, generate};
    /// use accrual::Nanos;
    ///
    /// let d = Nanos::from_secs(60);
    /// let t = generate(Scenario::Random, 2, 5, d);
    /// let rows = (t.rows() + t.ticks.len()) as u128;
    /// assert!(rows <= Scenario::Random.rows_at_most(5, d));
    /// assert_eq!(Scenario::Lan.rows_at_most(5, d), 6 * 601);
    /// ```
    pub fn rows_at_most(self, peers: usize, duration: Nanos) -> u128 {
        let per_peer = u128::from(duration.as_nanos() / self.shortest_interval().as_nanos()) + 1;
        (peers as u128 + 1) * per_peer
    }

    /// The scenario's name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Lan => "lan",
            Scenario::Datacenter => "datacenter",
            Scenario::Wan => "wan",
            Scenario::CloudVm => "cloud-vm",
            Scenario::Jvm => "jvm",
            Scenario::MonitorStall => "monitor-stall",
            Scenario::Mixed => "mixed",
            Scenario::Random => "random",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        crate::scenario_named(s, &Scenario::ALL, Scenario::name)
    }
}

const MS: f64 = 1e6;
const S: f64 = 1e9;

/// Whether the monitor of a generated trace stalls. Only [`Scenario::MonitorStall`] has stalls;
/// other scenarios are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MonitorStalls {
    /// The scenario's own stalls.
    #[default]
    On,
    /// No stalls: the same peers sending the same heartbeats, received when they arrive, and a
    /// tick every [`INTERVAL`]. Scoring both traces tells which suspicions the stalls caused.
    Off,
}

/// When the queued heartbeats are received after the monitor resumes: just after its overdue
/// tick.
pub const RELEASE_LAG: Nanos = Nanos::from_micros(1);

/// The monitor's stalls in a trace of `scenario` generated with `seed` over `duration`, as
/// `(start, end)` instants: ticks stop at `start`; at `end` the monitor resumes and ticks at
/// once. Empty for every scenario but [`Scenario::MonitorStall`].
///
/// ```
/// use accrual_eval::hb_gen::{Scenario, monitor_stalls};
/// use accrual::Nanos;
///
/// let stalls = monitor_stalls(Scenario::MonitorStall, 3, Nanos::from_secs(3_600));
/// assert!(stalls.len() > 5);
/// for (start, end) in stalls {
///     assert!(end - start >= Nanos::from_millis(500) && end - start <= Nanos::from_secs(10));
/// }
/// assert!(monitor_stalls(Scenario::Lan, 3, Nanos::from_secs(3_600)).is_empty());
/// ```
pub fn monitor_stalls(scenario: Scenario, seed: u64, duration: Nanos) -> Vec<(Nanos, Nanos)> {
    stall_intervals(scenario, seed, duration.as_nanos() as f64)
        .into_iter()
        .map(|(a, b)| (Nanos(a as u64), Nanos(b as u64)))
        .collect()
}

/// The stalls as `[start, end)` intervals in ns.
fn stall_intervals(scenario: Scenario, seed: u64, d: f64) -> Vec<(f64, f64)> {
    let mut monitor = Rng::stream(seed, u64::MAX);
    let mut stalls: Vec<(f64, f64)> = Vec::new();
    if scenario == Scenario::MonitorStall {
        let mut t = monitor.exponential(180.0 * S);
        while t < d {
            let len = 0.5 * S + monitor.unit() * 9.5 * S;
            stalls.push((t, t + len));
            t += len + monitor.exponential(180.0 * S);
        }
    }
    stalls
}

/// Generates `peers` peers over `duration`. The same arguments give the same trace, byte for
/// byte once written. The same as [`generate_with`] and [`MonitorStalls::On`].
///
/// ```
/// use accrual_eval::hb_gen::{Scenario, generate};
/// use accrual::Nanos;
///
/// let a = generate(Scenario::Wan, 7, 4, Nanos::from_secs(60));
/// assert_eq!(a, generate(Scenario::Wan, 7, 4, Nanos::from_secs(60)));
/// assert_eq!(a.peers.len(), 4);
/// assert!(a.rows() > 4 * 550); // 600 sent per peer, a few lost
/// ```
pub fn generate(scenario: Scenario, seed: u64, peers: usize, duration: Nanos) -> HeartbeatTrace {
    generate_with(scenario, seed, peers, duration, MonitorStalls::On)
}

/// Generates `peers` peers over `duration`, with or without the monitor's stalls. The peers,
/// their heartbeats and the tick schedule do not depend on `stalls`; with stalls, ticks due
/// during a stall are skipped, one tick runs when the stall ends, and the heartbeats that
/// arrived during the stall are received [`RELEASE_LAG`] after it.
///
/// ```
/// use accrual_eval::hb_gen::{MonitorStalls, Scenario, generate_with};
/// use accrual::Nanos;
///
/// let d = Nanos::from_secs(1_200);
/// let stalled = generate_with(Scenario::MonitorStall, 5, 4, d, MonitorStalls::On);
/// let steady = generate_with(Scenario::MonitorStall, 5, 4, d, MonitorStalls::Off);
/// assert_eq!(stalled.rows(), steady.rows());
/// assert!(stalled.ticks.len() < steady.ticks.len());
/// ```
pub fn generate_with(
    scenario: Scenario,
    seed: u64,
    peers: usize,
    duration: Nanos,
    stalls: MonitorStalls,
) -> HeartbeatTrace {
    let d = duration.as_nanos() as f64;
    // The monitor's stalls: [start, end) intervals, only in the monitor-stall scenario.
    let stalls = match stalls {
        MonitorStalls::On => stall_intervals(scenario, seed, d),
        MonitorStalls::Off => Vec::new(),
    };
    let lag = RELEASE_LAG.as_nanos() as f64;
    let release = |recv: f64| -> f64 {
        stalls
            .iter()
            .find(|&&(a, b)| recv >= a && recv < b)
            .map_or(recv, |&(_, b)| b.floor() + lag)
    };
    let kinds = (0..peers).map(|p| match scenario {
        Scenario::Mixed => Scenario::KINDS[p % Scenario::KINDS.len()],
        Scenario::MonitorStall => {
            if p % 2 == 0 {
                Scenario::Lan
            } else {
                Scenario::Datacenter
            }
        }
        s => s,
    });
    HeartbeatTrace {
        peers: kinds
            .enumerate()
            .map(|(p, kind)| peer(kind, seed, p, d, &release))
            .collect(),
        ticks: ticks(d, &stalls),
    }
}

/// The monitor's ticks over `d` ns: one every [`INTERVAL`] outside the stalls, and the overdue
/// one as each stall ends.
fn ticks(d: f64, stalls: &[(f64, f64)]) -> Vec<u64> {
    let mut ticks = Vec::new();
    let interval = INTERVAL.as_nanos() as f64;
    let mut t = 0.0;
    while t < d {
        if !stalls.iter().any(|&(a, b)| t >= a && t < b) {
            ticks.push(t as u64);
        }
        t += interval;
    }
    // The overdue tick, as soon as the monitor resumes.
    for &(_, b) in stalls {
        if b < d {
            ticks.push(b.floor() as u64);
        }
    }
    ticks.sort_unstable();
    ticks.dedup();
    ticks
}

/// Peer number `p` of a fleet generated with `seed`: a link of `kind`, from the peer's own
/// random stream, its receipts passed through `release` (the monitor's stalls).
fn peer(
    kind: Scenario,
    seed: u64,
    p: usize,
    d: f64,
    release: &dyn Fn(f64) -> f64,
) -> HeartbeatPeer {
    let mut rng = Rng::stream(seed, p as u64);
    let offset = (rng.unit() * 3600.0 * S) as u64;
    let (rows, drift) = match kind {
        Scenario::Random => {
            let link = RandomLink::draw(&mut rng);
            (link.heartbeats(&mut rng, d), link.drift)
        }
        _ => (link(kind, &mut rng, d), 0.0),
    };
    let rows = rows
        .into_iter()
        .map(|(seq, sent, recv)| Heartbeat {
            seq,
            send: Some((sent * (1.0 + drift)) as u64 + offset),
            recv: release(recv) as u64,
        })
        .collect();
    HeartbeatPeer {
        name: format!("{}-{p}", kind.name()),
        rows,
    }
}

/// The composition of a generated fleet: how many peers of each kind, written
/// `kind=count,kind=count` (for example `lan=16,jvm=4`). The kinds are the single-link
/// scenarios (`lan`, `datacenter`, `wan`, `cloud-vm`, `jvm`); `mixed` and `monitor-stall` are
/// fleets, not kinds of peer.
///
/// ```
/// use accrual_eval::hb_gen::{Mix, MixError, Scenario};
///
/// let mix: Mix = "lan=16,jvm=4".parse().unwrap();
/// assert_eq!(mix.kinds(), &[(Scenario::Lan, 16), (Scenario::Jvm, 4)]);
/// assert_eq!(mix.peers(), 20);
/// assert!(matches!("lan=16,mixed=4".parse::<Mix>(), Err(MixError::Kind { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    kinds: Vec<(Scenario, usize)>,
}

impl Mix {
    /// A mix of these kinds and counts; at least one peer and at most [`MAX_PEERS`] in all, no
    /// fleet scenario among the kinds.
    pub fn new(kinds: Vec<(Scenario, usize)>) -> Result<Self, MixError> {
        if let Some(&(kind, _)) = kinds.iter().find(|(k, _)| !Scenario::KINDS.contains(k)) {
            return Err(MixError::Kind {
                entry: kind.name().to_owned(),
                reason: not_a_kind(kind.name()),
            });
        }
        if kinds.iter().all(|&(_, n)| n == 0) {
            return Err(MixError::Empty);
        }
        let total: u128 = kinds.iter().map(|&(_, n)| n as u128).sum();
        if total > MAX_PEERS as u128 {
            return Err(MixError::TooManyPeers { total });
        }
        Ok(Mix { kinds })
    }

    /// The kinds and their counts, in order.
    pub fn kinds(&self) -> &[(Scenario, usize)] {
        &self.kinds
    }

    /// How many peers in all.
    pub fn peers(&self) -> usize {
        self.kinds.iter().map(|&(_, n)| n).sum()
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, n)) in self.kinds.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{kind}={n}")?;
        }
        Ok(())
    }
}

impl FromStr for Mix {
    type Err = MixError;
    fn from_str(s: &str) -> Result<Self, MixError> {
        let mut kinds = Vec::new();
        for entry in s.split(',') {
            let Some((kind, count)) = entry.split_once('=') else {
                return Err(MixError::Syntax {
                    entry: entry.to_owned(),
                });
            };
            let kind = kind.trim();
            let Some(&kind) = Scenario::KINDS.iter().find(|k| k.name() == kind) else {
                return Err(MixError::Kind {
                    entry: entry.to_owned(),
                    reason: not_a_kind(kind),
                });
            };
            let count = count.trim().parse().map_err(|_| MixError::Count {
                entry: entry.to_owned(),
            })?;
            kinds.push((kind, count));
        }
        Mix::new(kinds)
    }
}

/// Why `name` is not a kind of peer: a fleet scenario, or no scenario at all.
fn not_a_kind(name: &str) -> String {
    if name.parse::<Scenario>().is_ok() {
        format!("`{name}` is a fleet, not a kind of peer")
    } else {
        let kinds: Vec<&str> = Scenario::KINDS.iter().map(|k| k.name()).collect();
        format!("unknown kind `{name}` (one of {})", kinds.join(", "))
    }
}

/// Why a [`Mix`] was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MixError {
    /// An entry is not `kind=count`.
    Syntax {
        /// The entry.
        entry: String,
    },
    /// An unknown kind, or a fleet where a kind of peer is expected.
    Kind {
        /// The entry.
        entry: String,
        /// What is wrong with its kind.
        reason: String,
    },
    /// A count that is not a whole number of peers.
    Count {
        /// The entry.
        entry: String,
    },
    /// No peers at all.
    Empty,
    /// More than [`MAX_PEERS`] peers in all.
    TooManyPeers {
        /// The counts' sum.
        total: u128,
    },
}

impl fmt::Display for MixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MixError::Syntax { entry } => {
                write!(f, "mix entry `{entry}`: expected kind=count, e.g. lan=16")
            }
            MixError::Kind { entry, reason } => write!(f, "mix entry `{entry}`: {reason}"),
            MixError::Count { entry } => {
                write!(f, "mix entry `{entry}`: the count must be a whole number")
            }
            MixError::Empty => write!(f, "a mix needs at least one peer"),
            MixError::TooManyPeers { total } => write!(
                f,
                "the counts add up to {total} peers, more than the limit of {MAX_PEERS}"
            ),
        }
    }
}

impl std::error::Error for MixError {}

/// Generates a fleet of the composition `mix` over `duration`: its kinds' peers in order, each
/// from its own random stream (peer `p` of the fleet draws from `Rng::stream(seed, p)`, as in
/// [`generate`], so a mix of one kind is that scenario's trace), with a monitor that never
/// stalls.
///
/// ```
/// use accrual_eval::hb_gen::{Scenario, generate, generate_mix};
/// use accrual::Nanos;
///
/// let d = Nanos::from_secs(60);
/// let fleet = generate_mix(&"lan=3,jvm=1".parse().unwrap(), 7, d);
/// assert_eq!(fleet.peers.len(), 4);
/// assert_eq!(fleet.peers[3].name, "jvm-3");
/// assert_eq!(generate_mix(&"wan=4".parse().unwrap(), 7, d), generate(Scenario::Wan, 7, 4, d));
/// ```
pub fn generate_mix(mix: &Mix, seed: u64, duration: Nanos) -> HeartbeatTrace {
    let d = duration.as_nanos() as f64;
    let kinds = mix
        .kinds
        .iter()
        .flat_map(|&(kind, n)| std::iter::repeat_n(kind, n));
    HeartbeatTrace {
        peers: kinds
            .enumerate()
            .map(|(p, kind)| peer(kind, seed, p, d, &|recv| recv))
            .collect(),
        ticks: ticks(d, &[]),
    }
}

/// `(seq, sent, received)` for one peer of kind `kind` (never `Mixed` or `MonitorStall`).
fn link(kind: Scenario, rng: &mut Rng, duration: f64) -> Vec<(u64, f64, f64)> {
    let interval = INTERVAL.as_nanos() as f64;
    let between = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.unit();
    // Not reserved ahead: `duration` comes from the caller, and the vector grows as it fills.
    let mut out = Vec::new();
    let base = match kind {
        Scenario::Datacenter => between(rng, 0.5, 2.0) * MS,
        Scenario::Wan => between(rng, 30.0, 150.0) * MS,
        Scenario::CloudVm => between(rng, 0.5, 3.0) * MS,
        _ => between(rng, 0.1, 0.5) * MS,
    };
    let congestion_mean = between(rng, 5.0, 40.0) * MS;
    let (mut congested_until, mut shift, mut bad) = (-1.0f64, 0.0f64, false);
    // Sender-side pauses (cloud-vm stalls, jvm stop-the-world): [start, end).
    let (mut pause_start, mut pause_end) = (-1.0f64, -1.0f64);
    let mut next_pause = match kind {
        Scenario::CloudVm => rng.exponential(60.0 * S),
        Scenario::Jvm => rng.exponential(180.0 * S),
        _ => f64::INFINITY,
    };
    let mut seq = 0u64;
    let mut due = interval;
    while due < duration {
        seq += 1;
        let mut sent = due;
        due += interval;
        if sent >= next_pause {
            pause_start = next_pause;
            pause_end = next_pause
                + match kind {
                    Scenario::CloudVm => between(rng, 50.0, 800.0) * MS,
                    _ => between(rng, 100.0, 3000.0) * MS,
                };
            next_pause = pause_end
                + rng.exponential(
                    if kind == Scenario::CloudVm {
                        60.0
                    } else {
                        180.0
                    } * S,
                );
        }
        if sent >= pause_start && sent < pause_end {
            match kind {
                // A stalled VM sends nothing; the schedule goes on after the stall.
                Scenario::CloudVm => continue,
                // A paused JVM's timer fires for every heartbeat due, when the pause ends.
                _ => sent = pause_end + (seq % 4) as f64 * 1e3,
            }
        }
        let mut delay = base;
        match kind {
            Scenario::Lan
            | Scenario::Jvm
            | Scenario::Mixed
            | Scenario::MonitorStall
            | Scenario::Random => {
                delay += rng.exponential(0.05 * MS);
                if rng.chance(0.001) {
                    delay += between(rng, 1.0, 10.0) * MS;
                }
            }
            Scenario::Datacenter => {
                delay += rng.exponential(0.3 * MS);
                if sent >= congested_until && rng.chance(interval / (120.0 * S)) {
                    congested_until = sent + rng.exponential(10.0 * S);
                }
                if sent < congested_until {
                    delay += rng.exponential(congestion_mean);
                }
            }
            Scenario::Wan => {
                if rng.chance(interval / (600.0 * S)) {
                    shift = between(rng, -20.0, 60.0) * MS;
                }
                delay = (delay + shift).max(base * 0.5) + rng.exponential(2.0 * MS);
                bad = if bad {
                    !rng.chance(0.3)
                } else {
                    rng.chance(0.002)
                };
                if rng.chance(if bad { 0.7 } else { 0.001 }) {
                    continue;
                }
            }
            Scenario::CloudVm => {
                delay += rng.pareto(0.5 * MS, 1.5) - 0.5 * MS;
            }
        }
        out.push((seq, sent, sent + delay));
    }
    out
}

/// The priors of the `random` scenario, one line per drawn quantity: what every peer of a
/// `random` fleet draws, independently of every other peer. "log-uniform a–b" draws `ln x`
/// uniformly; "p: …" means the peer has the feature with probability `p`.
pub const RANDOM_PRIORS: &str = "\
interval: log-uniform 20 ms – 2 s
clock drift: uniform ±200 ppm (the sender's timer and its send_ns run fast or slow)
timer noise: exponential, mean log-uniform 1 µs – 5% of the interval
base delay: log-uniform 50 µs – 200 ms
jitter law: one of exponential, Pareto (index uniform 1.2–3) or log-normal (σ uniform 0.3–1.5), scale log-uniform 10 µs – 20 ms
loss: Gilbert–Elliott, good→bad log-uniform 1e-5 – 1e-2 per heartbeat, bad→good uniform 0.05–0.6, loss while bad uniform 0.2–1, while good log-uniform 1e-6 – 1e-2
congestion, p 0.5: episodes every log-uniform 30 s – 1 h (exponential gaps), lasting log-uniform 1–60 s, adding exponential delay of mean log-uniform 1–100 ms
route changes, p 0.4: every log-uniform 1 min – 2 h, the base delay moves to uniform 0.5–3× its drawn value
pauses, p 0.6: every log-uniform 20 s – 6 h (exponential gaps, so some peers pause never or once in a trace), lasting log-uniform 50 ms – 8 s; half the pausing peers send nothing while paused (a stalled VM), half send every heartbeat due when the pause ends (a stop-the-world collector)";

/// One `random` peer's link and host, drawn from [`RANDOM_PRIORS`].
#[derive(Debug, Clone)]
struct RandomLink {
    interval: f64,
    drift: f64,
    timer_noise: f64,
    base: f64,
    jitter: Jitter,
    good_to_bad: f64,
    bad_to_good: f64,
    loss_bad: f64,
    loss_good: f64,
    /// `(mean gap, mean length, mean extra delay)`.
    congestion: Option<(f64, f64, f64)>,
    /// Mean time between route changes.
    routes: Option<f64>,
    /// `(mean gap, shortest, longest, silent)`.
    pauses: Option<(f64, f64, f64, bool)>,
}

#[derive(Debug, Clone, Copy)]
enum Jitter {
    Exponential(f64),
    Pareto(f64, f64),
    LogNormal(f64, f64),
}

impl RandomLink {
    fn draw(rng: &mut Rng) -> Self {
        let log_uniform =
            |rng: &mut Rng, lo: f64, hi: f64| (lo.ln() + (hi / lo).ln() * rng.unit()).exp();
        let uniform = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.unit();
        let interval = log_uniform(rng, 20.0 * MS, 2.0 * S);
        let drift = uniform(rng, -200e-6, 200e-6);
        let timer_noise = log_uniform(rng, 1e-3 * MS, 0.05 * interval);
        let base = log_uniform(rng, 0.05 * MS, 200.0 * MS);
        let scale = log_uniform(rng, 0.01 * MS, 20.0 * MS);
        let jitter = match (rng.unit() * 3.0) as u32 {
            0 => Jitter::Exponential(scale),
            1 => Jitter::Pareto(scale, uniform(rng, 1.2, 3.0)),
            _ => Jitter::LogNormal(scale, uniform(rng, 0.3, 1.5)),
        };
        let good_to_bad = log_uniform(rng, 1e-5, 1e-2);
        let bad_to_good = uniform(rng, 0.05, 0.6);
        let loss_bad = uniform(rng, 0.2, 1.0);
        let loss_good = log_uniform(rng, 1e-6, 1e-2);
        let congestion = rng.chance(0.5).then(|| {
            (
                log_uniform(rng, 30.0 * S, 3600.0 * S),
                log_uniform(rng, 1.0 * S, 60.0 * S),
                log_uniform(rng, 1.0 * MS, 100.0 * MS),
            )
        });
        let routes = rng
            .chance(0.4)
            .then(|| log_uniform(rng, 60.0 * S, 7200.0 * S));
        let pauses = rng.chance(0.6).then(|| {
            let gap = log_uniform(rng, 20.0 * S, 6.0 * 3600.0 * S);
            let a = log_uniform(rng, 50.0 * MS, 8.0 * S);
            let b = log_uniform(rng, 50.0 * MS, 8.0 * S);
            (gap, a.min(b), a.max(b), rng.chance(0.5))
        });
        RandomLink {
            interval,
            drift,
            timer_noise,
            base,
            jitter,
            good_to_bad,
            bad_to_good,
            loss_bad,
            loss_good,
            congestion,
            routes,
            pauses,
        }
    }

    /// `(seq, sent, received)` over `duration` ns of true time.
    fn heartbeats(&self, rng: &mut Rng, duration: f64) -> Vec<(u64, f64, f64)> {
        // The sender's timer runs on its own clock: `interval` of its time is this much of ours.
        let period = self.interval / (1.0 + self.drift);
        let mut out = Vec::new();
        let mut base = self.base;
        let mut next_route = self.routes.map_or(f64::INFINITY, |m| rng.exponential(m));
        let (mut congested_until, mut next_congestion) = (
            -1.0f64,
            self.congestion
                .map_or(f64::INFINITY, |(gap, _, _)| rng.exponential(gap)),
        );
        let (mut pause_start, mut pause_end) = (-1.0f64, -1.0f64);
        let mut next_pause = self
            .pauses
            .map_or(f64::INFINITY, |(gap, ..)| rng.exponential(gap));
        let mut bad = false;
        let mut seq = 0u64;
        let mut due = rng.unit() * period;
        while due < duration {
            seq += 1;
            let mut sent = due + rng.exponential(self.timer_noise);
            due += period;
            if let Some((gap, lo, hi, _)) = self.pauses
                && sent >= next_pause
            {
                pause_start = next_pause;
                pause_end = next_pause + (lo.ln() + (hi / lo).ln() * rng.unit()).exp();
                next_pause = pause_end + rng.exponential(gap);
            }
            if sent >= pause_start && sent < pause_end {
                match self.pauses {
                    Some((.., true)) => continue,
                    _ => sent = pause_end + (seq % 4) as f64 * 1e3,
                }
            }
            while sent >= next_route {
                base = self.base * (0.5 + 2.5 * rng.unit());
                next_route += self.routes.map_or(f64::INFINITY, |m| rng.exponential(m));
            }
            let mut delay = base
                + match self.jitter {
                    Jitter::Exponential(mean) => rng.exponential(mean),
                    Jitter::Pareto(scale, alpha) => rng.pareto(scale, alpha) - scale,
                    Jitter::LogNormal(scale, sigma) => rng.log_normal(scale.ln(), sigma),
                };
            if let Some((gap, len, extra)) = self.congestion {
                if sent >= next_congestion {
                    congested_until = next_congestion + rng.exponential(len);
                    next_congestion = congested_until + rng.exponential(gap);
                }
                if sent < congested_until {
                    delay += rng.exponential(extra);
                }
            }
            bad = if bad {
                !rng.chance(self.bad_to_good)
            } else {
                rng.chance(self.good_to_bad)
            };
            if rng.chance(if bad { self.loss_bad } else { self.loss_good }) {
                continue;
            }
            out.push((seq, sent, sent + delay));
        }
        out
    }
}
