//! The structural shortcut (SEMANTICS.md §7, "FEC"): a bounded map from what determines a
//! candidate's FEC fingerprint to that fingerprint and the train steps it took. A fingerprint
//! runs fixed examples with a fixed random seed, within a train limit, from the memory Setup
//! leaves; so it is a function of the train limit, Setup's effect (when Setup draws nothing
//! from the random stream; else Setup's live code) and the live Predict and Learn. A child with
//! the same [`MemoKey`] as a candidate fingerprinted before gets the same key without running it,
//! and goes on to the FEC lookup exactly as the computed key would: same hits, same LRU order,
//! same counters, same search. Only which executor work is skipped changes.
//!
//! Keys are kept whole (compared word for word), not as hashes: a collision would change the
//! search. The memo is emptied when full, which only costs speed.

use crate::exec::interp::SetupRunner;
use crate::exec::tiering::FxHasher;
use amlz_ir::{Algorithm, Instruction, Layout, Rng};
use hashbrown::HashTable;
use std::hash::Hasher;

/// Most keys remembered at once.
pub const MEMO_CAPACITY: usize = 1 << 16;

/// Most key words remembered at once (64 MiB), so that long programs stay bounded too.
pub const MEMO_WORDS: usize = 1 << 23;

/// A key's first word when Setup is keyed by its effect.
const SETUP_EFFECT: u64 = 0;
/// A key's first word when Setup is keyed by its live code (it draws from the random stream).
const SETUP_CODE: u64 = 1;

/// A live program's fingerprint and the train steps its fingerprint runs counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The FEC key.
    pub key: u64,
    /// Train examples the fingerprint's runs started (they count towards `max_train_steps`).
    pub train_steps: u64,
}

/// What a candidate's fingerprint is a function of, as 64-bit words: Setup's effect on each
/// memory layout the tasks use (its nonzero cells, index and bits) or, when Setup has a random
/// op, its live instructions; the train limit; then the live Predict and Learn. Reused from
/// candidate to candidate (no allocation once grown).
#[derive(Clone, Debug, Default)]
pub struct MemoKey {
    words: Vec<u64>,
    setup: SetupRunner,
}

impl MemoKey {
    /// Makes this the key of `live` fingerprinted with at most `max_train` train examples on
    /// tasks of `layouts`, Setup's random ops (if any) drawing from streams of `seed`.
    ///
    /// # Panics
    /// If an address of Setup does not fit a layout (the mutator never makes one).
    pub fn build(&mut self, live: &Algorithm, layouts: &[Layout], max_train: usize, seed: u64) {
        self.words.clear();
        if live.setup.iter().any(|i| i.op.is_random()) {
            self.words.push(SETUP_CODE);
            self.push_instructions(&live.setup);
        } else {
            self.words.push(SETUP_EFFECT);
            for &layout in layouts {
                let effect = self
                    .setup
                    .run(&live.setup, layout, &mut Rng::new(seed))
                    .expect("mutations keep addresses in range");
                let count_at = self.words.len();
                self.words.push(0);
                for (index, value) in effect.iter().enumerate() {
                    if value.to_bits() != 0 {
                        self.words.extend([index as u64, value.to_bits()]);
                    }
                }
                self.words[count_at] = ((self.words.len() - count_at) / 2) as u64;
            }
        }
        self.words.push(max_train as u64);
        self.push_instructions(&live.predict);
        self.push_instructions(&live.learn);
    }

    /// Appends the length of `list`, then four words per instruction holding all its fields.
    fn push_instructions(&mut self, list: &[Instruction]) {
        self.words.push(list.len() as u64);
        for i in list {
            let addresses = u64::from(i.in1) | u64::from(i.in2) << 16 | u64::from(i.out) << 32;
            let [a, b, c] = i.data.map(f32::to_bits);
            self.words.extend([
                addresses | (i.op as u64) << 48,
                i.activation.to_bits(),
                u64::from(a) | u64::from(b) << 32,
                u64::from(c),
            ]);
        }
    }

    /// The key's words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

/// A lookup that found nothing: it carries the key's hash to [`FingerprintMemo::insert`],
/// which then does not hash the key again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Miss {
    hash: u64,
}

/// One remembered key: where its words lie in the arena, and its fingerprint.
#[derive(Clone, Copy, Debug)]
struct Entry {
    hash: u64,
    start: u32,
    len: u32,
    fingerprint: Fingerprint,
}

/// Fingerprints by [`MemoKey`]. The keys' words lie back to back in one arena and the table
/// holds plain entries, so remembering a key allocates nothing once the memo has grown, and
/// emptying it frees nothing.
#[derive(Debug, Default)]
pub struct FingerprintMemo {
    table: HashTable<Entry>,
    arena: Vec<u64>,
    hits: u64,
}

/// The hash of a key's words: word `j` goes into hasher `j % 4`, so that the four chains of
/// multiplies overlap.
fn hash(words: &[u64]) -> u64 {
    let mut h: [FxHasher; 4] = Default::default();
    let mut chunks = words.chunks_exact(4);
    for chunk in &mut chunks {
        h.iter_mut().zip(chunk).for_each(|(h, &w)| h.write_u64(w));
    }
    h.iter_mut()
        .zip(chunks.remainder())
        .for_each(|(h, &w)| h.write_u64(w));
    let mut all = FxHasher::default();
    all.write_u64(words.len() as u64);
    h.iter().for_each(|chain| all.write_u64(chain.finish()));
    all.finish()
}

impl FingerprintMemo {
    fn words(&self, entry: &Entry) -> &[u64] {
        &self.arena[entry.start as usize..(entry.start + entry.len) as usize]
    }

    /// The fingerprint remembered for `key`, else the [`Miss`] with which to remember it.
    pub fn get(&mut self, key: &MemoKey) -> Result<Fingerprint, Miss> {
        let h = hash(key.words());
        let found = self
            .table
            .find(h, |e| e.hash == h && self.words(e) == key.words())
            .map(|e| e.fingerprint);
        self.hits += u64::from(found.is_some());
        found.ok_or(Miss { hash: h })
    }

    /// Remembers the fingerprint of `key`, whose lookup missed with `miss`, emptying the memo
    /// first when it is full.
    pub fn insert(&mut self, miss: Miss, key: &MemoKey, fingerprint: Fingerprint) {
        let words = key.words();
        if self.table.len() >= MEMO_CAPACITY || self.arena.len() + words.len() > MEMO_WORDS {
            self.table.clear();
            self.arena.clear();
        }
        if words.len() > MEMO_WORDS {
            return;
        }
        let entry = Entry {
            hash: miss.hash,
            start: self.arena.len() as u32,
            len: words.len() as u32,
            fingerprint,
        };
        self.arena.extend_from_slice(words);
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
    use amlz_ir::{MemoryCounts, Op, handmade};

    fn layout() -> Layout {
        let counts = MemoryCounts {
            scalars: 5,
            vectors: 3,
            matrices: 1,
        };
        Layout::new(4, counts).unwrap()
    }

    fn key_of(live: &Algorithm, max_train: usize) -> MemoKey {
        let mut key = MemoKey::default();
        key.build(live, &[layout()], max_train, 1);
        key
    }

    #[test]
    fn remembers_by_the_whole_key_and_stays_bounded() {
        let mut memo = FingerprintMemo::default();
        let a = key_of(&handmade::linear(0.01), 100);
        let b = key_of(&handmade::linear(0.02), 100);
        let f = Fingerprint {
            key: 7,
            train_steps: 30,
        };
        let miss = memo.get(&a).unwrap_err();
        memo.insert(miss, &a, f);
        assert_eq!(memo.get(&a), Ok(f));
        assert!(memo.get(&b).is_err(), "another constant is another program");
        assert!(memo.get(&key_of(&handmade::linear(0.01), 0)).is_err());
        for i in 0..MEMO_CAPACITY + 1 {
            let key = key_of(&handmade::linear(i as f64), 100);
            if let Err(miss) = memo.get(&key) {
                memo.insert(miss, &key, f);
            }
        }
        assert!(memo.table.len() <= MEMO_CAPACITY);
        assert!(memo.arena.len() <= MEMO_CAPACITY * a.words().len());
        assert_eq!(memo.hits(), 1);
    }

    #[test]
    fn setups_with_the_same_effect_share_a_key() {
        let linear = handmade::linear(0.01);
        let mut zeros = linear.clone();
        // s3 = s2 * s3 and v2 = v1 + v1 on zeroed memory leave it as it was.
        zeros
            .setup
            .insert(0, Instruction::new(Op::ScalarProduct, 2, 3, 3));
        zeros
            .setup
            .insert(0, Instruction::new(Op::VectorSum, 1, 1, 2));
        assert_ne!(zeros.setup, linear.setup);
        assert_eq!(key_of(&zeros, 100).words(), key_of(&linear, 100).words());
        let mut other = linear.clone();
        other.setup[0].activation = 0.02;
        assert_ne!(key_of(&other, 100).words(), key_of(&linear, 100).words());
    }

    #[test]
    fn a_random_setup_is_keyed_by_its_code() {
        let nn = handmade::neural_net();
        let mut swapped = nn.clone();
        swapped.setup.reverse();
        let key = |a: &Algorithm| {
            let mut key = MemoKey::default();
            let layout = Layout::new(4, a.min_counts()).unwrap();
            key.build(a, &[layout], 100, 1);
            key
        };
        assert_eq!(key(&nn).words()[0], SETUP_CODE);
        assert_ne!(key(&nn).words(), key(&swapped).words());
    }
}
