//! The prefetching batch pipeline behind [`Monitor::heartbeat_batch`]: a batch is taken in
//! rounds grouped by shard, and each shard's group is recorded under one lock by a software
//! pipeline that prefetches the lines each heartbeat will read a few heartbeats ahead of it.

use std::hash::Hash;

use super::store::PeerHash;
use super::{MAX_SHARDS, Monitor, MonitorError};
use crate::detector::AnyDetector;
use crate::detector::Arrival;
use crate::time::{Clock, Nanos};

/// Heartbeats per round of [`Monitor::heartbeat_batch`]: a round is grouped by shard on the
/// stack.
pub const BATCH_ROUND: usize = 1024;

/// Batches shorter than this are recorded one call each: grouping them would cost more than
/// it saves.
const BATCH_MIN: usize = 64;

/// One heartbeat of a batch: see [`Monitor::heartbeat_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat<K> {
    /// The peer it came from.
    pub peer: K,
    /// When it was received, on the monitor's time line.
    pub at: Nanos,
    /// The sender's sequence number, if it has one.
    pub seq: Option<u64>,
}

/// The working arrays of one round of [`Monitor::heartbeat_batch`], on the stack (23 KB):
/// each shard's heartbeats as a list in batch order (its first, and each one's next), and by
/// index in the round each heartbeat's hash, its peer's likely place in the shard (see
/// [`Shard::likely`](super::store::Shard::likely); [`NOT_FOUND`] if none), and its outcome
/// while it waits to be reported.
struct Round {
    first: [u16; MAX_SHARDS],
    next: [u16; BATCH_ROUND],
    /// The shard being recorded's heartbeats, in batch order.
    order: [u16; BATCH_ROUND],
    hash: [u64; BATCH_ROUND],
    place: [u32; BATCH_ROUND],
    arrivals: [Option<Arrival>; BATCH_ROUND],
}

/// How many heartbeats apart the stages of a group's prefetching run (a line is asked for this
/// many heartbeats before the stage that reads it). Chosen by measurement: see `BENCHMARKS.md`.
const LOOKAHEAD: usize = 4;

/// In [`Round::place`]: no peer's place (a shard holds fewer than
/// [`MAX_PEERS`](super::MAX_PEERS) < `u32::MAX` peers, so no place is this).
const NOT_FOUND: u32 = u32::MAX;

/// The end of a shard's list in a [`Round`] (rounds hold fewer heartbeats than this).
const END: u16 = u16::MAX;
const _: () = assert!(
    BATCH_ROUND < END as usize,
    "a round's indices fit its lists"
);

impl<K: Hash + Eq + Clone, C: Clock> Monitor<K, C> {
    /// Records a batch of heartbeats, each exactly as [`heartbeat_at`](Self::heartbeat_at)
    /// would, and reports each one's outcome to `outcome` with its index in `batch`.
    ///
    /// Faster than one call per heartbeat, most of all when the table is larger than the caches
    /// (a receive loop that reads many datagrams at once): each key is hashed once, the batch
    /// is taken in rounds of up to [`BATCH_ROUND`] heartbeats grouped by shard so that each
    /// shard's lock is taken once per round, and the lines each heartbeat of a group reads are
    /// prefetched a few heartbeats ahead of it, so that their cache misses overlap each other
    /// and the work instead of following one another.
    ///
    /// The result is that of one call per heartbeat in batch order: each peer's heartbeats are
    /// recorded in their order in `batch`, and new peers are admitted in batch order (which
    /// matters once [`max_peers`](super::MonitorConfig::max_peers) is reached), after the round's
    /// known peers. Outcomes are reported in shard order, not batch order, each exactly once,
    /// and never while a lock is held (so `outcome` may call the monitor). For known peers it
    /// never allocates.
    ///
    /// ```
    /// use accrual::monitor::{Heartbeat, Monitor, MonitorConfig, MonitorError};
    /// use accrual::{Arrival, ManualClock, Nanos};
    ///
    /// let cfg = MonitorConfig { max_peers: 90, ..Default::default() };
    /// let monitor = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
    /// let batch: Vec<Heartbeat<u32>> = (0..100)
    ///     .map(|peer| Heartbeat { peer, at: Nanos::from_millis(5), seq: Some(0) })
    ///     .collect();
    /// let (mut accepted, mut refused) = (0, Vec::new());
    /// monitor.heartbeat_batch(&batch, |i, outcome| match outcome {
    ///     Ok(Arrival::Accepted) => accepted += 1,
    ///     Err(MonitorError::PeerLimit { .. }) => refused.push(batch[i].peer),
    ///     other => panic!("heartbeat {i}: {other:?}"),
    /// });
    /// assert_eq!((accepted, refused.len(), monitor.len()), (90, 10, 90));
    /// ```
    pub fn heartbeat_batch(
        &self,
        batch: &[Heartbeat<K>],
        mut outcome: impl FnMut(usize, Result<Arrival, MonitorError>),
    ) {
        if batch.len() < BATCH_MIN {
            // Too few to repay grouping them: one call each, which is the same result.
            for (j, hb) in batch.iter().enumerate() {
                outcome(j, self.heartbeat_at(&hb.peer, hb.at, hb.seq));
            }
            return;
        }
        let mut st = Round {
            first: [END; MAX_SHARDS],
            next: [END; BATCH_ROUND],
            order: [END; BATCH_ROUND],
            hash: [0; BATCH_ROUND],
            place: [NOT_FOUND; BATCH_ROUND],
            arrivals: [None; BATCH_ROUND],
        };
        // How much of a peer's entry a heartbeat reads (its key and its detector's inline part),
        // and whether that is all of the detector.
        let entry = AnyDetector::inline_bytes::<K>(&self.config.detector);
        let inline = AnyDetector::is_inline(&self.config.detector);
        let n = self.shards.len();
        for (r, round) in batch.chunks(BATCH_ROUND).enumerate() {
            let base = r * BATCH_ROUND;
            // Each shard's list, built from the back so that it runs in batch order.
            st.first[..n].fill(END);
            for (j, hb) in round.iter().enumerate().rev() {
                let h = self.hash(&hb.peer);
                let shard = h.shard(n);
                st.hash[j] = h.0;
                // j < BATCH_ROUND < END: it fits, and is never taken for the end.
                st.next[j] = st.first[shard];
                st.first[shard] = j as u16;
            }
            for shard in 0..n {
                if st.first[shard] != END {
                    self.heartbeat_group(
                        shard,
                        round,
                        &mut st,
                        base,
                        (entry, inline),
                        &mut outcome,
                    );
                }
            }
            // New peers last, in batch order, so that when the peer limit is reached they are
            // admitted in the order one call each would admit them; adding one allocates, and
            // takes its shard's lock again.
            for (j, hb) in round.iter().enumerate() {
                if st.arrivals[j].is_none() {
                    outcome(base + j, self.heartbeat_at(&hb.peer, hb.at, hb.seq));
                }
            }
        }
    }

    /// One shard's heartbeats of a round, under one lock, with the lines each will read
    /// prefetched ahead of it (a prefetch does not wait for its line, so many are in flight at
    /// once); outcomes are reported after the lock is released. Leaves `arrivals` empty for the
    /// heartbeats of new peers. `entry` is how many bytes of a peer's entry a heartbeat reads,
    /// `inline` whether the detector lies within them.
    fn heartbeat_group(
        &self,
        shard: usize,
        round: &[Heartbeat<K>],
        st: &mut Round,
        base: usize,
        (entry, inline): (usize, bool),
        outcome: &mut impl FnMut(usize, Result<Arrival, MonitorError>),
    ) {
        let mut s = self.shards[shard].0.write();
        // The group in batch order.
        let mut len = 0;
        let mut j = st.first[shard];
        while j != END {
            st.order[len] = j;
            len += 1;
            j = st.next[usize::from(j)];
        }
        let order = &st.order[..len];
        // A software pipeline over the group, so that each line is asked for `LOOKAHEAD`
        // heartbeats before it is read and the wait for it overlaps other heartbeats' work: at
        // step `t`, heartbeat `t` is placed (where its peer likely lives, from the index alone,
        // whose lines are few and cached) and its entry prefetched; from the entry of heartbeat
        // `t − L`, the lines of its detector that every heartbeat reads; from those of `t − 2L`,
        // the line whose place depends on what they hold; and heartbeat `t − 3L` is recorded,
        // its peer looked up for certain. A wrong place (one lookup in thousands, or a new
        // peer) only prefetches the wrong lines. A new peer's heartbeat waits for the end of
        // the round.
        // A detector inline in the entry has no lines of its own to prefetch, and its
        // heartbeats little work to overlap: its group is placed whole before any is recorded,
        // so that the index's misses overlap each other instead.
        let lead = if inline { len } else { LOOKAHEAD };
        for t in 0..len + lead + 2 * LOOKAHEAD {
            // The index in the round of the group's heartbeat `lag` steps behind `t`.
            let behind = |lag: usize| Some(usize::from(*order.get(t.checked_sub(lag)?)?));
            if let Some(i) = behind(0) {
                st.place[i] = s.likely(PeerHash(st.hash[i])).unwrap_or(NOT_FOUND);
                s.prefetch(st.place[i], entry);
            }
            if let Some(slot) = behind(lead).and_then(|i| s.at(st.place[i])) {
                slot.detector.prefetch_fixed();
            }
            if let Some(i) = behind(lead + LOOKAHEAD)
                && let Some(slot) = s.at(st.place[i])
            {
                slot.detector.prefetch_dependent(round[i].at);
            }
            if let Some(i) = behind(lead + 2 * LOOKAHEAD) {
                let hb = &round[i];
                st.arrivals[i] = s
                    .get_mut(PeerHash(st.hash[i]), &hb.peer)
                    .map(|slot| self.record_heartbeat(slot, hb.at, hb.seq));
            }
        }
        drop(s);
        for &j in order {
            let i = usize::from(j);
            if let Some(arrival) = st.arrivals[i] {
                outcome(base + i, Ok(arrival));
            }
        }
    }
}
