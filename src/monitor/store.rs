//! One shard of the peer table: an index from key to slot, and the slots in fixed-size chunks.
//!
//! Slots live in chunks of [`CHUNK`] rather than in the hash map itself, so the map's spare
//! capacity costs a key and a 4-byte index per bucket, not a whole peer; and chunks never move,
//! so growing the table never copies the peers. A removed peer's slot is reused by the next
//! new peer.
//!
//! The index is keyed by a hash the monitor computes once per call ([`PeerHash`]), the same one
//! that chose the shard, so a heartbeat hashes its key once.

use std::hash::{BuildHasher, Hash, RandomState};

use hashbrown::HashTable;

use crate::monitor::peer::Slot;

/// Slots per chunk.
pub(crate) const CHUNK: usize = 32;

#[derive(Debug)]
pub(crate) struct Shard<K> {
    index: HashTable<(K, u32)>,
    chunks: Vec<Box<[Option<Slot>]>>,
    /// Slots whose peer was removed.
    free: Vec<u32>,
}

impl<K> Default for Shard<K> {
    fn default() -> Self {
        Shard {
            index: HashTable::new(),
            chunks: Vec::new(),
            free: Vec::new(),
        }
    }
}

fn split(i: u32) -> (usize, usize) {
    (i as usize / CHUNK, i as usize % CHUNK)
}

/// A key's hash under the monitor's hasher: the top bits choose its shard (see
/// [`PeerHash::shard`]), the rest place it in the shard's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerHash(pub(crate) u64);

impl PeerHash {
    /// The hash of `key`.
    pub(crate) fn of<K: Hash>(hasher: &RandomState, key: &K) -> Self {
        PeerHash(hasher.hash_one(key))
    }

    /// The shard among `n` (at least 1): multiply-shift on bits 24 to 55, a uniform index
    /// without a division, always below `n`. The index inside a shard uses the low bits for
    /// the bucket and the top 7 as its tag, so the shard takes bits that neither depends on
    /// much: a shard's keys still differ in both.
    #[inline]
    pub(crate) fn shard(self, n: usize) -> usize {
        let mid = u64::from((self.0 >> 24) as u32);
        (((mid * n as u64) >> 32) as usize).min(n.saturating_sub(1))
    }
}

impl<K: Hash + Eq> Shard<K> {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    fn at(&self, i: u32) -> Option<&Slot> {
        let (c, j) = split(i);
        self.chunks.get(c)?.get(j)?.as_ref()
    }

    /// The slot at place `i` (as [`find`](Self::find) returns it), if it holds a peer.
    pub(crate) fn at_mut(&mut self, i: u32) -> Option<&mut Slot> {
        let (c, j) = split(i);
        self.chunks.get_mut(c)?.get_mut(j)?.as_mut()
    }

    /// Where `key` (of hash `hash`) lives, if it is here.
    pub(crate) fn find(&self, hash: PeerHash, key: &K) -> Option<u32> {
        self.index.find(hash.0, |(k, _)| k == key).map(|&(_, i)| i)
    }

    pub(crate) fn get(&self, hash: PeerHash, key: &K) -> Option<&Slot> {
        self.at(self.find(hash, key)?)
    }

    pub(crate) fn get_mut(&mut self, hash: PeerHash, key: &K) -> Option<&mut Slot> {
        self.at_mut(self.find(hash, key)?)
    }

    /// Adds a peer that is not in the shard yet; `hasher` rehashes the index when it grows.
    pub(crate) fn insert(&mut self, hasher: &RandomState, hash: PeerHash, key: K, slot: Slot) {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                let used = self.chunks.len() * CHUNK;
                self.chunks.push(
                    (0..CHUNK)
                        .map(|_| None)
                        .collect::<Vec<_>>()
                        .into_boxed_slice(),
                );
                // Peers per shard are bounded by `MAX_PEERS` < 2^32; the slots of a chunk
                // beyond it are never reached.
                let first = u32::try_from(used).unwrap_or(u32::MAX);
                self.free
                    .extend((first.saturating_add(1)..first.saturating_add(CHUNK as u32)).rev());
                first
            }
        };
        let (c, j) = split(i);
        if let Some(place) = self.chunks.get_mut(c).and_then(|chunk| chunk.get_mut(j)) {
            *place = Some(slot);
            self.index
                .insert_unique(hash.0, (key, i), |(k, _)| PeerHash::of(hasher, k).0);
        }
    }

    pub(crate) fn remove(&mut self, hash: PeerHash, key: &K) -> Option<Slot> {
        let ((_, i), _) = self
            .index
            .find_entry(hash.0, |(k, _)| k == key)
            .ok()?
            .remove();
        let (c, j) = split(i);
        let slot = self.chunks.get_mut(c)?.get_mut(j)?.take();
        self.free.push(i);
        slot
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &Slot)> + '_ {
        self.index
            .iter()
            .filter_map(move |(k, i)| self.at(*i).map(|s| (k, s)))
    }
}
