//! `amlz`: AutoML-Zero in Rust — what a program *does* and how programs are searched.
//!
//! Layers, bottom up: the IR (crate `amlz-ir`), tasks, the interpreter executor, the evaluator
//! (fitness on task collections), and the CLI in `main.rs` as a thin layer over these.

pub mod eval;
pub mod experiment;
pub mod interp;
pub mod jit_executor;
pub mod search;
pub mod task;
pub mod verify;

pub use amlz_ir as ir;
