//! Leader election on `accrual::election`, simulated: three nodes with drifting clocks, lost
//! and delayed messages and paused processes, checked for the safety properties of leases and
//! fencing.
//!
//! * (a) At no real instant do two nodes hold a valid [`Lease`].
//! * (b) The storage's [`Fence`] accepts exactly the writes whose token is at least the
//!   highest accepted before (an independent model: a plain `u64`), so no stale write is
//!   accepted and the accepted tokens never decrease.
//! * Raft's own: at most one leader per term.
//! * Stronger than (a): no node is elected while another holds a valid lease of an older term.
//!
//! The test can fail: [`Mistake::EarlySelfVote`] makes a node vote for itself inside its own
//! promise and campaign on a timer shorter than the promise, and `the_mistake_is_caught`
//! asserts that some schedule of the same generator then produces overlapping leases.
//!
//! # The simulation
//!
//! Real time is in nanoseconds. Node `i`'s clock reads `offset_i + ⌊t·(1 + ppm_i/10^6)⌋` at
//! real time `t`, with `|ppm_i| ≤ 1000` (ρ = 10^−3, the leases' `max_drift`; the leases have
//! no margin at all). Events (message deliveries, timers, writes reaching storage, pauses) are
//! processed in order of real time. Each directed link loses its own share of messages (up to
//! half), may be cut for spans of up to 3 s, and delays messages by up to 30 ms, a few of them
//! by up to 300 ms more. A paused node processes nothing, and everything addressed to it
//! (messages and its own timers) waits until it resumes, while its clock keeps running. Lease
//! validity only begins at an event (an acknowledgement), so checking (a) after every event
//! checks it at every real instant.
//!
//! The protocol is the one `accrual::election`'s module documentation describes: the leader
//! sends `(term, leader, sent)` every 50 ms of its clock and feeds it to its own watch;
//! followers reject older terms, otherwise feed their [`LeaderWatch`] and acknowledge; the
//! leader calls [`Lease::quorum_acknowledged`] once a majority (itself included) acknowledged
//! a heartbeat; a node campaigns at [`LeaderWatch::election_at`], votes at most once a term
//! and only if [`LeaderWatch::may_vote`] (otherwise it ignores the request); a majority
//! elects; a newer term seen in any message deposes a leader or candidate. The leader writes
//! with its [`FencingToken`] on every tick and every lease extension while its lease is
//! valid; writes reach the storage after a random delay of up to half a second, so a deposed
//! leader's write may arrive after its successor's. A leader whose tick comes more than half
//! an interval late has stalled and says so ([`Lease::stalled`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use accrual::Nanos;
use accrual::election::{
    Fence, FencingToken, Heard, LeaderWatch, LeaderWatchConfig, Lease, LeaseConfig,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts this thread's allocations, for `watching_a_leader_does_not_allocate`.
struct Counting;

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

const NODES: usize = 3;
const MAJORITY: u32 = 2;
/// The leader's heartbeat interval, on its clock.
const HEARTBEAT: u64 = 50_000_000;
/// The followers' promise and the leases' `promise`.
const PROMISE: u64 = 150_000_000;
/// The bound on every clock's rate error, in parts per million (ρ = 10^−3).
const MAX_PPM: i64 = 1_000;
/// The longest extra delay of a message caught in a spike of queueing.
const SPIKE: u64 = 300_000_000;
/// How long each simulation runs, in real nanoseconds.
const RUN: u64 = 10_000_000_000;

fn watch_config() -> LeaderWatchConfig {
    LeaderWatchConfig {
        lease_promise: Nanos(PROMISE),
        ..LeaderWatchConfig::default()
    }
}

/// The tightest lease the arithmetic allows: no margin at all.
fn lease_config() -> LeaseConfig {
    LeaseConfig {
        promise: Nanos(PROMISE),
        max_drift: MAX_PPM as f64 / 1e6,
        margin: Nanos::ZERO,
    }
}

/// A schedule: clocks, the network's behaviour, pauses, and the seed of every other choice.
#[derive(Debug, Clone)]
struct Scenario {
    /// Each node's clock: its reading at real time zero, and its rate error in ppm.
    clocks: [(u64, i64); NODES],
    /// The share of messages lost on each link, from one node to another, per mille.
    loss_per_mille: [[u64; NODES]; NODES],
    /// The longest message delay, ns.
    max_delay: u64,
    /// The share of messages delayed further, by up to [`SPIKE`], per mille.
    spike_per_mille: u64,
    /// The longest delay of a write on its way to the storage, ns.
    max_write_delay: u64,
    /// `(node, start, length)` in real ns.
    pauses: Vec<(usize, u64, u64)>,
    /// `(from, to, start, length)`: every message on that link is lost meanwhile (real ns).
    outages: Vec<(usize, usize, u64, u64)>,
    /// Seeds delays, losses and the random numbers given to `election_at`.
    seed: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    // Clocks at the extremes of the drift bound are the ones that stress the lease.
    let ppm = prop_oneof![Just(-MAX_PPM), Just(MAX_PPM), -MAX_PPM..=MAX_PPM];
    let clock = (0u64..10_000_000_000, ppm);
    (
        [clock.clone(), clock.clone(), clock],
        [
            [0u64..=500, 0..=500, 0..=500],
            [0..=500, 0..=500, 0..=500],
            [0..=500, 0..=500, 0..=500],
        ],
        (0u64..=30_000_000, 0u64..=100),
        0u64..=500_000_000,
        prop::collection::vec((0..NODES, 0..RUN, 1_000_000u64..3_000_000_000), 0..=6),
        prop::collection::vec(
            (0..NODES, 1..NODES, 0..RUN, 10_000_000u64..3_000_000_000).prop_map(
                |(from, step, start, length)| (from, (from + step) % NODES, start, length),
            ),
            0..=12,
        ),
        any::<u64>(),
    )
        .prop_map(
            |(
                clocks,
                loss_per_mille,
                (max_delay, spike_per_mille),
                max_write_delay,
                pauses,
                outages,
                seed,
            )| {
                Scenario {
                    clocks,
                    loss_per_mille,
                    max_delay,
                    spike_per_mille,
                    max_write_delay,
                    pauses,
                    outages,
                    seed,
                }
            },
        )
}

/// The same scenarios as the property test draws, from a fixed seed.
fn scenario_from_seed(seed: u64) -> Scenario {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_le_bytes(),
        );
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), rng);
    scenario()
        .new_tree(&mut runner)
        .expect("the strategy always draws")
        .current()
}

/// How the nodes behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mistake {
    /// As `accrual::election` asks.
    None,
    /// Node 0 is wrong: as a follower it campaigns between half a heartbeat interval and the
    /// promise after the last heartbeat (inside its promise), and as a candidate it votes for
    /// itself without asking `may_vote`.
    EarlySelfVote,
}

/// A safety property that failed.
#[derive(Debug, Clone, PartialEq)]
enum Violation {
    /// (a): two nodes held a valid lease at the same real instant.
    OverlappingLeases {
        real: u64,
        holders: [(usize, u64); 2],
    },
    /// Two nodes were elected in one term.
    TwoLeadersInOneTerm {
        term: u64,
        first: usize,
        second: usize,
    },
    /// (b): the fence's decision differs from the model's.
    FenceDisagrees {
        token: FencingToken,
        model_highest: u64,
        fence: Result<(), FencingToken>,
    },
    /// (b): an accepted token below one accepted before.
    AcceptedTokenDecreased {
        token: FencingToken,
        previous: FencingToken,
    },
}

/// What happened in a run, to show that the properties were not checked in vain.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    elections: u64,
    campaigns: u64,
    lease_extensions: u64,
    stalls: u64,
    writes_issued: u64,
    writes_accepted: u64,
    writes_refused: u64,
    /// Events after which some node held a valid lease.
    leased_events: u64,
    /// Elections won while another node held a valid lease of an older term: none, if the
    /// promises hold (a quorum that elects contains a node of every quorum that acknowledged
    /// the old leader, and that node voted only once its promise, and so the lease, had run
    /// out). A candidate that counts an old vote late may win a term older than a valid
    /// lease's: it gets no lease, since every quorum has moved on.
    elected_under_lease: u64,
}

#[derive(Debug, Clone, Copy)]
enum Msg {
    Heartbeat {
        term: u64,
        leader: usize,
        sent: Nanos,
    },
    HeartbeatReply {
        term: u64,
        from: usize,
        sent: Nanos,
        ok: bool,
    },
    VoteRequest {
        term: u64,
        candidate: usize,
    },
    VoteReply {
        term: u64,
        from: usize,
        granted: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Deliver {
        to: usize,
        msg: Msg,
    },
    ElectionTimer {
        node: usize,
        generation: u64,
    },
    Tick {
        node: usize,
        generation: u64,
        due: Nanos,
    },
    Write {
        token: FencingToken,
    },
    Pause {
        node: usize,
        until: u64,
    },
    Resume {
        node: usize,
    },
}

impl Event {
    /// The node that processes the event: it waits while that node is paused.
    fn node(&self) -> Option<usize> {
        match *self {
            Event::Deliver { to, .. } => Some(to),
            Event::ElectionTimer { node, .. } | Event::Tick { node, .. } => Some(node),
            Event::Write { .. } | Event::Pause { .. } | Event::Resume { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SimClock {
    offset: u64,
    ppm: i64,
}

impl SimClock {
    fn rate(&self) -> u128 {
        (1_000_000 + self.ppm) as u128
    }

    /// The reading at real time `t`.
    fn local(&self, t: u64) -> Nanos {
        Nanos(self.offset + (u128::from(t) * self.rate() / 1_000_000) as u64)
    }

    /// The first real time at which the reading is at least `local`.
    fn real_at(&self, local: Nanos) -> u64 {
        let Some(ahead) = local.as_nanos().checked_sub(self.offset) else {
            return 0;
        };
        let t = (u128::from(ahead) * 1_000_000).div_ceil(self.rate());
        u64::try_from(t).unwrap_or(u64::MAX)
    }
}

#[derive(Debug)]
enum Role {
    Follower,
    Candidate {
        votes: u32,
    },
    /// Acknowledgements of the recent heartbeats, by send time.
    Leader {
        acks: Vec<(Nanos, u32)>,
    },
}

#[derive(Debug)]
struct Node {
    clock: SimClock,
    role: Role,
    term: u64,
    /// The vote cast in `.0`, for `.1`.
    voted: Option<(u64, usize)>,
    watch: LeaderWatch,
    lease: Lease,
    election_generation: u64,
    tick_generation: u64,
    paused_until: Option<u64>,
    backlog: Vec<Event>,
}

struct Sim<'a> {
    scenario: &'a Scenario,
    mistake: Mistake,
    now: u64,
    queue: BinaryHeap<Reverse<(u64, usize)>>,
    events: Vec<Event>,
    nodes: Vec<Node>,
    rng: u64,
    fence: Fence,
    model_highest: u64,
    last_accepted: Option<FencingToken>,
    leaders: BTreeMap<u64, usize>,
    stats: Stats,
}

impl<'a> Sim<'a> {
    fn new(scenario: &'a Scenario, mistake: Mistake) -> Self {
        let nodes = scenario
            .clocks
            .iter()
            .map(|&(offset, ppm)| {
                let clock = SimClock { offset, ppm };
                Node {
                    clock,
                    role: Role::Follower,
                    term: 0,
                    voted: None,
                    watch: LeaderWatch::new(watch_config(), clock.local(0)).unwrap(),
                    lease: Lease::new(lease_config()).unwrap(),
                    election_generation: 0,
                    tick_generation: 0,
                    paused_until: None,
                    backlog: Vec::new(),
                }
            })
            .collect();
        let mut sim = Sim {
            scenario,
            mistake,
            now: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            nodes,
            rng: scenario.seed,
            fence: Fence::new(),
            model_highest: 0,
            last_accepted: None,
            leaders: BTreeMap::new(),
            stats: Stats::default(),
        };
        for n in 0..NODES {
            sim.schedule_election(n);
        }
        for &(node, start, length) in &scenario.pauses {
            sim.push(
                start,
                Event::Pause {
                    node,
                    until: start.saturating_add(length),
                },
            );
        }
        sim
    }

    /// splitmix64.
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.random() % bound.max(1)
    }

    fn push(&mut self, at: u64, event: Event) {
        self.queue.push(Reverse((at, self.events.len())));
        self.events.push(event);
    }

    fn local(&self, n: usize) -> Nanos {
        self.nodes[n].clock.local(self.now)
    }

    fn send(&mut self, from: usize, to: usize, msg: Msg) {
        let lost = self.below(1_000) < self.scenario.loss_per_mille[from][to];
        let cut = self.scenario.outages.iter().any(|&(f, t, start, length)| {
            (f, t) == (from, to) && (start..start.saturating_add(length)).contains(&self.now)
        });
        if lost || cut {
            return;
        }
        let mut delay = self.below(self.scenario.max_delay + 1);
        if self.below(1_000) < self.scenario.spike_per_mille {
            delay += self.below(SPIKE);
        }
        self.push(self.now + delay, Event::Deliver { to, msg });
    }

    fn run(mut self) -> Result<Stats, Violation> {
        while let Some(Reverse((at, index))) = self.queue.pop() {
            if at > RUN {
                break;
            }
            self.now = at;
            let event = self.events[index];
            self.dispatch(event)?;
            self.check_leases()?;
        }
        Ok(self.stats)
    }

    fn dispatch(&mut self, event: Event) -> Result<(), Violation> {
        if let Some(n) = event.node()
            && self.nodes[n].paused_until.is_some()
        {
            self.nodes[n].backlog.push(event);
            return Ok(());
        }
        match event {
            Event::Pause { node, until } => {
                let paused = &mut self.nodes[node].paused_until;
                *paused = Some(paused.map_or(until, |u| u.max(until)));
                self.push(until, Event::Resume { node });
            }
            Event::Resume { node } => {
                if self.nodes[node].paused_until.is_some_and(|u| self.now >= u) {
                    self.nodes[node].paused_until = None;
                    let backlog = std::mem::take(&mut self.nodes[node].backlog);
                    for e in backlog {
                        self.push(self.now, e);
                    }
                }
            }
            Event::Deliver { to, msg } => self.on_message(to, msg)?,
            Event::ElectionTimer { node, generation } => {
                let n = &self.nodes[node];
                if generation == n.election_generation && !matches!(n.role, Role::Leader { .. }) {
                    self.campaign(node);
                }
            }
            Event::Tick {
                node,
                generation,
                due,
            } => {
                let n = &self.nodes[node];
                if generation == n.tick_generation && matches!(n.role, Role::Leader { .. }) {
                    self.tick(node, due);
                }
            }
            Event::Write { token } => self.on_write(token)?,
        }
        Ok(())
    }

    /// Whether node `n` makes the mistake.
    fn wrong(&self, n: usize) -> bool {
        self.mistake == Mistake::EarlySelfVote && n == 0
    }

    /// Arms node `n`'s election timer afresh.
    fn schedule_election(&mut self, n: usize) {
        let random = self.random();
        let wrong = self.wrong(n);
        let node = &mut self.nodes[n];
        node.election_generation += 1;
        let at = match (wrong, &node.role, node.watch.last_heartbeat()) {
            (true, Role::Follower, Some(last)) => {
                last + Nanos(HEARTBEAT / 2 + random % (PROMISE - HEARTBEAT / 2))
            }
            _ => node.watch.election_at(random),
        };
        let real = node.clock.real_at(at).max(self.now);
        let generation = node.election_generation;
        self.push(
            real,
            Event::ElectionTimer {
                node: n,
                generation,
            },
        );
    }

    fn campaign(&mut self, n: usize) {
        let local = self.local(n);
        let wrong = self.wrong(n);
        let node = &mut self.nodes[n];
        if matches!(node.role, Role::Candidate { .. }) {
            node.watch.campaign_failed(local);
        }
        node.term += 1;
        let term = node.term;
        node.watch.observe_term(term);
        node.lease.new_term(term);
        let self_vote = wrong || node.watch.may_vote(local);
        node.voted = self_vote.then_some((term, n));
        node.role = Role::Candidate {
            votes: if self_vote { 1 << n } else { 0 },
        };
        node.watch.campaign_started(local);
        self.stats.campaigns += 1;
        for other in (0..NODES).filter(|&o| o != n) {
            self.send(n, other, Msg::VoteRequest { term, candidate: n });
        }
        self.schedule_election(n);
    }

    /// Node `n` follows: in `term` if it is newer (a new term has no vote cast yet, and no
    /// lease).
    fn follow(&mut self, n: usize, term: u64) {
        let node = &mut self.nodes[n];
        if term > node.term {
            node.term = term;
            node.voted = None;
            node.watch.observe_term(term);
            node.lease.new_term(term);
        }
        node.role = Role::Follower;
        node.tick_generation += 1;
        self.schedule_election(n);
    }

    fn become_leader(&mut self, n: usize) -> Result<(), Violation> {
        let term = self.nodes[n].term;
        if let Some(&first) = self.leaders.get(&term) {
            return Err(Violation::TwoLeadersInOneTerm {
                term,
                first,
                second: n,
            });
        }
        self.leaders.insert(term, n);
        if self
            .nodes
            .iter()
            .any(|node| node.lease.term() < term && node.lease.valid(node.clock.local(self.now)))
        {
            self.stats.elected_under_lease += 1;
        }
        self.stats.elections += 1;
        let node = &mut self.nodes[n];
        node.role = Role::Leader { acks: Vec::new() };
        node.lease.new_term(term);
        node.election_generation += 1;
        node.tick_generation += 1;
        let local = self.local(n);
        self.tick(n, local);
        Ok(())
    }

    /// The leader's heartbeat, due at `due` on its clock.
    fn tick(&mut self, n: usize, due: Nanos) {
        let local = self.local(n);
        let node = &mut self.nodes[n];
        if local > due + Nanos(HEARTBEAT / 2) {
            node.lease.stalled(local);
            self.stats.stalls += 1;
        }
        let term = node.term;
        // The leader is one of the quorum: it keeps the promise too.
        node.watch.heartbeat(local, term, n as u64);
        if let Role::Leader { acks } = &mut node.role {
            if acks.len() >= 32 {
                acks.remove(0);
            }
            acks.push((local, 1 << n));
        }
        let next = local + Nanos(HEARTBEAT);
        let (real, generation) = (node.clock.real_at(next), node.tick_generation);
        for other in (0..NODES).filter(|&o| o != n) {
            self.send(
                n,
                other,
                Msg::Heartbeat {
                    term,
                    leader: n,
                    sent: local,
                },
            );
        }
        self.write(n);
        self.push(
            real.max(self.now),
            Event::Tick {
                node: n,
                generation,
                due: next,
            },
        );
    }

    /// The leader writes, if its lease is valid.
    fn write(&mut self, n: usize) {
        let local = self.local(n);
        let node = &self.nodes[n];
        if matches!(node.role, Role::Leader { .. }) && node.lease.valid(local) {
            let token = FencingToken::from_term(node.term);
            let delay = self.below(self.scenario.max_write_delay + 1);
            self.push(self.now + delay, Event::Write { token });
            self.stats.writes_issued += 1;
        }
    }

    fn on_message(&mut self, n: usize, msg: Msg) -> Result<(), Violation> {
        let local = self.local(n);
        match msg {
            Msg::VoteRequest { term, candidate } => {
                let node = &self.nodes[n];
                if term < node.term {
                    let term = node.term;
                    self.send(
                        n,
                        candidate,
                        Msg::VoteReply {
                            term,
                            from: n,
                            granted: false,
                        },
                    );
                    return Ok(());
                }
                if !node.watch.may_vote(local) {
                    // Inside its promise: the request, term and all, is ignored.
                    return Ok(());
                }
                if term > node.term {
                    self.follow(n, term);
                }
                let node = &mut self.nodes[n];
                let granted = match node.voted {
                    Some((t, c)) if t == term => c == candidate,
                    _ => true,
                };
                if granted {
                    node.voted = Some((term, candidate));
                }
                self.send(
                    n,
                    candidate,
                    Msg::VoteReply {
                        term,
                        from: n,
                        granted,
                    },
                );
            }
            Msg::VoteReply {
                term,
                from,
                granted,
            } => {
                if term > self.nodes[n].term {
                    self.follow(n, term);
                    return Ok(());
                }
                let node = &mut self.nodes[n];
                if let Role::Candidate { votes } = &mut node.role
                    && term == node.term
                    && granted
                {
                    *votes |= 1 << from;
                    if votes.count_ones() >= MAJORITY {
                        self.become_leader(n)?;
                    }
                }
            }
            Msg::Heartbeat { term, leader, sent } => {
                let node = &self.nodes[n];
                if term < node.term {
                    let term = node.term;
                    self.send(
                        n,
                        leader,
                        Msg::HeartbeatReply {
                            term,
                            from: n,
                            sent,
                            ok: false,
                        },
                    );
                    return Ok(());
                }
                if term > node.term || !matches!(node.role, Role::Follower) {
                    if matches!(node.role, Role::Leader { .. }) && term == node.term {
                        return Err(Violation::TwoLeadersInOneTerm {
                            term,
                            first: n,
                            second: leader,
                        });
                    }
                    self.follow(n, term);
                }
                let heard = self.nodes[n].watch.heartbeat(local, term, leader as u64);
                assert_ne!(heard, Heard::StaleTerm, "the node's term is the watch's");
                self.schedule_election(n);
                self.send(
                    n,
                    leader,
                    Msg::HeartbeatReply {
                        term,
                        from: n,
                        sent,
                        ok: true,
                    },
                );
            }
            Msg::HeartbeatReply {
                term,
                from,
                sent,
                ok,
            } => {
                if term > self.nodes[n].term {
                    self.follow(n, term);
                    return Ok(());
                }
                let node = &mut self.nodes[n];
                let mut quorum = false;
                if let Role::Leader { acks } = &mut node.role
                    && term == node.term
                    && ok
                    && let Some((_, mask)) = acks.iter_mut().find(|(s, _)| *s == sent)
                {
                    let before = mask.count_ones();
                    *mask |= 1 << from;
                    quorum = before < MAJORITY && mask.count_ones() >= MAJORITY;
                }
                if quorum {
                    if self.nodes[n].lease.quorum_acknowledged(sent) {
                        self.stats.lease_extensions += 1;
                    }
                    self.write(n);
                }
            }
        }
        Ok(())
    }

    fn on_write(&mut self, token: FencingToken) -> Result<(), Violation> {
        let model_accepts = token.0 >= self.model_highest;
        let result = self.fence.check(token);
        let fence = result.map_err(|stale| stale.highest);
        let agrees = match result {
            Ok(()) => model_accepts,
            Err(stale) => {
                !model_accepts && stale.token == token && stale.highest.0 == self.model_highest
            }
        };
        if !agrees {
            return Err(Violation::FenceDisagrees {
                token,
                model_highest: self.model_highest,
                fence,
            });
        }
        if result.is_ok() {
            if let Some(previous) = self.last_accepted
                && token < previous
            {
                return Err(Violation::AcceptedTokenDecreased { token, previous });
            }
            self.last_accepted = Some(token);
            self.model_highest = token.0;
            self.stats.writes_accepted += 1;
        } else {
            self.stats.writes_refused += 1;
        }
        Ok(())
    }

    /// (a), at the current real instant.
    fn check_leases(&mut self) -> Result<(), Violation> {
        let mut holder: Option<(usize, u64)> = None;
        for (n, node) in self.nodes.iter().enumerate() {
            if node.lease.valid(node.clock.local(self.now)) {
                let this = (n, node.lease.term());
                if let Some(first) = holder {
                    return Err(Violation::OverlappingLeases {
                        real: self.now,
                        holders: [first, this],
                    });
                }
                holder = Some(this);
            }
        }
        if holder.is_some() {
            self.stats.leased_events += 1;
        }
        Ok(())
    }
}

fn run(scenario: &Scenario, mistake: Mistake) -> Result<Stats, Violation> {
    Sim::new(scenario, mistake).run()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// (a), (b), one leader per term, and no election under another's lease, on every
    /// schedule.
    #[test]
    fn leases_never_overlap_and_stale_writes_are_refused(s in scenario()) {
        match run(&s, Mistake::None) {
            Ok(stats) => {
                prop_assert_eq!(stats.elected_under_lease, 0, "{:?}", stats);
                // Someone campaigned in every run.
                prop_assert!(stats.campaigns >= 1, "{:?}", stats);
            }
            Err(violation) => prop_assert!(false, "{:?}", violation),
        }
    }
}

/// The property test is not vacuous: over a fixed set of schedules, leaders come and go,
/// leases are held and extended, leaders notice their stalls, and deposed leaders' late
/// writes reach the storage and are refused.
#[test]
fn the_schedules_exercise_leader_changes_leases_and_late_writes() {
    let mut total = Stats::default();
    let mut runs_with_changes = 0;
    for seed in 0..64 {
        let stats = run(&scenario_from_seed(seed), Mistake::None)
            .unwrap_or_else(|v| panic!("seed {seed}: {v:?}"));
        assert_eq!(stats.elected_under_lease, 0, "seed {seed}");
        if stats.elections >= 2 {
            runs_with_changes += 1;
        }
        total.elections += stats.elections;
        total.campaigns += stats.campaigns;
        total.lease_extensions += stats.lease_extensions;
        total.stalls += stats.stalls;
        total.writes_issued += stats.writes_issued;
        total.writes_accepted += stats.writes_accepted;
        total.writes_refused += stats.writes_refused;
        total.leased_events += stats.leased_events;
    }
    assert!(runs_with_changes >= 32, "{runs_with_changes} {total:?}");
    assert!(total.lease_extensions > 5_000, "{total:?}");
    assert!(total.stalls > 0, "{total:?}");
    assert!(total.writes_accepted > 5_000, "{total:?}");
    assert!(total.writes_refused > 0, "{total:?}");
}

/// The test can fail: with a node that votes for itself inside its promise and campaigns
/// early, some schedule of the same generator yields two valid leases at once. The seeds are
/// searched in order up to the first such schedule (about one in 400 has one).
#[test]
fn the_mistake_is_caught() {
    let mut elected_under_lease = 0;
    let found =
        (0..4_096).find(
            |&seed| match run(&scenario_from_seed(seed), Mistake::EarlySelfVote) {
                Err(Violation::OverlappingLeases { .. }) => true,
                Err(other) => panic!("seed {seed}: unexpected {other:?}"),
                Ok(stats) => {
                    elected_under_lease += stats.elected_under_lease;
                    false
                }
            },
        );
    assert!(
        found.is_some(),
        "no schedule caught the early self-vote ({elected_under_lease} elections under a lease)"
    );
}

/// Heartbeats (new leaders included), votes, election instants, leases and fences never
/// allocate once built.
#[test]
fn watching_a_leader_does_not_allocate() {
    let mut watch = LeaderWatch::new(watch_config(), Nanos::ZERO).unwrap();
    let mut lease = Lease::new(lease_config()).unwrap();
    let fence = Fence::new();
    let before = allocations();
    let mut t = Nanos::ZERO;
    for i in 0..5_000u64 {
        t += Nanos::from_millis(50 + i % 7);
        let term = i / 1_000;
        watch.heartbeat(t, term, term % 3);
        std::hint::black_box(watch.may_vote(t));
        std::hint::black_box(watch.election_at(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        if i % 100 == 0 {
            watch.campaign_started(t);
            watch.campaign_failed(t);
        }
        lease.new_term(term);
        lease.quorum_acknowledged(t);
        std::hint::black_box(lease.valid(t));
        let token = FencingToken::from_term(term);
        std::hint::black_box(fence.check(token).is_ok());
        std::hint::black_box(token.header_value());
    }
    assert_eq!(allocations(), before);
    std::hint::black_box(vec![1u8; 16]);
    assert_eq!(allocations(), before + 1);
}

/// The simulated clocks: monotone, within the drift bound, and `real_at` inverts `local`.
#[test]
fn simulated_clocks_are_exact() {
    for (offset, ppm) in [(0, 0), (5, -MAX_PPM), (10_000_000_000, MAX_PPM), (7, 333)] {
        let c = SimClock { offset, ppm };
        let mut last = c.local(0);
        for t in (0..RUN).step_by(999_999_937) {
            let l = c.local(t);
            assert!(l >= last);
            last = l;
            let r = c.real_at(l);
            assert!(r <= t && c.local(r) >= l);
            assert!(r == 0 || c.local(r - 1) < l);
            let drift = (l.as_nanos() - offset) as i128 - t as i128;
            assert!(drift.abs() <= (t as i128 * MAX_PPM as i128) / 1_000_000 + 1);
        }
    }
}
