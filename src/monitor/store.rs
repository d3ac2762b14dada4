//! One shard of the peer table: an index from key to place, and the peers in fixed-size chunks.
//!
//! Peers (each its key and its slot) live in chunks of [`CHUNK`] rather than in the hash map
//! itself, so the map's spare capacity costs a 4-byte place and a control byte per bucket, not
//! a whole peer; and chunks never move, so growing the table never copies the peers. The index
//! holds only places: a lookup compares the key where the peer lives, on the line the heartbeat
//! reads next anyway, and an index of 4-byte entries stays in the caches where one of keys
//! would not. A removed peer's place is reused by the next new peer.
//!
//! The index is keyed by a hash the monitor computes once per call ([`PeerHash`]), the same one
//! that chose the shard, so a heartbeat hashes its key once.

use std::hash::{BuildHasher, Hash, RandomState};

use hashbrown::HashTable;

use crate::monitor::peer::Slot;
use crate::prefetch;

/// Slots per chunk.
pub(crate) const CHUNK: usize = 32;

/// A peer: its key, and what the monitor keeps about it (the key and the slot's detector
/// first, which is what a heartbeat reads).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Entry<K> {
    pub(crate) key: K,
    pub(crate) slot: Slot,
}

type Chunk<K> = Box<[Option<Entry<K>>]>;

#[derive(Debug)]
pub(crate) struct Shard<K> {
    index: HashTable<u32>,
    chunks: Vec<Chunk<K>>,
    /// Places whose peer was removed.
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

/// The peer at place `i` of `chunks`, if there is one.
fn entry<K>(chunks: &[Chunk<K>], i: u32) -> Option<&Entry<K>> {
    let (c, j) = split(i);
    chunks.get(c)?.get(j)?.as_ref()
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

    /// The slot at place `i`, if it holds a peer.
    pub(crate) fn at(&self, i: u32) -> Option<&Slot> {
        entry(&self.chunks, i).map(|e| &e.slot)
    }

    /// Asks for the lines of the first `bytes` bytes of the entry at place `i`, without
    /// reading them.
    pub(crate) fn prefetch(&self, i: u32, bytes: usize) {
        let (c, j) = split(i);
        if let Some(place) = self.chunks.get(c).and_then(|chunk| chunk.get(j)) {
            prefetch::first(place, bytes);
        }
    }

    /// The place of the first peer whose hash shares `hash`'s tag in its probe sequence: the
    /// place of the peer with that hash but for one lookup in thousands (7 bits of tag), and
    /// found from the index alone, without reading a key.
    pub(crate) fn likely(&self, hash: PeerHash) -> Option<u32> {
        self.index.find(hash.0, |_| true).copied()
    }

    /// The slot at place `i` (as [`find`](Self::find) returns it), if it holds a peer.
    pub(crate) fn at_mut(&mut self, i: u32) -> Option<&mut Slot> {
        let (c, j) = split(i);
        self.chunks
            .get_mut(c)?
            .get_mut(j)?
            .as_mut()
            .map(|e| &mut e.slot)
    }

    /// Where `key` (of hash `hash`) lives, if it is here.
    pub(crate) fn find(&self, hash: PeerHash, key: &K) -> Option<u32> {
        let chunks = &self.chunks;
        self.index
            .find(hash.0, |&i| entry(chunks, i).is_some_and(|e| e.key == *key))
            .copied()
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
                // Peers per shard are bounded by `MAX_PEERS` < 2^32; the places of a chunk
                // beyond it are never reached.
                let first = u32::try_from(used).unwrap_or(u32::MAX);
                self.free
                    .extend((first.saturating_add(1)..first.saturating_add(CHUNK as u32)).rev());
                first
            }
        };
        let (c, j) = split(i);
        let Shard { index, chunks, .. } = self;
        if let Some(place) = chunks.get_mut(c).and_then(|chunk| chunk.get_mut(j)) {
            *place = Some(Entry { key, slot });
            index.insert_unique(hash.0, i, |&i| {
                entry(chunks, i).map_or(0, |e| PeerHash::of(hasher, &e.key).0)
            });
        }
    }

    pub(crate) fn remove(&mut self, hash: PeerHash, key: &K) -> Option<Slot> {
        let chunks = &self.chunks;
        let (i, _) = self
            .index
            .find_entry(hash.0, |&i| entry(chunks, i).is_some_and(|e| e.key == *key))
            .ok()?
            .remove();
        let (c, j) = split(i);
        let peer = self.chunks.get_mut(c)?.get_mut(j)?.take();
        self.free.push(i);
        peer.map(|e| e.slot)
    }

    /// Every peer, its slot writable, in the order of places.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut Slot)> + '_ {
        self.chunks
            .iter_mut()
            .flat_map(|chunk| chunk.iter_mut())
            .filter_map(|place| place.as_mut().map(|e| (&e.key, &mut e.slot)))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &Slot)> + '_ {
        self.index
            .iter()
            .filter_map(move |&i| entry(&self.chunks, i).map(|e| (&e.key, &e.slot)))
    }
}
