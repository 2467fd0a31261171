//! `amlz`: AutoML-Zero in Rust — what a program *does* and how programs are searched.
//!
//! The layers, bottom up (each uses only those above it in this list):
//! - [`ir`] (crate `amlz-ir`): ops, instructions, algorithms, memory layouts, analyses.
//! - [`task`]: the data an algorithm is evaluated on.
//! - [`exec`]: the executors (interpreter, JIT) of one evaluation on one task, their shared
//!   contract, and the one place that chooses between them.
//! - [`eval`]: evaluation over a task collection (per-task random streams, combination).
//! - [`baselines`]: logistic regression and the 2-layer network, tuned, to compare with.
//! - [`search`]: regularized evolution, with FEC and the train budget around its evaluations.
//! - [`experiment`]: configs, the T_search / T_select / T_final loop, summaries.
//! - [`verify`]: differential fuzzing of the JIT against the interpreter.
//! - [`export`]: algorithms for reading: simplified, or as a NumPy module (`amlz show`).
//! - [`convert`]: the original's search specs (protobuf text) as amlz configs (`amlz convert`).
//! - [`run_dir`]: run directories (`amlz search --out`): layout, records, atomic writes.
//! - [`progress_display`]: a running search on stderr: a live line on a terminal, else plain lines.
//! - [`plot`]: a run directory's progress drawn as a PNG (`amlz plot`).
//! - [`bench`](mod@bench): the fixed, seeded benchmark suite (`amlz bench`): per-example time, compile
//!   latency and search throughput of each executor.
//!
//! The CLI in `main.rs` is a thin layer over these.

pub use amlz_ir as ir;

pub mod task;

pub mod exec;

pub mod eval;

pub mod baselines;

pub mod search;

pub mod experiment;

pub mod verify;

pub mod export;

pub mod convert;

pub mod run_dir;

pub mod progress_display;

pub mod plot;

pub mod bench;
