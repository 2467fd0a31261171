//! The structural shortcut (SEMANTICS.md §7, "FEC"): a bounded map from a candidate's live
//! program (its dead code removed) to its FEC fingerprint and the train steps the fingerprint
//! took. A fingerprint is a function of the live program alone — fixed examples, a fixed random
//! seed, a train budget decided by the live program — so a child whose live program was
//! fingerprinted before gets the same key without running it again, and goes on to the FEC
//! lookup exactly as the computed key would: same hits, same LRU order, same counters, same
//! search. Only which executor work is skipped changes.
//!
//! Keys are the whole live programs (compared bit for bit), not hashes of them: a collision
//! would change the search. The map is emptied when full, which only costs speed.

use amlz_ir::Algorithm;
use std::collections::HashMap;

/// Most live programs remembered at once (about 30 MB for the demo's programs).
pub const MEMO_CAPACITY: usize = 1 << 16;

/// A live program's fingerprint and the train steps its fingerprint runs counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The FEC key.
    pub key: u64,
    /// Train examples the fingerprint's runs started (they count towards `max_train_steps`).
    pub train_steps: u64,
}

/// Fingerprints by live program.
#[derive(Debug, Default)]
pub struct FingerprintMemo {
    map: HashMap<Algorithm, Fingerprint, crate::exec::tiering::FxBuild>,
    hits: u64,
}

impl FingerprintMemo {
    /// The fingerprint of `live`, if it was remembered.
    pub fn get(&mut self, live: &Algorithm) -> Option<Fingerprint> {
        let f = self.map.get(live).copied();
        self.hits += u64::from(f.is_some());
        f
    }

    /// Remembers `live`'s fingerprint, emptying the map first when it is full.
    pub fn insert(&mut self, live: Algorithm, fingerprint: Fingerprint) {
        if self.map.len() >= MEMO_CAPACITY {
            self.map.clear();
        }
        self.map.insert(live, fingerprint);
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
        memo.insert(a.clone(), f);
        assert_eq!(memo.get(&a), Some(f));
        assert_eq!(memo.get(&b), None, "another constant is another program");
        for i in 0..MEMO_CAPACITY + 1 {
            memo.insert(handmade::linear(i as f64), f);
        }
        assert!(memo.map.len() <= MEMO_CAPACITY);
        assert_eq!(memo.hits(), 1);
    }
}
