//! The memory layout shared by both executors: one `f64` buffer holding the scalars, then the
//! vectors, then the matrices, each at a fixed offset. Because both executors use it, memory can be
//! handed from one to the other and compared byte for byte.

use crate::op::Bank;
use thiserror::Error;

/// The largest feature size F amlz supports (the original: 32).
pub const MAX_FEATURES: usize = 64;

/// The most addresses a bank may have: bounds memory and keeps addresses in a `u16`.
pub const MAX_ADDRESSES: usize = 1000;

/// How many scalars, vectors and matrices a memory has (S, V, M of SEMANTICS.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryCounts {
    /// S: scalars, at least 2 (`s0` label, `s1` prediction).
    pub scalars: usize,
    /// V: vectors, at least 1 (`v0` features).
    pub vectors: usize,
    /// M: matrices, may be 0 (then no matrix op may run).
    pub matrices: usize,
}

impl MemoryCounts {
    /// The fewest addresses the fixed roles need: S = 2, V = 1, M = 0.
    pub const MINIMUM: MemoryCounts = MemoryCounts {
        scalars: 2,
        vectors: 1,
        matrices: 0,
    };

    /// The count of one bank.
    pub fn count(&self, bank: Bank) -> usize {
        match bank {
            Bank::Scalar => self.scalars,
            Bank::Vector => self.vectors,
            Bank::Matrix => self.matrices,
        }
    }

    /// Mutable access to the count of one bank.
    pub fn count_mut(&mut self, bank: Bank) -> &mut usize {
        match bank {
            Bank::Scalar => &mut self.scalars,
            Bank::Vector => &mut self.vectors,
            Bank::Matrix => &mut self.matrices,
        }
    }

    /// The larger of the two counts in each bank.
    pub fn max(self, other: MemoryCounts) -> MemoryCounts {
        MemoryCounts {
            scalars: self.scalars.max(other.scalars),
            vectors: self.vectors.max(other.vectors),
            matrices: self.matrices.max(other.matrices),
        }
    }

    /// Checks the counts against the fixed roles and [`MAX_ADDRESSES`].
    pub fn check(&self) -> Result<(), LayoutError> {
        for bank in Bank::ALL {
            let min = MemoryCounts::MINIMUM.count(bank);
            let n = self.count(bank);
            if n < min || n > MAX_ADDRESSES {
                return Err(LayoutError::Count {
                    bank,
                    count: n,
                    min,
                    max: MAX_ADDRESSES,
                });
            }
        }
        Ok(())
    }
}

impl Default for MemoryCounts {
    /// The original's defaults: 20 of each.
    fn default() -> Self {
        MemoryCounts {
            scalars: 20,
            vectors: 20,
            matrices: 20,
        }
    }
}

/// A memory layout: the feature size and the bank counts, with the offsets derived from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    features: usize,
    counts: MemoryCounts,
}

/// A feature size or bank count that amlz cannot run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// F outside `1..=64`.
    #[error("feature size {0} is not supported (allowed: 1 to {MAX_FEATURES})")]
    Features(usize),
    /// A bank count below the fixed roles' need or above the maximum.
    #[error("{bank:?} count {count} is not allowed (allowed: {min} to {max})")]
    Count {
        /// The bank.
        bank: Bank,
        /// The count asked for.
        count: usize,
        /// The least the fixed roles need.
        min: usize,
        /// [`MAX_ADDRESSES`].
        max: usize,
    },
}

impl Layout {
    /// A layout of feature size `features` and the given counts, checked.
    pub fn new(features: usize, counts: MemoryCounts) -> Result<Layout, LayoutError> {
        if features == 0 || features > MAX_FEATURES {
            return Err(LayoutError::Features(features));
        }
        counts.check()?;
        Ok(Layout { features, counts })
    }

    /// F, the feature size.
    #[inline]
    pub fn features(&self) -> usize {
        self.features
    }

    /// The bank counts.
    #[inline]
    pub fn counts(&self) -> MemoryCounts {
        self.counts
    }

    /// Number of `f64` one element of `bank` occupies (1, F or F²).
    #[inline]
    pub fn width(&self, bank: Bank) -> usize {
        match bank {
            Bank::Scalar => 1,
            Bank::Vector => self.features,
            Bank::Matrix => self.features * self.features,
        }
    }

    /// Offset in the buffer of the first vector.
    #[inline]
    pub fn vector_base(&self) -> usize {
        self.counts.scalars
    }

    /// Offset in the buffer of the first matrix.
    #[inline]
    pub fn matrix_base(&self) -> usize {
        self.counts.scalars + self.counts.vectors * self.features
    }

    /// Offset in the buffer of address `addr` of `bank` (not checked against the count).
    #[inline]
    pub fn offset(&self, bank: Bank, addr: usize) -> usize {
        match bank {
            Bank::Scalar => addr,
            Bank::Vector => self.vector_base() + addr * self.features,
            Bank::Matrix => self.matrix_base() + addr * self.features * self.features,
        }
    }

    /// Length of the whole buffer in `f64`.
    #[inline]
    pub fn len(&self) -> usize {
        self.matrix_base() + self.counts.matrices * self.features * self.features
    }

    /// Always false: a layout holds at least `s0`, `s1` and `v0`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_scalars_then_vectors_then_matrices() {
        let l = Layout::new(
            4,
            MemoryCounts {
                scalars: 4,
                vectors: 3,
                matrices: 2,
            },
        )
        .unwrap();
        assert_eq!(l.offset(Bank::Scalar, 3), 3);
        assert_eq!(l.offset(Bank::Vector, 0), 4);
        assert_eq!(l.offset(Bank::Vector, 2), 12);
        assert_eq!(l.offset(Bank::Matrix, 0), 16);
        assert_eq!(l.offset(Bank::Matrix, 1), 32);
        assert_eq!(l.len(), 48);
    }

    #[test]
    fn rejects_unsupported_sizes() {
        let c = MemoryCounts::default();
        assert_eq!(Layout::new(0, c), Err(LayoutError::Features(0)));
        assert_eq!(Layout::new(65, c), Err(LayoutError::Features(65)));
        assert!(Layout::new(64, c).is_ok());
        let few = MemoryCounts {
            scalars: 1,
            vectors: 1,
            matrices: 0,
        };
        assert!(matches!(
            Layout::new(4, few),
            Err(LayoutError::Count {
                bank: Bank::Scalar,
                ..
            })
        ));
    }
}
