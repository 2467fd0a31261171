//! `amlz-ir`: what an AutoML-Zero program *is*.
//!
//! The op table, instructions, algorithms, the memory layout both executors share, the readable
//! text format, random generation, the hand-made algorithms and the analyses (liveness, dead-code
//! elimination) that both executors run on. Nothing here executes a program: that is the
//! interpreter's job (crate `amlz`) and the JIT's (crate `amlz-jit`).

pub mod algorithm;
pub mod analysis;
pub mod handmade;
pub mod instruction;
pub mod kernels;
pub mod layout;
pub mod op;
pub mod random;
pub mod rng;
pub mod text;

pub use algorithm::{AddressError, Algorithm, ComponentFunction};
pub use instruction::{AddressProblem, Instruction};
pub use layout::{Layout, LayoutError, MAX_ADDRESSES, MAX_FEATURES, MemoryCounts};
pub use op::{ALL_OPS, Bank, DataKind, NUM_OPS, OP_TABLE, Op, OpInfo};
pub use rng::Rng;
pub use text::{
    ParseError, SourceLines, parse_algorithm, parse_instruction, print_algorithm, print_instruction,
};
