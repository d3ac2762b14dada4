//! The largest sequence numbers of peers the monitor forgot, so that a replay of their old
//! heartbeats does not bring them back: see [`MonitorConfig::tombstones`](super::MonitorConfig::tombstones).
//!
//! A ring of the latest removals, oldest overwritten first, with an index from key to place.
//! A peer created again takes its tombstone back (its detector starts from the number), so a
//! key has at most one tombstone. The ring grows as removals come, up to its capacity: a
//! monitor that never forgets a peer pays nothing.

use std::hash::{BuildHasher, Hash, RandomState};

use hashbrown::HashTable;

/// One forgotten peer: its key and the largest sequence number its detector had accepted.
#[derive(Debug)]
struct Tomb<K> {
    key: K,
    seq: u64,
}

#[derive(Debug)]
pub(crate) struct Tombstones<K> {
    capacity: usize,
    ring: Vec<Option<Tomb<K>>>,
    /// Where the next removal goes, once the ring is full.
    next: usize,
    /// Places in `ring`, by the key's hash.
    index: HashTable<u32>,
}

fn hash_of<K: Hash>(hasher: &RandomState, key: &K) -> u64 {
    hasher.hash_one(key)
}

impl<K: Hash + Eq> Tombstones<K> {
    /// Room for `capacity` tombstones (at most `u32::MAX`, which the configuration checks).
    pub(crate) fn new(capacity: usize) -> Self {
        Tombstones {
            capacity,
            ring: Vec::new(),
            next: 0,
            index: HashTable::new(),
        }
    }

    fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let ring = &self.ring;
        self.index
            .find(hash, |&i| {
                ring.get(i as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|t| t.key == *key)
            })
            .copied()
    }

    /// The tombstone of `key`: the largest sequence number accepted from it before it was
    /// forgotten.
    pub(crate) fn get(&self, hasher: &RandomState, key: &K) -> Option<u64> {
        let i = self.find(hash_of(hasher, key), key)?;
        self.ring.get(i as usize)?.as_ref().map(|t| t.seq)
    }

    /// Takes `key`'s tombstone away (the peer is back).
    pub(crate) fn take(&mut self, hasher: &RandomState, key: &K) -> Option<u64> {
        let hash = hash_of(hasher, key);
        let ring = &self.ring;
        let (i, _) = self
            .index
            .find_entry(hash, |&i| {
                ring.get(i as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|t| t.key == *key)
            })
            .ok()?
            .remove();
        self.ring.get_mut(i as usize)?.take().map(|t| t.seq)
    }

    /// Remembers that `key` was forgotten after accepting `seq`, overwriting the oldest
    /// tombstone when the ring is full.
    pub(crate) fn insert(&mut self, hasher: &RandomState, key: K, seq: u64) {
        if self.capacity == 0 {
            return;
        }
        let seq = self.take(hasher, &key).map_or(seq, |old| old.max(seq));
        let i = if self.ring.len() < self.capacity {
            self.ring.push(None);
            self.ring.len() - 1
        } else {
            let i = self.next % self.capacity;
            self.next = (i + 1) % self.capacity;
            if let Some(old) = self.ring.get_mut(i).and_then(Option::take)
                && let Ok(entry) = self
                    .index
                    .find_entry(hash_of(hasher, &old.key), |&j| j as usize == i)
            {
                entry.remove();
            }
            i
        };
        // `i` < capacity ≤ u32::MAX.
        let Ok(place) = u32::try_from(i) else {
            return;
        };
        let hash = hash_of(hasher, &key);
        if let Some(slot) = self.ring.get_mut(i) {
            *slot = Some(Tomb { key, seq });
        }
        let ring = &self.ring;
        self.index.insert_unique(hash, place, |&j| {
            ring.get(j as usize)
                .and_then(Option::as_ref)
                .map_or(0, |t| hash_of(hasher, &t.key))
        });
    }

    /// How many tombstones are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain list of the latest `capacity` removals, each marked once taken back.
    #[test]
    fn the_latest_removals_are_remembered() {
        let hasher = RandomState::new();
        for capacity in [0usize, 1, 2, 3, 7] {
            let mut t = Tombstones::new(capacity);
            let mut model: Vec<(u32, u64, bool)> = Vec::new();
            let mut x = 12_345u64;
            for step in 0..2_000u64 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let key = ((x >> 33) % 6) as u32;
                let live = |m: &Vec<(u32, u64, bool)>| {
                    let from = m.len().saturating_sub(capacity);
                    m[from..]
                        .iter()
                        .rev()
                        .find(|e| e.0 == key && !e.2)
                        .map(|e| e.1)
                };
                if (x >> 20).is_multiple_of(3) {
                    let want = live(&model);
                    let from = model.len().saturating_sub(capacity);
                    for e in model[from..].iter_mut().filter(|e| e.0 == key) {
                        e.2 = true;
                    }
                    assert_eq!(t.take(&hasher, &key), want, "step {step}");
                } else {
                    let seq = live(&model).map_or(step, |old| old.max(step));
                    let from = model.len().saturating_sub(capacity);
                    for e in model[from..].iter_mut().filter(|e| e.0 == key) {
                        e.2 = true;
                    }
                    model.push((key, seq, false));
                    t.insert(&hasher, key, step);
                }
                for k in 0..6u32 {
                    let from = model.len().saturating_sub(capacity);
                    let want = model[from..]
                        .iter()
                        .rev()
                        .find(|e| e.0 == k && !e.2)
                        .map(|e| e.1);
                    assert_eq!(t.get(&hasher, &k), want, "step {step}, key {k}");
                }
                let from = model.len().saturating_sub(capacity);
                assert_eq!(t.len(), model[from..].iter().filter(|e| !e.2).count());
                assert!(t.ring.len() <= capacity);
            }
        }
    }
}
