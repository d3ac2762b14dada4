//! The timing half of leader election: when a follower may vote and when it should campaign,
//! how long a leader may act alone, and how a storage refuses a deposed leader.
//!
//! The election protocol itself (terms, votes, logs: Raft's, say) is the host's. This module
//! adds what it needs from failure detection and clocks:
//!
//! | piece | side | does |
//! |---|---|---|
//! | [`LeaderWatch`] | follower | learns the leader's heartbeats with an [`Adaptive`](crate::Adaptive) detector, keeps the promise not to vote while the leader's lease may be held, and answers when to campaign, randomized and backed off |
//! | [`Lease`] | leader | from the heartbeats a quorum acknowledged, how long no other leader can exist, allowing for clock drift |
//! | [`FencingToken`] | leader | the term, attached to every request to a shared storage |
//! | [`Fence`] | storage | refuses tokens lower than one seen, atomically from any thread |
//! | `BootClock` | both | a clock that counts suspensions (feature `boottime`, Linux and Android) |
//!
//! # The protocol the pieces assume
//!
//! * The leader sends a heartbeat `(term, leader, sent)` every interval, `sent` on its own
//!   clock, and feeds it to its own [`LeaderWatch`] as it sends it: the leader is one of the
//!   quorum and keeps the same promise.
//! * A follower rejects heartbeats of a term older than its own. Otherwise it calls
//!   [`LeaderWatch::heartbeat`] with its own clock's time of receipt and acknowledges.
//! * When a quorum (the leader included) has acknowledged the heartbeat sent at `sent`, the
//!   leader calls [`Lease::quorum_acknowledged`]`(sent)`; it acts alone only while
//!   [`Lease::valid`].
//! * A node votes, for another or for itself, only if [`LeaderWatch::may_vote`], and at most
//!   once a term; it campaigns at [`LeaderWatch::election_at`]. A node that may not vote
//!   ignores a request for its vote, its term included, so a disruptive candidate cannot
//!   depose a leader whose followers hear it.
//! * A new leader calls [`Lease::new_term`], and tags its requests with
//!   [`FencingToken::from_term`]; the storage checks them with [`Fence::check`].
//!
//! Then at most one node holds a valid lease at any real instant, as long as every clock's
//! rate is within [`LeaseConfig::max_drift`] of real time and the lease's `promise` is at most
//! the followers' [`LeaderWatchConfig::lease_promise`]: a quorum that elects a new leader
//! contains a node that acknowledged the old leader's heartbeat, and that node did not vote
//! before its promise ran out, which is after the lease did ([`Lease`] has the arithmetic).
//! A request sent under a valid lease may still arrive after a newer leader's: the fence
//! refuses it. `tests/election_safety.rs` checks both, on three simulated nodes with drifting
//! clocks, lost and delayed messages and pauses, and checks that the test fails when a
//! candidate votes for itself inside its own promise.
//!
//! Nothing here reads a clock or allocates on a heartbeat: every instant is passed in, on the
//! clock of the node that calls.
//!
//! ```
//! use accrual::Nanos;
//! use accrual::election::{Fence, FencingToken, LeaderWatch, LeaderWatchConfig, Lease,
//!                         LeaseConfig};
//!
//! let ms = Nanos::from_millis;
//! // Node 1 leads term 1; node 2 follows. One clock for both, for brevity.
//! let mut lease = Lease::new(LeaseConfig::default())?;
//! lease.new_term(1);
//! let mut follower = LeaderWatch::new(LeaderWatchConfig::default(), Nanos::ZERO)?;
//!
//! let sent = ms(100);
//! follower.heartbeat(ms(101), 1, 1); // received and acknowledged
//! lease.quorum_acknowledged(sent); // the leader and node 2: a quorum of three
//!
//! assert!(lease.valid(ms(200)));
//! assert!(!follower.may_vote(ms(200)));
//! // By the time the follower may vote again, the lease has run out.
//! let end = follower.promise_end().unwrap();
//! assert!(!lease.valid(end));
//!
//! // A storage refuses the old leader once the new one (term 2) has written.
//! let fence = Fence::new();
//! assert!(fence.check(FencingToken::from_term(2)).is_ok());
//! assert!(fence.check(FencingToken::from_term(1)).is_err());
//! # Ok::<(), accrual::ConfigError>(())
//! ```

#[cfg(all(feature = "boottime", any(target_os = "linux", target_os = "android")))]
mod boottime;
mod fence;
mod lease;
mod watch;

#[cfg(all(feature = "boottime", any(target_os = "linux", target_os = "android")))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(feature = "boottime", any(target_os = "linux", target_os = "android"))))
)]
pub use boottime::BootClock;
pub use fence::{Fence, FencingToken, HeaderValue, ParseFencingTokenError, Stale};
pub use lease::{Lease, LeaseConfig};
pub use watch::{Heard, LeaderWatch, LeaderWatchConfig};
