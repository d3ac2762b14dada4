//! One shard of the peer table: an index from key to slot, and the slots in fixed-size chunks.
//!
//! Slots live in chunks of [`CHUNK`] rather than in the hash map itself, so the map's spare
//! capacity costs a key and a 4-byte index per bucket, not a whole peer; and chunks never move,
//! so growing the table never copies the peers. A removed peer's slot is reused by the next
//! new peer.

use std::collections::HashMap;
use std::hash::Hash;

use crate::monitor::peer::Slot;

/// Slots per chunk.
pub(crate) const CHUNK: usize = 32;

#[derive(Debug)]
pub(crate) struct Shard<K> {
    index: HashMap<K, u32>,
    chunks: Vec<Box<[Option<Slot>]>>,
    /// Slots whose peer was removed.
    free: Vec<u32>,
}

impl<K> Default for Shard<K> {
    fn default() -> Self {
        Shard {
            index: HashMap::new(),
            chunks: Vec::new(),
            free: Vec::new(),
        }
    }
}

fn split(i: u32) -> (usize, usize) {
    (i as usize / CHUNK, i as usize % CHUNK)
}

impl<K: Hash + Eq> Shard<K> {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    fn at(&self, i: u32) -> Option<&Slot> {
        let (c, j) = split(i);
        self.chunks.get(c)?.get(j)?.as_ref()
    }

    fn at_mut(&mut self, i: u32) -> Option<&mut Slot> {
        let (c, j) = split(i);
        self.chunks.get_mut(c)?.get_mut(j)?.as_mut()
    }

    pub(crate) fn get(&self, key: &K) -> Option<&Slot> {
        let &i = self.index.get(key)?;
        self.at(i)
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut Slot> {
        let &i = self.index.get(key)?;
        self.at_mut(i)
    }

    /// Adds a peer that is not in the shard yet.
    pub(crate) fn insert(&mut self, key: K, slot: Slot) {
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
            self.index.insert(key, i);
        }
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<Slot> {
        let i = self.index.remove(key)?;
        let (c, j) = split(i);
        let slot = self.chunks.get_mut(c)?.get_mut(j)?.take();
        self.free.push(i);
        slot
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &Slot)> + '_ {
        self.index
            .iter()
            .filter_map(move |(k, &i)| self.at(i).map(|s| (k, s)))
    }
}
