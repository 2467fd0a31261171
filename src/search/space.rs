//! The space a search explores: which ops each component function may use, its size bounds, and
//! the memory counts addresses are drawn from.

use amlz_ir::{Algorithm, ComponentFunction, MemoryCounts, Op};

/// What one component function may look like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpace {
    /// Ops that random instructions of this function are drawn from; empty means the function is
    /// frozen: never mutated.
    pub ops: Vec<Op>,
    /// Size of the function in a RANDOM or NO_OP initial algorithm.
    pub init_size: usize,
    /// Fewest instructions REMOVE_INSTRUCTION leaves.
    pub min_size: usize,
    /// Most instructions INSERT_INSTRUCTION allows.
    pub max_size: usize,
}

impl FunctionSpace {
    /// A function of fixed size `size` over `ops`.
    pub fn fixed(ops: Vec<Op>, size: usize) -> FunctionSpace {
        FunctionSpace {
            ops,
            init_size: size,
            min_size: size,
            max_size: size,
        }
    }

    /// Whether mutations may change this function.
    pub fn is_mutable(&self) -> bool {
        !self.ops.is_empty()
    }
}

/// The algorithm space: one [`FunctionSpace`] per component function plus the memory counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgorithmSpace {
    /// Setup, Predict, Learn, in that order.
    pub functions: [FunctionSpace; 3],
    /// The memory counts S, V, M addresses are drawn from.
    pub counts: MemoryCounts,
}

impl AlgorithmSpace {
    /// The space of one component function.
    pub fn function(&self, which: ComponentFunction) -> &FunctionSpace {
        &self.functions[which as usize]
    }

    /// The component functions mutations may change.
    pub fn mutable_functions(&self) -> impl Iterator<Item = ComponentFunction> + '_ {
        ComponentFunction::ALL
            .into_iter()
            .filter(|f| self.function(*f).is_mutable())
    }

    /// Pads each function of `algorithm` with NoOps up to its initial size.
    pub fn pad(&self, algorithm: Algorithm) -> Algorithm {
        amlz_ir::handmade::pad(
            algorithm,
            self.functions[0].init_size,
            self.functions[1].init_size,
            self.functions[2].init_size,
        )
    }
}
