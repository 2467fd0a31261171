//! Evaluation over task collections, above the executors ([`crate::exec`]): the fitness of one
//! algorithm on every task of a collection, each task with its own random stream, combined by
//! the collection's rule, on the executor the user chose.

pub mod evaluator;

/// The collection's rule for combining per-task fitnesses, which evaluation applies.
pub use crate::task::combination::{Combination, combine};
pub use evaluator::{EvalError, Evaluation, Evaluator, task_stream_seed};
