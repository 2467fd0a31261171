//! The structural shortcut (SEMANTICS.md §7, "FEC"): a bounded map from a candidate's live
//! program (its dead code removed) to its FEC fingerprint and the train steps the fingerprint
//! took. A fingerprint is a function of the live program alone — fixed examples, a fixed random
//! seed, a train budget decided by the live program — so a child whose live program was
//! fingerprinted before gets the same key without running it again, and goes on to the FEC
//! lookup exactly as the computed key would: same hits, same LRU order, same counters, same
//! search. Only which executor work is skipped changes.
//!
//! Keys are the whole live programs (compared bit for bit), not hashes of them: a collision
//! would change the search. The memo is emptied when full, which only costs speed.

use crate::exec::tiering::FxHasher;
use amlz_ir::{Algorithm, ComponentFunction, Instruction};
use hashbrown::HashTable;
use std::hash::Hasher;

/// Most live programs remembered at once.
pub const MEMO_CAPACITY: usize = 1 << 16;

/// A live program's fingerprint and the train steps its fingerprint runs counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The FEC key.
    pub key: u64,
    /// Train examples the fingerprint's runs started (they count towards `max_train_steps`).
    pub train_steps: u64,
}

/// A lookup that found nothing: it carries the program's hash to [`FingerprintMemo::insert`],
/// which then does not hash the program again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Miss {
    hash: u64,
}

/// One remembered program: where its instructions lie in the arena, and its fingerprint.
#[derive(Clone, Copy, Debug)]
struct Entry {
    hash: u64,
    start: u32,
    /// Setup, Predict and Learn lengths.
    lens: [u32; 3],
    fingerprint: Fingerprint,
}

/// Fingerprints by live program. The programs' instructions lie back to back in one arena and
/// the table holds plain entries, so remembering a program allocates nothing once the memo has
/// grown, and emptying it frees nothing.
#[derive(Debug, Default)]
pub struct FingerprintMemo {
    table: HashTable<Entry>,
    arena: Vec<Instruction>,
    hits: u64,
}

/// The hash of a whole program: every field of every instruction, packed four words to an
/// instruction (cheaper than the derived `Hash`, which feeds the hasher field by field), each
/// word position into a hasher of its own so that the four chains of multiplies overlap.
fn hash(live: &Algorithm) -> u64 {
    let mut h: [FxHasher; 4] = Default::default();
    for f in ComponentFunction::ALL {
        let list = live.function(f);
        h[0].write_u64(list.len() as u64);
        for i in list {
            let addresses = u64::from(i.in1) | u64::from(i.in2) << 16 | u64::from(i.out) << 32;
            let [a, b, c] = i.data.map(f32::to_bits);
            h[0].write_u64(addresses | (i.op as u64) << 48);
            h[1].write_u64(i.activation.to_bits());
            h[2].write_u64(u64::from(a) | u64::from(b) << 32);
            h[3].write_u64(u64::from(c));
        }
    }
    let mut all = FxHasher::default();
    h.iter().for_each(|chain| all.write_u64(chain.finish()));
    all.finish()
}

impl FingerprintMemo {
    /// The instructions of `entry`'s component function `f`.
    fn function(&self, entry: &Entry, f: ComponentFunction) -> &[Instruction] {
        let before: u32 = entry.lens[..f as usize].iter().sum();
        let start = (entry.start + before) as usize;
        &self.arena[start..start + entry.lens[f as usize] as usize]
    }

    fn holds(&self, entry: &Entry, live: &Algorithm) -> bool {
        ComponentFunction::ALL
            .iter()
            .all(|&f| self.function(entry, f) == live.function(f))
    }

    /// The fingerprint of `live` if it was remembered, else the [`Miss`] with which to
    /// remember it.
    pub fn get(&mut self, live: &Algorithm) -> Result<Fingerprint, Miss> {
        let h = hash(live);
        let found = self
            .table
            .find(h, |e| e.hash == h && self.holds(e, live))
            .map(|e| e.fingerprint);
        self.hits += u64::from(found.is_some());
        found.ok_or(Miss { hash: h })
    }

    /// Remembers the fingerprint of `live`, the program whose lookup missed with `miss`,
    /// emptying the memo first when it is full.
    pub fn insert(&mut self, miss: Miss, live: &Algorithm, fingerprint: Fingerprint) {
        if self.table.len() >= MEMO_CAPACITY {
            self.table.clear();
            self.arena.clear();
        }
        let entry = Entry {
            hash: miss.hash,
            start: self.arena.len() as u32,
            lens: ComponentFunction::ALL.map(|f| live.function(f).len() as u32),
            fingerprint,
        };
        for f in ComponentFunction::ALL {
            self.arena.extend_from_slice(live.function(f));
        }
        self.table.insert_unique(entry.hash, entry, |e| e.hash);
    }

    /// Lookups that found a fingerprint.
    pub fn hits(&self) -> u64 {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amlz_ir::handmade;

    #[test]
    fn remembers_by_the_whole_program_and_stays_bounded() {
        let mut memo = FingerprintMemo::default();
        let a = handmade::linear(0.01);
        let b = handmade::linear(0.02);
        let f = Fingerprint {
            key: 7,
            train_steps: 30,
        };
        let miss = memo.get(&a).unwrap_err();
        memo.insert(miss, &a, f);
        assert_eq!(memo.get(&a), Ok(f));
        assert!(memo.get(&b).is_err(), "another constant is another program");
        for i in 0..MEMO_CAPACITY + 1 {
            let program = handmade::linear(i as f64);
            if let Err(miss) = memo.get(&program) {
                memo.insert(miss, &program, f);
            }
        }
        assert!(memo.table.len() <= MEMO_CAPACITY);
        assert!(memo.arena.len() <= MEMO_CAPACITY * handmade::linear(0.0).instructions().count());
        assert_eq!(memo.hits(), 1);
    }
}
