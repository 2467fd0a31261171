//! The random generator amlz uses everywhere: searches, task data, and the random ops inside an
//! evaluation (SEMANTICS.md §5).
//!
//! xoshiro256++ from `rand_xoshiro`, seeded through SplitMix64 (`seed_from_u64`): seeding costs
//! four multiplies (the original re-seeded a Mersenne Twister before every fingerprint), the
//! stream is fast and of good quality, and the state is four words that the JIT hands to its
//! helpers by pointer. Uniform floats come from `rand`'s `StandardUniform` (the top 53 or 24 bits
//! of a draw). Integers below `n`, Bernoulli draws and shuffles are amlz's own, because `rand`'s
//! versions consume the stream differently and every saved result depends on these streams.

use rand::{Rng as _, RngExt as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A seedable pseudo-random generator (xoshiro256++).
///
/// Draw methods define amlz's streams: changing any of them changes every result, so they are part
/// of the reproducibility contract (a known-answer test pins them). Serialized as its four state
/// words (`{"s": [..]}`), so that a checkpointed search resumes every stream where it stood.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    #[inline]
    pub fn new(seed: u64) -> Rng {
        Rng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// Re-seeds in place (same as `*self = Rng::new(seed)`).
    #[inline]
    pub fn reseed(&mut self, seed: u64) {
        *self = Rng::new(seed);
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A new generator seeded from this one's stream: for handing independent streams to parts of
    /// a computation.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    /// Uniform in `[0, 1)` with 53 random bits: `(next_u64 >> 11) * 2^-53`.
    #[inline]
    pub fn uniform01(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// Uniform in `[0, 1)` as an `f32` with 24 random bits: `(next_u64 >> 40) * 2^-24`.
    #[inline]
    pub fn uniform01_f32(&mut self) -> f32 {
        self.0.random::<f32>()
    }

    /// `lo + (hi - lo) * u` with `u` uniform in `[0, 1)` (SEMANTICS.md §5).
    #[inline]
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform01()
    }

    /// A standard normal draw by the Box–Muller transform: `sqrt(-2 ln(1 - u1)) * cos(2π u2)` from
    /// two uniform draws; the sine half is not kept, so every call consumes exactly two draws.
    #[inline]
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = self.uniform01();
        let u2 = self.uniform01();
        (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `mean + std * z` with `z` from [`Rng::standard_normal`].
    #[inline]
    pub fn gaussian(&mut self, mean: f64, std: f64) -> f64 {
        mean + std * self.standard_normal()
    }

    /// Uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift without rejection: one
    /// draw per call, a bias below `n / 2^64`.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// True with probability `p`: `uniform01() < p`, one draw.
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform01() < p
    }

    /// Fisher–Yates shuffle of `items`, from the last position down, with [`Rng::below`].
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the generator drew for a seed before it moved onto `rand_xoshiro`: every saved
    /// result (seeded searches, task data, random ops) depends on these streams.
    struct Known {
        seed: u64,
        next_u64: [u64; 4],
        uniform01: u64,
        uniform01_f32: u32,
        standard_normal: u64,
        below_7: usize,
        bernoulli_03: bool,
        gaussian: u64,
        shuffle: [u32; 10],
        fork_next: u64,
    }

    const KNOWN: [Known; 5] = [
        Known {
            seed: 0x0,
            next_u64: [
                0x53175d61490b23df,
                0x61da6f3dc380d507,
                0x5c0fdf91ec9a7bfc,
                0x02eebf8c3bbe5e1a,
            ],
            uniform01: 0x3fdfb2813aebd296,
            uniform01_f32: 0x3ca87860,
            standard_normal: 0x3ff1d4187d0a3512,
            below_7: 2,
            bernoulli_03: true,
            gaussian: 0x4000b957ea80838c,
            shuffle: [6, 4, 5, 9, 7, 3, 2, 8, 0, 1],
            fork_next: 0x0ddfef29099e2296,
        },
        Known {
            seed: 0x1,
            next_u64: [
                0xcfc5d07f6f03c29b,
                0xbf424132963fe08d,
                0x19a37d5757aaf520,
                0xbf08119f05cd56d6,
            ],
            uniform01: 0x3fc7a38c25c30c34,
            uniform01_f32: 0x3f17299f,
            standard_normal: 0xc0074be45ad73838,
            below_7: 0,
            bernoulli_03: true,
            gaussian: 0xbfffe6c33dcb5860,
            shuffle: [4, 7, 6, 5, 2, 8, 1, 9, 3, 0],
            fork_next: 0xc28e832f152e1514,
        },
        Known {
            seed: 0x2a,
            next_u64: [
                0xd0764d4f4476689f,
                0x519e4174576f3791,
                0xfbe07cfb0c24ed8c,
                0xb37d9f600cd835b8,
            ],
            uniform01: 0x3fe96463870e908d,
            uniform01_f32: 0x3f168d9f,
            standard_normal: 0xbfda28480e07fe7b,
            below_7: 1,
            bernoulli_03: false,
            gaussian: 0x40000bdd2596606a,
            shuffle: [9, 4, 5, 2, 8, 1, 7, 3, 0, 6],
            fork_next: 0x7a1d36a0ef39356e,
        },
        Known {
            seed: 0x5eedf1e9,
            next_u64: [
                0x1db01ab84e463dab,
                0xa468613842d3c473,
                0x274877f1abbd5367,
                0x1bca64049bde8bcb,
            ],
            uniform01: 0x3fe89a7614d6331a,
            uniform01_f32: 0x3f445493,
            standard_normal: 0xbfd81685163f4843,
            below_7: 2,
            bernoulli_03: false,
            gaussian: 0x400356dde9eae7da,
            shuffle: [7, 9, 0, 3, 2, 8, 6, 5, 1, 4],
            fork_next: 0xbffb83674d97a4f3,
        },
        Known {
            seed: 0xffffffffffffffff,
            next_u64: [
                0x56ccf8ce948e27b2,
                0xe68588432e5a5b90,
                0xe3e9b5a48119ca8b,
                0x460f19495532ae73,
            ],
            uniform01: 0x3fe4fac4081d524c,
            uniform01_f32: 0x3ecde3f6,
            standard_normal: 0xc0008aa4a520ceb2,
            below_7: 4,
            bernoulli_03: false,
            gaussian: 0xbfe44427dd26c6d6,
            shuffle: [3, 6, 5, 1, 8, 4, 7, 2, 0, 9],
            fork_next: 0x12dd72089a6c4acd,
        },
    ];

    #[test]
    fn streams_are_the_known_ones() {
        for k in &KNOWN {
            let mut r = Rng::new(k.seed);
            let words = [r.next_u64(), r.next_u64(), r.next_u64(), r.next_u64()];
            assert_eq!(words, k.next_u64, "seed {:#x}", k.seed);
            assert_eq!(r.uniform01().to_bits(), k.uniform01, "seed {:#x}", k.seed);
            assert_eq!(r.uniform01_f32().to_bits(), k.uniform01_f32);
            assert_eq!(r.standard_normal().to_bits(), k.standard_normal);
            assert_eq!(r.below(7), k.below_7);
            assert_eq!(r.bernoulli(0.3), k.bernoulli_03);
            assert_eq!(r.gaussian(0.5, 2.0).to_bits(), k.gaussian);
            let mut v: Vec<u32> = (0..10).collect();
            r.shuffle(&mut v);
            assert_eq!(v, k.shuffle);
            assert_eq!(r.fork().next_u64(), k.fork_next);
        }
    }

    /// xoshiro256++ and SplitMix64 as their authors publish them, written out here to check the
    /// crate's generator word for word over many seeds.
    fn reference_stream(seed: u64, n: usize) -> Vec<u64> {
        let mut sm = seed;
        let mut splitmix = || {
            sm = sm.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut s = [splitmix(), splitmix(), splitmix(), splitmix()];
        (0..n)
            .map(|_| {
                let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
                let t = s[1] << 17;
                s[2] ^= s[0];
                s[3] ^= s[1];
                s[1] ^= s[2];
                s[0] ^= s[3];
                s[2] ^= t;
                s[3] = s[3].rotate_left(45);
                result
            })
            .collect()
    }

    #[test]
    fn the_generator_is_xoshiro256plusplus_seeded_by_splitmix64() {
        let mut seeds = Rng::new(99);
        for seed in (0..200).map(|_| seeds.next_u64()).chain([0, 1, u64::MAX]) {
            let reference = reference_stream(seed, 64);
            let mut r = Rng::new(seed);
            let ours: Vec<u64> = (0..64).map(|_| r.next_u64()).collect();
            assert_eq!(ours, reference, "seed {seed:#x}");
            let mut r = Rng::new(seed);
            let u: Vec<u64> = (0..64).map(|_| r.uniform01().to_bits()).collect();
            let expected: Vec<u64> = reference
                .iter()
                .map(|w| ((w >> 11) as f64 / (1u64 << 53) as f64).to_bits())
                .collect();
            assert_eq!(u, expected, "uniform01, seed {seed:#x}");
            let mut r = Rng::new(seed);
            let f: Vec<u32> = (0..64).map(|_| r.uniform01_f32().to_bits()).collect();
            let expected: Vec<u32> = reference
                .iter()
                .map(|w| ((w >> 40) as f32 / (1u32 << 24) as f32).to_bits())
                .collect();
            assert_eq!(f, expected, "uniform01_f32, seed {seed:#x}");
        }
    }

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xa: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn draws_have_the_right_ranges_and_moments() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let u = r.uniform01();
            assert!((0.0..1.0).contains(&u));
            let f = r.uniform01_f32();
            assert!((0.0..1.0).contains(&f));
            let k = r.below(5);
            assert!(k < 5);
            let z = r.standard_normal();
            assert!(z.is_finite());
            sum += z;
            sq += z * z;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = Rng::new(3);
        let mut v: Vec<usize> = (0..100).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
