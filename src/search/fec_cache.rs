//! Functional equivalence checking (SEMANTICS.md §7): a bounded LRU from an algorithm's
//! fingerprint (a hash of its errors on the first few examples of every task) to its fitness.
//!
//! An entry found `forget_every` times is dropped after that lookup, so that algorithms whose
//! fitness is noisy (random ops) get re-measured now and then.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Mixes a sequence of 64-bit words into a fingerprint: fast, with a strong finaliser.
#[derive(Clone, Copy, Debug)]
pub struct FingerprintHasher {
    h: u64,
}

impl Default for FingerprintHasher {
    fn default() -> Self {
        FingerprintHasher {
            h: 0x243f_6a88_85a3_08d3,
        }
    }
}

impl FingerprintHasher {
    /// Adds one word.
    #[inline(always)]
    pub fn add(&mut self, x: u64) {
        self.h = (self.h.rotate_left(23) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    /// The fingerprint of the words added so far.
    #[inline]
    pub fn finish(&self) -> u64 {
        let mut z = self.h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A `Hasher` for keys that are already well-mixed 64-bit hashes.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

const NIL: u32 = u32::MAX;

/// A cache's entries and counters, as a checkpoint keeps them: the entries from the least to the
/// most recently used, so that a restored cache evicts, forgets and answers exactly as the saved
/// one would have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FecSnapshot {
    /// `(fingerprint, fitness bits, hits)` of each entry, least recently used first.
    pub entries: Vec<(u64, u64, u32)>,
    /// Lookups so far.
    pub lookups: u64,
    /// Lookups that found an entry.
    pub hits: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    fitness: f64,
    hits: u32,
    prev: u32,
    next: u32,
}

/// A bounded LRU cache of fitness by fingerprint.
#[derive(Debug)]
pub struct FecCache {
    map: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    capacity: usize,
    forget_every: u32,
    lookups: u64,
    hits: u64,
}

impl FecCache {
    /// A cache of at most `capacity` entries (≥ 1) that drops an entry once it has been found
    /// `forget_every` times (0: never).
    pub fn new(capacity: usize, forget_every: u32) -> FecCache {
        let capacity = capacity.max(1);
        FecCache {
            map: HashMap::with_capacity_and_hasher(capacity.min(1 << 20), Default::default()),
            entries: Vec::with_capacity(capacity.min(1 << 20)),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity,
            forget_every,
            lookups: 0,
            hits: 0,
        }
    }

    fn unlink(&mut self, i: u32) {
        let Entry { prev, next, .. } = self.entries[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.entries[i as usize].prev = NIL;
        self.entries[i as usize].next = self.head;
        if self.head != NIL {
            self.entries[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn drop_entry(&mut self, i: u32) {
        self.unlink(i);
        self.map.remove(&self.entries[i as usize].key);
        self.free.push(i);
    }

    /// The cached fitness of `key`, if present (marking it most recently used, and dropping it if
    /// this was its `forget_every`-th hit).
    pub fn lookup(&mut self, key: u64) -> Option<f64> {
        self.lookups += 1;
        let i = *self.map.get(&key)?;
        self.hits += 1;
        let e = &mut self.entries[i as usize];
        e.hits += 1;
        let fitness = e.fitness;
        if self.forget_every > 0 && e.hits >= self.forget_every {
            self.drop_entry(i);
        } else {
            self.unlink(i);
            self.push_front(i);
        }
        Some(fitness)
    }

    /// Inserts `key` with `fitness`, evicting the least recently used entry when full.
    pub fn insert(&mut self, key: u64, fitness: f64) {
        if let Some(&i) = self.map.get(&key) {
            self.entries[i as usize].fitness = fitness;
            self.unlink(i);
            self.push_front(i);
            return;
        }
        if self.map.len() >= self.capacity {
            let lru = self.tail;
            self.drop_entry(lru);
        }
        let entry = Entry {
            key,
            fitness,
            hits: 0,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.push_front(i);
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lookups so far.
    pub fn lookups(&self) -> u64 {
        self.lookups
    }

    /// Lookups that found an entry.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// `hits / lookups` (0 before any lookup).
    pub fn hit_rate(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            self.hits as f64 / self.lookups as f64
        }
    }

    /// The entries and counters, for a checkpoint.
    pub fn snapshot(&self) -> FecSnapshot {
        let mut entries = Vec::with_capacity(self.map.len());
        let mut i = self.tail;
        while i != NIL {
            let e = &self.entries[i as usize];
            entries.push((e.key, e.fitness.to_bits(), e.hits));
            i = e.prev;
        }
        FecSnapshot {
            entries,
            lookups: self.lookups,
            hits: self.hits,
        }
    }

    /// Replaces the contents and counters with a snapshot's (the capacity and `forget_every`
    /// stay this cache's; entries past the capacity evict the oldest as insertions would).
    pub fn restore(&mut self, snapshot: &FecSnapshot) {
        self.clear();
        for &(key, bits, hits) in &snapshot.entries {
            self.insert(key, f64::from_bits(bits));
            let i = self.map[&key];
            self.entries[i as usize].hits = hits;
        }
        self.lookups = snapshot.lookups;
        self.hits = snapshot.hits;
    }

    /// Drops every entry (statistics are kept).
    pub fn clear(&mut self) {
        self.map.clear();
        self.entries.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut c = FecCache::new(2, 0);
        c.insert(1, 0.1);
        c.insert(2, 0.2);
        assert_eq!(c.lookup(1), Some(0.1)); // 1 is now the most recent
        c.insert(3, 0.3); // evicts 2
        assert_eq!(c.lookup(2), None);
        assert_eq!(c.lookup(1), Some(0.1));
        assert_eq!(c.lookup(3), Some(0.3));
        assert_eq!(c.len(), 2);
        assert_eq!((c.lookups(), c.hits()), (4, 3));
    }

    #[test]
    fn forgets_an_entry_after_forget_every_hits() {
        let mut c = FecCache::new(10, 3);
        c.insert(7, 0.5);
        assert_eq!(c.lookup(7), Some(0.5));
        assert_eq!(c.lookup(7), Some(0.5));
        assert_eq!(c.lookup(7), Some(0.5), "the third hit still answers");
        assert_eq!(c.lookup(7), None, "then the entry is gone");
        assert!(c.is_empty());
    }

    #[test]
    fn stays_bounded_under_churn() {
        let mut c = FecCache::new(100, 5);
        let mut h = FingerprintHasher::default();
        for i in 0..100_000u64 {
            h.add(i);
            let k = h.finish() % 300;
            if c.lookup(k).is_none() {
                c.insert(k, i as f64);
            }
            assert!(c.len() <= 100);
        }
        assert!(c.entries.len() <= 100);
    }

    #[test]
    fn a_restored_cache_answers_evicts_and_forgets_as_the_saved_one() {
        let mut a = FecCache::new(3, 2);
        for (k, f) in [(1, 0.1), (2, 0.2), (3, 0.3)] {
            a.insert(k, f);
        }
        assert_eq!(a.lookup(1), Some(0.1));
        let mut b = FecCache::new(3, 2);
        b.restore(&a.snapshot());
        assert_eq!(b.snapshot(), a.snapshot());
        // The same operations on both give the same answers: 2 is the oldest, 1 one hit from
        // being forgotten.
        for c in [&mut a, &mut b] {
            c.insert(4, 0.4);
            assert_eq!(c.lookup(2), None);
            assert_eq!(c.lookup(1), Some(0.1));
            assert_eq!(c.lookup(1), None);
            assert_eq!((c.lookups(), c.hits()), (4, 2));
        }
        assert_eq!(b.snapshot(), a.snapshot());
    }

    #[test]
    fn fingerprints_depend_on_order_and_value() {
        let fp = |xs: &[u64]| {
            let mut h = FingerprintHasher::default();
            xs.iter().for_each(|&x| h.add(x));
            h.finish()
        };
        assert_ne!(fp(&[1, 2]), fp(&[2, 1]));
        assert_ne!(fp(&[1]), fp(&[1, 0]));
        assert_eq!(fp(&[5, 6]), fp(&[5, 6]));
    }
}
