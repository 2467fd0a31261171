//! Evaluation over task collections, above the executors ([`crate::exec`]): the fitness of one
//! algorithm on every task of a collection, each task with its own random stream, combined by
//! the collection's rule, on the executor the user chose.

pub mod combination;
pub mod evaluator;

pub use combination::{Combination, combine};
pub use evaluator::{EvalError, Evaluation, Evaluator, task_stream_seed};
